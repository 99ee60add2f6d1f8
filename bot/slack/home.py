"""The App Home tab: published on open, republished for the people looking when things change.

`HomePublisher` is the one place that calls `views.publish`:

* `opened(user)` (the `app_home_opened` event) publishes that user's home at once, built
  fresh from the store, so the tab is always correct when it is opened; the user is
  remembered as a viewer (at most `max_viewers`, the least recent forgotten first, and
  each forgotten `forget_after` seconds after their last open);
* `changed()` (a request created, voted, scheduled, started, stepped or ended; a check
  recorded) only marks every viewer as due and wakes the worker: it never blocks and never
  raises, so a check or a vote never waits on Slack. The worker waits `debounce` seconds
  so that a burst of changes becomes one round, then republishes the due viewers, most
  recent openers first, at most `per_minute` publishes a minute (views.publish is Slack's
  tier 4, about 100 a minute: the bot stays well under). Each publish reads the state
  when it is made, so the newest state always wins and a viewer due twice is published
  once; the due set holds each viewer once, so it is bounded by `max_viewers`;
* `notice(user, reply)` answers a click made in the Home tab itself, which has no channel
  to answer in: the answer is shown at the top of that user's home for a few minutes.

The home's content is `/ccert home`'s answer (the dispatcher's, so the console twin and
`CCERT_ACCESS` see exactly the same), rendered as a view (`render.home_view`). Every
failure is logged with Slack's error code, never raised.
"""

from __future__ import annotations

import asyncio
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
# Opens published at once, at the same time; past this, the worker publishes them (rate-limited).
MAX_OPEN_PUBLISHES = 50


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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.dispatcher = dispatcher
        self.groups = groups
        self.max_viewers = max_viewers
        self.forget_after = forget_after
        self.debounce = debounce
        self.per_minute = max(1, per_minute)
        self.clock = clock
        self._viewers: OrderedDict[str, float] = OrderedDict()  # user → when last opened, oldest first
        self._due: dict[str, None] = {}  # viewers to republish (an ordered set)
        self._in_flight: set[str] = set()
        self._notices: dict[str, tuple[str, float]] = {}
        self._sent: deque[float] = deque()  # when the publishes of the last minute were made
        self._wake: asyncio.Event | None = None
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
        """Build and publish `user_id`'s home now; True when Slack took it. Never raises."""
        try:
            caller = await build_caller(self.groups, user_id, None, None)
            result = await self.dispatcher.dispatch(HOME_COMMAND, caller)
            reply = self._with_notice(user_id, result.ack)
            self._prune_sent()
            self._sent.append(self.clock())
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
        while self._due or self._in_flight or any(not t.done() for t in self._tasks):
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
            self._notices.pop(user, None)

    def _publish_now(self, user_id: str) -> None:
        """An open or a notice: publish at once in a task of its own (not rate-limited: a person
        is looking); if that user's publish is already under way, one more follows it."""
        if user_id in self._in_flight or len(self._tasks) >= MAX_OPEN_PUBLISHES:
            # Under way already, or an open storm: the worker publishes it (rate-limited), once.
            self._due[user_id] = None
            self._ensure_worker()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.warning("home: no event loop to publish on")
            return
        self._in_flight.add(user_id)
        task = loop.create_task(self._publish_guarded(user_id), name=f"slack:home {user_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish_guarded(self, user_id: str) -> None:
        try:
            await self.publish(user_id)
        finally:
            self._in_flight.discard(user_id)

    def _ensure_worker(self) -> None:
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work(), name="slack:home-republish")

    async def _work(self) -> None:
        assert self._wake is not None
        while not self._closed:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self.debounce)  # a burst of changes is one round
            while self._due and not self._closed:
                user = next((u for u in self._due if u not in self._in_flight), None)
                if user is None:  # everyone due is being published: look again shortly
                    await asyncio.sleep(0.05)
                    continue
                self._due.pop(user)
                await self._take_turn()
                self._in_flight.add(user)
                try:
                    await self.publish(user)
                finally:
                    self._in_flight.discard(user)

    def _prune_sent(self) -> None:
        """Forget publishes older than a minute (so the deque holds at most a minute's worth)."""
        now = self.clock()
        while self._sent and now - self._sent[0] >= 60.0:
            self._sent.popleft()

    async def _take_turn(self) -> None:
        """Wait until a publish fits in the per-minute budget (opens count against it too)."""
        while True:
            self._prune_sent()
            now = self.clock()
            if len(self._sent) < self.per_minute:
                return
            # At most a second at a time: the budget is measured with `clock`, which may be a test's.
            await asyncio.sleep(min(1.0, max(0.05, 60.0 - (now - self._sent[0]))))


def event_user(event: dict[str, Any]) -> str | None:
    """The viewer of an `app_home_opened` event on the Home tab (None for the Messages tab)."""
    if event.get("tab") != "home":
        return None
    user = event.get("user")
    return str(user) if user else None


__all__ = ["HomePublisher", "event_user"]
