"""Acme's three commands: `show version` (one line), `show clock` (UTC, ISO), `show ntp` (one address a line)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.controllers.parsers.errors import ParseError
from bot.controllers.platforms.base import Parser
from bot.domain.models import ClockReading, ClockSource, NtpServer


@dataclass(frozen=True)
class AcmeVersion:
    version: str
    uptime_seconds: int


def parse_show_version(text: str) -> AcmeVersion:
    # "AcmeOS 17.9.4 up 3600"
    words = text.split()
    if len(words) < 4 or words[0] != "AcmeOS":
        raise ParseError("show version", "no AcmeOS line")
    return AcmeVersion(words[1], int(words[3]))


def parse_show_clock(text: str) -> ClockReading:
    # "2026-06-01T12:00:00 ntp"
    stamp, source = text.split()
    when = datetime.fromisoformat(stamp).replace(tzinfo=UTC)
    synced = source == "ntp"
    source_kind = ClockSource.NTP if synced else ClockSource.MANUAL
    return ClockReading(when, source_kind, authoritative=True, synced=synced, timezone="UTC", raw=text.strip())


def parse_show_ntp(text: str) -> list[NtpServer]:
    return [NtpServer(address=line.strip(), index=n) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


PARSERS: dict[str, Parser] = {
    "show_version": parse_show_version,
    "show_clock": parse_show_clock,
    "show_ntp": parse_show_ntp,
}
