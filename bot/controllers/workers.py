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
from dataclasses import replace

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


@asynccontextmanager
async def _holding(limit: asyncio.Semaphore | None, permits: int) -> AsyncIterator[None]:
    """Hold `permits` of the loop's session limit for the block (taken one by one, as the
    reads on the loop finish theirs; all given back however the block ends)."""
    taken = 0
    try:
        if limit is not None:
            for _ in range(permits):
                await limit.acquire()
                taken += 1
        yield
    finally:
        for _ in range(taken):
            assert limit is not None
            limit.release()


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
        limit: asyncio.Semaphore | None = None,
        limit_size: int | None = None,
    ) -> list[ControllerSnapshot]:
        """`limit` bounds the reads made on the loop (a shared semaphore of `limit_size`
        permits, see `poll_fleet`); shards in worker processes share `options.max_concurrency`
        out between them and, while they read, hold that many of the loop's permits, so a
        person's `/ccert status` or a remediation read meanwhile waits its turn instead of
        opening sessions beyond the limit."""
        fleet = list(controllers)
        if self.workers <= 1 or len(fleet) < max(self.shard_from, 2):
            return await poll_fleet(fleet, options, environ, limit=limit)
        count = min(self.workers, len(fleet))
        shards = [fleet[k::count] for k in range(count)]
        facts = options.facts
        # The same sessions in flight as on one loop, shared out; each shard gets an empty memory
        # of static facts (its controllers' reads travel beside it, not the whole fleet's).
        total = options.max_concurrency if limit_size is None else min(options.max_concurrency, limit_size)
        shard_options = replace(
            options,
            max_concurrency=max(1, total // count),
            facts=None if facts is None else StaticFacts(facts.refresh),
        )
        loop = asyncio.get_running_loop()
        pool = self._start(count)
        try:
            reserved = (
                0 if limit is None or limit_size is None else min(limit_size, count * shard_options.max_concurrency)
            )
            async with _holding(limit, reserved):
                results = await self._run_shards(loop, pool, shards, shard_options, environ, facts)
        except (BrokenProcessPool, OSError, pickle.PicklingError) as error:
            # A worker died (killed for memory, crashed) or could not be started: the check is
            # still owed. Read the fleet on the loop this time; the next check starts new workers.
            log.error("poll workers failed (%s); this check reads the fleet on the loop", type(error).__name__)
            self.close()
            return await poll_fleet(fleet, options, environ, limit=limit)
        by_name: dict[str, ControllerSnapshot] = {}
        for snapshots, learnt in results:
            by_name.update((s.name, s) for s in snapshots)
            if facts is not None:
                for name, read in learnt.items():
                    facts.remember(name, read)
        return [by_name[c.name] for c in fleet]

    @staticmethod
    async def _run_shards(
        loop: asyncio.AbstractEventLoop,
        pool: ProcessPoolExecutor,
        shards: list[list[Controller]],
        shard_options: PollOptions,
        environ: Mapping[str, str] | None,
        facts: StaticFacts | None,
    ) -> list[tuple[list[ControllerSnapshot], dict[str, StaticRead]]]:
        return await asyncio.gather(
            *(
                loop.run_in_executor(
                    pool,
                    _poll_shard,
                    shard,
                    shard_options,
                    None if environ is None else dict(environ),
                    {} if facts is None else {c.name: r for c in shard if (r := facts.recall(c.name)) is not None},
                )
                for shard in shards
            )
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
