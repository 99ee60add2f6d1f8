"""Migration 7: outbox send keys: posts cut short are found, not repeated.

Shipped: never edit it; a change to the schema is a new migration after the last.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.store.migrations.ddl import add_column


def apply(db: Database) -> None:
    """A key and a start time written before each post, so a post cut short (SIGKILL, a
    timeout after Slack took it) is found again by its metadata instead of posted twice.

    Columns, not a `sending` value of `alerts.delivery`: that CHECK constraint could only
    change by rebuilding `alerts`, which `alert_events` references; "sending" is a row with
    `sending_since` set and no `slack_ts` (alerts) or `delivered_at` (events)."""
    for table in ("alerts", "alert_events"):
        add_column(db, table, "send_key", "TEXT")
        add_column(db, table, "sending_since", "TEXT")
