"""`ccert-bot run` as a real process for tests and benchmarks: its environment on a simulated
site and the fake Slack, and a handle to start it, read its `/metrics` and `/healthz`, and stop
(or kill) it.

Why a process and not a `Runtime` in the test's loop: what these tests prove (a SIGKILL, a
lost database session, two instances on one store) only a separate process shows honestly.
Its log goes to a file in the test's directory, not a pipe, so a chatty bot never blocks on a
full pipe while the test waits for it; `log_tail()` shows the end when something fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.console.test_status_command import write_inventory
from tests.support.fake_slack import FakeSlack
from tests.support.simulated_site import SimulatedSite

SECRET = "run-test-signing-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_env(site: SimulatedSite, slack: FakeSlack, tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment of a `ccert-bot run` worker on the simulated site and the fake Slack
    (none of the caller's own CCERT_/SLACK_ variables leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCERT_", "SLACK_"))}
    env.update(
        {"SIM_USER": "admin", "SIM_PASS": "admin"},
        CCERT_INVENTORY=str(write_inventory(site, tmp_path / "inventory.yaml")),
        CCERT_SSH_KNOWN_HOSTS=str(site.known_hosts),
        CCERT_DB=str(tmp_path / "bot.db"),
        CCERT_SLACK_API_URL=slack.api_url,
        SLACK_BOT_TOKEN=slack.token,
        SLACK_SIGNING_SECRET=SECRET,
        PORT=str(port),
    )
    env.update(extra)  # last: a caller may log in as someone else, or point CCERT_DB elsewhere
    return env


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the sample `name` with exactly `labels` in a Prometheus text page;
    AssertionError when there is none."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    raise AssertionError(f"no sample {name}{labels} in /metrics")


@dataclass
class BotProcess:
    """One running `ccert-bot run`."""

    name: str
    process: asyncio.subprocess.Process
    port: int
    log_path: Path
    _log: TextIO

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def get(self, path: str) -> tuple[int, str] | None:
        """GET `path` on the bot's port; None while it does not answer."""
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as http,
                http.get(self.url + path) as response,
            ):
                return response.status, await response.text()
        except (aiohttp.ClientError, TimeoutError):
            return None

    async def metric(self, name: str, **labels: str) -> float | None:
        """One sample of its `/metrics` (None while the bot does not answer, or has no such sample)."""
        answer = await self.get("/metrics")
        if answer is None:
            return None
        try:
            return sample(answer[1], name, **labels)
        except AssertionError:
            return None

    async def lead(self) -> dict[str, Any] | None:
        """The `leader` part of `/healthz` (None while the bot does not answer)."""
        answer = await self.get("/healthz")
        return None if answer is None else json.loads(answer[1]).get("leader")

    async def leading_since(self) -> datetime | None:
        """When this instance took the lead, by its own `/healthz` (None: it does not lead)."""
        lead = await self.lead()
        if not lead or not lead.get("leading") or not lead.get("since"):
            return None
        return datetime.fromisoformat(lead["since"])

    def kill(self) -> None:
        """SIGKILL, at once (safe to call from a synchronous hook)."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)

    async def stop(self, timeout: float = 40) -> int:
        """SIGTERM and wait; SIGKILL if it does not end within `timeout`. Its exit code."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self.process.kill()
        code = await self.process.wait()
        self._log.close()
        return code

    def log_tail(self, chars: int = 4000) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]


@contextlib.asynccontextmanager
async def bot_process(name: str, env: dict[str, str], cwd: Path) -> AsyncIterator[BotProcess]:
    """Start `ccert-bot run --host 127.0.0.1` with `env`; stopped (or killed) when the block ends."""
    log_path = cwd / f"{name}.log"
    log = log_path.open("w")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--host",
        "127.0.0.1",
        stdout=log,
        stderr=log,
        env=env,
        cwd=cwd,
    )
    bot = BotProcess(name, process, int(env["PORT"]), log_path, log)
    try:
        yield bot
    finally:
        await bot.stop()
