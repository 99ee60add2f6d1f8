"""The App Home tab: published on open, republished for the people looking when things change.

`HomePublisher` is the one place that calls `views.publish`:

* `opened(user)` (the `app_home_opened` event) publishes that user's home, built fresh
  from the store, as soon as the budget allows, so the tab is always correct when it is
  opened: at once while fewer than `open_burst` opens are being published and the
  minute's budget has room, else the user is queued ahead of every republish and the
  worker publishes them next. Opens count against the same `per_minute` budget as
  republishes (an open storm of 400 people must not send 400 views a minute, nor build
  400 homes at once on the store's one reader connection, which a remediation run reads
  through too). The user is remembered as a viewer (at most `max_viewers`, the least
  recent forgotten first, and each forgotten `forget_after` seconds after their last open);
* `changed()` (a request created, voted, scheduled, started, stepped or ended; a check
  recorded) only marks every viewer as due and wakes the worker: it never blocks and never
  raises, so a check or a vote never waits on Slack. The worker waits `debounce` seconds
  so that a burst of changes becomes one round, then republishes the due viewers, most
  recent openers first, at most `per_minute` publishes a minute (views.publish is Slack's
  tier 4, about 100 a minute: the bot stays well under). Each publish reads the state
  when it is made, so the newest state always wins and a viewer due twice is published
  once; the due set holds each viewer once, so it is bounded by `max_viewers`. A user's
  home is never published twice at once: a user being published is only marked due,
  and published again (with the newest state) once that publish is over, so the views
  reach Slack in the order they were built;
* `notice(user, reply)` answers a click made in the Home tab itself, which has no channel
  to answer in: the answer is shown at the top of that user's home for a few minutes.

The home's content is `/ccert home`'s answer (the dispatcher's, so the console twin and
`CCERT_ACCESS` see exactly the same), rendered as a view (`render.home_view`). Every
failure is logged with Slack's error code, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.dispatch import Dispatcher
from bot.chat.reply import Reply, Section
from bot.slack.identity import UserGroupDirectory, build_caller
from bot.slack.render import home_view

log = logging.getLogger(__name__)

HOME_COMMAND = "home"
MAX_VIEWERS = 500
FORGET_AFTER_SECONDS = 3600.0
DEBOUNCE_SECONDS = 2.0
PUBLISHES_PER_MINUTE = 50
NOTICE_SECONDS = 300.0
# Opens published at once, at the same time (within the budget); past this the worker publishes them next.
OPEN_BURST = 10


def _error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    try:
        code = response.get("error") if response is not None else None
    except Exception:  # pragma: no cover - defensive
        code = None
    return f"{type(error).__name__}({code})" if code else type(error).__name__


class HomePublisher:
    """Publishes the Home tab (see the module docstring): `opened`, `changed`, `notice`; `aclose`
    at shutdown. Slack says when a home is opened, never when it is closed, so a viewer is
    whoever opened it within `forget_after` seconds."""

    def __init__(
        self,
        client: AsyncWebClient,
        dispatcher: Dispatcher,
        groups: UserGroupDirectory,
        *,
        max_viewers: int = MAX_VIEWERS,
        forget_after: float = FORGET_AFTER_SECONDS,
        debounce: float = DEBOUNCE_SECONDS,
        per_minute: int = PUBLISHES_PER_MINUTE,
        open_burst: int = OPEN_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.dispatcher = dispatcher
        self.groups = groups
        self.max_viewers = max_viewers
        self.forget_after = forget_after
        self.debounce = debounce
        self.per_minute = max(1, per_minute)
        self.open_burst = max(1, open_burst)
        self.clock = clock
        self._viewers: OrderedDict[str, float] = OrderedDict()  # user → when last opened, oldest first
        self._due: dict[str, None] = {}  # viewers to republish (an ordered set)
        self._opened: dict[str, None] = {}  # opens waiting for the budget, first come first: before `_due`
        self._in_flight: set[str] = set()  # being published: never a second publish for them at once
        self._notices: dict[str, tuple[str, float]] = {}
        self._sent: deque[float] = deque()  # when the publishes of the last minute were made
        self._wake: asyncio.Event | None = None
        self._opened_meanwhile = asyncio.Event()  # an open was queued: the debounce ends early
        self._worker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.published = 0
        self.failed = 0

    # ------------------------------------------------------------------ what the bot calls

    @property
    def viewers(self) -> tuple[str, ...]:
        """Who has the home open (as far as the bot knows), most recent first."""
        self._forget()
        return tuple(reversed(self._viewers))

    def opened(self, user_id: str) -> None:
        """`app_home_opened`: remember the viewer and publish their home now."""
        if self._closed or not user_id:
            return
        self._viewers.pop(user_id, None)
        self._viewers[user_id] = self.clock()
        while len(self._viewers) > self.max_viewers:
            gone, _ = self._viewers.popitem(last=False)
            self._due.pop(gone, None)
            self._opened.pop(gone, None)
            self._notices.pop(gone, None)
        self._publish_now(user_id)

    def changed(self, *_: object) -> None:
        """Something the home shows changed: republish every viewer's home soon. Never blocks,
        never raises (a listener of the remediation service and of the checks)."""
        try:
            if self._closed:
                return
            self._forget()
            for user in reversed(self._viewers):
                self._due[user] = None
            if self._due:
                self._ensure_worker()
        except Exception:  # pragma: no cover - a listener must not break its caller
            log.exception("home: could not schedule a republish")

    def notice(self, user_id: str, reply: Reply) -> None:
        """Show `reply` (a click's answer) at the top of `user_id`'s home for a few minutes."""
        if self._closed or not user_id:
            return
        text = " ".join(p for p in (reply.title, reply.text) if p).strip()
        if not text:
            return
        self._notices[user_id] = (text[:1000], self.clock())
        while len(self._notices) > self.max_viewers:
            self._notices.pop(next(iter(self._notices)))
        self._publish_now(user_id)

    async def publish(self, user_id: str) -> bool:
        """Build and publish `user_id`'s home now, whatever the budget (it counts against it);
        True when Slack took it. Never raises."""
        self._sent.append(self.clock())
        return await self._build_and_publish(user_id)

    async def _build_and_publish(self, user_id: str) -> bool:
        """The publish itself; its turn in the budget was taken by the caller (before any await,
        so two callers cannot both take the last one)."""
        try:
            caller = await build_caller(self.groups, user_id, None, None)
            result = await self.dispatcher.dispatch(HOME_COMMAND, caller)
            reply = self._with_notice(user_id, result.ack)
            await self.client.views_publish(user_id=user_id, view=home_view(reply))
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.failed += 1
            log.warning("could not publish the Home tab of %s: %s", user_id, _error_code(error))
            return False
        self.published += 1
        return True

    async def aclose(self) -> None:
        self._closed = True
        tasks = [t for t in (self._worker, *self._tasks) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until nothing is due or being published (tests). True when idle."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._due or self._opened or self._in_flight or any(not t.done() for t in self._tasks):
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    # ------------------------------------------------------------------ inside

    def _with_notice(self, user_id: str, reply: Reply) -> Reply:
        notice = self._notices.get(user_id)
        if notice is None:
            return reply
        text, at = notice
        if self.clock() - at > NOTICE_SECONDS:
            self._notices.pop(user_id, None)
            return reply
        section = Section(title="Your last click", text=text)
        return replace(reply, sections=(section, *reply.sections))

    def _forget(self) -> None:
        cutoff = self.clock() - self.forget_after
        while self._viewers:
            user, at = next(iter(self._viewers.items()))
            if at >= cutoff:
                break
            self._viewers.pop(user)
            self._due.pop(user, None)
            self._opened.pop(user, None)
            self._notices.pop(user, None)

    def _publish_now(self, user_id: str) -> None:
        """An open or a notice: publish at once in a task of its own when it may (see `_may_open_now`),
        else queue the user ahead of the republishes, for the worker to publish next."""
        if not self._may_open_now(user_id):
            self._opened[user_id] = None
            self._opened_meanwhile.set()
            self._ensure_worker()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.warning("home: no event loop to publish on")
            return
        self._start(user_id)
        task = loop.create_task(self._publish_started(user_id), name=f"slack:home {user_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _may_open_now(self, user_id: str) -> bool:
        """Not already being published (a second publish at once could finish first and leave
        the older view), nobody opened before them still waiting, fewer than `open_burst` opens
        under way (each builds a home on the store's one reader), and room in the budget."""
        return (
            user_id not in self._in_flight
            and not self._opened
            and len(self._tasks) < self.open_burst
            and self._has_room()
        )

    def _start(self, user_id: str) -> None:
        """Take `user_id`'s publish: in flight, off the queues, a turn of the budget; no await
        in between, so no other publish of theirs can start meanwhile."""
        self._in_flight.add(user_id)
        self._opened.pop(user_id, None)
        self._due.pop(user_id, None)
        self._sent.append(self.clock())

    async def _publish_started(self, user_id: str) -> None:
        try:
            await self._build_and_publish(user_id)
        finally:
            self._in_flight.discard(user_id)
            if (user_id in self._opened or user_id in self._due) and self._wake is not None:
                self._wake.set()  # it became due while in flight: the worker publishes it again, now

    def _next_user(self) -> str | None:
        """Who the worker publishes next: opens first (a person is waiting), then the due viewers,
        skipping anyone being published (they are published again once that is over)."""
        for queue in (self._opened, self._due):
            user = next((u for u in queue if u not in self._in_flight), None)
            if user is not None:
                return user
        return None

    def _ensure_worker(self) -> None:
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work(), name="slack:home-republish")

    async def _work(self) -> None:
        """Woken by a change or a queued open: the debounce, then whoever is queued."""
        assert self._wake is not None
        while not self._closed:
            await self._wake.wait()
            self._wake.clear()
            await self._debounce()
            await self._drain()

    async def _debounce(self) -> None:
        """A burst of changes is one round: wait `debounce` seconds, unless someone opens the
        home meanwhile (or already has): a person is looking, and the round goes now."""
        if self._opened:
            return
        self._opened_meanwhile.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._opened_meanwhile.wait(), self.debounce)

    async def _drain(self) -> None:
        """Publish the queued users one at a time, each when the budget has room. The user is
        chosen after the wait for the budget, so nobody is held off the queue (and not marked
        in flight) meanwhile; one being published is left for the end of that publish."""
        while not self._closed and self._next_user() is not None:
            await self._take_turn()
            user = self._next_user()  # again: the queues may have changed while waiting
            if user is None or self._closed:
                return
            self._start(user)
            await self._publish_started(user)

    def _prune_sent(self) -> None:
        """Forget publishes older than a minute (so the deque holds at most a minute's worth)."""
        now = self.clock()
        while self._sent and now - self._sent[0] >= 60.0:
            self._sent.popleft()

    def _has_room(self) -> bool:
        self._prune_sent()
        return len(self._sent) < self.per_minute

    async def _take_turn(self) -> None:
        """Wait until a publish fits in the per-minute budget (opens count against it too)."""
        while not self._has_room():
            now = self.clock()
            # At most a second at a time: the budget is measured with `clock`, which may be a test's.
            await asyncio.sleep(min(1.0, max(0.05, 60.0 - (now - self._sent[0]))))


def event_user(event: dict[str, Any]) -> str | None:
    """The viewer of an `app_home_opened` event on the Home tab (None for the Messages tab)."""
    if event.get("tab") != "home":
        return None
    user = event.get("user")
    return str(user) if user else None


__all__ = ["HomePublisher", "event_user"]
