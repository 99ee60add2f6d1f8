"""How Slack reaches the bot: Socket Mode when SLACK_APP_TOKEN is set, else HTTP.

Socket Mode needs no public URL (good behind a firewall, next to the
controllers); HTTP mode serves Bolt's aiohttp endpoint on `PORT` at
`/slack/events` (good on a PaaS). Both run inside the one asyncio loop the
rest of the bot uses, and both come back as a handle with `stop()`, so tests
can start a server on 127.0.0.1 port 0 and always tear it down.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_server import AsyncSlackAppServer

from bot.settings import Settings
from bot.slack.app import SlackBot
from bot.slack.manifest import EVENTS_PATH

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
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
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.path}"

    async def stop(self, grace: float = 0.0) -> None:
        """Stop accepting requests, then finish (≤ grace s) or cancel follow-ups."""
        if self._stopped:
            return
        self._stopped = True
        await self.runner.cleanup()
        await self.bot.aclose(grace)


@dataclass
class SocketModeHandle:
    bot: SlackBot
    handler: AsyncSocketModeHandler
    _stopped: bool = False

    async def stop(self, grace: float = 0.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        await self.handler.close_async()
        await self.bot.aclose(grace)


def build_web_app(bot: SlackBot, path: str = EVENTS_PATH) -> web.Application:
    """Bolt's aiohttp application for `bot`, plus a health check for load balancers."""
    server = AsyncSlackAppServer(port=0, path=path, app=bot.app)

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    server.web_app.add_routes([web.get(HEALTH_PATH, health)])
    return server.web_app


async def start_http_server(
    bot: SlackBot,
    *,
    host: str = "0.0.0.0",
    port: int = 3000,
    path: str = EVENTS_PATH,
    access_log: bool = False,
) -> HttpServerHandle:
    """Serve `bot` over HTTP on host:port (port 0 picks a free one) and return at once."""
    runner = web.AppRunner(
        build_web_app(bot, path),
        handle_signals=False,
        access_log=logging.getLogger("aiohttp.access") if access_log else None,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0]
    handle = HttpServerHandle(bot=bot, runner=runner, host=str(bound[0]), port=int(bound[1]), path=path)
    log.info("Slack front door: HTTP on %s", handle.url)
    return handle


async def start_socket_mode(bot: SlackBot, app_token: str) -> SocketModeHandle:
    """Connect to Slack over Socket Mode (outbound WebSocket) and return at once."""
    handler = AsyncSocketModeHandler(bot.app, app_token=app_token)
    await handler.connect_async()
    log.info("Slack front door: Socket Mode connected")
    return SocketModeHandle(bot=bot, handler=handler)


async def start(bot: SlackBot, settings: Settings, *, host: str = "0.0.0.0") -> TransportHandle:
    """Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT."""
    if settings.slack_app_token is not None and settings.slack_app_token.get_secret_value().strip():
        return await start_socket_mode(bot, settings.slack_app_token.get_secret_value().strip())
    return await start_http_server(bot, host=host, port=settings.port)


async def serve(
    bot: SlackBot,
    settings: Settings,
    *,
    host: str = "0.0.0.0",
    stop: asyncio.Event | None = None,
) -> None:
    """Run the Slack front door until `stop` is set or the task is cancelled."""
    await bot.warm_up()
    handle = await start(bot, settings, host=host)
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        await handle.stop(SHUTDOWN_GRACE_SECONDS)
