"""The seam between chat front doors (Slack, console, scheduler) and the bot.

A front door parses nothing itself: it hands the raw `/ccert` text or a
button's action to a `Dispatcher` and renders what comes back. The commands
are the registry's (`bot.chat.commands`); the policy that cuts across them (the
length cap, argument checking, access control, services) is the filter chain of
`bot.chat.filters`, like Errbot's command filters, so no listener can forget it.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Mapping
from typing import Protocol

from bot.chat import handlers
from bot.chat.access import AccessPolicy
from bot.chat.arguments import Invalid
from bot.chat.commands import REGISTRY
from bot.chat.context import CommandContext, DigestPoster, Spawner
from bot.chat.filters import Invocation, chain, standard_filters
from bot.chat.registry import Registry
from bot.chat.reply import Caller, CommandResult
from bot.chat.text import MAX_ACTION_VALUE_CHARS
from bot.fleet.reader import FleetReader
from bot.fleet.service import FleetService, StaticFacts, WatchSource
from bot.inventory import Inventory
from bot.remediation.service import RemediationService
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)

__all__ = ["BotDispatcher", "DigestPoster", "Dispatcher", "Spawner", "build_dispatcher"]


class Dispatcher(Protocol):
    async def dispatch(self, text: str, caller: Caller) -> CommandResult:
        """Run `/ccert <text>` for `caller`. Returns at once; slow work is in `follow_up`."""
        ...

    async def handle_action(self, action_id: str, value: str, caller: Caller) -> CommandResult:
        """A button was clicked (Slack block_actions) or typed (console)."""
        ...


class BotDispatcher:
    """The real dispatcher: every command through the filter chain, then its registered function.

    Without an `access` policy every command gets its registered default: `remediate`
    is closed (nobody is an approver), the rest open; the safe default for a dispatcher
    built by hand. `registry` is the bot's own commands unless a test brings its own.
    """

    def __init__(
        self,
        inventory: Inventory,
        fleet: FleetService,
        access: AccessPolicy | None = None,
        store: Store | None = None,
        post_digest: DigestPoster | None = None,
        remediation: RemediationService | None = None,
        spawn: Spawner | None = None,
        registry: Registry | None = None,
    ) -> None:
        self.inventory = inventory
        self.fleet = fleet
        self.registry = REGISTRY if registry is None else registry
        self.access = access or AccessPolicy(registry=self.registry)
        self.store = store
        self.post_digest = post_digest
        self.remediation = remediation
        self.spawn = spawn
        self._run = chain(standard_filters(self.access))

    def context(self, caller: Caller) -> CommandContext:
        """What a command run for `caller` may use."""
        return CommandContext(
            caller,
            self.inventory,
            self.fleet,
            self.registry,
            store=self.store,
            post_digest=self.post_digest,
            remediation=self.remediation,
            spawn=self.spawn,
            access=self.access.allows,
        )

    async def dispatch(self, text: str, caller: Caller) -> CommandResult:
        return await self._run(Invocation(text, self.context(caller)))

    async def handle_action(self, action_id: str, value: str, caller: Caller) -> CommandResult:
        """Buttons go through the same chain as typed commands: a button names a registered
        command, and its value becomes that command's words.

        A value is the bot's own (`site-a/wlc-a1`, a request number), but what arrives
        is whatever the client sent: it is bounded like Slack bounds it, and each part
        is quoted, so it stays one word and cannot add options or arguments.
        """
        if len(value) > MAX_ACTION_VALUE_CHARS:
            log.info("refused a %d-character button value from %s", len(value), caller.user_id)
            return CommandResult(handlers.invalid_reply(Invalid("That button's value is too long to be one of mine.")))
        found = self.registry.button(action_id)
        if found is None:
            return CommandResult(handlers.invalid_reply(Invalid("I don't know that button.")))
        spec, words_of = found
        words = [spec.name] + [shlex.quote(w) for w in words_of(value)]
        return await self.dispatch(" ".join(words), caller)


def build_dispatcher(
    inventory: Inventory,
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    store: Store | None = None,
    post_digest: DigestPoster | None = None,
    remediation: RemediationService | None = None,
    spawn: Spawner | None = None,
    watches: WatchSource | None = None,
    facts: StaticFacts | None = None,
    reader: FleetReader | None = None,
) -> BotDispatcher:
    """The dispatcher a front door talks to; `reader` is the bot's one fleet reader (the
    session limit status shares with the checks and remediation), else the service's own."""
    return BotDispatcher(
        inventory,
        FleetService(inventory, settings, environ, watches, facts, reader=reader),
        AccessPolicy.parse(settings.access, settings.approvers),
        store=store,
        post_digest=post_digest,
        remediation=remediation,
        spawn=spawn,
    )
