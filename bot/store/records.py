"""Typed values the store takes and returns.

Everything a query returns is one of these frozen dataclasses (never a raw
row), with bot timestamps as tz-aware UTC datetimes and JSON columns decoded.
Device times (controller clock, certificate window) keep the naivety they
were recorded with; see `bot.store.codec`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from bot.domain.advisory import FixState
from bot.domain.alerts import AlertKind  # one definition: the rules and the store agree
from bot.domain.models import (
    AccessPoint,
    CertificateWindow,
    ClockReading,
    ControllerSnapshot,
    NtpServer,
    Platform,
    SnapshotError,
)
from bot.domain.verdict import VerdictStatus, worst_status


class NotFoundError(LookupError):
    """No row with that id."""


class StateError(ValueError):
    """The row is not in a state that allows this change (resolving a resolved alert, ...)."""


class CheckTrigger(StrEnum):
    STARTUP = "startup"
    SCHEDULED = "scheduled"
    MANUAL = "manual"


class AlertStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Delivery(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class EventKind(StrEnum):
    THREAD_NOTE = "thread_note"
    UPDATE_MESSAGE = "update_message"
    RESOLVE_NOTE = "resolve_note"


# --- check runs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckRun:
    """A check as the scheduler hands it to `record_check`.

    `id` is set when the run was registered with `start_check` (so an
    overrun could be noted on it while it ran); `record_check` then
    completes that row instead of inserting a new one.
    """

    trigger: CheckTrigger
    started_at: datetime
    finished_at: datetime
    overran: bool = False
    note: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class CheckRunRecord:
    id: int
    trigger: CheckTrigger
    started_at: datetime
    finished_at: datetime | None
    controllers_total: int
    controllers_read: int
    controllers_failed: int
    controllers_partial: int
    overran: bool
    note: str | None

    @property
    def running(self) -> bool:
        """Not finished: still running, or the bot stopped in the middle of it."""
        return self.finished_at is None


# --- snapshots ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StuckAP:
    name: str
    model: str | None
    since: datetime | None  # first seen Downloading, continuously (from the AP state tracking)


@dataclass(frozen=True)
class CriticalFinding:
    code: str
    text: str


@dataclass(frozen=True)
class APRecord:
    snapshot_id: int
    controller: str
    name: str
    model: str | None = None
    mac: str | None = None
    ip: str | None = None
    image_version: str | None = None
    state: str | None = None
    retry_count: int | None = None
    location: str | None = None

    def to_access_point(self) -> AccessPoint:
        return AccessPoint(
            name=self.name,
            model=self.model,
            mac=self.mac,
            ip=self.ip,
            image_version=self.image_version,
            state=self.state,
            retry_count=self.retry_count,
            location=self.location,
        )


@dataclass(frozen=True)
class SnapshotRecord:
    """One controller at one check: what was read, and the verdict's summary of it.

    AP rows are not loaded here (see `snapshot_aps`); the counts are.
    `aps_read` says the check knew the controller's APs (so APs missing from
    it were gone); False when it was unreachable or read only partly, when
    `total_aps` is not a count of the controller's APs.
    """

    id: int
    check_run_id: int
    controller: str
    site: str | None
    platform: Platform
    host: str
    taken_at: datetime
    software_version: str | None
    apsps: tuple[str, ...]
    clock: ClockReading | None
    ntp_servers: tuple[NtpServer, ...]
    certificate: CertificateWindow | None
    errors: tuple[SnapshotError, ...]
    aps_read: bool
    status: VerdictStatus
    total_aps: int
    affected_count: int
    likely_affected_count: int
    not_affected_count: int
    unknown_model_count: int
    at_risk_count: int
    stuck_count: int
    stuck_aps: tuple[StuckAP, ...]
    fix_state: FixState | None
    recommendation: str | None
    critical: tuple[CriticalFinding, ...]
    # Affected APs seen Downloading (stuck or not yet); why the AP list was incomplete.
    downloading_count: int = 0
    incomplete: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()  # failover and predownload warnings, as the verdict worded them

    @property
    def reachable(self) -> bool:
        return self.status is not VerdictStatus.UNREACHABLE

    @property
    def affected_aps(self) -> int:
        """APs of models the advisory names or that are likely affected."""
        return self.affected_count + self.likely_affected_count

    @property
    def unfixed(self) -> bool:
        """Software known not to carry the fix for every affected model."""
        return self.fix_state in (FixState.NOT_FIXED, FixState.PARTIAL)

    def to_snapshot(self, aps: list[APRecord] | None = None) -> ControllerSnapshot:
        """The `ControllerSnapshot` this was recorded from (with `aps` if given)."""
        return ControllerSnapshot(
            name=self.controller,
            platform=self.platform,
            host=self.host,
            taken_at=self.taken_at,
            site=self.site,
            software_version=self.software_version,
            apsps=list(self.apsps),
            clock=self.clock,
            ntp_servers=list(self.ntp_servers),
            certificate=self.certificate,
            aps=[a.to_access_point() for a in aps or ()],
            errors=list(self.errors),
        )


@dataclass(frozen=True)
class APState:
    """Where one AP has been, continuously: `state` since `state_since`, seen last at `last_seen`."""

    controller: str
    ap_name: str
    state: str | None
    state_since: datetime
    last_seen: datetime


# --- history and summaries ----------------------------------------------------------------------


@dataclass(frozen=True)
class SiteCheck:
    """One check of one site: the run and the site's controller snapshots in it."""

    run: CheckRunRecord
    snapshots: tuple[SnapshotRecord, ...]
    daily: ClassVar[bool] = False  # a whole check, not a daily summary (see `SiteDay`)

    @property
    def taken_at(self) -> datetime:
        return max((s.taken_at for s in self.snapshots), default=self.run.started_at)

    @property
    def status(self) -> VerdictStatus:
        return worst_status(s.status for s in self.snapshots)

    @property
    def stuck_count(self) -> int:
        return sum(s.stuck_count for s in self.snapshots)

    @property
    def total_aps(self) -> int:
        return sum(s.total_aps for s in self.snapshots)


@dataclass(frozen=True)
class ControllerDay:
    """One controller's UTC day in one compact row, kept long after the day's snapshots.

    Written with every check, so a day never loses it when its snapshots are pruned.
    Every number is one a check recorded, none is derived or filled in: `status` is the
    worst verdict of the day, `stuck_aps` / `downloading_aps` the most seen at one check,
    the AP counts those of the day's last check that read the AP list (`read_at`; all
    None when no check read it that day), with `aps_incomplete` saying why that list was
    not the whole list (the controller counted more APs than it listed). `pruned` counts
    the day's checks whose snapshots are gone: history shows such a day as this summary.
    """

    controller: str
    day: date
    site: str | None
    checks: int
    reads: int
    unreachable_checks: int
    incomplete_checks: int
    first_at: datetime
    last_at: datetime
    status: VerdictStatus
    last_status: VerdictStatus
    stuck_aps: int
    downloading_aps: int
    read_at: datetime | None
    total_aps: int | None
    affected_aps: int | None
    at_risk_aps: int | None
    aps_incomplete: tuple[str, ...] = ()
    pruned: int = 0

    @property
    def aps_read(self) -> bool:
        """Some check of the day read the AP list (so `total_aps` is a count of it)."""
        return self.read_at is not None


@dataclass(frozen=True)
class SiteDay:
    """One UTC day of a site from the daily summaries: what history shows once the
    day's checks were pruned. Marked `daily` so nobody mistakes it for one check."""

    site: str | None
    day: date
    controllers: tuple[ControllerDay, ...]
    daily: ClassVar[bool] = True

    @property
    def taken_at(self) -> datetime:
        """The day's last check of any of the site's controllers."""
        return max(c.last_at for c in self.controllers)

    @property
    def status(self) -> VerdictStatus:
        return worst_status(c.status for c in self.controllers)

    @property
    def stuck_count(self) -> int:
        """The most stuck APs per controller at one check, added up (not one moment's count)."""
        return sum(c.stuck_aps for c in self.controllers)

    @property
    def total_aps(self) -> int:
        """APs of the controllers whose list was read that day (the last read of each)."""
        return sum(c.total_aps or 0 for c in self.controllers)


@dataclass(frozen=True)
class UnfixedController:
    """A controller on software without the fix (`not_fixed`, or `partial`: some models only).

    `at_risk_aps`: its affected APs the software does not protect (0: planning, not urgency).
    """

    controller: str
    site: str | None
    software_version: str | None
    fix_state: FixState
    recommendation: str | None
    at_risk_aps: int = 0


@dataclass(frozen=True)
class SiteSummary:
    """A site from each controller's latest snapshot, with the same numbers a day earlier.

    `*_before` are None when no controller of the site had a snapshot then.
    A controller that was unreachable counts no APs (nothing is known).
    `controllers_read` includes the `controllers_partial` ones (read with
    errors); `stuck_aps` is the verdicts' stuck count (past the threshold or
    confirmed by an AP log), `downloading_aps` every affected AP seen
    Downloading on unfixed software (stuck or not yet), `controllers_incomplete`
    the controllers whose last AP list was incomplete.
    """

    site: str | None
    controllers: int
    controllers_read: int
    controllers_unreachable: int
    controllers_partial: int
    unreachable_controllers: tuple[str, ...]
    total_aps: int
    affected_aps: int
    at_risk_aps: int
    stuck_aps: int
    status: VerdictStatus
    statuses: dict[str, int]
    unfixed: tuple[UnfixedController, ...]
    critical: tuple[tuple[str, CriticalFinding], ...]  # (controller, finding)
    total_aps_before: int | None = None
    affected_aps_before: int | None = None
    stuck_aps_before: int | None = None
    downloading_aps: int = 0
    controllers_incomplete: int = 0
    risks: tuple[tuple[str, str], ...] = ()  # (controller, failover / predownload warning)

    @property
    def stuck_change(self) -> int | None:
        return None if self.stuck_aps_before is None else self.stuck_aps - self.stuck_aps_before

    @property
    def affected_change(self) -> int | None:
        return None if self.affected_aps_before is None else self.affected_aps - self.affected_aps_before


@dataclass(frozen=True)
class FleetSummary:
    at: datetime
    compared_with: datetime
    sites: tuple[SiteSummary, ...]

    def site(self, name: str | None) -> SiteSummary | None:
        return next((s for s in self.sites if s.site == name), None)

    @property
    def controllers(self) -> int:
        return sum(s.controllers for s in self.sites)

    @property
    def controllers_unreachable(self) -> int:
        return sum(s.controllers_unreachable for s in self.sites)

    @property
    def total_aps(self) -> int:
        return sum(s.total_aps for s in self.sites)

    @property
    def affected_aps(self) -> int:
        return sum(s.affected_aps for s in self.sites)

    @property
    def stuck_aps(self) -> int:
        return sum(s.stuck_aps for s in self.sites)

    @property
    def stuck_change(self) -> int | None:
        before = [s.stuck_aps_before for s in self.sites if s.stuck_aps_before is not None]
        return self.stuck_aps - sum(before) if before else None

    @property
    def unfixed(self) -> tuple[UnfixedController, ...]:
        return tuple(u for s in self.sites for u in s.unfixed)


# --- alerts, outbox, digests --------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRecord:
    id: int
    kind: AlertKind
    controller: str
    site: str | None
    channel: str
    status: AlertStatus
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    payload: dict[str, Any]
    slack_ts: str | None
    slack_channel: str | None
    delivery: Delivery
    attempts: int
    last_error: str | None
    last_notified_at: datetime | None
    # Written before every post (see `mark_sending`): the metadata key the message carries and
    # when the first attempt began. Set without `slack_ts`: a post may be in Slack already.
    send_key: str | None = None
    sending_since: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status is AlertStatus.OPEN

    @property
    def maybe_posted(self) -> bool:
        """An attempt began and none was confirmed: look for the message before posting again."""
        return self.slack_ts is None and self.sending_since is not None and self.send_key is not None


@dataclass(frozen=True)
class EventRecord:
    """One note or message change for an alert's Slack message, waiting or delivered.

    `alert_ts` / `alert_channel` are the alert message to thread under or update.
    """

    id: int
    alert_id: int
    kind: EventKind
    payload: dict[str, Any]
    created_at: datetime
    delivered_at: datetime | None
    slack_ts: str | None
    attempts: int
    last_error: str | None
    alert_ts: str | None = None
    alert_channel: str | None = None
    controller: str | None = None
    send_key: str | None = None
    sending_since: datetime | None = None

    @property
    def maybe_posted(self) -> bool:
        """A note whose post began and was never confirmed: look in the thread before posting."""
        return self.delivered_at is None and self.sending_since is not None and self.send_key is not None

    @property
    def text(self) -> str | None:
        value = self.payload.get("text")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class DigestRecord:
    id: int
    day: date
    sent_at: datetime
    channel: str
    ts: str | None
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PruneResult:
    """What a prune deleted, and the file pages it handed back (`pages_freed`)."""

    ap_rows: int = 0
    snapshots: int = 0
    check_runs: int = 0
    events: int = 0
    alerts: int = 0
    daily_summaries: int = 0
    pages_freed: int = 0
