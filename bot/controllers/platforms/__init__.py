"""Per-platform device knowledge, kept as data (`<platform>/commands.yaml`).

Like scrapli's platform definitions: what prompt to expect, what marks a
failed command, which commands one poll runs and which parser reads each.
When Cisco changes a command on a new release, this data changes, not code.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from bot.datafile import DataFileError, Strict, load, parse_yaml, refuse
from bot.domain.versions import parse_version

_PLACEHOLDER = re.compile(r"{(\w+)}")
_SAFE_ARGUMENT = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass(frozen=True)
class PollCommand:
    """One read-only command of a poll.

    `key` names the parser (the platform package's `parsers.py` table, `registry.get(p).parser(key)`); `min_version`
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


class PlatformDataError(DataFileError):
    """A platform's `commands.yaml` is malformed (a packaging bug, caught by the tests and at load)."""


def _version(value: str | None) -> str | None:
    if value is not None and parse_version(value) is None:
        raise refuse(f"'{value}' is not a software version (like \"8.10\"; quote it, or YAML reads 8.10 as 8.1)")
    return value


def _placeholders(value: str) -> str:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
    except ValueError as exc:
        raise refuse(f"{value!r} is not a command with {{placeholders}} ({exc})") from None
    bad = [f for f in fields if not re.fullmatch(r"\w+", f)]
    if bad:
        raise refuse(f"placeholders must be plain names, not {', '.join(repr(f) for f in bad)}")
    return value


def _regex(value: str | None) -> str | None:
    """A prompt pattern, compiled once here so a bad one fails at load, not mid-poll."""
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise refuse(f"not a valid regular expression ({exc})") from None
    return value


Version = Annotated[str | None, AfterValidator(_version)]
Pattern = Annotated[str, AfterValidator(_regex)]


class PollEntry(Strict):
    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    command: Annotated[str, AfterValidator(_placeholders)]
    required: bool = True
    min_version: Version = None
    max_version: Version = None
    static: bool = False


class CommandsFile(Strict):
    """`<platform>/commands.yaml`: how to talk to the platform and what one poll reads."""

    scrapli_platform: str
    failed_when_contains: tuple[str, ...] = ()
    session_setup: tuple[str, ...] = ()
    prompt: Pattern
    enable_from: Annotated[str | None, AfterValidator(_regex)] = None
    shell_login: bool = False
    session_end: str | None = None
    poll: Annotated[list[PollEntry], Field(min_length=1)]
    # After `poll`: it must name one of its keys.
    identity: str | None = None
    changes: dict[str, str] = Field(default_factory=dict)

    @field_validator("poll")
    @classmethod
    def _unique(cls, poll: list[PollEntry]) -> list[PollEntry]:
        keys = [item.key for item in poll]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise refuse(f"poll keys must be unique: {', '.join(twice)} appear more than once")
        return poll

    @field_validator("identity")
    @classmethod
    def _identity(cls, identity: str | None, info: ValidationInfo) -> str | None:
        keys = [item.key for item in info.data.get("poll", [])]
        if identity is not None and keys and identity not in keys:
            raise refuse(f"'{identity}' is not a poll key ({', '.join(keys)})")
        return identity


def parse_platform_definition(name: str, text: str, file: str) -> PlatformDefinition:
    """Validate one platform's `commands.yaml` text; PlatformDataError names every problem's line."""
    try:
        doc = parse_yaml(text, file, scalars_as_text=True)
        data = load(CommandsFile, doc)
    except DataFileError as exc:
        raise PlatformDataError(exc.problems) from None
    return PlatformDefinition(
        name=name,
        scrapli_platform=data.scrapli_platform,
        failed_when_contains=data.failed_when_contains,
        session_setup=data.session_setup,
        poll=tuple(PollCommand(**item.model_dump()) for item in data.poll),
        changes=dict(data.changes),
        identity=data.identity,
        prompt=data.prompt,
        enable_from=data.enable_from,
        shell_login=data.shell_login,
        session_end=data.session_end,
    )
