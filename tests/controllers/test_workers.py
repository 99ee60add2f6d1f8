"""A large check polled in worker processes reads what one loop reads, static facts included."""

from __future__ import annotations

import asyncio
import pickle
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.controllers.polling import REFUSED, PollOptions
from bot.controllers.session_api import SessionOptions
from bot.controllers.static_facts import StaticFacts
from bot.controllers.workers import FleetPoller, LoopLimit, _holding, auto_workers
from bot.domain.models import ControllerSnapshot
from bot.fleet.service import poll_options
from bot.inventory import Controller, Credentials
from tests.support.simulated_site import aireos, iosxe, simulated_site


def view(snapshots: list[Any]) -> list[tuple[Any, ...]]:
    rows = []
    for s in snapshots:
        aps = [(a.name, a.model, a.state) for a in s.aps]
        rows.append((s.name, s.software_version, tuple(s.apsps), s.certificate, aps, s.errors))
    return rows


async def test_a_sharded_check_reads_what_one_loop_reads_and_keeps_the_static_facts(tmp_path: Path) -> None:
    controllers = [aireos("wlc-a1"), aireos("wlc-a2"), iosxe("wlc-x1"), iosxe("wlc-x2"), iosxe("wlc-x3")]
    async with simulated_site(tmp_path, *controllers) as site:
        fleet = site.inventory.controllers()
        alone = await FleetPoller(1).poll(fleet, poll_options(site.settings), site.environ)
        facts = StaticFacts(timedelta(hours=24))
        sharded = FleetPoller(2, shard_from=0)
        try:
            first = await sharded.poll(fleet, poll_options(site.settings, facts, routine=True), site.environ)
            remembered = {c.name: facts.recall(c.name) for c in fleet}
            second = await sharded.poll(fleet, poll_options(site.settings, facts, routine=True), site.environ)
        finally:
            sharded.close()
    assert [s.name for s in first] == [c.name for c in fleet]  # the fleet's order, whatever the shard
    assert view(first) == view(alone) == view(second)
    assert all(read is not None and read.parsed for read in remembered.values())
    # the second check replayed what the first remembered: the read time did not move
    assert all(facts.recall(name).read_at == read.read_at for name, read in remembered.items())


def test_auto_workers_is_one_per_core_up_to_four() -> None:
    assert auto_workers(0, cpus=2) == 2
    assert auto_workers(0, cpus=16) == 4
    assert auto_workers(0, cpus=1) == 1
    assert auto_workers(3, cpus=16) == 3


async def test_a_remembered_refusal_survives_the_trip_to_a_worker_and_back(tmp_path: Path) -> None:
    """An optional command the controller refused is replayed as "nothing to add" in a worker too:
    the marker is still itself after pickling (a plain `object()` was not, and crashed the check)."""
    assert pickle.loads(pickle.dumps(REFUSED)) is REFUSED
    async with simulated_site(tmp_path, aireos("wlc-a1"), iosxe("wlc-x1")) as site:
        fleet = site.inventory.controllers()
        facts = StaticFacts(timedelta(hours=24))
        sharded = FleetPoller(2, shard_from=0)
        try:
            await sharded.poll(fleet, poll_options(site.settings, facts, routine=True), site.environ)
            last = facts.recall("wlc-a1")
            assert last is not None and "show_certificate_all" in last.parsed
            facts.remember("wlc-a1", replace(last, parsed={**last.parsed, "show_certificate_all": REFUSED}))
            second = await sharded.poll(fleet, poll_options(site.settings, facts, routine=True), site.environ)
            third = await sharded.poll(fleet, poll_options(site.settings, facts, routine=True), site.environ)
        finally:
            sharded.close()
    for snapshots in (second, third):
        refused = next(s for s in snapshots if s.name == "wlc-a1")
        assert refused.errors == [] and refused.certificate is None and refused.aps
    assert facts.recall("wlc-a1").parsed["show_certificate_all"] is REFUSED


async def test_a_dead_worker_costs_one_check_its_speed_not_its_answer(tmp_path: Path) -> None:
    """Workers killed between checks (out of memory, say): that check reads on the loop, the next
    one starts new workers; every check answers for every controller."""
    async with simulated_site(tmp_path, aireos("wlc-a1"), iosxe("wlc-x1")) as site:
        fleet = site.inventory.controllers()
        sharded = FleetPoller(2, shard_from=0)
        try:
            first = await sharded.poll(fleet, poll_options(site.settings), site.environ)
            pool = sharded._pool
            assert pool is not None
            for process in list(pool._processes.values()):  # type: ignore[attr-defined]
                process.kill()
                process.join(5)
            after_death = await sharded.poll(fleet, poll_options(site.settings), site.environ)
            again = await sharded.poll(fleet, poll_options(site.settings), site.environ)
            assert sharded._pool is not None and sharded._pool is not pool
        finally:
            sharded.close()
    assert view(after_death) == view(first) == view(again)


async def test_shards_hold_their_share_of_the_loop_limit_while_they_read(monkeypatch: Any) -> None:
    """A sharded check and the reads on the loop stay within one limit together: each shard
    (reading in another process) holds its sessions' permits on the loop while it reads and
    gives them back when it ends; a fifth of the limit is never taken, so a person's read
    during the check gets a session at once."""
    limit = LoopLimit.of(10)  # headroom 2: the shards share 8
    seen: list[tuple[int, int]] = []
    release = asyncio.Event()

    async def read_shard(loop: Any, pool: Any, shard: list[Any], options: PollOptions, *rest: Any) -> Any:
        seen.append((len(shard), options.max_concurrency))
        await release.wait()
        now = datetime.now(UTC)
        return [ControllerSnapshot(c.name, c.platform, c.host, now) for c in shard], {}

    poller = FleetPoller(2, shard_from=0)
    monkeypatch.setattr(poller, "_start", lambda count: None)
    monkeypatch.setattr(poller, "_read_shard", read_shard)
    fleet = [Controller(f"wlc-{i}", "127.0.0.1", 22, "aireos", Credentials("c", "U", "P"), "s") for i in range(4)]
    options = PollOptions(SessionOptions(timeout_seconds=1), max_concurrency=50)
    check = asyncio.create_task(poller.poll(fleet, options, {}, limit=limit))
    for _ in range(100):
        if len(seen) == 2:
            break
        await asyncio.sleep(0.01)
    assert seen == [(2, 4), (2, 4)]  # two shards of 4 sessions: 8 of 10 held
    # A person's read now: the headroom is free at once, and nothing beyond it.
    await asyncio.wait_for(limit.semaphore.acquire(), 0.5)
    await asyncio.wait_for(limit.semaphore.acquire(), 0.5)
    assert limit.semaphore.locked()
    limit.semaphore.release()
    limit.semaphore.release()
    release.set()
    snapshots = await asyncio.wait_for(check, 5)
    assert [s.name for s in snapshots] == ["wlc-0", "wlc-1", "wlc-2", "wlc-3"]
    assert limit.semaphore._value == 10  # every permit back


async def test_two_holders_never_wait_on_each_other() -> None:
    """Two sharded checks at once on one limit, behind reads that hold part of it: taken one
    permit at a time, each would hold some and wait for the other's (hold-and-wait); taken
    one holder at a time (`LoopLimit.taking`), both finish."""
    limit = LoopLimit.of(5)  # headroom 1: a holder takes at most 4

    async def loop_read() -> None:
        async with limit.semaphore:
            await asyncio.sleep(0.02)

    async def hold() -> None:
        async with _holding(limit, 4):
            await asyncio.sleep(0.01)

    reads = [asyncio.create_task(loop_read()) for _ in range(4)]
    await asyncio.sleep(0)  # the reads hold 4 of the 5
    await asyncio.wait_for(asyncio.gather(hold(), hold(), *reads), 2)
    assert limit.semaphore._value == 5
