"""Daily summaries: one compact row per controller per UTC day (`controller_days`).

Why they exist: every check folds each controller into its day's summary, and the summaries
outlive the retention by `DAILY_SUMMARY_DAYS`, so history past the retention still answers
(from the summaries) after `pruning.prune` deleted the checks themselves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from bot.domain.verdict import VerdictStatus
from bot.store.codec import day_text, from_db_time, from_db_time_or_none, loads
from bot.store.records import ControllerDay, SiteDay
from bot.store.rows import rows_where, upsert_rows
from bot.store.sql import Db

# How long a daily summary outlives the retention: summaries of days more than this many days
# before the prune's cutoff are deleted (with the default 30-day retention, 430 days of history).
DAILY_SUMMARY_DAYS = 400


_DAY_COLUMNS = (
    "controller",
    "day",
    "site",
    "checks",
    "reads",
    "unreachable_checks",
    "incomplete_checks",
    "first_at",
    "last_at",
    "status",
    "last_status",
    "stuck_aps",
    "downloading_aps",
    "read_at",
    "total_aps",
    "affected_aps",
    "at_risk_aps",
    "aps_incomplete_json",
    "pruned",
)


def _utc_day(taken_at: str) -> str:
    """The UTC day of a stored bot timestamp (fixed-width UTC text: its first ten characters)."""
    return taken_at[:10]


def _fold_day(day: Mapping[str, Any] | None, snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """The daily summary `day` with one more snapshot row of its controller and day in it.

    Order-free (a snapshot recorded late folds in the same), and it only keeps values
    a check recorded: worst status and highest counts, and the last read's AP counts.
    """
    taken, status = snapshot["taken_at"], VerdictStatus(snapshot["status"])
    read = bool(snapshot["aps_read"])
    base = (
        dict(day)
        if day is not None
        else {
            "controller": snapshot["controller"],
            "day": _utc_day(taken),
            "site": snapshot["site"],
            "checks": 0,
            "reads": 0,
            "unreachable_checks": 0,
            "incomplete_checks": 0,
            "first_at": taken,
            "last_at": taken,
            "status": status.value,
            "last_status": status.value,
            "stuck_aps": 0,
            "downloading_aps": 0,
            "read_at": None,
            "total_aps": None,
            "affected_aps": None,
            "at_risk_aps": None,
            "aps_incomplete_json": "[]",
            "pruned": 0,
        }
    )
    folded = dict(base)
    folded["checks"] += 1
    folded["reads"] += int(read)
    folded["unreachable_checks"] += int(status is VerdictStatus.UNREACHABLE)
    folded["incomplete_checks"] += int(bool(loads(snapshot["incomplete_json"], [])))
    folded["first_at"] = min(base["first_at"], taken)
    if taken >= base["last_at"]:
        folded.update(last_at=taken, site=snapshot["site"], last_status=status.value)
    if status.severity > VerdictStatus(base["status"]).severity:
        folded["status"] = status.value
    folded["stuck_aps"] = max(base["stuck_aps"], snapshot["stuck_count"])
    folded["downloading_aps"] = max(base["downloading_aps"], snapshot["downloading_count"])
    if read and (base["read_at"] is None or taken >= base["read_at"]):
        folded.update(
            read_at=taken,
            total_aps=snapshot["total_aps"],
            affected_aps=snapshot["affected_count"] + snapshot["likely_affected_count"],
            at_risk_aps=snapshot["at_risk_count"],
            aps_incomplete_json=snapshot["incomplete_json"],
        )
    return folded


def fold_into_days(db: Db, snapshots: Sequence[Mapping[str, Any]]) -> None:
    """Fold snapshot rows into their controllers' daily summaries (inside the caller's transaction)."""
    keys = sorted({(s["controller"], _utc_day(s["taken_at"])) for s in snapshots})
    by_day: dict[str, list[str]] = defaultdict(list)
    for controller, day in keys:
        by_day[day].append(controller)
    days: dict[tuple[str, str], dict[str, Any]] = {}
    for day, controllers in by_day.items():
        for row in db.query(
            f"SELECT * FROM controller_days WHERE day = ? AND controller IN ({', '.join('?' * len(controllers))})",
            [day, *controllers],
        ):
            days[(row["controller"], row["day"])] = row
    for s in snapshots:
        key = (s["controller"], _utc_day(s["taken_at"]))
        days[key] = _fold_day(days.get(key), s)
    # One row per controller and day, replaced whole (its primary key is (controller, day)).
    upsert_rows(
        db,
        "controller_days",
        _DAY_COLUMNS,
        ("controller", "day"),
        ([d[c] for c in _DAY_COLUMNS] for d in days.values()),
    )


def _controller_day(row: Mapping[str, Any]) -> ControllerDay:
    return ControllerDay(
        controller=row["controller"],
        day=date.fromisoformat(row["day"]),
        site=row["site"],
        checks=row["checks"],
        reads=row["reads"],
        unreachable_checks=row["unreachable_checks"],
        incomplete_checks=row["incomplete_checks"],
        first_at=from_db_time(row["first_at"]),
        last_at=from_db_time(row["last_at"]),
        status=VerdictStatus(row["status"]),
        last_status=VerdictStatus(row["last_status"]),
        stuck_aps=row["stuck_aps"],
        downloading_aps=row["downloading_aps"],
        read_at=from_db_time_or_none(row["read_at"]),
        total_aps=row["total_aps"],
        affected_aps=row["affected_aps"],
        at_risk_aps=row["at_risk_aps"],
        aps_incomplete=tuple(loads(row["aps_incomplete_json"], [])),
        pruned=row["pruned"],
    )


def controller_days(db: Db, controller: str, since: date | None = None) -> list[ControllerDay]:
    """The daily summaries of one controller, oldest first (from `since`, a UTC day, if given)."""
    rows = rows_where(
        db,
        "controller_days",
        "controller = ? AND day >= ?",
        [controller, day_text(since) if since is not None else ""],
        order_by="day",
    )
    return [_controller_day(r) for r in rows]


def site_days(db: Db, site: str, limit: int = 10, *, pruned_only: bool = False) -> list[SiteDay]:
    """The last `limit` days of `site` from the daily summaries, newest first.

    `pruned_only`: only days some of whose checks were pruned (what history needs them for).
    A controller belongs to the site it was in at its last check of the day.
    """
    pruned = "AND pruned > 0" if pruned_only else ""
    rows = db.query(
        f"SELECT * FROM controller_days WHERE site = :site {pruned} AND day IN ("
        f"SELECT DISTINCT day FROM controller_days WHERE site = :site {pruned} ORDER BY day DESC LIMIT :limit"
        ") ORDER BY day DESC, controller",
        {"site": site, "limit": limit},
    )
    by_day: dict[date, list[ControllerDay]] = defaultdict(list)
    for row in rows:
        record = _controller_day(row)
        by_day[record.day].append(record)
    return [SiteDay(site, day, tuple(records)) for day, records in by_day.items()]
