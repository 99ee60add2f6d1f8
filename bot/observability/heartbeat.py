"""A heartbeat on the event loop, so `/healthz` can say the loop was blocked.

The health handler itself runs on the loop, so "it answered" only proves the loop runs now.
What hurts the bot is a loop that *stalls*: a blocking call makes Slack retry unacknowledged
events after 3 s and SSH sessions time out. A task that wakes every `interval` seconds and
measures how late it woke sees exactly that, at the cost of one timer.
"""

from __future__ import annotations

import asyncio
import contextlib


class LoopHeartbeat:
    """`lag()` is how late the loop is running, in seconds (0 when on time), or None when the
    heartbeat is not running (never started, stopped, or its task died)."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_beat = 0.0
        self._last_lateness = 0.0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            return
        self._loop = asyncio.get_running_loop()
        self._last_beat = self._loop.time()
        self._last_lateness = 0.0
        self._task = self._loop.create_task(self._beat(), name="loop-heartbeat")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _beat(self) -> None:
        assert self._loop is not None
        while True:
            due = self._loop.time() + self.interval
            await asyncio.sleep(self.interval)
            now = self._loop.time()
            self._last_lateness = max(0.0, now - due)
            self._last_beat = now

    def lag(self) -> float | None:
        """The larger of the last beat's lateness and how overdue the next beat is now."""
        if not self.running or self._loop is None:
            return None
        overdue = self._loop.time() - self._last_beat - self.interval
        return max(self._last_lateness, overdue, 0.0)
