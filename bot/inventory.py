"""The inventory: which sites exist, which controllers they hold, where to alert.

Loaded from YAML with line numbers kept, so `ccert-bot check-config` can
point at the exact line of every problem at once (an operator fixing a
300-controller file wants all the mistakes, not one per run). Credentials are
only *names* of environment variables: the file is safe to commit.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.domain.models import Platform
from bot.textfiles import NotUTF8Error, read_utf8

SITE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
CONTROLLER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,20}$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
RESERVED_SITE_NAMES = frozenset({"all", "help"})


@dataclass(frozen=True)
class Credentials:
    key: str
    username_env: str
    password_env: str
    # Where the variable names are written, so "not set" can point at the line.
    username_line: int | None = field(default=None, compare=False)
    password_line: int | None = field(default=None, compare=False)

    def resolve(self, environ: Mapping[str, str] | None = None) -> tuple[str, str]:
        """Read the secrets at the moment of use, never earlier, never stored.

        `environ` is the merged environment (process variables, then `.env`: see
        bot.environment); `os.environ` alone only where nothing else was given.
        """
        env = os.environ if environ is None else environ
        try:
            return env[self.username_env], env[self.password_env]
        except KeyError as missing:
            raise InventoryError(
                [
                    Problem(
                        None,
                        None,
                        f"credentials '{self.key}': environment variable {missing} is not set "
                        "(in the environment or .env)",
                    )
                ]
            ) from None


@dataclass(frozen=True)
class Controller:
    name: str
    host: str
    port: int
    platform: Platform
    credentials: Credentials
    site: str
    # The controllers its APs fail over to (HA / N+1 backup, `peers:` or `backup:` in the
    # inventory). Controllers of one site are peers of each other anyway; this names the
    # ones elsewhere, so a software mismatch that would make APs download is seen.
    peers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Site:
    name: str
    channel: str | None
    controllers: tuple[Controller, ...]


@dataclass
class Inventory:
    sites: dict[str, Site]
    credentials: dict[str, Credentials]
    source: Path | None = None

    def site(self, name: str) -> Site | None:
        return self.sites.get(name)

    def controllers(self) -> list[Controller]:
        return [c for s in self.sites.values() for c in s.controllers]

    def controller(self, name: str) -> Controller | None:
        return next((c for c in self.controllers() if c.name == name), None)


@dataclass(frozen=True)
class Problem:
    file: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file or "inventory"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


@dataclass
class InventoryError(Exception):
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class _Checker:
    """Walks the YAML node tree, collecting every problem with its line."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, node: yaml.Node | None, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        self.problems.append(Problem(self.file, line, message))

    def mapping(self, node: yaml.Node | None, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            self.add(node, f"{what} must be a mapping")
            return {}
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.add(key_node, f"{what}: keys must be plain names")
                continue
            if key in out:
                self.add(key_node, f"{what}: '{key}' is defined twice")
                continue
            out[key] = (key_node, value_node)
        return out

    def scalar(self, node: yaml.Node, what: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or (node.value == "" and node.tag.endswith(":null")):
            self.add(node, f"{what} must be a single value")
            return None
        return str(node.value)

    def unknown_keys(self, entries: dict[str, tuple[yaml.Node, yaml.Node]], allowed: set[str], what: str) -> None:
        for key, (key_node, _) in entries.items():
            if key not in allowed:
                self.add(key_node, f"{what}: unknown key '{key}' (expected one of: {', '.join(sorted(allowed))})")


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(HOSTNAME.match(host))


def parse_inventory(text: str, file: str = "inventory.yaml", environ: Mapping[str, str] | None = None) -> Inventory:
    """Parse and validate; raise InventoryError listing every problem found."""
    check = _Checker(file)
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise InventoryError([Problem(file, line, f"not valid YAML: {reason}")]) from None
    if root is None:
        raise InventoryError([Problem(file, None, "the inventory is empty: it needs `sites:` and `credentials:`")])

    top = check.mapping(root, "the inventory")
    check.unknown_keys(top, {"sites", "credentials"}, "the inventory")

    credentials: dict[str, Credentials] = {}
    if "credentials" not in top:
        check.add(root, "missing `credentials:` (names of environment variables holding usernames/passwords)")
    else:
        for key, (key_node, value_node) in check.mapping(top["credentials"][1], "credentials").items():
            entry = check.mapping(value_node, f"credentials '{key}'")
            check.unknown_keys(entry, {"username_env", "password_env"}, f"credentials '{key}'")
            names: dict[str, str] = {}
            name_lines: dict[str, int] = {}
            for part in ("username_env", "password_env"):
                if part not in entry:
                    check.add(key_node, f"credentials '{key}': missing `{part}`")
                    continue
                value = check.scalar(entry[part][1], f"credentials '{key}' {part}")
                if value is None:
                    continue
                if not ENV_NAME.match(value):
                    check.add(
                        entry[part][1],
                        f"credentials '{key}' {part}: '{value}' is not an environment "
                        "variable name (use UPPER_CASE; never put the secret itself here)",
                    )
                    continue
                names[part] = value
                name_lines[part] = entry[part][1].start_mark.line + 1
            if len(names) == 2:
                credentials[key] = Credentials(
                    key,
                    names["username_env"],
                    names["password_env"],
                    name_lines.get("username_env"),
                    name_lines.get("password_env"),
                )

    sites: dict[str, Site] = {}
    seen_controllers: dict[str, int] = {}
    seen_endpoints: dict[tuple[str, int], str] = {}
    peer_nodes: list[tuple[Controller, yaml.Node]] = []
    if "sites" not in top:
        check.add(root, "missing `sites:`")
    else:
        for site_name, (site_key, site_node) in check.mapping(top["sites"][1], "sites").items():
            if not SITE_NAME.match(site_name) or site_name in RESERVED_SITE_NAMES:
                check.add(
                    site_key,
                    f"site '{site_name}': use lower-case letters, digits, '-', '_' or '.'"
                    + (" ('all' and 'help' are reserved)" if site_name in RESERVED_SITE_NAMES else ""),
                )
            entry = check.mapping(site_node, f"site '{site_name}'")
            check.unknown_keys(entry, {"channel", "controllers"}, f"site '{site_name}'")
            channel = None
            if "channel" in entry:
                channel = check.scalar(entry["channel"][1], f"site '{site_name}' channel")
                if channel is not None and not CHANNEL_ID.match(channel):
                    check.add(
                        entry["channel"][1],
                        f"site '{site_name}': channel '{channel}' is not a Slack "
                        "channel ID (like C0123456789; find it in the channel's details)",
                    )
                    channel = None
            controllers: list[Controller] = []
            if "controllers" not in entry:
                check.add(site_key, f"site '{site_name}': missing `controllers:`")
            elif not isinstance(entry["controllers"][1], yaml.SequenceNode) or not entry["controllers"][1].value:
                check.add(entry["controllers"][1], f"site '{site_name}': `controllers` must be a non-empty list")
            else:
                for item in entry["controllers"][1].value:
                    ctrl = _controller(check, item, site_name, credentials, top)
                    if ctrl is None:
                        continue
                    line = item.start_mark.line + 1
                    if ctrl.name in seen_controllers:
                        check.add(
                            item,
                            f"controller '{ctrl.name}' is already defined at line "
                            f"{seen_controllers[ctrl.name]}: names must be unique across sites",
                        )
                        continue
                    endpoint = (ctrl.host, ctrl.port)
                    if endpoint in seen_endpoints:
                        check.add(
                            item,
                            f"controller '{ctrl.name}': {ctrl.host}:{ctrl.port} is already "
                            f"controller '{seen_endpoints[endpoint]}'",
                        )
                        continue
                    seen_controllers[ctrl.name] = line
                    seen_endpoints[endpoint] = ctrl.name
                    controllers.append(ctrl)
                    peer_nodes.append((ctrl, item))
            sites[site_name] = Site(site_name, channel, tuple(controllers))

    for ctrl, item in peer_nodes:
        for peer in ctrl.peers:
            if peer == ctrl.name:
                check.add(item, f"controller '{ctrl.name}': it cannot be its own peer")
            elif peer not in seen_controllers:
                known = ", ".join(sorted(seen_controllers)) or "none"
                check.add(
                    item,
                    f"controller '{ctrl.name}': peer '{peer}' is not a controller of the inventory (known: {known})",
                )
    if check.problems:
        raise InventoryError(check.problems)
    inventory = Inventory(sites=sites, credentials=credentials)
    return inventory


def _controller(
    check: _Checker,
    node: yaml.Node,
    site: str,
    credentials: dict[str, Credentials],
    top: dict[str, tuple[yaml.Node, yaml.Node]],
) -> Controller | None:
    entry = check.mapping(node, f"site '{site}' controller")
    check.unknown_keys(
        entry, {"name", "host", "port", "platform", "credentials", "peers", "backup"}, f"site '{site}' controller"
    )
    ok = True
    values: dict[str, str] = {}
    for part in ("name", "host", "platform", "credentials"):
        if part not in entry:
            check.add(node, f"site '{site}' controller: missing `{part}`")
            ok = False
            continue
        value = check.scalar(entry[part][1], f"controller {part}")
        if value is None:
            ok = False
            continue
        values[part] = value
    name = values.get("name", "?")
    if "name" in values and not CONTROLLER_NAME.match(values["name"]):
        check.add(entry["name"][1], f"controller '{name}': names use letters, digits, '-', '_' or '.'")
        ok = False
    if "host" in values and not _valid_host(values["host"]):
        check.add(entry["host"][1], f"controller '{name}': host '{values['host']}' is not an IP address or host name")
        ok = False
    platform: Platform | None = None
    if "platform" in values:
        try:
            platform = Platform(values["platform"])
        except ValueError:
            check.add(
                entry["platform"][1],
                f"controller '{name}': platform '{values['platform']}' is not one of "
                f"{', '.join(p.value for p in Platform)}",
            )
            ok = False
    port = 22
    if "port" in entry:
        raw = check.scalar(entry["port"][1], "controller port")
        if raw is None or not raw.isdigit() or not 1 <= int(raw) <= 65535:
            check.add(entry["port"][1], f"controller '{name}': port must be a number from 1 to 65535")
            ok = False
        else:
            port = int(raw)
    creds = None
    if "credentials" in values:
        creds = credentials.get(values["credentials"])
        if creds is None and "credentials" in top:
            known = ", ".join(sorted(credentials)) or "none defined"
            check.add(
                entry["credentials"][1],
                f"controller '{name}': credentials '{values['credentials']}' is not a key of `credentials` ({known})",
            )
            ok = False
    peers = _peers(check, entry, name)
    if not ok or platform is None or creds is None or peers is None:
        return None
    return Controller(values["name"], values["host"], port, platform, creds, site, peers)


def _peers(check: _Checker, entry: dict[str, tuple[yaml.Node, yaml.Node]], name: str) -> tuple[str, ...] | None:
    """`peers: [wlc-b1, wlc-b2]` or `backup: wlc-b1` (a name or a list); None when malformed."""
    names: list[str] = []
    for key in ("peers", "backup"):
        if key not in entry:
            continue
        node = entry[key][1]
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for item in items:
            value = check.scalar(item, f"controller {key}") if isinstance(item, yaml.ScalarNode) else None
            if value is None or not CONTROLLER_NAME.match(value):
                check.add(item, f"controller '{name}': `{key}` must name controllers (a name or a list of names)")
                return None
            if value not in names:
                names.append(value)
    return tuple(names)


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
