"""`SlackNotifier` over real HTTP to the fake Web API: a post that must happen once is never
resent by the client after a dropped connection (Slack may have taken it; the outbox looks
first), while an ordinary post still is; `find` tells our message by its metadata."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.chat.notifier import MessageMetadata, NotifyError
from bot.chat.reply import Reply
from bot.settings import load_settings
from bot.slack.app import build_client
from bot.slack.notifier import SlackNotifier
from tests.support.fake_slack import FakeSlack

TOKEN = "xoxb-notifier-test"
CHANNEL = "C0NOTIFY01"


def _notifier(slack: FakeSlack) -> SlackNotifier:
    return SlackNotifier(build_client(load_settings(slack_api_url=slack.api_url), token=TOKEN))


async def test_a_post_with_outbox_metadata_is_not_resent_after_a_dropped_connection() -> None:
    async with FakeSlack(token=TOKEN) as slack:
        notifier = _notifier(slack)
        slack.drop_next("chat.postMessage")
        with pytest.raises(NotifyError):
            await notifier.post(CHANNEL, Reply(title="stuck APs"), metadata=MessageMetadata("ccert_alert", "k1"))
        assert len(slack.channel_history(CHANNEL)) == 1  # Slack took it; nobody sent it twice

        slack.drop_next("chat.postMessage")
        await notifier.post(CHANNEL, Reply(title="an answer"))  # no metadata: the client retries
        assert len(slack.channel_history(CHANNEL)) == 3


async def test_find_tells_our_message_by_its_key_in_the_channel_and_in_a_thread() -> None:
    async with FakeSlack(token=TOKEN) as slack:
        notifier = _notifier(slack)
        since = datetime.now(UTC) - timedelta(seconds=1)
        mine = MessageMetadata("ccert_alert", "k-mine", {"controller": "wlc-1"})
        for key in ("k-other-1", "k-other-2"):
            await notifier.post(CHANNEL, Reply(title="other"), metadata=MessageMetadata("ccert_alert", key))
        posted = await notifier.post(CHANNEL, Reply(title="mine"), metadata=mine)
        await notifier.post(CHANNEL, Reply(title="plain"))
        assert await notifier.find(CHANNEL, mine, since=since) == posted
        assert await notifier.find(CHANNEL, MessageMetadata("ccert_alert", "k-absent"), since=since) is None
        assert await notifier.find(CHANNEL, MessageMetadata("ccert_note", "k-mine"), since=since) is None

        note_key = MessageMetadata("ccert_alert_note", "n1")
        note = await notifier.post(CHANNEL, Reply(title="note"), posted.ts, metadata=note_key)
        assert await notifier.find(CHANNEL, note_key, since=since, thread_ts=posted.ts) == note
        assert await notifier.find(CHANNEL, note_key, since=since) is None  # not a top-level message
        slack.fail_next("conversations.history", status=200, retry_after=None, error="missing_scope")
        with pytest.raises(NotifyError) as failed:
            await notifier.find(CHANNEL, mine, since=since)
        assert failed.value.reason == "missing_scope"
