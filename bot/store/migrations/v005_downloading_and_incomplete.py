"""Migration 5: downloading count and incomplete reads on snapshots.

Shipped: never edit it; a change to the schema is a new migration after the last.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.store.migrations.ddl import add_column


def apply(db: Database) -> None:
    """One vocabulary: `stuck_count` counts APs past the threshold (or confirmed), so the
    affected APs merely seen Downloading get a count of their own; a snapshot keeps why
    its AP list was incomplete (`read 37 of 4,135 APs`) and the warnings that come before
    APs get stuck (failover to other software, predownload), for the digest."""
    add_column(db, "snapshots", "downloading_count", "INTEGER NOT NULL DEFAULT 0")
    add_column(db, "snapshots", "incomplete_json", "TEXT NOT NULL DEFAULT '[]'")
    add_column(db, "snapshots", "risks_json", "TEXT NOT NULL DEFAULT '[]'")  # failover / predownload
