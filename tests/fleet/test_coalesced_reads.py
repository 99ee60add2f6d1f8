"""Identical status reads in flight at once share one poll; each asker still gets its answer."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import bot.fleet.reader as reader
from bot.fleet.service import FleetService
from tests.support.simulated_site import aireos, iosxe, simulated_site


@pytest.fixture
def polls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The controllers of every real poll `FleetService` starts (the poll itself runs unchanged)."""
    started: list[list[str]] = []
    real = reader.poll_fleet

    async def counting(controllers: Any, *args: Any, **kwargs: Any) -> Any:
        started.append([c.name for c in controllers])
        return await real(controllers, *args, **kwargs)

    monkeypatch.setattr(reader, "poll_fleet", counting)
    return started


async def test_twenty_identical_status_reads_start_one_poll_and_all_get_the_answer(
    tmp_path: Path, polls: list[list[str]]
) -> None:
    async with simulated_site(tmp_path, aireos("wlc-a"), iosxe("wlc-x")) as site:
        fleet = FleetService(site.inventory, site.settings, site.environ)
        answers = await asyncio.gather(*(fleet.read_sites(["site-t"]) for _ in range(20)))
        assert len(polls) == 1
        # the read is over: the next asker starts a fresh one
        again = await fleet.read_sites(["site-t"])
    assert len(polls) == 2
    for reports in answers:
        assert [r.site.name for r in reports] == ["site-t"]
        assert {s.name for s in reports[0].snapshots} == {"wlc-a", "wlc-x"}
        assert reports[0].all_read
        assert reports is answers[0]  # the very same reading, not a copy that could differ
    assert again is not answers[0] and again[0].all_read


async def test_one_asker_giving_up_does_not_cancel_the_read_the_others_wait_for(
    tmp_path: Path, polls: list[list[str]]
) -> None:
    async with simulated_site(tmp_path, iosxe("wlc-x", faults={"command_delay_ms": 100})) as site:
        fleet = FleetService(site.inventory, site.settings, site.environ)
        impatient = asyncio.ensure_future(fleet.read_sites(["site-t"]))
        patient = asyncio.ensure_future(fleet.read_sites(["site-t"]))
        await asyncio.sleep(0.2)  # both are waiting on the one read (10 commands of 100 ms)
        impatient.cancel()
        reports = await patient
    assert impatient.cancelled()
    assert len(polls) == 1 and reports[0].all_read


async def test_reads_of_different_sites_are_not_joined(tmp_path: Path, polls: list[list[str]]) -> None:
    async with simulated_site(tmp_path, aireos("wlc-a"), iosxe("wlc-x", site="site-u")) as site:
        fleet = FleetService(site.inventory, site.settings, site.environ)
        one, two = await asyncio.gather(fleet.read_sites(["site-t"]), fleet.read_sites(["site-u"]))
    assert sorted(polls) == [["wlc-a"], ["wlc-x"]]
    assert one[0].site.name == "site-t" and two[0].site.name == "site-u"
