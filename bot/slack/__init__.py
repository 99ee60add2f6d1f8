"""The Slack front door: Bolt app, listeners, Block Kit rendering, transports, manifest.

Imports are lazy so `from bot.slack.manifest import app_manifest` (what
`ccert-bot manifest` needs) does not pull in slack-bolt and aiohttp.

Typical use::

    bot = build_app(settings, dispatcher)
    await serve(bot, settings)          # Socket Mode if SLACK_APP_TOKEN, else HTTP on PORT
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SlackBot": "bot.slack.app",
    "SlackConfigError": "bot.slack.app",
    "build_app": "bot.slack.app",
    "render_messages": "bot.slack.render",
    "app_manifest": "bot.slack.manifest",
    "dump_manifest": "bot.slack.manifest",
    "HttpServerHandle": "bot.slack.transport",
    "SocketModeHandle": "bot.slack.transport",
    "serve": "bot.slack.transport",
    "start": "bot.slack.transport",
    "start_http_server": "bot.slack.transport",
    "start_socket_mode": "bot.slack.transport",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bot.slack' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
