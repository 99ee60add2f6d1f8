"""Per-platform device knowledge, kept as data (`<platform>/commands.yaml`).

Like scrapli's platform definitions: what prompt to expect, what marks a
failed command, which commands one poll runs and which parser reads each.
When Cisco changes a command on a new release, this data changes, not code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from bot.domain.models import Platform


@dataclass(frozen=True)
class PollCommand:
    """One read-only command of a poll.

    `key` names the parser (see bot.controllers.parsers.PARSERS); `min_version`
    / `max_version` (exclusive) choose commands by software release, e.g. AireOS
    8.10's `show ap image status` versus 8.5's `show ap image all`.
    `needs` names earlier keys whose parsed output fills `{placeholders}`.
    """

    key: str
    command: str
    required: bool = True
    min_version: str | None = None
    max_version: str | None = None


@dataclass(frozen=True)
class PlatformDefinition:
    name: str
    scrapli_platform: str
    failed_when_contains: tuple[str, ...]
    session_setup: tuple[str, ...]
    poll: tuple[PollCommand, ...]
    changes: dict[str, str]


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
    )
