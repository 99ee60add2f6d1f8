"""`--at <time>`: when a person asks a time-back to start, read as a moment in `CCERT_TIMEZONE`.

People type what they would say on a change ticket, so the forms are few and unambiguous:

* `22:00`: the next 22:00 (today if still ahead, else tomorrow);
* `Sat 22:00` / `saturday 22:00`: the next Saturday at 22:00 (today's if still ahead);
* `2026-12-05 22:00` or `2026-12-05T22:00`: that date and time.

All in the bot's time zone; the result is a timezone-aware datetime. It must be in the future
and at most `MAX_AHEAD` away (a request that waits for a quarter never gets the fresh eyes its
approvers should have). Bad text raises `ScheduleTimeError` with the accepted forms; nothing
here ever reaches a device (the time becomes a timer, not a command).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.change_windows import DAY_INDEX, resolve_local

MAX_AHEAD = timedelta(days=30)
FORMS = "HH:MM, 'Sat 22:00' or 'YYYY-MM-DD HH:MM'"

_CLOCK = re.compile(r"^([0-2]?\d):([0-5]\d)$")
_DAY_CLOCK = re.compile(r"^([A-Za-z]{3,9})\s+([0-2]?\d):([0-5]\d)$")
_DATE_CLOCK = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ]([0-2]?\d):([0-5]\d)$")


class ScheduleTimeError(ValueError):
    """The `--at` text is not a time this bot reads; the message says what it accepts."""


def parse_at(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """The moment `text` names, after `now`, in `zone` (aware); ScheduleTimeError otherwise."""
    value = " ".join(text.split())
    local_now = now.astimezone(zone)
    if match := _CLOCK.match(value):
        hour, minute = _hour(match.group(1), value), int(match.group(2))
        naive = local_now.replace(tzinfo=None, hour=hour, minute=minute, second=0, microsecond=0)
        if resolve_local(naive, zone) <= now:
            naive += timedelta(days=1)
        return _checked(resolve_local(naive, zone), now, value)
    if match := _DAY_CLOCK.match(value):
        day = DAY_INDEX.get(match.group(1).lower())
        if day is None:
            raise ScheduleTimeError(f"'{match.group(1)}' is not a day; --at takes {FORMS}")
        hour, minute = _hour(match.group(2), value), int(match.group(3))
        ahead = (day - local_now.weekday()) % 7
        naive = local_now.replace(tzinfo=None, hour=hour, minute=minute, second=0, microsecond=0) + timedelta(
            days=ahead
        )
        if resolve_local(naive, zone) <= now:
            naive += timedelta(days=7)
        return _checked(resolve_local(naive, zone), now, value)
    if match := _DATE_CLOCK.match(value):
        year, month, day_of_month, hour_text, minute_text = match.groups()
        try:
            naive = datetime(int(year), int(month), int(day_of_month), _hour(hour_text, value), int(minute_text))
        except ValueError:
            raise ScheduleTimeError(f"'{value}' is not a date and time; --at takes {FORMS}") from None
        return _checked(resolve_local(naive, zone), now, value)
    raise ScheduleTimeError(f"'{value[:40]}' is not a time I read; --at takes {FORMS} ({zone.key})")


def _hour(text: str, value: str) -> int:
    hour = int(text)
    if hour > 23:
        raise ScheduleTimeError(f"'{value}' is not a time of day; --at takes {FORMS}")
    return hour


def _checked(when: datetime, now: datetime, value: str) -> datetime:
    if when <= now:
        raise ScheduleTimeError(f"{when:%Y-%m-%d %H:%M %Z} ('{value}') is in the past: --at needs a time ahead")
    if when - now > MAX_AHEAD:
        raise ScheduleTimeError(
            f"{when:%Y-%m-%d %H:%M %Z} is more than {MAX_AHEAD.days} days ahead: request it closer to the window, "
            "so the approvers see the controllers as they are then"
        )
    return when
