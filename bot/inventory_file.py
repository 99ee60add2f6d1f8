"""The inventory file: its schema, and the loader that reports every problem at its line.

Loaded from YAML with line numbers kept, so `ccert-bot check-config` can
point at the exact line of every problem at once (an operator fixing a
300-controller file wants all the mistakes, not one per run). The types it
builds are `bot.inventory`'s.

The shape of the file is the pydantic schema `InventoryFile` (read through
`bot.datafile`, which maps each error to its line); what no single entry can
know (credentials that exist, names and endpoints used once, peers that are
controllers) is `_cross_checks`, run in the same pass. A platform is any name
a platform package provides (`bot.controllers.platforms.registry`): an unknown
one is a problem here, at load, never a fallback later. That lookup is why this
module sits above the adapters while the types stay below them.
"""

from __future__ import annotations

import ipaddress
import os
import re
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, field_validator
from pydantic_core import PydanticCustomError

from bot.controllers.platforms import registry
from bot.datafile import (
    CUSTOM,
    DUPLICATE_KEY,
    KEY_NOT_NAME,
    DataFileError,
    Document,
    Issue,
    Loc,
    Problem,
    Strict,
    default_message,
    parse_yaml,
    plain_path,
    refuse,
    schema_issues,
    to_problems,
)
from bot.domain.models import PlatformName
from bot.inventory import Controller, Credentials, Inventory, InventoryError, Site
from bot.textfiles import NotUTF8Error, read_utf8

SITE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
CONTROLLER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,20}$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
RESERVED_SITE_NAMES = frozenset({"all", "help"})


# ---------------------------------------------------------------------------
# The schema: what one inventory file may hold (bot.datafile reports its errors)
# ---------------------------------------------------------------------------


def _env_name(value: str) -> str:
    if not ENV_NAME.match(value):
        raise refuse(
            f"'{value}' is not an environment variable name (use UPPER_CASE; never put the secret itself here)"
        )
    return value


def _channel(value: str) -> str:
    if not CHANNEL_ID.match(value):
        raise refuse(
            f"channel '{value}' is not a Slack channel ID (like C0123456789; find it in the channel's details)"
        )
    return value


def _site_name(value: str) -> str:
    if not SITE_NAME.match(value) or value in RESERVED_SITE_NAMES:
        reserved = " ('all' and 'help' are reserved)" if value in RESERVED_SITE_NAMES else ""
        raise refuse(f"use lower-case letters, digits, '-', '_' or '.'{reserved}")
    return value


def _controller_name(value: str) -> str:
    if not CONTROLLER_NAME.match(value):
        raise refuse("names use letters, digits, '-', '_' or '.'")
    return value


def _host(value: str) -> str:
    if not _valid_host(value):
        raise refuse(f"host '{value}' is not an IP address or host name")
    return value


def _platform(value: str) -> PlatformName:
    known = registry.names()
    if value not in known:
        raise refuse(f"platform '{value}' is not one of {', '.join(known)}")
    return value


def _port(value: object) -> int:
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise refuse("port must be a number from 1 to 65535")
    return int(text)


def _names(value: object) -> tuple[str, ...]:
    """`peers: [wlc-b1, wlc-b2]` or `backup: wlc-b1` (a name or a list), each a controller name."""
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) and CONTROLLER_NAME.match(item) for item in items):
        raise refuse("must name controllers (a name or a list of names)")
    return tuple(typing.cast(list[str], items))


EnvName = Annotated[str, AfterValidator(_env_name)]
ChannelId = Annotated[str, AfterValidator(_channel)]
SiteName = Annotated[str, AfterValidator(_site_name)]
ControllerName = Annotated[str, AfterValidator(_controller_name)]
HostName = Annotated[str, AfterValidator(_host)]
KnownPlatform = Annotated[PlatformName, AfterValidator(_platform)]
Port = Annotated[int, BeforeValidator(_port)]
ControllerNames = Annotated[tuple[str, ...], BeforeValidator(_names)]


class CredentialsEntry(Strict):
    username_env: EnvName
    password_env: EnvName


class ControllerEntry(Strict):
    name: ControllerName
    host: HostName
    port: Port = 22
    platform: KnownPlatform
    credentials: str
    peers: ControllerNames = ()
    backup: ControllerNames = ()

    def peer_names(self) -> tuple[str, ...]:
        """`peers` then `backup`, each name once."""
        return tuple(dict.fromkeys(self.peers + self.backup))


class SiteEntry(Strict):
    channel: ChannelId | None = None
    controllers: Annotated[list[ControllerEntry], Field(min_length=1)]

    @field_validator("channel", mode="before")
    @classmethod
    def _channel_written(cls, value: object) -> object:
        if value is None:  # `channel:` with nothing after it: a forgotten value, not "no channel"
            raise PydanticCustomError("string_type", "a single value")
        return value


class InventoryFile(Strict):
    """The whole file: `sites:` (each with its controllers) and `credentials:` (variable names only)."""

    sites: dict[SiteName, SiteEntry]
    credentials: dict[str, CredentialsEntry]


def _what(doc: Document, loc: Loc) -> str:
    """How today's messages name the part of the file at `loc`."""
    match loc:
        case ():
            return "the inventory"
        case ("sites",) | ("credentials",):
            return str(loc[0])
        case ("sites", site):
            return f"site '{site}'"
        case ("sites", site, "channel"):
            return f"site '{site}' channel"
        case ("sites", site, "controllers", int()):
            return f"site '{site}' controller"
        case ("sites", site, "controllers", int(), part, *_):
            return f"controller {part}"
        case ("credentials", key):
            return f"credentials '{key}'"
        case ("credentials", key, part, *_):
            return f"credentials '{key}' {part}"
    return plain_path(loc)


def _describe(doc: Document) -> Callable[[Issue], str]:
    def describe(issue: Issue) -> str:
        loc, kind = issue.loc, issue.kind
        if kind == "missing":
            if loc == ("credentials",):
                return "missing `credentials:` (names of environment variables holding usernames/passwords)"
            if loc == ("sites",):
                return "missing `sites:`"
            if len(loc) == 3 and loc[0] == "sites" and loc[2] == "controllers":
                return f"site '{loc[1]}': missing `controllers:`"
        if kind in {"missing", "extra_forbidden", DUPLICATE_KEY}:
            return default_message(issue, _what(doc, loc[:-1]))
        if kind == KEY_NOT_NAME:
            return default_message(issue, _what(doc, loc))
        if len(loc) == 3 and loc[0] == "sites" and loc[2] == "controllers" and kind in {"list_type", "too_short"}:
            return f"site '{loc[1]}': `controllers` must be a non-empty list"
        if kind == CUSTOM:
            if len(loc) >= 5 and loc[0] == "sites" and loc[2] == "controllers":
                name = doc.value_at((*loc[:4], "name"))
                prefix = f"controller '{name if isinstance(name, str) else '?'}'"
                if loc[4] in {"peers", "backup"}:
                    return f"{prefix}: `{loc[4]}` {issue.message}"
                return f"{prefix}: {issue.message}"
            if len(loc) == 3 and loc[0] == "sites" and loc[2] == "channel":
                return f"site '{loc[1]}': {issue.message}"
        if kind in {"string_type", "dict_type", "model_type"}:
            return f"{_what(doc, loc)} must be {'a single value' if kind == 'string_type' else 'a mapping'}"
        return default_message(issue, _what(doc, loc))

    return describe


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(HOSTNAME.match(host))


def parse_inventory(text: str, file: str = "inventory.yaml", environ: Mapping[str, str] | None = None) -> Inventory:
    """Parse and validate; raise InventoryError listing every problem found."""
    try:
        doc = parse_yaml(text, file, scalars_as_text=True)
    except DataFileError as exc:
        raise InventoryError(exc.problems) from None
    if doc.data is None:
        raise InventoryError([Problem(file, None, "the inventory is empty: it needs `sites:` and `credentials:`")])
    describe = _describe(doc)
    parsed, issues = schema_issues(InventoryFile, doc.data, doc)
    problems = to_problems(doc.issues + issues, file, describe)
    problems += _cross_checks(doc)
    if problems or parsed is None:
        raise InventoryError(problems)
    credentials = {
        key: Credentials(
            key,
            entry.username_env,
            entry.password_env,
            doc.line(("credentials", key, "username_env")),
            doc.line(("credentials", key, "password_env")),
        )
        for key, entry in parsed.credentials.items()
    }
    sites = {
        name: Site(
            name,
            site.channel,
            tuple(
                Controller(c.name, c.host, c.port, c.platform, credentials[c.credentials], name, c.peer_names())
                for c in site.controllers
            ),
        )
        for name, site in parsed.sites.items()
    }
    return Inventory(sites=sites, credentials=credentials)


def _cross_checks(doc: Document) -> list[Problem]:
    """What no single entry can know: credentials that exist, names and endpoints used once, real peers.

    Runs over every controller entry that is valid on its own, so one run
    reports these beside the schema's problems.
    """
    data = doc.data if isinstance(doc.data, dict) else {}
    problems: list[Problem] = []

    def add(loc: Loc, message: str) -> None:
        problems.append(Problem(doc.file, doc.entry_line(loc), message))

    raw_credentials = data.get("credentials")
    known_credentials = sorted(raw_credentials) if isinstance(raw_credentials, dict) else []
    seen_names: dict[str, int | None] = {}
    seen_endpoints: dict[tuple[str, int], str] = {}
    accepted: list[tuple[ControllerEntry, Loc]] = []
    sites = data.get("sites")
    for site, site_entry in (sites if isinstance(sites, dict) else {}).items():
        items = site_entry.get("controllers") if isinstance(site_entry, dict) else None
        for i, item in enumerate(items if isinstance(items, list) else []):
            loc: Loc = ("sites", site, "controllers", i)
            ctrl, issues = schema_issues(ControllerEntry, item)
            if issues:
                continue
            if "credentials" in data and ctrl.credentials not in known_credentials:
                known = ", ".join(known_credentials) or "none defined"
                problems.append(
                    Problem(
                        doc.file,
                        doc.line((*loc, "credentials")),
                        f"controller '{ctrl.name}': credentials '{ctrl.credentials}' is not a key of "
                        f"`credentials` ({known})",
                    )
                )
                continue
            if ctrl.name in seen_names:
                add(
                    loc,
                    f"controller '{ctrl.name}' is already defined at line {seen_names[ctrl.name]}: "
                    "names must be unique across sites",
                )
                continue
            endpoint = (ctrl.host, ctrl.port)
            if endpoint in seen_endpoints:
                add(
                    loc,
                    f"controller '{ctrl.name}': {ctrl.host}:{ctrl.port} is already controller "
                    f"'{seen_endpoints[endpoint]}'",
                )
                continue
            seen_names[ctrl.name] = doc.entry_line(loc)
            seen_endpoints[endpoint] = ctrl.name
            accepted.append((ctrl, loc))
    for ctrl, loc in accepted:
        for peer in ctrl.peer_names():
            if peer == ctrl.name:
                add(loc, f"controller '{ctrl.name}': it cannot be its own peer")
            elif peer not in seen_names:
                known = ", ".join(sorted(seen_names)) or "none"
                add(
                    loc,
                    f"controller '{ctrl.name}': peer '{peer}' is not a controller of the inventory (known: {known})",
                )
    return problems


def load_inventory(path: Path) -> Inventory:
    """Read and validate the inventory file; errors name the file and line."""
    try:
        text = read_utf8(path)
    except FileNotFoundError:
        raise InventoryError(
            [Problem(str(path), None, "file not found (set CCERT_INVENTORY or create it from inventory.example.yaml)")]
        ) from None
    except NotUTF8Error as exc:
        raise InventoryError([Problem(str(path), exc.line, str(exc))]) from None
    except OSError as exc:
        raise InventoryError([Problem(str(path), None, f"cannot read: {exc.strerror}")]) from None
    inventory = parse_inventory(text, str(path))
    inventory.source = path
    return inventory


def missing_environment(inventory: Inventory, environ: Mapping[str, str] | None = None) -> list[Problem]:
    """Credential variables the inventory names that are not set, each at the line naming it.

    Only credentials some controller uses count: an unused entry cannot stop a read.
    """
    env = os.environ if environ is None else environ
    used = {c.credentials.key for c in inventory.controllers()}
    file = str(inventory.source) if inventory.source is not None else None
    problems: list[Problem] = []
    seen: set[str] = set()
    for creds in inventory.credentials.values():
        if creds.key not in used:
            continue
        for var, line in ((creds.username_env, creds.username_line), (creds.password_env, creds.password_line)):
            if var not in env and var not in seen:
                seen.add(var)
                problems.append(
                    Problem(
                        file,
                        line,
                        f"credentials '{creds.key}': environment variable {var} "
                        "is not set (set it in the environment or in .env)",
                    )
                )
    return problems
