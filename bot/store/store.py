"""`Store`: the store as the asyncio bot uses it.

Why a thread per call rather than synchronous calls on the loop: recording a
check of a large fleet writes tens of thousands of AP rows (hundreds of
milliseconds) and a WAL checkpoint may fsync; done on the event loop, that
would stall Slack acknowledgements (3 s budget), the scheduler and every
SSH session. So each method runs the synchronous function from
`bot.store.queries` in a worker thread (`asyncio.to_thread`).

Serialisation: there are two connections to the file.

* The **writer** runs every write, one at a time: an `asyncio.Lock` queues
  writers in the loop (so waiting writes hold no thread), and a
  `threading.Lock` around the actual work guarantees that even a cancelled
  caller, whose thread runs on, never shares the connection with the next.
  Inside, each write is one `BEGIN IMMEDIATE` transaction, which also queues
  against other processes on the same file.
* The **reader** (`query_only`) answers reads under its own locks. In WAL
  mode it sees the last committed state and neither waits for nor blocks a
  long write, so `/ccert history` stays quick while a check is recorded.

Later modules (remediation, audit) add their own query functions taking a
`Database` first and call them through `store.read(fn, ...)` /
`store.write(fn, ...)`, getting the same guarantees without a new method here.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from bot.domain.models import ControllerSnapshot
from bot.domain.verdict import ControllerVerdict
from bot.store import queries as q
from bot.store.db import connect, open_db
from bot.store.records import (
    AlertKind,
    AlertRecord,
    APRecord,
    APState,
    CheckRun,
    CheckRunRecord,
    CheckTrigger,
    ControllerDay,
    DigestRecord,
    EventKind,
    EventRecord,
    FleetSummary,
    PruneResult,
    SiteCheck,
    SiteDay,
    SnapshotRecord,
)

T = TypeVar("T")


class _Connection:
    """One connection, used by one thread at a time, with waiting done in the loop."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue = asyncio.Lock()
        self._guard = threading.Lock()

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        with self._guard:
            return fn(self.db, *args, **kwargs)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async with self._queue:
            return await asyncio.to_thread(self._call, fn, args, kwargs)

    async def close(self) -> None:
        async with self._queue:
            await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._guard:
            self.db.close()


class Store:
    """Async access to the one SQLite store. Create with `await Store.open(path)`."""

    def __init__(self, writer: Database, reader: Database | None = None) -> None:
        self._writer = _Connection(writer)
        self._reader = _Connection(reader) if reader is not None else self._writer
        self._closed = False

    @classmethod
    async def open(cls, path: str | Path) -> Store:
        """Open (create, migrate) the file at `path` (the `CCERT_DB` setting)."""
        writer = await asyncio.to_thread(open_db, path)
        if str(path) == ":memory:":
            return cls(writer)
        reader = await asyncio.to_thread(connect, path, read_only=True)
        return cls(writer, reader)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._writer.close()
        if self._reader is not self._writer:
            await self._reader.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- generic access for other modules' query functions ---------------------------------------

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(db, *args, **kwargs)` on the read-only connection."""
        return await self._reader.run(fn, *args, **kwargs)

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(db, *args, **kwargs)` on the writer, serialised with every other write."""
        return await self._writer.run(fn, *args, **kwargs)

    async def ping(self) -> None:
        """Raise if the store cannot answer a read (closed, or its file gone bad)."""
        await self.read(q.ping)

    # --- checks and snapshots --------------------------------------------------------------------

    async def start_check(self, trigger: CheckTrigger | str, started_at: datetime | None = None) -> int:
        return await self.write(q.start_check, trigger, started_at)

    async def mark_check_overran(self, run_id: int, note: str) -> None:
        await self.write(q.mark_check_overran, run_id, note)

    async def record_check(
        self, run: CheckRun, snapshots: Sequence[ControllerSnapshot], verdicts: Iterable[ControllerVerdict]
    ) -> int:
        return await self.write(q.record_check, run, list(snapshots), list(verdicts))

    async def get_check(self, run_id: int) -> CheckRunRecord:
        return await self.read(q.get_check, run_id)

    async def recent_checks(self, limit: int = 10) -> list[CheckRunRecord]:
        return await self.read(q.recent_checks, limit)

    async def get_snapshot(self, snapshot_id: int) -> SnapshotRecord:
        return await self.read(q.get_snapshot, snapshot_id)

    async def check_snapshots(self, run_id: int) -> list[SnapshotRecord]:
        return await self.read(q.check_snapshots, run_id)

    async def snapshot_aps(self, snapshot_id: int) -> list[APRecord]:
        return await self.read(q.snapshot_aps, snapshot_id)

    async def ap_states(self, controller: str) -> list[APState]:
        return await self.read(q.ap_states, controller)

    async def downloading_since(self, controller: str) -> dict[str, datetime]:
        return await self.read(q.downloading_since, controller)

    # --- history and summaries -------------------------------------------------------------------

    async def latest_snapshots(self, site: str | None = None) -> list[SnapshotRecord]:
        return await self.read(q.latest_snapshots, site)

    async def site_history(self, site: str, limit: int = 10) -> list[SiteCheck | SiteDay]:
        return await self.read(q.site_history, site, limit)

    async def site_days(self, site: str, limit: int = 10, *, pruned_only: bool = False) -> list[SiteDay]:
        return await self.read(q.site_days, site, limit, pruned_only=pruned_only)

    async def controller_days(self, controller: str, since: date | None = None) -> list[ControllerDay]:
        return await self.read(q.controller_days, controller, since)

    async def site_summary_at(self, site: str, at: datetime) -> list[SnapshotRecord]:
        return await self.read(q.site_summary_at, site, at)

    async def fleet_summary(
        self, now: datetime | None = None, compare: timedelta = timedelta(hours=24)
    ) -> FleetSummary:
        return await self.read(q.fleet_summary, now, compare)

    # --- alerts ----------------------------------------------------------------------------------

    async def open_alert(
        self,
        kind: AlertKind | str,
        controller: str,
        *,
        channel: str,
        payload: Mapping[str, Any],
        site: str | None = None,
        now: datetime | None = None,
    ) -> AlertRecord:
        return await self.write(q.open_alert, kind, controller, channel=channel, payload=payload, site=site, now=now)

    async def get_alert(self, alert_id: int) -> AlertRecord:
        return await self.read(q.get_alert, alert_id)

    async def get_open_alert(self, controller: str, kind: AlertKind | str) -> AlertRecord | None:
        return await self.read(q.get_open_alert, controller, kind)

    async def open_alerts(self, kind: AlertKind | str | None = None) -> list[AlertRecord]:
        return await self.read(q.open_alerts, kind)

    async def update_alert_payload(
        self, alert_id: int, payload: Mapping[str, Any], *, now: datetime | None = None
    ) -> AlertRecord:
        return await self.write(q.update_alert_payload, alert_id, payload, now=now)

    async def mark_delivered(self, alert_id: int, ts: str, channel: str, *, now: datetime | None = None) -> AlertRecord:
        return await self.write(q.mark_delivered, alert_id, ts, channel, now=now)

    async def mark_sending(self, alert_id: int, key: str, *, now: datetime | None = None) -> AlertRecord:
        return await self.write(q.mark_sending, alert_id, key, now=now)

    async def mark_delivery_failed(
        self, alert_id: int, error: BaseException | str, *, now: datetime | None = None
    ) -> AlertRecord:
        return await self.write(q.mark_delivery_failed, alert_id, error, now=now)

    async def mark_notified(self, alert_id: int, *, now: datetime | None = None) -> AlertRecord:
        return await self.write(q.mark_notified, alert_id, now=now)

    async def resolve_alert(
        self, alert_id: int, *, payload: Mapping[str, Any] | None = None, now: datetime | None = None
    ) -> AlertRecord:
        return await self.write(q.resolve_alert, alert_id, payload=payload, now=now)

    async def reopen_alert(
        self, alert_id: int, *, payload: Mapping[str, Any], now: datetime | None = None
    ) -> AlertRecord:
        return await self.write(q.reopen_alert, alert_id, payload=payload, now=now)

    async def last_resolved_alert(self, controller: str, kind: AlertKind | str) -> AlertRecord | None:
        return await self.read(q.last_resolved_alert, controller, kind)

    async def alerts_pending_delivery(self) -> list[AlertRecord]:
        return await self.read(q.alerts_pending_delivery)

    # --- outbox ----------------------------------------------------------------------------------

    async def enqueue_event(
        self, alert_id: int, kind: EventKind | str, payload: Mapping[str, Any], *, now: datetime | None = None
    ) -> int:
        return await self.write(q.enqueue_event, alert_id, kind, payload, now=now)

    async def pending_events(self, limit: int | None = None) -> list[EventRecord]:
        return await self.read(q.pending_events, limit)

    async def outbox_pending(self) -> int:
        return await self.read(q.outbox_pending)

    async def mark_event_delivered(
        self, event_id: int, *, ts: str | None = None, now: datetime | None = None
    ) -> EventRecord:
        return await self.write(q.mark_event_delivered, event_id, ts=ts, now=now)

    async def mark_event_sending(self, event_id: int, key: str, *, now: datetime | None = None) -> EventRecord:
        return await self.write(q.mark_event_sending, event_id, key, now=now)

    async def mark_event_failed(self, event_id: int, error: BaseException | str) -> EventRecord:
        return await self.write(q.mark_event_failed, event_id, error)

    # --- digests and housekeeping ----------------------------------------------------------------

    async def digest_sent(self, day: date | str) -> bool:
        return await self.read(q.digest_sent, day)

    async def record_digest(
        self,
        day: date | str,
        *,
        channel: str,
        ts: str | None,
        summary: Mapping[str, Any],
        sent_at: datetime | None = None,
    ) -> DigestRecord:
        return await self.write(q.record_digest, day, channel=channel, ts=ts, summary=summary, sent_at=sent_at)

    async def prune(self, older_than: datetime) -> PruneResult:
        """Prune history before `older_than` and give the space back (see `queries.prune`)."""
        return await self.write(q.prune, older_than)
