"""`RequestChat`: a run's chat never waits, stays in order, coalesces refreshes, and is bounded."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from bot.remediation.chat_queue import RequestChat
from bot.remediation.engine import RunEvent, RunInfo
from bot.remediation.service import ChatProgress

RUN = RunInfo(run_id=1, request_id=7, controller="wlc-1", site="site-a", platform="aireos", playbook="p")


def _event(text: str) -> RunEvent:
    return RunEvent("info", text, datetime.now(UTC))


class Slack:
    """Records what the drain tells it; `gate` holds every call until set (a hung Slack)."""

    def __init__(self) -> None:
        self.told: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail_on: str | None = None

    async def refresh(self, request_id: int) -> None:
        await self.gate.wait()
        self.told.append(f"refresh {request_id}")

    async def post(self, request_id: int, run: RunInfo, event: RunEvent) -> None:
        await self.gate.wait()
        if event.text == self.fail_on:
            raise RuntimeError("renderer broke")
        self.told.append(f"event {request_id} {event.text}")


async def test_queueing_never_waits_and_a_hung_slack_holds_nothing_but_the_drain() -> None:
    slack = Slack()
    slack.gate.clear()
    chat = RequestChat(slack.refresh, slack.post)
    chat.refresh(7)  # returns at once although nothing can be delivered
    chat.event(7, RUN, _event("clock set"))
    assert chat.pending(7) > 0
    assert not await chat.idle(7, timeout=0.05)
    slack.gate.set()
    assert await chat.idle(7, timeout=2)
    assert slack.told == ["refresh 7", "event 7 clock set"]
    assert chat.pending(7) == 0


async def test_refreshes_not_yet_started_coalesce_and_events_keep_their_order() -> None:
    slack = Slack()
    slack.gate.clear()
    chat = RequestChat(slack.refresh, slack.post)
    chat.refresh(7)
    await asyncio.sleep(0)  # the drain takes the first refresh and waits on Slack
    for n in range(5):
        chat.refresh(7)
        chat.event(7, RUN, _event(f"step {n}"))
    chat.refresh(8)
    slack.gate.set()
    assert await chat.idle(timeout=2)
    mine = [t for t in slack.told if " 7" in t]
    assert mine == ["refresh 7", "refresh 7", *(f"event 7 step {n}" for n in range(5))]
    assert "refresh 8" in slack.told  # another request's lane is its own


async def test_past_the_bound_the_oldest_events_go_and_the_thread_says_how_many() -> None:
    slack = Slack()
    slack.gate.clear()
    chat = RequestChat(slack.refresh, slack.post, max_pending=3)
    for n in range(10):
        chat.event(7, RUN, _event(f"e{n}"))
    slack.gate.set()
    assert await chat.idle(timeout=2)
    events = [t for t in slack.told if t.startswith("event")]
    # Ten queued before the drain ran, three kept: the note about the seven comes first.
    assert len(events) == 4
    assert "7 progress notes" in events[0] and "/ccert audit 7" in events[0]
    assert events[1:] == ["event 7 e7", "event 7 e8", "event 7 e9"]


async def test_a_failing_delivery_does_not_stop_the_rest() -> None:
    slack = Slack()
    slack.fail_on = "bad"
    chat = RequestChat(slack.refresh, slack.post)
    chat.event(7, RUN, _event("bad"))
    chat.event(7, RUN, _event("good"))
    assert await chat.idle(timeout=2)
    assert slack.told == ["event 7 good"]


async def test_close_cancels_what_a_hung_slack_still_holds_after_the_grace() -> None:
    slack = Slack()
    slack.gate.clear()
    chat = RequestChat(slack.refresh, slack.post)
    chat.event(7, RUN, _event("stuck"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await chat.aclose(grace=0.1)
    assert loop.time() - started < 1
    assert await chat.idle(timeout=0.1)
    chat.event(7, RUN, _event("after close"))  # dropped: the bot is stopping
    assert chat.pending(7) == 0 and slack.told == []


async def test_an_event_that_arrives_while_the_dropped_note_is_told_is_still_delivered() -> None:
    slack = Slack()
    slack.gate.clear()
    real_post = slack.post

    async def post(request_id: int, run: RunInfo, event: RunEvent) -> None:
        await real_post(request_id, run, event)
        if "not posted" in event.text:  # the run says one more thing just then
            chat.event(7, RUN, _event("late"))

    slack.post = post  # type: ignore[method-assign]
    chat = RequestChat(slack.refresh, slack.post, max_pending=1)
    chat.event(7, RUN, _event("e0"))
    await asyncio.sleep(0)  # the drain holds e0, waiting on Slack
    chat.refresh(7)
    chat.event(7, RUN, _event("e1"))  # over the bound: e1 goes, the refresh stays
    slack.gate.set()
    assert await chat.idle(timeout=2)
    assert slack.told[-1] == "event 7 late" and chat.pending(7) == 0


async def test_recovery_progress_goes_to_each_runs_own_request_thread() -> None:
    """`ChatProgress` without a request id (recovery brings back runs of several requests at
    once): each run's events reach its own request's thread; a run without a request, none."""
    slack = Slack()
    chat = RequestChat(slack.refresh, slack.post)
    progress = ChatProgress(chat)
    await progress.event(RUN, _event("recovering run #1 after bot-a stopped"))
    await progress.event(replace(RUN, run_id=2, request_id=9), _event("recovering run #2"))
    await progress.event(replace(RUN, run_id=3, request_id=None), _event("a run nobody asked for in chat"))
    assert await chat.idle(timeout=2)
    assert slack.told == ["event 7 recovering run #1 after bot-a stopped", "event 9 recovering run #2"]
