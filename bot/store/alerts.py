"""Alerts: one incident per controller and kind, with the delivery state of its Slack message.

Why the delivery state lives on the row: the alert message is an outbox entry. The send key
is recorded before the post (`mark_sending`), so after a crash the bot finds the message it may
already have posted instead of posting it twice; failures stay pending and are retried.
Every status change checks the current status inside its write transaction, so a wrong
transition is refused (`StateError`) rather than written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.store.codec import dumps, from_db_time, from_db_time_or_none, loads, short_error
from bot.store.db import write_tx
from bot.store.records import AlertKind, AlertRecord, AlertStatus, Delivery, NotFoundError, StateError
from bot.store.rows import find_row, get_row, insert_row, now_text, rows_where
from bot.store.sql import Db


def _alert_record(row: Mapping[str, Any]) -> AlertRecord:
    return AlertRecord(
        id=row["id"],
        kind=AlertKind(row["kind"]),
        controller=row["controller"],
        site=row["site"],
        channel=row["channel"],
        status=AlertStatus(row["status"]),
        opened_at=from_db_time(row["opened_at"]),
        updated_at=from_db_time(row["updated_at"]),
        resolved_at=from_db_time_or_none(row["resolved_at"]),
        payload=loads(row["payload_json"], {}),
        slack_ts=row["slack_ts"],
        slack_channel=row["slack_channel"],
        delivery=Delivery(row["delivery"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        last_notified_at=from_db_time_or_none(row["last_notified_at"]),
        send_key=row["send_key"],
        sending_since=from_db_time_or_none(row["sending_since"]),
    )


def get_alert(db: Db, alert_id: int) -> AlertRecord:
    """One alert by id (`NotFoundError` without it)."""
    return _alert_record(get_row(db, "alerts", alert_id, f"no alert {alert_id}"))


def get_open_alert(db: Db, controller: str, kind: AlertKind | str) -> AlertRecord | None:
    """The open alert of `kind` for the controller, if any (the schema allows one at most)."""
    row = find_row(db, "alerts", "controller = ? AND kind = ? AND status = 'open'", [controller, AlertKind(kind).value])
    return None if row is None else _alert_record(row)


def open_alerts(db: Db, kind: AlertKind | str | None = None) -> list[AlertRecord]:
    """Every open alert (of `kind`), oldest first: what the next check may resolve."""
    if kind is None:
        rows = rows_where(db, "alerts", "status = 'open'", order_by="opened_at, id")
    else:
        rows = rows_where(
            db, "alerts", "status = 'open' AND kind = ?", [AlertKind(kind).value], order_by="opened_at, id"
        )
    return [_alert_record(r) for r in rows]


def open_alert(
    db: Db,
    kind: AlertKind | str,
    controller: str,
    *,
    channel: str,
    payload: Mapping[str, Any],
    site: str | None = None,
    now: datetime | None = None,
) -> AlertRecord:
    """Open an incident for a controller; delivery starts `pending`.

    Raises `StateError` if one of that kind is already open for the controller
    (use `get_open_alert` and `update_alert_payload`).
    """
    stamp = now_text(now)
    with write_tx(db):
        existing = get_open_alert(db, controller, kind)
        if existing is not None:
            raise StateError(f"alert {existing.id} ({existing.kind}) is already open for {controller}")
        alert_id = insert_row(
            db,
            "alerts",
            {
                "kind": AlertKind(kind).value,
                "controller": controller,
                "site": site,
                "channel": channel,
                "status": AlertStatus.OPEN.value,
                "opened_at": stamp,
                "updated_at": stamp,
                "payload_json": dumps(dict(payload)),
                "delivery": Delivery.PENDING.value,
            },
        )
        return get_alert(db, alert_id)


def _change_alert(db: Db, alert_id: int, sql_set: str, params: Sequence[Any]) -> AlertRecord:
    with write_tx(db):
        cursor = db.execute(f"UPDATE alerts SET {sql_set} WHERE id = ?", [*params, alert_id])
        if cursor.rowcount == 0:
            raise NotFoundError(f"no alert {alert_id}")
        return get_alert(db, alert_id)


def update_alert_payload(
    db: Db, alert_id: int, payload: Mapping[str, Any], *, now: datetime | None = None
) -> AlertRecord:
    """Replace the alert's current payload (what its message should say now)."""
    return _change_alert(db, alert_id, "payload_json = ?, updated_at = ?", [dumps(dict(payload)), now_text(now)])


def mark_delivered(db: Db, alert_id: int, ts: str, channel: str, *, now: datetime | None = None) -> AlertRecord:
    """The alert message is in Slack at (`channel`, `ts`)."""
    stamp = now_text(now)
    return _change_alert(
        db,
        alert_id,
        "delivery = 'delivered', slack_ts = ?, slack_channel = ?, attempts = attempts + 1, last_error = NULL, "
        "last_notified_at = ?, updated_at = ?",
        [ts, channel, stamp, stamp],
    )


def mark_sending(db: Db, alert_id: int, key: str, *, now: datetime | None = None) -> AlertRecord:
    """Record, before the post, that the alert message is about to be posted with metadata `key`.

    The first attempt's key and time stay (later attempts reuse them), so whatever attempt
    reached Slack is found by the same key, searching from the first attempt on. Raises
    `StateError` when the message is already delivered: posting again would duplicate it.
    """
    with write_tx(db):
        alert = get_alert(db, alert_id)
        if alert.slack_ts is not None:
            raise StateError(f"alert {alert_id} is already in Slack at {alert.slack_ts}")
        begin_send(db, "alerts", alert_id, key, now)
        return get_alert(db, alert_id)


# The two outbox tables whose rows carry a send key (`begin_send` names its table in SQL).
_SEND_TABLES = frozenset({"alerts", "alert_events"})


def begin_send(db: Db, table: str, row_id: int, key: str, now: datetime | None) -> None:
    """Set the send key and start of the first attempt; later attempts keep both.

    Shared by alert messages and their thread notes (`outbox.mark_event_sending`): both are
    outbox rows found again by their key after an attempt that may have reached Slack.
    """
    if table not in _SEND_TABLES:
        raise ValueError(f"not an outbox table: {table!r}")
    db.execute(
        f"UPDATE {table} SET send_key = coalesce(send_key, ?), sending_since = coalesce(sending_since, ?) WHERE id = ?",
        [key, now_text(now), row_id],
    )


def mark_delivery_failed(
    db: Db, alert_id: int, error: BaseException | str, *, now: datetime | None = None
) -> AlertRecord:
    """Posting failed; it stays in `alerts_pending_delivery` to retry. The error is kept short and redacted."""
    return _change_alert(
        db,
        alert_id,
        "delivery = 'failed', attempts = attempts + 1, last_error = ?, updated_at = ?",
        [short_error(error), now_text(now)],
    )


def mark_notified(db: Db, alert_id: int, *, now: datetime | None = None) -> AlertRecord:
    """Record that people were told about the alert now (for dedupe windows)."""
    stamp = now_text(now)
    return _change_alert(db, alert_id, "last_notified_at = ?, updated_at = ?", [stamp, stamp])


def resolve_alert(
    db: Db, alert_id: int, *, payload: Mapping[str, Any] | None = None, now: datetime | None = None
) -> AlertRecord:
    """Close the incident (optionally with a final payload). Raises `StateError` if not open."""
    stamp = now_text(now)
    with write_tx(db):
        alert = get_alert(db, alert_id)
        if not alert.is_open:
            raise StateError(f"alert {alert_id} is already resolved")
        sets, params = "status = 'resolved', resolved_at = ?, updated_at = ?", [stamp, stamp]
        if payload is not None:
            sets, params = sets + ", payload_json = ?", [*params, dumps(dict(payload))]
        return _change_alert(db, alert_id, sets, params)


def reopen_alert(db: Db, alert_id: int, *, payload: Mapping[str, Any], now: datetime | None = None) -> AlertRecord:
    """Reopen a recently resolved incident (a flapping controller): same message, same thread."""
    stamp = now_text(now)
    with write_tx(db):
        alert = get_alert(db, alert_id)
        if alert.is_open:
            raise StateError(f"alert {alert_id} is already open")
        sets = "status = 'open', resolved_at = NULL, updated_at = ?, payload_json = ?"
        return _change_alert(db, alert_id, sets, [stamp, dumps(dict(payload))])


def last_resolved_alert(db: Db, controller: str, kind: AlertKind | str) -> AlertRecord | None:
    """The most recently resolved alert of this kind for the controller (flapping dedupe)."""
    row = find_row(
        db,
        "alerts",
        "controller = ? AND kind = ? AND status = 'resolved'",
        [controller, AlertKind(kind).value],
        order_by="resolved_at DESC, id DESC",
    )
    return None if row is None else _alert_record(row)


def alerts_pending_delivery(db: Db) -> list[AlertRecord]:
    """Alerts whose message never reached Slack (pending or failed), oldest first.

    Resolved ones are included (their `status` says so): an incident that
    opened and closed while Slack was unreachable is still reported.
    """
    rows = rows_where(db, "alerts", "delivery != 'delivered'", order_by="opened_at, id")
    return [_alert_record(r) for r in rows]
