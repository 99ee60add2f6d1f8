"""Change windows over signed Slack HTTP: `/ccert remediate ... --at`, the window picker in the
request message, approvals that schedule instead of start, the run starting at its window under
a controlled clock (the window timer's), the thread saying so, and `/ccert cancel`."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bot.domain.approvals import RequestStatus
from bot.store import remediation as q
from tests.remediation.remediation_helpers import (
    FAST_PARAMS,
    FAST_RETRY,
    WindowClock,
    device_problems,
    eventually,
    ntp_config,
)
from tests.support import slack_signing
from tests.support.simulated_site import aireos
from tests.support.slack_bot import SIGNING_SECRET, SlackBotHarness, slack_bot

REQUESTER, ALICE, BOB, MALLORY = "U0CARLA", "U0ALICE", "U0BOB", "U0MALLORY"


def _request_posts(h: SlackBotHarness) -> list[Any]:
    return [
        c
        for c in h.slack.calls_to("chat.postMessage") + h.slack.calls_to("chat.update")
        if "Time-back request #" in json.dumps(c.body)
    ]


def _elements(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in body.get("blocks", []) if b.get("type") == "actions" for e in b.get("elements", [])]


def _thread(h: SlackBotHarness, ts: str) -> str:
    return json.dumps([c.body for c in h.slack.calls_to("chat.postMessage") if c.body.get("thread_ts") == ts])


async def _pick(h: SlackBotHarness, value: str, user: str, ts: str) -> int:
    payload = slack_signing.block_actions_payload(
        "remediation_window",
        "",
        user_id=user,
        channel_id="C0SITET001",
        message_ts=ts,
        response_url=h.slack.response_url(),
    )
    action = payload["actions"][0]
    del action["value"]
    action.update(type="static_select", selected_option={"text": {"type": "plain_text", "text": value}, "value": value})
    request = slack_signing.sign(SIGNING_SECRET, urlencode({"payload": json.dumps(payload)}).encode())
    status, _, _ = await h.send(request)
    return status


async def test_a_request_for_a_window_is_scheduled_by_its_approvals_and_starts_at_it(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), approvers=f"{REQUESTER},{ALICE},{BOB}") as h:
        service = h.runtime.remediation
        service.config = dataclasses.replace(
            service.config, param_overrides=FAST_PARAMS, retry=FAST_RETRY, schedule_check_seconds=0.05
        )
        clock = WindowClock()
        service.window_clock = clock
        wlc = h.site.sim.controllers["wlc-1"]
        before = ntp_config(wlc)

        status, _, _ = await h.command("remediate site-t wlc-1 --at 23:59", user=REQUESTER)
        assert status == 200
        await eventually(lambda: h.request_message() is not None, timeout=15)
        request_id, ts = h.request_message() or (0, "")
        posted = _request_posts(h)[0].body
        assert "Window" in json.dumps(posted) and "once approved" in json.dumps(posted)
        kinds = {(e["type"], e["action_id"]) for e in _elements(posted)}
        assert ("button", "remediation_cancel") in kinds and ("static_select", "remediation_window") in kinds
        view = await service.request_view(request_id)
        assert view.scheduled_for is not None and view.scheduled_for > datetime.now(UTC)

        # The picker moves the window (nobody approved yet); a stranger may not.
        picker = next(e for e in _elements(posted) if e["action_id"] == "remediation_window")
        choice = picker["options"][0]["value"]
        assert choice.startswith(f"{request_id} ")
        assert await _pick(h, choice, MALLORY, ts) == 200
        assert await _pick(h, choice, REQUESTER, ts) == 200
        await eventually(lambda: "set the window" in _thread(h, ts), timeout=10)
        moved = await service.request_view(request_id)
        assert moved.scheduled_for is not None and moved.scheduled_for != view.scheduled_for
        assert "U0MALLORY" not in _thread(h, ts)

        for user in (ALICE, BOB):
            status, _, _ = await h.command(f"approve {request_id} --comment 'CHG0042 window'", user=user)
            assert status == 200
        await eventually(lambda: "scheduled for" in _thread(h, ts), timeout=10)
        noted = [c for c in h.slack.calls_to("chat.postMessage") if c.body.get("thread_ts") == ts]
        assert sum("CHG0042 window" in json.dumps(c.body.get("blocks")) for c in noted) == 2, "each comment, once"
        scheduled = await service.request_view(request_id)
        assert scheduled.status is RequestStatus.SCHEDULED and not scheduled.runs
        assert ntp_config(wlc) == before, "nothing is sent before the window"
        await eventually(lambda: "scheduled for its window" in json.dumps(_request_posts(h)[-1].body), timeout=10)
        last = _request_posts(h)[-1].body
        assert "CHG0042 window" in json.dumps(last), "and in the request message"
        assert {e["action_id"] for e in _elements(last)} == {"remediation_cancel"}, "no picker once approved"

        assert scheduled.scheduled_for is not None
        clock.move_to(scheduled.scheduled_for + timedelta(seconds=1))
        service.wake_window_timer()

        async def finished() -> bool:
            return (await service.request_view(request_id)).status in {
                RequestStatus.SUCCEEDED,
                RequestStatus.FAILED,
                RequestStatus.NEEDS_ATTENTION,
            }

        await eventually(finished, timeout=60, interval=0.2)
        assert (await service.request_view(request_id)).status is RequestStatus.SUCCEEDED
        assert device_problems(wlc, before) == []
        await eventually(lambda: "The window started" in _thread(h, ts), timeout=10)


async def test_cancel_over_slack_ends_a_waiting_request(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), approvers=f"{REQUESTER},{ALICE},{BOB}") as h:
        await h.command("remediate site-t wlc-1 --at 'Sat 22:00'", user=REQUESTER)
        await eventually(lambda: h.request_message() is not None, timeout=15)
        request_id, ts = h.request_message() or (0, "")
        status, _, _ = await h.click("remediation_cancel", str(request_id), MALLORY, message_ts=ts)
        assert status == 200
        await eventually(
            lambda: any(
                "requester or an approver" in json.dumps(c.body) for c in h.slack.calls_to("chat.postEphemeral")
            ),
            timeout=10,
        )
        status, body, _ = await h.command(f"cancel {request_id}", user=REQUESTER)
        assert status == 200 and "cancelled" in json.dumps(body)
        view = await h.runtime.remediation.request_view(request_id)
        assert view.status is RequestStatus.CANCELLED and view.cancelled_by == REQUESTER
        await eventually(lambda: "cancelled the request" in _thread(h, ts), timeout=10)
        status, _, _ = await h.command("remediate site-t wlc-1 --at yesterday", user=REQUESTER)
        assert status == 200
        await eventually(
            lambda: any(
                "not a time I read" in json.dumps(c.body)
                for c in h.slack.calls_to("response_url") + h.slack.calls_to("chat.postEphemeral")
            ),
            timeout=10,
        )
        assert len(await h.runtime.store.read(q.requests_in, ("pending",))) == 0, "a bad time opens no request"


async def test_a_scheduled_run_survives_a_restart_of_the_whole_bot(tmp_path: Path) -> None:
    """Approved over Slack, then the bot (and Slack's fake, and the simulator) restart on the same
    database: the new bot re-arms the run from the store and starts it at its window."""
    async with slack_bot(tmp_path, aireos("wlc-1"), approvers=f"{REQUESTER},{ALICE},{BOB}") as h:
        # the request keeps the playbook values it was approved with: second-scale waits
        h.runtime.remediation.config = dataclasses.replace(h.runtime.remediation.config, param_overrides=FAST_PARAMS)
        await h.command("remediate site-t wlc-1 --at 23:59", user=REQUESTER)
        await eventually(lambda: h.request_message() is not None, timeout=15)
        request_id, _ = h.request_message() or (0, "")
        for user in (ALICE, BOB):
            await h.command(f"approve {request_id}", user=user)

        async def scheduled() -> bool:
            return (await h.runtime.remediation.request_view(request_id)).status is RequestStatus.SCHEDULED

        await eventually(scheduled, timeout=10)
    async with slack_bot(tmp_path, aireos("wlc-1"), approvers=f"{REQUESTER},{ALICE},{BOB}") as h:
        service = h.runtime.remediation
        service.config = dataclasses.replace(
            service.config, param_overrides=FAST_PARAMS, retry=FAST_RETRY, schedule_check_seconds=0.05
        )
        view = await service.request_view(request_id)
        assert view.status is RequestStatus.SCHEDULED and view.scheduled_for is not None
        wlc = h.site.sim.controllers["wlc-1"]
        before = ntp_config(wlc)
        clock = WindowClock()
        clock.move_to(view.scheduled_for + timedelta(seconds=1))
        service.window_clock = clock
        service.wake_window_timer()

        async def done() -> bool:
            return (await service.request_view(request_id)).status in {
                RequestStatus.SUCCEEDED,
                RequestStatus.FAILED,
                RequestStatus.NEEDS_ATTENTION,
                RequestStatus.CANCELLED,
            }

        await eventually(done, timeout=60, interval=0.2)
        final = await service.request_view(request_id)
        assert final.status is RequestStatus.SUCCEEDED, (final.status, final.note)
        assert device_problems(wlc, before) == []
        await eventually(
            lambda: "The window started" in json.dumps([c.body for c in h.slack.calls_to("chat.postMessage")]),
            timeout=10,
        )
