"""Date parsing and the date styles Cisco prints, in one place.

Each style is named after where it appears, because the parsers of the bot
are written against those exact shapes (day not zero-padded in IOS, padded
with a space in AireOS `show time`, and so on).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time


def parse_datetime(value: object) -> datetime:
    """A timezone-aware UTC datetime from YAML/JSON input.

    Accepts datetime objects (PyYAML parses ISO timestamps itself, naive ones
    are taken as UTC), dates (midnight UTC) and ISO 8601 strings with or
    without `Z`.
    """
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time(0, 0))
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        result = datetime.fromisoformat(text)
    else:
        raise ValueError(f"not a date/time: {value!r}")
    if result.tzinfo is None:
        result = result.replace(tzinfo=UTC)
    return result.astimezone(UTC)


def iso(value: datetime) -> str:
    """Compact ISO form with `Z`, used in the state file and in messages."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ios_clock(value: datetime) -> str:
    """IOS `show clock` body without prefix: `10:22:10.625 UTC Thu May 23 2024`."""
    ms = value.microsecond // 1000
    return f"{value:%H:%M:%S}.{ms:03d} UTC {value:%a %b} {value.day} {value.year}"


def ios_cert_date(value: datetime) -> str:
    """IOS PKI validity date: `10:03:50 UTC Sep 22 2021`."""
    return f"{value:%H:%M:%S} UTC {value:%b} {value.day} {value.year}"


def ios_log_time(value: datetime) -> str:
    """IOS logging-buffer timestamp: `Dec  2 00:00:00.123` (day padded to 2)."""
    ms = value.microsecond // 1000
    return f"{value:%b} {value.day:>2} {value:%H:%M:%S}.{ms:03d}"


def aireos_time(value: datetime) -> str:
    """AireOS `show time`: `Fri Dec  2 00:00:02 2022` (C ctime style)."""
    return value.strftime("%a %b ") + f"{value.day:>2}" + value.strftime(" %H:%M:%S %Y")


def openssl_date(value: datetime) -> str:
    """OpenSSL style used by AireOS `show certificate all`: `Oct  4 05:05:04 2015 GMT`."""
    return value.strftime("%b ") + f"{value.day:>2}" + value.strftime(" %H:%M:%S %Y GMT")


def rfc3164_time(value: datetime) -> str:
    """BSD syslog header timestamp: `Dec  6 21:35:24`."""
    return value.strftime("%b ") + f"{value.day:>2}" + value.strftime(" %H:%M:%S")
