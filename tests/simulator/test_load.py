"""200 controllers in one simulator process, 200 concurrent scrapli sessions.

The bot polls whole fleets at once; the simulator must keep up with that on a
small CI machine. Each session: connect (plus the in-session login on
AireOS), `show ap summary`, close. See benchmarks/simulator_sessions.py for
the numbers.
"""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from bot.simulator import Scenario, SimulatorServer
from tests.simulator.simtools import scrapli_session

CONTROLLERS = 200
APS = 4


@pytest.mark.slow
async def test_200_concurrent_sessions_complete() -> None:
    scenario = Scenario.fleet(CONTROLLERS, APS, platform="mixed")
    async with SimulatorServer(scenario, time_scale=60) as sim:

        async def poll(name: str) -> int:
            async with scrapli_session(sim, name, timeout_socket=30, timeout_transport=30, timeout_ops=30) as conn:
                out = (await conn.send_command("show ap summary")).result
            return len(re.findall(r"^AP\d{4}-\d{3}\b", out, re.M))

        start = time.perf_counter()
        results = await asyncio.gather(*(poll(name) for name in sim.controllers), return_exceptions=True)
        wall = time.perf_counter() - start
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures[:3]
    assert results == [APS] * CONTROLLERS
    assert wall < 30, f"{CONTROLLERS} sessions took {wall:.1f}s"
