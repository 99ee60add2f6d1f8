"""APScheduler inside the bot's one asyncio loop.

`max_instances=1` + `coalesce=True`: a slow check never runs twice at once
and missed runs collapse into one; the skipped start is logged (and the check
that overran records it), so an overrun is reported, not duplicated.

Housekeeping (pruning past `CCERT_RETENTION_DAYS`, then handing the space back)
runs every day at 03:17 in `CCERT_TIMEZONE`, and once `HOUSEKEEPING_AFTER_START`
after start-up: the schedule lives in memory, so a bot restarted more often than
daily (deploys, a crash loop, a laptop console) would otherwise never be up at
03:17 and never prune. Pruning what is already pruned costs next to nothing.

A job cancelled because the bot is stopping (Ctrl-C during the start-up
check) is a normal end, not a failure: APScheduler would log it with a
traceback and dispatch EVENT_JOB_ERROR, so here it ends with one INFO line and
the error listener keeps meaning "a job failed".
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, JobExecutionEvent, JobSubmissionEvent
from apscheduler.executors.asyncio import AsyncIOExecutor
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

HOUSEKEEPING_HOUR, HOUSEKEEPING_MINUTE = 3, 17  # a quiet hour; still fires on DST days (tested)
HOUSEKEEPING_AFTER_START = timedelta(minutes=10)  # after the start-up check, not beside it


class ShutdownAwareExecutor(AsyncIOExecutor):
    """The asyncio executor, except that a job cancelled before its first step is not an error.

    Shutdown cancels the executor's pending tasks; a job submitted in the same
    loop turn never starts, so `stops_quietly` cannot see it and the base class
    would log "Error running job" with a traceback.
    """

    def _run_job_error(self, job_id: str, exc: BaseException, traceback: TracebackType | None = None) -> None:
        if isinstance(exc, asyncio.CancelledError):
            log.info("job %s was cancelled before it started: the bot is stopping", job_id)
            self._run_job_success(job_id, [])  # the base class's bookkeeping of running instances, no event
            return
        super()._run_job_error(job_id, exc, traceback)


def stops_quietly(job: Job, job_id: str) -> Job:
    """`job`, ending quietly when its own task is cancelled (shutdown) instead of raising into APScheduler.

    Only a cancellation of the task running the job is swallowed (and
    uncancelled, as asyncio asks of code that swallows one); a CancelledError
    the job raises on its own, with no cancel pending, is a real failure and
    goes on to APScheduler and the error listener.
    """

    @functools.wraps(job)
    async def run() -> object:
        try:
            return await job()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is None or task.cancelling() == 0:
                raise
            task.uncancel()
            log.info("job %s was cancelled: the bot is stopping", job_id)
            return None

    return run


def build_scheduler(
    settings: Settings,
    *,
    fleet_check: Job,
    digest: Job | None = None,
    housekeeping: Job | None = None,
    expire_requests: Job | None = None,
    first_check_at: datetime | None = None,
) -> AsyncIOScheduler:
    """The jobs from settings; the first fleet check runs right after start-up, the first
    housekeeping `HOUSEKEEPING_AFTER_START` later, then daily."""
    scheduler = AsyncIOScheduler(timezone=settings.zone, executors={"default": ShutdownAwareExecutor()})
    interval = timedelta(minutes=settings.check_interval_minutes)
    started = first_check_at or datetime.now(UTC)
    scheduler.add_job(
        stops_quietly(fleet_check, FLEET_CHECK),
        IntervalTrigger(seconds=interval.total_seconds(), timezone=settings.zone),
        id=FLEET_CHECK,
        name="fleet check",
        next_run_time=started,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=max(1, int(interval.total_seconds())),
    )
    if digest is not None:
        hour, minute = (int(part) for part in settings.digest_time.split(":"))
        scheduler.add_job(
            stops_quietly(digest, DAILY_DIGEST),
            CronTrigger(hour=hour, minute=minute, timezone=settings.zone),
            id=DAILY_DIGEST,
            name="daily digest",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
        )
    if housekeeping is not None:
        scheduler.add_job(
            stops_quietly(housekeeping, HOUSEKEEPING),
            CronTrigger(hour=HOUSEKEEPING_HOUR, minute=HOUSEKEEPING_MINUTE, timezone=settings.zone),
            id=HOUSEKEEPING,
            name="housekeeping",
            next_run_time=started + HOUSEKEEPING_AFTER_START,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=6 * 3600,
        )

    if expire_requests is not None:
        scheduler.add_job(
            stops_quietly(expire_requests, EXPIRE_REQUESTS),
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
