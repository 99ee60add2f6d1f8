"""`ccert-bot run` as a Procfile worker: one process, Slack over HTTP, the first check at start."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from tests.support import slack_signing
from tests.support.bot_process import SECRET, bot_process, free_port, run_env
from tests.support.fake_slack import FakeSlack
from tests.support.simulated_site import aireos, simulated_site

TOKEN = "xoxb-run-test-token"


async def test_run_serves_slack_checks_the_fleet_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    async with FakeSlack(token=TOKEN) as slack, simulated_site(tmp_path, aireos("wlc-1")) as site:
        env = run_env(site, slack, tmp_path, port)
        async with bot_process("bot", env, tmp_path) as bot:
            url = f"{bot.url}/slack/events"
            request = slack_signing.slash_command(SECRET, "help", response_url=slack.response_url())
            async with aiohttp.ClientSession() as http:
                for _ in range(100):  # up to ~10 s for start-up
                    try:
                        async with http.post(url, data=request.body, headers=request.headers) as response:
                            status, text = response.status, await response.text()
                            break
                    except aiohttp.ClientConnectionError:
                        await asyncio.sleep(0.1)
                else:
                    raise AssertionError("the bot never listened")
            # the first fleet check runs right after start-up; /metrics and /healthz on the same PORT see it
            metrics = ""
            async with aiohttp.ClientSession() as http:
                for _ in range(200):  # up to ~20 s for the first check
                    async with http.get(f"{bot.url}/metrics") as response:
                        metrics = await response.text()
                    if "\nccert_checks_total 1.0" in metrics:
                        break
                    await asyncio.sleep(0.1)
                async with http.get(f"{bot.url}/healthz") as response:
                    health_status, health = response.status, await response.text()
            code = await bot.stop(timeout=30)  # SIGTERM
            err = bot.log_path.read_text()
    assert status == 200 and "/ccert status" in text
    assert "\nccert_checks_total 1.0" in metrics, metrics[-2000:]
    # the first check sees the downloads for the first time: downloading, not stuck yet
    assert '\nccert_controllers{verdict="downloading"} 1.0' in metrics
    assert "\nccert_outbox_pending 0.0" in metrics
    assert health_status == 200, health
    assert TOKEN not in metrics and SECRET not in metrics
    assert site.sim.connections_accepted["wlc-1"] >= 1
    assert code == 0, err[-2000:]
    assert TOKEN not in err and SECRET not in err
    assert (tmp_path / "bot.db").exists()
