"""The /ccert parser is where user text stops: strict, helpful, never passed on."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.chat.arguments import Invalid
from bot.chat.commands import parse
from bot.chat.registry import Parsed
from bot.chat.remediation_views import request_reply
from bot.chat.text import MAX_COMMAND_CHARS
from bot.console.render import render_text
from bot.domain.approvals import RequestStatus
from bot.inventory import Inventory
from bot.inventory_file import load_inventory
from bot.remediation.models import RequestView

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_inventory(ROOT / "inventory.example.yaml")


@pytest.mark.parametrize("text", ["", "   ", "help", "/ccert", "HELP"])
def test_empty_and_help(text: str, inventory: Inventory) -> None:
    assert parse(text, inventory) == Parsed("help")


def test_status_of_a_known_site(inventory: Inventory) -> None:
    assert parse("status site-a", inventory) == Parsed("status", {"sites": ("site-a",)})
    assert parse("status all", inventory) == Parsed("status", {"sites": ("site-a",)})


def test_unknown_site_suggests_the_close_one(inventory: Inventory) -> None:
    result = parse("status site-b", inventory)
    assert isinstance(result, Invalid)
    assert "site-b" in result.message
    assert result.suggestion == "Did you mean `site-a`?"


def test_unknown_subcommand_suggests(inventory: Inventory) -> None:
    result = parse("stauts site-a", inventory)
    assert isinstance(result, Invalid) and result.show_help
    assert result.suggestion == "Did you mean `/ccert status`?"


def test_aps_state_filter_is_validated(inventory: Inventory) -> None:
    assert parse("aps site-a --state Downloading", inventory) == Parsed(
        "aps", {"sites": ("site-a",), "state": "Downloading"}
    )
    assert parse("aps site-a --state=Registered", inventory) == Parsed(
        "aps", {"sites": ("site-a",), "state": "Registered"}
    )
    bad = parse("aps site-a --state 'x; config time ntp delete 1'", inventory)
    assert isinstance(bad, Invalid)
    assert isinstance(parse("aps site-a --state", inventory), Invalid)


def test_injection_looking_site_names_are_refused_and_defanged(inventory: Inventory) -> None:
    result = parse("status 'site-a; reload' ", inventory)
    assert isinstance(result, Invalid)
    assert "reload" in result.message and ";" in result.message
    mention = parse("status <@U123>`", inventory)
    assert isinstance(mention, Invalid)
    assert "<@" not in mention.message and "`U123`" in mention.message


@pytest.mark.parametrize("text", ["status", "status a b", "sites extra", "advise site-a --json", "status 'open"])
def test_wrong_shapes_are_invalid(text: str, inventory: Inventory) -> None:
    assert isinstance(parse(text, inventory), Invalid)


def test_remediation_commands_take_only_checked_values(inventory: Inventory) -> None:
    assert parse("approve 12", inventory) == Parsed("approve", {"request_id": 12, "comment": None})
    assert parse("reject #7 --reason 'wrong site'", inventory) == Parsed(
        "reject", {"request_id": 7, "reason": "wrong site"}
    )
    assert parse("audit 3", inventory) == Parsed("audit", {"request_id": 3, "export": False})
    assert parse("audit #3 --export", inventory) == Parsed("audit", {"request_id": 3, "export": True})
    assert parse("export all --affected", inventory) == Parsed(
        "export", {"sites": tuple(inventory.sites), "affected": True}
    )
    assert parse("remediate site-a wlc-a2 --dry-run", inventory) == Parsed(
        "remediate", {"site": "site-a", "controller": "wlc-a2", "dry_run": True, "at": None}
    )
    assert parse("remediate site-a --at 'Sat 22:00'", inventory) == Parsed(
        "remediate", {"site": "site-a", "controller": None, "dry_run": False, "at": "Sat 22:00"}
    )
    assert parse("cancel #4", inventory) == Parsed("cancel", {"request_id": 4})
    assert parse("schedule 4 --at 22:00", inventory) == Parsed("schedule", {"request_id": 4, "at": "22:00"})
    for bad in (
        "remediate site-a --at 'Sat 22:00; reload'",
        "remediate site-a --at",
        "schedule 4 --at $(reboot)",
        "cancel",
        "cancel all",
        "approve",
        "approve 0",
        "approve x",
        "approve 1 2",
        "approve 12 --x",
        "approve --comment fine",
        "reject 7",
        "reject --reason 'wrong site'",
        "reject 7 8 --reason 'wrong site'",
        "audit 1;reload",
        "audit --export",
        "audit 1 2 --export",
        "audit 1 --force",
        "export",
        "export site-a --force",
        "export site-zz --affected",
        "remediate all",
        "remediate site-a wlc-zz",
        "remediate site-a --force",
    ):
        assert isinstance(parse(bad, inventory), Invalid), bad


# ------------------------------------------------------------------ a vote's reason and comment


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('reject 12 --reason "wrong controller"', "wrong controller"),
        ("reject 12 --reason 'wait for the window' ", "wait for the window"),
        ('reject 12 --reason="not today"', "not today"),
        ("reject 12 --reason not during business hours", "not during business hours"),  # the rest of the line
        ('reject --reason "two words" 12', None),  # ...so the id must come first when it is unquoted
        ('reject 12 --reason "line one\n  line two\tend"', "line one line two end"),
        ('reject 12 --reason "ESC \x1b[2J BEL\x07 bidi\u202e done"', "ESC [2J BEL bidi done"),
    ],
)
def test_a_reject_takes_its_reason_as_free_text(text: str, said: str | None, inventory: Inventory) -> None:
    result = parse(text, inventory)
    if said is None:
        assert isinstance(result, Invalid) and "Which request?" in result.message
    else:
        assert result == Parsed("reject", {"request_id": 12, "reason": said})


@pytest.mark.parametrize(
    "text",
    [
        "reject 12",
        "reject #12",
        "reject 12 --reason",
        'reject 12 --reason ""',
        "reject 12 --reason ' '",
        'reject 12 --reason "..."',
    ],
)
def test_a_reject_without_a_reason_says_exactly_how_to_give_one(text: str, inventory: Inventory) -> None:
    result = parse(text, inventory)
    assert isinstance(result, Invalid), text
    assert "needs a reason" in result.message
    assert '`/ccert reject 12 --reason "why you reject it"`' in result.message


def test_an_approval_takes_an_optional_comment(inventory: Inventory) -> None:
    assert parse('approve 12 --comment "checked with the site"', inventory) == Parsed(
        "approve", {"request_id": 12, "comment": "checked with the site"}
    )
    assert parse("approve #12 --comment ok by me", inventory) == Parsed(
        "approve", {"request_id": 12, "comment": "ok by me"}
    )
    assert parse('approve 12 --comment ""', inventory) == Parsed("approve", {"request_id": 12, "comment": None})
    commentary = parse("approve 12 --commentary x", inventory)  # not --comment: a word that is no request id
    assert isinstance(commentary, Invalid) and commentary.message.startswith("Which request?")


def test_an_apostrophe_in_a_reason_says_how_to_quote_it(inventory: Inventory) -> None:
    refused = parse("reject 12 --reason don't, the site is closed", inventory)
    assert isinstance(refused, Invalid) and "quote is not closed" in refused.message
    assert refused.suggestion == 'Text with an apostrophe goes in double quotes, e.g. `--reason "don\'t …"`.'
    assert parse('reject 12 --reason "don\'t, the site is closed"', inventory) == Parsed(
        "reject", {"request_id": 12, "reason": "don't, the site is closed"}
    )
    other = parse("status 'site-a", inventory)
    assert isinstance(other, Invalid) and other.show_help and other.suggestion is None


def test_a_reason_or_comment_is_bounded(inventory: Inventory) -> None:
    at_limit = "r" * 500
    assert parse(f"reject 12 --reason {at_limit}", inventory) == Parsed(
        "reject", {"request_id": 12, "reason": at_limit}
    )
    over = parse(f"reject 12 --reason {at_limit}x", inventory)
    assert over == Invalid("The reason is 501 characters long: at most 500, please shorten it.")
    long_comment = parse(f"approve 12 --comment {'c' * 501}", inventory)
    assert isinstance(long_comment, Invalid) and "comment is 501 characters" in long_comment.message


def test_the_console_twin_shows_how_to_give_a_reason() -> None:
    """The request message's buttons, typed in the console: their console_command says how."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    view = RequestView(
        id=12,
        site="site-a",
        requester="U0CARLA",
        status=RequestStatus.PENDING,
        created_at=now,
        expires_at=now + timedelta(hours=1),
        required_approvals=2,
        approvals=(),
        targets=(),
    )
    shown = render_text(request_reply(view, now))
    assert '[Reject]  type: /ccert reject 12 --reason "..."' in shown
    assert '[Approve]  type: /ccert approve 12 [--comment "..."]' in shown


# ------------------------------------------------------------------ hostile text: controls, length


def _shown(result: Parsed | Invalid) -> str:
    assert isinstance(result, Invalid)
    return result.message + (result.suggestion or "")


@pytest.mark.parametrize(
    "text",
    ["help;\x1b]0;title\x07", "st\x1b[2Jatus", "\u202eetis", "status sit\x00e-x", "statu\x85s", "st\x7fx\u2028y"],
)
def test_control_and_format_characters_are_never_echoed(text: str, inventory: Inventory) -> None:
    shown = _shown(parse(text, inventory))
    assert not [c for c in shown if ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c in "\u202e\u2028"], repr(shown)


def test_the_osc_title_sequence_is_echoed_as_plain_text(inventory: Inventory) -> None:
    result = parse("help;\x1b]0;title\x07", inventory)
    assert isinstance(result, Invalid) and result.message == "`help;]0;title` is not a /ccert command."


def test_invisible_characters_are_not_part_of_a_name(inventory: Inventory) -> None:
    """Pasted from a document with a zero-width space or a BOM, site-a is still site-a."""
    assert parse("status site-a\u200b", inventory) == Parsed("status", {"sites": ("site-a",)})
    assert parse("\ufeffstatus site\u00ad-a", inventory) == Parsed("status", {"sites": ("site-a",)})
    assert parse("status site-a \x1b", inventory) == Parsed("status", {"sites": ("site-a",)}), "an invisible word"
    assert isinstance(parse("status site-a ''", inventory), Invalid), "an empty quoted word is still a word"


def test_text_over_the_cap_is_refused_by_the_parser_too(inventory: Inventory) -> None:
    at_cap = "status site-a".ljust(MAX_COMMAND_CHARS)
    assert parse(at_cap, inventory) == Parsed("status", {"sites": ("site-a",)})
    over = parse(at_cap + " ", inventory)
    assert isinstance(over, Invalid) and "4,001 characters" in over.message and "4,000" in over.message


def test_long_words_get_no_did_you_mean(inventory: Inventory) -> None:
    result = parse("status site-a" + "a" * 100, inventory)
    assert isinstance(result, Invalid) and result.suggestion == "Known sites: `site-a`."
    assert len(result.message) < 100, "the echo is shortened"


def test_a_worst_case_command_at_the_cap_parses_in_linear_time(inventory: Inventory) -> None:
    """shlex grew a word a character at a time (quadratic: 900 KB held the loop 10 s).

    A million-character word is parsed here, with the cap lifted by calling the
    word splitter directly: quadratic, that is minutes; linear, milliseconds.
    """
    from bot.chat.text import split_words

    started = time.perf_counter()
    assert split_words("status '" + "a b" * 333_333 + "'")[0] == "status"
    assert len(split_words("x" * 1_000_000)[0]) == 1_000_000
    assert time.perf_counter() - started < 1.0
