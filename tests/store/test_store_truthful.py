"""What the store keeps of a read: downloading versus stuck, incomplete AP lists, early warnings."""

from __future__ import annotations

from datetime import timedelta

from sqlite_utils import Database

from bot.domain.models import ErrorKind, SnapshotError
from bot.domain.verdict import DownloadWatch, evaluate_controller, evaluate_controllers
from bot.store import CheckRun, CheckTrigger, ap_state, checks, history
from bot.store.sql import column_names
from tests.store.store_factories import T0, ap, record, snap

M15 = timedelta(minutes=15)


def record_with(db: Database, snapshots: list, verdicts: list) -> int:
    start = min(s.taken_at for s in snapshots)
    run = CheckRun(trigger=CheckTrigger.SCHEDULED, started_at=start, finished_at=start + timedelta(seconds=40))
    return checks.record_check(db, run, snapshots, verdicts)


def test_the_migration_adds_the_new_columns(db: Database) -> None:
    columns = column_names(db, "snapshots")
    assert {"downloading_count", "incomplete_json", "risks_json"} <= set(columns)
    versions = [r[0] for r in db.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions[:5] == [1, 2, 3, 4, 5]  # later migrations may follow


def test_downloading_and_stuck_are_counted_apart(db: Database) -> None:
    s = snap(at=T0, aps=[ap("a1", state="Downloading"), ap("a2", state="Downloading"), ap("a3")])
    watch = DownloadWatch(since={"a1": T0 - timedelta(hours=1)}, stuck_after=timedelta(minutes=30))
    record_with(db, [s], [evaluate_controller(s, watch=watch)])
    [latest] = history.latest_snapshots(db)
    assert (latest.stuck_count, latest.downloading_count) == (1, 2)
    [site] = history.fleet_summary(db, now=T0 + M15).sites
    assert (site.stuck_aps, site.downloading_aps) == (1, 2)


def test_an_incomplete_read_is_kept_and_forgets_no_ap(db: Database) -> None:
    record(db, [snap(at=T0, aps=[ap("a1", state="Downloading"), ap("a2", state="Downloading")])])
    partial = snap(
        at=T0 + M15,
        aps=[ap("a2", state="Downloading")],
        errors=[SnapshotError(ErrorKind.INCOMPLETE, "read 1 of 2 APs", "show ap summary")],
    )
    verdict = evaluate_controller(partial, watch=DownloadWatch(since={"a2": T0}))
    record_with(db, [partial], [verdict])
    # a1 was not listed, but not seen elsewhere either: its timer survives
    assert ap_state.downloading_since(db, "wlc-1") == {"a1": T0, "a2": T0}
    [latest] = history.latest_snapshots(db)
    assert latest.incomplete == ("read 1 of 2 APs",)
    [site] = history.fleet_summary(db, now=T0 + 2 * M15).sites
    assert site.controllers_incomplete == 1


def test_failover_warnings_are_kept_for_the_digest(db: Database) -> None:
    a = snap("wlc-1", at=T0, aps=[ap("a1")])
    b = snap("wlc-2", at=T0, version="17.9.4", aps=[])
    record_with(db, [a, b], evaluate_controllers([a, b]))
    by_name = {s.controller: s for s in history.latest_snapshots(db)}
    [risk] = by_name["wlc-1"].risks
    assert risk.startswith("if wlc-1 fails, 1 IOS AP will download from wlc-2 (17.3.4 ≠ 17.9.4)")
    [site] = history.fleet_summary(db, now=T0 + M15).sites
    assert site.risks == (("wlc-1", risk),)
