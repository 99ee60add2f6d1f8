"""Active/standby: which instance runs the jobs and drives the runs, and when it must stop.

Every instance answers Slack; exactly one, the **leader**, runs the scheduled checks, the
digest, housekeeping, the outbox, syslog alerting, the change-window timer and the remediation
runs. The lead is the PostgreSQL session advisory lock (`bot.store.leader_lock`); with SQLite
there is one instance and it always leads.

The timing, from `CCERT_LEADER_TIMEOUT_SECONDS` (T, default 15):

* every instance looks every `T/5` seconds: a standby tries to take the lock, the leader checks
  that its lock session still answers and still holds it (each call bounded by `T/5`);
* a leader whose check fails, or that has had no successful check for `T/2`, **stops acting at
  once** (`on_lost`: jobs, timer and runs cancelled; a run is left exactly where it was, for
  the next leader's recovery) and becomes a standby;
* a standby that takes the lock **waits `T/2` before acting** (re-checking it meanwhile), so
  a leader cut off from the database has stopped before the new one starts: with the lock
  freed the moment the old session ends (kill, terminated backend) or when the server's
  keepalive gives it up (a partition), two leaders never act at once;
* so a killed leader is replaced after about `T/5 + T/2` (under T), and the fence on every
  device-changing step (`Leadership.fence`, checked again by the database in the step's own
  transaction) covers whatever the timing misses.

What this module knows nothing of: what the leader does. `on_elected` and `on_lost` are the
runtime's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from bot.store.records import FencedOut
from bot.store.remediation import Fence

log = logging.getLogger(__name__)


class Lock(Protocol):
    """`LeaderLock` (PostgreSQL) or `SoloLock` (SQLite); blocking calls, run in a thread."""

    instance: str

    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def fence(self) -> Fence: ...

    def holder(self) -> str | None: ...

    def release(self) -> None: ...

    def close(self) -> None: ...


LockFactory = Callable[[], Lock]
Hook = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class LeaderView:
    """What status, `/healthz` and `/metrics` say about the lead."""

    instance: str
    leading: bool
    leader: str | None  # the instance that leads, as last seen (None: nobody, or not known)
    shared: bool  # PostgreSQL: other instances may exist
    since: datetime | None  # when this instance took the lead (or lost it)

    def describe(self) -> str:
        if not self.shared:
            return f"{self.instance} (the only instance: SQLite)"
        if self.leading:
            return f"{self.instance} leads"
        who = self.leader or "nobody yet (a standby takes the lead within CCERT_LEADER_TIMEOUT_SECONDS)"
        return f"{self.instance} is a standby; the leader is {who}"


class Leadership:
    """The lead for one instance: `start()`, then `is_leader`/`fence()`; `stop()` gives it up."""

    def __init__(
        self,
        lock_factory: LockFactory,
        timeout_seconds: float,
        *,
        shared: bool,
        on_elected: Hook,
        on_lost: Hook,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._factory = lock_factory
        self._lock = lock_factory()
        self.instance = self._lock.instance
        self.timeout = float(timeout_seconds)
        self.shared = shared
        self.poll = max(0.2, self.timeout / 5)
        self.grace = self.timeout / 2 if shared else 0.0
        self._on_elected = on_elected
        self._on_lost = on_lost
        self._clock = clock
        self._leading = False
        self._last_ok = 0.0
        self._leader: str | None = None
        self._since: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.transitions = 0  # how many times the lead was taken (tests, the benchmark)

    # --- what the rest of the bot asks -------------------------------------------------------

    @property
    def is_leader(self) -> bool:
        return self._leading

    def fence(self) -> Fence:
        """What a device-changing step must still hold; `FencedOut` when this instance may not act.

        The answer here is this process's belief; the database checks the fence again, in the
        step's own transaction (`q.check_fence`: the lock session still holds the lock, the run
        is still ours), which is what makes it true even when the belief is late.
        """
        if not self._leading:
            raise FencedOut(f"{self.instance} does not lead now: the step is left to the leader")
        return self._lock.fence()

    def view(self) -> LeaderView:
        leader = self.instance if self.is_leader else self._leader
        return LeaderView(self.instance, self.is_leader, leader, self.shared, self._since)

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Begin. Without other instances (SQLite) the lead is taken before this returns, so a
        lone bot starts exactly as it always did; with PostgreSQL the loop runs in the background."""
        if not self.shared and await asyncio.to_thread(self._lock.try_acquire):
            await self._elected()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="leadership")

    async def stop(self) -> None:
        """Stop looking; give the lead up (the lock's session ends, a standby may take over)."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        # The runtime has stopped what the leader runs already; only the lock remains.
        self._leading = False
        lock = self._lock
        await asyncio.to_thread(lock.release)

    # --- the loop ----------------------------------------------------------------------------

    async def _call(self, fn: Callable[[], object]) -> object:
        """A blocking lock call, bounded by `poll`: a hung database counts as a failed call."""
        return await asyncio.wait_for(asyncio.to_thread(fn), self.poll)

    async def _run(self) -> None:
        while not self._stopping:
            if self._leading:
                await self._renew()
            else:
                await self._try_to_lead()
            await asyncio.sleep(self.poll)

    async def _renew(self) -> None:
        if self._clock() - self._last_ok > self.timeout / 2:
            await self._lost(f"no successful check of the leader lock for over {self.timeout / 2:g} s")
            return
        try:
            held = bool(await self._call(self._lock.still_held))
        except (Exception, TimeoutError) as error:
            held = False
            log.warning("the leader lock did not answer (%s)", type(error).__name__)
        if held:
            self._last_ok = self._clock()
            return
        await self._lost("the leader lock's session was lost")

    async def _try_to_lead(self) -> None:
        try:
            got = bool(await self._call(self._lock.try_acquire))
        except (Exception, TimeoutError) as error:
            log.info("cannot reach the database for the lead (%s); trying again", type(error).__name__)
            await self._fresh_lock()
            return
        if not got:
            with contextlib.suppress(Exception, TimeoutError):
                self._leader = await self._call(self._lock.holder)  # type: ignore[assignment]
            return
        self._last_ok = self._clock()
        if self.grace:
            log.info("%s took the leader lock: acting in %.1f s", self.instance, self.grace)
            if not await self._hold_through_grace():
                return
        await self._elected()

    async def _hold_through_grace(self) -> bool:
        """Keep checking the new lock for `grace` seconds before acting (see the module docstring)."""
        deadline = self._clock() + self.grace
        while self._clock() < deadline:
            await asyncio.sleep(min(self.poll, max(0.0, deadline - self._clock())))
            try:
                held = bool(await self._call(self._lock.still_held))
            except (Exception, TimeoutError):
                held = False
            if not held:
                log.warning("the leader lock was lost before this instance acted")
                await self._fresh_lock()
                return False
            self._last_ok = self._clock()
        return True

    async def _elected(self) -> None:
        self._leading = True
        self._last_ok = self._clock()
        self._leader = self.instance
        self._since = datetime.now(UTC)
        self.transitions += 1
        if self.shared:
            log.warning("%s is the leader now", self.instance)
        await self._on_elected()

    async def _lost(self, why: str) -> None:
        self._leading = False
        self._leader = None
        self._since = datetime.now(UTC)
        log.error("%s stopped leading: %s; its jobs and runs are stopped, a standby takes over", self.instance, why)
        try:
            await self._on_lost()
        finally:
            await self._fresh_lock()

    async def _fresh_lock(self) -> None:
        """Drop the lock's connection (a thread may still be blocked on it) and start anew."""
        old = self._lock
        self._lock = self._factory()
        loop = asyncio.get_running_loop()
        loop.run_in_executor(None, old.close)
