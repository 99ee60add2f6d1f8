"""CCERT_CHANGE_WINDOWS and `--at`: weekly windows in the bot's zone, across midnight, the week's
end and daylight-saving changes; every refusal says what is accepted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.change_windows import ChangeWindowError, parse_windows
from bot.domain.schedule_time import ScheduleTimeError, parse_at

PARIS = ZoneInfo("Europe/Paris")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=PARIS)  # type: ignore[misc]


def test_a_window_across_midnight_and_the_next_start() -> None:
    windows = parse_windows("Sat 22:00-Sun 04:00", PARIS)
    assert windows.allows(at(2026, 12, 5, 22, 0)) and windows.allows(at(2026, 12, 6, 3, 59))
    assert not windows.allows(at(2026, 12, 6, 4, 0)) and not windows.allows(at(2026, 12, 5, 21, 59))
    assert windows.next_start(at(2026, 12, 2, 12, 0)) == at(2026, 12, 5, 22, 0)
    assert windows.next_start(at(2026, 12, 6, 4, 0)) == at(2026, 12, 12, 22, 0)
    inside = at(2026, 12, 5, 23, 30)
    assert windows.next_start(inside) == inside


def test_several_windows_the_week_end_and_a_bare_end_time() -> None:
    windows = parse_windows("Sun 23:00-Mon 01:00; wed 01:00-03:00, Fri 22:00-23:30", PARIS)
    assert windows.allows(at(2026, 12, 7, 0, 30))  # Monday after midnight, started Sunday
    assert windows.allows(at(2026, 12, 2, 2, 0)) and windows.allows(at(2026, 12, 4, 23, 0))
    assert windows.starts_after(at(2026, 12, 2, 12, 0), 3) == [
        at(2026, 12, 4, 22, 0),
        at(2026, 12, 6, 23, 0),
        at(2026, 12, 9, 1, 0),
    ]
    bare = parse_windows("Sat 22:00-02:00", PARIS)
    assert bare.allows(at(2026, 12, 6, 1, 0)) and bare.allows(at(2026, 12, 5, 23, 0))
    assert not bare.allows(at(2026, 12, 6, 2, 0)) and not bare.allows(at(2026, 12, 8, 12, 0)), "four hours, not 148"
    assert bare.windows[0].length == 4 * 60
    assert parse_windows("", PARIS).allows(at(2026, 12, 2, 12, 0)) and not parse_windows("").restricted


def test_local_wall_clock_holds_across_daylight_saving() -> None:
    # 2026-03-29: Paris goes from 02:00 to 03:00. A 01:00-03:00 window is still 01:00 local.
    windows = parse_windows("Sun 01:00-03:00", PARIS)
    start = windows.next_start(at(2026, 3, 28, 12, 0))
    assert start.astimezone(PARIS).hour == 1 and start.utcoffset() == timedelta(hours=1)
    assert windows.allows(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))  # 01:30 CET: inside
    assert not windows.allows(datetime(2026, 3, 29, 1, 30, tzinfo=UTC))  # 03:30 CEST: the window is over


@pytest.mark.parametrize(
    "text", ["Sat 22:00", "Sat 25:00-Sun 01:00", "Caturday 22:00-Sun 01:00", "Sat 22:00-Sat 22:00", "22-23"]
)
def test_bad_windows_are_refused_with_the_shape(text: str) -> None:
    with pytest.raises(ChangeWindowError) as refused:
        parse_windows(text, PARIS)
    assert "Sat" in str(refused.value) or "day" in str(refused.value) or "same time" in str(refused.value)


@given(minutes=st.integers(min_value=0, max_value=60 * 24 * 21))
def test_next_start_is_allowed_and_nothing_allowed_is_skipped(minutes: int) -> None:
    windows = parse_windows("Sat 22:00-Sun 04:00, Wed 01:00-03:00", PARIS)
    moment = at(2026, 11, 30, 0, 0) + timedelta(minutes=minutes)
    start = windows.next_start(moment)
    assert start >= moment and windows.allows(start)
    probe = moment
    while probe < start:  # every whole minute before the next start is outside the windows
        assert not windows.allows(probe)
        probe += timedelta(minutes=17)


def test_at_forms_in_the_bot_zone() -> None:
    now = at(2026, 12, 2, 12, 0)  # a Wednesday
    assert parse_at("22:00", now, PARIS) == at(2026, 12, 2, 22, 0)
    assert parse_at("09:30", now, PARIS) == at(2026, 12, 3, 9, 30)
    assert parse_at("Sat 22:00", now, PARIS) == at(2026, 12, 5, 22, 0)
    assert parse_at("wednesday 11:00", now, PARIS) == at(2026, 12, 9, 11, 0)
    assert parse_at("2026-12-05 22:00", now, PARIS) == at(2026, 12, 5, 22, 0)
    assert parse_at("2026-12-05T22:00", now, PARIS) == at(2026, 12, 5, 22, 0)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2026-12-01 22:00", "in the past"),
        ("2027-03-01 22:00", "more than 30 days"),
        ("2026-02-30 22:00", "not a date"),
        ("Caturday 22:00", "not a day"),
        ("25:00", "not a time"),
        ("tonight", "not a time I read"),
    ],
)
def test_bad_at_times_say_what_is_accepted(text: str, why: str) -> None:
    with pytest.raises(ScheduleTimeError, match=why):
        parse_at(text, at(2026, 12, 2, 12, 0), PARIS)


def test_a_window_starting_in_a_spring_forward_gap_starts_when_the_clock_resumes() -> None:
    # 2026-03-29 in Paris: 02:00 → 03:00. A window Sun 02:30-03:15 exists only from 03:00 that night.
    windows = parse_windows("Sun 02:30-03:15", PARIS)
    start = windows.next_start(at(2026, 3, 28, 12, 0))
    assert start == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST
    assert windows.allows(start) and windows.starts_after(at(2026, 3, 28, 12, 0), 1) == [start]
