"""The lead between real instances over a real PostgreSQL: one leads, a standby takes over, a leader
cut off from the database stops before the new one acts.

Each `Leadership` here is what one `ccert-bot run` holds (its own `LeaderLock` connection);
the timeout is the smallest allowed (2 s: checks every 0.4 s, a 1 s grace) so the stories are
quick, and every wait is bounded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import psycopg
import pytest

from bot.jobs.leadership import Leadership
from bot.store.leader_lock import LeaderLock, SoloLock
from bot.store.records import FencedOut

TIMEOUT = 2.0


@dataclass
class Instance:
    name: str
    leadership: Leadership
    elected: list[float] = field(default_factory=list)
    lost: list[float] = field(default_factory=list)


@asynccontextmanager
async def instance(url: str, name: str) -> AsyncIterator[Instance]:
    record = Instance(name, None)  # type: ignore[arg-type]

    async def elected() -> None:
        record.elected.append(time.monotonic())

    async def lost() -> None:
        record.lost.append(time.monotonic())

    record.leadership = Leadership(
        lambda: LeaderLock(url, name, TIMEOUT), TIMEOUT, shared=True, on_elected=elected, on_lost=lost
    )
    await record.leadership.start()
    try:
        yield record
    finally:
        await record.leadership.stop()


async def until(predicate, timeout: float) -> float:  # type: ignore[no-untyped-def]
    """Wait for `predicate()`; returns when it became true (monotonic)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s")
        await asyncio.sleep(0.02)
    return time.monotonic()


def terminate(url: str, instance_name: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            [f"ccert-bot/{instance_name}/leader"],
        ).fetchall()
    return len(rows)


async def test_exactly_one_leads_and_a_standby_takes_over_when_it_stops(postgres_url: str) -> None:
    async with instance(postgres_url, "bot-a") as a:
        await until(lambda: a.leadership.is_leader, TIMEOUT * 2)
        async with instance(postgres_url, "bot-b") as b:
            await asyncio.sleep(TIMEOUT * 1.5)  # several rounds of trying
            assert a.leadership.is_leader and not b.leadership.is_leader
            assert b.leadership.view().leader == "bot-a"  # the standby knows who leads
            with pytest.raises(FencedOut):
                b.leadership.fence()
            stopped = time.monotonic()
            await a.leadership.stop()
            took = await until(lambda: b.leadership.is_leader, TIMEOUT * 2)
            assert took - stopped < TIMEOUT
            assert b.leadership.fence().lock_pid is not None
            assert (len(a.elected), len(b.elected)) == (1, 1)


async def test_a_leader_cut_off_stops_before_the_standby_acts(postgres_url: str) -> None:
    async with instance(postgres_url, "bot-a") as a, instance(postgres_url, "bot-b") as b:
        await until(lambda: a.leadership.is_leader or b.leadership.is_leader, TIMEOUT * 3)
        old, new = (a, b) if a.leadership.is_leader else (b, a)
        cut = time.monotonic()
        assert terminate(postgres_url, old.name) == 1
        await until(lambda: bool(old.lost), TIMEOUT)
        await until(lambda: bool(new.elected), TIMEOUT * 3)
        assert old.lost[0] - cut < TIMEOUT / 2  # the old leader stopped acting within T/2
        assert new.elected[0] > old.lost[0]  # ... before the new one began
        assert new.elected[0] - cut >= new.leadership.grace  # which waited out the grace
        assert new.elected[0] - cut < TIMEOUT * 1.5
        with pytest.raises(FencedOut):
            old.leadership.fence()
        # The old one is a standby now: it does not take the lead back while the new one holds it.
        await asyncio.sleep(TIMEOUT)
        assert new.leadership.is_leader and not old.leadership.is_leader and len(old.elected) == 1


async def test_a_database_that_cannot_be_reached_means_no_lead(unused_tcp_port: int) -> None:
    url = f"postgresql://postgres@127.0.0.1:{unused_tcp_port}/nothing"
    async with instance(url, "bot-a") as a:
        await asyncio.sleep(TIMEOUT)
        assert not a.leadership.is_leader and a.elected == []
        assert "standby" in a.leadership.view().describe()


async def test_a_lone_sqlite_bot_leads_before_start_returns() -> None:
    elected: list[bool] = []

    async def on_elected() -> None:
        elected.append(True)

    async def on_lost() -> None:
        raise AssertionError("a lone bot never loses the lead")

    leadership = Leadership(lambda: SoloLock("solo"), 15, shared=False, on_elected=on_elected, on_lost=on_lost)
    await leadership.start()
    try:
        assert elected == [True] and leadership.is_leader
        assert leadership.fence().lock_pid is None and leadership.grace == 0
        assert leadership.view().describe() == "solo (the only instance: SQLite)"
    finally:
        await leadership.stop()
