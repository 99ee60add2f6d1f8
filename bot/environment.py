"""The environment as the bot sees it: process variables first, then `.env`.

Settings (pydantic-settings) have always read `.env`, but the inventory's
credential variables (`username_env`, `password_env`) were looked up in
`os.environ` only, so an operator who put `CCERT_SSH_PASSWORD` in `.env`, as
`.env.example` suggests, got "not set". One merged mapping, built once at
start-up and handed to everything that resolves a variable, gives every
setting and every credential the same sources in the same order.

The file is parsed with python-dotenv (what pydantic-settings itself uses),
so both agree on quoting and `export`; line numbers are kept so a problem can
be reported as `.env:7`.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from bot.textfiles import NotUTF8Error, read_utf8

ENV_FILE = Path(".env")


class EnvFileError(ValueError):
    """The `.env` file cannot be used; the message names the file (and line)."""


@dataclass(frozen=True)
class EnvFile:
    """What a `.env` file sets, and on which line (empty when there is no file)."""

    path: Path
    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    exists: bool = False


def read_env_file(path: Path = ENV_FILE) -> EnvFile:
    """Read `path` if it exists; raise EnvFileError on unreadable, non-UTF-8 or malformed lines.

    A missing file is normal (settings may all come from the environment) and
    gives an empty EnvFile.
    """
    try:
        text = read_utf8(path)
    except FileNotFoundError:
        return EnvFile(path)
    except NotUTF8Error as exc:
        raise EnvFileError(f"{path}:{exc.line}: {exc}") from None
    except OSError as exc:
        raise EnvFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    lines: dict[str, int] = {}
    bad: list[str] = []
    for binding in parse_stream(io.StringIO(text)):
        # A binding's text starts with the blank lines before it: count them off.
        chunk = binding.original.string
        start = len(chunk) - len(chunk.lstrip())
        line = binding.original.line + chunk[:start].count("\n")
        if binding.error:
            bad.append(f"{path}:{line}: cannot parse this line (use NAME=value)")
        elif binding.key:
            lines[binding.key] = line
    if bad:
        raise EnvFileError("\n".join(bad))
    values = {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}
    return EnvFile(path, values, lines, exists=True)


def merged_environ(env_file: EnvFile, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment over the file: a variable set in both keeps the process value,
    as pydantic-settings does for settings."""
    process = os.environ if environ is None else environ
    return {**env_file.values, **process}


def origin(name: str, env_file: EnvFile, environ: Mapping[str, str] | None = None) -> str:
    """Where `name` comes from, for messages: `environment`, `.env:7`, or `environment or .env`."""
    process = os.environ if environ is None else environ
    if name in process:
        return "environment"
    if name in env_file.lines:
        return f"{env_file.path}:{env_file.lines[name]}"
    return "environment or .env"
