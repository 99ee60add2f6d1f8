"""What a `/ccert` subcommand may use: the caller and the bot's services, passed in, never global.

The dispatcher builds one `CommandContext` per command from what it was given
(`build_dispatcher`'s arguments); a service the bot runs without (no database:
no store, no remediation, no digest poster) is None, and a command that needs
it says so in its `requires` and answers "not enabled" instead of running.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.chat.reply import Caller

if TYPE_CHECKING:  # types only: replies and the registry import this module, and need none of the services
    from bot.chat.registry import Registry
    from bot.fleet.service import FleetService
    from bot.inventory import Inventory
    from bot.remediation.service import RemediationService
    from bot.store import Store

DigestPoster = Callable[[str], Awaitable[object]]
Spawner = Callable[[Coroutine[Any, Any, Any], str], object]
AccessCheck = Callable[[str, Caller], bool]


@dataclass(frozen=True)
class CommandContext:
    """One command's view of the bot. `spawn` None means the console: a playbook run that
    an approval starts runs in the foreground and its end is the vote's follow-up.
    `access` is the dispatcher's policy (`AccessPolicy.allows`), for a command that shows
    what another command would (the home shows what `status` does): see `allows`."""

    caller: Caller
    inventory: Inventory
    fleet: FleetService
    registry: Registry
    store: Store | None = None
    post_digest: DigestPoster | None = None
    remediation: RemediationService | None = None
    spawn: Spawner | None = None
    access: AccessCheck | None = None

    def allows(self, command: str) -> bool:
        """May this caller run `command` (`CCERT_ACCESS`, else its registered default)? A
        context built without the dispatcher's policy allows nothing it is asked about, so a
        forgotten policy hides data instead of showing it."""
        return self.access is not None and self.access(command, self.caller)

    @property
    def channel(self) -> str | None:
        """The channel the command was typed in (None from the console without a channel)."""
        return self.caller.channel_id
