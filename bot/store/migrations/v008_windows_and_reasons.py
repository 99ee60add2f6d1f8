"""Migration 8: change windows, cancelled requests, reasons and comments on votes.

Shipped: never edit it; a change to the schema is a new migration after the last.

The request status is a closed set checked by SQL, so the two new statuses (`scheduled`:
approved and waiting for its window; `cancelled`: ended before it started) need the
table rebuilt: SQLite cannot alter a CHECK constraint. The rebuild is SQLite's own
procedure (create the new table, copy, drop the old, rename), run by `db.migrate` with
foreign keys off and checked (`PRAGMA foreign_key_check`) before the commit; the table
has no triggers of its own to carry over, and its one index is made again.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.store.migrations.ddl import add_column, run_ddl

REQUEST_STATUSES = (
    "'pending', 'approved', 'scheduled', 'rejected', 'expired', 'cancelled', 'running', 'succeeded', "
    "'failed', 'needs_attention'"
)


def apply(db: Database) -> None:
    """Requests gain `scheduled_for` (the window start, UTC) and `cancelled_by`; votes a `comment`."""
    if "scheduled_for" not in db["remediation_requests"].columns_dict:
        run_ddl(
            db,
            f"""
            CREATE TABLE remediation_requests_v8 (
                id INTEGER PRIMARY KEY,
                site TEXT NOT NULL,
                requester TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ({REQUEST_STATUSES})),
                required_approvals INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                decided_at TEXT,
                finished_at TEXT,
                rejected_by TEXT,
                channel TEXT,
                message_ts TEXT,
                view_json TEXT NOT NULL DEFAULT '{{}}',
                note TEXT,
                scheduled_for TEXT,                            -- the change window's start (UTC), or NULL
                cancelled_by TEXT
            );
            INSERT INTO remediation_requests_v8 (id, site, requester, status, required_approvals, created_at,
                expires_at, decided_at, finished_at, rejected_by, channel, message_ts, view_json, note)
                SELECT id, site, requester, status, required_approvals, created_at, expires_at, decided_at,
                       finished_at, rejected_by, channel, message_ts, view_json, note FROM remediation_requests;
            DROP TABLE remediation_requests;
            ALTER TABLE remediation_requests_v8 RENAME TO remediation_requests;
            CREATE INDEX IF NOT EXISTS remediation_requests_status ON remediation_requests (status, expires_at);
            CREATE INDEX IF NOT EXISTS remediation_requests_scheduled ON remediation_requests (status, scheduled_for)
            """,
        )
    add_column(db, "remediation_votes", "comment", "TEXT")
