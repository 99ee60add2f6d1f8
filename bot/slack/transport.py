"""How Slack reaches the bot: Socket Mode when SLACK_APP_TOKEN is set, else HTTP.

Socket Mode needs no public URL (good behind a firewall, next to the
controllers); HTTP mode serves Bolt on `PORT` at `/slack/events` (good on a
PaaS), behind `request_guard.SlackRequestGuard`, which verifies each request's
signature (and refuses oversized bodies and replays) before anything parses
it. Both run inside the one asyncio loop the rest of the bot uses, and both
come back as a handle with `stop()`, so tests can start a server on 127.0.0.1
port 0 and always tear it down.

Given the runtime's `Observability`, `/healthz` and `/metrics` are served too:
beside `/slack/events` on `PORT` in HTTP mode, and in Socket Mode (which has no
inbound HTTP) on their own small server at `CCERT_METRICS_HOST:CCERT_METRICS_PORT`
(none when that port is `off`), started and stopped with the transport. Failed
Web API calls of the Slack listeners' messenger are counted by method.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.observability.http import HEALTH_PATH, MetricsServerHandle, routes, start_metrics_server
from bot.observability.observer import Observability
from bot.settings import Settings
from bot.slack.app import SlackBot, SlackConfigError
from bot.slack.manifest import EVENTS_PATH
from bot.slack.request_guard import MAX_BODY_BYTES, SharedReplays, SlackRequestGuard
from bot.webserver import http_url, start_runner

log = logging.getLogger(__name__)

# On shutdown, follow-ups get this long to post their answers before being cancelled.
SHUTDOWN_GRACE_SECONDS = 5.0


class TransportHandle(Protocol):
    async def stop(self, grace: float = 0.0) -> None: ...


@dataclass
class HttpServerHandle:
    """A running HTTP front door. `port` is the real one (useful after asking for 0)."""

    bot: SlackBot
    runner: web.AppRunner
    host: str
    port: int
    path: str
    _stopped: bool = False

    @property
    def url(self) -> str:
        return http_url(self.host, self.port, self.path)

    async def stop(self, grace: float = 0.0) -> None:
        """Stop accepting requests, then finish (≤ grace s) or cancel follow-ups."""
        if self._stopped:
            return
        self._stopped = True
        await self.runner.cleanup()
        await self.bot.aclose(grace)


@dataclass
class SocketModeHandle:
    """A Socket Mode connection, and the health/metrics server that stands in for HTTP (if any)."""

    bot: SlackBot
    handler: AsyncSocketModeHandler
    metrics: MetricsServerHandle | None = None
    _stopped: bool = False

    async def stop(self, grace: float = 0.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            await self.handler.close_async()
            await self.bot.aclose(grace)
        finally:
            if self.metrics is not None:
                await self.metrics.stop()


def build_web_app(
    bot: SlackBot, path: str = EVENTS_PATH, *, observability: Observability | None = None
) -> web.Application:
    """The aiohttp application for `bot`: Slack's POSTs on `path` through the request guard,
    plus `/healthz` and `/metrics` from `observability`.

    Without one (a bare front door in tests: there is no scheduler or store to judge),
    `/healthz` can only say that the HTTP server answers, and there is no `/metrics`.

    This replaces slack-bolt's `AsyncSlackAppServer`, whose handler parses the body
    before Bolt verifies it. That server's only other routes are the OAuth install and
    redirect pages, which this single-workspace app (bot token, no OAuth flow) has not.
    """
    if bot.signing_secret is None:
        raise SlackConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode cannot verify Slack's requests")
    # aiohttp's own cap for request.read()/post() on any route, the same as the guard's.
    web_app = web.Application(client_max_size=MAX_BODY_BYTES)
    # Instances sharing a PostgreSQL store share what they accepted, so a replay is refused
    # whichever instance the load balancer sends it to.
    shared = observability is not None and observability.store.backend == "postgresql"
    replays = SharedReplays(observability.store) if shared and observability is not None else None
    web_app.add_routes([web.post(path, SlackRequestGuard(bot.app, bot.signing_secret, replays=replays).handle)])
    if observability is not None:
        web_app.add_routes(routes(observability))
        observability.watch_slack_errors(bot.runtime.messenger)
        return web_app

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    web_app.add_routes([web.get(HEALTH_PATH, health)])
    return web_app


async def start_http_server(
    bot: SlackBot,
    *,
    host: str = "0.0.0.0",
    port: int = 3000,
    path: str = EVENTS_PATH,
    access_log: bool = False,
    observability: Observability | None = None,
) -> HttpServerHandle:
    """Serve `bot` over HTTP on host:port (port 0 picks a free one) and return at once."""
    runner, bound_host, bound_port = await start_runner(
        build_web_app(bot, path, observability=observability),
        host,
        port,
        access_log=logging.getLogger("aiohttp.access") if access_log else None,
    )
    handle = HttpServerHandle(bot=bot, runner=runner, host=bound_host, port=bound_port, path=path)
    log.info("Slack front door: HTTP on %s", handle.url)
    return handle


async def start_socket_mode(
    bot: SlackBot,
    app_token: str,
    *,
    observability: Observability | None = None,
    metrics_host: str = "127.0.0.1",
    metrics_port: int | None = None,
) -> SocketModeHandle:
    """Connect to Slack over Socket Mode (outbound WebSocket) and return at once.

    With `observability` and a `metrics_port`, /healthz and /metrics are served on
    metrics_host:metrics_port first, so a port already in use fails start-up loudly rather
    than leaving the bot running unwatched.
    """
    metrics = None
    if observability is not None:
        observability.watch_slack_errors(bot.runtime.messenger)
        if metrics_port is not None:
            metrics = await start_metrics_server(observability, host=metrics_host, port=metrics_port)
    try:
        handler = AsyncSocketModeHandler(bot.app, app_token=app_token)
        await handler.connect_async()
    except BaseException:
        if metrics is not None:
            await metrics.stop()
        raise
    log.info("Slack front door: Socket Mode connected")
    return SocketModeHandle(bot=bot, handler=handler, metrics=metrics)


async def start(
    bot: SlackBot, settings: Settings, *, host: str = "0.0.0.0", observability: Observability | None = None
) -> TransportHandle:
    """Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT."""
    if settings.slack_app_token is not None and settings.slack_app_token.get_secret_value().strip():
        return await start_socket_mode(
            bot,
            settings.slack_app_token.get_secret_value().strip(),
            observability=observability,
            metrics_host=settings.metrics_host,
            metrics_port=settings.metrics_port,
        )
    return await start_http_server(bot, host=host, port=settings.port, observability=observability)


async def serve(
    bot: SlackBot,
    settings: Settings,
    *,
    host: str = "0.0.0.0",
    stop: asyncio.Event | None = None,
    observability: Observability | None = None,
) -> None:
    """Run the Slack front door until `stop` is set or the task is cancelled; with the runtime's
    `observability`, also /healthz and /metrics (see the module docstring for where)."""
    await bot.warm_up()
    handle = await start(bot, settings, host=host, observability=observability)
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        await handle.stop(SHUTDOWN_GRACE_SECONDS)
