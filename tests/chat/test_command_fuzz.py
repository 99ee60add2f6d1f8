"""Random `/ccert` text and button clicks through the real dispatcher.

Built from what people (and attackers) type: command words in any case, the
inventory's site and controller names, options, request numbers, quotes,
control and format characters (ESC sequences, BEL, NUL, DEL, NEL, U+202E, a
lone surrogate), random Unicode, and lengths up to and past the 4,000-character
cap. For every text, whatever the outcome:

* nothing raises, and the ack and the follow-up render (console and Slack);
* no rendering holds a control or format character but the newline;
* text over the cap is refused without being parsed: no read, no request, and
  a reply that names the limit;
* whatever reaches the fleet or the remediation service is the inventory's own
  site and controller names, exactly those the parsed command names, and a
  request or dry run only for someone allowed to ask.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.chat.commands import COMMANDS, parse
from bot.chat.registry import Parsed, Registry
from bot.chat.reply import Caller, CommandResult, Reply
from bot.chat.text import MAX_ACTION_VALUE_CHARS, MAX_COMMAND_CHARS, printable
from bot.console.render import render_text
from bot.slack.render import render_messages
from tests.chat.chat_stubs import Harness, harness

SITES = ("site-a", "site-b")
CONTROLLERS = ("wlc-a1", "wlc-a2", "wlc-b1")
CONTROLS = (
    *(chr(c) for c in range(0x20)),
    "\x7f",
    "\x1b]0;title\x07",
    "\x1b[2J",
    "\u202e",
    "\u0085",
    "\u200b",
    "\ufeff",
    "\u2028",
    "\ud800",
    "\x9b31m",
)
CALLERS = (
    Caller("U0ALICE", "C0SITEA001"),  # an approver: may request
    Caller("U0MALLORY", "C0SITEA001"),  # nobody: may read, may not request
    Caller("U0BOBBY", "C0SITEA001", groups=("S0OTHERS",)),
)
APPROVERS = {"U0ALICE", "U0BOB"}


def _cased(word: str) -> st.SearchStrategy[str]:
    return st.sampled_from([word, word.upper(), word.capitalize()])


WORDS = st.one_of(
    st.sampled_from(list(COMMANDS)).flatmap(_cased),
    st.sampled_from(["/ccert", "all", "ALL", *SITES, *CONTROLLERS, "site-", "wlc-a", "site-a/wlc-a1"]),
    st.sampled_from(["--dry-run", "--state", "--state=Downloading", "Downloading", "--json", "--", "-"]),
    st.sampled_from(["1", "#12", "0", "999999999", "1;reload", "<@U123>", "`x`", "*b*"]),
    st.sampled_from(["'", '"', "\\", "'site-a'", '"wlc a1"', "''", "'it''s'"]),
    st.sampled_from(CONTROLS),
    st.text(max_size=12),
)
SEPARATORS = st.sampled_from([" ", " ", " ", "", "\t", "\n", "  "])
FILLERS = st.sampled_from([" ", " ", " \x1b", "\u200b", "a", "x ", "'", "\\a", "é", "site-a "])


SITE_CONTROLLERS = {"site-a": ("wlc-a1", "wlc-a2"), "site-b": ("wlc-b1",)}


@st.composite
def plausible_text(draw: st.DrawFn) -> str:
    """A command as someone would type it (mostly valid), perhaps with a control character in it."""
    name = draw(st.sampled_from(list(COMMANDS)))
    words = [draw(_cased(name))]
    if name in {"status", "aps", "advise", "history"}:
        words.append(draw(st.sampled_from([*SITES, "all"])))
        if name == "aps" and draw(st.booleans()):
            words += ["--state", draw(st.sampled_from(["Downloading", "Registered", "x;reload"]))]
    elif name == "remediate":
        site = draw(st.sampled_from(SITES))
        words.append(site)
        words += draw(st.lists(st.sampled_from(SITE_CONTROLLERS[site]), max_size=1))
        words += draw(st.lists(st.just("--dry-run"), max_size=1))
    elif name in {"approve", "reject", "audit"}:
        words.append(draw(st.sampled_from(["1", "#12", "0", "x"])))
        if name in {"approve", "reject"} and draw(st.booleans()):  # a reason or comment, free text
            flag = "--reason" if name == "reject" else "--comment"
            words += [flag, draw(st.sampled_from(["'wrong site'", '"not now; config time ntp delete 1"', "ok", "..."]))]
    if draw(st.booleans()):
        words.insert(0, "/ccert")
    if draw(st.booleans()):
        i = draw(st.integers(0, len(words) - 1))
        at = draw(st.integers(0, len(words[i])))
        words[i] = words[i][:at] + draw(st.sampled_from(CONTROLS)) + words[i][at:]
    return draw(st.sampled_from([" ", "  ", "\t"])).join(words)


@st.composite
def random_text(draw: st.DrawFn) -> str:
    words = draw(st.lists(WORDS, max_size=8))
    separators = draw(st.lists(SEPARATORS, min_size=len(words), max_size=len(words)))
    return "".join(w + s for w, s in zip(words, separators, strict=True))


@st.composite
def command_texts(draw: st.DrawFn) -> str:
    text = draw(st.one_of(random_text(), plausible_text()))
    # Most texts are short; some are padded to a length around, at or past the cap, some of
    # them with fillers that leave the command valid (spaces, an invisible ESC or ZWSP).
    padding = draw(st.sampled_from(["none", "none", "random", "edge"]))
    if padding != "none":
        edges = [MAX_COMMAND_CHARS - 1, MAX_COMMAND_CHARS, MAX_COMMAND_CHARS + 1]
        length = draw(st.integers(0, MAX_COMMAND_CHARS + 100) if padding == "random" else st.sampled_from(edges))
        filler = draw(FILLERS)
        text = (text + " " + filler * (length // len(filler) + 1))[: max(length, len(text))]
    return text


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _assert_clean(reply: Reply) -> None:
    """No rendering carries a character a terminal or client would act on; LF only in text."""
    console = render_text(reply)
    assert printable(console, keep_newlines=True) == console, repr(console)
    for text in _strings(render_messages(reply)):
        assert printable(text, keep_newlines=True) == text, repr(text)


def _run(h: Harness, call: Any) -> tuple[CommandResult, Reply | None]:
    async def go() -> tuple[CommandResult, Reply | None]:
        result = await call
        later = await result.follow_up() if result.follow_up is not None else None
        return result, later

    return asyncio.run(go())


def _assert_contacts_are_the_parsed_inventory_names(h: Harness, text: str, caller: Caller) -> None:
    contacted = h.contacted()
    if not contacted:
        return
    parsed = parse(text, h.inventory)
    assert isinstance(parsed, Parsed), f"{text!r} reached a device without parsing"
    for site, controller in contacted:
        assert site in h.inventory.sites
        assert controller is None or controller in [c.name for c in h.inventory.sites[site].controllers]
    if parsed.name == "remediate":
        assert caller.user_id in APPROVERS, "only someone allowed may open a request or a dry run"
        assert contacted == [(parsed.args["site"], parsed.args["controller"])]
    else:
        sites = parsed.args["sites"] if "sites" in parsed.args else (parsed.args["site"],)
        assert contacted == [(site, None) for site in sites]


@settings(max_examples=300, deadline=None)
@given(command_texts(), st.sampled_from(CALLERS))
@example("help;\x1b]0;title\x07", CALLERS[1])
@example("status site-a".ljust(MAX_COMMAND_CHARS), CALLERS[1])  # exactly the cap: read
@example("status site-a".ljust(MAX_COMMAND_CHARS + 1), CALLERS[1])  # one more: refused
@example("remediate site-a wlc-a1 --dry-run" + "\u202e" * (MAX_COMMAND_CHARS - 33), CALLERS[0])
@example("status " + "a" * 900_000, CALLERS[0])  # the 900 KB text of the issue
def test_random_commands_through_the_dispatcher(text: str, caller: Caller) -> None:
    h = harness()
    with patch.object(Registry, "parse", autospec=True, side_effect=Registry.parse) as parser:
        result, later = _run(h, h.dispatcher.dispatch(text, caller))
    _assert_clean(result.ack)
    if later is not None:
        _assert_clean(later)
    if len(text) > MAX_COMMAND_CHARS:
        assert parser.call_count == 0, "text over the cap is refused before parsing"
        assert result.follow_up is None and h.contacted() == [] and h.remediation.calls == []
        assert f"{MAX_COMMAND_CHARS:,}" in result.ack.title and result.ack.ephemeral
        return
    assert parser.call_count == 1
    _assert_contacts_are_the_parsed_inventory_names(h, text, caller)


ACTIONS = st.sampled_from(
    ["timeback_request", "timeback_dry_run", "remediation_approve", "remediation_reject", "something_else"]
)
VALUES = st.one_of(
    st.sampled_from(["site-a/wlc-a1", "site-b/wlc-b1", "site-a", "site-a/", "/wlc-a1", "1", "#2", ""]),
    st.lists(WORDS, max_size=4).map("/".join),
    st.tuples(st.sampled_from(["site-a/wlc-a1", "7"]), st.sampled_from((*CONTROLS, " --dry-run", "' x", "\\"))).map(
        "".join
    ),
    st.integers(MAX_ACTION_VALUE_CHARS - 2, MAX_ACTION_VALUE_CHARS + 2).map(lambda n: ("site-a/" + "w" * n)[:n]),
)


@settings(max_examples=200, deadline=None)
@given(ACTIONS, VALUES, st.sampled_from(CALLERS))
@example("timeback_request", "site-a/wlc-a1 --dry-run", CALLERS[0])
@example("timeback_dry_run", "site-a/'wlc-a1", CALLERS[0])
@example("remediation_approve", "1 2", CALLERS[0])
def test_random_button_clicks_through_the_dispatcher(action: str, value: str, caller: Caller) -> None:
    h = harness()
    result, later = _run(h, h.dispatcher.handle_action(action, value, caller))
    _assert_clean(result.ack)
    if later is not None:
        _assert_clean(later)
    if len(value) > MAX_ACTION_VALUE_CHARS:
        assert result.follow_up is None and h.contacted() == [] and h.remediation.calls == []
        return
    shown = printable(value)  # invisible characters are no part of a name, typed or clicked
    for site, controller in h.contacted():
        # A value is quoted word by word: it can name an inventory site and controller, nothing more.
        assert action in {"timeback_request", "timeback_dry_run"} and caller.user_id in APPROVERS
        assert shown == f"{site}/{controller}" or (controller is None and shown in {site, f"{site}/"})
    if h.remediation.calls and h.remediation.calls[0][0] == "preview":
        assert action == "timeback_dry_run"
    for call in h.remediation.calls:
        if call[0] == "vote":
            assert str(call[1]) == shown.lstrip("#")
            assert call[3] is True, "a Reject button without its form is no vote: it needs a reason"
