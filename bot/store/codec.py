"""How values are written to and read back from SQLite text columns.

Two kinds of time, on purpose:

* **Bot timestamps** (a check started, a snapshot was taken, an alert was
  opened) are instants the bot stamped. They are stored as fixed-width
  ISO-8601 UTC text (`2024-05-01T09:00:00.000000+00:00`), so text order is
  time order and SQL can compare them, and they always come back tz-aware.
  A naive value is a bug in the caller and is refused, never guessed.
* **Device times** (the controller clock, its certificate window) are what a
  controller printed. An aware one is stored as UTC like the above; a naive
  one (AireOS `show time` prints local time with no zone) is kept naive, as
  printed: inventing a zone for it would falsify the evidence.

JSON columns hold plain JSON; datetimes inside them are written as the UTC
text above, enums as their value, domain dataclasses through the domain's
own `to_jsonable`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from bot.domain.jsonable import to_jsonable


def utc_now() -> datetime:
    return datetime.now(UTC)


def _require_aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    return value


def to_db_time(value: datetime, what: str = "timestamp") -> str:
    """A bot timestamp as fixed-width UTC text."""
    return _require_aware(value, what).astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def from_db_time_or_none(text: str | None) -> datetime | None:
    return None if text is None else from_db_time(text)


def to_device_time(value: datetime | None) -> str | None:
    """A device-printed time: UTC text when aware, the naive text as printed otherwise."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return value.isoformat(timespec="microseconds")
    return to_db_time(value)


def from_device_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def day_text(day: date | str) -> str:
    """A calendar day as `YYYY-MM-DD` (validated when given as text)."""
    if isinstance(day, datetime):
        raise TypeError("pass the day as a date in the configured timezone, not a datetime")
    if isinstance(day, date):
        return day.isoformat()
    return date.fromisoformat(day).isoformat()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_db_time(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | None, default: Any = None) -> Any:
    return default if text is None else json.loads(text)


def to_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


# --- errors kept for humans: short, and never a secret ----------------------------------------

ERROR_LIMIT = 300

_SECRET_PATTERNS = (
    (re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+"), "<redacted>"),
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), "<redacted>"),
    (re.compile(r"(?i)\bbearer\s+\S+"), "Bearer <redacted>"),
    (
        re.compile(
            r"(?i)\b(password|passwd|secret|token|api[_-]?key|authorization)(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|\S+)"
        ),
        r"\1\2<redacted>",
    ),
)


def short_error(error: BaseException | str, limit: int = ERROR_LIMIT) -> str:
    """One line, at most `limit` characters, with token-looking values redacted."""
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
