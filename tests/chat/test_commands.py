"""The /ccert parser is where user text stops: strict, helpful, never passed on."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.chat.commands import Invalid, Parsed, parse
from bot.inventory import Inventory, load_inventory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_inventory(ROOT / "inventory.example.yaml")


@pytest.mark.parametrize("text", ["", "   ", "help", "/ccert", "HELP"])
def test_empty_and_help(text: str, inventory: Inventory) -> None:
    assert parse(text, inventory) == Parsed("help")


def test_status_of_a_known_site(inventory: Inventory) -> None:
    assert parse("status site-a", inventory) == Parsed("status", sites=("site-a",))
    assert parse("status all", inventory) == Parsed("status", sites=("site-a",))


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
    assert parse("aps site-a --state Downloading", inventory) == Parsed("aps", ("site-a",), "Downloading")
    assert parse("aps site-a --state=Registered", inventory) == Parsed("aps", ("site-a",), "Registered")
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
    assert parse("approve 12", inventory) == Parsed("approve", request_id=12)
    assert parse("reject #7", inventory) == Parsed("reject", request_id=7)
    assert parse("audit 3", inventory) == Parsed("audit", request_id=3)
    assert parse("remediate site-a wlc-a2 --dry-run", inventory) == Parsed(
        "remediate", sites=("site-a",), controller="wlc-a2", dry_run=True
    )
    for bad in ("approve", "approve 0", "approve x", "approve 1 2", "audit 1;reload", "remediate all",
                "remediate site-a wlc-zz", "remediate site-a --force"):
        assert isinstance(parse(bad, inventory), Invalid), bad
