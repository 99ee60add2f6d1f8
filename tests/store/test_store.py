"""The async facade: writes serialised, reads not stuck behind writes, cancellation safe."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.domain.verdict import evaluate_controller
from bot.store import (
    CheckRun,
    CheckTrigger,
    Delivery,
    EventKind,
    StateError,
    Store,
    alerts,
    ap_state,
    checks,
    digests,
    history,
    outbox,
    snapshots,
)
from bot.store.db import write_tx
from tests.store.store_factories import AT_ONCE, T0, ap, snap


async def test_store_round_trip(store: Store) -> None:
    s = snap(aps=[ap("a1", state="Downloading")])
    run_id = await store.write(
        checks.record_check,
        CheckRun(CheckTrigger.STARTUP, T0, T0 + timedelta(seconds=5)),
        [s],
        [evaluate_controller(s, watch=AT_ONCE)],
    )
    assert (await store.read(checks.get_check, run_id)).controllers_total == 1
    [latest] = await store.read(history.latest_snapshots)
    assert [a.name for a in await store.read(snapshots.snapshot_aps, latest.id)] == ["a1"]
    assert await store.read(ap_state.downloading_since, "wlc-1") == {"a1": T0}
    assert (await store.read(history.fleet_summary, T0)).stuck_aps == 1
    assert [c.run.id for c in await store.read(history.site_history, "hq")] == [run_id]

    alert = await store.write(alerts.open_alert, "stuck", "wlc-1", site="hq", channel="C1", payload={"n": 1}, now=T0)
    assert await store.read(alerts.get_open_alert, "wlc-1", "stuck") == alert
    await store.write(alerts.mark_delivery_failed, alert.id, "boom", now=T0)
    assert [a.delivery for a in await store.read(alerts.alerts_pending_delivery)] == [Delivery.FAILED]
    await store.write(alerts.mark_delivered, alert.id, "9.9", "C1", now=T0)
    event = await store.write(outbox.enqueue_event, alert.id, EventKind.THREAD_NOTE, {"text": "hi"}, now=T0)
    await store.write(outbox.mark_event_failed, event, "later")
    assert [e.id for e in await store.read(outbox.pending_events)] == [event]
    await store.write(outbox.mark_event_delivered, event, ts="9.10", now=T0)
    assert await store.read(outbox.pending_events) == []
    resolved = await store.write(alerts.resolve_alert, alert.id, now=T0 + timedelta(minutes=5))
    assert await store.read(alerts.last_resolved_alert, "wlc-1", "stuck") == resolved

    assert not await store.read(digests.digest_sent, "2024-05-01")
    await store.write(digests.record_digest, "2024-05-01", channel="C2", ts="1.1", summary={})
    assert await store.read(digests.digest_sent, "2024-05-01")


async def test_concurrent_writes_are_serialised(store: Store) -> None:
    """Many writers at once: every write lands, none fails on a lock, the rule "one open alert" holds."""

    async def open_or_update(i: int) -> str:
        controller = f"wlc-{i % 10}"
        try:
            await store.write(alerts.open_alert, "stuck", controller, channel="C1", payload={"i": i}, now=T0)
            return "opened"
        except StateError:
            alert = await store.read(alerts.get_open_alert, controller, "stuck")
            assert alert is not None
            await store.write(alerts.update_alert_payload, alert.id, {"i": i}, now=T0)
            return "updated"

    results = await asyncio.gather(*(open_or_update(i) for i in range(100)))
    assert results.count("opened") == 10 and results.count("updated") == 90
    assert len(await store.read(alerts.open_alerts)) == 10


async def test_a_read_does_not_wait_for_a_long_write(store: Store) -> None:
    """WAL: the reader sees the last committed state while the writer is mid-transaction."""
    await store.write(alerts.open_alert, "stuck", "wlc-1", channel="C1", payload={"v": 1}, now=T0)
    inside = threading.Event()
    release = threading.Event()

    def slow_write(db: Database) -> None:
        with write_tx(db):
            alert = alerts.get_open_alert(db, "wlc-1", "stuck")
            assert alert is not None
            alerts.update_alert_payload(db, alert.id, {"v": 2}, now=T0)
            inside.set()
            release.wait(5)

    writing = asyncio.create_task(store.write(slow_write))
    await asyncio.to_thread(inside.wait, 5)
    alert = await asyncio.wait_for(store.read(alerts.get_open_alert, "wlc-1", "stuck"), 2)
    assert alert is not None and alert.payload == {"v": 1}  # not the uncommitted change
    assert not writing.done()
    release.set()
    await writing
    assert (await store.read(alerts.get_open_alert, "wlc-1", "stuck")).payload == {"v": 2}  # type: ignore[union-attr]


async def test_cancelled_write_never_overlaps_the_next(store: Store) -> None:
    """A cancelled caller's thread runs on; the next write must wait for it, not share the connection."""
    log: list[str] = []
    started = threading.Event()

    def first(db: Database) -> None:
        with write_tx(db):
            log.append("first start")
            started.set()
            time.sleep(0.2)
            db.execute("CREATE TABLE IF NOT EXISTS scratch (x INTEGER)")
            log.append("first end")

    def second(db: Database) -> bool:
        log.append("second")
        return db.conn.in_transaction

    task = asyncio.create_task(store.write(first))
    await asyncio.to_thread(started.wait, 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await store.write(second) is False
    assert log == ["first start", "first end", "second"]


async def test_reader_connection_is_read_only(store: Store) -> None:
    with pytest.raises(Exception, match=r"readonly|read-only"):
        await store.read(alerts.open_alert, "stuck", "wlc-1", channel="C1", payload={}, now=T0)


async def test_memory_store(tmp_path: Path) -> None:
    async with await Store.open(":memory:") as store:
        alert = await store.write(alerts.open_alert, "stuck", "wlc-1", channel="C1", payload={}, now=T0)
        assert await store.read(alerts.get_alert, alert.id) == alert
