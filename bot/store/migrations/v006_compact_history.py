"""Migration 6: AP rows stored on change, daily summaries per controller.

Shipped: never edit it; a change to the schema is a new migration after the last.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.store.migrations.ddl import add_column, run_ddl

# The verdict statuses' severity (`VerdictStatus.severity`) as of migration 6, frozen here so the
# backfill below means the same thing whatever the domain later adds.
_M006_SEVERITY = (
    "CASE status WHEN 'ok' THEN 0 WHEN 'at-risk' THEN 1 WHEN 'error' THEN 2 WHEN 'unreachable' THEN 3 "
    "WHEN 'downloading' THEN 4 WHEN 'stuck' THEN 5 ELSE 2 END"
)


def apply(db: Database) -> None:
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
