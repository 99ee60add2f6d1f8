"""The Slack side of `bot.chat.notifier`: Block Kit via the Web API.

Rate limits (429 + Retry-After) and dropped connections are retried by the
client's retry handlers (see `bot.slack.app`); what still fails becomes a
`NotifyError` with Slack's short error code, which callers store and retry on
the next check, so an alert is never silently dropped.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.notifier import NotifyError, Posted
from bot.chat.reply import Reply
from bot.slack.delivery import API_FAILURES, ApiErrorHook, ignore_api_error, reporting_failure
from bot.slack.render import render_messages

log = logging.getLogger(__name__)


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

    async def post(self, channel: str, reply: Reply, thread_ts: str | None = None) -> Posted:
        messages = render_messages(reply)
        try:
            with reporting_failure(self.api_errors, "chat.postMessage"):
                first = await self.client.chat_postMessage(
                    channel=channel, text=messages[0]["text"], blocks=messages[0]["blocks"], thread_ts=thread_ts
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

    async def update(self, posted: Posted, reply: Reply) -> None:
        messages = render_messages(reply)
        try:
            with reporting_failure(self.api_errors, "chat.update"):
                await self.client.chat_update(
                    channel=posted.channel, ts=posted.ts, text=messages[0]["text"], blocks=messages[0]["blocks"]
                )
        except API_FAILURES as error:
            failure = _reason(error)
            log.warning("slack update of %s in %s failed: %s", posted.ts, posted.channel, failure.reason)
            raise failure from None
