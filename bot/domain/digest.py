"""The daily digest's input model, and how sites are ranked and totalled.

Pure values: the lead's job maps store records (the day's last verdict per
controller, yesterday's stuck counts, open requests and runs) into
`SiteDigest`s; `bot/chat/digest_views.py` renders a `FleetDigest`. Also the
rows of `/ccert history <site>` (`HistoryRow`).

A site's `status` is derived from its numbers with the verdict's severity
order (stuck > unreachable > error > at-risk > ok), so the digest ranks sites
the same way the status command ranks controllers. `error` here means no
controller of the site was read at all, or some were read only partly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.domain.software_fix import FixState
from bot.domain.verdict import RISK_CODES, Severity, SiteVerdict, VerdictStatus


@dataclass(frozen=True)
class UnfixedController:
    """A controller whose software lacks the CSCwd80290 fix (or may lack it).

    `at_risk_aps`: its affected APs the software does not protect; with 0 the
    upgrade is planning, not urgency.
    """

    controller: str
    version: str | None
    recommendation: str
    fix_state: FixState = FixState.NOT_FIXED
    at_risk_aps: int = 0


@dataclass(frozen=True)
class SiteDigest:
    """One site's day in numbers.

    `controllers_read` counts controllers whose last check read them (also
    partly: `controllers_partial` of them); `controllers_unreachable` the
    others. `affected_aps` are IOS-based APs (affected + likely affected),
    `at_risk_aps` those of them the software does not protect. `stuck_aps` is
    the number of APs in open stuck alerts (past the threshold), and
    `stuck_aps_yesterday` the same number a day earlier (None: unknown, e.g.
    the first day). `critical` holds one line per critical finding (NTP
    deleted, a 2022 clock left behind): the worst thing the bot can leave, so
    the digest always shows them. `open_requests` / `open_runs`: remediation
    requests awaiting approval and playbook runs in progress.
    `unreachable_controllers` optionally names the unreachable ones.
    `downloading_aps`: affected APs seen Downloading on unfixed software that
    are not stuck yet (below the threshold, no AP log): the same words as
    `status` uses. `controllers_incomplete`: controllers whose last AP list
    was incomplete (the controller counted more APs than it listed).
    """

    site: str
    controllers_read: int = 0
    controllers_unreachable: int = 0
    aps_total: int = 0
    affected_aps: int = 0
    stuck_aps: int = 0
    stuck_aps_yesterday: int | None = None
    unfixed: tuple[UnfixedController, ...] = ()
    open_requests: int = 0
    open_runs: int = 0
    at_risk_aps: int = 0
    controllers_partial: int = 0
    critical: tuple[str, ...] = ()
    unreachable_controllers: tuple[str, ...] = ()
    downloading_aps: int = 0
    controllers_incomplete: int = 0
    risks: tuple[str, ...] = ()  # `wlc-a1: if wlc-a1 fails, 37 IOS APs will download ...`

    @property
    def controllers_total(self) -> int:
        return self.controllers_read + self.controllers_unreachable

    @property
    def stuck_change(self) -> int | None:
        """Stuck APs now minus yesterday; None when yesterday is unknown."""
        if self.stuck_aps_yesterday is None:
            return None
        return self.stuck_aps - self.stuck_aps_yesterday

    @property
    def status(self) -> VerdictStatus:
        if self.stuck_aps:
            return VerdictStatus.STUCK
        if self.downloading_aps:
            return VerdictStatus.DOWNLOADING
        if self.controllers_unreachable:
            return VerdictStatus.UNREACHABLE
        if self.controllers_partial or self.controllers_incomplete or not self.controllers_read:
            return VerdictStatus.ERROR
        if self.at_risk_aps or self.risks or any(u.at_risk_aps for u in self.unfixed):
            return VerdictStatus.AT_RISK
        return VerdictStatus.OK

    @property
    def healthy(self) -> bool:
        """Nothing to say beyond "ok": no finding, no unfixed software, no open work."""
        return (
            self.status is VerdictStatus.OK
            and not self.unfixed
            and not self.critical
            and not self.open_requests
            and not self.open_runs
        )

    @classmethod
    def from_site_verdict(
        cls,
        verdict: SiteVerdict,
        *,
        stuck_aps: int | None = None,
        stuck_aps_yesterday: int | None = None,
        open_requests: int = 0,
        open_runs: int = 0,
    ) -> SiteDigest:
        """Build from a site verdict (the day's last check of each controller).

        `stuck_aps` defaults to the verdict's stuck count; pass the number of
        APs in open stuck alerts to count what the alerts list.
        """
        controllers = verdict.controllers
        unreachable = sum(1 for v in controllers if v.status is VerdictStatus.UNREACHABLE)
        partial = sum(1 for v in controllers if v.status is not VerdictStatus.UNREACHABLE and v.errors)
        unfixed = tuple(
            UnfixedController(
                controller=v.controller,
                version=v.software_version,
                recommendation=v.recommendation.text if v.recommendation else "read the software version first",
                fix_state=v.fix.state,
                at_risk_aps=v.at_risk_count,
            )
            for v in controllers
            if v.fix is not None and v.fix.state is not FixState.FIXED and v.status is not VerdictStatus.UNREACHABLE
        )
        critical = tuple(
            f"{v.controller}: {w.text}" for v in controllers for w in v.warnings if w.severity is Severity.CRITICAL
        )
        stuck = verdict.stuck_count if stuck_aps is None else stuck_aps
        return cls(
            site=verdict.site,
            controllers_read=len(controllers) - unreachable,
            controllers_unreachable=unreachable,
            aps_total=verdict.total_aps,
            affected_aps=verdict.affected_count + verdict.likely_affected_count,
            stuck_aps=stuck,
            downloading_aps=max(0, verdict.downloading_count - stuck),
            controllers_incomplete=verdict.incomplete_count,
            risks=tuple(f"{v.controller}: {w.text}" for v in controllers for w in v.warnings if w.code in RISK_CODES),
            stuck_aps_yesterday=stuck_aps_yesterday,
            unfixed=unfixed,
            open_requests=open_requests,
            open_runs=open_runs,
            at_risk_aps=verdict.at_risk_count,
            controllers_partial=partial,
            critical=critical,
            unreachable_controllers=tuple(v.controller for v in controllers if v.status is VerdictStatus.UNREACHABLE),
        )


def site_rank(site: SiteDigest) -> tuple[object, ...]:
    """Sort key, worst first: sites with stuck APs (down now), then sites with
    critical findings (NTP deleted, a 2022 clock: they must never fall below a
    summary's "and N more"), then status severity, critical findings, stuck
    APs, unreachable controllers, at-risk APs, unfixed controllers, open work,
    then the name (so equal sites keep a stable alphabetical order)."""
    tier = 0 if site.stuck_aps else 1 if site.critical else 2
    return (
        tier,
        -site.status.severity,
        -len(site.critical),
        -site.stuck_aps,
        -site.controllers_unreachable,
        -site.at_risk_aps,
        -len(site.unfixed),
        -(site.open_requests + site.open_runs),
        site.site,
    )


def worst_first(sites: Iterable[SiteDigest]) -> list[SiteDigest]:
    return sorted(sites, key=site_rank)


@dataclass(frozen=True)
class FleetTotals:
    """The fleet's numbers summed over its sites."""

    sites: int
    controllers: int
    controllers_read: int
    controllers_unreachable: int
    aps_total: int
    affected_aps: int
    at_risk_aps: int
    stuck_aps: int
    stuck_change: int | None
    unfixed_controllers: int
    open_requests: int
    open_runs: int
    critical: int
    status_counts: dict[VerdictStatus, int] = field(default_factory=dict)
    downloading_aps: int = 0
    controllers_incomplete: int = 0


def fleet_totals(sites: Sequence[SiteDigest]) -> FleetTotals:
    """Sum the sites. `stuck_change` sums the sites whose yesterday is known
    (None when no site's is)."""
    changes = [s.stuck_change for s in sites if s.stuck_change is not None]
    counts: dict[VerdictStatus, int] = {}
    for s in sites:
        counts[s.status] = counts.get(s.status, 0) + 1
    return FleetTotals(
        sites=len(sites),
        controllers=sum(s.controllers_total for s in sites),
        controllers_read=sum(s.controllers_read for s in sites),
        controllers_unreachable=sum(s.controllers_unreachable for s in sites),
        aps_total=sum(s.aps_total for s in sites),
        affected_aps=sum(s.affected_aps for s in sites),
        at_risk_aps=sum(s.at_risk_aps for s in sites),
        stuck_aps=sum(s.stuck_aps for s in sites),
        stuck_change=sum(changes) if changes else None,
        downloading_aps=sum(s.downloading_aps for s in sites),
        controllers_incomplete=sum(s.controllers_incomplete for s in sites),
        unfixed_controllers=sum(len(s.unfixed) for s in sites),
        open_requests=sum(s.open_requests for s in sites),
        open_runs=sum(s.open_runs for s in sites),
        critical=sum(len(s.critical) for s in sites),
        status_counts=counts,
    )


@dataclass(frozen=True)
class FleetDigest:
    """The whole digest: the day it covers, when it was made, every site."""

    day: date
    generated_at: datetime
    sites: tuple[SiteDigest, ...] = ()

    @property
    def totals(self) -> FleetTotals:
        return fleet_totals(self.sites)

    @property
    def ordered(self) -> list[SiteDigest]:
        """Every site, worst first."""
        return worst_first(self.sites)

    @property
    def needing_attention(self) -> list[SiteDigest]:
        """Sites that are not `healthy`, worst first."""
        return [s for s in self.ordered if not s.healthy]

    @property
    def healthy_sites(self) -> list[SiteDigest]:
        """Healthy sites, by name."""
        return sorted((s for s in self.sites if s.healthy), key=lambda s: s.site)

    @property
    def all_clear(self) -> bool:
        return bool(self.sites) and all(s.healthy for s in self.sites)

    @property
    def status(self) -> VerdictStatus:
        return self.ordered[0].status if self.sites else VerdictStatus.OK


@dataclass(frozen=True)
class HistoryRow:
    """One controller at one past check, for `/ccert history <site>`.

    `aps_total` is None when the check read no AP table (unreachable).
    `stuck_aps` counts APs stuck (past the threshold or confirmed), `downloading_aps`
    affected APs seen Downloading (stuck or not yet); `incomplete` says why the AP
    list of that check was not the whole list."""

    checked_at: datetime
    controller: str
    status: VerdictStatus
    stuck_aps: int = 0
    aps_total: int | None = None
    downloading_aps: int = 0
    incomplete: tuple[str, ...] = ()


__all__ = [
    "FleetDigest",
    "FleetTotals",
    "HistoryRow",
    "SiteDigest",
    "UnfixedController",
    "fleet_totals",
    "site_rank",
    "worst_first",
]
