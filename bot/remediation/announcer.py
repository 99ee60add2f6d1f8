"""What the remediation service needs to tell a request in chat, and nothing more.

The service posts the request message, refreshes it as votes and steps land, and
puts notable run events in its thread. It sits below the chat layer, so it cannot
know Block Kit, `Reply` or the notifier: it speaks to a `RequestAnnouncer` it is
given. The chat side implements it (`bot.chat.request_announcer.ChatAnnouncer`, over
any `Notifier`) and the `Runtime` passes it in. Without one, the service announces
nothing and the caller renders the returned views.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.remediation.engine import RunEvent, RunInfo
from bot.remediation.models import RequestView


@dataclass(frozen=True)
class MessageRef:
    """Where the request message is: enough to update it or reply in its thread."""

    channel: str
    ts: str


class AnnounceError(Exception):
    """A message could not be delivered. `reason` is short and safe to log (no secrets)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RequestAnnouncer(Protocol):
    async def post_request(self, channel: str, view: RequestView, now: datetime) -> MessageRef:
        """Post the request message; raise AnnounceError on failure."""
        ...

    async def update_request(self, message: MessageRef, view: RequestView, now: datetime) -> None:
        """Replace the request message with `view` as it is now; raise AnnounceError on failure."""
        ...

    async def post_event(self, message: MessageRef, run: RunInfo, event: RunEvent) -> None:
        """Post a notable run event in the request message's thread; raise AnnounceError on failure."""
        ...

    async def post_note(self, message: MessageRef, request_id: int, text: str, level: str) -> None:
        """Post a line about the request itself (a vote's reason or comment, a cancel, the window)
        in its thread; `level` is info, ok, warning or danger; raise AnnounceError on failure."""
        ...
