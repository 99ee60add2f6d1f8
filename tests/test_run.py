"""`ccert-bot run` as a Procfile worker: one process, Slack over HTTP, the first check at start."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from tests.console.test_status_command import write_inventory
from tests.support import slack_signing
from tests.support.fake_slack import FakeSlack
from tests.support.simulated_site import SimulatedSite, aireos, simulated_site

SECRET = "run-test-signing-secret"
TOKEN = "xoxb-run-test-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_env(site: SimulatedSite, slack: FakeSlack, tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment of a `ccert-bot run` worker on the simulated site and the fake Slack
    (none of the caller's own CCERT_/SLACK_ variables leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCERT_", "SLACK_"))}
    env.update(
        SIM_USER="admin",
        SIM_PASS="admin",
        CCERT_INVENTORY=str(write_inventory(site, tmp_path / "inventory.yaml")),
        CCERT_SSH_KNOWN_HOSTS=str(site.known_hosts),
        CCERT_DB=str(tmp_path / "bot.db"),
        CCERT_SLACK_API_URL=slack.api_url,
        SLACK_BOT_TOKEN=slack.token,
        SLACK_SIGNING_SECRET=SECRET,
        PORT=str(port),
        **extra,
    )
    return env


async def test_run_serves_slack_checks_the_fleet_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    async with FakeSlack(token=TOKEN) as slack, simulated_site(tmp_path, aireos("wlc-1")) as site:
        env = run_env(site, slack, tmp_path, port)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--host",
            "127.0.0.1",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=tmp_path,
        )
        try:
            url = f"http://127.0.0.1:{port}/slack/events"
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
            base = f"http://127.0.0.1:{port}"
            metrics = ""
            async with aiohttp.ClientSession() as http:
                for _ in range(200):  # up to ~20 s for the first check
                    async with http.get(f"{base}/metrics") as response:
                        metrics = await response.text()
                    if "\nccert_checks_total 1.0" in metrics:
                        break
                    await asyncio.sleep(0.1)
                async with http.get(f"{base}/healthz") as response:
                    health_status, health = response.status, await response.text()
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert status == 200 and "/ccert status" in text
    assert "\nccert_checks_total 1.0" in metrics, metrics[-2000:]
    # the first check sees the downloads for the first time: downloading, not stuck yet
    assert '\nccert_controllers{verdict="downloading"} 1.0' in metrics
    assert "\nccert_outbox_pending 0.0" in metrics
    assert health_status == 200, health
    assert TOKEN not in metrics and SECRET not in metrics
    assert site.sim.connections_accepted["wlc-1"] >= 1
    assert process.returncode == 0, err.decode()[-2000:]
    assert TOKEN not in err.decode() and SECRET not in err.decode()
    assert (tmp_path / "bot.db").exists()
