"""`Store`: the store as the asyncio bot uses it.

Why a thread per call rather than synchronous calls on the loop: recording a
check of a large fleet writes tens of thousands of AP rows (hundreds of
milliseconds) and a WAL checkpoint may fsync; done on the event loop, that
would stall Slack acknowledgements (3 s budget), the scheduler and every
SSH session. So `read` and `write` run a synchronous store function in a
worker thread (`asyncio.to_thread`).

One idiom for every caller: the store's questions and changes are plain
functions taking the `Db` first, in small modules named for what
they hold (`bot.store.checks`, `alerts`, `outbox`, `digests`, `history`,
`pruning`, `remediation`, ...), called as
`await store.read(alerts.get_open_alert, controller, kind)` or
`await store.write(alerts.resolve_alert, alert_id, now=now)`. `Store`
itself holds no queries: only opening, closing, `read`, `write`, `ping`
and the connection discipline below, so a new query is one function in
the module it belongs to and never a method here as well.

Serialisation: there are two connections to the store (a SQLite file, or a
PostgreSQL database, `bot.store.sql`).

* The **writer** runs every write, one at a time: an `asyncio.Lock` queues
  writers in the loop (so waiting writes hold no thread), and a
  `threading.Lock` around the actual work guarantees that even a cancelled
  caller, whose thread runs on, never shares the connection with the next.
  Inside, each write is one `write_tx` transaction, which also queues against
  other processes on the same store (`BEGIN IMMEDIATE` on SQLite, an advisory
  lock on PostgreSQL).
* The **reader** (read-only) answers reads under its own locks. It sees the
  last committed state and neither waits for nor blocks a long write, so
  `/ccert history` stays quick while a check is recorded.

A PostgreSQL connection the server dropped (a restart, a terminated backend)
is opened again before the next call (`PgDatabase.revive`); the call that met
the drop fails, as any failed write does, and changed nothing.

A read function must not write (the reader is read-only); a write
function runs its changes in `write_tx`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bot.store.db import connect, open_db, ping
from bot.store.pg import PgDatabase
from bot.store.sql import Db

T = TypeVar("T")


class _Connection:
    """One connection, used by one thread at a time, with waiting done in the loop."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self._queue = asyncio.Lock()
        self._guard = threading.Lock()

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        with self._guard:
            if isinstance(self.db, PgDatabase):
                self.db.revive()
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
    """Async access to the store (SQLite or PostgreSQL). Create with `await Store.open(target)`."""

    def __init__(self, writer: Db, reader: Db | None = None) -> None:
        self._writer = _Connection(writer)
        self._reader = _Connection(reader) if reader is not None else self._writer
        self._closed = False

    @classmethod
    async def open(cls, target: str | Path, *, password: str | None = None) -> Store:
        """Open (create, migrate) the store at `target` (`CCERT_DB`: a file or a PostgreSQL URL)."""
        writer = await asyncio.to_thread(open_db, target, password=password)
        if str(target) == ":memory:":
            return cls(writer)
        reader = await asyncio.to_thread(connect, target, read_only=True, password=password)
        return cls(writer, reader)

    @property
    def backend(self) -> str:
        """`sqlite` or `postgresql`: what status and health checks report."""
        return "postgresql" if isinstance(self._writer.db, PgDatabase) else "sqlite"

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

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(db, *args, **kwargs)` on the read-only connection."""
        return await self._reader.run(fn, *args, **kwargs)

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(db, *args, **kwargs)` on the writer, serialised with every other write."""
        return await self._writer.run(fn, *args, **kwargs)

    async def ping(self) -> None:
        """Raise if the store cannot answer a read (closed, or its file gone bad)."""
        await self.read(ping)
