"""The policy around every `/ccert` command, as a chain of filters (Errbot's `cmdfilter`).

A typed command and a clicked button go through the same chain, in this order:

1. `length_cap`: text over Slack's own limit is refused before anything reads it;
2. `resolve_arguments`: the text is parsed against the registry and the inventory,
   so what goes on is a known command with checked arguments;
3. `check_access(policy)`: `CCERT_ACCESS`, else the command's registered default;
4. `check_services`: a command whose service the bot runs without says "not enabled";

and then the command runs (`run_command`: a slow one acks at once). Each filter
either answers (stopping the chain) or calls the next; refusals that matter to
an operator are logged with who asked.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from bot.chat import handlers
from bot.chat.access import AccessPolicy
from bot.chat.arguments import Invalid
from bot.chat.context import CommandContext
from bot.chat.registry import Command, Parsed, too_long
from bot.chat.reply import CommandResult
from bot.chat.text import MAX_COMMAND_CHARS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Invocation:
    """One command on its way through the chain; `parsed` is set once the text was resolved."""

    text: str
    ctx: CommandContext
    parsed: Parsed | None = None

    @property
    def command(self) -> Command:
        assert self.parsed is not None, "a filter before resolve_arguments asked for the command"
        return self.ctx.registry[self.parsed.name]


Next = Callable[[Invocation], Awaitable[CommandResult]]
Filter = Callable[[Invocation, Next], Awaitable[CommandResult]]


async def length_cap(call: Invocation, proceed: Next) -> CommandResult:
    if len(call.text) > MAX_COMMAND_CHARS:
        # Before any parsing: Slack never sends more, so this did not come from its UI,
        # and reading it would cost event-loop time every other user waits for.
        log.info("refused a %d-character /ccert text from %s", len(call.text), call.ctx.caller.user_id)
        return CommandResult(handlers.invalid_reply(too_long(len(call.text)), call.ctx.registry))
    return await proceed(call)


async def resolve_arguments(call: Invocation, proceed: Next) -> CommandResult:
    parsed = call.ctx.registry.parse(call.text, call.ctx.inventory)
    if isinstance(parsed, Invalid):
        return CommandResult(handlers.invalid_reply(parsed, call.ctx.registry))
    return await proceed(replace(call, parsed=parsed))


def check_access(policy: AccessPolicy) -> Filter:
    async def access(call: Invocation, proceed: Next) -> CommandResult:
        name = call.command.name
        if not policy.allows(name, call.ctx.caller):
            log.info("denied /ccert %s for %s", name, call.ctx.caller.user_id)
            return CommandResult(handlers.denied_reply(name, call.ctx.registry))
        return await proceed(call)

    return access


async def check_services(call: Invocation, proceed: Next) -> CommandResult:
    spec = call.command
    if spec.missing_service(call.ctx):
        return CommandResult(handlers.not_enabled_reply(spec.unavailable))
    return await proceed(call)


async def run_command(call: Invocation) -> CommandResult:
    assert call.parsed is not None
    return await call.command.run(call.ctx, call.parsed.args)


def chain(filters: Sequence[Filter], last: Next = run_command) -> Next:
    """`filters[0]` around `filters[1]` around … around `last`."""
    proceed = last
    for outer in reversed(filters):
        proceed = _wrap(outer, proceed)
    return proceed


def _wrap(outer: Filter, inner: Next) -> Next:
    async def step(call: Invocation) -> CommandResult:
        return await outer(call, inner)

    return step


def standard_filters(policy: AccessPolicy) -> list[Filter]:
    """The chain every front door's commands go through, in order."""
    return [length_cap, resolve_arguments, check_access(policy), check_services]
