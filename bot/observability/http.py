"""`/healthz` and `/metrics` over HTTP: the aiohttp routes, and a standalone server for them.

In HTTP mode the routes sit beside `/slack/events` on `PORT` (`bot.slack.transport` adds
them to Bolt's aiohttp app). In Socket Mode nothing listens for Slack, so
`start_metrics_server` serves the same two routes on `CCERT_METRICS_HOST:CCERT_METRICS_PORT`
(loopback by default: scrape it from the same host, or set the host deliberately).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.observability.observer import Observability
from bot.webserver import http_url, start_runner

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"


def routes(observability: Observability) -> list[web.RouteDef]:
    """GET /healthz (200 or 503 with the reasons, as JSON) and GET /metrics (Prometheus text)."""

    async def health(_: web.Request) -> web.Response:
        report = await observability.health()
        return web.json_response(report.to_dict(), status=report.status_code, headers={"Cache-Control": "no-store"})

    async def metrics(_: web.Request) -> web.Response:
        body = await observability.scrape()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return [web.get(HEALTH_PATH, health), web.get(METRICS_PATH, metrics)]


@dataclass
class MetricsServerHandle:
    """The standalone health/metrics server; `port` is the real one (useful after asking for 0)."""

    runner: web.AppRunner
    host: str
    port: int
    _stopped: bool = False

    @property
    def url(self) -> str:
        return http_url(self.host, self.port)

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        await self.runner.cleanup()


async def start_metrics_server(observability: Observability, *, host: str, port: int) -> MetricsServerHandle:
    """Serve /healthz and /metrics on host:port (port 0 picks a free one) and return at once."""
    app = web.Application()
    app.add_routes(routes(observability))
    handle = MetricsServerHandle(*await start_runner(app, host, port))
    log.info("health and metrics on %s%s and %s%s", handle.url, HEALTH_PATH, handle.url, METRICS_PATH)
    return handle
