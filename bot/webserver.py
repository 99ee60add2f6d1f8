"""Serving an aiohttp application on the bot's loop: the two steps both HTTP servers share.

The Slack front door (HTTP mode) and the Socket Mode health/metrics server
both bind an `aiohttp.web.Application` to host:port (port 0 picks a free one,
which tests rely on) and must learn the port actually bound, without leaving
a half-started runner behind when the bind fails.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.loglimit import QuietProtocolErrors

# aiohttp's log of requests it could not parse, through our filter (see `bot.loglimit`).
protocol_log = logging.getLogger("bot.webserver.protocol")
protocol_log.addFilter(QuietProtocolErrors())


def http_url(host: str, port: int, path: str = "") -> str:
    """`http://host:port/path`, with an IPv6 host in brackets."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{path}"


async def start_runner(
    app: web.Application, host: str, port: int, *, access_log: logging.Logger | None = None
) -> tuple[web.AppRunner, str, int]:
    """Serve `app` on host:port and return the runner with the address really bound.

    A bind that fails (port in use) cleans the runner up and raises. Requests too broken to
    reach a handler are logged by `protocol_log`: one line per source a minute, no traceback.
    """
    runner = web.AppRunner(app, handle_signals=False, access_log=access_log, logger=protocol_log)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0]
    return runner, str(bound[0]), int(bound[1])
