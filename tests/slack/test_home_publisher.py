"""`HomePublisher` alone: published at once on open, changes coalesced and rate-limited, the
viewers bounded and forgotten, failures logged and never raised."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.chat.reply import Caller, CommandResult, Reply
from bot.slack.home import HomePublisher
from bot.slack.identity import UserGroupDirectory


@dataclass
class StubClient:
    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail: bool = False

    async def views_publish(self, *, user_id: str, view: dict[str, Any]) -> dict[str, Any]:
        if self.fail:
            raise RuntimeError("slack is down")
        self.published.append((user_id, view))
        return {"ok": True}

    def texts(self, user: str) -> list[str]:
        return [str(view["blocks"]) for u, view in self.published if u == user]


@dataclass
class StubDispatcher:
    """Answers `/ccert home` with the state it has now (so the newest state is what gets published)."""

    state: int = 0
    asked: list[str] = field(default_factory=list)

    async def dispatch(self, text: str, caller: Caller) -> CommandResult:
        self.asked.append(f"{text} {caller.user_id}")
        return CommandResult(Reply(title=f"home of {caller.user_id}", text=f"state {self.state}"))

    async def handle_action(self, action_id: str, value: str, caller: Caller) -> CommandResult:
        raise NotImplementedError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def publisher(client: StubClient, dispatcher: StubDispatcher, **options: Any) -> HomePublisher:
    options.setdefault("debounce", 0.1)
    return HomePublisher(client, dispatcher, UserGroupDirectory(None, ()), **options)  # type: ignore[arg-type]


async def until(predicate: Any, timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_open_publishes_at_once_without_waiting_for_the_debounce() -> None:
    client, dispatcher = StubClient(), StubDispatcher()
    home = publisher(client, dispatcher, debounce=30)
    home.opened("U1")
    await until(lambda: client.published)
    assert client.published[0][0] == "U1" and client.published[0][1]["type"] == "home"
    assert dispatcher.asked == ["home U1"]
    await home.aclose()


async def test_changes_are_coalesced_and_the_newest_state_wins() -> None:
    client, dispatcher = StubClient(), StubDispatcher()
    home = publisher(client, dispatcher, debounce=0.2)
    home.opened("U1")
    home.opened("U2")
    await until(lambda: len(client.published) == 2)
    for n in range(1, 6):  # five changes in a burst
        dispatcher.state = n
        home.changed(object())
    await asyncio.sleep(0.05)
    assert len(client.published) == 2, "nothing before the debounce is over"
    assert await home.wait_idle(3)
    await asyncio.sleep(0.3)
    assert len(client.published) == 4, "one republish per viewer for the whole burst"
    assert "state 5" in client.texts("U1")[-1] and "state 5" in client.texts("U2")[-1]
    assert home.viewers == ("U2", "U1"), "most recent opener first"
    await home.aclose()


async def test_republishes_are_rate_limited() -> None:
    client, dispatcher, clock = StubClient(), StubDispatcher(), Clock()
    home = publisher(client, dispatcher, per_minute=4, clock=clock)
    for user in ("U1", "U2"):
        home.opened(user)
    await until(lambda: len(client.published) == 2)
    for user in ("U3", "U4", "U5"):
        home._viewers[user] = clock.now  # viewers that opened earlier (their opens are not counted here)
    home.changed()
    await until(lambda: len(client.published) == 4)
    await asyncio.sleep(1.2)
    assert len(client.published) == 4, "two opens and two republishes fill the minute's budget of four"
    clock.now += 61
    await until(lambda: len(client.published) == 7, timeout=3)
    assert sorted(u for u, _ in client.published[2:]) == ["U1", "U2", "U3", "U4", "U5"]
    await home.aclose()


async def test_viewers_are_bounded_and_forgotten() -> None:
    client, dispatcher, clock = StubClient(), StubDispatcher(), Clock()
    home = publisher(client, dispatcher, max_viewers=3, forget_after=3600, clock=clock)
    for user in ("U1", "U2", "U3", "U4", "U5"):
        home.opened(user)
        clock.now += 1
    assert home.viewers == ("U5", "U4", "U3")
    clock.now += 1800
    home.opened("U3")
    clock.now += 1900  # U4 and U5 opened more than an hour ago, U3 did not
    assert home.viewers == ("U3",)
    await until(lambda: len(client.published) == 6)
    home.changed()
    await until(lambda: len(client.published) == 7)
    await asyncio.sleep(0.3)
    assert [u for u, _ in client.published[6:]] == ["U3"]
    await home.aclose()


async def test_failures_are_logged_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    client, dispatcher = StubClient(fail=True), StubDispatcher()
    home = publisher(client, dispatcher)
    with caplog.at_level(logging.WARNING):
        assert await home.publish("U1") is False
        home.opened("U1")
        home.changed()
        assert await home.wait_idle(3)
    assert home.failed >= 2 and home.published == 0
    assert "could not publish the Home tab of U1: RuntimeError" in caplog.text
    await home.aclose()
    home.changed()  # after close: nothing, and no error
    home.opened("U2")


async def test_a_notice_goes_on_top_of_that_users_home() -> None:
    client, dispatcher = StubClient(), StubDispatcher()
    home = publisher(client, dispatcher)
    home.notice("U1", Reply(title="Your approval is counted. Still needed: 1."))
    await until(lambda: client.published)
    blocks = client.published[-1][1]["blocks"]
    assert "home of U1" in str(blocks[0]) and "state 0" in str(blocks[1]) and blocks[2]["type"] == "divider"
    assert "Your last click" in str(blocks[3]) and "Your approval is counted" in str(blocks[3]), "first section"
    await home.aclose()


async def test_a_click_in_a_view_without_a_publisher_is_logged_not_crashed(caplog: pytest.LogCaptureFixture) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack.delivery import Messenger
    from bot.slack.listeners import ListenerRuntime
    from bot.slack.listeners.actions import destination_for, handle_action
    from tests.support.slack_signing import view_block_actions_payload

    class Voting(StubDispatcher):
        async def handle_action(self, action_id: str, value: str, caller: Caller) -> CommandResult:
            return CommandResult(Reply(title=f"Your approval of #{value} is counted.", ephemeral=True))

    body = view_block_actions_payload("remediation_approve", "3", user_id="U0ALICE")
    dest = destination_for(body)
    assert dest.user_id == "U0ALICE" and dest.channel_id is None and dest.response_url is None
    rt = ListenerRuntime(messenger=Messenger(AsyncWebClient(token="xoxb-unused", base_url="http://127.0.0.1:9/")))
    with caplog.at_level(logging.INFO):
        await handle_action(body, body["actions"][0], Voting(), rt)  # type: ignore[arg-type]
    assert "clicked in a view by U0ALICE: no channel to answer in (Your approval of #3 is counted.)" in caplog.text
    assert "posting the reply" not in caplog.text


async def test_an_open_storm_is_bounded_and_every_viewer_still_gets_a_home() -> None:
    from bot.slack.home import OPEN_BURST

    gate = asyncio.Event()

    class Slow(StubClient):
        async def views_publish(self, *, user_id: str, view: dict[str, Any]) -> dict[str, Any]:
            await gate.wait()
            return await super().views_publish(user_id=user_id, view=view)

    client, dispatcher = Slow(), StubDispatcher()
    home = publisher(client, dispatcher, debounce=0.05, per_minute=1000)
    users = [f"U{n:03d}" for n in range(OPEN_BURST + 10)]
    for user in users:
        home.opened(user)
    await asyncio.sleep(0.1)
    assert len(home._tasks) == OPEN_BURST, "no more publishes at once than the bound"
    gate.set()
    assert await home.wait_idle(5)
    assert sorted({u for u, _ in client.published}) == users
    await home.aclose()


@dataclass
class WatchingClient(StubClient):
    """Records when (by the publisher's clock) each publish reached Slack, and how many of one
    user's publishes were under way at once."""

    clock: Clock = field(default_factory=Clock)
    at: list[tuple[str, float]] = field(default_factory=list)
    active: dict[str, int] = field(default_factory=dict)
    most_at_once: int = 0

    async def views_publish(self, *, user_id: str, view: dict[str, Any]) -> dict[str, Any]:
        self.active[user_id] = self.active.get(user_id, 0) + 1
        self.most_at_once = max(self.most_at_once, self.active[user_id])
        try:
            await asyncio.sleep(0.02)  # a real call takes a while: another publish of theirs could overlap it
            self.at.append((user_id, self.clock.now))
            return await super().views_publish(user_id=user_id, view=view)
        finally:
            self.active[user_id] -= 1


async def test_an_open_storm_keeps_to_the_budget_opens_first() -> None:
    client, dispatcher = WatchingClient(), StubDispatcher()
    clock = client.clock
    home = publisher(client, dispatcher, per_minute=20, open_burst=5, clock=clock)
    home._viewers["U0EARLIER"] = clock.now  # opened before: due for a republish, after every open
    home.changed()
    users = [f"U{n:03d}" for n in range(30)]
    for user in users:
        home.opened(user)
    assert len(home._tasks) == 5, "a small burst at once; the rest wait their turn"
    await until(lambda: len(client.at) == 20)
    start = clock.now
    clock.now += 61  # a minute later the budget has room again
    await until(lambda: len(client.at) == 31)
    assert await home.wait_idle(3)
    times = [t for _, t in client.at]
    assert times.count(start) == 20 and times.count(start + 61) == 11, "never more than 20 publishes a minute"
    order = [u for u, _ in client.at]
    assert sorted(order[:-1]) == users and order[-1] == "U0EARLIER", "every opener gets a home, before republishes"
    await home.aclose()


async def test_one_users_home_is_never_published_twice_at_once_and_the_newest_state_wins() -> None:
    gate = asyncio.Event()
    gate.set()

    class Gated(WatchingClient):
        async def views_publish(self, *, user_id: str, view: dict[str, Any]) -> dict[str, Any]:
            self.active[user_id] = self.active.get(user_id, 0) + 1  # under way from here
            self.most_at_once = max(self.most_at_once, self.active[user_id])
            try:
                await gate.wait()
            finally:
                self.active[user_id] -= 1
            return await super().views_publish(user_id=user_id, view=view)

    client, dispatcher = Gated(), StubDispatcher()
    clock = client.clock
    home = publisher(client, dispatcher, per_minute=2, clock=clock)
    home.opened("U9")
    home.opened("U1")
    await until(lambda: len(client.at) == 2)  # the minute's budget is used
    dispatcher.state = 1
    home.changed()  # U1 (the latest opener) and U9 are due: the worker waits for the budget
    await asyncio.sleep(0.3)  # past the debounce: the worker is waiting its turn
    gate.clear()  # from here a publish stays under way until the gate opens
    dispatcher.state = 2
    clock.now += 61  # the budget has room again, and just then U1 opens the home again
    home.opened("U1")
    await until(lambda: len(dispatcher.asked) >= 3)
    await asyncio.sleep(1.3)  # long enough for any other publish of U1 to start
    gate.set()
    assert await home.wait_idle(3)
    await asyncio.sleep(0.3)  # anything still to come would come now
    assert client.most_at_once == 1, "never two publishes of one home at once"
    assert len(client.texts("U1")) == 2, "the open's publish shows the change too: no third one"
    assert "state 2" in client.texts("U1")[-1], "the newest state is the last view"
    await home.aclose()


async def test_a_change_during_a_users_publish_republishes_after_it() -> None:
    gate = asyncio.Event()

    class Gated(WatchingClient):
        async def views_publish(self, *, user_id: str, view: dict[str, Any]) -> dict[str, Any]:
            await gate.wait()
            return await super().views_publish(user_id=user_id, view=view)

    client, dispatcher = Gated(), StubDispatcher()
    home = publisher(client, dispatcher, clock=client.clock)
    home.opened("U1")  # built with state 0, held at Slack
    await until(lambda: dispatcher.asked)
    dispatcher.state = 1
    home.changed()
    home.opened("U1")  # and opened again while the first is under way
    await asyncio.sleep(0.3)
    assert len(dispatcher.asked) == 1, "no second publish while the first is under way"
    gate.set()
    assert await home.wait_idle(3)
    assert client.most_at_once == 1
    assert [("state 1" in t) for t in client.texts("U1")] == [False, True], "then once more, with the newest state"
    await home.aclose()


async def test_an_open_queued_during_the_debounce_is_not_kept_waiting_for_it() -> None:
    client, dispatcher = StubClient(), StubDispatcher()
    home = publisher(client, dispatcher, debounce=30, open_burst=1)
    home._viewers["U0EARLIER"] = home.clock()
    home.changed()  # the worker waits out a long debounce
    gate = asyncio.Event()
    slow = client.views_publish

    async def held(*, user_id: str, view: dict[str, Any]) -> dict[str, Any]:
        await gate.wait()
        return await slow(user_id=user_id, view=view)

    client.views_publish = held  # type: ignore[method-assign]
    home.opened("U1")  # the one open at once, held at Slack
    home.opened("U2")  # past the burst: queued for the worker
    await asyncio.sleep(0.1)
    gate.set()
    await until(lambda: {u for u, _ in client.published} >= {"U1", "U2"}, timeout=5)
    await home.aclose()
