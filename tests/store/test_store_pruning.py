"""Retention: daily summaries outlive the pruned checks, history and the digest keep working
across the cutoff, and the file gives the space back."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.domain.verdict import VerdictStatus
from bot.store import SiteCheck, SiteDay, StateError, open_db, pruning
from bot.store import days as days_store
from bot.store import history as history_store
from bot.store import snapshots as snapshots_store
from bot.store.db import write_tx
from tests.store.store_factories import (
    CHECKS,
    H6,
    T0,
    ap,
    expected_days,
    record,
    six_days,
    snap,
    summary_values,
)

DAY = timedelta(days=1)


def test_history_past_the_retention_comes_from_the_daily_summaries(db: Database) -> None:
    snapshots = six_days(db)
    expected = expected_days(snapshots)
    cutoff = T0 + 4 * DAY  # 2024-05-05 09:00, exactly check n=16
    before = history_store.site_history(db, "hq", limit=8)

    result = pruning.prune(db, cutoff)

    assert result.snapshots == 2 * 16  # n=0..15 of both controllers; n=16 is at the cutoff and stays
    assert history_store.site_history(db, "hq", limit=8) == before  # the newest checks are whole checks, as before
    history = history_store.site_history(db, "hq", limit=30)
    checks = [e for e in history if isinstance(e, SiteCheck)]
    days = [e for e in history if isinstance(e, SiteDay)]
    assert history == [*checks, *days]  # the kept checks, then the pruned days
    assert [c.taken_at for c in checks] == [T0 + n * H6 for n in range(CHECKS - 1, 15, -1)]
    assert not any(c.daily for c in checks) and all(d.daily for d in days)
    # 2024-05-05 lost its 03:00 check (n=15) and keeps the rest: it shows as a summary too
    assert [d.day for d in days] == [
        date(2024, 5, 5),
        date(2024, 5, 4),
        date(2024, 5, 3),
        date(2024, 5, 2),
        date(2024, 5, 1),
    ]
    for d in days:
        assert [c.controller for c in d.controllers] == ["wlc-1", "wlc-2"]
        for c in d.controllers:
            assert summary_values(c) == expected[(c.controller, d.day)]  # what the checks said, unchanged
    pruned = {(c.controller, d.day): c.pruned for d in days for c in d.controllers}
    assert pruned[("wlc-1", date(2024, 5, 5))] == 1 and pruned[("wlc-1", date(2024, 5, 2))] == 4
    assert pruned[("wlc-1", date(2024, 5, 1))] == 3  # 09, 15 and 21 o'clock
    may_2 = next(d for d in days if d.day == date(2024, 5, 2))
    assert (may_2.status, may_2.stuck_count, may_2.total_aps) == (VerdictStatus.STUCK, 1, 4)
    # a smaller limit takes the newest first: the kept checks, then the newest pruned days
    assert [type(e).__name__ for e in history_store.site_history(db, "hq", limit=10)] == ["SiteCheck"] * 8 + [
        "SiteDay"
    ] * 2


def test_the_digest_comparison_a_day_back_is_exact_right_after_a_prune(db: Database) -> None:
    six_days(db)
    now = T0 + (CHECKS - 1) * H6 + timedelta(minutes=5)
    before = history_store.fleet_summary(db, now)
    assert before.site("hq") is not None and before.site("hq").stuck_aps_before is not None  # type: ignore[union-attr]
    pruning.prune(db, now - DAY)  # the shortest retention there is
    assert history_store.fleet_summary(db, now) == before


def test_the_comparison_survives_a_gap_in_the_checks_across_the_cutoff(db: Database) -> None:
    """The bot was down: the last check before "a day ago" is older than the cutoff. It is
    each controller's latest snapshot at or before the cutoff, so the prune keeps it."""
    record(db, [snap(at=T0, aps=[ap("a1", state="Downloading")])])
    record(db, [snap(at=T0 + timedelta(hours=20), aps=[ap("a1", state="Downloading"), ap("a2", state="Downloading")])])
    record(db, [snap(at=T0 + timedelta(hours=44), aps=[ap("a1")])])
    now = T0 + timedelta(hours=45)
    before = history_store.fleet_summary(db, now)
    hq = before.site("hq")
    assert hq is not None and (hq.stuck_aps, hq.stuck_aps_before) == (0, 2)

    result = pruning.prune(db, now - DAY)  # cutoff T0+21h: only the T0 check goes

    assert result.snapshots == 1
    assert history_store.fleet_summary(db, now) == before
    assert history_store.site_summary_at(db, "hq", now - DAY) == history_store.site_summary_at(
        db, "hq", T0 + timedelta(hours=20)
    )


def test_site_summary_at_is_exact_or_empty_after_a_prune(db: Database) -> None:
    six_days(db)
    times = [T0 + n * H6 + timedelta(minutes=m) for n in range(CHECKS) for m in (0, 90)]
    answers = {t: history_store.site_summary_at(db, "hq", t) for t in times}
    cutoff = T0 + 4 * DAY - timedelta(hours=1)  # between n=15 and n=16
    pruning.prune(db, cutoff)
    for t in times:
        now = history_store.site_summary_at(db, "hq", t)
        if t >= cutoff:
            assert now == answers[t]
        else:  # never an older snapshot passed off as the state at t
            assert now in ([], answers[t])
    assert (
        history_store.site_summary_at(db, "hq", T0 + 15 * H6) == answers[T0 + 15 * H6]
    )  # the kept snapshot before the cutoff


def test_daily_summaries_are_kept_daily_summary_days_past_the_cutoff(db: Database) -> None:
    six_days(db)
    # Prune long after: every snapshot but the latest goes; summaries of days more than
    # DAILY_SUMMARY_DAYS before the cutoff go too.
    cutoff = datetime(2024, 5, 3, 12, tzinfo=UTC) + timedelta(days=days_store.DAILY_SUMMARY_DAYS)
    result = pruning.prune(db, cutoff)
    assert result.daily_summaries == 2 * 2  # 05-01 and 05-02 of both controllers
    kept = days_store.controller_days(db, "wlc-1")
    assert [d.day for d in kept] == [
        date(2024, 5, 3),
        date(2024, 5, 4),
        date(2024, 5, 5),
        date(2024, 5, 6),
        date(2024, 5, 7),
    ]
    assert [d.pruned for d in kept] == [4, 4, 4, 4, 0]  # 05-07 has one check, the latest: it stays
    assert days_store.DAILY_SUMMARY_DAYS > 365  # "kept longer than the retention": over a year of days


def test_a_pruned_day_keeps_its_summary_even_for_rows_written_by_hand(db: Database) -> None:
    """A snapshot written without `record_check` (an old tool, a test) is summarised before it goes."""
    run = record(db, [snap(at=T0, aps=[ap("a1")])])
    record(db, [snap(at=T0 + H6, aps=[ap("a1"), ap("a2")])])
    db.execute("DELETE FROM controller_days")
    record(db, [snap(at=T0 + 2 * DAY, aps=[ap("a1")])])
    pruning.prune(db, T0 + DAY)  # the T0 check goes; T0+6h is the latest before the cutoff and stays
    [day, _later] = days_store.controller_days(db, "wlc-1")
    assert (day.day, day.checks, day.pruned, day.total_aps, day.first_at) == (T0.date(), 2, 1, 2, T0)
    assert snapshots_store.check_snapshots(db, run) == []


# --------------------------------------------------------------------------- the file shrinks


def file_size(db: Database, path: Path) -> int:
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    return path.stat().st_size


def busy_week(db: Database, aps: int = 300) -> None:
    """Every check changes one AP's state, so every check writes its rows."""
    for n in range(40):
        listed = [ap(f"a{i:03d}", state="Downloading" if i == n else "Registered") for i in range(aps)]
        record(db, [snap(at=T0 + n * timedelta(hours=4), aps=listed)])


def test_a_new_file_is_in_incremental_auto_vacuum_mode(sqlite_db: Database) -> None:
    db = sqlite_db
    assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # INCREMENTAL
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_prune_gives_the_space_back(sqlite_db: Database, db_path: Path) -> None:
    db = sqlite_db
    busy_week(db)
    full = file_size(db, db_path)
    result = pruning.prune(db, T0 + 38 * timedelta(hours=4))
    assert result.snapshots == 38 and result.ap_rows == 38 * 300
    assert result.pages_freed > 0
    assert db.execute("PRAGMA freelist_count").fetchone()[0] == 0
    after = file_size(db, db_path)
    assert after < full * 0.4, (full, after)
    assert not Path(f"{db_path}-wal").exists() or Path(f"{db_path}-wal").stat().st_size == 0


def test_a_file_from_before_is_converted_once_by_the_first_prune(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)  # what older bots created: WAL, no auto-vacuum
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL)"
    )
    conn.close()
    db = open_db(path)
    assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 0  # opening never rewrites the file
    busy_week(db)
    full = file_size(db, path)
    pruning.prune(db, T0 + 38 * timedelta(hours=4))
    assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
    assert file_size(db, path) < full * 0.4
    assert (
        len(history_store.latest_snapshots(db)) == 1
        and len(snapshots_store.snapshot_aps(db, history_store.latest_snapshots(db)[0].id)) == 300
    )
    db.close()


def test_without_reclaiming_the_file_would_not_shrink(sqlite_db: Database, db_path: Path) -> None:
    """The anchor: a prune inside a caller's transaction cannot vacuum, and the file keeps its size."""
    db = sqlite_db
    busy_week(db)
    full = file_size(db, db_path)
    with write_tx(db):
        result = pruning.prune(db, T0 + 38 * timedelta(hours=4))
    assert result.pages_freed == 0 and result.snapshots == 38
    assert db.execute("PRAGMA freelist_count").fetchone()[0] > 0
    assert file_size(db, db_path) == full
    with pytest.raises(StateError), write_tx(db):
        pruning.reclaim_space(db)
    assert pruning.reclaim_space(db) > 0
    assert file_size(db, db_path) < full * 0.4
