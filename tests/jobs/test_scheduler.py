"""The scheduler runs the first check at once and never piles up a slow one."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from bot.jobs.scheduler import DAILY_DIGEST, FLEET_CHECK, HOUSEKEEPING, build_scheduler
from bot.settings import load_settings


async def test_first_check_runs_at_start_and_a_slow_check_is_not_duplicated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = load_settings(check_interval_minutes=0.005)  # 0.3 s
    running = 0
    peak = 0
    started: list[float] = []
    loop = asyncio.get_running_loop()

    async def slow_check() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        started.append(loop.time())
        await asyncio.sleep(1.0)  # more than three intervals
        running -= 1

    begin = loop.time()
    scheduler = build_scheduler(settings, fleet_check=slow_check)
    with caplog.at_level(logging.WARNING, logger="bot.jobs.scheduler"):
        scheduler.start()
        try:
            await asyncio.sleep(2.3)
        finally:
            scheduler.shutdown(wait=False)
    assert started and started[0] - begin < 0.3, "the first check runs right after start-up"
    assert peak == 1, "never two checks at once"
    assert 2 <= len(started) <= 3, "overrun starts were skipped, not queued"
    assert any("skipped, not duplicated" in r.message for r in caplog.records)


def test_jobs_follow_the_settings() -> None:
    settings = load_settings(check_interval_minutes=15, digest_time="07:45", timezone="Europe/Paris")

    async def job() -> None:
        return None

    scheduler = build_scheduler(settings, fleet_check=job, digest=job, housekeeping=job)
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {FLEET_CHECK, DAILY_DIGEST, HOUSEKEEPING}
    assert jobs[FLEET_CHECK].trigger.interval.total_seconds() == 900
    assert jobs[FLEET_CHECK].max_instances == 1 and jobs[FLEET_CHECK].coalesce
    digest = jobs[DAILY_DIGEST].trigger
    assert str(digest.timezone) == "Europe/Paris"
    fields = {f.name: str(f) for f in digest.fields}
    assert fields["hour"] == "7" and fields["minute"] == "45"


def loud_records(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What would reach stderr in the console, which configures no logging: WARNING and up, from anyone."""
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_check_cancelled_by_shutdown_ends_quietly(caplog: pytest.LogCaptureFixture) -> None:
    """Ctrl-C during the start-up check: the check stops, with no traceback and no "job failed"."""
    running = asyncio.Event()
    cleaned_up = asyncio.Event()

    async def check() -> None:
        running.set()
        try:
            await asyncio.sleep(60)  # waiting on SSH
        finally:
            cleaned_up.set()

    scheduler = build_scheduler(load_settings(), fleet_check=check)
    with caplog.at_level(logging.DEBUG):
        scheduler.start()
        await asyncio.wait_for(running.wait(), timeout=5)
        scheduler.shutdown(wait=False)
        await asyncio.wait_for(cleaned_up.wait(), timeout=5)
        await asyncio.sleep(0.05)  # the executor's done-callback and the events it dispatches
    assert loud_records(caplog) == []
    assert not any(r.exc_info for r in caplog.records), "no traceback, at any level"
    quiet = [r for r in caplog.records if r.name == "bot.jobs.scheduler"]
    assert [(r.levelno, r.getMessage()) for r in quiet] == [
        (logging.INFO, f"job {FLEET_CHECK} was cancelled: the bot is stopping")
    ]


async def test_a_check_cancelled_before_it_started_ends_quietly(caplog: pytest.LogCaptureFixture) -> None:
    """Shutdown in the very loop turn the first check is submitted: its task never runs a step."""
    started: list[bool] = []

    async def check() -> None:
        started.append(True)

    scheduler = build_scheduler(load_settings(), fleet_check=check)
    with caplog.at_level(logging.DEBUG):
        scheduler.start()  # both are deferred to the loop: the submission, then the shutdown
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0.1)
    assert started == []
    assert loud_records(caplog) == []
    assert any("cancelled before it started" in r.getMessage() for r in caplog.records)


async def test_a_failing_job_is_still_reported(caplog: pytest.LogCaptureFixture) -> None:
    """The quiet cancel must not hide real failures, even one that is itself a CancelledError."""
    calls: list[str] = []

    async def broken_check() -> None:
        calls.append("check")
        raise RuntimeError("inventory vanished")

    async def broken_digest() -> None:
        calls.append("digest")
        future = asyncio.get_running_loop().create_future()
        future.cancel()
        await future  # a CancelledError nobody asked this job for

    scheduler = build_scheduler(load_settings(), fleet_check=broken_check, digest=broken_digest)
    scheduler.get_job(DAILY_DIGEST).modify(next_run_time=datetime.now(UTC))
    with caplog.at_level(logging.DEBUG):
        scheduler.start()
        try:
            for _ in range(50):
                if len([r for r in caplog.records if r.name == "bot.jobs.scheduler"]) >= 2:
                    break
                await asyncio.sleep(0.02)
        finally:
            scheduler.shutdown(wait=False)
    assert sorted(calls) == ["check", "digest"]
    failed = sorted(r.getMessage() for r in caplog.records if r.name == "bot.jobs.scheduler")
    assert failed == [f"job {DAILY_DIGEST} failed: CancelledError", f"job {FLEET_CHECK} failed: RuntimeError"]
