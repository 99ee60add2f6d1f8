"""Turning the controllers' many date formats into datetimes.

The time-back decision compares the controller clock with certificate
windows, so dates must be read exactly, and a zone we cannot name must stay
naive rather than be guessed (a guessed UTC would silently shift the window).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

MONTHS: dict[str, int] = {
    name: index
    for index, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}

# Zone abbreviations with one unambiguous meaning. IST, BST, CST-as-China and
# friends are deliberately absent: an ambiguous name stays naive.
_FIXED_ZONES: dict[str, float] = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "WET": 0,
    "WEST": 1,
    "CET": 1,
    "CEST": 2,
    "MET": 1,
    "MEST": 2,
    "EET": 2,
    "EEST": 3,
    "MSK": 3,
    "EST": -5,
    "EDT": -4,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
    "AKST": -9,
    "AKDT": -8,
    "HST": -10,
    "JST": 9,
    "KST": 9,
    "HKT": 8,
    "SGT": 8,
    "AEST": 10,
    "AEDT": 11,
    "ACST": 9.5,
    "ACDT": 10.5,
    "AWST": 8,
    "NZST": 12,
    "NZDT": 13,
}
# CST is US Central on Cisco gear far more often than China Standard Time;
# kept separately so the choice is visible and easy to change.
_FIXED_ZONES["CST"] = -6


def zone_for(name: str | None) -> tzinfo | None:
    """tzinfo for a zone abbreviation we know, else None (stay naive)."""
    if not name:
        return None
    offset = _FIXED_ZONES.get(name.upper())
    if offset is None:
        return None
    if offset == 0:
        return UTC
    return timezone(timedelta(hours=offset), name.upper())


def month_number(token: str) -> int | None:
    return MONTHS.get(token[:3].lower()) if len(token) >= 3 else None


# `18:56:04.554 EST Mon Oct 17 2016`, `00:35:53 UTC Jul 19 2016`,
# `*10:22:10.625 UTC Thu May 23 2024` (prefix handled by the caller).
_IOS_DT_RE = re.compile(
    r"(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<frac>\d{1,6}))?\s+"
    r"(?P<tz>[A-Za-z][\w+\-]*)\s+(?:(?P<dow>[A-Za-z]{3})\s+)?(?P<mon>[A-Za-z]{3})\s+"
    r"(?P<day>\d{1,2})\s+(?P<year>\d{4})"
)


def parse_ios_datetime(text: str) -> tuple[datetime, str] | None:
    """IOS `HH:MM:SS[.mmm] ZONE [Dow] Mon D YYYY` → (datetime, zone name).

    tz-aware when the zone is known, naive otherwise.
    """
    m = _IOS_DT_RE.search(text)
    if not m:
        return None
    month = month_number(m.group("mon"))
    if month is None:
        return None
    frac = m.group("frac") or "0"
    micro = int(frac.ljust(6, "0")[:6])
    zone = m.group("tz")
    try:
        value = datetime(
            int(m.group("year")),
            month,
            int(m.group("day")),
            int(m.group("h")),
            int(m.group("m")),
            int(m.group("s")),
            micro,
            tzinfo=zone_for(zone),
        )
    except ValueError:
        return None
    return value, zone


# AireOS `show time`: `Tue Dec 22 11:02:42 2020`, `Fri Dec  2 00:00:02 2022`.
_CTIME_RE = re.compile(
    r"(?:[A-Za-z]{3}\s+)?(?P<mon>[A-Za-z]{3})\s+(?P<day>\d{1,2})\s+"
    r"(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})\s+(?P<year>\d{4})"
)


def parse_ctime(text: str) -> datetime | None:
    """C `ctime()` style date (what AireOS prints) → naive datetime."""
    m = _CTIME_RE.search(text)
    if not m:
        return None
    month = month_number(m.group("mon"))
    if month is None:
        return None
    try:
        return datetime(
            int(m.group("year")),
            month,
            int(m.group("day")),
            int(m.group("h")),
            int(m.group("m")),
            int(m.group("s")),
        )
    except ValueError:
        return None


_TIME_RE = re.compile(r"(?<![\d:])(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?(?:\.\d+)?(?![\d:])")
_YEAR_RE = re.compile(r"(?<!\d)(?P<year>(?:19|20|21)\d{2})(?!\d)")
_DAY_RE = re.compile(r"(?<![\d:.])(?P<day>\d{1,2})(?:st|nd|rd|th)?(?![\d:])", re.IGNORECASE)
_ISO_RE = re.compile(r"(?P<year>\d{4})-(?P<mon>\d{2})-(?P<day>\d{2})[T ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?")
_NUMERIC_US_RE = re.compile(
    r"(?P<mon>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})\s+(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?"
)
_ZONE_TOKEN_RE = re.compile(r"\b(?P<tz>[A-Z]{1,5})\b")


def parse_loose_datetime(text: str) -> datetime | None:
    """Lenient reader for certificate dates whose format varies by release.

    Accepts e.g. `2016 Apr 29th, 01:58:37 GMT` (AireOS), `Oct 4 05:05:04 2015
    GMT` (AireOS, OpenSSL style), `00:35:53 UTC Jul 19 2016` (IOS),
    `2016-04-29 01:58:37`, `04/29/2016 01:58:37`. A known zone makes the
    result tz-aware; no zone or an unknown one leaves it naive.
    """
    text = text.strip()
    if not text:
        return None
    ios = parse_ios_datetime(text)
    if ios is not None:
        return ios[0]

    zone = None
    for zm in _ZONE_TOKEN_RE.finditer(text):
        if zone_for(zm.group("tz")) is not None:
            zone = zone_for(zm.group("tz"))
            break

    for regex in (_ISO_RE, _NUMERIC_US_RE):
        m = regex.search(text)
        if m:
            try:
                return datetime(
                    int(m.group("year")),
                    int(m.group("mon")),
                    int(m.group("day")),
                    int(m.group("h")),
                    int(m.group("m")),
                    int(m.group("s") or 0),
                    tzinfo=zone,
                )
            except ValueError:
                return None

    month = None
    for word in re.finditer(r"[A-Za-z]+", text):
        candidate = word.group().lower()
        if candidate in _MONTH_WORDS:
            month = _MONTH_WORDS[candidate]
            break
    if month is None:
        return None

    # A date without a time of day is read as midnight: for a validity
    # window that errs by less than a day and is far better than nothing.
    time_m = _TIME_RE.search(text)
    hour, minute, second = 0, 0, 0
    rest = text
    if time_m:
        hour, minute = int(time_m.group("h")), int(time_m.group("m"))
        second = int(time_m.group("s") or 0)
        rest = text[: time_m.start()] + " " * (time_m.end() - time_m.start()) + text[time_m.end() :]
    year_m = _YEAR_RE.search(rest)
    if not year_m:
        return None
    rest = rest[: year_m.start()] + " " * 4 + rest[year_m.end() :]
    day_m = _DAY_RE.search(rest)
    if not day_m:
        return None
    try:
        return datetime(
            int(year_m.group("year")),
            month,
            int(day_m.group("day")),
            hour,
            minute,
            second,
            tzinfo=zone,
        )
    except ValueError:
        return None


_FULL_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH_WORDS: dict[str, int] = {
    **MONTHS,
    **{name: index for index, name in enumerate(_FULL_MONTHS, start=1)},
    "sept": 9,
}


_UPTIME_PART_RE = re.compile(
    r"(?P<n>\d+)\s*(?P<unit>years?|yrs?|weeks?|wks?|days?|hours?|hrs?|minutes?|mins?|seconds?|secs?)\b",
    re.IGNORECASE,
)
_UPTIME_SECONDS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_uptime(text: str | None) -> timedelta | None:
    """`4 weeks, 6 days, 21 hours, 48 minutes` (IOS-XE) or `109 days 16 hrs 33 mins 12 secs`
    (AireOS) as a duration; None when no part can be read.

    Only used to notice a reload between checks (the boot time it implies moves), so a year
    counts 365 days: the error is the same on every check.
    """
    if not text:
        return None
    parts = list(_UPTIME_PART_RE.finditer(text))
    if not parts:
        return None
    return timedelta(seconds=sum(int(m.group("n")) * _UPTIME_SECONDS[m.group("unit")[0].lower()] for m in parts))
