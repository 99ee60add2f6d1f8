"""/healthz and /metrics from a running bot, over real HTTP on 127.0.0.1.

HTTP mode: the Runtime with its real scheduler runs the first fleet check against the
simulator over SSH and posts to the fake Slack; the routes sit beside /slack/events.
Socket Mode: a real Socket Mode connection to the fake, with the standalone health/metrics
server on its own loopback port, stopped with the transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client import CONTENT_TYPE_LATEST

from bot.console.notifier import ConsoleNotifier
from bot.observability.http import start_metrics_server
from bot.observability.observer import Observability
from bot.runtime import Runtime
from bot.slack.app import SlackBot, build_app
from bot.slack.notifier import SlackNotifier
from bot.slack.transport import HttpServerHandle, SocketModeHandle, start, start_http_server
from bot.store import CheckTrigger, Store
from tests.support.bot_process import sample
from tests.support.fake_slack import FakeSlack
from tests.support.simulated_site import SimulatedSite, aireos, simulated_site

TOKEN = "xoxb-observability-token"
SIGNING_SECRET = "observability-signing-secret"
APP_TOKEN = "xapp-1-observability-app-token"


@dataclass
class RunningBot:
    site: SimulatedSite
    slack: FakeSlack
    runtime: Runtime
    bot: SlackBot
    server: HttpServerHandle
    http: aiohttp.ClientSession

    def url(self, path: str) -> str:
        return self.server.url.replace("/slack/events", path)

    async def metrics(self) -> str:
        async with self.http.get(self.url("/metrics")) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
            return await response.text()

    async def health(self) -> tuple[int, dict[str, Any]]:
        async with self.http.get(self.url("/healthz")) as response:
            return response.status, await response.json()

    async def wait_for_checks(self, count: int, timeout: float = 30.0) -> str:
        """Scrape until `count` checks finished (the scheduler runs the first one at start)."""
        async with asyncio.timeout(timeout):
            while True:
                text = await self.metrics()
                if sample(text, "ccert_checks_total") >= count:
                    return text
                await asyncio.sleep(0.1)


def stuck_on_simulator(site: SimulatedSite) -> int:
    return len(site.sim.controllers["wlc-1"].aps_in_state("Downloading"))


def settings_for(slack: FakeSlack, **overrides: Any) -> dict[str, Any]:
    return {
        "slack_api_url": slack.api_url,
        "slack_bot_token": TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_app_token": None,
        "stuck_after_minutes": 0,  # every affected AP seen Downloading counts as stuck at once
        **overrides,
    }


@contextlib.asynccontextmanager
async def running_bot(tmp_path: Path, *, refuse_posts: int = 0) -> AsyncIterator[RunningBot]:
    """The bot as `ccert-bot run` wires it in HTTP mode, with its scheduler running."""
    async with (
        FakeSlack(token=TOKEN) as slack,
        simulated_site(tmp_path, aireos("wlc-1"), **settings_for(slack)) as site,
        await Store.open(site.settings.db) as store,
    ):
        runtime = Runtime(site.inventory, site.settings, store, ConsoleNotifier(io.StringIO()), site.environ)
        bot = build_app(site.settings, runtime.dispatcher)
        runtime.use_notifier(SlackNotifier(bot.client))
        if refuse_posts:
            slack.fail_next("chat.postMessage", times=refuse_posts, error="channel_not_found")
        server = await start_http_server(bot, host="127.0.0.1", port=0, observability=runtime.observability)
        try:
            await runtime.start()
            try:
                async with aiohttp.ClientSession() as http:
                    yield RunningBot(site, slack, runtime, bot, server, http)
            finally:
                await runtime.stop()
        finally:
            await server.stop()
            await bot.aclose(grace=1.0)


async def test_http_mode_metrics_after_a_check_then_health_fails_without_the_scheduler(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as running:
        text = await running.wait_for_checks(1)
        assert "ccert_checks_total 1.0" in text.splitlines()
        stuck = stuck_on_simulator(running.site)
        assert stuck == 2
        assert sample(text, "ccert_aps_stuck") == stuck
        assert sample(text, "ccert_aps_downloading") == stuck
        assert sample(text, "ccert_controllers", verdict="stuck") == 1
        assert sample(text, "ccert_controllers", verdict="ok") == 0
        assert sample(text, "ccert_check_duration_seconds_count") == 1
        assert sample(text, "ccert_alerts_posted_total") == 1
        assert sample(text, "ccert_outbox_pending") == 0
        assert sample(text, "ccert_slack_api_errors_total", method="chat.postMessage") == 0
        assert len(running.slack.calls_to("chat.postMessage")) == 1
        assert TOKEN not in text and SIGNING_SECRET not in text
        # failed Web API calls of the alerts (notifier) and of the listeners (messenger) are counted
        slack_api_error = running.runtime.observability.metrics.slack_api_error
        assert running.runtime.notifier.api_errors == slack_api_error  # type: ignore[attr-defined]
        assert running.bot.runtime.messenger.api_errors == slack_api_error

        status, body = await running.health()
        assert (status, body["status"], body["reasons"]) == (200, "ok", [])
        assert body["last_check_at"] is not None

        running.runtime.stop_jobs()
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
        status, body = await running.health()
        assert status == 503
        assert body == {
            "status": "unhealthy",
            "reasons": ["scheduler is not running"],
            "last_check_at": body["last_check_at"],
            "leader": {
                "instance": running.runtime.leadership.instance,
                "leading": True,
                "leader": running.runtime.leadership.instance,
                "backend": "sqlite",
                "since": running.runtime.leadership.view().since.isoformat(),  # type: ignore[union-attr]
            },
        }


async def test_http_mode_outbox_and_slack_errors_when_slack_refuses_the_alert(tmp_path: Path) -> None:
    async with running_bot(tmp_path, refuse_posts=1) as running:
        text = await running.wait_for_checks(1)
        assert sample(text, "ccert_aps_stuck") == stuck_on_simulator(running.site) == 2
        assert sample(text, "ccert_alerts_posted_total") == 0
        assert sample(text, "ccert_outbox_pending") == 1  # the alert message waits for the next check
        assert sample(text, "ccert_slack_api_errors_total", method="chat.postMessage") == 1

        # the next check (asked for by hand; the scheduled one is 15 minutes away) delivers it
        await running.runtime.checker.run_check(CheckTrigger.MANUAL)
        text = await running.metrics()
        assert sample(text, "ccert_checks_total") == 2
        assert sample(text, "ccert_alerts_posted_total") == 1
        assert sample(text, "ccert_outbox_pending") == 0
        assert sample(text, "ccert_slack_api_errors_total", method="chat.postMessage") == 1
        status, _ = await running.health()
        assert status == 200


def _free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _refused(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            await response.read()
    except aiohttp.ClientConnectorError:
        return True
    return False


async def test_socket_mode_serves_health_and_metrics_on_their_own_port_until_stopped(tmp_path: Path) -> None:
    port = _free_loopback_port()
    async with (
        FakeSlack(token=TOKEN) as slack,
        simulated_site(
            tmp_path,
            aireos("wlc-1"),
            **settings_for(slack, slack_app_token=APP_TOKEN, metrics_host="127.0.0.1", metrics_port=port),
        ) as site,
        await Store.open(site.settings.db) as store,
    ):
        runtime = Runtime(site.inventory, site.settings, store, ConsoleNotifier(io.StringIO()), site.environ)
        bot = build_app(site.settings, runtime.dispatcher)
        runtime.use_notifier(SlackNotifier(bot.client))
        await runtime.start(jobs=False)
        handle = await start(bot, site.settings, host="127.0.0.1", observability=runtime.observability)
        try:
            assert isinstance(handle, SocketModeHandle) and handle.metrics is not None
            assert (handle.metrics.host, handle.metrics.port) == ("127.0.0.1", port)
            await slack.wait_for_socket()
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                    assert response.status == 200
                    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
                    text = await response.text()
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    status, body = response.status, await response.json()
            assert sample(text, "ccert_checks_total") == 0
            assert sample(text, "ccert_outbox_pending") == 0
            # the real rules: no jobs were started, so the scheduler is named
            assert status == 503 and body["reasons"] == ["scheduler is not running"]
        finally:
            await handle.stop()
            await runtime.stop()
        assert await _refused(f"http://127.0.0.1:{port}/healthz")


async def test_standalone_server_on_port_zero_serves_both_routes_and_stops(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "ccert.db") as store:
        observability = Observability(store, timedelta(minutes=15))
        observability.start()
        server = await start_metrics_server(observability, host="127.0.0.1", port=0)
        try:
            assert server.port > 0
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{server.url}/metrics") as response:
                    assert response.status == 200
                    assert "ccert_syslog_messages_total" in await response.text()
                async with http.get(f"{server.url}/healthz") as response:
                    assert response.status == 503
                    assert (await response.json())["reasons"] == ["scheduler is not running"]
                async with http.get(f"{server.url}/slack/events") as response:
                    assert response.status == 404  # only the two routes
        finally:
            await server.stop()
            await server.stop()  # idempotent
            await observability.stop()
        assert await _refused(f"{server.url}/metrics")
