"""Message metadata through Slack (signed requests in, the fake Web API out): the request
message, its run events and the digest carry the metadata the README documents, an update
refreshes or keeps it, and the bot finds its own request message again by its key."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import time_machine

from bot.chat.notifier import MessageMetadata, Posted
from bot.chat.reply import Reply
from bot.chat.request_announcer import ChatAnnouncer
from bot.remediation.announcer import MessageRef
from bot.remediation.engine import RunEvent, RunInfo
from bot.settings import load_settings
from bot.slack.app import build_client
from bot.slack.notifier import SlackNotifier
from tests.remediation.remediation_helpers import eventually
from tests.support.fake_slack import FakeSlack
from tests.support.simulated_site import aireos
from tests.support.slack_bot import CHANNEL, TOKEN, SlackBotHarness, slack_bot

REQUESTER, ALICE, BOB = "U0CARLA", "U0ALICE", "U0BOB"


def _posted_with(h: SlackBotHarness, event_type: str) -> list[dict[str, Any]]:
    return [
        c.body
        for c in h.slack.calls_to("chat.postMessage")
        if (c.body.get("metadata") or {}).get("event_type") == event_type
    ]


def _updates_of(h: SlackBotHarness, ts: str) -> list[dict[str, Any]]:
    return [c.body for c in h.slack.calls_to("chat.update") if c.body.get("ts") == ts]


def _in_history(h: SlackBotHarness, ts: str) -> dict[str, Any]:
    return next(m for m in h.slack.channel_history(CHANNEL) if m["ts"] == ts)


async def test_the_request_message_carries_its_ids_and_status_and_updates_refresh_them(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), approvers=f"{ALICE},{BOB}", access=f"remediate={REQUESTER}") as h:
        since = datetime.now(UTC)
        status, _, _ = await h.command("remediate site-t wlc-1", user=REQUESTER)
        assert status == 200
        await eventually(lambda: h.request_message() is not None, timeout=15)
        found = h.request_message()
        assert found is not None
        request_id, ts = found
        expected = {
            "event_type": "ccert_request",
            "event_payload": {
                "request_id": str(request_id),
                "site": "site-t",
                "controllers": "wlc-1",
                "status": "pending",
                "outbox_key": f"request-{request_id}",
            },
        }
        assert _posted_with(h, "ccert_request") == [
            next(c.body for c in h.slack.calls_to("chat.postMessage") if c.response.get("ts") == ts)
        ]
        assert _in_history(h, ts)["metadata"] == expected

        # An approver rejects (the button's form, with the reason): the update says so in the
        # metadata too, under the same key.
        status, answer, _ = await h.vote("remediation_reject", request_id, BOB, ts, "wrong controller")
        assert status == 200 and not answer

        def rejected() -> bool:
            return any(
                (u.get("metadata") or {}).get("event_payload", {}).get("status") == "rejected"
                for u in _updates_of(h, ts)
            )

        await eventually(rejected, timeout=15)
        assert all(u.get("metadata", {}).get("event_type") == "ccert_request" for u in _updates_of(h, ts))
        refreshed = _in_history(h, ts)["metadata"]
        assert refreshed == {
            "event_type": "ccert_request",
            "event_payload": {**expected["event_payload"], "status": "rejected"},
        }

        # The bot finds its own request message again by the key (conversations.history).
        notifier = SlackNotifier(h.bot.client)
        key = MessageMetadata("ccert_request", f"request-{request_id}")
        assert await notifier.find(CHANNEL, key, since=since) == Posted(CHANNEL, ts)
        assert await notifier.find(CHANNEL, MessageMetadata("ccert_request", "request-999"), since=since) is None


async def test_an_update_without_metadata_keeps_the_message_metadata() -> None:
    async with FakeSlack(token=TOKEN) as slack:
        notifier = SlackNotifier(build_client(load_settings(slack_api_url=slack.api_url), token=TOKEN))
        metadata = MessageMetadata("ccert_alert", "k1", {"alert_id": "7", "controller": "wlc-1"})
        posted = await notifier.post(CHANNEL, Reply(title="stuck APs"), metadata=metadata)
        await notifier.update(posted, Reply(title="stuck APs, still"))
        assert "metadata" not in slack.calls_to("chat.update")[-1].body
        (message,) = slack.channel_history(CHANNEL)
        assert message["text"] != "" and metadata.matches(message["metadata"])
        assert message["metadata"]["event_payload"]["controller"] == "wlc-1"

        again = MessageMetadata("ccert_alert", "k1", {"alert_id": "7", "controller": "wlc-1", "site": "site-t"})
        await notifier.update(posted, Reply(title="resolved"), metadata=again)
        (message,) = slack.channel_history(CHANNEL)
        assert message["metadata"] == again.to_slack() and metadata.matches(message["metadata"])


async def test_run_events_in_the_request_thread_name_request_run_and_controller() -> None:
    async with FakeSlack(token=TOKEN) as slack:
        notifier = SlackNotifier(build_client(load_settings(slack_api_url=slack.api_url), token=TOKEN))
        request = await notifier.post(CHANNEL, Reply(title="request #12"))
        run = RunInfo(run_id=31, request_id=12, controller="wlc-1", site="site-t", platform="aireos", playbook="tb")
        event = RunEvent(level="warning", text="the clock is back", at=datetime.now(UTC))
        await ChatAnnouncer(notifier).post_event(MessageRef(request.channel, request.ts), run, event)
        body = slack.calls_to("chat.postMessage")[-1].body
    assert body["thread_ts"] == request.ts
    assert body["metadata"] == {
        "event_type": "ccert_request_event",
        "event_payload": {
            "request_id": "12",
            "run_id": "31",
            "controller": "wlc-1",
            "site": "site-t",
            "level": "warning",
            "outbox_key": "request-12-run-31",
        },
    }


async def test_the_digest_and_the_alert_carry_the_numbers_and_ids_they_show(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), stuck_after_minutes=30) as h:
        checker = h.runtime.checker
        await checker.run_check()
        with time_machine.travel(datetime.now(UTC) + timedelta(minutes=31), tick=True):
            await checker.run_check()
            status, _, _ = await h.command("digest", user=ALICE)
            assert status == 200
            await eventually(lambda: bool(_posted_with(h, "ccert_digest")), timeout=15)
        (alert,) = _posted_with(h, "ccert_alert")
        (summary,) = _posted_with(h, "ccert_digest")
        payload = summary["metadata"]["event_payload"]
        shown = summary["text"] + json.dumps(summary["blocks"])
    # The alert the digest counts names its controller, site and alert id.
    assert {"controller": "wlc-1", "site": "site-t", "kind": "stuck"}.items() <= alert["metadata"][
        "event_payload"
    ].items()
    assert alert["metadata"]["event_payload"]["alert_id"].isdigit()
    assert summary.get("thread_ts") is None  # the summary, not a detail in its thread
    assert payload["outbox_key"] == f"digest-{payload['date']}"
    assert payload["date"] in shown
    assert payload["stuck_aps"] > 0 and f"Stuck APs: {payload['stuck_aps']}" in shown
    assert f"{payload['sites']} site" in shown and f"{payload['controllers']} controller" in shown
    assert payload["controllers_unreachable"] == 0 and payload["sites_needing_attention"] == 1
    # How complete the numbers are, as the summary says it: 1 controller, 1 read, none short.
    assert payload["controllers_read"] == 1 and f"({payload['controllers_read']} read)" in shown
    assert payload["complete"] is True
    assert "Sites needing attention, worst first (1)" in shown
    assert set(payload) == {
        "date",
        "sites",
        "controllers",
        "controllers_read",
        "controllers_unreachable",
        "stuck_aps",
        "sites_needing_attention",
        "complete",
        "outbox_key",
    }


async def test_a_request_post_nobody_looks_for_is_still_resent_after_a_dropped_connection() -> None:
    """Only the outbox's posts (looked for before another try) give up the client's resend."""
    async with FakeSlack(token=TOKEN) as slack:
        notifier = SlackNotifier(build_client(load_settings(slack_api_url=slack.api_url), token=TOKEN))
        slack.drop_next("chat.postMessage")
        posted = await notifier.post(
            CHANNEL, Reply(title="request #3"), metadata=MessageMetadata("ccert_request", "request-3", once=False)
        )
        assert posted.ts and len(slack.channel_history(CHANNEL)) == 2  # resent: a twin beats none
