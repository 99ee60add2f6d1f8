"""What a check leaves: the run, each controller's snapshot with its verdict summary, its AP
rows, and the AP state the stuck rule remembers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.models import (
    AccessPoint,
    CertificateWindow,
    ClockReading,
    ControllerSnapshot,
    NtpServer,
    PlatformName,
    SnapshotError,
)
from bot.domain.software_fix import FixState
from bot.domain.verdict import VerdictStatus


class CheckTrigger(StrEnum):
    STARTUP = "startup"
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    # One controller read again because an AP's own log confirmed a failure and the last
    # snapshot was older than one check interval (`FleetChecker.alert_from_ap_log`).
    AP_LOG = "ap-log"


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
    platform: PlatformName
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
