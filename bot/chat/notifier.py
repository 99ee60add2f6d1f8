"""Speaking first: posting, threading and updating messages nobody asked for.

Alerts, the digest and remediation progress are pushed by the bot, not
answers to a command. They go through this small chat-agnostic interface so
the jobs know nothing of Slack: `SlackNotifier` (`bot.slack.notifier`) posts
Block Kit, `ConsoleNotifier` (`bot.console.notifier`) prints text (the console
twin), and tests can use either. The implementations live with their front
doors; this module holds only the interface and the facts it passes around.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeAlias

from bot.chat.reply import Reply

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Posted:
    """Where a message landed: enough to update it or reply in its thread."""

    channel: str
    ts: str


# What Slack takes as a metadata payload value (nested objects aside): ids go as strings,
# counts as numbers.
PayloadValue: TypeAlias = str | int | bool


@dataclass(frozen=True)
class MessageMetadata:
    """Machine-readable facts a message carries (Slack's message metadata): other apps and
    workflows can react to them, and the bot finds its own messages again by `key`.

    `event_type` names the kind (`ccert_alert`, `ccert_alert_note`, `ccert_request`,
    `ccert_request_event`, `ccert_digest`; the README's "Message metadata" lists each payload);
    `key` tells the bot's message from any other (`outbox_key` in the payload): the outbox's
    client-side key for an alert or note, `request-<id>` for a request message, `digest-<day>`
    for the digest. `payload` adds ids (controller, alert, request) as strings, counts as numbers.

    `once`: the post is looked for (`Notifier.find`) before it is tried again, so the client must
    never resend it after a dropped connection (the outbox's alerts and notes). Messages nobody
    looks for (requests, their run events, the digest) keep the client's resend: a twin is
    better than none.
    """

    event_type: str
    key: str
    payload: Mapping[str, PayloadValue] = field(default_factory=dict)
    once: bool = True

    def to_slack(self) -> dict[str, Any]:
        return {"event_type": self.event_type, "event_payload": {**self.payload, "outbox_key": self.key}}

    def matches(self, metadata: object) -> bool:
        """Whether a message's `metadata` (as Slack returns it) is this one's."""
        if not isinstance(metadata, Mapping) or metadata.get("event_type") != self.event_type:
            return False
        payload = metadata.get("event_payload")
        return isinstance(payload, Mapping) and payload.get("outbox_key") == self.key


class NotifyError(Exception):
    """A message could not be delivered. `reason` is short and safe to store (no secrets)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Notifier(Protocol):
    async def post(
        self, channel: str, reply: Reply, thread_ts: str | None = None, *, metadata: MessageMetadata | None = None
    ) -> Posted:
        """Post a message (long replies continue in its thread); raise NotifyError on failure.
        `metadata` goes on the first message, so `find` can tell it from any other."""
        ...

    async def update(self, posted: Posted, reply: Reply, *, metadata: MessageMetadata | None = None) -> None:
        """Replace a message in place; raise NotifyError on failure. `metadata` replaces the
        message's metadata (refreshed facts, same key); without it the message keeps its own."""
        ...

    async def find(
        self, channel: str, metadata: MessageMetadata, *, since: datetime, thread_ts: str | None = None
    ) -> Posted | None:
        """The message posted with `metadata` since `since` (in the channel, or in the thread of
        `thread_ts`), None when there is none; raise NotifyError when the search itself failed."""
        ...
