"""Simulated time: how fast the simulated world runs against the real one.

Every time-based behaviour of the simulator (an AP's image download, NTP
pulling a hand-set clock back, a hand-set clock ticking on) is measured in
*simulated seconds*, which pass `scale` times faster than real seconds, so a
test can watch a two-minute download in a fraction of a second.

A controller clock that NTP keeps in sync reads real wall time; a clock set by
hand reads the value it was set to plus the simulated seconds since then. The
two meet again when NTP steps the clock back (see `model.Controller`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime


class TimeBase:
    """Maps real elapsed time to simulated seconds for one simulator run."""

    def __init__(
        self,
        scale: float = 60.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.scale = float(scale)
        self._monotonic = monotonic
        self._start_mono = monotonic()
        self._start_wall = wall()

    def sim_now(self) -> float:
        """Simulated seconds since this time base was created."""
        return (self._monotonic() - self._start_mono) * self.scale

    def wall_at(self, sim_t: float) -> datetime:
        """Real UTC wall time at simulated instant `sim_t` (what NTP would say)."""
        return datetime.fromtimestamp(self._start_wall + sim_t / self.scale, UTC)
