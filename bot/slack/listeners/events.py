"""Events: an @-mention gets a pointer to `/ccert help`; opening the Home tab publishes the home.

The bot is driven by its slash command, so a mention gets a fixed pointer to
`/ccert help` and calls no dispatcher. `app_home_opened` hands the viewer to the
`HomePublisher` (`bot.slack.home`), which publishes their home (`/ccert home`'s
answer, fresh from the store) and keeps it up to date while they look; a bot built
without one publishes the fixed `home_view()` pointer instead.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.chat.dispatch import Dispatcher
from bot.slack.delivery import Destination
from bot.slack.home import event_user
from bot.slack.listeners import ListenerRuntime
from bot.slack.manifest import COMMAND

log = logging.getLogger(__name__)


def help_pointer(user_id: str | None) -> str:
    who = f"<@{user_id}> " if user_id else ""
    return (
        f"Hi {who}:wave: I answer to `{COMMAND}`. Try `{COMMAND} help` for what I can do, "
        f"or `{COMMAND} status <site>` for a site's CSCwd80290 check."
    )


def home_view() -> dict[str, Any]:
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "ccert-bot", "emoji": True}},
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": (
                        "I find and fix Cisco bug CSCwd80290 (IOS APs stuck *Downloading*) on AireOS "
                        "and Catalyst 9800 controllers."
                    ),
                },
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": (f"Type `{COMMAND} help` in any channel to see the commands."),
                },
            },
        ],
    }


def register(app: AsyncApp, dispatcher: Dispatcher, runtime: ListenerRuntime | None = None) -> None:
    rt = runtime or ListenerRuntime.for_app(app)

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any]) -> None:
        user_id = event.get("user")
        dest = Destination(
            user_id=str(user_id or ""),
            channel_id=event.get("channel"),
            thread_ts=event.get("thread_ts") or event.get("ts"),
        )
        rt.tasks.spawn(_post_pointer(rt, dest, user_id), name="mention")

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any]) -> None:
        user = event_user(event)
        if user is None:
            return
        if rt.home is not None:
            rt.home.opened(user)  # publishes in a task of its own
            return
        rt.tasks.spawn(_publish_home(rt, user), name="home")


async def _post_pointer(rt: ListenerRuntime, dest: Destination, user_id: str | None) -> None:
    try:
        await rt.messenger.post_note(help_pointer(user_id), dest, ephemeral=False)
    except Exception as error:
        log.error("could not answer a mention: %s", type(error).__name__)


async def _publish_home(rt: ListenerRuntime, user_id: str) -> None:
    try:
        await rt.messenger.client.views_publish(user_id=user_id, view=home_view())
    except Exception as error:
        log.error("could not publish the Home tab: %s", type(error).__name__)
