"""`Observability`: what the `Runtime` owns to be watched from outside.

It is the one object the edges talk to: the fleet checker reports to it (it is a
`CheckRecorder`), the HTTP handlers ask it for a health report and a metrics body, and it
hooks the Slack API error counter onto whatever posts to Slack. It reads the scheduler and
the syslog listener through callables, because the `Runtime` creates those only at start.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING, BaseScheduler

from bot.jobs.leadership import LeaderView
from bot.jobs.scheduler import FLEET_CHECK
from bot.observability.health import HealthFacts, HealthReport, SchedulerState, evaluate_health
from bot.observability.heartbeat import LoopHeartbeat
from bot.observability.metrics import Metrics, SyslogSource
from bot.store import Store, outbox
from bot.store.sql import DatabaseError

if TYPE_CHECKING:
    from bot.jobs.checks import CheckOutcome

log = logging.getLogger(__name__)

# A store read that takes longer than this is as good as no answer for a health probe
# (reads use their own WAL connection, so a long check being recorded does not delay them).
STORE_PING_TIMEOUT_SECONDS = 5.0

SchedulerSource = Callable[[], BaseScheduler | None]

_NUMBERS = re.compile(r"\d+(?:\.\d+)?")


@runtime_checkable
class ReportsApiErrors(Protocol):
    """Anything that posts to Slack and offers an `api_errors` hook (`SlackNotifier`, `Messenger`)."""

    api_errors: Callable[[str], None]


def _lead_dict(lead: LeaderView) -> dict[str, object]:
    return {
        "instance": lead.instance,
        "leading": lead.leading,
        "leader": lead.leader,
        "backend": "postgresql" if lead.shared else "sqlite",
        # When this instance took the lead (or last lost it): an operator reading two /healthz
        # answers sees which took over when; the failover test compares it with the device's log.
        "since": lead.since.isoformat() if lead.since is not None else None,
    }


def utcnow() -> datetime:
    return datetime.now(UTC)


def scheduler_state(scheduler: BaseScheduler | None) -> tuple[SchedulerState, bool]:
    """The scheduler's state and whether the fleet check job is in it."""
    if scheduler is None:
        return SchedulerState.NOT_STARTED, False
    state = {STATE_RUNNING: SchedulerState.RUNNING, STATE_PAUSED: SchedulerState.PAUSED}.get(
        scheduler.state, SchedulerState.STOPPED
    )
    return state, scheduler.get_job(FLEET_CHECK) is not None


class Observability:
    """Health facts and metrics for one running bot."""

    def __init__(
        self,
        store: Store,
        check_interval: timedelta,
        *,
        scheduler: SchedulerSource = lambda: None,
        syslog: SyslogSource = lambda: None,
        clock: Callable[[], datetime] = utcnow,
        heartbeat: LoopHeartbeat | None = None,
        leadership: Callable[[], LeaderView] | None = None,
    ) -> None:
        self.store = store
        self.leadership = leadership
        self.check_interval = check_interval
        self.scheduler = scheduler
        self.clock = clock
        self.metrics = Metrics(syslog=syslog)
        self.heartbeat = heartbeat or LoopHeartbeat()
        self.started_at = clock()
        self.last_check_at: datetime | None = None
        self._last_reasons: tuple[str, ...] = ()  # their wording without numbers, to log changes once

    # --- lifecycle (the Runtime's) ---------------------------------------------------------------

    def start(self) -> None:
        """Start-up time for the first-check allowance, and the loop heartbeat."""
        self.started_at = self.clock()
        self.heartbeat.start()

    async def stop(self) -> None:
        await self.heartbeat.stop()

    # --- CheckRecorder ---------------------------------------------------------------------------

    def check_finished(self, outcome: CheckOutcome) -> None:
        self.last_check_at = self.clock()
        self.metrics.check_finished(outcome)

    def alert_posted(self) -> None:
        self.metrics.alert_posted()

    # --- hooks -----------------------------------------------------------------------------------

    def watch_slack_errors(self, poster: object) -> None:
        """Count failed Web API calls of `poster` by method, if it offers the hook (else nothing)."""
        if isinstance(poster, ReportsApiErrors):
            poster.api_errors = self.metrics.slack_api_error

    # --- what the HTTP handlers ask --------------------------------------------------------------

    async def health(self) -> HealthReport:
        state, scheduled = scheduler_state(self.scheduler())
        lead = self.leadership() if self.leadership is not None else None
        started = self.started_at
        if lead is not None and lead.leading and lead.since is not None:
            started = max(started, lead.since)  # a new leader gets the first-check allowance anew
        facts = HealthFacts(
            leading=lead.leading if lead is not None else True,
            lead=_lead_dict(lead) if lead is not None else None,
            now=self.clock(),
            started_at=started,
            check_interval=self.check_interval,
            last_check_at=self.last_check_at,
            scheduler=state,
            fleet_check_scheduled=scheduled,
            store_error=await self._store_error(),
            loop_lag=self.heartbeat.lag(),
        )
        report = evaluate_health(facts)
        shape = tuple(_NUMBERS.sub("#", reason) for reason in report.reasons)
        if shape != self._last_reasons:  # a probe every few seconds must not log every time
            if report.healthy:
                log.info("healthy again")
            else:
                log.warning("unhealthy: %s", "; ".join(report.reasons))
            self._last_reasons = shape
        return report

    async def _store_error(self) -> str | None:
        try:
            await asyncio.wait_for(self.store.ping(), STORE_PING_TIMEOUT_SECONDS)
        except TimeoutError:
            return f"no answer within {STORE_PING_TIMEOUT_SECONDS:g}s"
        except DatabaseError as error:
            return f"{type(error).__name__}: {str(error)[:120]}"
        except Exception as error:  # health must answer whatever broke
            return type(error).__name__
        return None

    async def scrape(self) -> bytes:
        """The `/metrics` body, with the outbox gauge read from the store just now."""
        try:
            pending = await asyncio.wait_for(self.store.read(outbox.outbox_pending), STORE_PING_TIMEOUT_SECONDS)
        except Exception as error:  # keep serving the other metrics; /healthz reports the store
            log.warning("metrics: could not count the outbox: %s", type(error).__name__)
        else:
            self.metrics.set_outbox_pending(pending)
        return self.metrics.render()
