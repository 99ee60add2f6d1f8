"""A new subcommand is one decorated function: registered from here, it is parsed (with
did-you-mean), listed by help, closed by its access default and opened by CCERT_ACCESS,
runs through the same filters as the bot's own, and is gone after its scope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.chat import handlers
from bot.chat.access import AccessPolicy, AccessSpecError
from bot.chat.arguments import Invalid, Site
from bot.chat.commands import COMMANDS, REGISTRY, parse, reading
from bot.chat.context import CommandContext
from bot.chat.dispatch import BotDispatcher
from bot.chat.registry import Access, Parsed, Registry, command
from bot.chat.reply import Caller, Reply
from tests.chat.chat_stubs import harness, inventory

ALICE = Caller("U0ALICE", "C0SITEA001")  # an approver in the harness
MALLORY = Caller("U0MALLORY", "C0SITEA001")


@pytest.fixture
def clock() -> Iterator[None]:
    """`/ccert clock <site>`, exactly as a developer would add it to bot/chat/commands.py."""
    with REGISTRY.scoped():

        @command(
            "clock",
            slow=reading("reading the clock of"),
            access=Access.APPROVERS,
            buttons={"clock_read": lambda value: [value]},
        )
        async def clock(ctx: CommandContext, site: Site) -> Reply:
            """each controller's clock, as it reads it now

            reads each controller of the site and shows its clock and where the time comes from
            """
            reports = await ctx.fleet.read_sites([site])
            return Reply(title=f"{site}: clocks of {', '.join(s.name for r in reports for s in r.snapshots)}")

        yield


def test_the_new_command_is_parsed_with_checked_arguments(clock: None) -> None:
    inv = inventory()
    assert parse("clock site-a", inv) == Parsed("clock", {"site": "site-a"})
    assert parse("CLOCK site-b", inv) == Parsed("clock", {"site": "site-b"})
    unknown_site = parse("clock site-c", inv)
    assert isinstance(unknown_site, Invalid) and unknown_site.message == "I don't know a site called `site-c`."
    assert parse("clock", inv) == Invalid("Which site? Usage: `/ccert clock <site>`")
    assert parse("clock all", inv) == Invalid(
        "I don't know a site called `all`.", "Known sites: `site-a`, `site-b`."
    ), "a Site is one site, never all"
    assert parse("clock site-a --utc", inv) == Invalid("Unknown option `--utc`. Usage: `/ccert clock <site>`")
    misspelt = parse("clcok site-a", inv)
    assert isinstance(misspelt, Invalid) and misspelt.suggestion == "Did you mean `/ccert clock`?"


def test_the_new_command_is_in_help_and_the_readme_table(clock: None) -> None:
    help_text = handlers.help_reply().text
    assert help_text.splitlines()[-1] == "`/ccert clock <site>` — each controller's clock, as it reads it now"
    assert REGISTRY.readme_table().splitlines()[-1] == (
        "| `clock <site>` | reads each controller of the site and shows its clock and where the time comes from |"
    )
    assert "clock" in COMMANDS


async def test_the_new_command_is_closed_by_its_default_and_opened_by_ccert_access(clock: None) -> None:
    assert not AccessPolicy.parse("", "").allows("clock", ALICE), "no approvers: closed to everyone"
    assert not AccessPolicy.parse("", "U0ALICE").allows("clock", MALLORY)
    assert AccessPolicy.parse("", "U0ALICE").allows("clock", ALICE)
    assert AccessPolicy.parse("clock=U0MALLORY", "U0ALICE").allows("clock", MALLORY)

    closed = harness()
    denied = await closed.dispatcher.dispatch("clock site-a", MALLORY)
    assert denied.ack == handlers.denied_reply("clock") and denied.follow_up is None
    assert closed.contacted() == []

    opened = harness(access="clock=U0MALLORY")
    result = await opened.dispatcher.dispatch("/ccert clock site-a", MALLORY)
    assert result.ack.title == "reading the clock of site-a: 2 controllers…", "slow: acked at once"
    assert opened.contacted() == [], "nothing read before the ack"
    assert result.follow_up is not None
    assert (await result.follow_up()).title == "site-a: clocks of wlc-a1, wlc-a2"
    assert opened.contacted() == [("site-a", None)]


async def test_its_button_runs_it_through_the_same_checks(clock: None) -> None:
    h = harness(access="clock=U0MALLORY")
    clicked = await h.dispatcher.handle_action("clock_read", "site-b", MALLORY)
    assert clicked.ack.title == "reading the clock of site-b: 1 controller…" and clicked.follow_up is not None
    refused = await h.dispatcher.handle_action("clock_read", "site-a --utc", MALLORY)
    assert refused.ack.title == "I don't know a site called `site-a --utc`.", "a value stays one word"
    denied = await h.dispatcher.handle_action("clock_read", "site-b", ALICE)
    assert denied.ack == handlers.denied_reply("clock")
    assert h.contacted() == []


def test_the_scope_takes_it_away_again(clock: None) -> None:
    assert "clock" in REGISTRY
    with REGISTRY.scoped():
        pass
    assert "clock" in REGISTRY, "an inner scope restores what was there before it"


def test_after_the_scope_the_command_is_gone() -> None:
    assert "clock" not in REGISTRY
    assert isinstance(parse("clock site-a", inventory()), Invalid)
    with pytest.raises(AccessSpecError, match="'clock' is not a /ccert command"):
        AccessPolicy.parse("clock=U0ALICE")


def test_a_fresh_registry_holds_only_its_own_commands() -> None:
    mine = Registry()

    @mine.command("ping")
    async def ping(ctx: CommandContext) -> Reply:
        """answers pong"""
        return Reply(title="pong")

    assert list(mine) == ["ping"] and "ping" not in REGISTRY
    assert mine.parse("ping now", inventory()) == Invalid("`/ccert ping` takes no arguments.")
    assert handlers.help_reply(registry=mine).text == "`/ccert ping` — answers pong"


async def test_a_dispatcher_over_a_fresh_registry_runs_only_its_commands() -> None:
    mine = Registry()

    @mine.command("ping")
    async def ping(ctx: CommandContext) -> Reply:
        """answers pong"""
        return Reply(title=f"pong for {ctx.caller.user_id}")

    h = harness()
    dispatcher = BotDispatcher(h.inventory, h.dispatcher.fleet, registry=mine)
    assert (await dispatcher.dispatch("ping", MALLORY)).ack.title == "pong for U0MALLORY"
    unknown = (await dispatcher.dispatch("pong", MALLORY)).ack
    assert unknown.title == "`pong` is not a /ccert command. Did you mean `/ccert ping`?"
    assert unknown.text == "`/ccert ping` — answers pong"
    empty = (await dispatcher.dispatch("", MALLORY)).ack
    assert empty.title == "`help` is not a /ccert command.", "no help registered: empty text is refused, not a crash"
    assert (await dispatcher.dispatch("status site-a", MALLORY)).ack.title.startswith("`status` is not")


def test_a_command_that_is_declared_wrongly_is_refused_at_import() -> None:
    mine = Registry()

    async def no_doc(ctx: CommandContext) -> Reply:
        return Reply(title="x")

    async def untyped(ctx: CommandContext, site: str) -> Reply:
        """has an argument the parser cannot check"""
        return Reply(title="x")

    with pytest.raises(TypeError, match="docstring"):
        mine.command("nodoc")(no_doc)
    with pytest.raises(TypeError, match="argument type"):
        mine.command("untyped")(untyped)
    with pytest.raises(ValueError, match="registered twice"):
        REGISTRY.command("status")(no_doc)
    with pytest.raises(ValueError, match="the context has no"):
        mine.command("dbless", requires=("database",), unavailable="It")(untyped)
    with REGISTRY.scoped(), pytest.raises(ValueError, match="already run another command"):
        REGISTRY.command("again", buttons={"timeback_request": lambda v: [v]})(untyped)
