"""Stuck-AP alerts from real checks: threshold, one alert, thread updates, resolve, restarts, Slack failures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import time_machine

from bot.domain.alerts import AlertKind
from bot.store import alerts
from tests.jobs.conftest import CHANNEL, Harness


def _later(minutes: float) -> time_machine.travel:
    return time_machine.travel(datetime.now(UTC) + timedelta(minutes=minutes), tick=True)


def _text_of(body: dict) -> str:
    return body.get("text", "") + " " + str(body.get("blocks", ""))


async def test_no_alert_below_threshold_then_one_alert_then_quiet(harness: Harness) -> None:
    checker = harness.checker()
    first = await checker.run_check()
    assert first.read == 2 and first.decisions == []
    assert harness.posts() == []

    with _later(31):
        second = await checker.run_check()
        third = await checker.run_check()
    assert [d.kind for d in second.decisions] == [AlertKind.STUCK]
    assert third.decisions == []
    (alert,) = harness.posts()
    assert alert["channel"] == CHANNEL
    text = _text_of(alert)
    assert "wlc-1" in text and "CAP3702I.4CD4" in text and "AP2702-1" in text
    assert "Request time-back" in text and "8.10.183.0" in text
    stored = await harness.store.read(alerts.get_open_alert, "wlc-1", AlertKind.STUCK)
    assert stored is not None and stored.slack_ts is not None
    # wlc-2 has no IOS AP: no alert for it.
    assert await harness.store.read(alerts.get_open_alert, "wlc-2", AlertKind.STUCK) is None


async def test_changes_go_to_the_thread_and_resolve_after_time_back(harness: Harness) -> None:
    checker = harness.checker()
    await checker.run_check()
    with _later(31):
        await checker.run_check()
    assert len(harness.posts()) == 1
    alert_ts = harness.slack.calls_to("chat.postMessage")[0].response["ts"]

    harness.add_downloading_ap("AP3702-NEW")
    wlc = harness.site.sim.controllers["wlc-1"]
    with _later(31):
        await checker.run_check()
    with _later(62):
        changed = await checker.run_check()
    assert [type(d).__name__ for d in changed.decisions] == ["UpdateAlert"]
    thread = [b for b in harness.posts() if b.get("thread_ts") == alert_ts]
    assert thread and "AP3702-NEW" in thread[-1]["text"]
    assert harness.slack.calls_to("chat.update"), "the alert message is updated in place"
    assert len([b for b in harness.posts() if not b.get("thread_ts")]) == 1, "no new top-level message"

    # The time-back: NTP off, clock before the expiry; the APs download and register.
    for server in list(wlc.running.ntp_servers):
        wlc.delete_aireos_ntp_server(server.index)
    wlc.set_clock(datetime(2022, 12, 2, tzinfo=UTC))
    resolved = None
    with _later(63):
        for _ in range(50):  # the simulated download takes ~0.1 s at this time scale
            outcome = await checker.run_check()
            if any(type(d).__name__ == "ResolveAlert" for d in outcome.decisions):
                resolved = outcome
                break
            await asyncio.sleep(0.2)
    assert resolved is not None
    assert await harness.store.read(alerts.get_open_alert, "wlc-1", AlertKind.STUCK) is None
    last_update = harness.slack.calls_to("chat.update")[-1].body
    assert "resolved" in _text_of(last_update).lower()
    notes = [b["text"] for b in harness.posts() if b.get("thread_ts") == alert_ts]
    assert any("Resolved" in n or "resolved" in n for n in notes)


async def test_no_duplicate_alert_across_restarts(harness: Harness) -> None:
    await harness.checker().run_check()
    with _later(31):
        await harness.checker().run_check()
    assert len(harness.posts()) == 1
    await harness.reopen_store()
    with _later(32):
        again = await harness.checker().run_check()
    assert again.decisions == []
    assert len(harness.posts()) == 1


async def test_rate_limit_is_honoured(harness: Harness) -> None:
    checker = harness.checker()
    await checker.run_check()
    harness.slack.fail_next("chat.postMessage", times=1, status=429, retry_after=1)
    with _later(31):
        outcome = await checker.run_check()
    calls = harness.slack.calls_to("chat.postMessage")
    assert len(calls) == 2 and outcome.delivered >= 1
    assert calls[1].at - calls[0].at >= 0.9, "Retry-After: 1 was waited for"


async def test_failed_delivery_is_retried_on_the_next_check(harness: Harness) -> None:
    checker = harness.checker()
    await checker.run_check()
    harness.slack.fail_next("chat.postMessage", times=1, status=200, retry_after=None, error="channel_not_found")
    with _later(31):
        failed = await checker.run_check()
        assert failed.delivery_failures == 1
        stored = await harness.store.read(alerts.get_open_alert, "wlc-1", AlertKind.STUCK)
        assert stored is not None and stored.delivery.value == "failed" and stored.last_error == "channel_not_found"
        retried = await checker.run_check()
    assert retried.decisions == [] and retried.delivered == 1
    delivered = await harness.store.read(alerts.get_open_alert, "wlc-1", AlertKind.STUCK)
    assert delivered is not None and delivered.slack_ts is not None


async def test_unreachable_controller_gets_its_own_alert_after_two_checks(harness: Harness) -> None:
    checker = harness.checker(ssh_timeout_seconds=1.0)
    harness.site.sim.controllers["wlc-2"].faults.refuse_connections = True
    one = await checker.run_check()
    assert not [d for d in one.decisions if d.kind is AlertKind.UNREACHABLE]
    two = await checker.run_check()
    assert [d.controller for d in two.decisions if d.kind is AlertKind.UNREACHABLE] == ["wlc-2"]
    assert "wlc-2" in _text_of(harness.posts()[-1])
    harness.site.sim.controllers["wlc-2"].faults.refuse_connections = False
    back = await checker.run_check()
    assert [type(d).__name__ for d in back.decisions if d.kind is AlertKind.UNREACHABLE] == ["ResolveAlert"]
