"""A slow Slack never stretches a time-back: the controller's clock-set to NTP-restore window
is the same whether Slack answers at once or seconds late, and the run's story still reaches
the request's thread afterwards. Through the real stack: signed HTTP clicks, the fake Web API
answering late, a simulated AireOS controller changed over SSH."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

from bot.domain.approvals import RequestStatus
from tests.remediation.remediation_helpers import FAST_PARAMS, FAST_RETRY, eventually, ntp_config
from tests.support.simulated_site import aireos
from tests.support.slack_bot import SlackBotHarness, slack_bot

REQUESTER, ALICE, BOB = "U0CARLA", "U0ALICE", "U0BOB"
APPROVERS = f"{REQUESTER},{ALICE},{BOB}"
# Longer than any healthy window (well under a second here): one chat call awaited between
# clock-set and NTP-restore would show as at least this much more.
SLOW_SECONDS = 2.5


def _request_message(h: SlackBotHarness) -> tuple[int, str]:
    """The request id and ts of the message that carries the Approve/Reject buttons."""
    found = h.request_message()
    if found is None:
        raise AssertionError("no request message with an Approve button")
    return found


async def _time_back(h: SlackBotHarness, *, slack: str = "healthy") -> tuple[int, str, float]:
    """Request and approve a time-back on wlc-1; from the first vote on, Slack is `healthy`,
    `slow` (every answer SLOW_SECONDS late) or `hung` (no answer until released). Returns the
    request id, its message ts and the seconds from clock-set to NTP-restore."""
    config = h.runtime.remediation.config
    h.runtime.remediation.config = dataclasses.replace(config, param_overrides=FAST_PARAMS, retry=FAST_RETRY)
    await h.command("remediate site-t wlc-1", user=REQUESTER)
    await eventually(lambda: h.request_message() is not None, timeout=15)
    request_id, ts = _request_message(h)
    if slack == "slow":
        h.slack.delays["*"] = SLOW_SECONDS
    elif slack == "hung":
        h.slack.hang()
    for user in (ALICE, BOB):  # click Approve, submit the form it opened (the view is sent even to a hung Slack)
        status, _, elapsed = await h.vote("remediation_approve", request_id, user, ts)
        assert status == 200 and elapsed < 3  # acks never wait on the Web API

    async def finished() -> bool:
        view = await h.runtime.remediation.request_view(request_id)
        return view.status in {RequestStatus.SUCCEEDED, RequestStatus.FAILED, RequestStatus.NEEDS_ATTENTION}

    await eventually(finished, timeout=60, interval=0.1)
    assert (await h.runtime.remediation.request_view(request_id)).status is RequestStatus.SUCCEEDED
    commands = [(e.at, e.text) for e in await h.runtime.remediation.audit(request_id) if e.kind == "command"]
    clock_set = next(at for at, text in commands if text.startswith("config time manual"))
    restored = next(at for at, text in commands if text.startswith("config time ntp server"))
    return request_id, ts, _seconds(clock_set, restored)


def _seconds(start: datetime, end: datetime) -> float:
    assert end > start
    return (end - start).total_seconds()


def _last_update(h: SlackBotHarness, ts: str) -> str:
    updates = [c for c in h.slack.calls_to("chat.update") if c.body.get("ts") == ts]
    assert updates, "the request message was never updated"
    return str(updates[-1].body["text"])


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _thread(h: SlackBotHarness, ts: str) -> list[str]:
    """The run's events in the request's thread (its metadata says so; vote notes are not events)."""
    return [
        str(c.body.get("text", ""))
        for c in h.slack.calls_to("chat.postMessage")
        if c.body.get("thread_ts") == ts and (c.body.get("metadata") or {}).get("event_type") == "ccert_request_event"
    ]


async def test_a_slow_or_hung_slack_does_not_stretch_the_time_back_window(tmp_path: Path) -> None:
    for folder in ("healthy", "slow", "hung"):
        (tmp_path / folder).mkdir()
    async with slack_bot(tmp_path / "healthy", aireos("wlc-1"), approvers=APPROVERS) as h:
        _, healthy_ts, healthy = await _time_back(h)
        await h.runtime.remediation.chat.idle(timeout=10)
        assert _thread(h, healthy_ts)
        healthy_final = _last_update(h, healthy_ts)

    for mode in ("slow", "hung"):
        async with slack_bot(tmp_path / mode, aireos("wlc-1"), approvers=APPROVERS) as h:
            wlc = h.site.sim.controllers["wlc-1"]
            before = ntp_config(wlc)
            request_id, ts, window = await _time_back(h, slack=mode)
            assert window <= max(2 * healthy, healthy + 1.0), (mode, healthy, window)
            assert ntp_config(wlc) == before and wlc.clock_source == "ntp"
            h.slack.release()

            # The story still arrives after the device work: every event the run recorded, in
            # its order, and the request message ends showing the outcome, as the healthy run's
            # did (refreshes that waited for Slack were sent once, from the store).
            assert await h.runtime.remediation.chat.idle(timeout=120)
            events = [e.text for e in await h.runtime.remediation.audit(request_id) if e.kind.startswith("event_")]
            thread = _thread(h, ts)
            assert len(thread) == len(events) > 0, mode
            assert all(_escaped(text[:40]) in posted for text, posted in zip(events, thread, strict=True)), mode
            final = _last_update(h, ts)
            assert final.split(" ", 1)[0] == healthy_final.split(" ", 1)[0] == ":white_check_mark:"
            view = await h.runtime.remediation.request_view(request_id)
            assert view.status is RequestStatus.SUCCEEDED
