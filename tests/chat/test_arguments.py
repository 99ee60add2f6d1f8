"""Argument types check what they are given: a signature is read from the function, its usage
line is generated, and options from fixed choices or a pattern refuse anything else."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from bot.chat.arguments import ControllerOfSite, Flag, Invalid, Option, RequestId, Signature, Site, SiteOrAll
from bot.chat.context import CommandContext
from bot.chat.reply import Reply
from tests.chat.chat_stubs import inventory

Zone = Annotated[
    str | None, Option("--zone", example="UTC", what="a zone I show (UTC, local)", choices=("UTC", "local"))
]
Label = Annotated[str | None, Option("--label", example="x", what="a label", pattern=re.compile(r"^[a-z]+$"))]
Verbose = Annotated[bool, Flag("--verbose")]


async def everything(
    ctx: CommandContext, site: Site, controller: ControllerOfSite, zone: Zone, label: Label, verbose: Verbose
) -> Reply:
    """a command with one of each"""
    return Reply(title="")


def _resolve(func: Callable[..., Any], words: str) -> dict[str, object] | Invalid:
    sig = Signature.of(func)
    return sig.resolve(words.split(), inventory(), "/ccert x " + sig.usage_args())


def test_the_usage_line_is_read_from_the_signature() -> None:
    assert Signature.of(everything).usage_args() == "<site> [controller] [--zone UTC] [--label x] [--verbose]"


def test_values_are_resolved_and_defaults_filled() -> None:
    assert _resolve(everything, "site-a") == {
        "site": "site-a",
        "controller": None,
        "zone": None,
        "label": None,
        "verbose": False,
    }
    assert _resolve(everything, "site-a wlc-a2 --zone=local --label abc --verbose") == {
        "site": "site-a",
        "controller": "wlc-a2",
        "zone": "local",
        "label": "abc",
        "verbose": True,
    }


def test_options_refuse_what_is_not_a_choice_or_a_match() -> None:
    assert _resolve(everything, "site-a --zone Mars") == Invalid("`Mars` is not a zone I show (UTC, local).")
    assert _resolve(everything, "site-a --label A1") == Invalid("`A1` is not a label.")
    assert _resolve(everything, "site-a --zone") == Invalid("`--zone` needs a value, e.g. `--zone UTC`.")


def test_a_controller_must_be_of_the_site_named_before_it() -> None:
    refused = _resolve(everything, "site-b wlc-a1")
    assert refused == Invalid("`wlc-a1` is not a controller of site site-b.", "Did you mean `wlc-b1`?")
    far = _resolve(everything, "site-b core-sw")
    assert far == Invalid("`core-sw` is not a controller of site site-b.", "Its controllers: wlc-b1.")


async def sites_and_request(ctx: CommandContext, sites: SiteOrAll) -> Reply:
    """all or one"""
    return Reply(title="")


async def request(ctx: CommandContext, request_id: RequestId) -> Reply:
    """one request"""
    return Reply(title="")


def test_site_or_all_and_request_ids() -> None:
    assert _resolve(sites_and_request, "all") == {"sites": ("site-a", "site-b")}
    assert _resolve(sites_and_request, "site-b") == {"sites": ("site-b",)}
    assert _resolve(request, "#12") == {"request_id": 12}
    which = "Which request? Usage: `/ccert x <request-id>` (the number in the request message, e.g. 12)"
    for bad in ("", "0", "--x", "1 2", "12a"):
        assert _resolve(request, bad) == Invalid(which), bad
