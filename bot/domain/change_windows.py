"""Change windows: when a time-back may start (`CCERT_CHANGE_WINDOWS`), as pure functions.

Network teams change production in agreed windows (`Sat 22:00-Sun 04:00`). A window is a
weekly span in the bot's time zone (`CCERT_TIMEZONE`); several are separated by commas or
semicolons. A window may cross midnight and the week's end (`Sun 23:00-Mon 01:00`). The
bot refuses to *start* a run outside every window and names the next allowed start; a run
that started inside a window is never stopped when the window closes (a time-back cut in
half is the worst state a controller can be in).

No windows configured means every time is allowed (the historic behaviour).

    windows = parse_windows("Sat 22:00-Sun 04:00; Wed 01:00-03:00")
    windows.allows(now)              # True inside a window
    windows.next_start(now, zone)    # the next moment a run may start (now itself when allowed)

Times are compared in local wall-clock time: a window "Sun 01:00-03:00" stays 01:00-03:00 on a
daylight-saving Sunday. A wall-clock time that does not exist (skipped by a DST change) is taken
as the first existing instant after it, one that occurs twice as its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_WEEK = 7 * 24 * 60

#: Day names people type (`Sat`, `saturday`, any case after lower()) → Monday-based index.
DAY_INDEX = {
    **{d: i for i, d in enumerate(DAYS)},
    **{n: i for i, n in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))},
}
_POINT = r"([A-Za-z]{3,9})\s+([0-2]?\d):([0-5]\d)"
_WINDOW = re.compile(rf"^\s*{_POINT}\s*-\s*(?:{_POINT}|([0-2]?\d):([0-5]\d))\s*$")


class ChangeWindowError(ValueError):
    """`CCERT_CHANGE_WINDOWS` cannot be read; the message shows the expected shape."""


@dataclass(frozen=True)
class Window:
    """One weekly window: minutes since Monday 00:00 (local) of its start and its length."""

    start: int
    length: int
    text: str

    def contains(self, minute_of_week: int) -> bool:
        return (minute_of_week - self.start) % MINUTES_PER_WEEK < self.length


@dataclass(frozen=True)
class ChangeWindows:
    """The allowed windows (empty: always allowed) in `zone`."""

    windows: tuple[Window, ...] = ()
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    @property
    def restricted(self) -> bool:
        return bool(self.windows)

    def allows(self, when: datetime) -> bool:
        """Whether a run may start at `when` (timezone-aware)."""
        if not self.windows:
            return True
        minute = _minute_of_week(when.astimezone(self.zone))
        return any(w.contains(minute) for w in self.windows)

    def next_start(self, when: datetime) -> datetime:
        """`when` itself when allowed, else the start of the next window after it (aware, in `zone`)."""
        if self.allows(when):
            return when.astimezone(self.zone)
        local = when.astimezone(self.zone).replace(second=0, microsecond=0)
        best: datetime | None = None
        for window in self.windows:
            candidate = _next_occurrence(local, window.start, self.zone)
            if candidate <= when:  # the same minute, seconds past: the next week's
                candidate = _next_occurrence(local + timedelta(minutes=1), window.start, self.zone)
            if best is None or candidate < best:
                best = candidate
        assert best is not None
        return best

    def starts_after(self, when: datetime, count: int) -> list[datetime]:
        """The next `count` window starts after `when` (for a picker), soonest first."""
        found: list[datetime] = []
        cursor = when
        for _ in range(count * max(1, len(self.windows)) + 1):
            if len(found) >= count or not self.windows:
                break
            local = cursor.astimezone(self.zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
            nearest = min(_next_occurrence(local, w.start, self.zone) for w in self.windows)
            found.append(nearest)
            cursor = nearest
        return found

    def describe(self) -> str:
        return ", ".join(w.text for w in self.windows) + f" ({self.zone.key})" if self.windows else "any time"


def parse_windows(text: str | None, zone: ZoneInfo | None = None) -> ChangeWindows:
    """`"Sat 22:00-Sun 04:00, Wed 01:00-03:00"` → ChangeWindows; "" → always allowed.

    The end may omit the day when it is the same day or the next (`Sat 22:00-02:00`).
    Raises ChangeWindowError naming the part that is not a window.
    """
    zone = zone or ZoneInfo("UTC")
    if text is None or not text.strip():
        return ChangeWindows((), zone)
    windows: list[Window] = []
    for part in re.split(r"[,;]", text):
        if not part.strip():
            continue
        match = _WINDOW.match(part)
        if match is None:
            raise ChangeWindowError(
                f"'{part.strip()}' is not a change window; expected e.g. 'Sat 22:00-Sun 04:00' "
                "(day HH:MM-day HH:MM, several separated by commas)"
            )
        day, hour, minute, end_day, end_hour, end_minute, bare_hour, bare_minute = match.groups()
        start = _minute(day, hour, minute, part)
        if end_day is not None:
            end = _minute(end_day, end_hour, end_minute, part)
        else:
            end = (start // (24 * 60)) * 24 * 60 + _clock(bare_hour, bare_minute, part)
            if end <= start:  # `Sat 22:00-02:00` ends on the next day, not six days later
                end += 24 * 60
        length = (end - start) % MINUTES_PER_WEEK
        if length == 0:
            raise ChangeWindowError(f"'{part.strip()}' starts and ends at the same time")
        windows.append(Window(start, length, " ".join(part.split())))
    return ChangeWindows(tuple(windows), zone)


def _minute(day: str, hour: str, minute: str, part: str) -> int:
    index = DAY_INDEX.get(day.lower())
    if index is None:
        raise ChangeWindowError(f"'{day}' in '{part.strip()}' is not a day (Mon, Tue, ... Sun)")
    return index * 24 * 60 + _clock(hour, minute, part)


def _clock(hour: str, minute: str, part: str) -> int:
    h, m = int(hour), int(minute)
    if h > 23:
        raise ChangeWindowError(f"'{hour}:{minute}' in '{part.strip()}' is not a time of day")
    return h * 60 + m


def _minute_of_week(local: datetime) -> int:
    return local.weekday() * 24 * 60 + local.hour * 60 + local.minute


def _next_occurrence(local: datetime, minute_of_week: int, zone: ZoneInfo) -> datetime:
    """The first local wall-clock time at `minute_of_week` at or after `local`, as an aware datetime."""
    ahead = (minute_of_week - _minute_of_week(local)) % MINUTES_PER_WEEK
    naive = local.replace(tzinfo=None) + timedelta(minutes=ahead)
    return resolve_local(naive, zone)


def resolve_local(naive: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in `zone` as an aware datetime; a time skipped by DST moves to the first
    instant after the gap (02:30 on a spring-forward night is 03:00), a repeated one is its first
    occurrence (fold=0)."""
    aware = naive.replace(tzinfo=zone, fold=0)
    if _exists(aware, naive, zone):
        return aware
    probe = naive.replace(second=0, microsecond=0)
    for _ in range(24 * 60):  # bounded: no zone skips more than a day
        probe += timedelta(minutes=1)
        candidate = probe.replace(tzinfo=zone, fold=0)
        if _exists(candidate, probe, zone):
            return candidate
    return aware.astimezone(UTC).astimezone(zone)  # pragma: no cover - no such zone


def _exists(aware: datetime, naive: datetime, zone: ZoneInfo) -> bool:
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive
