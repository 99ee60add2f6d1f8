"""CLI output parsing: the helpers every platform's parsers share, and the lookup by poll key.

Each platform's parsers live in its package (`bot/controllers/platforms/<p>/parsers.py`)
and are listed there by poll key (`commands.yaml`'s `key`, the command with spaces as
underscores). `PARSERS[(platform, key)]` finds one through the platform registry, so a
new platform's parsers need no line here; the platform may be a `Platform` member
(a StrEnum) or its name.

All parsers raise only `ParseError`, and only for output that cannot be
trusted (the device rejected the command, or the expected structure is
absent); everything else is read tolerantly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from bot.controllers.parsers.errors import ParseError
from bot.controllers.parsers.text import find_cli_error, normalise, prepare
from bot.controllers.platforms import registry
from bot.controllers.platforms.base import Parser


class _ParserTable(Mapping[tuple[str, str], Parser]):
    """Every registered platform's parsers, keyed (platform name, poll key); read through the registry."""

    def __getitem__(self, item: tuple[str, str]) -> Parser:
        platform, key = item
        try:
            return registry.get(platform).parsers[key]
        except (KeyError, registry.UnknownPlatform):
            raise KeyError(item) from None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for name in registry.names():
            for key in registry.get(name).parsers:
                yield name, key

    def __len__(self) -> int:
        return sum(len(registry.get(name).parsers) for name in registry.names())


PARSERS: Mapping[tuple[str, str], Parser] = _ParserTable()


def get_parser(platform: str, command_key: str) -> Parser:
    """The parser for (`platform`, `command_key`); KeyError names what exists."""
    return registry.get(platform).parser(command_key)


__all__ = [
    "PARSERS",
    "ParseError",
    "Parser",
    "find_cli_error",
    "get_parser",
    "normalise",
    "prepare",
]
