"""Daily summaries: every check folds each controller into its UTC day."""

from __future__ import annotations

from datetime import date

from sqlite_utils import Database

from bot.domain.models import ErrorKind, SnapshotError
from bot.domain.verdict import VerdictStatus
from bot.store import days as days_store
from tests.store.store_factories import (
    H6,
    T0,
    ap,
    expected_days,
    record,
    six_days,
    snap,
    summary_values,
)


def test_every_check_folds_into_its_controllers_utc_day(db: Database) -> None:
    snapshots = six_days(db)
    expected = expected_days(snapshots)
    got = {(d.controller, d.day): d for c in ("wlc-1", "wlc-2") for d in days_store.controller_days(db, c)}
    assert got.keys() == expected.keys()
    assert {k: summary_values(d) for k, d in got.items()} == expected
    # the days the story was built for, spelled out
    stuck_day = got[("wlc-1", date(2024, 5, 2))]  # n=5: 2024-05-02 15:00
    assert (stuck_day.status, stuck_day.stuck_aps, stuck_day.last_status) == (VerdictStatus.STUCK, 1, "at-risk")
    incomplete_day = got[("wlc-1", date(2024, 5, 3))]  # n=9: 2024-05-03 15:00, the day's last read is n=10
    assert incomplete_day.incomplete_checks == 1 and incomplete_day.aps_incomplete == ()
    assert got[("wlc-1", date(2024, 5, 3))].checks == 4
    outage = got[("wlc-2", date(2024, 5, 3))]  # n=7 (05-03 03:00) and n=8 (05-03 09:00)
    assert (outage.unreachable_checks, outage.reads, outage.total_aps) == (2, 2, 2)
    assert all(d.site == "hq" and d.pruned == 0 for d in got.values())


def test_an_incomplete_last_read_keeps_its_flag(db: Database) -> None:
    record(db, [snap(at=T0, aps=[ap("a1"), ap("a2")])])
    partial = snap(
        at=T0 + H6,
        aps=[ap("a1", state="Downloading")],
        errors=[SnapshotError(ErrorKind.INCOMPLETE, "read 1 of 2 APs", "show ap summary")],
    )
    record(db, [partial])
    [day] = days_store.controller_days(db, "wlc-1")
    # stuck wins over a partial read, so it counts as a read: its count is the one listed, flagged
    assert (day.total_aps, day.aps_incomplete, day.incomplete_checks) == (1, ("read 1 of 2 APs",), 1)
    assert day.status is VerdictStatus.STUCK
