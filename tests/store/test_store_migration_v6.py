"""Migration 6 on a file a version-5 bot wrote: data intact, daily summaries backfilled, sharing from then on."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.domain.models import ControllerSnapshot
from bot.domain.verdict import evaluate_controller
from bot.store import APRecord, ap_state, checks, days, open_db, pruning, schema_version
from bot.store import rows as rows_store
from bot.store import snapshots as snapshots_store
from bot.store.codec import to_db_time
from bot.store.db import applied_versions, write_tx
from bot.store.migrations import MIGRATIONS
from tests.store.store_factories import AT_ONCE, CHECKS, T0, ap, record, six_days_checks, snap

V5 = MIGRATIONS[:5]
H1 = timedelta(hours=1)


def open_v5(path: Path) -> Database:
    """A file as a version-5 bot created it: WAL, no auto-vacuum, migrations 1-5."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE placeholder (x)")  # the file exists before today's code touches it
    conn.execute("DROP TABLE placeholder")
    conn.close()
    return open_db(path, V5)


def record_v5(db: Database, snapshots: Sequence[ControllerSnapshot]) -> int:
    """What `record_check` wrote at schema version 5: the run, the snapshots, every AP row."""
    verdicts = {s.name: evaluate_controller(s, watch=AT_ONCE) for s in snapshots}
    start = min(s.taken_at for s in snapshots)
    with write_tx(db):
        run_id = rows_store.insert_row(
            db,
            "check_runs",
            {
                "trigger": "scheduled",
                "started_at": to_db_time(start),
                "finished_at": to_db_time(start + timedelta(seconds=40)),
                "controllers_total": len(snapshots),
            },
        )
        for s in snapshots:
            verdict = verdicts[s.name]
            aps_read = checks._aps_read(verdict)
            since = ap_state.track_ap_states(db, s, complete=not verdict.incomplete) if aps_read else {}
            snapshot_id = rows_store.insert_row(
                db, "snapshots", checks._snapshot_row(run_id, s, verdict, aps_read, since)
            )
            db.table("snapshot_aps").insert_all(
                [
                    {
                        "snapshot_id": snapshot_id,
                        "controller": s.name,
                        "name": a.name,
                        "model": a.model,
                        "mac": a.mac,
                        "ip": a.ip,
                        "image_version": a.image_version,
                        "state": a.state,
                        "retry_count": a.retry_count,
                        "location": a.location,
                    }
                    for a in s.aps
                ]
            )
    return run_id


def v5_ap_rows(db: Database) -> dict[int, list[APRecord]]:
    """The AP rows of every snapshot, read the way version 5 did (straight from its own rows)."""
    rows: dict[int, list[APRecord]] = {sid: [] for (sid,) in db.execute("SELECT id FROM snapshots")}
    for r in db.execute(
        "SELECT snapshot_id, controller, name, model, mac, ip, image_version, state, retry_count, location "
        "FROM snapshot_aps ORDER BY rowid"
    ):
        rows[r[0]].append(APRecord(*r))
    return rows


def everything(db: Database) -> dict[str, Any]:
    runs = [r[0] for r in db.execute("SELECT id FROM check_runs ORDER BY id")]
    return {
        "runs": [checks.get_check(db, r) for r in runs],
        "snapshots": [s for r in runs for s in snapshots_store.check_snapshots(db, r)],
        "ap_state": {c: ap_state.ap_states(db, c) for c in ("wlc-1", "wlc-2")},
    }


def test_a_version_5_file_is_upgraded_with_its_data_intact(tmp_path: Path) -> None:
    path = tmp_path / "v5.db"
    old = open_v5(path)
    for check in six_days_checks():
        record_v5(old, check)
    before, before_aps = everything(old), v5_ap_rows(old)
    old.close()

    db = open_db(path)
    latest = len(MIGRATIONS)
    assert applied_versions(db) == list(range(1, latest + 1)) and schema_version(db) == latest
    assert everything(db) == before
    assert {sid: snapshots_store.snapshot_aps(db, sid) for sid in before_aps} == before_aps
    assert sum(len(v) for v in before_aps.values()) == CHECKS * 2 * 2 - 2 * 2 - 1  # outage twice, n=9 lists one

    # The backfilled daily summaries are the ones today's code writes check by check.
    fresh = open_db(tmp_path / "fresh.db")
    for check in six_days_checks():
        record(fresh, check)
    for controller in ("wlc-1", "wlc-2"):
        assert days.controller_days(db, controller) == days.controller_days(fresh, controller)
        assert len(days.controller_days(db, controller)) == 7
    fresh.close()
    db.close()


def test_after_the_upgrade_unchanged_aps_are_shared_and_old_rows_prune_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "v5.db"
    old = open_v5(path)
    aps = [ap("a1"), ap("a2")]
    for n in range(3):
        record_v5(old, [snap(at=T0 + n * H1, aps=aps)])
    old.close()

    db = open_db(path)
    rows = db.execute("SELECT count(*) FROM snapshot_aps").fetchone()[0]
    assert rows == 3 * 2
    record(db, [snap(at=T0 + 3 * H1, aps=aps)])  # no digest on the old rows: written once more
    run = record(db, [snap(at=T0 + 4 * H1, aps=aps)])  # now the same as the previous: shared
    assert db.execute("SELECT count(*) FROM snapshot_aps").fetchone()[0] == 4 * 2
    [latest] = snapshots_store.check_snapshots(db, run)
    assert [a.name for a in snapshots_store.snapshot_aps(db, latest.id)] == ["a1", "a2"]

    assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 0  # the old file, until its first prune
    result = pruning.prune(db, T0 + 4 * H1)  # everything before the last check goes
    assert (result.snapshots, result.ap_rows) == (4, 3 * 2)  # the post-upgrade owner's rows move to the last
    assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
    assert [a.name for a in snapshots_store.snapshot_aps(db, latest.id)] == ["a1", "a2"]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    [day] = days.controller_days(db, "wlc-1")
    assert (day.checks, day.pruned, day.total_aps) == (5, 4, 2)
    db.close()
