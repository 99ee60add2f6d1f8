"""Polling a large fleet on every core: shards of it in worker processes.

One asyncio loop on one core reads a 1,000-controller fleet CPU-bound: the
SSH crypto, scrapli's reads and the parsing of 100 AP rows per controller are
all Python. A check of a fleet that large is therefore split into shards, one
per worker process, each polled by the same `poll_fleet` on its own loop; the
snapshots come back in the fleet's order. The worker processes are started
once (spawned, so nothing of the bot's loop, sockets or threads is inherited)
and kept for the next checks.

The static facts of the routine checks live in the main process: each shard
takes those of its controllers along and brings back what it learnt, so which
worker reads a controller next time does not matter. Credentials travel as
today's merged environment, over the pool's pipe, never logged.

Small reads (a site asked for in Slack, a fleet below `SHARD_FROM`) stay on the
loop: starting a shard costs more than they do.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pickle
from collections.abc import AsyncIterator, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

from bot.controllers.polling import PollOptions, poll_fleet
from bot.controllers.static_facts import StaticFacts, StaticRead
from bot.domain.models import ControllerSnapshot
from bot.inventory import Controller

log = logging.getLogger(__name__)

# A check of fewer controllers than this is polled on the loop itself.
SHARD_FROM = 100
MAX_AUTO_WORKERS = 4


def auto_workers(configured: int, cpus: int | None = None) -> int:
    """`CCERT_POLL_WORKERS`: 0 means one worker per core (at most four), 1 means the loop alone."""
    if configured > 0:
        return configured
    return max(1, min(MAX_AUTO_WORKERS, cpus if cpus is not None else (os.cpu_count() or 1)))


def _poll_shard(
    controllers: list[Controller],
    options: PollOptions,
    environ: dict[str, str] | None,
    reads: dict[str, StaticRead],
) -> tuple[list[ControllerSnapshot], dict[str, StaticRead]]:
    """In a worker: poll one shard on a loop of its own; return its snapshots and static reads."""
    facts = StaticFacts(options.facts.refresh) if options.facts is not None else None
    if facts is not None:
        for name, read in reads.items():
            facts.remember(name, read)
    snapshots = asyncio.run(poll_fleet(controllers, replace(options, facts=facts), environ))
    learnt = {} if facts is None else {c.name: r for c in controllers if (r := facts.recall(c.name)) is not None}
    return snapshots, learnt


@dataclass
class LoopLimit:
    """The loop's session limit, as a sharded check shares it with the reads on the loop.

    `semaphore` is what every read on the loop waits on; `size` its permits. A sharded check
    (its shards read in other processes, which cannot wait on this semaphore) takes each
    shard's sessions from it before the shard starts and gives them back when that shard
    ends, so the shards and the loop's reads together stay within `size`. It never takes
    `headroom`: a person's `/ccert status` or a remediation's fresh read during a long
    check still gets sessions at once. `taking` lets one holder take its permits at a time
    (all of them before the next starts), so two holders can never wait on each other.
    """

    semaphore: asyncio.Semaphore
    size: int
    taking: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def of(cls, size: int) -> LoopLimit:
        return cls(asyncio.Semaphore(size), size)

    @property
    def headroom(self) -> int:
        """Sessions a sharded check leaves to the loop's own reads (a fifth, at least one)."""
        return max(1, self.size // 5) if self.size > 1 else 0


@asynccontextmanager
async def _holding(limit: LoopLimit | None, permits: int) -> AsyncIterator[None]:
    """Hold `permits` of the loop's session limit for the block: taken under `limit.taking`
    as the loop's reads hand theirs back, all given back however the block ends."""
    taken = 0
    try:
        if limit is not None:
            async with limit.taking:
                for _ in range(min(permits, limit.size - limit.headroom)):
                    await limit.semaphore.acquire()
                    taken += 1
        yield
    finally:
        for _ in range(taken):
            assert limit is not None
            limit.semaphore.release()


class FleetPoller:
    """`poll_fleet`, sharded over `workers` processes when the fleet is large enough."""

    def __init__(self, workers: int, shard_from: int = SHARD_FROM) -> None:
        self.workers = workers
        self.shard_from = shard_from
        self._pool: ProcessPoolExecutor | None = None

    async def poll(
        self,
        controllers: Iterable[Controller],
        options: PollOptions,
        environ: Mapping[str, str] | None = None,
        *,
        limit: LoopLimit | None = None,
    ) -> list[ControllerSnapshot]:
        """`limit` bounds the reads made on the loop (see `poll_fleet`); shards in worker
        processes share `options.max_concurrency` out between them, and with a `limit`, at
        most its size less its headroom, each shard holding its share while it reads (see
        `LoopLimit`)."""
        fleet = list(controllers)
        on_loop = None if limit is None else limit.semaphore
        if self.workers <= 1 or len(fleet) < max(self.shard_from, 2):
            return await poll_fleet(fleet, options, environ, limit=on_loop)
        total = options.max_concurrency if limit is None else min(options.max_concurrency, limit.size - limit.headroom)
        count = min(self.workers, len(fleet), max(1, total))
        shards = [fleet[k::count] for k in range(count)]
        facts = options.facts
        # The same sessions in flight as on one loop, shared out; each shard gets an empty memory
        # of static facts (its controllers' reads travel beside it, not the whole fleet's).
        shard_options = replace(
            options,
            max_concurrency=max(1, total // count),
            facts=None if facts is None else StaticFacts(facts.refresh),
        )
        loop = asyncio.get_running_loop()
        pool = self._start(count)
        try:
            results = await self._run_shards(loop, pool, shards, shard_options, environ, facts, limit)
        except (BrokenProcessPool, OSError, pickle.PicklingError) as error:
            # A worker died (killed for memory, crashed) or could not be started: the check is
            # still owed. Read the fleet on the loop this time; the next check starts new workers.
            log.error("poll workers failed (%s); this check reads the fleet on the loop", type(error).__name__)
            self.close()
            return await poll_fleet(fleet, options, environ, limit=on_loop)
        by_name: dict[str, ControllerSnapshot] = {}
        for snapshots, learnt in results:
            by_name.update((s.name, s) for s in snapshots)
            if facts is not None:
                for name, read in learnt.items():
                    facts.remember(name, read)
        return [by_name[c.name] for c in fleet]

    async def _run_shards(
        self,
        loop: asyncio.AbstractEventLoop,
        pool: ProcessPoolExecutor,
        shards: list[list[Controller]],
        shard_options: PollOptions,
        environ: Mapping[str, str] | None,
        facts: StaticFacts | None,
        limit: LoopLimit | None,
    ) -> list[tuple[list[ControllerSnapshot], dict[str, StaticRead]]]:
        async def one(shard: list[Controller]) -> tuple[list[ControllerSnapshot], dict[str, StaticRead]]:
            async with _holding(limit, shard_options.max_concurrency):
                return await self._read_shard(loop, pool, shard, shard_options, environ, facts)

        return list(await asyncio.gather(*(one(shard) for shard in shards)))

    @staticmethod
    async def _read_shard(
        loop: asyncio.AbstractEventLoop,
        pool: ProcessPoolExecutor,
        shard: list[Controller],
        shard_options: PollOptions,
        environ: Mapping[str, str] | None,
        facts: StaticFacts | None,
    ) -> tuple[list[ControllerSnapshot], dict[str, StaticRead]]:
        return await loop.run_in_executor(
            pool,
            _poll_shard,
            shard,
            shard_options,
            None if environ is None else dict(environ),
            {} if facts is None else {c.name: r for c in shard if (r := facts.recall(c.name)) is not None},
        )

    def _start(self, count: int) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def close(self) -> None:
        """Stop the workers now (a check in progress in them is abandoned: the next one reads
        again). `shutdown` alone would leave a shard that already runs to finish its poll, and
        the interpreter waits for it at exit: a stopping bot must not hang on that."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())  # not public API
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
