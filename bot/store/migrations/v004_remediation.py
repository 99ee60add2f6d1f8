"""Migration 4: remediation requests, votes, runs, recorded configuration, audit.

Shipped: never edit it; a change to the schema is a new migration after the last.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.store.migrations.ddl import run_ddl


def apply(db: Database) -> None:
    """Remediation requests, votes, runs and their steps, recorded configuration, audit.

    Safety rules the schema enforces by itself, whatever code writes to it:
    one active request per controller and one active run per controller
    (partial unique indexes); a counted approval once per person; the audit
    refuses UPDATE and DELETE; a recorded configuration cannot be changed,
    and cannot be deleted until a run verified it on the device.
    """
    run_ddl(
        db,
        """
        CREATE TABLE IF NOT EXISTS remediation_requests (
            id INTEGER PRIMARY KEY,
            site TEXT NOT NULL,
            requester TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'running',
                                                   'succeeded', 'failed', 'needs_attention')),
            required_approvals INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            decided_at TEXT,
            finished_at TEXT,
            rejected_by TEXT,
            channel TEXT,
            message_ts TEXT,
            view_json TEXT NOT NULL DEFAULT '{}',          -- what the approvers were shown
            note TEXT
        );
        CREATE INDEX IF NOT EXISTS remediation_requests_status ON remediation_requests (status, expires_at);

        CREATE TABLE IF NOT EXISTS remediation_targets (
            request_id INTEGER NOT NULL REFERENCES remediation_requests (id),
            controller TEXT NOT NULL,
            platform TEXT NOT NULL,
            playbook TEXT NOT NULL,
            params_json TEXT NOT NULL DEFAULT '{}',
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            PRIMARY KEY (request_id, controller)
        );
        CREATE UNIQUE INDEX IF NOT EXISTS remediation_targets_one_active ON remediation_targets (controller)
            WHERE active = 1;

        CREATE TABLE IF NOT EXISTS remediation_votes (
            id INTEGER PRIMARY KEY,
            request_id INTEGER NOT NULL REFERENCES remediation_requests (id),
            user_id TEXT NOT NULL,
            vote TEXT NOT NULL CHECK (vote IN ('approve', 'reject')),
            at TEXT NOT NULL,
            counted INTEGER NOT NULL CHECK (counted IN (0, 1)),
            reason TEXT
        );
        CREATE UNIQUE INDEX IF NOT EXISTS remediation_votes_once ON remediation_votes (request_id, user_id)
            WHERE vote = 'approve' AND counted = 1;

        CREATE TABLE IF NOT EXISTS remediation_runs (
            id INTEGER PRIMARY KEY,
            request_id INTEGER REFERENCES remediation_requests (id),
            controller TEXT NOT NULL,
            site TEXT,
            platform TEXT NOT NULL,
            host TEXT NOT NULL,
            port INTEGER NOT NULL,
            credentials_json TEXT NOT NULL,               -- names of environment variables, never secrets
            playbook TEXT NOT NULL,
            plan_json TEXT NOT NULL,                      -- the steps as approved, for recovery
            params_json TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'undoing', 'succeeded', 'failed',
                                                   'needs_attention')),
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            heartbeat_at TEXT,
            outcome TEXT,
            warnings_json TEXT NOT NULL DEFAULT '[]'
        );
        CREATE UNIQUE INDEX IF NOT EXISTS remediation_runs_one_active ON remediation_runs (controller)
            WHERE status IN ('pending', 'running', 'undoing');
        CREATE INDEX IF NOT EXISTS remediation_runs_request ON remediation_runs (request_id);

        CREATE TABLE IF NOT EXISTS remediation_run_steps (
            run_id INTEGER NOT NULL REFERENCES remediation_runs (id),
            idx INTEGER NOT NULL,
            step_id TEXT NOT NULL,
            action TEXT NOT NULL,
            title TEXT NOT NULL,
            changes INTEGER NOT NULL,
            undo_action TEXT,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed',
                                                                   'undoing', 'undone', 'undo_failed')),
            started_at TEXT,
            finished_at TEXT,
            duration_seconds REAL,
            attempts INTEGER NOT NULL DEFAULT 0,
            result_json TEXT NOT NULL DEFAULT '{}',
            error TEXT,
            PRIMARY KEY (run_id, idx)
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS remediation_recorded_config (
            run_id INTEGER PRIMARY KEY REFERENCES remediation_runs (id),
            controller TEXT NOT NULL,
            platform TEXT NOT NULL,
            captured_at TEXT NOT NULL,
            config_json TEXT NOT NULL,
            verified_at TEXT,
            verified_note TEXT
        );

        CREATE TABLE IF NOT EXISTS remediation_audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            request_id INTEGER,
            run_id INTEGER,
            controller TEXT,
            kind TEXT NOT NULL,
            actor TEXT,
            step TEXT,
            text TEXT NOT NULL,
            data_json TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX IF NOT EXISTS remediation_audit_request ON remediation_audit (request_id, id);
        CREATE INDEX IF NOT EXISTS remediation_audit_run ON remediation_audit (run_id, id)
        """,
    )
    # Triggers hold `;` inside BEGIN ... END, so they are not split by run_ddl.
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS remediation_audit_no_update BEFORE UPDATE ON remediation_audit "
        "BEGIN SELECT RAISE(ABORT, 'the remediation audit is append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS remediation_audit_no_delete BEFORE DELETE ON remediation_audit "
        "BEGIN SELECT RAISE(ABORT, 'the remediation audit is append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS remediation_recorded_config_fixed BEFORE UPDATE OF run_id, controller, "
        "platform, captured_at, config_json ON remediation_recorded_config "
        "BEGIN SELECT RAISE(ABORT, 'a recorded configuration cannot be changed'); END"
    )
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS remediation_recorded_config_kept BEFORE DELETE ON remediation_recorded_config "
        "WHEN OLD.verified_at IS NULL "
        "BEGIN SELECT RAISE(ABORT, 'a recorded configuration is kept until a run verified it on the device'); END"
    )
