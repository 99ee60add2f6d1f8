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

Why these numbered migrations and not `sqlite_utils.migrations.Migrations` (sqlite-utils 4),
decided when the store moved to sqlite-utils 4 (issue 14):

* **A file from a newer bot must be refused.** Every released bot reads `schema_migrations`
  and refuses a version it does not know (`db.migrate`). `Migrations` records names in
  `_sqlite_migrations` and ignores applied names it does not know (`pending()` lists only
  its own), so a bot built on it would use a newer file half-understood; and to keep the
  released bots' refusal working we would have to write every migration to
  `schema_migrations` too: two records of one fact, kept in step forever.
* **Order is checked, not trusted.** Versions must be 1, 2, 3, ... (`_check_sequence`);
  `Migrations` runs in registration order and checks nothing about it.
* **All pending migrations are one `BEGIN IMMEDIATE` transaction.** `Migrations.apply`
  commits each migration on its own, with a deferred `BEGIN` (`db.atomic()`), which can fail
  on a lock upgrade instead of queuing on the busy timeout when the bot and a `ccert-bot`
  command open the file together. (Wrapping it in `write_tx` would fix that, through
  savepoints, but then it adds nothing to the loop in `db.migrate`.)
* **Files in the field** already hold versions 1 to 7 in `schema_migrations`; moving would
  need a one-off bridge copying them to `_sqlite_migrations`, itself a migration that must
  never run twice, for no behaviour gained.
* The SQL triggers (the audit is append-only; the recorded configuration is fixed and kept
  until verified) fit either system, since a migration is SQL run on the `Database`. What
  does not fit is sqlite-utils' `table.transform()`: it rebuilds a table and the table's
  triggers go with the old one, so a migration here alters tables with `add_column` /
  `ALTER TABLE` and never with `transform()`.

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
            aps_read INTEGER NOT NULL,                   -- the AP list is the whole list (see checks)
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


def _m004_remediation(db: Database) -> None:
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


def _m005_downloading_and_incomplete(db: Database) -> None:
    """One vocabulary: `stuck_count` counts APs past the threshold (or confirmed), so the
    affected APs merely seen Downloading get a count of their own; a snapshot keeps why
    its AP list was incomplete (`read 37 of 4,135 APs`) and the warnings that come before
    APs get stuck (failover to other software, predownload), for the digest."""
    add_column(db, "snapshots", "downloading_count", "INTEGER NOT NULL DEFAULT 0")
    add_column(db, "snapshots", "incomplete_json", "TEXT NOT NULL DEFAULT '[]'")
    add_column(db, "snapshots", "risks_json", "TEXT NOT NULL DEFAULT '[]'")  # failover / predownload


# The verdict statuses' severity (`VerdictStatus.severity`) as of migration 6, frozen here so the
# backfill below means the same thing whatever the domain later adds.
_M006_SEVERITY = (
    "CASE status WHEN 'ok' THEN 0 WHEN 'at-risk' THEN 1 WHEN 'error' THEN 2 WHEN 'unreachable' THEN 3 "
    "WHEN 'downloading' THEN 4 WHEN 'stuck' THEN 5 ELSE 2 END"
)


def _m006_compact_history(db: Database) -> None:
    """Cost grows with the fleet, not with time.

    * `snapshots.aps_hash`: a digest of the snapshot's AP rows as listed (NULL: no AP rows,
      or recorded before this version), so a check compares its AP list with the
      controller's previous one without reading rows;
    * `snapshots.aps_snapshot_id`: the snapshot whose `snapshot_aps` rows this snapshot's
      APs are (NULL: its own). An unchanged AP list stores no new rows;
    * `controller_days`: one compact summary per controller per UTC day, written with
      every check and kept long after the day's snapshots are pruned, so history outlives
      the retention. Backfilled here from the snapshots already in the file, so no day
      that is pruned later lacks its summary.
    """
    add_column(db, "snapshots", "aps_hash", "TEXT")
    add_column(db, "snapshots", "aps_snapshot_id", "INTEGER REFERENCES snapshots (id)")
    run_ddl(
        db,
        """
        CREATE INDEX IF NOT EXISTS snapshots_aps_hashed ON snapshots (controller, taken_at, id)
            WHERE aps_hash IS NOT NULL;
        CREATE INDEX IF NOT EXISTS snapshots_aps_shared ON snapshots (aps_snapshot_id)
            WHERE aps_snapshot_id IS NOT NULL;

        CREATE TABLE IF NOT EXISTS controller_days (
            controller TEXT NOT NULL,
            day TEXT NOT NULL,                           -- YYYY-MM-DD of taken_at, UTC
            site TEXT,                                   -- of the day's last check
            checks INTEGER NOT NULL,                     -- snapshots of the controller that day
            reads INTEGER NOT NULL,                      -- of them, checks that read the AP list
            unreachable_checks INTEGER NOT NULL,
            incomplete_checks INTEGER NOT NULL,          -- checks whose AP list was incomplete
            first_at TEXT NOT NULL,
            last_at TEXT NOT NULL,
            status TEXT NOT NULL,                        -- the worst verdict of the day
            last_status TEXT NOT NULL,                   -- the verdict of the day's last check
            stuck_aps INTEGER NOT NULL,                  -- the most stuck at one check
            downloading_aps INTEGER NOT NULL,            -- the most downloading at one check
            read_at TEXT,                                -- the day's last check that read the AP list
            total_aps INTEGER,                           -- ... and its counts (NULL: no read that day)
            affected_aps INTEGER,
            at_risk_aps INTEGER,
            aps_incomplete_json TEXT NOT NULL DEFAULT '[]',  -- why that list was not whole
            pruned INTEGER NOT NULL DEFAULT 0,           -- checks of the day whose snapshots were pruned
            PRIMARY KEY (controller, day)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS controller_days_site ON controller_days (site, day)
        """,
    )
    db.execute(
        f"""
        WITH s AS (
            SELECT id, controller, substr(taken_at, 1, 10) AS day, taken_at, site, status, aps_read,
                   total_aps, affected_count + likely_affected_count AS affected, at_risk_count,
                   stuck_count, downloading_count, incomplete_json, {_M006_SEVERITY} AS severity
            FROM snapshots
        ),
        ranked AS (
            SELECT *,
                   row_number() OVER (PARTITION BY controller, day ORDER BY taken_at DESC, id DESC) AS newest,
                   row_number() OVER (PARTITION BY controller, day ORDER BY severity DESC, taken_at DESC, id DESC)
                       AS worst,
                   row_number() OVER (PARTITION BY controller, day, aps_read ORDER BY taken_at DESC, id DESC)
                       AS newest_of_kind
            FROM s
        ),
        agg AS (
            SELECT controller, day, count(*) AS checks, sum(aps_read != 0) AS reads,
                   sum(status = 'unreachable') AS unreachable_checks,
                   sum(incomplete_json NOT IN ('[]', '')) AS incomplete_checks,
                   min(taken_at) AS first_at, max(taken_at) AS last_at,
                   max(stuck_count) AS stuck_aps, max(downloading_count) AS downloading_aps
            FROM s GROUP BY controller, day
        )
        INSERT OR IGNORE INTO controller_days (
            controller, day, site, checks, reads, unreachable_checks, incomplete_checks, first_at, last_at,
            status, last_status, stuck_aps, downloading_aps, read_at, total_aps, affected_aps, at_risk_aps,
            aps_incomplete_json
        )
        SELECT a.controller, a.day, n.site, a.checks, a.reads, a.unreachable_checks, a.incomplete_checks,
               a.first_at, a.last_at, w.status, n.status, a.stuck_aps, a.downloading_aps,
               r.taken_at, r.total_aps, r.affected, r.at_risk_count, coalesce(r.incomplete_json, '[]')
        FROM agg a
        JOIN ranked n ON n.controller = a.controller AND n.day = a.day AND n.newest = 1
        JOIN ranked w ON w.controller = a.controller AND w.day = a.day AND w.worst = 1
        LEFT JOIN ranked r ON r.controller = a.controller AND r.day = a.day AND r.aps_read != 0
            AND r.newest_of_kind = 1
        """
    )


def _m007_outbox_send_keys(db: Database) -> None:
    """A key and a start time written before each post, so a post cut short (SIGKILL, a
    timeout after Slack took it) is found again by its metadata instead of posted twice.

    Columns, not a `sending` value of `alerts.delivery`: that CHECK constraint could only
    change by rebuilding `alerts`, which `alert_events` references; "sending" is a row with
    `sending_since` set and no `slack_ts` (alerts) or `delivered_at` (events)."""
    for table in ("alerts", "alert_events"):
        add_column(db, table, "send_key", "TEXT")
        add_column(db, table, "sending_since", "TEXT")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "check runs, snapshots, AP rows, AP state", _m001_checks_and_snapshots),
    Migration(2, "alerts and their outbox", _m002_alerts_and_outbox),
    Migration(3, "daily digests", _m003_digests),
    Migration(4, "remediation requests, votes, runs, recorded configuration, audit", _m004_remediation),
    Migration(5, "downloading count and incomplete reads on snapshots", _m005_downloading_and_incomplete),
    Migration(6, "AP rows stored on change, daily summaries per controller", _m006_compact_history),
    Migration(7, "outbox send keys: posts cut short are found, not repeated", _m007_outbox_send_keys),
)
