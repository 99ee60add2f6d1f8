"""The outbox posts each alert and note once, whatever stops it midway: a post cut short
(cancelled while Slack was answering, as a shutdown or a SIGKILL does) is found again by its
message metadata and adopted, never posted twice. Real checks of a simulated site, the fake
Slack Web API over HTTP, a real SQLite file reopened as a restart does."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bot.domain.alerts import AlertKind
from bot.jobs.checks import ALERT_EVENT_TYPE, FleetChecker
from bot.store import alerts, outbox
from tests.jobs.conftest import CHANNEL, Harness


def _later(minutes: float) -> time_machine.travel:
    return time_machine.travel(datetime.now(UTC) + timedelta(minutes=minutes), tick=True)


def _top_level(harness: Harness) -> list[dict]:
    return harness.slack.channel_history(CHANNEL)


async def _cut_short(checker: FleetChecker, harness: Harness, method: str, count: int) -> None:
    """Run a check and cancel it while Slack is answering its `count`-th call to `method`."""
    harness.slack.delays[method] = 30
    task = asyncio.create_task(checker.run_check())
    await harness.slack.wait_for(method, count, timeout=20)
    await asyncio.sleep(0.2)  # the call is in Slack; its answer is what is late
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    harness.slack.delays.pop(method)


async def test_an_alert_post_cut_short_is_adopted_after_a_restart_not_posted_again(harness: Harness) -> None:
    checker = harness.checker()
    await checker.run_check()
    with _later(31):
        await _cut_short(checker, harness, "chat.postMessage", 1)
        stored = await harness.store.read(alerts.get_open_alert, "wlc-1", AlertKind.STUCK)
        assert stored is not None and stored.slack_ts is None and stored.maybe_posted
        (orphan,) = _top_level(harness)
        assert orphan["metadata"]["event_type"] == ALERT_EVENT_TYPE
        assert orphan["metadata"]["event_payload"]["outbox_key"] == stored.send_key
        assert orphan["metadata"]["event_payload"]["controller"] == "wlc-1"

        await harness.reopen_store()
        restarted = harness.checker()
        outcome = await restarted.run_check()
    assert outcome.delivery_failures == 0
    assert len(_top_level(harness)) == 1, "no second alert message"
    adopted = await harness.store.read(alerts.get_open_alert, "wlc-1", AlertKind.STUCK)
    assert adopted is not None and adopted.slack_ts == orphan["ts"]
    assert len(harness.slack.calls_to("chat.postMessage")) == 1
    history = harness.slack.calls_to("conversations.history")
    assert history and history[-1].body["include_all_metadata"] in ("1", "true", True)
    # Adopted means brought up to date: the message is edited to what the alert says now.
    edits = [c for c in harness.slack.calls_to("chat.update") if c.body["ts"] == orphan["ts"]]
    assert edits, "the adopted message is edited"


async def test_a_post_that_never_reached_slack_is_posted_on_the_next_try(harness: Harness) -> None:
    checker = harness.checker()
    await checker.run_check()
    harness.slack.fail_next("chat.postMessage", times=1, status=500, retry_after=None)
    with _later(31):
        failed = await checker.run_check()
        assert failed.delivery_failures == 1 and _top_level(harness) == []
        retried = await checker.run_check()
    assert retried.delivered == 1
    (message,) = _top_level(harness)
    delivered = await harness.store.read(alerts.get_open_alert, "wlc-1", AlertKind.STUCK)
    assert delivered is not None and delivered.slack_ts == message["ts"]
    # The retry looked first (the failed attempt might have been posted), then posted.
    assert harness.slack.calls_to("conversations.history")


async def test_a_failed_look_posts_nothing_and_tries_again_later(harness: Harness) -> None:
    checker = harness.checker()
    await checker.run_check()
    with _later(31):
        await _cut_short(checker, harness, "chat.postMessage", 1)
        harness.slack.fail_next("conversations.history", times=1, status=200, retry_after=None, error="fatal_error")
        outcome = await checker.run_check()
        assert outcome.delivery_failures == 1
        assert len(harness.slack.calls_to("chat.postMessage")) == 1, "no post while the look failed"
        again = await checker.run_check()
    assert again.delivered >= 1 and len(_top_level(harness)) == 1


async def test_without_history_scope_the_bot_says_so_and_posts(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    checker = harness.checker()
    await checker.run_check()
    with _later(31):
        await _cut_short(checker, harness, "chat.postMessage", 1)
        harness.slack.fail_next("conversations.history", times=1, status=200, retry_after=None, error="missing_scope")
        with caplog.at_level(logging.WARNING, logger="bot.jobs.checks"):
            outcome = await checker.run_check()
    assert outcome.delivered >= 1
    assert any("missing_scope" in r.getMessage() for r in caplog.records)
    # An alert posted twice beats an alert never posted: the second copy is the tracked one.
    assert len(_top_level(harness)) == 2
    tracked = await harness.store.read(alerts.get_open_alert, "wlc-1", AlertKind.STUCK)
    assert tracked is not None and tracked.slack_ts == _top_level(harness)[-1]["ts"]


async def test_a_thread_note_cut_short_is_found_in_the_thread_not_repeated(harness: Harness) -> None:
    checker = harness.checker()
    await checker.run_check()
    with _later(31):
        await checker.run_check()
    (alert_message,) = _top_level(harness)
    harness.add_downloading_ap("AP3702-NEW")
    with _later(31):
        await checker.run_check()
    with _later(62):
        posts_before = len(harness.slack.calls_to("chat.postMessage"))
        await _cut_short(checker, harness, "chat.postMessage", posts_before + 1)
        await harness.reopen_store()
        await harness.checker().run_check()
    notes = [
        m
        for (c, _), m in harness.slack.messages.items()
        if c == CHANNEL and m.get("thread_ts") == alert_message["ts"] and "AP3702-NEW" in m["text"]
    ]
    assert len(notes) == 1, [n["text"][:80] for n in notes]
    assert harness.slack.calls_to("conversations.replies")
    assert await harness.store.read(outbox.pending_events) == []


async def test_a_stopping_checker_starts_no_new_post(harness: Harness) -> None:
    checker = harness.checker()
    await checker.run_check()
    checker.stopping = True
    with _later(31):
        outcome = await checker.run_check()
    assert [d.kind for d in outcome.decisions] == [AlertKind.STUCK]  # decided and stored...
    assert harness.slack.calls_to("chat.postMessage") == []  # ...and left for the restart
    assert await harness.store.read(outbox.outbox_pending) >= 1
