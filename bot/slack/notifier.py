"""The Slack side of `bot.chat.notifier`: Block Kit via the Web API.

Rate limits (429 + Retry-After) and dropped connections are retried by the
client's retry handlers (see `bot.slack.app`); what still fails becomes a
`NotifyError` with Slack's short error code, which callers store and retry on
the next check, so an alert is never silently dropped.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.notifier import MessageMetadata, NotifyError, Posted
from bot.chat.reply import Reply
from bot.slack.delivery import API_FAILURES, ApiErrorHook, ignore_api_error, reporting_failure
from bot.slack.render import render_messages

log = logging.getLogger(__name__)

# Looking for a post cut short: how far before the first attempt to start (the bot's clock and
# Slack's differ a little), and how much of a busy channel to read at most.
FIND_CLOCK_SLACK_SECONDS = 120.0
FIND_PAGE_SIZE = 200
FIND_PAGES = 5


def _reason(error: Exception) -> NotifyError:
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error") or f"http_{error.response.status_code}")
        retry_after = error.response.headers.get("Retry-After") if error.response.headers else None
        return NotifyError(code, float(retry_after) if retry_after else None)
    return NotifyError(f"network: {type(error).__name__}")


class SlackNotifier:
    """`api_errors` hears the method name of every call that failed (metrics; see `bot.slack.delivery`)."""

    def __init__(self, client: AsyncWebClient, *, api_errors: ApiErrorHook = ignore_api_error) -> None:
        self.client = client
        self.api_errors = api_errors
        # Posts that must happen once (they carry outbox metadata) are never resent by the client
        # after a dropped connection: Slack may have taken the first. A 429 is still retried
        # (Slack refused it), and anything else goes back to the outbox, which looks first.
        self._once = AsyncWebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            retry_handlers=[h for h in client.retry_handlers if not isinstance(h, AsyncConnectionErrorRetryHandler)],
        )

    async def post(
        self, channel: str, reply: Reply, thread_ts: str | None = None, *, metadata: MessageMetadata | None = None
    ) -> Posted:
        messages = render_messages(reply)
        tagged: dict[str, Any] = {"metadata": metadata.to_slack()} if metadata is not None else {}
        client = self._once if metadata is not None and metadata.once else self.client
        try:
            with reporting_failure(self.api_errors, "chat.postMessage"):
                first = await client.chat_postMessage(
                    channel=channel,
                    text=messages[0]["text"],
                    blocks=messages[0]["blocks"],
                    thread_ts=thread_ts,
                    **tagged,
                )
                posted = Posted(str(first["channel"]), str(first["ts"]))
                for extra in messages[1:]:
                    await self.client.chat_postMessage(
                        channel=posted.channel,
                        text=extra["text"],
                        blocks=extra["blocks"],
                        thread_ts=thread_ts or posted.ts,
                    )
        except API_FAILURES as error:
            failure = _reason(error)
            log.warning("slack post to %s failed: %s", channel, failure.reason)
            raise failure from None
        return posted

    async def update(self, posted: Posted, reply: Reply, *, metadata: MessageMetadata | None = None) -> None:
        """`chat.update`; Slack keeps a message's metadata when the update carries none."""
        messages = render_messages(reply)
        tagged: dict[str, Any] = {"metadata": metadata.to_slack()} if metadata is not None else {}
        try:
            with reporting_failure(self.api_errors, "chat.update"):
                await self.client.chat_update(
                    channel=posted.channel,
                    ts=posted.ts,
                    text=messages[0]["text"],
                    blocks=messages[0]["blocks"],
                    **tagged,
                )
        except API_FAILURES as error:
            failure = _reason(error)
            log.warning("slack update of %s in %s failed: %s", posted.ts, posted.channel, failure.reason)
            raise failure from None

    async def find(
        self, channel: str, metadata: MessageMetadata, *, since: datetime, thread_ts: str | None = None
    ) -> Posted | None:
        """Search the channel (or the thread) from a little before `since` for our message with
        `metadata`: `conversations.history` / `conversations.replies` with all metadata, at most
        `FIND_PAGES` pages of `FIND_PAGE_SIZE` (a bounded look back to `since`; the channel's history
        comes newest first, a thread's oldest first)."""
        method = "conversations.replies" if thread_ts else "conversations.history"
        oldest = f"{since.timestamp() - FIND_CLOCK_SLACK_SECONDS:.6f}"
        cursor: str | None = None
        try:
            with reporting_failure(self.api_errors, method):
                for _ in range(FIND_PAGES):
                    options: dict[str, Any] = {
                        "channel": channel,
                        "oldest": oldest,
                        "limit": FIND_PAGE_SIZE,
                        "include_all_metadata": True,
                    }
                    if cursor:
                        options["cursor"] = cursor
                    if thread_ts:
                        response = await self.client.conversations_replies(ts=thread_ts, **options)
                    else:
                        response = await self.client.conversations_history(**options)
                    for message in response.get("messages") or []:
                        if isinstance(message, dict) and metadata.matches(message.get("metadata")):
                            return Posted(channel, str(message["ts"]))
                    cursor = ((response.get("response_metadata") or {}).get("next_cursor")) or None
                    if not cursor:
                        return None
        except API_FAILURES as error:
            failure = _reason(error)
            log.warning("looking for an earlier post in %s failed: %s", channel, failure.reason)
            raise failure from None
        log.warning(
            "looked through %d messages of %s for an earlier post and stopped", FIND_PAGES * FIND_PAGE_SIZE, channel
        )
        return None
