"""CLI output parsing: the helpers every platform's parsers share.

Each platform's parsers live in its package (`bot/controllers/platforms/<p>/parsers.py`)
and are listed there by poll key (`commands.yaml`'s `key`, the command with spaces as
underscores); callers find one with `registry.get(platform).parser(key)`, so a new
platform's parsers need no line here.

All parsers raise only `ParseError`, and only for output that cannot be
trusted (the device rejected the command, or the expected structure is
absent); everything else is read tolerantly.
"""

from __future__ import annotations

from bot.controllers.parsers.errors import ParseError
from bot.controllers.parsers.text import find_cli_error, normalise, prepare
from bot.controllers.platforms.base import Parser

__all__ = [
    "ParseError",
    "Parser",
    "find_cli_error",
    "normalise",
    "prepare",
]
