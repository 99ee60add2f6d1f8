"""The `/ccert` command registry: one decorated function per subcommand, everything else derived.

In the spirit of Errbot's `@arg_botcmd` and Nautobot ChatOps' subcommands, a
subcommand is declared once:

    @command("status", slow=reading("checking"))
    async def status(ctx: CommandContext, sites: SiteOrAll) -> Reply:
        \"\"\"read the controllers now; CSCwd80290 verdict

        acknowledges at once, reads the controllers, posts the verdict …
        \"\"\"

* the **name** is the word after `/ccert`;
* the **signature** declares the arguments (`bot.chat.arguments`): the parser
  resolves them against the inventory and the handler gets checked values;
* the docstring's **first line** is the `/ccert help` line; its second paragraph,
  when there is one, is the README's table row (else the help line is);
* `access` is who may run it when `CCERT_ACCESS` does not name it;
* `slow` is the ack said at once ("checking site-a: 2 controllers…"); the body
  then runs as the follow-up, so no command can hold Slack's 3-second window;
* `buttons` are the action ids that run it, with how a button's value becomes
  its words (parsed and checked like typed ones);
* `requires` names the context's services it cannot run without (`store`,
  `remediation`, `post_digest`, `channel`), `unavailable` says so to the user.

Parsing (`Registry.parse`), the did-you-mean list of commands, `/ccert help`,
`CCERT_ACCESS`'s list of names and the README's command table (`readme_table`)
all read the registry, so adding a subcommand is one function. `Registry.scoped`
lets a test add one and take it away again.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, TypeVar

from bot.chat.arguments import Invalid, Signature, Text, did_you_mean, quote, words
from bot.chat.context import CommandContext
from bot.chat.reply import CommandResult, Reply
from bot.chat.text import MAX_COMMAND_CHARS
from bot.inventory import Inventory

Body = Callable[..., Awaitable[Reply | CommandResult]]
F = TypeVar("F", bound=Body)
#: A button's value → the words after the command name (`site-a/wlc-a1` → `site-a wlc-a1`).
ButtonWords = Callable[[str], list[str]]
#: A slow command's ack: the command, its context and its resolved arguments → the at-once reply.
AckFactory = Callable[["Command", CommandContext, Mapping[str, Any]], Reply]


class Access(StrEnum):
    """Who may run a command that `CCERT_ACCESS` does not name."""

    ALWAYS = "always"  # everyone, whatever CCERT_ACCESS says (help)
    OPEN = "open"  # everyone
    APPROVERS = "approvers"  # the approvers (CCERT_APPROVERS); nobody without approvers


@dataclass(frozen=True)
class Parsed:
    """A valid command: its name and its handler's checked arguments (never free text)."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Command:
    """A registered subcommand: what `@command` read from the function and its arguments."""

    name: str
    body: Body
    signature: Signature
    help: str
    readme: str
    usage_args: str
    access: Access = Access.OPEN
    slow: AckFactory | None = None
    requires: tuple[str, ...] = ()
    unavailable: str = ""
    denied: str | None = None
    buttons: Mapping[str, ButtonWords] = field(default_factory=dict)

    @property
    def usage(self) -> str:
        return f"/ccert {self.name}" + (f" {self.usage_args}" if self.usage_args else "")

    def missing_service(self, ctx: CommandContext) -> bool:
        return any(getattr(ctx, need) is None for need in self.requires)

    async def run(self, ctx: CommandContext, args: Mapping[str, Any]) -> CommandResult:
        """Fast commands answer in the ack; slow ones ack at once and answer in the follow-up."""
        if self.slow is None:
            result = await self.body(ctx, **args)
            return result if isinstance(result, CommandResult) else CommandResult(result)
        ack = self.slow(self, ctx, args)

        async def follow_up() -> Reply:
            reply = await self.body(ctx, **args)
            assert isinstance(reply, Reply), f"/ccert {self.name} is slow: its body answers one Reply"
            return reply

        return CommandResult(ack, follow_up)


def _doc_parts(func: Callable[..., Any]) -> tuple[str, str]:
    doc = inspect.getdoc(func) or ""
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n") if p.strip()]
    if not paragraphs:
        raise TypeError(f"{func.__name__}: a /ccert command's docstring is its help line; it has none")
    return paragraphs[0], paragraphs[1] if len(paragraphs) > 1 else paragraphs[0]


class Registry(Mapping[str, Command]):
    """The subcommands by name, in the order they were registered (the order of `/ccert help`)."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        return self._commands[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._commands)

    def __len__(self) -> int:
        return len(self._commands)

    def command(
        self,
        name: str,
        *,
        access: Access = Access.OPEN,
        slow: AckFactory | None = None,
        usage_args: str | None = None,
        requires: tuple[str, ...] = (),
        unavailable: str = "",
        denied: str | None = None,
        buttons: Mapping[str, ButtonWords] | None = None,
    ) -> Callable[[F], F]:
        """Register the decorated coroutine function as `/ccert <name>` (see the module docstring).

        A mistake in the declaration (a name taken, an argument without a type, no docstring,
        a service the context does not have) raises here, when the module is imported.
        """

        def register(func: F) -> F:
            if name in self._commands:
                raise ValueError(f"/ccert {name} is registered twice")
            if name != name.lower() or not name.isidentifier():
                raise ValueError(f"/ccert {name!r}: a command name is one lower-case word")
            taken = [a for a in buttons or {} if self.button(a) is not None]
            if taken:
                raise ValueError(f"/ccert {name}: the buttons {taken} already run another command")
            unknown = set(requires) - CONTEXT_SERVICES
            if unknown:
                raise ValueError(f"/ccert {name}: the context has no {sorted(unknown)}")
            if requires and not unavailable:
                raise ValueError(f"/ccert {name}: say what is not enabled when {requires} is missing")
            signature = Signature.of(func)
            help_line, readme = _doc_parts(func)
            usage = signature.usage_args() if usage_args is None else usage_args
            self._commands[name] = Command(
                name,
                func,
                signature,
                help_line,
                readme,
                usage,
                access,
                slow,
                requires,
                unavailable,
                denied,
                dict(buttons or {}),
            )
            return func

        return register

    def button(self, action_id: str) -> tuple[Command, ButtonWords] | None:
        """The command a button runs, and how its value becomes that command's words."""
        for c in self._commands.values():
            if action_id in c.buttons:
                return c, c.buttons[action_id]
        return None

    @contextmanager
    def scoped(self) -> Iterator[Registry]:
        """Commands registered inside the block are gone after it (for tests)."""
        saved = dict(self._commands)
        try:
            yield self
        finally:
            self._commands = saved

    def parse(self, text: str, inventory: Inventory) -> Parsed | Invalid:
        """`/ccert ...` text → a command with checked arguments, or why not (today's words)."""
        if len(text) > MAX_COMMAND_CHARS:  # the dispatcher refuses it first; any other caller too
            return too_long(len(text))
        try:
            tokens = words(text)
        except ValueError:
            return self._unclosed_quote(text)
        if tokens and tokens[0].lower() == "/ccert":
            tokens = tokens[1:]
        if not tokens:
            tokens = ["help"]  # empty text asks for the help
        name, rest = tokens[0].lower(), tokens[1:]
        spec = self._commands.get(name)
        if spec is None:
            guess = did_you_mean(name, list(self._commands))
            return Invalid(
                f"{quote(name)} is not a /ccert command.",
                f"Did you mean `/ccert {guess}`?" if guess else None,
                show_help=True,
            )
        args = spec.signature.resolve(rest, inventory, spec.usage)
        if isinstance(args, Invalid):
            return args
        return Parsed(name, args)

    def _unclosed_quote(self, text: str) -> Invalid:
        """An apostrophe in a reason is the usual unclosed quote: say how to write one."""
        first = text.split(None, 2)
        name = (first[1] if len(first) > 1 and first[0].lower() == "/ccert" else first[0] if first else "").lower()
        spec = self._commands.get(name)
        texts = [k for _, k in spec.signature.named if isinstance(k, Text)] if spec else []
        if texts:
            return Invalid(
                "I couldn't read that: a quote is not closed.",
                f'Text with an apostrophe goes in double quotes, e.g. `{texts[0].flag} "don\'t …"`.',
            )
        return Invalid("I couldn't read that: a quote is not closed.", show_help=True)

    def help_lines(self) -> list[str]:
        return [f"`{c.usage}` — {c.help}" for c in self.values()]

    def readme_table(self) -> str:
        """The README's `/ccert` table (section "In Slack (and the console)"), as Markdown."""
        rows = ["| `/ccert …` | what it does |", "|---|---|"]
        for c in self.values():
            usage = f"{c.name} {c.usage_args}".strip().replace("|", PIPE)
            rows.append(f"| `{usage}` | {c.readme.replace('|', PIPE)} |")
        return "\n".join(rows)


def too_long(length: int) -> Invalid:
    """The refusal for text over `MAX_COMMAND_CHARS`: said at once, nothing of it read."""
    return Invalid(
        f"That command is {length:,} characters long: /ccert takes at most {MAX_COMMAND_CHARS:,}.",
        "Type `/ccert help` for the commands; none needs more than a few words.",
    )


#: What `requires=` may name: the context's optional services, and the caller's channel.
CONTEXT_SERVICES = {f.name for f in fields(CommandContext) if f.default is None} | {"channel"}
PIPE = "\\|"  # a `|` inside a Markdown table cell, code spans included

#: The bot's subcommands; `bot.chat.commands` registers them (importing it fills this).
REGISTRY = Registry()
command = REGISTRY.command
