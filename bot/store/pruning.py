"""Housekeeping: delete history past the retention, keep its daily summaries, give the space back.

Why it is careful: the digest compares with "the latest snapshot at or before a day ago", AP
rows may be shared between snapshots, and a pruned day must still answer history from its
summary; `prune` keeps all three true. The file is in auto-vacuum mode, so `reclaim_space`
hands the freed pages back (incremental vacuum) and the file shrinks instead of only ceasing
to grow.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, date, datetime, timedelta

from bot.store.codec import to_db_time
from bot.store.days import DAILY_SUMMARY_DAYS, fold_into_days
from bot.store.db import write_tx
from bot.store.pg import PgDatabase
from bot.store.records import PruneResult, StateError
from bot.store.sql import Db, in_transaction

log = logging.getLogger(__name__)


def prune(db: Db, older_than: datetime) -> PruneResult:
    """Delete history older than `older_than`, keep its daily summaries, give the space back.

    Removes snapshots taken before it, except each controller's latest snapshot at or
    before it (so "the latest snapshot at or before t" stays exact for every t from
    `older_than` on, which is what the digest's day-ago comparison asks, and each
    controller's latest snapshot is never removed); their AP rows, except rows a kept
    snapshot still shares, which move to the earliest kept snapshot sharing them; check
    runs started before it that have no snapshot left (running ones are kept); delivered
    events delivered before it; resolved, delivered alerts resolved before it with no
    event left; daily summaries of days `DAILY_SUMMARY_DAYS` before it. Never an open
    alert, an undelivered alert or an undelivered event. Every pruned snapshot's day keeps
    its summary (counted in its `pruned`). The AP state tracking is current state, not
    history, and is kept.

    Outside a caller's transaction, the freed pages are then handed back to the file
    system (`reclaim_space`), so the file shrinks instead of only ceasing to grow.
    """
    cutoff = to_db_time(older_than, "older_than")
    days_cutoff = (older_than.astimezone(UTC) - timedelta(days=DAILY_SUMMARY_DAYS)).date().isoformat()
    with write_tx(db):
        _select_prunable(db, cutoff)
        _summarise_unsummarised(db)
        db.execute(
            "UPDATE controller_days SET pruned = pruned + p.n FROM ("
            "SELECT s.controller, substr(s.taken_at, 1, 10) AS day, count(*) AS n "
            "FROM prune_snapshots x JOIN snapshots s ON s.id = x.id GROUP BY 1, 2) AS p "
            "WHERE controller_days.controller = p.controller AND controller_days.day = p.day"
        )
        _hand_over_shared_aps(db)
        ap_rows = db.execute("DELETE FROM snapshot_aps WHERE snapshot_id IN (SELECT id FROM prune_snapshots)").rowcount
        snapshots = db.execute("DELETE FROM snapshots WHERE id IN (SELECT id FROM prune_snapshots)").rowcount
        db.execute("DROP TABLE prune_snapshots")
        runs = db.execute(
            "DELETE FROM check_runs WHERE started_at < ? AND finished_at IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.check_run_id = check_runs.id)",
            [cutoff],
        ).rowcount
        events = db.execute(
            "DELETE FROM alert_events WHERE delivered_at IS NOT NULL AND delivered_at < ?", [cutoff]
        ).rowcount
        alerts = db.execute(
            "DELETE FROM alerts WHERE status = 'resolved' AND resolved_at < ? AND delivery = 'delivered' "
            "AND NOT EXISTS (SELECT 1 FROM alert_events e WHERE e.alert_id = alerts.id)",
            [cutoff],
        ).rowcount
        days = db.execute("DELETE FROM controller_days WHERE day < ?", [days_cutoff]).rowcount
    pages = 0 if in_transaction(db) else reclaim_space(db)
    return PruneResult(
        ap_rows=ap_rows,
        snapshots=snapshots,
        check_runs=runs,
        events=events,
        alerts=alerts,
        daily_summaries=days,
        pages_freed=pages,
    )


def _select_prunable(db: Db, cutoff: str) -> None:
    """Fill the temp table `prune_snapshots` with the snapshots `prune` deletes.

    Everything before the cutoff except each controller's latest at or before it: one
    probe of (controller, taken_at, id) per candidate.
    """
    db.execute("CREATE TEMP TABLE IF NOT EXISTS prune_snapshots (id INTEGER PRIMARY KEY)")
    db.execute("DELETE FROM prune_snapshots")
    db.execute(
        "INSERT INTO prune_snapshots (id) SELECT s.id FROM snapshots s WHERE s.taken_at < :cutoff "
        "AND s.id != (SELECT x.id FROM snapshots x WHERE x.controller = s.controller AND x.taken_at <= :cutoff "
        "ORDER BY x.taken_at DESC, x.id DESC LIMIT 1)",
        {"cutoff": cutoff},
    )


def _summarise_unsummarised(db: Db) -> None:
    """The guarantee that a pruned day keeps its summary, whatever wrote the snapshot.

    `record_check` and migration 6 summarise every snapshot's day; a day with no summary
    (rows written some other way: by hand, an old tool) is summarised here from all its
    snapshots before any of them goes.
    """
    missing = db.execute(
        "SELECT DISTINCT s.controller, substr(s.taken_at, 1, 10) FROM prune_snapshots x "
        "JOIN snapshots s ON s.id = x.id WHERE NOT EXISTS ("
        "SELECT 1 FROM controller_days d WHERE d.controller = s.controller AND d.day = substr(s.taken_at, 1, 10))"
    ).fetchall()
    for controller, day in missing:
        next_day = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
        fold_into_days(
            db,
            list(
                db.query(
                    "SELECT * FROM snapshots WHERE controller = ? AND taken_at >= ? AND taken_at < ?",
                    [controller, day, next_day],
                )
            ),
        )


def _hand_over_shared_aps(db: Db) -> None:
    """AP rows of a pruned snapshot that kept snapshots share move to the earliest of those.

    Moving the rows (an UPDATE of their `snapshot_id`, rowid order kept) rather than keeping
    the old snapshot means a kept snapshot never refers to a deleted one, which the foreign
    keys enforce as well.
    """
    db.execute("CREATE TEMP TABLE IF NOT EXISTS prune_handover (old_owner INTEGER PRIMARY KEY, new_owner INTEGER)")
    db.execute("DELETE FROM prune_handover")
    db.execute(
        "INSERT INTO prune_handover (old_owner, new_owner) "
        "SELECT s.aps_snapshot_id, min(s.id) FROM prune_snapshots p JOIN snapshots s ON s.aps_snapshot_id = p.id "
        "WHERE s.id NOT IN (SELECT id FROM prune_snapshots) GROUP BY s.aps_snapshot_id"
    )
    db.execute(
        "UPDATE snapshot_aps SET snapshot_id = (SELECT new_owner FROM prune_handover WHERE old_owner = snapshot_id) "
        "WHERE snapshot_id IN (SELECT old_owner FROM prune_handover)"
    )
    db.execute(
        "UPDATE snapshots SET aps_snapshot_id = nullif("
        "(SELECT new_owner FROM prune_handover WHERE old_owner = snapshots.aps_snapshot_id), id) "
        "WHERE aps_snapshot_id IN (SELECT old_owner FROM prune_handover) "
        "AND id NOT IN (SELECT id FROM prune_snapshots)"
    )
    db.execute("DROP TABLE prune_handover")


def reclaim_space(db: Db) -> int:
    """Hand the file's free pages back to the file system; returns how many pages it shrank by.

    A file in `auto_vacuum = INCREMENTAL` mode (every file this bot creates) runs
    `PRAGMA incremental_vacuum`; an older file is switched to that mode once, by setting
    the pragma and a full `VACUUM` (which rewrites the file: it needs free disk space for a
    copy of the file, which in WAL mode goes through the WAL, and holds the write lock while
    it runs). A WAL checkpoint then writes
    the result to the file and empties the WAL. Must run outside a transaction.
    """
    if isinstance(db, PgDatabase):
        return 0  # autovacuum's job on PostgreSQL
    if in_transaction(db):
        raise StateError("reclaim_space cannot run inside a transaction (VACUUM cannot)")
    before = _page_count(db)
    try:
        if db.execute("PRAGMA auto_vacuum").fetchone()[0] != _AUTO_VACUUM_INCREMENTAL:
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            db.execute("VACUUM")
        else:
            # Python's execute() steps a statement once, and this pragma frees one page per step;
            # executescript() steps it to the end. (Not in a transaction: checked above.)
            db.conn.executescript("PRAGMA incremental_vacuum;")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.OperationalError as error:
        # A full disk (the one-off VACUUM needs room for a copy of the file, in the WAL) or a
        # busy reader: the prune itself is committed, and the space comes back next time.
        log.warning("could not give the database's free pages back (%s); the next housekeeping retries", error)
        return 0
    return max(0, before - _page_count(db))


_AUTO_VACUUM_INCREMENTAL = 2


def _page_count(db: Db) -> int:
    return int(db.execute("PRAGMA page_count").fetchone()[0])
