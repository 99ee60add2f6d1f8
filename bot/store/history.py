"""History and summaries read from the snapshots: the latest per controller, a site's recent
checks, the fleet summary the digest and `/ccert status` use.

Reads only: several of them run in one `read_tx` so that the answer is one consistent view,
and they read snapshot summary rows (the counts live on them), never AP rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from bot.domain.verdict import VerdictStatus, worst_status
from bot.store.checks import check_run_record
from bot.store.codec import to_db_time, utc_now
from bot.store.days import site_days
from bot.store.db import read_tx
from bot.store.records import FleetSummary, SiteCheck, SiteDay, SiteSummary, SnapshotRecord, UnfixedController
from bot.store.snapshots import snapshot_record
from bot.store.sql import Db

# The latest snapshot id per controller at or before :at (controllers limited by {where}).
# One index probe per controller on (controller, taken_at, id): no sort of the history.
_LATEST_IDS = """
    SELECT (SELECT x.id FROM snapshots x
            WHERE x.controller = c.controller AND x.taken_at <= :at
            ORDER BY x.taken_at DESC, x.id DESC LIMIT 1)
    FROM (SELECT DISTINCT controller FROM snapshots {where}) c
"""


_FAR_FUTURE = "9999-12-31T23:59:59.999999+00:00"


def _latest(db: Db, at: str, site: str | None) -> list[SnapshotRecord]:
    where = "WHERE site = :site" if site is not None else ""
    sql = f"SELECT * FROM snapshots WHERE id IN ({_LATEST_IDS.format(where=where)})"
    if site is not None:
        sql += " AND site = :site"
    rows = db.query(sql + " ORDER BY site, controller", {"at": at, "site": site})
    return [snapshot_record(r) for r in rows]


def latest_snapshots(db: Db, site: str | None = None) -> list[SnapshotRecord]:
    """The latest snapshot of every controller (of `site`, if given), by site and name."""
    return _latest(db, _FAR_FUTURE, site)


def site_summary_at(db: Db, site: str, at: datetime) -> list[SnapshotRecord]:
    """The latest snapshot at or before `at` of each controller of `site`."""
    return _latest(db, to_db_time(at, "at"), site)


def site_history(db: Db, site: str, limit: int = 10) -> list[SiteCheck | SiteDay]:
    """The last `limit` checks that read `site`, newest first, each with the site's snapshots.

    Once fewer checks than that are kept (the rest were pruned after the retention), the
    list goes on with the site's daily summaries of the days whose checks were pruned,
    newest first: `SiteDay` entries, `daily` True, never passed off as one check.
    """
    with read_tx(db):
        checks: list[SiteCheck | SiteDay] = [*_site_checks(db, site, limit)]
        if len(checks) < limit:
            checks.extend(site_days(db, site, limit - len(checks), pruned_only=True))
        return checks


def _site_checks(db: Db, site: str, limit: int) -> list[SiteCheck]:
    run_ids = [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT check_run_id FROM snapshots WHERE site = ? ORDER BY check_run_id DESC LIMIT ?",
            [site, limit],
        )
    ]
    if not run_ids:
        return []
    marks = ", ".join("?" * len(run_ids))
    runs = {r["id"]: check_run_record(r) for r in db.query(f"SELECT * FROM check_runs WHERE id IN ({marks})", run_ids)}
    by_run: dict[int, list[SnapshotRecord]] = defaultdict(list)
    for row in db.query(
        f"SELECT * FROM snapshots WHERE site = ? AND check_run_id IN ({marks}) ORDER BY controller",
        [site, *run_ids],
    ):
        by_run[row["check_run_id"]].append(snapshot_record(row))
    return [SiteCheck(runs[i], tuple(by_run[i])) for i in run_ids]


def _site_summaries(now: list[SnapshotRecord], before: list[SnapshotRecord]) -> list[SiteSummary]:
    by_site: dict[str | None, list[SnapshotRecord]] = defaultdict(list)
    for s in now:
        by_site[s.site].append(s)
    before_by_site: dict[str | None, list[SnapshotRecord]] = defaultdict(list)
    for s in before:
        before_by_site[s.site].append(s)
    summaries = []
    for site in sorted(by_site, key=lambda s: (s is None, s or "")):
        snaps = by_site[site]
        then = before_by_site.get(site)
        statuses = Counter(s.status.value for s in snaps)
        summaries.append(
            SiteSummary(
                site=site,
                controllers=len(snaps),
                controllers_read=sum(1 for s in snaps if s.reachable),
                controllers_unreachable=statuses.get(VerdictStatus.UNREACHABLE.value, 0),
                controllers_partial=statuses.get(VerdictStatus.ERROR.value, 0),
                unreachable_controllers=tuple(s.controller for s in snaps if not s.reachable),
                total_aps=sum(s.total_aps for s in snaps),
                affected_aps=sum(s.affected_aps for s in snaps),
                at_risk_aps=sum(s.at_risk_count for s in snaps),
                stuck_aps=sum(s.stuck_count for s in snaps),
                downloading_aps=sum(s.downloading_count for s in snaps),
                controllers_incomplete=sum(1 for s in snaps if s.incomplete),
                risks=tuple((s.controller, text) for s in snaps for text in s.risks),
                status=worst_status(s.status for s in snaps),
                statuses=dict(statuses),
                unfixed=tuple(
                    UnfixedController(
                        s.controller, s.site, s.software_version, s.fix_state, s.recommendation, s.at_risk_count
                    )
                    for s in snaps
                    if s.fix_state is not None and s.unfixed
                ),
                critical=tuple((s.controller, c) for s in snaps for c in s.critical),
                total_aps_before=sum(s.total_aps for s in then) if then else None,
                affected_aps_before=sum(s.affected_aps for s in then) if then else None,
                stuck_aps_before=sum(s.stuck_count for s in then) if then else None,
            )
        )
    return summaries


def fleet_summary(db: Db, now: datetime | None = None, compare: timedelta = timedelta(hours=24)) -> FleetSummary:
    """Per site, from each controller's latest snapshot at `now`, compared with `compare` earlier.

    Reads snapshot summary rows only (counts live on them), never AP rows.
    """
    at = utc_now() if now is None else now
    then = at - compare
    with read_tx(db):
        current = _latest(db, to_db_time(at, "now"), None)
        before = _latest(db, to_db_time(then), None)
    return FleetSummary(at=at, compared_with=then, sites=tuple(_site_summaries(current, before)))
