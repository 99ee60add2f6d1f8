"""An AP's own failure log judges its controller's alert at once, through the running bot.

The bot here is the whole runtime in the test's loop (Slack over signed HTTP into Bolt, the
fake Web API, the simulator over SSH, a real SQLite file, the syslog receiver on loopback UDP),
with the scheduler off so that the only check is the one the test runs: whatever is posted
after it came from the AP's log, not from a check."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.jobs.checks import APLogOutcome
from bot.store import alerts, checks
from bot.store.records import AlertRecord, CheckTrigger
from tests.remediation.remediation_helpers import eventually
from tests.support.ap_syslog import failure_datagrams, send_udp
from tests.support.simulated_site import aireos, iosxe
from tests.support.slack_bot import SlackBotHarness, slack_bot

REGISTERED_IOS_AP = {"name": "AP3702-OK", "model": "AIR-CAP3702I-E-K9"}  # runs the controller's image


def top_level(h: SlackBotHarness) -> list[dict[str, Any]]:
    return h.slack.top_level_posts()


def in_thread(h: SlackBotHarness, ts: str) -> list[str]:
    return [json.dumps(body) for body in h.slack.thread_posts(ts)]


def ap_table_reads(h: SlackBotHarness, controller: str) -> int:
    return sum(1 for r in h.site.sim.controllers[controller].command_log if r.line.startswith("show ap summary"))


async def delivered(h: SlackBotHarness, controller: str) -> AlertRecord | None:
    """The controller's open stuck alert once Slack took it (its message ts recorded)."""
    record = await h.runtime.store.read(alerts.get_open_alert, controller, "stuck")
    return record if record is not None and record.slack_ts is not None else None


def fail(h: SlackBotHarness, controller: str, *hostnames: str) -> None:
    assert h.runtime.syslog is not None
    rules = h.site.sim.controllers[controller].rules
    send_udp(h.runtime.syslog.port("udp"), [d for name in hostnames for d in failure_datagrams(rules, name)])


async def test_a_downloading_ap_that_logs_the_failure_is_alerted_within_seconds(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), syslog_listen="udp://127.0.0.1:0") as h:
        await h.runtime.checker.run_check()  # both IOS APs Downloading, first seen: not stuck yet
        assert top_level(h) == []
        reads = ap_table_reads(h, "wlc-1")
        sent_at = datetime.now(UTC)
        fail(h, "wlc-1", "CAP3702I.4CD4")
        (alert,) = await eventually(lambda: top_level(h), timeout=5, what="the alert")
        took = datetime.now(UTC) - sent_at
        record = await eventually(lambda: delivered(h, "wlc-1"), timeout=5, what="the alert delivered")
        ts = record.slack_ts
        note = (await eventually(lambda: in_thread(h, ts), timeout=5, what="the AP-log note"))[0]
        stats = h.runtime.ap_log_alerts.stats
        last = stats.last["wlc-1"]
    assert took < timedelta(seconds=5)
    assert "confirmed by AP log" in json.dumps(alert)
    # Only the AP that logged is confirmed; its peer, Downloading for seconds, is not stuck yet.
    stuck = {ap["name"]: ap for ap in record.payload["stuck_aps"]}
    assert set(stuck) == {"CAP3702I.4CD4"} and stuck["CAP3702I.4CD4"]["confirmed"]
    # The thread says which AP logged what, when (bot's clock), and quotes the line.
    assert "CAP3702I.4CD4 at " + sent_at.strftime("%Y-%m-%d %H:%M") in note
    assert "bot's clock" in note and "%PKI-3-CERTIFICATE_INVALID_EXPIRED" in note
    # Judged against the check's fresh snapshot: the controller was not read again.
    assert ap_table_reads(h, "wlc-1") == reads
    assert isinstance(last, APLogOutcome) and not last.reread
    assert stats.judged == 1 and stats.next_check == 0


async def test_a_burst_of_failing_aps_gives_one_alert_per_controller(tmp_path: Path) -> None:
    many = [{"name": f"AP3702-{i:03d}", "model": "AIR-CAP3702I-E-K9", "image": "8.5.182.0"} for i in range(40)]
    nine = [{"name": f"AP2702-{i:03d}", "model": "AIR-CAP2702I-E-K9", "image": "17.3.3.26"} for i in range(40)]
    async with slack_bot(
        tmp_path, aireos("wlc-1", aps=many), iosxe("wlc-2", aps=nine), syslog_listen="udp://127.0.0.1:0"
    ) as h:
        await h.runtime.checker.run_check()
        assert top_level(h) == []
        fail(h, "wlc-1", *(ap["name"] for ap in many))
        fail(h, "wlc-2", *(ap["name"] for ap in nine))
        await eventually(lambda: len(top_level(h)) == 2, timeout=8, what="two alerts")
        await asyncio.sleep(1.5)  # a second judgement, if there were one, would have posted by now
        posts = top_level(h)
        updates = h.slack.calls_to("chat.update")
        records = {c: await h.runtime.store.read(alerts.get_open_alert, c, "stuck") for c in ("wlc-1", "wlc-2")}
        stats = h.runtime.ap_log_alerts.stats
    assert len(posts) == 2 and updates == []
    assert stats.judged == 2 and stats.heard == 80
    for controller, aps in (("wlc-1", many), ("wlc-2", nine)):
        record = records[controller]
        assert record is not None
        assert {ap["name"] for ap in record.payload["stuck_aps"] if ap["confirmed"]} == {ap["name"] for ap in aps}


async def test_a_failure_from_a_registered_or_unknown_ap_posts_nothing(tmp_path: Path) -> None:
    entry = aireos("wlc-1", aps=[*aireos("wlc-1")["aps"], REGISTERED_IOS_AP])
    async with slack_bot(tmp_path, entry, syslog_listen="udp://127.0.0.1:0") as h:
        await h.runtime.checker.run_check()
        assert h.runtime.syslog is not None
        fail(h, "wlc-1", "AP3702-OK", "AP-NOBODY-KNOWS")
        await eventually(lambda: h.runtime.ap_log_alerts.stats.heard == 1, timeout=5, what="the failure heard")
        await asyncio.sleep(2.5)  # longer than the debounce: nothing is on its way
        posts = top_level(h)
        stats = h.runtime.ap_log_alerts.stats
        confirmed = h.runtime.syslog.confirmed("wlc-1")
        unknown = [u.hostname for u in h.runtime.syslog.correlator.unknown_senders()]
    assert posts == []
    # The Registered AP's log is kept (the next check would count it if it were Downloading);
    # the unknown sender is kept as unknown; neither was judged.
    assert "AP3702-OK" in confirmed and unknown == ["AP-NOBODY-KNOWS"]
    assert stats.next_check == 1 and stats.judged == 0


async def test_a_failure_from_an_ap_already_in_the_alert_updates_it(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), syslog_listen="udp://127.0.0.1:0", stuck_after_minutes=0) as h:
        await h.runtime.checker.run_check()  # stuck at once by the threshold, not confirmed
        assert len(top_level(h)) == 1
        record = await delivered(h, "wlc-1")
        assert record is not None
        assert not any(ap["confirmed"] for ap in record.payload["stuck_aps"])
        fail(h, "wlc-1", "AP2702-1")
        update = await eventually(lambda: h.slack.calls_to("chat.update"), timeout=5, what="the update")
        ts = record.slack_ts
        notes = await eventually(lambda: in_thread(h, ts), timeout=5, what="the thread note")
        after = await h.runtime.store.read(alerts.get_open_alert, "wlc-1", "stuck")
    assert len(top_level(h)) == 1 and len(update) == 1 and len(notes) == 1
    assert after is not None and after.id == record.id
    assert {ap["name"] for ap in after.payload["stuck_aps"] if ap["confirmed"]} == {"AP2702-1"}
    # One note: what changed, then which AP logged what.
    said = notes[0]
    assert said.index("AP2702-1: certificate failure confirmed by AP log") < said.index("What the APs logged")
    assert "AP2702-1 at " in said and "CAP3702I.4CD4 at " not in said


async def test_a_stale_snapshot_is_read_again_before_judging(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), syslog_listen="udp://127.0.0.1:0") as h:
        await h.runtime.checker.run_check()
        reads = ap_table_reads(h, "wlc-1")
        # The bot's clock moves past one check interval (15 min) since that check, with no check since.
        h.runtime.checker.clock = lambda: datetime.now(UTC) + timedelta(minutes=16)
        fail(h, "wlc-1", "CAP3702I.4CD4")
        await eventually(lambda: top_level(h), timeout=8, what="the alert")
        runs = await h.runtime.store.read(checks.recent_checks, 5)
        last = h.runtime.ap_log_alerts.stats.last["wlc-1"]
    assert ap_table_reads(h, "wlc-1") == reads + 1
    assert [r.trigger for r in runs] == [CheckTrigger.AP_LOG, CheckTrigger.SCHEDULED]
    assert runs[0].controllers_total == 1
    assert isinstance(last, APLogOutcome) and last.reread and len(last.decisions) == 1
