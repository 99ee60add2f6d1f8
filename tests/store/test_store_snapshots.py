"""AP rows are written only when a controller's AP list changed; every reader answers as before."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from sqlite_utils import Database

from bot.domain.models import AccessPoint, ControllerSnapshot
from bot.store import checks as checks_store
from bot.store import open_db, pruning
from bot.store import snapshots as snapshots_store
from tests.store.store_factories import NOT_AFFECTED, T0, ap, broken_references, record, snap, unreachable

M15 = timedelta(minutes=15)
DAY = timedelta(days=1)


def fleet_aps(prefix: str = "a", n: int = 4) -> list[AccessPoint]:
    return [
        AccessPoint(
            name=f"{prefix}{i}",
            model=NOT_AFFECTED if i % 2 else "AIR-CAP3702I-E-K9",
            mac=f"00:11:22:33:44:{i:02x}",
            ip=f"10.0.0.{i + 1}",
            image_version="17.3.4.30",
            state="Registered",
            retry_count=0,
            location=f"floor {i}",
        )
        for i in range(n)
    ]


def with_state(aps: list[AccessPoint], index: int, state: str) -> list[AccessPoint]:
    changed = list(aps)
    changed[index] = dataclasses.replace(changed[index], state=state)
    return changed


def ap_row_count(db: Database) -> int:
    return int(db.execute("SELECT count(*) FROM snapshot_aps").fetchone()[0])


def all_answers(db: Database) -> dict[int, list[Any]]:
    """What `snapshot_aps` says for every snapshot in the file."""
    return {sid: snapshots_store.snapshot_aps(db, sid) for (sid,) in db.execute("SELECT id FROM snapshots ORDER BY id")}


@pytest.fixture
def unshared(tmp_path: Path) -> Iterator[Database]:
    """A second file recorded the old way (every check writes every AP row), to compare with."""
    database = open_db(tmp_path / "unshared.db")
    yield database
    database.close()


def record_both(db: Database, other: Database, snapshots: list[ControllerSnapshot]) -> int:
    run = record(db, snapshots)
    with mock.patch.object(checks_store, "shared_aps_owner", return_value=None):
        assert record(other, snapshots) == run
    return run


def story() -> list[list[ControllerSnapshot]]:
    """Four hours of checks of two controllers: mostly the same APs, one changes state, one outage."""
    base = fleet_aps()
    other = fleet_aps("b", 3)
    lists = [base, base, with_state(base, 0, "Downloading"), with_state(base, 0, "Downloading"), base]
    checks = []
    for n, aps in enumerate(lists * 3):
        at = T0 + n * M15
        wlc2 = unreachable("wlc-2", at=at) if n in (4, 5) else snap("wlc-2", at=at, aps=other)
        checks.append([snap("wlc-1", at=at, aps=aps), wlc2])
    return checks


def test_unchanged_ap_lists_store_no_rows_and_every_snapshot_reads_the_same(db: Database, unshared: Database) -> None:
    checks = story()
    for snapshots in checks:
        record_both(db, unshared, snapshots)

    answers = all_answers(db)
    assert answers == all_answers(unshared)  # every snapshot, every field, snapshot_id and order
    assert len(answers) == 2 * len(checks)
    # wlc-1's list changed 6 times after the first (to Downloading and back, three times): 7 sets
    # of 4 rows; wlc-2 never changed, its outage listed nothing: one set of 3 rows.
    assert ap_row_count(db) == 7 * 4 + 3
    assert ap_row_count(unshared) == len(checks) * 4 + (len(checks) - 2) * 3
    for sid, aps in answers.items():
        assert all(a.snapshot_id == sid for a in aps)


def test_a_snapshot_refers_to_the_rows_owner_in_one_step(db: Database) -> None:
    aps = fleet_aps()
    first = record(db, [snap(at=T0, aps=aps)])
    second = record(db, [snap(at=T0 + M15, aps=aps)])
    outage_run = record(db, [unreachable(at=T0 + 2 * M15)])
    fourth = record(db, [snap(at=T0 + 3 * M15, aps=aps)])  # after the outage: still the same APs
    owner = snapshots_store.check_snapshots(db, first)[0].id
    refs = dict(db.execute("SELECT check_run_id, aps_snapshot_id FROM snapshots").fetchall())
    assert refs[first] is None and refs[second] == owner and refs[fourth] == owner
    assert ap_row_count(db) == len(aps)
    [outage] = snapshots_store.check_snapshots(db, outage_run)
    assert snapshots_store.snapshot_aps(db, outage.id) == []  # an unreachable check lists no APs, shared or not


@pytest.mark.parametrize(
    "change",
    [
        {"name": "a0-renamed"},
        {"model": "C9130AXI-E"},
        {"mac": "00:11:22:33:44:ff"},
        {"ip": "10.0.0.99"},
        {"image_version": "17.3.6.12"},
        {"state": "Downloading"},
        {"state": None},
        {"retry_count": 1},
        {"location": "floor 9"},
    ],
)
def test_any_field_that_changed_writes_new_rows(db: Database, change: dict[str, Any]) -> None:
    aps = fleet_aps()
    record(db, [snap(at=T0, aps=aps)])
    changed = [dataclasses.replace(aps[0], **change), *aps[1:]]
    run = record(db, [snap(at=T0 + M15, aps=changed)])
    [latest] = snapshots_store.check_snapshots(db, run)
    assert [a.to_access_point() for a in snapshots_store.snapshot_aps(db, latest.id)] == changed
    assert ap_row_count(db) == 2 * len(aps)


def test_the_same_aps_in_another_order_are_a_change(db: Database) -> None:
    """`snapshot_aps` keeps the controller's order, so a reordered list is stored as listed."""
    aps = fleet_aps()
    record(db, [snap(at=T0, aps=aps)])
    run = record(db, [snap(at=T0 + M15, aps=list(reversed(aps)))])
    [latest] = snapshots_store.check_snapshots(db, run)
    assert [a.name for a in snapshots_store.snapshot_aps(db, latest.id)] == ["a3", "a2", "a1", "a0"]


def test_controllers_never_share_each_others_rows(db: Database) -> None:
    aps = [ap("same-name"), ap("other")]
    run = record(db, [snap("wlc-1", at=T0, aps=aps), snap("wlc-2", at=T0, aps=aps)])
    again = record(db, [snap("wlc-1", at=T0 + M15, aps=aps), snap("wlc-2", at=T0 + M15, aps=aps)])
    assert ap_row_count(db) == 4
    for run_id in (run, again):
        for s in snapshots_store.check_snapshots(db, run_id):
            assert {a.controller for a in snapshots_store.snapshot_aps(db, s.id)} == {s.controller}


def test_prune_keeps_the_rows_kept_snapshots_share(db: Database, unshared: Database) -> None:
    aps = fleet_aps()
    changed = with_state(aps, 1, "Downloading")
    lists = [aps, aps, aps, aps, changed, changed]  # one check a day
    for n, listed in enumerate(lists):
        record_both(db, unshared, [snap(at=T0 + n * DAY, aps=listed)])
    assert ap_row_count(db) == 2 * len(aps)

    # Cutoff after day 2: days 0 and 1 go (day 0 owns the rows days 1-3 share), day 2 is the
    # latest before the cutoff and stays, so it takes the rows over.
    result = pruning.prune(db, T0 + 2 * DAY + timedelta(hours=12))
    pruning.prune(unshared, T0 + 2 * DAY + timedelta(hours=12))
    assert (result.snapshots, result.ap_rows) == (2, 0)
    assert all_answers(db) == all_answers(unshared)
    assert len(all_answers(db)) == 4 and ap_row_count(db) == 2 * len(aps)
    assert broken_references(db) == []
    owners = db.execute("SELECT count(*) FROM snapshots WHERE aps_snapshot_id IS NULL").fetchone()[0]
    assert owners == 2  # day 2 (took the rows over) and day 4 (the change)

    # Later, nothing kept shares the first list any more: its rows go with their last snapshot.
    result = pruning.prune(db, T0 + 4 * DAY + timedelta(hours=12))
    pruning.prune(unshared, T0 + 4 * DAY + timedelta(hours=12))
    assert (result.snapshots, result.ap_rows) == (2, len(aps))
    assert all_answers(db) == all_answers(unshared)
    assert ap_row_count(db) == len(aps)
    assert broken_references(db) == []
