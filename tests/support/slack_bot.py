"""The whole bot as Slack sees it: signed HTTP into the Bolt app, a fake Web API,
a simulated site, a real SQLite store. Shared by the Slack end-to-end tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bot.console.notifier import ConsoleNotifier
from bot.inventory import Site
from bot.runtime import Runtime
from bot.slack.app import SlackBot, build_app
from bot.slack.notifier import SlackNotifier
from bot.slack.transport import HttpServerHandle, start_http_server
from bot.store import Store
from tests.support import slack_signing
from tests.support.fake_slack import FakeSlack
from tests.support.simulated_site import SimulatedSite, simulated_site

SIGNING_SECRET = "e2e-signing-secret-5c2a"
TOKEN = "xoxb-e2e-token"
CHANNEL = "C0SITET001"


@dataclass
class SlackBotHarness:
    site: SimulatedSite
    slack: FakeSlack
    runtime: Runtime
    bot: SlackBot
    server: HttpServerHandle
    http: aiohttp.ClientSession

    async def command(self, text: str, user: str = "U0ALICE", channel: str = CHANNEL) -> tuple[int, Any, float]:
        request = slack_signing.slash_command(
            SIGNING_SECRET, text, user_id=user, channel_id=channel, response_url=self.slack.response_url()
        )
        return await self.send(request)

    async def click(
        self,
        action_id: str,
        value: str,
        user: str,
        message_ts: str | None = None,
        channel: str = CHANNEL,
        **payload: Any,
    ) -> tuple[int, Any, float]:
        """A signed button click; `payload` goes to `slack_signing.block_actions_payload`
        (`trigger_id=`, `message_text=`, `thread_ts=`, `home=True`)."""
        options: dict[str, Any] = {"user_id": user, "channel_id": channel, "response_url": self.slack.response_url()}
        if message_ts is not None:
            options["message_ts"] = message_ts
        request = slack_signing.block_actions(SIGNING_SECRET, action_id, value, **{**options, **payload})
        return await self.send(request)

    async def open_home(self, user: str) -> tuple[int, Any, float]:
        """`user` opens the app's Home tab (signed `app_home_opened`)."""
        return await self.send(slack_signing.app_home_opened(SIGNING_SECRET, user))

    async def click_in_home(
        self, action_id: str, value: str, user: str, trigger_id: str | None = None
    ) -> tuple[int, Any, float]:
        """`user` clicks a button of their Home tab (no channel, message or response_url)."""
        request = slack_signing.view_block_actions(
            SIGNING_SECRET, action_id, value, user_id=user, trigger_id=trigger_id
        )
        return await self.send(request)

    async def opened_form(self, trigger_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The view the bot gave `views.open` for the click with `trigger_id` (`opened_form`)."""
        return await opened_form(self.slack, trigger_id, timeout)

    async def submit(self, view: dict[str, Any], text: str | None, user: str) -> tuple[int, Any, float]:
        """Submit a vote form (`bot.slack.modals`) with `text` typed in its one field."""
        from bot.slack.modals import TEXT_ACTION, TEXT_BLOCK

        values = slack_signing.form_values(TEXT_BLOCK, TEXT_ACTION, text)
        request = slack_signing.view_submission(SIGNING_SECRET, view, values, user_id=user, user_name=user.lower())
        return await self.send(request)

    async def vote(
        self, action_id: str, request_id: int, user: str, message_ts: str, text: str | None = None
    ) -> tuple[int, Any, float]:
        """Click Approve/Reject on the request message, then submit the form it opened with
        `text` (the reason or comment): what a voter does in Slack. Returns the submission's answer."""
        trigger = slack_signing.unique_trigger_id()
        status, _, elapsed = await self.click(
            action_id, str(request_id), user, message_ts=message_ts, trigger_id=trigger
        )
        assert status == 200 and elapsed < 3, (status, elapsed)
        return await self.submit(await self.opened_form(trigger), text, user)

    def request_message(self) -> tuple[int, str] | None:
        """The first remediation request the bot posted (`request_message`)."""
        return request_message(self.slack)

    async def send(self, request: slack_signing.SignedRequest) -> tuple[int, Any, float]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with (
            asyncio.timeout(10),
            self.http.post(self.server.url, data=request.body, headers=request.headers) as response,
        ):
            text = await response.text()
            body: Any = json.loads(text) if text.startswith("{") else text
            return response.status, body, loop.time() - started


async def opened_form(slack: FakeSlack, trigger_id: str, timeout: float = 5.0) -> dict[str, Any]:
    """The view the bot gave `views.open` for the click with `trigger_id` (recorded even
    when the fake answered it with an error, or has not answered yet)."""

    def found() -> dict[str, Any] | None:
        for call in slack.calls_to("views.open"):
            if call.body.get("trigger_id") == trigger_id:
                view = call.body.get("view")
                return {**view, **(call.response.get("view") or {})} if isinstance(view, dict) else None
        return None

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (view := found()) is None:
        if loop.time() > deadline:
            raise AssertionError(f"no views.open for trigger {trigger_id}; calls: {[c.method for c in slack.calls]}")
        await asyncio.sleep(0.02)
    return view


def request_message(slack: FakeSlack) -> tuple[int, str] | None:
    """The first remediation request the bot posted: its id and the ts of the message that
    carries the Approve/Reject buttons (None before there is one)."""
    for call in slack.calls_to("chat.postMessage"):
        for block in call.body.get("blocks", []):
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == "remediation_approve":
                    return int(element["value"]), str(call.response["ts"])
    return None


@contextlib.asynccontextmanager
async def slack_bot(tmp_path: Path, *entries: dict[str, Any], **settings: Any) -> AsyncIterator[SlackBotHarness]:
    async with (
        FakeSlack(token=TOKEN) as slack,
        simulated_site(
            tmp_path,
            *entries,
            slack_api_url=slack.api_url,
            slack_bot_token=TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_app_token=None,
            **settings,
        ) as site,
    ):
        old = site.inventory.sites["site-t"]
        site.inventory.sites["site-t"] = Site(old.name, CHANNEL, old.controllers)
        store = await Store.open(site.settings.db)
        try:
            runtime = Runtime(site.inventory, site.settings, store, ConsoleNotifier(io.StringIO()), site.environ)
            bot = build_app(site.settings, runtime.dispatcher)
            runtime.use_notifier(SlackNotifier(bot.client))
            runtime.on_change(bot.home.changed)
            await runtime.start(jobs=False)  # recovery and syslog as in production; tests drive the checks
            server = await start_http_server(bot, host="127.0.0.1", port=0)
            try:
                async with aiohttp.ClientSession() as http:
                    yield SlackBotHarness(site, slack, runtime, bot, server, http)
            finally:
                await server.stop()
                await bot.aclose(grace=1.0)
                await runtime.stop()
        finally:
            await store.close()
