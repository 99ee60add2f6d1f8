"""Shared pieces of the Slack front-door tests: the scripted dispatcher and a
running-front handle. (A plain module, not conftest, so tests can import it.)

The dispatcher is a test double: these tests are about the Slack edge
(signatures, acks, posting, threading, retries), so the edge is driven for
real and only the bot's brain is scripted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.chat.reply import Caller, CommandResult, Level, Reply
from bot.settings import Settings, load_settings
from bot.slack.app import SlackBot
from bot.slack.transport import HttpServerHandle
from tests.support import slack_signing
from tests.support.fake_slack import FakeSlack

SIGNING_SECRET = "test-signing-secret-8d1f"
BOT_TOKEN = "xoxb-test-token-5c2e"

Handler = Callable[[str, Caller], Awaitable[CommandResult]]


def quick(reply: Reply, follow_up: Reply | None = None) -> CommandResult:
    """A CommandResult whose follow-up (if any) answers immediately."""
    if follow_up is None:
        return CommandResult(ack=reply)

    async def later() -> Reply:
        return follow_up

    return CommandResult(ack=reply, follow_up=later)


@dataclass
class ScriptedDispatcher:
    """Answers from a script; records every call so tests can assert on what Slack sent."""

    commands: list[tuple[str, Caller]] = field(default_factory=list)
    actions: list[tuple[str, str, Caller]] = field(default_factory=list)
    on_dispatch: Handler | None = None
    on_action: Handler | None = None  # receives f"{action_id}={value}"

    async def dispatch(self, text: str, caller: Caller) -> CommandResult:
        self.commands.append((text, caller))
        if self.on_dispatch is not None:
            return await self.on_dispatch(text, caller)
        return quick(
            Reply(title="", text=f"Working on `{text}`…", ephemeral=True),
            Reply(title=f"Result of {text}", text="All good.", level=Level.OK),
        )

    async def handle_action(self, action_id: str, value: str, caller: Caller) -> CommandResult:
        self.actions.append((action_id, value, caller))
        if self.on_action is not None:
            return await self.on_action(f"{action_id}={value}", caller)
        return quick(
            Reply(title="", text="Recording your click…"),
            Reply(title=f"{action_id} done", text=f"value {value}", level=Level.OK),
        )


@dataclass
class Front:
    """A running front door plus what a test needs to poke it."""

    fake: FakeSlack
    bot: SlackBot
    server: HttpServerHandle
    dispatcher: ScriptedDispatcher
    session: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return self.server.url

    async def command(self, text: str, **kwargs: Any) -> tuple[int, dict[str, Any] | str, float]:
        """Send a signed `/ccert text`; returns (status, parsed body, seconds to answer)."""
        kwargs.setdefault("response_url", self.fake.response_url("cmd"))
        request = slack_signing.slash_command(SIGNING_SECRET, text, **kwargs)
        return await self.send(request)

    async def click(self, action_id: str, value: str, **kwargs: Any) -> tuple[int, dict[str, Any] | str, float]:
        kwargs.setdefault("response_url", self.fake.response_url("act"))
        return await self.send(slack_signing.block_actions(SIGNING_SECRET, action_id, value, **kwargs))

    async def send(self, request: slack_signing.SignedRequest) -> tuple[int, dict[str, Any] | str, float]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with asyncio.timeout(10):
            status, text = await request.post(self.session, self.url)
        elapsed = loop.time() - started
        try:
            body: dict[str, Any] | str = json.loads(text) if text else ""
        except ValueError:
            body = text
        return status, body, elapsed


def make_settings(fake: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "_env_file": None,
        "slack_bot_token": fake.token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_app_token": None,
        "slack_api_url": fake.api_url.rstrip("/"),  # build_app must add the trailing slash
        "access": "",
    }
    values.update(overrides)
    return load_settings(**values)
