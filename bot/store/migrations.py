"""The schema, as an ordered list of numbered migrations.

Adding to the schema (remediation requests, votes, runs, audit, ...):

1. write a function `_mNNN_what(db)` below that creates or alters what it
   needs with `IF NOT EXISTS` / `add_column(...)` so running it twice is
   harmless (idempotent);
2. append `Migration(NNN, "what", _mNNN_what)` to `MIGRATIONS` with the next
   version number. Never edit or renumber a migration that has shipped:
   databases in the field already recorded it in `schema_migrations`.

`bot.store.db.migrate` runs the missing ones in order, each recorded in
`schema_migrations(version, name, applied_at)`, all inside one
`BEGIN IMMEDIATE` transaction: a failed migration leaves the file as it was.

Column enums the code may extend later (alert kinds, event kinds, check
triggers) are validated in Python, not by SQL CHECK constraints, so adding a
kind never needs a table rebuild. Closed sets (alert status, delivery state)
are checked by SQL too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlite_utils import Database


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Database], None]


def run_ddl(db: Database, script: str) -> None:
    """Run `;`-separated DDL statements one by one, inside the caller's transaction.

    (`executescript` would COMMIT first and break the one-transaction rule.)
    """
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def add_column(db: Database, table: str, column: str, declaration: str) -> None:
    """`ALTER TABLE ... ADD COLUMN` unless the column is already there (for later migrations)."""
    if column not in db[table].columns_dict:
        db.execute(f"ALTER TABLE [{table}] ADD COLUMN [{column}] {declaration}")


def _m001_checks_and_snapshots(db: Database) -> None:
    run_ddl(
        db,
        """
        CREATE TABLE IF NOT EXISTS check_runs (
            id INTEGER PRIMARY KEY,
            trigger TEXT NOT NULL,                       -- startup | scheduled | manual
            started_at TEXT NOT NULL,
            finished_at TEXT,                            -- NULL while running (or if the bot died)
            controllers_total INTEGER NOT NULL DEFAULT 0,
            controllers_read INTEGER NOT NULL DEFAULT 0,   -- anything read (status != unreachable)
            controllers_failed INTEGER NOT NULL DEFAULT 0, -- nothing read (status unreachable)
            controllers_partial INTEGER NOT NULL DEFAULT 0,-- read, but with errors (subset of read)
            overran INTEGER NOT NULL DEFAULT 0,
            note TEXT
        );
        CREATE INDEX IF NOT EXISTS check_runs_started ON check_runs (started_at);

        CREATE TABLE IF NOT EXISTS snapshots (
            id INTEGER PRIMARY KEY,
            check_run_id INTEGER NOT NULL REFERENCES check_runs (id),
            controller TEXT NOT NULL,
            site TEXT,
            platform TEXT NOT NULL,
            host TEXT NOT NULL,
            taken_at TEXT NOT NULL,
            software_version TEXT,
            apsps_json TEXT NOT NULL DEFAULT '[]',
            clock_time TEXT,
            clock_source TEXT,
            clock_authoritative INTEGER,
            clock_synced INTEGER,
            clock_timezone TEXT,
            clock_raw TEXT,
            ntp_servers_json TEXT NOT NULL DEFAULT '[]',
            cert_not_before TEXT,
            cert_not_after TEXT,
            cert_name TEXT,
            cert_subject TEXT,
            errors_json TEXT NOT NULL DEFAULT '[]',
            aps_read INTEGER NOT NULL,                   -- the AP list is the whole list (see queries)
            status TEXT NOT NULL,                        -- VerdictStatus
            total_aps INTEGER NOT NULL DEFAULT 0,
            affected_count INTEGER NOT NULL DEFAULT 0,
            likely_affected_count INTEGER NOT NULL DEFAULT 0,
            not_affected_count INTEGER NOT NULL DEFAULT 0,
            unknown_model_count INTEGER NOT NULL DEFAULT 0,
            at_risk_count INTEGER NOT NULL DEFAULT 0,
            stuck_count INTEGER NOT NULL DEFAULT 0,
            stuck_aps_json TEXT NOT NULL DEFAULT '[]',   -- [{name, model, since}]
            fix_state TEXT,                              -- FixState or NULL
            recommendation TEXT,
            critical_json TEXT NOT NULL DEFAULT '[]'     -- critical findings [{code, text}]
        );
        CREATE INDEX IF NOT EXISTS snapshots_controller_taken ON snapshots (controller, taken_at, id);
        CREATE INDEX IF NOT EXISTS snapshots_site_run ON snapshots (site, check_run_id);
        CREATE INDEX IF NOT EXISTS snapshots_run ON snapshots (check_run_id);
        CREATE INDEX IF NOT EXISTS snapshots_taken ON snapshots (taken_at);

        CREATE TABLE IF NOT EXISTS snapshot_aps (
            snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),
            controller TEXT NOT NULL,
            name TEXT NOT NULL,
            model TEXT,
            mac TEXT,
            ip TEXT,
            image_version TEXT,
            state TEXT,
            retry_count INTEGER,
            location TEXT
        );
        CREATE INDEX IF NOT EXISTS snapshot_aps_snapshot ON snapshot_aps (snapshot_id);

        CREATE TABLE IF NOT EXISTS ap_state (
            controller TEXT NOT NULL,
            ap_name TEXT NOT NULL,
            state TEXT,
            state_since TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            PRIMARY KEY (controller, ap_name)
        ) WITHOUT ROWID
        """,
    )


def _m002_alerts_and_outbox(db: Database) -> None:
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


def _m003_digests(db: Database) -> None:
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


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "check runs, snapshots, AP rows, AP state", _m001_checks_and_snapshots),
    Migration(2, "alerts and their outbox", _m002_alerts_and_outbox),
    Migration(3, "daily digests", _m003_digests),
)
