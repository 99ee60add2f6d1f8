"""Per-platform device knowledge, kept as data (`<platform>/commands.yaml`).

Like scrapli's platform definitions: what prompt to expect, what marks a
failed command, which commands one poll runs and which parser reads each.
When Cisco changes a command on a new release, this data changes, not code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from bot.domain.models import Platform
from bot.domain.versions import parse_version

_PLACEHOLDER = re.compile(r"{(\w+)}")
_SAFE_ARGUMENT = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass(frozen=True)
class PollCommand:
    """One read-only command of a poll.

    `key` names the parser (see bot.controllers.parsers.PARSERS); `min_version`
    / `max_version` (exclusive) choose commands by software release, e.g. AireOS
    8.10's `show ap image status` versus 8.5's `show ap image all`.
    `needs` names earlier keys whose parsed output fills `{placeholders}`.
    `static` marks what a routine check need not ask every time.
    """

    key: str
    command: str
    required: bool = True
    min_version: str | None = None
    max_version: str | None = None
    # Changes only with an upgrade or a reload: a routine check replays the last answer
    # unless the identity command says the controller changed (see `static_facts.py`).
    static: bool = False

    def applies_to(self, version: str | None) -> bool:
        """Whether this command belongs to a controller on `version` (None: unknown)."""
        if self.min_version is None and self.max_version is None:
            return True
        current = parse_version(version)
        if current is None:
            # Unknown release: run the newer command; the older one would only add noise.
            return self.max_version is None
        low = parse_version(self.min_version)
        high = parse_version(self.max_version)
        if low is not None and current < low:
            return False
        return not (high is not None and current >= high)

    def render(self, context: Mapping[str, str]) -> str | None:
        """The command with `{placeholders}` filled from values read earlier on the device.

        Those values came from a device, not a user, but still go back to one: anything
        that is not a plain identifier is refused (None), never sent.
        """
        values = {}
        for name in _PLACEHOLDER.findall(self.command):
            value = context.get(name)
            if value is None or not _SAFE_ARGUMENT.match(value):
                return None
            values[name] = value
        return self.command.format(**values)


@dataclass(frozen=True)
class PlatformDefinition:
    name: str
    scrapli_platform: str
    failed_when_contains: tuple[str, ...]
    session_setup: tuple[str, ...]
    poll: tuple[PollCommand, ...]
    changes: dict[str, str]
    # The poll key whose answer (software, uptime) tells whether the static ones are still true.
    identity: str | None = None
    # What a poll's read session expects (see `read_session.py` and commands.yaml).
    prompt: str = ""
    enable_from: str | None = None
    shell_login: bool = False
    session_end: str | None = None

    def routine_commands(self) -> tuple[PollCommand, ...]:
        """What a routine check sends when the static facts stand (the README lists these)."""
        return tuple(item for item in self.poll if not item.static)


@cache
def platform_definition(platform: Platform | str) -> PlatformDefinition:
    name = Platform(platform).value
    text = resources.files(__package__).joinpath(name, "commands.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return PlatformDefinition(
        name=name,
        scrapli_platform=data["scrapli_platform"],
        failed_when_contains=tuple(data.get("failed_when_contains", [])),
        session_setup=tuple(data.get("session_setup", [])),
        poll=tuple(PollCommand(**item) for item in data["poll"]),
        changes=dict(data.get("changes", {})),
        identity=data.get("identity"),
        prompt=_pattern(data, "prompt") or _missing(name, "prompt"),
        enable_from=_pattern(data, "enable_from"),
        shell_login=bool(data.get("shell_login", False)),
        session_end=data.get("session_end"),
    )


def _missing(platform: str, key: str) -> str:
    raise ValueError(f"{platform}/commands.yaml: `{key}` is required")


def _pattern(data: Mapping[str, object], key: str) -> str | None:
    """A prompt pattern from the data, compiled once here so a bad one fails at load, not mid-poll."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"commands.yaml: {key} must be a regular expression string")
    re.compile(value)
    return value
