"""A remediation request's chat, kept up to date from a task of its own.

A time-back leaves the controller with its clock in 2022 and NTP deleted
until the run restores it: every second of that window is a risk. When the
request message was refreshed and each run event posted from inside the
step, a slow Slack (20 s per call) stretched the window from 2 s to 120 s,
and a hung one by the client's timeout and retries each time. So the run
only *says* what happened (`refresh`, `event`: they return at once) and one
drain task per request tells Slack, in order, as fast as Slack allows.

Two things keep a slow Slack from piling up work:

* refreshes coalesce: the request message is re-rendered from the store when
  its turn comes, so one refresh that has not started yet stands for every
  later one;
* each request keeps at most `max_pending` waiting items; past that the
  oldest events are dropped, counted, and a note in the thread says how many
  and where to read them (the audit has every one).

Nothing here knows Slack: the two callables do the talking, and they are
expected to swallow and log their own delivery failures (`ChatProgress`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.remediation.engine import RunEvent, RunInfo

log = logging.getLogger(__name__)

# Per request: far more than a run produces (a dozen steps, a few events each), few enough that
# a Slack that answers nothing cannot make the bot hold thousands of messages.
MAX_PENDING = 200

Refresher = Callable[[int], Awaitable[None]]
EventPoster = Callable[[int, RunInfo, RunEvent], Awaitable[None]]
NotePoster = Callable[[int, str, str], Awaitable[None]]


@dataclass(frozen=True)
class _Refresh:
    pass


@dataclass(frozen=True)
class _Event:
    run: RunInfo
    event: RunEvent


@dataclass(frozen=True)
class _Note:
    """A line for the thread that is not a run's (a vote's reason, a cancel, a window)."""

    text: str
    level: str = "info"


_Item = _Refresh | _Event | _Note
_REFRESH = _Refresh()


@dataclass
class _Lane:
    """One request's waiting items and the task draining them (None when idle)."""

    items: deque[_Item]
    task: asyncio.Task[None] | None = None
    dropped: int = 0
    last_run: RunInfo | None = None


class RequestChat:
    """Per-request ordered chat updates, drained in the background.

    `refresh(id)` and `event(id, run, event)` never wait; `idle()` waits
    (bounded) until everything queued was handed to the callables, and
    `aclose(grace)` is the shutdown: finish within `grace`, cancel the rest
    (the store keeps the truth; the next refresh of the message shows it).
    """

    def __init__(
        self,
        refresh: Refresher,
        post_event: EventPoster,
        *,
        post_note: NotePoster | None = None,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self._refresh = refresh
        self._post_event = post_event
        self._post_note = post_note
        self._max_pending = max_pending
        self._lanes: dict[int, _Lane] = {}
        self._closed = False

    def refresh(self, request_id: int) -> None:
        """The request message should show the request's current state (re-read when sent)."""
        lane = self._lane(request_id)
        if _REFRESH not in lane.items:  # a refresh not yet started reads the newest state anyway
            lane.items.append(_REFRESH)
        self._kick(request_id, lane)

    def event(self, request_id: int, run: RunInfo, event: RunEvent) -> None:
        """A notable run event for the request's thread, after everything queued before it."""
        lane = self._lane(request_id)
        lane.items.append(_Event(run, event))
        lane.last_run = run
        while len(lane.items) > self._max_pending:
            oldest = next((item for item in lane.items if isinstance(item, _Event)), None)
            if oldest is None:
                break
            lane.items.remove(oldest)
            lane.dropped += 1
        self._kick(request_id, lane)

    def note(self, request_id: int, text: str, level: str = "info") -> None:
        """A line for the request's thread (a vote's reason, a cancel), after everything queued before it."""
        if self._post_note is None:
            return
        lane = self._lane(request_id)
        lane.items.append(_Note(text, level))
        self._kick(request_id, lane)

    def pending(self, request_id: int) -> int:
        """Items still waiting for `request_id` (0 when its chat is up to date)."""
        lane = self._lanes.get(request_id)
        return 0 if lane is None else len(lane.items) + (1 if lane.task is not None else 0)

    async def idle(self, request_id: int | None = None, timeout: float | None = None) -> bool:
        """Wait until the chat of `request_id` (or of every request) is up to date; True if it is."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            tasks = {
                lane.task
                for rid, lane in self._lanes.items()
                if lane.task is not None and (request_id is None or rid == request_id)
            }
            if not tasks:
                return True
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            await asyncio.wait(tasks, timeout=remaining)

    async def aclose(self, grace: float = 0.0) -> None:
        """Stop taking items; let the drains finish for up to `grace` seconds, then cancel them."""
        self._closed = True
        if grace > 0:
            await self.idle(timeout=grace)
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # ---------------------------------------------------------------------------------------------

    def _lane(self, request_id: int) -> _Lane:
        return self._lanes.setdefault(request_id, _Lane(deque()))

    def _kick(self, request_id: int, lane: _Lane) -> None:
        if self._closed:
            lane.items.clear()
            return
        if lane.task is None:
            lane.task = asyncio.get_running_loop().create_task(
                self._drain(request_id, lane), name=f"remediation-chat-{request_id}"
            )

    async def _drain(self, request_id: int, lane: _Lane) -> None:
        try:
            # One loop for both, so an item that arrives while the last note is being told is
            # drained here too (this task is still the lane's: `_kick` starts no other).
            while lane.items or (lane.dropped and lane.last_run is not None):
                if not lane.items:
                    assert lane.last_run is not None
                    await self._tell_dropped(request_id, lane, lane.last_run)
                    continue
                item = lane.items.popleft()
                if isinstance(item, _Event) and lane.dropped:
                    await self._tell_dropped(request_id, lane, item.run)
                await self._deliver(request_id, item)
        finally:
            lane.task = None
            if not lane.items:
                self._lanes.pop(request_id, None)

    async def _tell_dropped(self, request_id: int, lane: _Lane, run: RunInfo) -> None:
        count, lane.dropped = lane.dropped, 0
        text = (
            f"{count} progress note{'s' if count != 1 else ''} of this run were not posted because Slack "
            f"was too slow to take them; `/ccert audit {request_id}` lists every step"
        )
        await self._deliver(request_id, _Event(run, RunEvent("warning", text, datetime.now(UTC))))

    async def _deliver(self, request_id: int, item: _Item) -> None:
        try:
            if isinstance(item, _Event):
                await self._post_event(request_id, item.run, item.event)
            elif isinstance(item, _Note):
                if self._post_note is not None:
                    await self._post_note(request_id, item.text, item.level)
            else:
                await self._refresh(request_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # a broken renderer must not stop the rest of the thread
            log.exception("chat update for request #%s failed (ignored)", request_id)
