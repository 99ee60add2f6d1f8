"""The digest input model: site status, ranking, fleet totals, building from verdicts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.domain.digest import FleetDigest, SiteDigest, UnfixedController, fleet_totals, worst_first
from bot.domain.models import (
    AccessPoint,
    CertificateWindow,
    ClockReading,
    ClockSource,
    ControllerSnapshot,
    ErrorKind,
    NtpServer,
    Platform,
    SnapshotError,
)
from bot.domain.software_fix import FixState
from bot.domain.verdict import DownloadWatch, VerdictStatus, evaluate_site

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
UNFIXED = UnfixedController("wlc-1", "8.10.162.0", "upgrade to 8.10.183.0 or later", FixState.NOT_FIXED, 4)


def site(name: str, **kwargs) -> SiteDigest:
    values = {"controllers_read": 2, "aps_total": 40, "affected_aps": 10}
    values.update(kwargs)
    return SiteDigest(name, **values)


def test_status_follows_verdict_severity() -> None:
    assert site("a").status is VerdictStatus.OK
    assert site("a", stuck_aps=1, controllers_unreachable=1).status is VerdictStatus.STUCK
    assert site("a", controllers_unreachable=1).status is VerdictStatus.UNREACHABLE
    assert site("a", controllers_read=0).status is VerdictStatus.ERROR
    assert site("a", controllers_partial=1).status is VerdictStatus.ERROR
    assert site("a", unfixed=(UNFIXED,)).status is VerdictStatus.AT_RISK
    planning = UnfixedController("wlc-2", "17.9.4", "upgrade", FixState.NOT_FIXED, 0)
    assert site("a", unfixed=(planning,)).status is VerdictStatus.OK


def test_healthy_needs_ok_and_nothing_open() -> None:
    assert site("a").healthy
    assert not site("a", unfixed=(UnfixedController("w", "17.9.4", "upgrade"),)).healthy
    assert not site("a", open_requests=1).healthy
    assert not site("a", open_runs=1).healthy
    assert not site("a", critical=("wlc-1: no NTP servers",)).healthy
    assert site("a", stuck_aps_yesterday=3).healthy  # recovered: ok now


def test_stuck_change() -> None:
    assert site("a", stuck_aps=5, stuck_aps_yesterday=2).stuck_change == 3
    assert site("a", stuck_aps=0, stuck_aps_yesterday=2).stuck_change == -2
    assert site("a", stuck_aps=2, stuck_aps_yesterday=2).stuck_change == 0
    assert site("a", stuck_aps=2).stuck_change is None


def test_worst_first_ordering() -> None:
    sites = [
        site("ok-b"),
        site("at-risk", unfixed=(UNFIXED,)),
        site("stuck-few", stuck_aps=1),
        site("down", controllers_unreachable=1),
        site("stuck-many", stuck_aps=9),
        site("ok-a"),
        site("ok-critical", critical=("wlc-1: clock set back to 2022",)),
    ]
    assert [s.site for s in worst_first(sites)] == [
        "stuck-many",
        "stuck-few",
        "ok-critical",  # NTP deleted / 2022 clock: right after APs that are down now
        "down",
        "at-risk",
        "ok-a",
        "ok-b",
    ]


def test_fleet_totals_and_change_only_over_known_yesterdays() -> None:
    sites = [
        site("a", stuck_aps=3, stuck_aps_yesterday=1, unfixed=(UNFIXED,), open_requests=2),
        site("b", stuck_aps=1, controllers_unreachable=1),
        site("c", stuck_aps=0, stuck_aps_yesterday=1, open_runs=1),
    ]
    t = fleet_totals(sites)
    assert (t.sites, t.controllers, t.controllers_read, t.controllers_unreachable) == (3, 7, 6, 1)
    assert (t.aps_total, t.affected_aps, t.stuck_aps) == (120, 30, 4)
    assert t.stuck_change == 1  # +2 and -1; b's yesterday unknown
    assert (t.unfixed_controllers, t.open_requests, t.open_runs) == (1, 2, 1)
    assert t.status_counts[VerdictStatus.STUCK] == 2
    assert fleet_totals([site("a")]).stuck_change is None


def test_fleet_digest_views_of_sites() -> None:
    digest = FleetDigest(date(2026, 11, 27), NOW, (site("z"), site("s", stuck_aps=2), site("a")))
    assert [s.site for s in digest.needing_attention] == ["s"]
    assert [s.site for s in digest.healthy_sites] == ["a", "z"]
    assert digest.status is VerdictStatus.STUCK
    assert not digest.all_clear
    assert FleetDigest(date(2026, 11, 27), NOW, (site("a"),)).all_clear
    assert not FleetDigest(date(2026, 11, 27), NOW).all_clear


def test_from_site_verdict() -> None:
    clock = ClockReading(time=NOW, source=ClockSource.NTP, authoritative=True, synced=True)
    cert = CertificateWindow(datetime(2019, 1, 1, tzinfo=UTC), datetime(2039, 1, 1, tzinfo=UTC))
    common = {"platform": Platform.AIREOS, "taken_at": NOW, "site": "hq"}
    read = {**common, "clock": clock, "certificate": cert}
    stuck = ControllerSnapshot(
        name="wlc-1",
        host="192.0.2.1",
        software_version="8.10.162.0",
        ntp_servers=[NtpServer("10.0.0.1", index=1)],
        aps=[
            AccessPoint("ap1", "AIR-CAP3702I-E-K9", state="Downloading"),
            AccessPoint("ap2", "AIR-CAP2702I-E-K9", state="Registered"),
            AccessPoint("ap3", "AIR-AP1852I-E-K9", state="Registered"),
        ],
        **read,
    )
    fixed_no_ntp = ControllerSnapshot(name="wlc-2", host="192.0.2.2", software_version="8.10.183.0", **read)
    down = ControllerSnapshot(
        name="wlc-3", host="192.0.2.3", errors=[SnapshotError(ErrorKind.UNREACHABLE, "no route")], **common
    )
    # first seen now: ap1 is downloading, not stuck yet
    seen_now = SiteDigest.from_site_verdict(evaluate_site("hq", [stuck, fixed_no_ntp, down]))
    assert (seen_now.stuck_aps, seen_now.downloading_aps, seen_now.status) == (0, 1, VerdictStatus.DOWNLOADING)
    verdict = evaluate_site("hq", [stuck, fixed_no_ntp, down], watch=DownloadWatch(stuck_after=timedelta(0)))
    d = SiteDigest.from_site_verdict(verdict, stuck_aps_yesterday=0, open_requests=1)
    assert (d.site, d.controllers_read, d.controllers_unreachable) == ("hq", 2, 1)
    assert d.unreachable_controllers == ("wlc-3",)
    assert (d.aps_total, d.affected_aps, d.stuck_aps, d.at_risk_aps) == (3, 2, 1, 2)
    assert d.downloading_aps == 0  # the one downloading AP is stuck: not counted twice
    assert d.stuck_change == 1
    assert [(u.controller, u.version, u.fix_state) for u in d.unfixed] == [("wlc-1", "8.10.162.0", FixState.NOT_FIXED)]
    assert "8.10.183.0" in d.unfixed[0].recommendation
    assert any("wlc-2" in c and "NTP" in c for c in d.critical)
    assert d.status is VerdictStatus.STUCK
    assert d.open_requests == 1
    # counting what the open alerts list: none stuck there, so the AP is downloading, not stuck
    by_alerts = SiteDigest.from_site_verdict(verdict, stuck_aps=0)
    assert (by_alerts.status, by_alerts.downloading_aps) == (VerdictStatus.DOWNLOADING, 1)
