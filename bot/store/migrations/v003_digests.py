"""Migration 3: daily digests.

Shipped: never edit it; a change to the schema is a new migration after the last.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.store.migrations.ddl import run_ddl


def apply(db: Database) -> None:
    run_ddl(
        db,
        """
        CREATE TABLE IF NOT EXISTS digests (
            id INTEGER PRIMARY KEY,
            day TEXT NOT NULL UNIQUE,                    -- YYYY-MM-DD in the configured timezone
            sent_at TEXT NOT NULL,
            channel TEXT NOT NULL,
            ts TEXT,
            summary_json TEXT NOT NULL DEFAULT '{}'
        )
        """,
    )
