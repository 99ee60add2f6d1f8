"""The policy around every command is a chain of filters: each answers or passes on, in order,
and a refusal stops the chain before anything further runs."""

from __future__ import annotations

import logging

import pytest

from bot.chat import handlers
from bot.chat.filters import Filter, Invocation, Next, chain
from bot.chat.reply import Caller, CommandResult, Reply
from bot.chat.text import MAX_COMMAND_CHARS
from tests.chat.chat_stubs import harness

MALLORY = Caller("U0MALLORY", "C0SITEA001")


async def test_filters_run_outside_in_and_one_may_answer_instead() -> None:
    seen: list[str] = []

    def named(name: str, answer: bool = False) -> Filter:
        async def step(call: Invocation, proceed: Next) -> CommandResult:
            seen.append(name)
            return CommandResult(Reply(title=f"{name} said no")) if answer else await proceed(call)

        return step

    async def last(call: Invocation) -> CommandResult:
        seen.append("command")
        return CommandResult(Reply(title="ran"))

    ctx = harness().dispatcher.context(MALLORY)
    assert (await chain([named("a"), named("b")], last)(Invocation("x", ctx))).ack.title == "ran"
    assert seen == ["a", "b", "command"]
    seen.clear()
    assert (await chain([named("a", answer=True), named("b")], last)(Invocation("x", ctx))).ack.title == "a said no"
    assert seen == ["a"]


async def test_the_refusals_are_logged_with_who_asked(caplog: pytest.LogCaptureFixture) -> None:
    h = harness()
    with caplog.at_level(logging.INFO, logger="bot.chat"):
        await h.dispatcher.dispatch("x" * (MAX_COMMAND_CHARS + 1), MALLORY)
        denied = await h.dispatcher.dispatch("remediate site-a", MALLORY)
    assert denied.ack == handlers.denied_reply("remediate")
    messages = [r.getMessage() for r in caplog.records]
    assert "refused a 4001-character /ccert text from U0MALLORY" in messages
    assert "denied /ccert remediate for U0MALLORY" in messages


async def test_a_command_without_its_service_says_so_after_access_and_arguments() -> None:
    h = harness(access="history=U0ALICE")
    assert (await h.dispatcher.dispatch("history site-a", MALLORY)).ack == handlers.denied_reply("history")
    unknown = (await h.dispatcher.dispatch("history site-z", Caller("U0ALICE"))).ack
    assert unknown.title == "I don't know a site called `site-z`."
    result = await h.dispatcher.dispatch("history site-a", Caller("U0ALICE"))
    assert result.follow_up is None
    assert result.ack == handlers.not_enabled_reply("History (it needs the bot's database)")
