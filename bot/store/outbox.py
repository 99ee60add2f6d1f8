"""The outbox: thread notes and message updates queued for alerts already in Slack.

Why a queue in the store: a note is written in the same transaction as the change it tells of
and delivered afterwards, so a Slack outage or a restart delays a note and never loses it.
`outbox_pending` is the one number health checks report for "Slack is behind".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.store.alerts import begin_send, get_alert
from bot.store.codec import dumps, from_db_time, from_db_time_or_none, loads, short_error
from bot.store.db import write_tx
from bot.store.records import EventKind, EventRecord, NotFoundError, StateError
from bot.store.rows import first_row, insert_row, now_text
from bot.store.sql import Db


def enqueue_event(
    db: Db,
    alert_id: int,
    kind: EventKind | str,
    payload: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> int:
    """Queue a thread note / message update / resolve note for an alert; returns its id."""
    with write_tx(db):
        get_alert(db, alert_id)  # NotFoundError rather than a foreign-key error
        return insert_row(
            db,
            "alert_events",
            {
                "alert_id": alert_id,
                "kind": EventKind(kind).value,
                "payload_json": dumps(dict(payload)),
                "created_at": now_text(now),
            },
        )


_EVENT_SELECT = (
    "SELECT e.*, a.slack_ts AS alert_ts, a.slack_channel AS alert_channel, a.controller AS alert_controller "
    "FROM alert_events e JOIN alerts a ON a.id = e.alert_id "
)


def _event_record(row: Mapping[str, Any]) -> EventRecord:
    return EventRecord(
        id=row["id"],
        alert_id=row["alert_id"],
        kind=EventKind(row["kind"]),
        payload=loads(row["payload_json"], {}),
        created_at=from_db_time(row["created_at"]),
        delivered_at=from_db_time_or_none(row["delivered_at"]),
        slack_ts=row["slack_ts"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        alert_ts=row["alert_ts"],
        alert_channel=row["alert_channel"],
        controller=row["alert_controller"],
        send_key=row["send_key"],
        sending_since=from_db_time_or_none(row["sending_since"]),
    )


def get_event(db: Db, event_id: int) -> EventRecord:
    """One outbox event by id, with its alert's Slack message (`NotFoundError` without it)."""
    row = first_row(db, _EVENT_SELECT + "WHERE e.id = ?", [event_id])
    if row is None:
        raise NotFoundError(f"no alert event {event_id}")
    return _event_record(row)


def pending_events(db: Db, limit: int | None = None) -> list[EventRecord]:
    """Undelivered events, in the order they were queued, whose alert message is in Slack.

    Events of an alert not delivered yet wait (they need its `ts`); failed
    ones come back here every time until `mark_event_delivered`.
    """
    sql = _EVENT_SELECT + "WHERE e.delivered_at IS NULL AND a.slack_ts IS NOT NULL ORDER BY e.id"
    rows = db.query(sql, []) if limit is None else db.query(sql + " LIMIT ?", [int(limit)])
    return [_event_record(r) for r in rows]


def outbox_pending(db: Db) -> int:
    """How many outbox rows have not reached Slack: alert messages never delivered (pending or
    failed) plus queued notes and updates. One number, because "Slack is behind" is one symptom
    whether a top-level post or a thread note is stuck; events waiting for their alert count too."""
    alerts = db.execute("SELECT COUNT(*) FROM alerts WHERE delivery != 'delivered'").fetchone()[0]
    events = db.execute("SELECT COUNT(*) FROM alert_events WHERE delivered_at IS NULL").fetchone()[0]
    return int(alerts) + int(events)


def mark_event_delivered(db: Db, event_id: int, *, ts: str | None = None, now: datetime | None = None) -> EventRecord:
    """The event reached Slack (`ts` of the note, if one was posted); the alert counts as notified now."""
    stamp = now_text(now)
    with write_tx(db):
        event = get_event(db, event_id)
        db.execute(
            "UPDATE alert_events SET delivered_at = ?, slack_ts = ?, attempts = attempts + 1, last_error = NULL "
            "WHERE id = ?",
            [stamp, ts, event_id],
        )
        db.execute("UPDATE alerts SET last_notified_at = ? WHERE id = ?", [stamp, event.alert_id])
        return get_event(db, event_id)


def mark_event_sending(db: Db, event_id: int, key: str, *, now: datetime | None = None) -> EventRecord:
    """Record, before the post, that the thread note is about to be posted with metadata `key`
    (first attempt's key and time kept, as `mark_sending`). `StateError` once delivered."""
    with write_tx(db):
        event = get_event(db, event_id)
        if event.delivered_at is not None:
            raise StateError(f"alert event {event_id} was already delivered")
        begin_send(db, "alert_events", event_id, key, now)
        return get_event(db, event_id)


def mark_event_failed(db: Db, event_id: int, error: BaseException | str) -> EventRecord:
    """Delivery failed; the event stays pending for the next try (error kept short and redacted)."""
    with write_tx(db):
        cursor = db.execute(
            "UPDATE alert_events SET attempts = attempts + 1, last_error = ? WHERE id = ? AND delivered_at IS NULL",
            [short_error(error), event_id],
        )
        if cursor.rowcount == 0:
            event = get_event(db, event_id)  # NotFoundError if missing
            raise StateError(f"alert event {event.id} was already delivered")
        return get_event(db, event_id)
