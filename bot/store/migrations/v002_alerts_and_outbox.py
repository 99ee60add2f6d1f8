"""Migration 2: alerts and their outbox.

Shipped: never edit it; a change to the schema is a new migration after the last.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.store.migrations.ddl import run_ddl


def apply(db: Database) -> None:
    run_ddl(
        db,
        """
        CREATE TABLE IF NOT EXISTS alerts (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,                          -- stuck | unreachable
            controller TEXT NOT NULL,
            site TEXT,
            channel TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
            opened_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            resolved_at TEXT,
            payload_json TEXT NOT NULL DEFAULT '{}',
            slack_ts TEXT,
            slack_channel TEXT,
            delivery TEXT NOT NULL DEFAULT 'pending' CHECK (delivery IN ('pending', 'delivered', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            last_notified_at TEXT
        );
        CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_open ON alerts (controller, kind) WHERE status = 'open';
        CREATE INDEX IF NOT EXISTS alerts_resolved ON alerts (controller, kind, resolved_at)
            WHERE status = 'resolved';
        CREATE INDEX IF NOT EXISTS alerts_undelivered ON alerts (opened_at) WHERE delivery != 'delivered';

        CREATE TABLE IF NOT EXISTS alert_events (
            id INTEGER PRIMARY KEY,
            alert_id INTEGER NOT NULL REFERENCES alerts (id),
            kind TEXT NOT NULL,                          -- thread_note | update_message | resolve_note
            payload_json TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            delivered_at TEXT,
            slack_ts TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        );
        CREATE INDEX IF NOT EXISTS alert_events_pending ON alert_events (id) WHERE delivered_at IS NULL;
        CREATE INDEX IF NOT EXISTS alert_events_alert ON alert_events (alert_id)
        """,
    )
