"""An AP's own failure log raises its controller's alert within seconds, not at the next check.

The syslog receiver tells `APLogAlerts.failed` of every AP that starts a failure episode (its
first image-certificate failure, or the first after a success). When the controller's last
snapshot saw that AP `Downloading`, its log proves what the stuck threshold would only have
guessed, so the controller's alert is judged again at once (`FleetChecker.alert_from_ap_log`:
the same alert rules, the same outbox, never a second alert path). Otherwise nothing happens
now: an AP the last snapshot saw in another state, or one no snapshot names, is confirmed by
the next check, as before (an AP that fails while `Registered` is not stuck in a download loop).

Debounced per controller, because APs fail together (a controller upgrade, a failover: every
IOS AP at once): the first failure arms a short timer, each further one within `quiet` pushes
it back, and `longest` after the first it fires whatever comes; a burst gives one judgement,
so one alert or one update. What it keeps is bounded by the fleet (one timer and one set of
AP names per controller the snapshots name); the receiver's own limits (queue, per-sender
rate) stay in front of it. Only the leader alerts: on a standby `failed` does nothing, and
losing the lead cancels the timers (`cancel`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.domain.models import AccessPoint
from bot.syslog.pipeline import SyslogEvent

log = logging.getLogger(__name__)

# How long a controller stays quiet before its APs' failures are judged, and the longest a
# first failure waits however many follow (seconds).
DEFAULT_QUIET = 0.5
DEFAULT_LONGEST = 2.0


@dataclass
class _Burst:
    """One controller's failures not judged yet: the APs, when the first and the latest came."""

    first: float
    latest: float
    aps: set[str] = field(default_factory=set)


@dataclass
class APLogAlertStats:
    """What `failed` was told, and what became of it (for the logs and the tests).

    - `heard`: AP failure episodes the receiver reported
    - `judged`: controller judgements made (one per debounced burst)
    - `next_check`: left to the next check (AP not `Downloading` in the last snapshot, or unknown)
    - `standby`: not acted on because this instance does not lead
    - `errors`: judgements that failed (logged; the next check judges again)
    - `last`: each controller's last judgement, as the judge returned it (one per controller)
    """

    heard: int = 0
    judged: int = 0
    next_check: int = 0
    standby: int = 0
    errors: int = 0
    last: dict[str, object] = field(default_factory=dict)


class APLogAlerts:
    """Per-controller debounce between the syslog receiver and the alert rules."""

    def __init__(
        self,
        judge: Callable[[str], Awaitable[object]],
        *,
        is_leader: Callable[[], bool],
        quiet: float = DEFAULT_QUIET,
        longest: float = DEFAULT_LONGEST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if quiet <= 0 or longest < quiet:
            raise ValueError("quiet must be positive and longest at least quiet")
        self.judge = judge
        self.is_leader = is_leader
        self.quiet = quiet
        self.longest = longest
        self.clock = clock
        self.stats = APLogAlertStats()
        self._bursts: dict[str, _Burst] = {}  # controller → what it heard since its last judgement
        self._timers: dict[str, asyncio.Task[None]] = {}

    def failed(self, controller: str | None, ap: AccessPoint | None, event: SyslogEvent) -> None:
        """The receiver's `on_failure` hook. Synchronous and cheap: it runs in the receiver's
        worker for every AP of a burst, and only arms (or pushes back) a timer."""
        self.stats.heard += 1
        if controller is None or ap is None or not ap.is_downloading:
            self.stats.next_check += 1
            log.info(
                "%s logged a certificate failure (%s), not Downloading in the last snapshot%s: left to the next check",
                event.ap_name or "an AP",
                event.match.id,
                "" if controller else ", nor known to any",
            )
            return
        if not self.is_leader():
            self.stats.standby += 1
            return
        now = self.clock()
        burst = self._bursts.setdefault(controller, _Burst(now, now))
        burst.latest = now
        burst.aps.add(ap.name)
        if controller not in self._timers:
            task = asyncio.get_running_loop().create_task(self._run(controller), name=f"ap-log-alert-{controller}")
            self._timers[controller] = task

    @property
    def waiting(self) -> dict[str, int]:
        """Controller → APs heard and not judged yet."""
        return {name: len(burst.aps) for name, burst in self._bursts.items()}

    async def _run(self, controller: str) -> None:
        """Wait for the burst to settle, judge, and again while failures came in meanwhile."""
        try:
            while controller in self._bursts:
                await self._settle(controller)
                burst = self._bursts.pop(controller, None)
                if burst is None or not self.is_leader():
                    continue
                aps = burst.aps
                self.stats.judged += 1
                log.info(
                    "%s: %d AP(s) logged the certificate failure while Downloading: judging its alert now",
                    controller,
                    len(aps),
                )
                try:
                    self.stats.last[controller] = await self.judge(controller)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # the next check judges again; the receiver carries on
                    self.stats.errors += 1
                    log.warning("could not judge %s's alert from its APs' log: %s", controller, type(error).__name__)
        finally:
            self._timers.pop(controller, None)

    async def _settle(self, controller: str) -> None:
        """Sleep until `quiet` after the latest failure, or `longest` after the first."""
        for _ in range(1000):  # each pass sleeps; bounded by `longest` in any case
            burst = self._bursts.get(controller)
            if burst is None:
                return
            due = min(burst.latest + self.quiet, burst.first + self.longest) - self.clock()
            if due <= 0:
                return
            await asyncio.sleep(due)

    async def cancel(self, grace: float = 0.0) -> None:
        """Stop every timer (the lead was lost, or the bot stops): a judgement under way gets
        `grace` seconds to finish its post; what is left the next check judges."""
        timers = [t for t in self._timers.values() if not t.done()]
        if timers and grace > 0:
            await asyncio.wait(timers, timeout=grace)
        for task in timers:
            task.cancel()
        if timers:
            await asyncio.gather(*timers, return_exceptions=True)
        self._bursts.clear()
        self._timers.clear()


__all__ = ["DEFAULT_LONGEST", "DEFAULT_QUIET", "APLogAlertStats", "APLogAlerts"]
