"""Alert messages and thread notes, from decisions the rules really make."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.chat.alert_views import alert_reply, ap_log_note_text, fmt_duration, names_text, thread_note_text
from bot.chat.handlers import timeback_button
from bot.chat.reply import Level, Reply
from bot.console.render import render_text
from bot.domain.alerts import (
    AlertKind,
    AlertState,
    ClearedAP,
    OpenAlert,
    OpenAlertState,
    ReopenAlert,
    ResolveAlert,
    ResolvedAlertState,
    UpdateAlert,
    evaluate_alerts,
)
from bot.domain.ap_log import APLogEntry
from bot.domain.models import (
    CertificateWindow,
    ControllerSnapshot,
    ErrorKind,
    Platform,
    SnapshotError,
)
from bot.domain.verdict import ControllerVerdict, evaluate_controller
from bot.slack.render import render_messages
from tests.support.fake_slack import block_kit_problems
from tests.support.verdicts import T0, minutes, verdict


def unreachable(at: datetime) -> ControllerVerdict:
    return evaluate_controller(
        ControllerSnapshot(
            name="wlc-a1",
            platform=Platform.IOSXE,
            host="192.0.2.10",
            taken_at=at,
            site="site-a",
            errors=[SnapshotError(ErrorKind.TIMEOUT, "no answer on port 22 within 30 s")],
        )
    )


def opened(names: tuple[str, ...] = ("AP1", "AP2", "AP3"), **kwargs) -> OpenAlert:
    at = T0 + minutes(45)
    (d,) = evaluate_alerts(verdict(names, at=at, **kwargs), downloading_since=dict.fromkeys(names, T0), now=at)
    assert isinstance(d, OpenAlert)
    return d


def state_of(decision) -> OpenAlertState:
    return OpenAlertState.from_payload(decision.payload, alert_id=1)


def assert_slack_ok(reply: Reply) -> list[dict]:
    messages = render_messages(reply)
    for message in messages:
        assert block_kit_problems(message) == []
        assert len(message["blocks"]) <= 50
    return messages


def slack_text(reply: Reply) -> str:
    return "\n".join(str(m) for m in render_messages(reply))


# --------------------------------------------------------------------------- formatting


def test_durations() -> None:
    assert fmt_duration(timedelta(seconds=20)) == "less than a minute"
    assert fmt_duration(minutes(45)) == "45 min"
    assert fmt_duration(minutes(60)) == "1 h"
    assert fmt_duration(minutes(80)) == "1 h 20 min"
    assert fmt_duration(timedelta(days=2, hours=3, minutes=5)) == "2 d 3 h"
    assert fmt_duration(None) == "an unknown time"


def test_names_text_caps_long_lists() -> None:
    assert names_text(["a", "b"]) == "a, b"
    assert names_text([f"ap{i}" for i in range(30)], limit=3) == "ap0, ap1, ap2 and 27 more"


# --------------------------------------------------------------------------- stuck alert message


def test_open_stuck_alert_title_table_software_and_button() -> None:
    d = opened()
    reply = alert_reply(d.payload, AlertState.OPEN)
    assert reply.title == "🛑 wlc-a1 (site-a): 3 APs stuck downloading — CSCwd80290"
    assert reply.level is Level.DANGER
    table = next(s.table for s in reply.sections if s.table is not None)
    assert [row[0] for row in table.rows] == ["AP1", "AP2", "AP3"]
    assert table.rows[0][1] == "AIR-CAP3702I-E-K9"
    assert table.rows[0][2] == "2026-11-27 05:10 UTC (45 min)"
    assert reply.buttons == (timeback_button("site-a", "wlc-a1"),)
    text = render_text(reply)
    assert "17.3.6 — not fixed" in text
    assert "APSP7" in text  # recommended release
    assert "run the time-back playbook" in text
    assert "possible: set the clock to 2022-12-02 00:00 UTC" in text
    assert "/ccert remediate site-a wlc-a1" in text
    assert_slack_ok(reply)


def test_state_defaults_from_payload_and_now_moves_durations() -> None:
    d = opened()
    reply = alert_reply(d.payload, now=T0 + minutes(80))
    table = next(s.table for s in reply.sections if s.table is not None)
    assert table.rows[0][2] == "2026-11-27 05:10 UTC (1 h 20 min)"
    assert reply.buttons  # open


def test_confirmed_ap_is_marked_in_table() -> None:
    at = T0 + minutes(3)
    (d,) = evaluate_alerts(verdict(("AP1", "AP2"), at=at), downloading_since={}, now=at, confirmed={"AP2": at})
    reply = alert_reply(d.payload)
    table = next(s.table for s in reply.sections if s.table is not None)
    assert [(r[0], r[3]) for r in table.rows] == [("AP2", "confirmed by AP log")]
    assert "confirmed the certificate failure" in reply.text


def test_no_button_without_site_or_when_timeback_impossible() -> None:
    assert alert_reply(opened(site=None).payload).buttons == ()
    late_cert = CertificateWindow(datetime(2023, 1, 1, tzinfo=UTC), datetime(2033, 1, 1, tzinfo=UTC))
    reply = alert_reply(opened(certificate=late_cert).payload)
    assert reply.buttons == ()
    assert "staging controller" in render_text(reply)


def test_resolved_stuck_alert_has_resolved_title_level_and_no_button() -> None:
    d = opened()
    at = T0 + minutes(125)
    (r,) = evaluate_alerts(
        verdict(registered=("AP1", "AP2", "AP3"), at=at),
        downloading_since={},
        now=at,
        open_alerts={"stuck": state_of(d)},
        ap_states=dict.fromkeys(("AP1", "AP2", "AP3"), "Registered"),
    )
    assert isinstance(r, ResolveAlert)
    reply = alert_reply(r.payload, AlertState.RESOLVED)
    assert reply.title.startswith("✅ wlc-a1 (site-a): resolved at 2026-11-27 07:15 UTC")
    assert reply.level is Level.OK
    assert reply.buttons == ()
    assert all(not s.buttons for s in reply.sections)
    table = next(s.table for s in reply.sections if s.table is not None)
    assert [(row[0], row[-1]) for row in table.rows] == [(n, "Registered") for n in ("AP1", "AP2", "AP3")]
    assert "open for 1 h 20 min" in reply.text
    assert_slack_ok(reply)


def test_many_stuck_aps_all_in_the_table_and_slack_splits_within_limits() -> None:
    names = tuple(f"CAP3702-{i:04d}" for i in range(400))
    d = opened(names)
    reply = alert_reply(d.payload)
    table = next(s.table for s in reply.sections if s.table is not None)
    assert len(table.rows) == 400
    messages = assert_slack_ok(reply)
    rendered = "\n".join(str(m) for m in messages)
    assert all(n in rendered for n in names)
    # the button stays on the first message
    assert any(b["type"] == "actions" for b in messages[0]["blocks"])


def test_recovered_aps_listed_in_open_alert() -> None:
    d = opened(("AP1", "AP2"))
    at = T0 + minutes(60)
    (u,) = evaluate_alerts(
        verdict(("AP1",), registered=("AP2",), at=at),
        downloading_since={"AP1": T0},
        now=at,
        open_alerts={"stuck": state_of(d)},
        ap_states={"AP1": "Downloading", "AP2": "Registered"},
    )
    reply = alert_reply(u.payload)
    assert reply.title.startswith("🛑 wlc-a1 (site-a): 1 AP stuck downloading")
    assert "No longer stuck: AP2 (Registered)" in render_text(reply)


# --------------------------------------------------------------------------- unreachable alert message


def test_unreachable_alert_open_and_resolved() -> None:
    (d,) = evaluate_alerts(unreachable(T0), downloading_since={}, now=T0, unreachable_checks=2)
    reply = alert_reply(d.payload)
    # the failure kind names it: a login that timed out is not "unreachable"
    assert reply.title.startswith("⏱️ wlc-a1 (site-a): timed out for 2 checks")
    assert reply.level is Level.DANGER
    assert reply.buttons == ()
    text = render_text(reply)
    assert "no answer on port 22" in text
    assert "stays as it was" in text
    at = T0 + minutes(25)
    (r,) = evaluate_alerts(verdict(at=at), downloading_since={}, now=at, open_alerts={"unreachable": state_of(d)})
    resolved = alert_reply(r.payload)
    assert resolved.title == "✅ wlc-a1 (site-a): reachable again — resolved at 2026-11-27 05:35 UTC"
    assert resolved.level is Level.OK
    assert_slack_ok(resolved)


def test_reopened_alert_says_so_in_footer() -> None:
    recently = {"unreachable": ResolvedAlertState(T0, alert_id=4)}
    (d,) = evaluate_alerts(
        unreachable(T0 + minutes(10)),
        downloading_since={},
        now=T0 + minutes(10),
        unreachable_checks=2,
        recently_resolved=recently,
    )
    assert isinstance(d, ReopenAlert)
    assert "re-opened 1 time" in (alert_reply(d.payload).footer or "")


# --------------------------------------------------------------------------- thread notes


def test_note_for_added_aps() -> None:
    d = opened(("AP0",))
    at = T0 + minutes(70)
    (u,) = evaluate_alerts(
        verdict(("AP0", "AP1", "AP2"), at=at),
        downloading_since={"AP0": T0, "AP1": T0, "AP2": T0},
        now=at,
        open_alerts={"stuck": state_of(d)},
    )
    note = thread_note_text(u)
    assert note.splitlines()[0] == "2 more APs stuck: AP1, AP2"
    assert "3 APs stuck now." in note


def test_note_for_removed_ap_with_state() -> None:
    u = UpdateAlert(
        kind=AlertKind.STUCK,
        controller="wlc-a1",
        site="site-a",
        at=T0,
        payload={"stuck_aps": [{"name": "AP1"}]},
        stuck_aps=("AP1",),
        removed=(ClearedAP("AP3", "Registered"),),
    )
    assert thread_note_text(u).splitlines()[0] == "AP3 is no longer stuck (Registered)"
    two = UpdateAlert(
        AlertKind.STUCK,
        "wlc-a1",
        "site-a",
        T0,
        {"stuck_aps": []},
        removed=(ClearedAP("AP3", "Registered"), ClearedAP("AP4", "Registered"), ClearedAP("AP5")),
    )
    lines = thread_note_text(two).splitlines()
    assert lines[:2] == ["AP3, AP4 are no longer stuck (Registered)", "AP5 is no longer stuck"]


def test_note_for_confirmation_open_and_resolve() -> None:
    d = opened()
    assert thread_note_text(d) == "3 APs stuck downloading: AP1, AP2, AP3"
    r = ResolveAlert(AlertKind.STUCK, "wlc-a1", "site-a", T0 + minutes(80), {}, opened_at=T0)
    assert thread_note_text(r) == "Resolved: no AP stuck any more after 1 h 20 min"
    c = UpdateAlert(AlertKind.STUCK, "wlc-a1", "site-a", T0, {"stuck_aps": [{"name": "AP1"}]}, confirmed=("AP1",))
    assert "AP1: certificate failure confirmed by AP log" in thread_note_text(c)


def test_notes_for_unreachable_lifecycle() -> None:
    (d,) = evaluate_alerts(unreachable(T0), downloading_since={}, now=T0, unreachable_checks=2)
    assert thread_note_text(d).startswith("wlc-a1 unreachable for 2 checks in a row: timeout: no answer")
    r = ResolveAlert(AlertKind.UNREACHABLE, "wlc-a1", "site-a", T0 + minutes(25), {}, opened_at=T0)
    assert thread_note_text(r) == "Resolved: wlc-a1 can be read again after 25 min"
    recently = {"unreachable": T0 + minutes(30)}
    (again,) = evaluate_alerts(
        unreachable(T0 + minutes(42)),
        downloading_since={},
        now=T0 + minutes(42),
        unreachable_checks=2,
        recently_resolved=recently,
    )
    note = thread_note_text(again)
    assert note.startswith("Unreachable again (2 checks in a row), 12 min after this alert was resolved")
    assert "rather than posting a new alert" in note


# --------------------------------------------------------------------------- what the APs logged

EXPIRED = "%PKI-3-CERTIFICATE_INVALID_EXPIRED: Certificate chain validation has failed."
MEANING = "The image-signing certificate expired."


def logged(ap: str, seconds: int = 0, line: str = EXPIRED, meaning: str = MEANING) -> APLogEntry:
    return APLogEntry(ap, T0 + timedelta(seconds=seconds), "pki-expired", meaning, line)


def test_ap_log_note_says_which_ap_logged_what_when() -> None:
    text = ap_log_note_text([logged("AP2", 3), logged("AP1", 1), logged("AP9", 2, "AP image integrity check FAILED")])
    stamp = T0.strftime("%Y-%m-%d %H:%M")
    assert text.splitlines() == [
        "What the APs logged (times on the bot's clock)",
        f"• AP1 at {stamp}:01 UTC, AP2 at {stamp}:03 UTC logged",
        f"  `{EXPIRED}`",
        f"  {MEANING}",
        f"• AP9 at {stamp}:02 UTC logged",
        "  `AP image integrity check FAILED`",
        f"  {MEANING}",
    ]
    assert ap_log_note_text([]) == ""


def test_ap_log_note_is_bounded_and_mentions_nobody() -> None:
    many = [logged(f"AP{i:03d}", i) for i in range(200)]
    text = ap_log_note_text(many)
    assert "AP009 at" in text and "AP010" not in text and "and 190 more APs logged" in text
    lines = [logged(f"X{i}", i, line=f"{EXPIRED} #{i}") for i in range(15)]
    text = ap_log_note_text(lines)
    assert text.count("• ") == 11 and "and 5 more APs logged other failure lines: X10, X11, X12, X13, X14" in text
    hostile = ap_log_note_text([logged("AP1", line="<!channel> <@U0ALICE> `rm` <#C0GENERAL>")])
    assert "<" not in hostile and ">" not in hostile and "`rm`" not in hostile
    rendered = slack_text(Reply(title="note", text=hostile))
    assert "<!channel>" not in rendered and "<@U0ALICE>" not in rendered and "<#C0GENERAL>" not in rendered
