"""The words every view uses for the same facts: downloading (N min) vs stuck, failure
kinds, incomplete reads, and commands an approver can read whole."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.chat.alert_views import alert_reply
from bot.chat.digest_views import digest_replies, history_reply
from bot.chat.handlers import status_reply
from bot.chat.remediation_views import dry_run_reply
from bot.console.render import render_text
from bot.domain.alerts import AlertState, unreachable_payload
from bot.domain.digest import FleetDigest, HistoryRow, SiteDigest
from bot.domain.models import (
    AccessPoint,
    CertificateWindow,
    ClockReading,
    ClockSource,
    ControllerSnapshot,
    ErrorKind,
    NtpServer,
    Platform,
    SnapshotError,
)
from bot.domain.verdict import DownloadWatch, SiteVerdict, VerdictStatus, evaluate_controller
from bot.fleet.service import SiteReport
from bot.inventory import Site
from bot.remediation.models import CommandView, PreviewView, TargetView
from bot.slack.render import render_messages

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CERT = CertificateWindow(not_before=datetime(2019, 6, 3, tzinfo=UTC), not_after=datetime(2039, 6, 3, tzinfo=UTC))
LONG = "ntp server vrf Mgmt-intf 203.0.113.1 key 1 prefer source GigabitEthernet0"


def snapshot(aps: list[AccessPoint], **overrides: object) -> ControllerSnapshot:
    values: dict[str, object] = {
        "name": "wlc-a1",
        "platform": Platform.IOSXE,
        "host": "192.0.2.10",
        "taken_at": NOW,
        "site": "site-a",
        "software_version": "17.3.4",
        "software_raw": "17.03.04",
        "clock": ClockReading(time=NOW, source=ClockSource.NTP, authoritative=True, synced=True),
        "ntp_servers": [NtpServer("10.0.0.1", config_line="ntp server 10.0.0.1")],
        "ntp_read": True,
        "certificate": CERT,
        "aps": aps,
        "aps_read": True,
    }
    values.update(overrides)
    return ControllerSnapshot(**values)  # type: ignore[arg-type]


def report(snap: ControllerSnapshot, watch: DownloadWatch | None = None) -> SiteReport:
    verdict = evaluate_controller(snap, watch=watch or DownloadWatch())
    site = Site("site-a", None, ())
    return SiteReport(site, [snap], SiteVerdict.from_verdicts("site-a", [verdict]))


def downloading(*names: str) -> list[AccessPoint]:
    return [AccessPoint(n, "AIR-CAP3702I-E-K9", state="Downloading", ip="10.0.0.9") for n in names]


def test_status_says_downloading_with_minutes_until_the_threshold() -> None:
    watch = DownloadWatch(since={"AP1": NOW - timedelta(minutes=12)}, stuck_after=timedelta(minutes=30))
    text = render_text(status_reply([report(snapshot(downloading("AP1")), watch)]))
    assert "site-a: downloading — 1 affected AP downloading, none stuck yet" in text
    assert "12 min" in text and "not yet" in text
    assert "stuck downloading" not in text


def test_status_says_stuck_past_the_threshold_and_counts_the_rest_apart() -> None:
    watch = DownloadWatch(
        since={"AP1": NOW - timedelta(minutes=45), "AP2": NOW - timedelta(minutes=5)},
        stuck_after=timedelta(minutes=30),
    )
    text = render_text(status_reply([report(snapshot(downloading("AP1", "AP2")), watch)]))
    assert "site-a: stuck — 1 AP stuck downloading, 1 more downloading (CSCwd80290)" in text
    assert "45 min" in text and "5 min" in text


def test_an_incomplete_read_is_said_in_the_title_fields_and_reasons() -> None:
    snap = snapshot(
        [AccessPoint(f"AP{i}", "C9120AXI-E", state="Registered") for i in range(37)],
        software_version="17.3.6",
        declared_ap_count=4135,
        errors=[SnapshotError(ErrorKind.INCOMPLETE, "read 37 of 4,135 APs", "show ap summary")],
    )
    text = render_text(status_reply([report(snap)]))
    assert "🧩 site-a: incomplete — a controller was read incompletely" in text
    assert "37 of the 4,135 APs the controller counts" in text
    assert "37 APs read (incomplete)" in text


def test_an_unreadable_controller_shows_no_invented_facts() -> None:
    snap = ControllerSnapshot(
        name="wlc-a1",
        platform=Platform.AIREOS,
        host="192.0.2.10",
        taken_at=NOW,
        site="site-a",
        errors=[SnapshotError(ErrorKind.TIMEOUT, "wlc-a1 (192.0.2.10:22): no answer within 30s while logging in")],
    )
    text = render_text(status_reply([report(snap)]))
    assert "⏱️ wlc-a1 (AireOS) — timed out" in text
    assert "NTP" not in text and "0 APs (" not in text and "Clock" not in text
    assert "CCERT_SSH_TIMEOUT_SECONDS" in text


def test_history_counts_stuck_and_downloading_apart() -> None:
    rows = [
        HistoryRow(NOW, "wlc-a1", VerdictStatus.DOWNLOADING, stuck_aps=0, aps_total=3, downloading_aps=2),
        HistoryRow(NOW - timedelta(minutes=15), "wlc-a1", VerdictStatus.ERROR, 0, 37, 0, ("read 37 of 40 APs",)),
    ]
    text = render_text(history_reply("site-a", rows))
    assert "Downloading" in text
    assert "2 affected APs downloading (not stuck yet)" in text
    assert "37*" in text and "incomplete read" in text


def test_the_digest_shows_downloading_beside_stuck_and_the_failover_warning() -> None:
    site = SiteDigest(
        site="site-a",
        controllers_read=2,
        aps_total=40,
        affected_aps=10,
        stuck_aps=0,
        downloading_aps=6,
        risks=(
            "wlc-a1: if wlc-a1 fails, 10 IOS APs will download from wlc-a2 (8.10.151.0 ≠ 8.10.162.0) and get stuck",
        ),
    )
    assert site.status is VerdictStatus.DOWNLOADING
    replies = digest_replies(FleetDigest(day=NOW.date(), generated_at=NOW, sites=(site,)))
    text = "\n".join(render_text(r) for r in replies)
    assert "Stuck APs: 0 · downloading, not stuck yet: 6" in text
    assert "if wlc-a1 fails, 10 IOS APs will download from wlc-a2" in text


def test_an_unreachable_alert_for_a_refused_login_says_auth_failed() -> None:
    snap = ControllerSnapshot(
        name="wlc-a1",
        platform=Platform.IOSXE,
        host="192.0.2.10",
        taken_at=NOW,
        site="site-a",
        errors=[SnapshotError(ErrorKind.AUTH_FAILED, "wlc-a1 (192.0.2.10:22): authentication failed")],
    )
    payload = unreachable_payload(evaluate_controller(snap), 2, NOW)
    assert payload["failure"] == "auth_failed"
    reply = alert_reply(payload, AlertState.OPEN, now=NOW)
    assert reply.title.startswith("🔑 ") and "auth failed for 2 checks" in reply.title
    assert "unreachable" not in reply.title
    assert "password" in render_text(reply)


def test_a_dry_run_shows_every_command_whole_in_slack() -> None:
    target = TargetView(
        controller="wlc-a2",
        platform="iosxe",
        playbook="timeback-iosxe",
        playbook_digest="abc",
        current_clock=NOW,
        current_clock_source="ntp",
        proposed_clock=NOW,
        proposed_local=None,
        utc_offset_seconds=0,
        ntp_servers=(LONG,),
        stuck_aps=(),
        commands=(CommandView("restore_ntp", LONG, True, "restores the saved line verbatim"),),
    )
    messages = render_messages(dry_run_reply(PreviewView(site="site-a", targets=(target,))))
    assert LONG in json.dumps(messages, ensure_ascii=False)
