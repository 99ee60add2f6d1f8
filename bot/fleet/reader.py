"""The one way the bot reads controllers: every read under one session limit.

Three callers read controllers: a person asking (`/ccert status`, through
`FleetService`), the scheduled check (`bot.jobs.checks`) and a remediation request
or preview (a fresh read before anyone approves). They used to poll each on their
own, each with its own bound (remediation with none), so an incident with a check
running, people asking and a request being built could open several times
`CCERT_MAX_CONCURRENCY` sessions at once. A `FleetReader` is shared by all three
(the `Runtime` builds one): its semaphore is the limit for every read on the loop.

What a read does (timeouts, incomplete reads, host keys, static facts) is
`bot.controllers.polling`'s, unchanged: this module only decides how many run at
once and whether a large check goes to the worker processes.

A check of a large fleet sharded over worker processes (`CCERT_POLL_WORKERS`) shares
the limit out between its shards (each process has its own loop, so it cannot wait on
this semaphore): each shard holds its share of the loop's permits while it reads, and a
fifth of the limit is always left to the loop's own reads, so the shards and a person's
read meanwhile stay within the one limit together and the person is not kept waiting
behind the check (`bot.controllers.workers.LoopLimit`).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable, Mapping

from bot.controllers.polling import PollOptions, SessionFactory, poll_fleet
from bot.controllers.read_session import ReadSession
from bot.controllers.workers import FleetPoller, LoopLimit, auto_workers
from bot.domain.models import ControllerSnapshot
from bot.inventory import Controller
from bot.settings import Settings


class FleetReader:
    """Reads controllers at most `max_concurrency` sessions at a time, whoever asks."""

    def __init__(self, max_concurrency: int = 50, workers: int = 1) -> None:
        self.max_concurrency = max_concurrency
        # A large scheduled check is polled on every core; `close()` stops the workers.
        self.poller = FleetPoller(workers)
        # One semaphore per event loop: an asyncio semaphore belongs to the loop it first waits
        # on, and a reader outlives a loop in tests (and `asyncio.run` per CLI command).
        self._limits: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopLimit] = weakref.WeakKeyDictionary()

    @classmethod
    def from_settings(cls, settings: Settings) -> FleetReader:
        """`CCERT_MAX_CONCURRENCY` sessions at once; `CCERT_POLL_WORKERS` processes for large checks."""
        return cls(settings.max_concurrency, auto_workers(settings.poll_workers))

    def limit(self) -> LoopLimit:
        """The running loop's session limit, shared by every read on it (its size kept with it)."""
        loop = asyncio.get_running_loop()
        found = self._limits.get(loop)
        if found is None:
            found = self._limits[loop] = LoopLimit.of(self.max_concurrency)
        return found

    async def read(
        self,
        controllers: Iterable[Controller],
        options: PollOptions,
        environ: Mapping[str, str] | None = None,
        *,
        session_factory: SessionFactory = ReadSession,
    ) -> list[ControllerSnapshot]:
        """Read `controllers` on the loop under the limit; snapshots in input order."""
        return await poll_fleet(
            controllers, options, environ, session_factory=session_factory, limit=self.limit().semaphore
        )

    async def read_fleet(
        self, controllers: Iterable[Controller], options: PollOptions, environ: Mapping[str, str] | None = None
    ) -> list[ControllerSnapshot]:
        """A whole-fleet check: on the loop under the limit, or sharded over the worker
        processes when the fleet is large enough (see the module docstring)."""
        return await self.poller.poll(controllers, options, environ, limit=self.limit())

    def close(self) -> None:
        """Stop the worker processes (a sharded check in them is abandoned)."""
        self.poller.close()
