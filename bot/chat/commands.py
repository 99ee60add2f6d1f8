"""Strict parsing of `/ccert ...` text into a typed command.

Everything a user types stops here: site names must exist in the inventory,
options are from a fixed list, values are checked against patterns. What
comes out is a small dataclass whose fields are either inventory objects or
validated tokens, so no handler ever has raw user text to pass to a device.

The text is bounded before it is read (`MAX_COMMAND_CHARS`, Slack's own limit)
and split in linear time (`bot.chat.text.split_words`); invisible characters
(controls, bidi and zero-width format characters) are not part of any word,
so `site-a` pasted with a zero-width space still names site-a and an escape
sequence typed into a command is never echoed back.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from bot.chat.text import MAX_COMMAND_CHARS, printable, split_words
from bot.inventory import Inventory

AP_STATE = re.compile(r"^[A-Za-z][A-Za-z -]{0,30}$")
REQUEST_ID = re.compile(r"^[1-9][0-9]{0,8}$")
# No command, site or controller name is this long: longer words get no did-you-mean
# (difflib's cost grows with the word, and nothing could be close to it anyway).
MAX_SUGGEST_CHARS = 64


@dataclass(frozen=True)
class CommandSpec:
    name: str
    usage: str
    summary: str
    read_only: bool = True


COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec("help", "/ccert help", "this list"),
        CommandSpec("sites", "/ccert sites", "the sites and controllers I watch"),
        CommandSpec("status", "/ccert status <site>|all", "read the controllers now; CSCwd80290 verdict"),
        CommandSpec("aps", "/ccert aps <site> [--state Downloading]", "list a site's APs, optionally by state"),
        CommandSpec("advise", "/ccert advise <site>", "fixed release and time-back advice per controller"),
        CommandSpec("history", "/ccert history <site>", "the last scheduled checks of a site"),
        CommandSpec("digest", "/ccert digest", "post the fleet digest here now"),
        CommandSpec(
            "remediate",
            "/ccert remediate <site> [controller] [--dry-run]",
            "request the time-back playbook (needs two approvals); --dry-run only shows the commands",
            read_only=False,
        ),
        CommandSpec(
            "approve",
            "/ccert approve <request-id>",
            "approve a remediation request (the Approve button)",
            read_only=False,
        ),
        CommandSpec(
            "reject", "/ccert reject <request-id>", "reject a remediation request (the Reject button)", read_only=False
        ),
        CommandSpec("audit", "/ccert audit <request-id>", "everything a remediation request did, in order"),
    )
}


@dataclass(frozen=True)
class Parsed:
    """A valid command. `sites` are inventory names (never free text)."""

    name: str
    sites: tuple[str, ...] = ()
    state: str | None = None
    controller: str | None = None
    request_id: int | None = None
    dry_run: bool = False


@dataclass(frozen=True)
class Invalid:
    """Why the text is not a command, in words for the user, and a hint."""

    message: str
    suggestion: str | None = None
    show_help: bool = False


def too_long(length: int) -> Invalid:
    """The refusal for text over `MAX_COMMAND_CHARS`: said at once, nothing of it read."""
    return Invalid(
        f"That command is {length:,} characters long: /ccert takes at most {MAX_COMMAND_CHARS:,}.",
        "Type `/ccert help` for the commands; none needs more than a few words.",
    )


def _did_you_mean(word: str, choices: list[str]) -> str | None:
    if len(word) > MAX_SUGGEST_CHARS:
        return None
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return match[0] if match else None


def _site_names(token: str, inventory: Inventory, allow_all: bool) -> tuple[str, ...] | Invalid:
    if allow_all and token.lower() == "all":
        return tuple(inventory.sites)
    if token in inventory.sites:
        return (token,)
    known = sorted(inventory.sites)
    guess = _did_you_mean(token, known)
    shown = _quote(token)
    if guess:
        return Invalid(f"I don't know a site called {shown}.", f"Did you mean `{guess}`?")
    listing = ", ".join(f"`{k}`" for k in known[:20]) or "none configured"
    return Invalid(f"I don't know a site called {shown}.", f"Known sites: {listing}.")


def _quote(text: str, limit: int = 40) -> str:
    """Echo user text back safely: shortened, no backticks, mentions or invisible characters."""
    cleaned = re.sub(r"[`<>@*_~]", "", printable(text[: limit * 8]))[:limit]
    return f"`{cleaned}`" if cleaned else "that"


def _words(text: str) -> list[str]:
    """The words of `text`, invisible characters removed; a word that was nothing but
    invisible characters is dropped (an empty quoted word `''` stays). Raises ValueError
    for an unclosed quote."""
    words = []
    for raw in split_words(text.strip()):
        word = printable(raw)
        if word or not raw:
            words.append(word)
    return words


def parse(text: str, inventory: Inventory) -> Parsed | Invalid:
    if len(text) > MAX_COMMAND_CHARS:  # the dispatcher refuses it first; any other caller too
        return too_long(len(text))
    try:
        tokens = _words(text)
    except ValueError:
        return Invalid("I couldn't read that: a quote is not closed.", show_help=True)
    if tokens and tokens[0].lower() == "/ccert":
        tokens = tokens[1:]
    if not tokens:
        return Parsed("help")
    name, args = tokens[0].lower(), tokens[1:]
    if name not in COMMANDS:
        guess = _did_you_mean(name, list(COMMANDS))
        return Invalid(
            f"{_quote(name)} is not a /ccert command.",
            f"Did you mean `/ccert {guess}`?" if guess else None,
            show_help=True,
        )
    spec = COMMANDS[name]
    if name in {"help", "sites", "digest"}:
        if args:
            return Invalid(f"`{spec.usage}` takes no arguments.")
        return Parsed(name)
    if name in {"approve", "reject", "audit"}:
        if len(args) != 1 or not REQUEST_ID.match(args[0].lstrip("#")):
            return Invalid(f"Which request? Usage: `{spec.usage}` (the number in the request message, e.g. 12)")
        return Parsed(name, request_id=int(args[0].lstrip("#")))
    if not args:
        return Invalid(f"Which site? Usage: `{spec.usage}`")

    state = None
    dry_run = False
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if name == "aps" and arg.startswith("--state"):
            if "=" in arg:
                value = arg.split("=", 1)[1]
            elif i + 1 < len(args):
                i += 1
                value = args[i]
            else:
                return Invalid("`--state` needs a value, e.g. `--state Downloading`.")
            if not AP_STATE.match(value):
                return Invalid(f"{_quote(value)} is not an AP state (e.g. Downloading, Registered).")
            state = value
        elif name == "remediate" and arg == "--dry-run":
            dry_run = True
        elif arg.startswith("--"):
            return Invalid(f"Unknown option {_quote(arg)}. Usage: `{spec.usage}`")
        else:
            positional.append(arg)
        i += 1
    if name == "remediate":
        return _remediate(positional, inventory, spec, dry_run)
    if len(positional) != 1:
        return Invalid(f"Usage: `{spec.usage}`")
    sites = _site_names(positional[0], inventory, allow_all=name != "history")
    if isinstance(sites, Invalid):
        return sites
    return Parsed(name, sites=sites, state=state)


def _remediate(positional: list[str], inventory: Inventory, spec: CommandSpec, dry_run: bool) -> Parsed | Invalid:
    """A change targets one site (never `all`), optionally one of its controllers."""
    if len(positional) not in (1, 2):
        return Invalid(f"Usage: `{spec.usage}`")
    sites = _site_names(positional[0], inventory, allow_all=False)
    if isinstance(sites, Invalid):
        return sites
    site = inventory.sites[sites[0]]
    controller = None
    if len(positional) == 2:
        names = [c.name for c in site.controllers]
        if positional[1] not in names:
            guess = _did_you_mean(positional[1], names)
            hint = f"Did you mean `{guess}`?" if guess else f"Its controllers: {', '.join(names)}."
            return Invalid(f"{_quote(positional[1])} is not a controller of site {site.name}.", hint)
        controller = positional[1]
    return Parsed("remediate", sites=sites, controller=controller, dry_run=dry_run)
