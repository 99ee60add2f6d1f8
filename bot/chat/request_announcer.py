"""The remediation service's `RequestAnnouncer`, in chat: views rendered, posted by a notifier.

The service owns the protocol (it cannot import the chat layer); this is the chat
side's implementation: it renders the request and event views
(`remediation_views`) and delivers them with whichever `Notifier` the bot runs
with (Slack, or the console twin), turning `NotifyError` into the service's
`AnnounceError`.

Each message carries Slack message metadata built from what it shows
(`request_metadata`, `event_metadata`), so other apps and workflows can react to
a request and its run, and the bot can find a request's message again by its key
(`request-<id>`). An update of the request message refreshes its metadata (the
status changes; the key does not).
"""

from __future__ import annotations

from datetime import datetime

from bot.chat.notifier import MessageMetadata, Notifier, NotifyError, PayloadValue, Posted
from bot.chat.remediation_views import event_reply, note_reply, request_reply
from bot.domain.change_windows import ChangeWindows
from bot.remediation.announcer import AnnounceError, MessageRef
from bot.remediation.engine import RunEvent, RunInfo
from bot.remediation.models import RequestView

REQUEST_EVENT_TYPE = "ccert_request"
REQUEST_RUN_EVENT_TYPE = "ccert_request_event"
REQUEST_NOTE_TYPE = "ccert_request_note"


def request_key(request_id: int) -> str:
    """The key a request's message carries (`outbox_key`), one per request."""
    return f"request-{request_id}"


def request_metadata(view: RequestView) -> MessageMetadata:
    """The request message's metadata: ids and the status it shows (controllers comma-joined,
    as a metadata value is a string, number or boolean). Nobody looks for it before posting
    again, so the client may resend it after a dropped connection (`once=False`)."""
    payload: dict[str, PayloadValue] = {
        "request_id": str(view.id),
        "site": view.site,
        "controllers": ",".join(view.controllers),
        "status": view.status.value,
    }
    if view.scheduled_for is not None:
        payload["scheduled_for"] = view.scheduled_for.isoformat()
    return MessageMetadata(REQUEST_EVENT_TYPE, request_key(view.id), payload, once=False)


def event_metadata(run: RunInfo, event: RunEvent) -> MessageMetadata:
    """A run event's metadata (in the request's thread): its request, run and controller, and
    the event's level (`info`, `ok`, `warning`, `danger`). The key names the run; a run's events
    share it."""
    payload: dict[str, PayloadValue] = {"run_id": str(run.run_id), "controller": run.controller, "level": event.level}
    if run.request_id is not None:
        payload["request_id"] = str(run.request_id)
    if run.site:
        payload["site"] = run.site
    owner = request_key(run.request_id) if run.request_id is not None else "run"
    return MessageMetadata(REQUEST_RUN_EVENT_TYPE, f"{owner}-run-{run.run_id}", payload, once=False)


class ChatAnnouncer:
    """`windows` (CCERT_CHANGE_WINDOWS in CCERT_TIMEZONE) feeds the request message's window picker
    and the zone its times are shown in."""

    def __init__(self, notifier: Notifier, *, windows: ChangeWindows | None = None) -> None:
        self.notifier = notifier
        self.windows = windows or ChangeWindows()

    async def post_request(self, channel: str, view: RequestView, now: datetime) -> MessageRef:
        try:
            posted = await self.notifier.post(
                channel, request_reply(view, now=now, windows=self.windows), metadata=request_metadata(view)
            )
        except NotifyError as exc:
            raise AnnounceError(exc.reason) from exc
        return MessageRef(posted.channel, posted.ts)

    async def update_request(self, message: MessageRef, view: RequestView, now: datetime) -> None:
        try:
            await self.notifier.update(
                Posted(message.channel, message.ts),
                request_reply(view, now=now, windows=self.windows),
                metadata=request_metadata(view),
            )
        except NotifyError as exc:
            raise AnnounceError(exc.reason) from exc

    async def post_event(self, message: MessageRef, run: RunInfo, event: RunEvent) -> None:
        try:
            await self.notifier.post(
                message.channel, event_reply(run, event), thread_ts=message.ts, metadata=event_metadata(run, event)
            )
        except NotifyError as exc:
            raise AnnounceError(exc.reason) from exc

    async def post_note(self, message: MessageRef, request_id: int, text: str, level: str) -> None:
        try:
            metadata = MessageMetadata(
                REQUEST_NOTE_TYPE,
                f"{request_key(request_id)}-note",
                {"request_id": str(request_id), "level": level},
                once=False,
            )
            await self.notifier.post(message.channel, note_reply(text, level), thread_ts=message.ts, metadata=metadata)
        except NotifyError as exc:
            raise AnnounceError(exc.reason) from exc
