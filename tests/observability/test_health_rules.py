"""The /healthz rules as a pure function: healthy, each 503 reason alone, and the staleness edges."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.observability.health import (
    STALE_AFTER_INTERVALS,
    HealthFacts,
    SchedulerState,
    evaluate_health,
)

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=15)


def healthy_facts(**changes: object) -> HealthFacts:
    facts = HealthFacts(
        now=START + timedelta(hours=2),
        started_at=START,
        check_interval=INTERVAL,
        last_check_at=START + timedelta(hours=2) - INTERVAL,
        scheduler=SchedulerState.RUNNING,
        fleet_check_scheduled=True,
        store_error=None,
        loop_lag=0.01,
    )
    return replace(facts, **changes)  # type: ignore[arg-type]


def test_all_alive_and_a_recent_check_is_healthy() -> None:
    report = evaluate_health(healthy_facts())
    assert report.healthy and report.status_code == 200
    assert report.to_dict() == {
        "status": "ok",
        "reasons": [],
        "last_check_at": (START + timedelta(hours=2) - INTERVAL).isoformat(),
    }


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"scheduler": SchedulerState.STOPPED}, "scheduler is not running"),
        ({"scheduler": SchedulerState.NOT_STARTED}, "scheduler is not running"),
        ({"scheduler": SchedulerState.PAUSED}, "scheduler is paused"),
        ({"fleet_check_scheduled": False}, "the fleet check job is not scheduled"),
        (
            {"store_error": "ProgrammingError: Cannot operate on a closed database."},
            "store is not answering: ProgrammingError: Cannot operate on a closed database.",
        ),
        ({"loop_lag": None}, "event loop heartbeat is not running"),
        ({"loop_lag": 7.31}, "event loop was blocked for 7.3s (limit 5s)"),
        (
            {"last_check_at": START + timedelta(hours=2) - 3 * INTERVAL},
            "the last fleet check finished 45.0 min ago (limit 45.0 min: 3 check intervals)",
        ),
        (
            {"last_check_at": None},
            "no fleet check has finished since start-up 120.0 min ago (limit 45.0 min: 3 check intervals)",
        ),
    ],
)
def test_each_reason_alone_makes_it_503(changes: dict[str, object], reason: str) -> None:
    report = evaluate_health(healthy_facts(**changes))
    assert not report.healthy and report.status_code == 503
    assert report.reasons == (reason,)
    assert report.to_dict()["status"] == "unhealthy"


def test_a_stopped_scheduler_is_not_also_blamed_for_a_missing_job() -> None:
    report = evaluate_health(healthy_facts(scheduler=SchedulerState.STOPPED, fleet_check_scheduled=False))
    assert report.reasons == ("scheduler is not running",)


def test_every_reason_is_listed_in_a_stable_order() -> None:
    report = evaluate_health(
        healthy_facts(scheduler=SchedulerState.STOPPED, store_error="TimeoutError", loop_lag=None, last_check_at=None)
    )
    assert [r.split(" ")[0:2] for r in report.reasons] == [
        ["event", "loop"],
        ["scheduler", "is"],
        ["store", "is"],
        ["no", "fleet"],
    ]


def test_before_the_first_check_start_up_gets_three_intervals() -> None:
    limit = STALE_AFTER_INTERVALS * INTERVAL
    just_started = healthy_facts(last_check_at=None, now=START + limit - timedelta(seconds=1))
    assert evaluate_health(just_started).healthy
    too_long = healthy_facts(last_check_at=None, now=START + limit)
    assert not evaluate_health(too_long).healthy


def test_a_check_just_younger_than_three_intervals_is_fine_and_the_interval_comes_from_the_facts() -> None:
    now = START + timedelta(hours=5)
    assert evaluate_health(healthy_facts(now=now, last_check_at=now - 3 * INTERVAL + timedelta(seconds=1))).healthy
    # a 1-minute interval makes a 4-minute-old check stale
    short = healthy_facts(now=now, last_check_at=now - timedelta(minutes=4), check_interval=timedelta(minutes=1))
    assert evaluate_health(short).reasons == (
        "the last fleet check finished 4.0 min ago (limit 3.0 min: 3 check intervals)",
    )


def test_a_recent_check_counts_even_long_after_start_up() -> None:
    # start-up only matters before the first check
    facts = healthy_facts(now=START + timedelta(days=3), last_check_at=START + timedelta(days=3, minutes=-1))
    assert evaluate_health(facts).healthy


def test_loop_lag_at_the_limit_is_still_healthy() -> None:
    assert evaluate_health(healthy_facts(loop_lag=5.0)).healthy
    assert evaluate_health(healthy_facts(loop_lag=0.5), max_loop_lag=0.4).reasons == (
        "event loop was blocked for 0.5s (limit 0.4s)",
    )
