"""APScheduler inside the bot's one asyncio loop.

`max_instances=1` + `coalesce=True`: a slow check never runs twice at once
and missed runs collapse into one; the skipped start is logged (and the check
that overran records it), so an overrun is reported, not duplicated.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, JobExecutionEvent, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.settings import Settings

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]

FLEET_CHECK = "fleet_check"
DAILY_DIGEST = "daily_digest"
HOUSEKEEPING = "housekeeping"
EXPIRE_REQUESTS = "expire_requests"


def build_scheduler(
    settings: Settings,
    *,
    fleet_check: Job,
    digest: Job | None = None,
    housekeeping: Job | None = None,
    expire_requests: Job | None = None,
    first_check_at: datetime | None = None,
) -> AsyncIOScheduler:
    """The jobs from settings; the first fleet check runs right after start-up."""
    scheduler = AsyncIOScheduler(timezone=settings.zone)
    interval = timedelta(minutes=settings.check_interval_minutes)
    scheduler.add_job(
        fleet_check,
        IntervalTrigger(seconds=interval.total_seconds(), timezone=settings.zone),
        id=FLEET_CHECK,
        name="fleet check",
        next_run_time=first_check_at or datetime.now(UTC),
        max_instances=1,
        coalesce=True,
        misfire_grace_time=max(1, int(interval.total_seconds())),
    )
    if digest is not None:
        hour, minute = (int(part) for part in settings.digest_time.split(":"))
        scheduler.add_job(
            digest,
            CronTrigger(hour=hour, minute=minute, timezone=settings.zone),
            id=DAILY_DIGEST,
            name="daily digest",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
        )
    if housekeeping is not None:
        scheduler.add_job(
            housekeeping,
            CronTrigger(hour=3, minute=17, timezone=settings.zone),
            id=HOUSEKEEPING,
            name="housekeeping",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=6 * 3600,
        )

    if expire_requests is not None:
        scheduler.add_job(
            expire_requests,
            IntervalTrigger(minutes=1, timezone=settings.zone),
            id=EXPIRE_REQUESTS,
            name="expire remediation requests",
            max_instances=1,
            coalesce=True,
        )

    def on_event(event: JobSubmissionEvent | JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("job %s is still running: this start was skipped, not duplicated", event.job_id)
        elif event.code == EVENT_JOB_ERROR:
            log.error("job %s failed: %s", event.job_id, type(getattr(event, "exception", None)).__name__)

    scheduler.add_listener(on_event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)
    return scheduler
