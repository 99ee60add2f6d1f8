"""Migration 1: check runs, snapshots, AP rows, AP state.

Shipped: never edit it; a change to the schema is a new migration after the last.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.store.migrations.ddl import run_ddl


def apply(db: Database) -> None:
    # The schema text is kept as shipped, comments included (SQLite stores it in the file):
    # "see queries" names the module that held `record_check` then, now `bot.store.checks`.
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
