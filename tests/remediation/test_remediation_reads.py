"""Remediation's fresh reads go through the bot's one `FleetReader`, under its session limit.

Before issue 14 a request or preview read its controllers with a bare `gather` (no
limit at all), beside the checks' and `/ccert status`'s own bounded polls. Now every
read shares one semaphore: these tests count the sessions open at once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pytest

from bot.controllers.session import ControllerSession
from bot.domain.models import ControllerSnapshot
from bot.fleet.reader import FleetReader
from bot.fleet.service import FleetService
from bot.remediation.service import RemediationService
from bot.store import Store
from tests.remediation.remediation_helpers import fast_config
from tests.support.simulated_site import aireos, iosxe, simulated_site


class Sessions:
    """A session factory that counts the sessions open at once (each holds on a moment, so
    reads that could overlap do)."""

    def __init__(self) -> None:
        self.open = 0
        self.most = 0
        self.opened = 0

    def factory(self) -> type[ControllerSession]:
        sessions = self

        class Counted(ControllerSession):
            async def __aenter__(self) -> Self:
                sessions.open += 1
                sessions.opened += 1
                sessions.most = max(sessions.most, sessions.open)
                await asyncio.sleep(0.05)
                return await super().__aenter__()

            async def __aexit__(
                self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
            ) -> None:
                try:
                    await super().__aexit__(kind, exc, tb)
                finally:
                    sessions.open -= 1

        return Counted


ENTRIES = (aireos("wlc-a"), iosxe("wlc-x"), aireos("wlc-b"))


@pytest.mark.parametrize("limit", [1, 2])
async def test_a_preview_reads_its_controllers_under_the_session_limit(tmp_path: Path, limit: int) -> None:
    sessions = Sessions()
    async with simulated_site(tmp_path, *ENTRIES) as site, await Store.open(site.settings.db) as store:
        service = RemediationService(
            store,
            site.inventory,
            fast_config(site),
            site.environ,
            session_factory=sessions.factory(),
            reader=FleetReader(max_concurrency=limit),
        )
        preview = await service.preview("site-t", None)
    assert sorted(t.controller for t in preview.targets) == ["wlc-a", "wlc-b", "wlc-x"]
    assert sessions.opened == 3
    assert sessions.most == limit


async def test_with_the_default_limit_the_same_reads_overlap(tmp_path: Path) -> None:
    """The control: the counter does see concurrent reads when the limit allows them."""
    sessions = Sessions()
    async with simulated_site(tmp_path, *ENTRIES) as site, await Store.open(site.settings.db) as store:
        service = RemediationService(
            store, site.inventory, fast_config(site), site.environ, session_factory=sessions.factory()
        )
        await service.preview("site-t", None)
    assert sessions.most == 3


class CountedReader(FleetReader):
    """The bot's reader, with every read (status ones too) through counted sessions."""

    def __init__(self, max_concurrency: int, factory: type[ControllerSession]) -> None:
        super().__init__(max_concurrency)
        self.factory = factory

    async def read(self, *args: Any, **kwargs: Any) -> list[ControllerSnapshot]:
        return await super().read(*args, **{**kwargs, "session_factory": self.factory})


async def test_remediation_and_status_reads_share_one_limit(tmp_path: Path) -> None:
    """A request being built and people asking for status at the same time: together they
    never open more sessions than the shared reader allows."""
    sessions = Sessions()
    async with simulated_site(tmp_path, *ENTRIES) as site, await Store.open(site.settings.db) as store:
        reader = CountedReader(2, sessions.factory())
        service = RemediationService(store, site.inventory, fast_config(site), site.environ, reader=reader)
        fleet = FleetService(site.inventory, site.settings, site.environ, reader=reader)
        preview, reports = await asyncio.gather(service.preview("site-t", None), fleet.read_sites(["site-t"]))
    assert len(preview.targets) == 3 and len(reports[0].snapshots) == 3
    assert sessions.opened == 6
    assert sessions.most == 2
