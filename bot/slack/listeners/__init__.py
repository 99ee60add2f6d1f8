"""Bolt listeners: Slack payload ↔ Caller/Reply, and nothing else.

Every listener follows the same shape: answer Slack at once, hand the text or
action to the `Dispatcher`, render what comes back, and leave slow work to a
background task. (Approve and Reject open a form first, `modals`: a trigger_id
opens a view only for 3 s, so `views.open` comes right after the ack.) The
plumbing they share (the messenger, the task registry, the user-group cache,
the follow-up runner) lives in `ListenerRuntime`, so a listener module stays a
page of translation.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from bot.chat.dispatch import Dispatcher
from bot.chat.reply import CommandResult, Reply
from bot.slack.delivery import (
    BackgroundTasks,
    Destination,
    Messenger,
    Posted,
    error_reference,
    friendly_error,
)
from bot.slack.identity import UserGroupDirectory

if TYPE_CHECKING:
    from bot.slack.home import HomePublisher

log = logging.getLogger(__name__)

# Slack drops a slash command after 3 s. Identity lookup + dispatch get this much of
# it; the rest is for the network and Bolt. Dispatch is meant to return at once.
ACK_BUDGET_SECONDS = 2.0


@dataclass
class ListenerRuntime:
    """What listeners share: one messenger, one task registry, one group cache, and the
    Home tab's publisher (None: the Home tab shows a fixed pointer to `/ccert help`)."""

    messenger: Messenger
    tasks: BackgroundTasks = field(default_factory=BackgroundTasks)
    groups: UserGroupDirectory = field(default_factory=lambda: UserGroupDirectory(None, ()))
    ack_budget: float = ACK_BUDGET_SECONDS
    home: HomePublisher | None = None

    @classmethod
    def for_app(cls, app: AsyncApp) -> ListenerRuntime:
        """A runtime posting with the app's own client (when `register` is called bare)."""
        return cls(messenger=Messenger(app.client))

    async def run_follow_up(
        self, result: CommandResult, dest: Destination, *, what: str, replace: Posted | None = None
    ) -> None:
        """Await the slow half of a command and post its Reply; on failure post a
        friendly, secret-free note and log the details under a reference id."""
        if result.follow_up is None:
            return
        try:
            reply = await result.follow_up()
        except asyncio.CancelledError:
            raise
        except Exception:
            reference = error_reference()
            log.exception("follow-up of %s failed (reference %s)", what, reference)
            await self.post_safely(friendly_error(reference), dest, what=what)
            return
        await self.post_safely(reply, dest, what=what, replace=replace)

    async def post_safely(
        self, reply: Reply, dest: Destination, *, what: str, replace: Posted | None = None
    ) -> Posted | None:
        """Post (or update) and never raise: a Slack outage must not crash the loop;
        the failure is logged and, if Slack still answers, the user is told. The reply's
        temporary files are gone afterwards, posted or not."""
        try:
            if replace is not None:
                return await self.messenger.update(replace, reply, dest)
            return await self.messenger.post(reply, dest)
        except asyncio.CancelledError:
            reply.discard_files()
            raise
        except Exception as error:
            reply.discard_files()
            reference = error_reference()
            log.error(
                "posting the reply to %s failed: %s (reference %s)",
                what,
                _describe(error),
                reference,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            try:
                await self.messenger.post(friendly_error(reference), dest)
            except Exception as second:
                log.error("could not tell the user either: %s", _describe(second))
            return None

    async def aclose(self, grace: float = 0.0) -> None:
        if self.home is not None:
            await self.home.aclose()
        await self.tasks.aclose(grace)
        await self.groups.aclose()


def _describe(error: BaseException) -> str:
    """Error summary for logs: the Slack error code when there is one, else the type.

    slack_sdk errors carry the response, never the token; still, keep it short."""
    response = getattr(error, "response", None)
    code = None
    if response is not None:
        try:
            code = response.get("error")
        except Exception:  # pragma: no cover - defensive
            code = None
    return f"{type(error).__name__}({code})" if code else type(error).__name__


def verb_of(text: str) -> str:
    """The first word of a command, for logs: enough to find it, never its arguments."""
    word = text.strip().split(" ", 1)[0] if text.strip() else "help"
    return f"/ccert {word[:32]}"


def register_all(app: AsyncApp, dispatcher: Dispatcher, runtime: ListenerRuntime) -> None:
    """Register every listener on `app`."""
    from bot.slack.listeners import actions, commands, events, modals

    commands.register(app, dispatcher, runtime)
    modals.register(app, dispatcher, runtime)  # before actions: Approve/Reject open a form
    actions.register(app, dispatcher, runtime)
    events.register(app, dispatcher, runtime)
