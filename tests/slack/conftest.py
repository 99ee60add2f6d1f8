"""Fixtures for the Slack front door: a fake Slack, the real Bolt app over real HTTP."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

# `tests.support` lives outside the installed package and `slack_harness` next to
# this file; make both importable whichever way pytest was started.
for _path in (Path(__file__).resolve().parents[2], Path(__file__).resolve().parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from slack_harness import BOT_TOKEN, Front, ScriptedDispatcher, make_settings  # noqa: E402

from bot.slack.app import build_app  # noqa: E402
from bot.slack.transport import start_http_server  # noqa: E402
from tests.support.fake_slack import FakeSlack  # noqa: E402


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=BOT_TOKEN) as fake:
        yield fake


@pytest.fixture
def dispatcher() -> ScriptedDispatcher:
    return ScriptedDispatcher()


@pytest.fixture
def front_options() -> dict[str, Any]:
    """Override in a test module (or parametrize) to pass settings / build_app options."""
    return {}


@pytest.fixture
async def front(
    fake_slack: FakeSlack, dispatcher: ScriptedDispatcher, front_options: dict[str, Any]
) -> AsyncIterator[Front]:
    options = dict(front_options)
    build_kwargs = {k: options.pop(k) for k in ("ack_budget",) if k in options}
    bot = build_app(make_settings(fake_slack, **options), dispatcher, **build_kwargs)
    server = await start_http_server(bot, host="127.0.0.1", port=0)
    session = aiohttp.ClientSession()
    try:
        yield Front(fake=fake_slack, bot=bot, server=server, dispatcher=dispatcher, session=session)
    finally:
        await session.close()
        await server.stop()
