"""Alerts and their outbox: the incident with its Slack delivery state, and the queued notes.

`AlertKind` has one definition, in `bot.domain.alerts`, so the rules and the store agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.alerts import AlertKind  # one definition: the rules and the store agree


class AlertStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Delivery(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class EventKind(StrEnum):
    THREAD_NOTE = "thread_note"
    UPDATE_MESSAGE = "update_message"
    RESOLVE_NOTE = "resolve_note"


@dataclass(frozen=True)
class AlertRecord:
    id: int
    kind: AlertKind
    controller: str
    site: str | None
    channel: str
    status: AlertStatus
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    payload: dict[str, Any]
    slack_ts: str | None
    slack_channel: str | None
    delivery: Delivery
    attempts: int
    last_error: str | None
    last_notified_at: datetime | None
    # Written before every post (see `mark_sending`): the metadata key the message carries and
    # when the first attempt began. Set without `slack_ts`: a post may be in Slack already.
    send_key: str | None = None
    sending_since: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status is AlertStatus.OPEN

    @property
    def maybe_posted(self) -> bool:
        """An attempt began and none was confirmed: look for the message before posting again."""
        return self.slack_ts is None and self.sending_since is not None and self.send_key is not None


@dataclass(frozen=True)
class EventRecord:
    """One note or message change for an alert's Slack message, waiting or delivered.

    `alert_ts` / `alert_channel` are the alert message to thread under or update.
    """

    id: int
    alert_id: int
    kind: EventKind
    payload: dict[str, Any]
    created_at: datetime
    delivered_at: datetime | None
    slack_ts: str | None
    attempts: int
    last_error: str | None
    alert_ts: str | None = None
    alert_channel: str | None = None
    controller: str | None = None
    send_key: str | None = None
    sending_since: datetime | None = None

    @property
    def maybe_posted(self) -> bool:
        """A note whose post began and was never confirmed: look in the thread before posting."""
        return self.delivered_at is None and self.sending_since is not None and self.send_key is not None

    @property
    def text(self) -> str | None:
        value = self.payload.get("text")
        return value if isinstance(value, str) else None
