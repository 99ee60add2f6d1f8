"""The running bot reads controllers through one `FleetReader`: `/ccert status`, the
scheduled checks and remediation share its session limit (`CCERT_MAX_CONCURRENCY`)."""

from __future__ import annotations

import io
from pathlib import Path

from bot.console.notifier import ConsoleNotifier
from bot.runtime import Runtime
from bot.store import Store
from tests.support.simulated_site import aireos, simulated_site


async def test_status_checks_and_remediation_read_through_the_runtime_s_one_reader(tmp_path: Path) -> None:
    async with (
        simulated_site(tmp_path, aireos("wlc-a"), max_concurrency=7) as site,
        await Store.open(site.settings.db) as store,
    ):
        runtime = Runtime(site.inventory, site.settings, store, ConsoleNotifier(io.StringIO()), site.environ)
        readers = {id(runtime.dispatcher.fleet.reader), id(runtime.checker.reader), id(runtime.remediation.reader)}
        assert readers == {id(runtime.reader)}
        assert runtime.reader.max_concurrency == 7
