"""The inventory's types: sites, the controllers they hold, and the credentials' variable names.

Plain data, low in the layers so the adapters (`controllers`, `store`) and
everything above them can hold a `Controller` without reading files. The file
itself (its schema, its file:line problems, the platform names checked against
the registry of platform packages) is `bot.inventory_file`, which sits above the
adapters because it asks `bot.controllers.platforms.registry` what exists.
Credentials are only *names* of environment variables: the file is safe to commit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.datafile import Problem
from bot.domain.models import PlatformName


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
    platform: PlatformName
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


@dataclass
class InventoryError(Exception):
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
