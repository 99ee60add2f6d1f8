"""Slack front door + the real dispatcher and handlers, no test doubles in the bot.

Controllers are real TCP endpoints on 127.0.0.1 that fail the way the
simulator's faults do: a closed port (refuse_connections) and a listener that
accepts and never speaks SSH (hang_on_connect). That is enough to drive every
path from signed request to posted Block Kit without the simulator; tests
against the simulated controllers' happy path belong with the simulator.
"""

from __future__ import annotations

import asyncio
import socket
import textwrap
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_harness import SIGNING_SECRET, make_settings

from bot.chat import dispatch as dispatch_module
from bot.chat import handlers
from bot.inventory_file import parse_inventory
from bot.slack.app import SlackBot, build_app
from bot.slack.render import LEVEL_EMOJI, render_messages
from bot.slack.transport import HttpServerHandle, start_http_server
from tests.support import slack_signing
from tests.support.fake_slack import FakeSlack

if not hasattr(dispatch_module, "build_dispatcher"):  # pragma: no cover - depends on build order
    pytest.skip("bot.chat.dispatch.build_dispatcher is not there yet", allow_module_level=True)

ENV = {"E2E_USER": "admin", "E2E_PASS": "not-a-real-password"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SilentController:
    """Accepts TCP and never sends an SSH banner (the simulator's hang_on_connect)."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.writers.append(writer)

        self.server = await asyncio.start_server(hold, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        for writer in self.writers:
            writer.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


def _inventory(refused: int, silent: int) -> Any:
    return parse_inventory(
        textwrap.dedent(f"""\
        sites:
          site-a:
            channel: C0SITEA
            controllers:
              - {{name: wlc-a1, host: 127.0.0.1, port: {refused}, platform: aireos, credentials: lab}}
          site-h:
            channel: C0SITEH
            controllers:
              - {{name: wlc-h1, host: 127.0.0.1, port: {silent}, platform: iosxe, credentials: lab}}
        credentials:
          lab: {{username_env: E2E_USER, password_env: E2E_PASS}}
        """),
        environ=ENV,
    )


class E2E:
    def __init__(self, fake: FakeSlack, bot: SlackBot, server: HttpServerHandle, session: aiohttp.ClientSession):
        self.fake, self.bot, self.server, self.session = fake, bot, server, session

    async def command(self, text: str, **kwargs: Any) -> tuple[int, Any, float]:
        kwargs.setdefault("response_url", self.fake.response_url())
        return await self.send(slack_signing.slash_command(SIGNING_SECRET, text, **kwargs))

    async def send(self, request: slack_signing.SignedRequest) -> tuple[int, Any, float]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with asyncio.timeout(10):
            async with self.session.post(self.server.url, data=request.body, headers=request.headers) as r:
                body = await r.json(content_type=None) if r.content_length else ""
                return r.status, body, loop.time() - started


@pytest.fixture
async def e2e(fake_slack: FakeSlack) -> AsyncIterator[E2E]:
    silent = SilentController()
    silent_port = await silent.start()
    settings = make_settings(
        fake_slack,
        access="remediate=U0BOSS",
        ssh_timeout_seconds=1.0,
        ssh_strict_host_keys=False,
    )
    dispatcher = dispatch_module.build_dispatcher(_inventory(_closed_port(), silent_port), settings, ENV)
    bot = build_app(settings, dispatcher)
    server = await start_http_server(bot, host="127.0.0.1", port=0)
    session = aiohttp.ClientSession()
    try:
        yield E2E(fake_slack, bot, server, session)
    finally:
        await session.close()
        await server.stop()
        await silent.stop()


async def test_help_is_the_handlers_help_rendered(e2e: E2E) -> None:
    status, body, elapsed = await e2e.command("help")
    assert status == 200 and elapsed < 3
    assert body["response_type"] == "ephemeral"
    assert body["blocks"] == render_messages(handlers.help_reply())[0]["blocks"]


async def test_status_of_an_unreachable_site_acks_then_posts_the_verdict(e2e: E2E) -> None:
    status, body, elapsed = await e2e.command("status site-a", channel_id="C0SITEA")
    assert status == 200 and elapsed < 3
    assert "site-a" in str(body)
    (post,) = await e2e.fake.wait_for("chat.postMessage", 1, timeout=10)
    assert post.body["channel"] == "C0SITEA"
    assert post.blocks[0]["type"] == "header"
    assert LEVEL_EMOJI[handlers.STATUS_LEVEL[handlers.VerdictStatus.UNREACHABLE]] in post.blocks[0]["text"]["text"]
    assert "wlc-a1" in str(post.blocks)
    assert "not-a-real-password" not in str(e2e.fake.calls)


async def test_hanging_controller_does_not_delay_the_ack(e2e: E2E) -> None:
    status, _, elapsed = await e2e.command("status site-h", channel_id="C0SITEH")
    assert status == 200
    assert elapsed < 1.0, f"ack took {elapsed:.2f}s while the controller hangs"
    assert e2e.fake.calls_to("chat.postMessage") == []  # still waiting on the silent controller
    (post,) = await e2e.fake.wait_for("chat.postMessage", 1, timeout=10)
    assert "wlc-h1" in str(post.blocks)


async def test_access_rules_deny_remediate_to_others(e2e: E2E) -> None:
    status, body, _ = await e2e.command("remediate site-a", user_id="U0SOMEONE")
    assert status == 200 and body["response_type"] == "ephemeral"
    assert body["blocks"] == render_messages(handlers.denied_reply("remediate"))[0]["blocks"]


async def test_invalid_command_gets_a_private_hint(e2e: E2E) -> None:
    status, body, _ = await e2e.command("frobnicate site-a")
    assert status == 200 and body["response_type"] == "ephemeral"
    assert body["blocks"][0]["type"] == "header"


async def test_time_back_button_goes_through_the_same_rules(e2e: E2E) -> None:
    refused = slack_signing.block_actions(
        SIGNING_SECRET, "timeback_request", "site-a/wlc-a1", user_id="U0SOMEONE", response_url=e2e.fake.response_url()
    )
    status, _, _ = await e2e.send(refused)
    assert status == 200
    (note,) = await e2e.fake.wait_for("chat.postEphemeral", 1)
    assert note.body["user"] == "U0SOMEONE"
    assert note.blocks == render_messages(handlers.denied_reply("remediate"))[0]["blocks"]

    allowed = slack_signing.block_actions(
        SIGNING_SECRET, "timeback_request", "site-a/wlc-a1", user_id="U0BOSS", response_url=e2e.fake.response_url()
    )
    await e2e.send(allowed)
    _, second = await e2e.fake.wait_for("chat.postEphemeral", 2)
    assert second.body["user"] == "U0BOSS"
    assert "time-back" in str(second.blocks).lower()
