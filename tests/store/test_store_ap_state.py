"""downloading_since: the memory behind the stuck rule, across checks and restarts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlite_utils import Database

from bot.domain.models import ErrorKind, SnapshotError
from bot.store import Store, ap_state, history, open_db
from tests.store.store_factories import NOT_AFFECTED, T0, ap, record, snap, unreachable

M15 = timedelta(minutes=15)


def test_start_continue_reset(db: Database) -> None:
    record(db, [snap(at=T0, aps=[ap("a1", state="Downloading"), ap("a2")])])
    assert ap_state.downloading_since(db, "wlc-1") == {"a1": T0}

    record(db, [snap(at=T0 + M15, aps=[ap("a1", state="Downloading"), ap("a2", state="Downloading")])])
    assert ap_state.downloading_since(db, "wlc-1") == {"a1": T0, "a2": T0 + M15}

    # a1 joins: it leaves Downloading and its timer is gone
    record(db, [snap(at=T0 + 2 * M15, aps=[ap("a1", state="Registered"), ap("a2", state="Downloading")])])
    assert ap_state.downloading_since(db, "wlc-1") == {"a2": T0 + M15}

    # a1 loops again: a new timer, not the old one
    record(db, [snap(at=T0 + 3 * M15, aps=[ap("a1", state="Downloading"), ap("a2", state="Downloading")])])
    assert ap_state.downloading_since(db, "wlc-1") == {"a1": T0 + 3 * M15, "a2": T0 + M15}

    states = {s.ap_name: s for s in ap_state.ap_states(db, "wlc-1")}
    assert states["a2"].last_seen == T0 + 3 * M15 and states["a2"].state == "Downloading"


def test_predownloading_counts_and_state_is_compared_loosely(db: Database) -> None:
    record(db, [snap(at=T0, aps=[ap("a1", state="Downloading"), ap("a2", state="Predownloading")])])
    record(db, [snap(at=T0 + M15, aps=[ap("a1", state=" DOWNLOADING "), ap("a2", state="Predownloading")])])
    assert ap_state.downloading_since(db, "wlc-1") == {"a1": T0, "a2": T0}


def test_ap_listed_without_a_state_keeps_its_timer(db: Database) -> None:
    record(db, [snap(at=T0, aps=[ap("a1", state="Downloading")])])
    record(db, [snap(at=T0 + M15, aps=[ap("a1", state=None)])])
    assert ap_state.downloading_since(db, "wlc-1") == {"a1": T0}
    [state] = ap_state.ap_states(db, "wlc-1")
    assert state.last_seen == T0 + M15


def test_ap_missing_from_a_read_snapshot_is_gone(db: Database) -> None:
    record(db, [snap(at=T0, aps=[ap("a1", state="Downloading"), ap("a2", state="Downloading")])])
    record(db, [snap(at=T0 + M15, aps=[ap("a2", state="Downloading")])])
    assert ap_state.downloading_since(db, "wlc-1") == {"a2": T0}
    assert [s.ap_name for s in ap_state.ap_states(db, "wlc-1")] == ["a2"]
    # it comes back looping: counted from now
    record(db, [snap(at=T0 + 2 * M15, aps=[ap("a1", state="Downloading"), ap("a2", state="Downloading")])])
    assert ap_state.downloading_since(db, "wlc-1") == {"a1": T0 + 2 * M15, "a2": T0}


def test_read_controller_with_no_aps_clears_them(db: Database) -> None:
    record(db, [snap(at=T0, aps=[ap("a1", state="Downloading")])])
    record(db, [snap(at=T0 + M15, aps=[])])  # fully read, no error: really no AP
    assert ap_state.downloading_since(db, "wlc-1") == {}


def test_unreachable_check_does_not_reset(db: Database) -> None:
    record(db, [snap(at=T0, aps=[ap("a1", state="Downloading")])])
    before = ap_state.ap_states(db, "wlc-1")
    record(db, [unreachable("wlc-1", at=T0 + M15)])
    record(db, [unreachable("wlc-1", at=T0 + 2 * M15)])
    assert ap_state.downloading_since(db, "wlc-1") == {"a1": T0}
    assert ap_state.ap_states(db, "wlc-1") == before  # not even last_seen moved
    record(db, [snap(at=T0 + 3 * M15, aps=[ap("a1", state="Downloading")])])
    assert ap_state.downloading_since(db, "wlc-1") == {"a1": T0}


def test_failed_ap_command_without_aps_does_not_reset(db: Database) -> None:
    """Reached, but the AP table failed: an empty list is not "no APs"."""
    record(db, [snap(at=T0, aps=[ap("a1", state="Downloading")])])
    failed = snap(at=T0 + M15, aps=[], errors=[SnapshotError(ErrorKind.COMMAND_FAILED, "refused", "show ap summary")])
    record(db, [failed])
    assert ap_state.downloading_since(db, "wlc-1") == {"a1": T0}
    [rec] = history.latest_snapshots(db)
    assert rec.aps_read is False


def test_partial_read_listing_some_aps_does_not_reset(db: Database) -> None:
    """AireOS: the image table (the only place a looping AP appears) failed; the joined APs are listed."""
    record(db, [snap(at=T0, aps=[ap("joined", model=NOT_AFFECTED), ap("looping", state="Downloading")])])
    partial = snap(
        at=T0 + M15,
        aps=[ap("joined", model=NOT_AFFECTED)],
        errors=[SnapshotError(ErrorKind.UNPARSABLE, "unexpected table", "show ap image all")],
    )
    record(db, [partial])
    assert ap_state.downloading_since(db, "wlc-1") == {"looping": T0}


def test_controllers_are_tracked_separately(db: Database) -> None:
    record(
        db,
        [
            snap("wlc-1", at=T0, aps=[ap("same-name", state="Downloading")]),
            snap("wlc-2", at=T0, aps=[ap("same-name", model=NOT_AFFECTED, state="Registered")]),
        ],
    )
    # a check that read only wlc-2 leaves wlc-1 alone
    record(db, [snap("wlc-2", at=T0 + M15, aps=[ap("same-name", model=NOT_AFFECTED, state="Downloading")])])
    assert ap_state.downloading_since(db, "wlc-1") == {"same-name": T0}
    assert ap_state.downloading_since(db, "wlc-2") == {"same-name": T0 + M15}


def test_stuck_since_is_on_the_snapshot(db: Database) -> None:
    record(db, [snap(at=T0, aps=[ap("a1", state="Downloading")])])
    record(db, [snap(at=T0 + M15, aps=[ap("a1", state="Downloading")])])
    [rec] = history.latest_snapshots(db)
    assert [(s.name, s.since) for s in rec.stuck_aps] == [("a1", T0)]


def test_survives_a_restart(db_path: Path) -> None:
    db = open_db(db_path)
    record(db, [snap(at=T0, aps=[ap("a1", state="Downloading")])])
    db.close()
    db = open_db(db_path)  # the bot restarted
    record(db, [snap(at=T0 + M15, aps=[ap("a1", state="Downloading")])])
    assert ap_state.downloading_since(db, "wlc-1") == {"a1": T0}
    db.close()


async def test_survives_a_restart_of_the_async_store(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        await store.write(record, [snap(at=T0, aps=[ap("a1", state="Downloading")])])
        assert await store.read(ap_state.downloading_since, "wlc-1") == {"a1": T0}
    async with await Store.open(db_path) as store:
        await store.write(record, [snap(at=T0 + M15, aps=[ap("a1", state="Downloading")])])
        since = await store.read(ap_state.downloading_since, "wlc-1")
    assert since == {"a1": T0}
    assert since["a1"].tzinfo is not None
