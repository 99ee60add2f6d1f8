"""The `Platform` interface: everything code outside a platform's package asks of it.

A controller family (AireOS, Catalyst 9800, a third one tomorrow) is one
package under `bot/controllers/platforms/<name>/`: its data (`commands.yaml`,
`changes.yaml`, `.textfsm` templates) beside the code that reads it, and one
`PLATFORM` object of a `Platform` subclass that the registry finds. Callers
never test a platform's name; they ask its `Platform` (`registry.get(name)`)
for the piece they need, so adding a family means adding a package.

Cisco's revisable facts (which releases fix the bug, the version families)
stay in the advisory data, not here.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from importlib import resources
from importlib.abc import Traversable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from bot.controllers.platforms import PlatformDefinition, parse_platform_definition
from bot.controllers.platforms.remediation_ops import Catalog, PlatformOps
from bot.controllers.static_facts import Identity
from bot.domain.models import ClockReading, ControllerSnapshot

if TYPE_CHECKING:
    from scrapli.driver import AsyncNetworkDriver

#: A pure function from one command's text to model objects (raises only `ParseError`).
Parser = Callable[[str], Any]
#: A scrapli `on_open` / `on_close` callable (login and logout of a change session).
SessionHook = Callable[["AsyncNetworkDriver"], Awaitable[None]]


class Driver(Protocol):
    """How parsed command output becomes one snapshot (differs per platform in code, not data)."""

    def identity(self, key: str, parsed: Any) -> Identity | None:
        """The software and uptime, when `key` is the platform's identity command."""
        ...

    def apply(self, snapshot: ControllerSnapshot, key: str, parsed: Any, context: dict[str, str]) -> None:
        """Fold one parsed command into the snapshot (and `context` for later commands)."""
        ...

    def finish(self, snapshot: ControllerSnapshot) -> None:
        """Last touches once every command ran (or the session broke off)."""
        ...


class Platform:
    """One controller family. Subclasses set the class attributes and implement the methods.

    `package` is the Python package holding the platform's data files; `name` is the
    inventory's `platform:` value; `label` is how people see it (chat, console).
    """

    name: ClassVar[str]
    label: ClassVar[str]
    package: ClassVar[str]
    #: poll key (commands.yaml `key`) -> parser
    parsers: ClassVar[Mapping[str, Parser]]

    @cached_property
    def definition(self) -> PlatformDefinition:
        """Prompt, login facts and poll commands, as this package's `commands.yaml` gives them
        (validated; read once per platform)."""
        text = self.data_file("commands.yaml").read_text(encoding="utf-8")
        return parse_platform_definition(self.name, text, f"{self.package.replace('.', '/')}/commands.yaml")

    def data_file(self, filename: str) -> Traversable:
        """A data file of this platform's package (`changes.yaml`, a template)."""
        return resources.files(self.package).joinpath(filename)

    def driver(self) -> Driver:
        """A fresh driver for one poll (drivers keep per-poll state)."""
        raise NotImplementedError

    def ops(self, catalog: Catalog) -> PlatformOps:
        """The remediation operations, sending what `catalog` (this platform's changes.yaml) renders."""
        raise NotImplementedError

    async def on_open(self, conn: AsyncNetworkDriver) -> None:
        """Log in and reach the privilege level a change session needs (scrapli `on_open`)."""
        raise NotImplementedError

    async def on_close(self, conn: AsyncNetworkDriver) -> None:
        """Leave the session politely (scrapli `on_close`)."""
        raise NotImplementedError

    def printed_utc_offset(self, clock: ClockReading) -> timedelta | None:
        """The UTC offset a poll's clock reading shows, when the controller printed its zone."""
        raise NotImplementedError

    def parser(self, key: str) -> Parser:
        """The parser of poll key `key`; KeyError names the keys that exist."""
        try:
            return self.parsers[key]
        except KeyError:
            known = sorted(self.parsers)
            raise KeyError(f"no parser for ({self.name!r}, {key!r}); known for this platform: {known}") from None

    def read_commands(self, keys: Sequence[str], version: str | None) -> list[tuple[str, str]]:
        """(key, command) pairs a read of `keys` would send (placeholders left as `<name>`), for dry-runs."""
        by_key = {p.key: p for p in self.definition.poll}
        out = []
        for key in keys:
            item = by_key[key]
            if item.applies_to(version):
                out.append((key, re.sub(r"{(\w+)}", r"<\1>", item.command)))
        return out

    def __repr__(self) -> str:
        return f"<platform {self.name}>"
