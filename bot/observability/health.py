"""The `/healthz` rules, as a pure function of plain facts.

A load balancer or an orchestrator restarts what answers 503, so the rules name only
conditions a restart can fix or a person must see: the event loop stalled, the scheduler
gone (no more checks, no more alerts), the store not answering, or no fleet check finished
for too long. A check that finds controllers unreachable is *not* unhealthy: the bot is
doing its job, and the alerts say so.

"Too long" is `STALE_AFTER_INTERVALS` check intervals since the last check finished, or
since start-up before the first one: long enough that one slow or overrunning check (the
scheduler coalesces, never doubles) does not flap the endpoint, short enough that a hung
check is noticed within the hour at the default 15-minute interval.

Pure: the caller gathers the facts (see `bot.observability.observer`), so each reason can
be unit tested without a loop, a scheduler or a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

STALE_AFTER_INTERVALS = 3
# A loop that could not run a 1-second heartbeat for this long also missed Slack's 3-second ack.
MAX_LOOP_LAG_SECONDS = 5.0


class SchedulerState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    NOT_STARTED = "not started"


@dataclass(frozen=True)
class HealthFacts:
    """What `/healthz` judges. `store_error` is None when the store answered; `loop_lag` is
    how late the event-loop heartbeat is in seconds, None when the heartbeat is not running."""

    now: datetime
    started_at: datetime
    check_interval: timedelta
    last_check_at: datetime | None
    scheduler: SchedulerState
    fleet_check_scheduled: bool
    store_error: str | None
    loop_lag: float | None
    # Active/standby: a standby runs no scheduler and no checks (the leader does), so those
    # rules are the leader's only; `lead` is what the report says about who leads.
    leading: bool = True
    lead: dict[str, Any] | None = None


@dataclass(frozen=True)
class HealthReport:
    reasons: tuple[str, ...] = ()
    last_check_at: datetime | None = None
    lead: dict[str, Any] | None = None

    @property
    def healthy(self) -> bool:
        return not self.reasons

    @property
    def status_code(self) -> int:
        return 200 if self.healthy else 503

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "ok" if self.healthy else "unhealthy",
            "reasons": list(self.reasons),
            "last_check_at": self.last_check_at.isoformat() if self.last_check_at else None,
        }
        if self.lead is not None:
            body["leader"] = self.lead
        return body


def _minutes(value: timedelta) -> str:
    return f"{value.total_seconds() / 60:.1f} min"


def evaluate_health(facts: HealthFacts, *, max_loop_lag: float = MAX_LOOP_LAG_SECONDS) -> HealthReport:
    """Every reason the bot is unhealthy (none: healthy), in a stable order."""
    reasons: list[str] = []
    if facts.loop_lag is None:
        reasons.append("event loop heartbeat is not running")
    elif facts.loop_lag > max_loop_lag:
        reasons.append(f"event loop was blocked for {facts.loop_lag:.1f}s (limit {max_loop_lag:g}s)")

    if not facts.leading:
        if facts.store_error is not None:
            reasons.append(f"store is not answering: {facts.store_error}")
        return HealthReport(tuple(reasons), facts.last_check_at, facts.lead)
    if facts.scheduler is SchedulerState.PAUSED:
        reasons.append("scheduler is paused")
    elif facts.scheduler is not SchedulerState.RUNNING:
        reasons.append("scheduler is not running")
    elif not facts.fleet_check_scheduled:
        reasons.append("the fleet check job is not scheduled")

    if facts.store_error is not None:
        reasons.append(f"store is not answering: {facts.store_error}")

    limit = facts.check_interval * STALE_AFTER_INTERVALS
    since = facts.last_check_at or facts.started_at
    age = facts.now - since
    if age >= limit:
        allowed = f"limit {_minutes(limit)}: {STALE_AFTER_INTERVALS} check intervals"
        if facts.last_check_at is None:
            reasons.append(f"no fleet check has finished since start-up {_minutes(age)} ago ({allowed})")
        else:
            reasons.append(f"the last fleet check finished {_minutes(age)} ago ({allowed})")
    return HealthReport(tuple(reasons), facts.last_check_at, facts.lead)
