"""A simulated site, a fake Slack and a real SQLite store, wired like the running bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.jobs.checks import FleetChecker
from bot.simulator.build import build_ap
from bot.slack.app import build_client
from bot.slack.notifier import SlackNotifier
from bot.store import Store
from tests.support.fake_slack import FakeSlack
from tests.support.simulated_site import SimulatedSite, aireos, iosxe, simulated_site

TOKEN = "xoxb-jobs-test-token"
CHANNEL = "C0SITE0001"


@dataclass
class Harness:
    site: SimulatedSite
    slack: FakeSlack
    store: Store
    db_path: Path

    def checker(self, **overrides: Any) -> FleetChecker:
        settings = self.site.settings.model_copy(update=overrides)
        client = build_client(settings, token=TOKEN)
        return FleetChecker(self.site.inventory, settings, self.store, SlackNotifier(client), self.site.environ)

    async def reopen_store(self) -> None:
        """What a bot restart does to state: close the file, open it again."""
        await self.store.close()
        self.store = await Store.open(self.db_path)

    def add_downloading_ap(self, name: str, controller: str = "wlc-1") -> None:
        """A new IOS AP joins `controller` and loops in Downloading like the others."""
        wlc = self.site.sim.controllers[controller]
        wlc.add_ap(
            build_ap(
                {"name": name, "model": "AIR-CAP3702I-E-K9", "image": "8.5.182.0"},
                9,
                controller_name=wlc.name,
                ap_image=wlc.ap_image,
                rules=wlc.rules,
            )
        )

    def posts(self) -> list[dict[str, Any]]:
        return [c.body for c in self.slack.calls_to("chat.postMessage")]


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with (
        FakeSlack(token=TOKEN) as slack,
        simulated_site(
            tmp_path,
            aireos("wlc-1"),
            iosxe("wlc-2", aps=[{"name": "AP9120-1", "model": "C9120AXI-E"}]),
            slack_api_url=slack.api_url,
            stuck_after_minutes=30,
            alert_channel="C0FALLBACK",
        ) as site,
    ):
        # The simulated inventory names one channel per site; use ours.
        site.inventory.sites["site-t"] = type(site.inventory.sites["site-t"])(
            "site-t", CHANNEL, site.inventory.sites["site-t"].controllers
        )
        db_path = tmp_path / "ccert.db"
        store = await Store.open(db_path)
        h = Harness(site, slack, store, db_path)
        try:
            yield h
        finally:
            await h.store.close()
