"""The /ccert parser is where user text stops: strict, helpful, never passed on."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.chat.arguments import Invalid
from bot.chat.commands import parse
from bot.chat.registry import Parsed
from bot.chat.text import MAX_COMMAND_CHARS
from bot.inventory import Inventory
from bot.inventory_file import load_inventory

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
    assert parse("approve 12", inventory) == Parsed("approve", {"request_id": 12})
    assert parse("reject #7", inventory) == Parsed("reject", {"request_id": 7})
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
