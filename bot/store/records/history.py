"""What history and the summaries answer: a site's checks, daily summaries past the retention,
and the per-site fleet summary the digest and `/ccert status` read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from bot.domain.software_fix import FixState
from bot.domain.verdict import VerdictStatus, worst_status
from bot.store.records.checks import CheckRunRecord, CriticalFinding, SnapshotRecord


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
