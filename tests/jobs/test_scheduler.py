"""The scheduler runs the first check at once and never piles up a slow one."""

from __future__ import annotations

import asyncio
import logging

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
