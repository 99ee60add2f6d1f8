"""The remediation service's `RequestAnnouncer`, in chat: views rendered, posted by a notifier.

The service owns the protocol (it cannot import the chat layer); this is the chat
side's implementation: it renders the request and event views
(`remediation_views`) and delivers them with whichever `Notifier` the bot runs
with (Slack, or the console twin), turning `NotifyError` into the service's
`AnnounceError`.
"""

from __future__ import annotations

from datetime import datetime

from bot.chat.notifier import Notifier, NotifyError, Posted
from bot.chat.remediation_views import event_reply, note_reply, request_reply
from bot.domain.change_windows import ChangeWindows
from bot.remediation.announcer import AnnounceError, MessageRef
from bot.remediation.engine import RunEvent, RunInfo
from bot.remediation.models import RequestView


class ChatAnnouncer:
    """`windows` (CCERT_CHANGE_WINDOWS in CCERT_TIMEZONE) feeds the request message's window picker
    and the zone its times are shown in."""

    def __init__(self, notifier: Notifier, *, windows: ChangeWindows | None = None) -> None:
        self.notifier = notifier
        self.windows = windows or ChangeWindows()

    async def post_request(self, channel: str, view: RequestView, now: datetime) -> MessageRef:
        try:
            posted = await self.notifier.post(channel, request_reply(view, now=now, windows=self.windows))
        except NotifyError as exc:
            raise AnnounceError(exc.reason) from exc
        return MessageRef(posted.channel, posted.ts)

    async def update_request(self, message: MessageRef, view: RequestView, now: datetime) -> None:
        try:
            await self.notifier.update(
                Posted(message.channel, message.ts), request_reply(view, now=now, windows=self.windows)
            )
        except NotifyError as exc:
            raise AnnounceError(exc.reason) from exc

    async def post_event(self, message: MessageRef, run: RunInfo, event: RunEvent) -> None:
        try:
            await self.notifier.post(message.channel, event_reply(run, event), thread_ts=message.ts)
        except NotifyError as exc:
            raise AnnounceError(exc.reason) from exc

    async def post_note(self, message: MessageRef, text: str, level: str) -> None:
        try:
            await self.notifier.post(message.channel, note_reply(text, level), thread_ts=message.ts)
        except NotifyError as exc:
            raise AnnounceError(exc.reason) from exc
