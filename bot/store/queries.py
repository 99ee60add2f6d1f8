"""Every question and change the rest of the bot asks of the store.

Small synchronous functions taking the `sqlite_utils.Database` first; the
async `Store` runs them in a worker thread under its write lock, and a CLI
or test may call them directly on a database from `open_db`. Writes run in
`write_tx` (one `BEGIN IMMEDIATE` transaction); `now` defaults to the
current UTC time and must be tz-aware when given.

The stuck rule's memory (`ap_state`) is updated in the same transaction as
the snapshot it comes from. Rules for it:

* an AP keeps its `state_since` while its state stays the same (compared
  case- and space-insensitively) across checks; a new state starts a new
  `state_since` at the snapshot's `taken_at`;
* an AP listed without a state (the table did not say) keeps what it had;
* an AP missing from a snapshot whose AP list was read is gone: its row is
  deleted, so if it comes back its timer starts again;
* a controller whose APs were not read (unreachable, or read only partly:
  verdict status `error`) leaves its APs' rows untouched, so an outage or a
  failed command never resets a stuck timer. This is the rule of
  `ap_data_known` in the alert rules, so both agree on what a gap means.

What the file costs grows with the fleet, not with time:

* AP rows are written only when a controller's AP list changed: a snapshot whose
  list is exactly the previous one's (compared by `aps_hash`, a digest of every
  stored field) refers to the rows of the snapshot that has them
  (`aps_snapshot_id`); `snapshot_aps` answers the same either way;
* every check also folds each controller into its daily summary
  (`controller_days`, one row per controller per UTC day), which outlives the
  retention by `DAILY_SUMMARY_DAYS`; history past the retention comes from it;
* `prune` deletes what is past the retention and hands the pages back
  (`reclaim_space`: incremental vacuum, the file is in auto-vacuum mode).
"""

from __future__ import annotations

import hashlib
import logging
import operator
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from bot.domain.advisory import FixState
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
from bot.domain.verdict import RISK_CODES, ControllerVerdict, Severity, VerdictStatus, worst_status
from bot.store.codec import (
    day_text,
    dumps,
    from_db_time,
    from_db_time_or_none,
    from_device_time,
    loads,
    short_error,
    to_bool,
    to_db_time,
    to_device_time,
    utc_now,
)
from bot.store.db import read_tx, write_tx
from bot.store.records import (
    AlertKind,
    AlertRecord,
    AlertStatus,
    APRecord,
    APState,
    CheckRun,
    CheckRunRecord,
    CheckTrigger,
    ControllerDay,
    CriticalFinding,
    Delivery,
    DigestRecord,
    EventKind,
    EventRecord,
    FleetSummary,
    NotFoundError,
    PruneResult,
    SiteCheck,
    SiteDay,
    SiteSummary,
    SnapshotRecord,
    StateError,
    StuckAP,
    UnfixedController,
)

log = logging.getLogger(__name__)


def _now(now: datetime | None) -> str:
    return to_db_time(utc_now() if now is None else now, "now")


def _one(db: Database, sql: str, params: Sequence[Any] | dict[str, Any]) -> dict[str, Any] | None:
    return next(iter(db.query(sql, params)), None)


def _insert(db: Database, table: str, row: dict[str, Any]) -> int:
    """Insert one row; returns its integer primary key."""
    pk = db.table(table).insert(row).last_pk
    assert pk is not None
    return int(pk)


def _insert_plain(db: Database, table: str, row: Mapping[str, Any]) -> int:
    """`_insert` for a row of plain SQLite values (text, numbers, None), without sqlite-utils'
    per-row work: a check inserts one snapshot per controller, and that work was most of it."""
    columns = ", ".join(f"[{c}]" for c in row)
    marks = ", ".join("?" * len(row))
    cursor = db.execute(f"INSERT INTO [{table}] ({columns}) VALUES ({marks})", list(row.values()))
    assert cursor.lastrowid is not None
    return int(cursor.lastrowid)


# =================================================================================================
# check runs and snapshots
# =================================================================================================


def start_check(db: Database, trigger: CheckTrigger | str, started_at: datetime | None = None) -> int:
    """Register a check as running; returns its id for `record_check` and `mark_check_overran`."""
    with write_tx(db):
        return _insert(db, "check_runs", {"trigger": CheckTrigger(trigger).value, "started_at": _now(started_at)})


def mark_check_overran(db: Database, run_id: int, note: str) -> None:
    """Note that a check ran past its interval (the next one was not started beside it)."""
    with write_tx(db):
        row = _one(db, "SELECT note FROM check_runs WHERE id = ?", [run_id])
        if row is None:
            raise NotFoundError(f"no check run {run_id}")
        text = note if not row["note"] else f"{row['note']}; {note}"
        db.execute("UPDATE check_runs SET overran = 1, note = ? WHERE id = ?", [text, run_id])


def _aps_read(verdict: ControllerVerdict) -> bool:
    """Whether the check says what the controller's APs are.

    Not when it was unreachable, nor when it was read only partly (status
    `error`): a failed AP command can drop exactly the looping APs (AireOS
    lists unjoined APs only in `show ap image all`). A `stuck` verdict counts
    as read even with errors, as the verdict itself does.
    """
    return verdict.status not in (VerdictStatus.UNREACHABLE, VerdictStatus.ERROR)


def _state_key(state: str | None) -> str:
    return (state or "").strip().lower()


def _track_ap_states(db: Database, snapshot: ControllerSnapshot, complete: bool = True) -> dict[str, str]:
    """Update `ap_state` from a snapshot whose AP list was read; returns name -> state_since text.

    An incomplete list (`read 37 of 4,135 APs`) updates the APs it shows but forgets none:
    an AP missing from it was not seen elsewhere, and dropping it would restart its
    Downloading timer."""
    taken = to_db_time(snapshot.taken_at, "snapshot taken_at")
    known = {
        r[0]: (r[1], r[2])
        for r in db.execute("SELECT ap_name, state, state_since FROM ap_state WHERE controller = ?", [snapshot.name])
    }
    seen: dict[str, AccessPoint] = {ap.name: ap for ap in snapshot.aps}
    rows = []
    since: dict[str, str] = {}
    for name, ap in seen.items():
        state, started = ap.state, taken
        if name in known:
            old_state, old_since = known[name]
            if state is None:  # listed without a state: nothing learned, keep the timer
                state, started = old_state, old_since
            elif _state_key(state) == _state_key(old_state):
                started = old_since
        since[name] = started
        rows.append((snapshot.name, name, state, started, taken))
    db.conn.executemany(
        "INSERT INTO ap_state (controller, ap_name, state, state_since, last_seen) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (controller, ap_name) DO UPDATE SET "
        "state = excluded.state, state_since = excluded.state_since, last_seen = excluded.last_seen",
        rows,
    )
    db.conn.executemany(
        "DELETE FROM ap_state WHERE controller = ? AND ap_name = ?",
        [(snapshot.name, name) for name in known.keys() - seen.keys()] if complete else [],
    )
    return since


def _snapshot_row(
    run_id: int, s: ControllerSnapshot, v: ControllerVerdict, aps_read: bool, since: Mapping[str, str]
) -> dict[str, Any]:
    clock, cert = s.clock, s.certificate
    return {
        "check_run_id": run_id,
        "controller": s.name,
        "site": s.site,
        "platform": s.platform.value,
        "host": s.host,
        "taken_at": to_db_time(s.taken_at, "snapshot taken_at"),
        "software_version": s.software_version,
        "apsps_json": dumps(list(s.apsps)),
        "clock_time": to_device_time(clock.time) if clock else None,
        "clock_source": clock.source.value if clock else None,
        "clock_authoritative": clock.authoritative if clock else None,
        "clock_synced": clock.synced if clock else None,
        "clock_timezone": clock.timezone if clock else None,
        "clock_raw": clock.raw if clock else None,
        "ntp_servers_json": dumps(s.ntp_servers),
        "cert_not_before": to_device_time(cert.not_before) if cert else None,
        "cert_not_after": to_device_time(cert.not_after) if cert else None,
        "cert_name": cert.name if cert else None,
        "cert_subject": cert.subject if cert else None,
        "errors_json": dumps(s.errors),
        "aps_read": aps_read,
        "status": v.status.value,
        "total_aps": v.total_aps,
        "affected_count": v.affected_count,
        "likely_affected_count": v.likely_affected_count,
        "not_affected_count": v.not_affected_count,
        "unknown_model_count": v.unknown_model_count,
        "at_risk_count": v.at_risk_count,
        "stuck_count": len(v.stuck_aps),
        "downloading_count": len(v.downloading_aps),
        "incomplete_json": dumps(list(v.incomplete)),
        "risks_json": dumps([w.text for w in v.warnings if w.code in RISK_CODES]),
        "stuck_aps_json": dumps(
            [{"name": f.ap.name, "model": f.ap.model, "since": since.get(f.ap.name)} for f in v.stuck_aps]
        ),
        "fix_state": v.fix.state.value if v.fix else None,
        "recommendation": v.recommendation.text if v.recommendation else None,
        "critical_json": dumps(
            [{"code": w.code, "text": w.text} for w in v.warnings if w.severity is Severity.CRITICAL]
        ),
    }


def record_check(
    db: Database,
    run: CheckRun,
    snapshots: Sequence[ControllerSnapshot],
    verdicts: Iterable[ControllerVerdict],
) -> int:
    """Write a whole check in one transaction: the run, every snapshot with its
    verdict summary and AP rows, the AP state tracking and each controller's daily
    summary. Returns the run id.

    AP rows are written only when they changed: a snapshot whose AP list is exactly
    the controller's previous one (`_shared_aps_owner`) refers to that snapshot's rows
    instead, which is what keeps the file's growth to the fleet's size.
    Verdicts are matched to snapshots by controller name; each snapshot needs one.
    """
    by_name = {v.controller: v for v in verdicts}
    names = [s.name for s in snapshots]
    if len(set(names)) != len(names):
        raise ValueError(
            "a check has one snapshot per controller; duplicates: "
            + ", ".join(sorted(n for n, c in Counter(names).items() if c > 1))
        )
    missing = [n for n in names if n not in by_name]
    if missing:
        raise ValueError("no verdict for snapshot(s): " + ", ".join(missing))
    statuses = [by_name[s.name].status for s in snapshots]
    failed = sum(1 for st in statuses if st is VerdictStatus.UNREACHABLE)
    counts = {
        "trigger": CheckTrigger(run.trigger).value,
        "started_at": to_db_time(run.started_at, "started_at"),
        "finished_at": to_db_time(run.finished_at, "finished_at"),
        "controllers_total": len(snapshots),
        "controllers_read": len(snapshots) - failed,
        "controllers_failed": failed,
        "controllers_partial": sum(1 for st in statuses if st is VerdictStatus.ERROR),
    }
    with write_tx(db):
        if run.id is None:
            run_id = _insert(db, "check_runs", {**counts, "overran": run.overran, "note": run.note})
        else:
            row = _one(db, "SELECT finished_at, overran, note FROM check_runs WHERE id = ?", [run.id])
            if row is None:
                raise NotFoundError(f"no check run {run.id}")
            if row["finished_at"] is not None:
                raise StateError(f"check run {run.id} was already recorded")
            notes = [n for n in (row["note"], run.note) if n]
            db.table("check_runs").update(
                run.id, {**counts, "overran": bool(row["overran"]) or run.overran, "note": "; ".join(notes) or None}
            )
            run_id = run.id
        ap_rows: list[tuple[Any, ...]] = []
        recorded: list[dict[str, Any]] = []
        for s in snapshots:
            verdict = by_name[s.name]
            aps_read = _aps_read(verdict)
            since = _track_ap_states(db, s, complete=not verdict.incomplete) if aps_read else {}
            row = _snapshot_row(run_id, s, verdict, aps_read, since)
            aps = [_ap_values(ap) for ap in s.aps]
            row["aps_hash"] = aps_digest(aps) if aps else None
            row["aps_snapshot_id"] = _shared_aps_owner(db, s.name, row["aps_hash"]) if aps else None
            snapshot_id = _insert_plain(db, "snapshots", row)
            if aps and row["aps_snapshot_id"] is None:
                ap_rows.extend((snapshot_id, s.name, *values) for values in aps)
            recorded.append(row)
        db.conn.executemany(
            f"INSERT INTO snapshot_aps (snapshot_id, controller, {_AP_COLUMNS}) "
            f"VALUES (?, ?, {', '.join('?' * len(_AP_FIELDS))})",
            ap_rows,
        )
        _fold_into_days(db, recorded)
    return run_id


# The AP fields a `snapshot_aps` row holds, in the order the hash and the rows use them.
_AP_FIELDS = ("name", "model", "mac", "ip", "image_version", "state", "retry_count", "location")
_AP_COLUMNS = ", ".join(_AP_FIELDS)


_ap_values: Callable[[AccessPoint], tuple[Any, ...]] = operator.attrgetter(*_AP_FIELDS)


def aps_digest(aps: Sequence[tuple[Any, ...]]) -> str:
    """A digest of AP rows as listed (every stored field, in order): equal digests, equal rows.

    The text hashed is the `repr` of the field names and the rows: the values are str,
    int or None, whose repr tells every two values apart, and it costs a fraction of JSON.
    Naming the fields means a field added to the rows later changes every digest, so new
    rows never match rows stored without it.
    """
    text = repr((_AP_FIELDS, aps))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


def _shared_aps_owner(db: Database, controller: str, digest: str | None) -> int | None:
    """The snapshot whose AP rows a new snapshot of `controller` with these rows can share.

    Compared with the controller's latest snapshot that has AP rows (an unreachable check in
    between lists none and changes nothing); one probe of a partial index. The owner is
    returned, never a snapshot that itself shares, so a reference is always one step.
    """
    row = db.execute(
        "SELECT id, aps_snapshot_id, aps_hash FROM snapshots WHERE controller = ? AND aps_hash IS NOT NULL "
        "ORDER BY taken_at DESC, id DESC LIMIT 1",
        [controller],
    ).fetchone()
    if row is None or digest is None or row[2] != digest:
        return None
    return int(row[1] if row[1] is not None else row[0])


# =================================================================================================
# daily summaries: one compact row per controller per UTC day
# =================================================================================================

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


def _fold_into_days(db: Database, snapshots: Sequence[Mapping[str, Any]]) -> None:
    """Fold snapshot rows into their controllers' daily summaries (inside the caller's transaction)."""
    keys = sorted({(s["controller"], _utc_day(s["taken_at"])) for s in snapshots})
    by_day: dict[str, list[str]] = defaultdict(list)
    for controller, day in keys:
        by_day[day].append(controller)
    days: dict[tuple[str, str], dict[str, Any]] = {}
    for day, controllers in by_day.items():
        for row in db.query(
            "SELECT * FROM controller_days WHERE day = ? AND controller IN (SELECT value FROM json_each(?))",
            [day, dumps(controllers)],
        ):
            days[(row["controller"], row["day"])] = row
    for s in snapshots:
        key = (s["controller"], _utc_day(s["taken_at"]))
        days[key] = _fold_day(days.get(key), s)
    db.conn.executemany(
        f"INSERT OR REPLACE INTO controller_days ({', '.join(_DAY_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(_DAY_COLUMNS))})",
        [tuple(d[c] for c in _DAY_COLUMNS) for d in days.values()],
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


def controller_days(db: Database, controller: str, since: date | None = None) -> list[ControllerDay]:
    """The daily summaries of one controller, oldest first (from `since`, a UTC day, if given)."""
    rows = db.query(
        "SELECT * FROM controller_days WHERE controller = ? AND day >= ? ORDER BY day",
        [controller, day_text(since) if since is not None else ""],
    )
    return [_controller_day(r) for r in rows]


def site_days(db: Database, site: str, limit: int = 10, *, pruned_only: bool = False) -> list[SiteDay]:
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


def _check_run_record(row: Mapping[str, Any]) -> CheckRunRecord:
    return CheckRunRecord(
        id=row["id"],
        trigger=CheckTrigger(row["trigger"]),
        started_at=from_db_time(row["started_at"]),
        finished_at=from_db_time_or_none(row["finished_at"]),
        controllers_total=row["controllers_total"],
        controllers_read=row["controllers_read"],
        controllers_failed=row["controllers_failed"],
        controllers_partial=row["controllers_partial"],
        overran=bool(row["overran"]),
        note=row["note"],
    )


def get_check(db: Database, run_id: int) -> CheckRunRecord:
    row = _one(db, "SELECT * FROM check_runs WHERE id = ?", [run_id])
    if row is None:
        raise NotFoundError(f"no check run {run_id}")
    return _check_run_record(row)


def recent_checks(db: Database, limit: int = 10) -> list[CheckRunRecord]:
    """The latest check runs, newest first (running ones included)."""
    rows = db.query("SELECT * FROM check_runs ORDER BY started_at DESC, id DESC LIMIT ?", [limit])
    return [_check_run_record(r) for r in rows]


def _snapshot_record(row: Mapping[str, Any]) -> SnapshotRecord:
    clock = None
    if row["clock_time"] is not None:
        clock = ClockReading(
            time=from_device_time(row["clock_time"]),
            source=ClockSource(row["clock_source"] or ClockSource.UNKNOWN),
            authoritative=to_bool(row["clock_authoritative"]),
            synced=to_bool(row["clock_synced"]),
            timezone=row["clock_timezone"],
            raw=row["clock_raw"] or "",
        )
    certificate = None
    if row["cert_not_before"] is not None and row["cert_not_after"] is not None:
        certificate = CertificateWindow(
            not_before=from_device_time(row["cert_not_before"]),
            not_after=from_device_time(row["cert_not_after"]),
            name=row["cert_name"],
            subject=row["cert_subject"],
        )
    ntp = tuple(
        NtpServer(**{**n, "options": tuple(n.get("options") or ())}) for n in loads(row["ntp_servers_json"], [])
    )
    errors = tuple(
        SnapshotError(ErrorKind(e["kind"]), e["message"], e.get("command")) for e in loads(row["errors_json"], [])
    )
    return SnapshotRecord(
        id=row["id"],
        check_run_id=row["check_run_id"],
        controller=row["controller"],
        site=row["site"],
        platform=Platform(row["platform"]),
        host=row["host"],
        taken_at=from_db_time(row["taken_at"]),
        software_version=row["software_version"],
        apsps=tuple(loads(row["apsps_json"], [])),
        clock=clock,
        ntp_servers=ntp,
        certificate=certificate,
        errors=errors,
        aps_read=bool(row["aps_read"]),
        status=VerdictStatus(row["status"]),
        total_aps=row["total_aps"],
        affected_count=row["affected_count"],
        likely_affected_count=row["likely_affected_count"],
        not_affected_count=row["not_affected_count"],
        unknown_model_count=row["unknown_model_count"],
        at_risk_count=row["at_risk_count"],
        stuck_count=row["stuck_count"],
        downloading_count=row["downloading_count"],
        incomplete=tuple(loads(row["incomplete_json"], [])),
        risks=tuple(loads(row["risks_json"], [])),
        stuck_aps=tuple(
            StuckAP(a["name"], a.get("model"), from_db_time_or_none(a.get("since")))
            for a in loads(row["stuck_aps_json"], [])
        ),
        fix_state=FixState(row["fix_state"]) if row["fix_state"] else None,
        recommendation=row["recommendation"],
        critical=tuple(CriticalFinding(c["code"], c["text"]) for c in loads(row["critical_json"], [])),
    )


def get_snapshot(db: Database, snapshot_id: int) -> SnapshotRecord:
    row = _one(db, "SELECT * FROM snapshots WHERE id = ?", [snapshot_id])
    if row is None:
        raise NotFoundError(f"no snapshot {snapshot_id}")
    return _snapshot_record(row)


def check_snapshots(db: Database, run_id: int) -> list[SnapshotRecord]:
    """The snapshots of one check run, by controller name."""
    rows = db.query("SELECT * FROM snapshots WHERE check_run_id = ? ORDER BY controller", [run_id])
    return [_snapshot_record(r) for r in rows]


def snapshot_aps(db: Database, snapshot_id: int) -> list[APRecord]:
    """The AP rows of one snapshot, in the order the controller listed them.

    Rows shared with an earlier snapshot (an unchanged AP list) are read from that
    snapshot and come back as this one's: the answer is what was recorded for it.
    """
    rows = db.execute(
        f"SELECT ?, controller, {_AP_COLUMNS} FROM snapshot_aps "
        "WHERE snapshot_id = (SELECT coalesce(aps_snapshot_id, id) FROM snapshots WHERE id = ?) ORDER BY rowid",
        [snapshot_id, snapshot_id],
    )
    return [APRecord(*r) for r in rows]


# =================================================================================================
# the stuck rule's memory
# =================================================================================================


def ap_states(db: Database, controller: str) -> list[APState]:
    rows = db.execute(
        "SELECT controller, ap_name, state, state_since, last_seen FROM ap_state WHERE controller = ? ORDER BY ap_name",
        [controller],
    )
    return [APState(c, n, st, from_db_time(since), from_db_time(seen)) for c, n, st, since, seen in rows]


def downloading_since(db: Database, controller: str) -> dict[str, datetime]:
    """AP name -> when it was first seen Downloading (or Predownloading), continuously."""
    return {
        s.ap_name: s.state_since
        for s in ap_states(db, controller)
        if AccessPoint(s.ap_name, state=s.state).is_downloading
    }


# =================================================================================================
# history and summaries
# =================================================================================================

# The latest snapshot id per controller at or before :at (controllers limited by {where}).
# One index probe per controller on (controller, taken_at, id): no sort of the history.
_LATEST_IDS = """
    SELECT (SELECT x.id FROM snapshots x
            WHERE x.controller = c.controller AND x.taken_at <= :at
            ORDER BY x.taken_at DESC, x.id DESC LIMIT 1)
    FROM (SELECT DISTINCT controller FROM snapshots {where}) c
"""

_FAR_FUTURE = "9999-12-31T23:59:59.999999+00:00"


def _latest(db: Database, at: str, site: str | None) -> list[SnapshotRecord]:
    where = "WHERE site = :site" if site is not None else ""
    sql = f"SELECT * FROM snapshots WHERE id IN ({_LATEST_IDS.format(where=where)})"
    if site is not None:
        sql += " AND site = :site"
    rows = db.query(sql + " ORDER BY site, controller", {"at": at, "site": site})
    return [_snapshot_record(r) for r in rows]


def latest_snapshots(db: Database, site: str | None = None) -> list[SnapshotRecord]:
    """The latest snapshot of every controller (of `site`, if given), by site and name."""
    return _latest(db, _FAR_FUTURE, site)


def site_summary_at(db: Database, site: str, at: datetime) -> list[SnapshotRecord]:
    """The latest snapshot at or before `at` of each controller of `site`."""
    return _latest(db, to_db_time(at, "at"), site)


def site_history(db: Database, site: str, limit: int = 10) -> list[SiteCheck | SiteDay]:
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


def _site_checks(db: Database, site: str, limit: int) -> list[SiteCheck]:
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
    runs = {r["id"]: _check_run_record(r) for r in db.query(f"SELECT * FROM check_runs WHERE id IN ({marks})", run_ids)}
    by_run: dict[int, list[SnapshotRecord]] = defaultdict(list)
    for row in db.query(
        f"SELECT * FROM snapshots WHERE site = ? AND check_run_id IN ({marks}) ORDER BY controller",
        [site, *run_ids],
    ):
        by_run[row["check_run_id"]].append(_snapshot_record(row))
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


def fleet_summary(db: Database, now: datetime | None = None, compare: timedelta = timedelta(hours=24)) -> FleetSummary:
    """Per site, from each controller's latest snapshot at `now`, compared with `compare` earlier.

    Reads snapshot summary rows only (counts live on them), never AP rows.
    """
    at = utc_now() if now is None else now
    then = at - compare
    with read_tx(db):
        current = _latest(db, to_db_time(at, "now"), None)
        before = _latest(db, to_db_time(then), None)
    return FleetSummary(at=at, compared_with=then, sites=tuple(_site_summaries(current, before)))


# =================================================================================================
# alerts
# =================================================================================================


def _alert_record(row: Mapping[str, Any]) -> AlertRecord:
    return AlertRecord(
        id=row["id"],
        kind=AlertKind(row["kind"]),
        controller=row["controller"],
        site=row["site"],
        channel=row["channel"],
        status=AlertStatus(row["status"]),
        opened_at=from_db_time(row["opened_at"]),
        updated_at=from_db_time(row["updated_at"]),
        resolved_at=from_db_time_or_none(row["resolved_at"]),
        payload=loads(row["payload_json"], {}),
        slack_ts=row["slack_ts"],
        slack_channel=row["slack_channel"],
        delivery=Delivery(row["delivery"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        last_notified_at=from_db_time_or_none(row["last_notified_at"]),
        send_key=row["send_key"],
        sending_since=from_db_time_or_none(row["sending_since"]),
    )


def get_alert(db: Database, alert_id: int) -> AlertRecord:
    row = _one(db, "SELECT * FROM alerts WHERE id = ?", [alert_id])
    if row is None:
        raise NotFoundError(f"no alert {alert_id}")
    return _alert_record(row)


def get_open_alert(db: Database, controller: str, kind: AlertKind | str) -> AlertRecord | None:
    row = _one(
        db,
        "SELECT * FROM alerts WHERE controller = ? AND kind = ? AND status = 'open'",
        [controller, AlertKind(kind).value],
    )
    return None if row is None else _alert_record(row)


def open_alerts(db: Database, kind: AlertKind | str | None = None) -> list[AlertRecord]:
    """Every open alert (of `kind`), oldest first: what the next check may resolve."""
    if kind is None:
        rows = db.query("SELECT * FROM alerts WHERE status = 'open' ORDER BY opened_at, id")
    else:
        rows = db.query(
            "SELECT * FROM alerts WHERE status = 'open' AND kind = ? ORDER BY opened_at, id", [AlertKind(kind).value]
        )
    return [_alert_record(r) for r in rows]


def open_alert(
    db: Database,
    kind: AlertKind | str,
    controller: str,
    *,
    channel: str,
    payload: Mapping[str, Any],
    site: str | None = None,
    now: datetime | None = None,
) -> AlertRecord:
    """Open an incident for a controller; delivery starts `pending`.

    Raises `StateError` if one of that kind is already open for the controller
    (use `get_open_alert` and `update_alert_payload`).
    """
    stamp = _now(now)
    with write_tx(db):
        existing = get_open_alert(db, controller, kind)
        if existing is not None:
            raise StateError(f"alert {existing.id} ({existing.kind}) is already open for {controller}")
        alert_id = _insert(
            db,
            "alerts",
            {
                "kind": AlertKind(kind).value,
                "controller": controller,
                "site": site,
                "channel": channel,
                "status": AlertStatus.OPEN.value,
                "opened_at": stamp,
                "updated_at": stamp,
                "payload_json": dumps(dict(payload)),
                "delivery": Delivery.PENDING.value,
            },
        )
        return get_alert(db, alert_id)


def _change_alert(db: Database, alert_id: int, sql_set: str, params: Sequence[Any]) -> AlertRecord:
    with write_tx(db):
        cursor = db.execute(f"UPDATE alerts SET {sql_set} WHERE id = ?", [*params, alert_id])
        if cursor.rowcount == 0:
            raise NotFoundError(f"no alert {alert_id}")
        return get_alert(db, alert_id)


def update_alert_payload(
    db: Database, alert_id: int, payload: Mapping[str, Any], *, now: datetime | None = None
) -> AlertRecord:
    """Replace the alert's current payload (what its message should say now)."""
    return _change_alert(db, alert_id, "payload_json = ?, updated_at = ?", [dumps(dict(payload)), _now(now)])


def mark_delivered(db: Database, alert_id: int, ts: str, channel: str, *, now: datetime | None = None) -> AlertRecord:
    """The alert message is in Slack at (`channel`, `ts`)."""
    stamp = _now(now)
    return _change_alert(
        db,
        alert_id,
        "delivery = 'delivered', slack_ts = ?, slack_channel = ?, attempts = attempts + 1, last_error = NULL, "
        "last_notified_at = ?, updated_at = ?",
        [ts, channel, stamp, stamp],
    )


def mark_sending(db: Database, alert_id: int, key: str, *, now: datetime | None = None) -> AlertRecord:
    """Record, before the post, that the alert message is about to be posted with metadata `key`.

    The first attempt's key and time stay (later attempts reuse them), so whatever attempt
    reached Slack is found by the same key, searching from the first attempt on. Raises
    `StateError` when the message is already delivered: posting again would duplicate it.
    """
    with write_tx(db):
        alert = get_alert(db, alert_id)
        if alert.slack_ts is not None:
            raise StateError(f"alert {alert_id} is already in Slack at {alert.slack_ts}")
        _begin_send(db, "alerts", alert_id, key, now)
        return get_alert(db, alert_id)


def _begin_send(db: Database, table: str, row_id: int, key: str, now: datetime | None) -> None:
    """Set the send key and start of the first attempt; later attempts keep both."""
    db.execute(
        f"UPDATE {table} SET send_key = coalesce(send_key, ?), sending_since = coalesce(sending_since, ?) WHERE id = ?",
        [key, _now(now), row_id],
    )


def mark_delivery_failed(
    db: Database, alert_id: int, error: BaseException | str, *, now: datetime | None = None
) -> AlertRecord:
    """Posting failed; it stays in `alerts_pending_delivery` to retry. The error is kept short and redacted."""
    return _change_alert(
        db,
        alert_id,
        "delivery = 'failed', attempts = attempts + 1, last_error = ?, updated_at = ?",
        [short_error(error), _now(now)],
    )


def mark_notified(db: Database, alert_id: int, *, now: datetime | None = None) -> AlertRecord:
    """Record that people were told about the alert now (for dedupe windows)."""
    stamp = _now(now)
    return _change_alert(db, alert_id, "last_notified_at = ?, updated_at = ?", [stamp, stamp])


def resolve_alert(
    db: Database, alert_id: int, *, payload: Mapping[str, Any] | None = None, now: datetime | None = None
) -> AlertRecord:
    """Close the incident (optionally with a final payload). Raises `StateError` if not open."""
    stamp = _now(now)
    with write_tx(db):
        alert = get_alert(db, alert_id)
        if not alert.is_open:
            raise StateError(f"alert {alert_id} is already resolved")
        sets, params = "status = 'resolved', resolved_at = ?, updated_at = ?", [stamp, stamp]
        if payload is not None:
            sets, params = sets + ", payload_json = ?", [*params, dumps(dict(payload))]
        return _change_alert(db, alert_id, sets, params)


def reopen_alert(
    db: Database, alert_id: int, *, payload: Mapping[str, Any], now: datetime | None = None
) -> AlertRecord:
    """Reopen a recently resolved incident (a flapping controller): same message, same thread."""
    stamp = _now(now)
    with write_tx(db):
        alert = get_alert(db, alert_id)
        if alert.is_open:
            raise StateError(f"alert {alert_id} is already open")
        sets = "status = 'open', resolved_at = NULL, updated_at = ?, payload_json = ?"
        return _change_alert(db, alert_id, sets, [stamp, dumps(dict(payload))])


def last_resolved_alert(db: Database, controller: str, kind: AlertKind | str) -> AlertRecord | None:
    """The most recently resolved alert of this kind for the controller (flapping dedupe)."""
    row = _one(
        db,
        "SELECT * FROM alerts WHERE controller = ? AND kind = ? AND status = 'resolved' "
        "ORDER BY resolved_at DESC, id DESC LIMIT 1",
        [controller, AlertKind(kind).value],
    )
    return None if row is None else _alert_record(row)


def alerts_pending_delivery(db: Database) -> list[AlertRecord]:
    """Alerts whose message never reached Slack (pending or failed), oldest first.

    Resolved ones are included (their `status` says so): an incident that
    opened and closed while Slack was unreachable is still reported.
    """
    rows = db.query("SELECT * FROM alerts WHERE delivery != 'delivered' ORDER BY opened_at, id")
    return [_alert_record(r) for r in rows]


# =================================================================================================
# the outbox: notes and message updates for delivered alerts
# =================================================================================================


def enqueue_event(
    db: Database,
    alert_id: int,
    kind: EventKind | str,
    payload: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> int:
    """Queue a thread note / message update / resolve note for an alert; returns its id."""
    with write_tx(db):
        get_alert(db, alert_id)  # NotFoundError rather than a foreign-key error
        return _insert(
            db,
            "alert_events",
            {
                "alert_id": alert_id,
                "kind": EventKind(kind).value,
                "payload_json": dumps(dict(payload)),
                "created_at": _now(now),
            },
        )


_EVENT_SELECT = (
    "SELECT e.*, a.slack_ts AS alert_ts, a.slack_channel AS alert_channel, a.controller AS alert_controller "
    "FROM alert_events e JOIN alerts a ON a.id = e.alert_id "
)


def _event_record(row: Mapping[str, Any]) -> EventRecord:
    return EventRecord(
        id=row["id"],
        alert_id=row["alert_id"],
        kind=EventKind(row["kind"]),
        payload=loads(row["payload_json"], {}),
        created_at=from_db_time(row["created_at"]),
        delivered_at=from_db_time_or_none(row["delivered_at"]),
        slack_ts=row["slack_ts"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        alert_ts=row["alert_ts"],
        alert_channel=row["alert_channel"],
        controller=row["alert_controller"],
        send_key=row["send_key"],
        sending_since=from_db_time_or_none(row["sending_since"]),
    )


def get_event(db: Database, event_id: int) -> EventRecord:
    row = _one(db, _EVENT_SELECT + "WHERE e.id = ?", [event_id])
    if row is None:
        raise NotFoundError(f"no alert event {event_id}")
    return _event_record(row)


def pending_events(db: Database, limit: int | None = None) -> list[EventRecord]:
    """Undelivered events, in the order they were queued, whose alert message is in Slack.

    Events of an alert not delivered yet wait (they need its `ts`); failed
    ones come back here every time until `mark_event_delivered`.
    """
    rows = db.query(
        _EVENT_SELECT + "WHERE e.delivered_at IS NULL AND a.slack_ts IS NOT NULL ORDER BY e.id LIMIT ?",
        [-1 if limit is None else limit],
    )
    return [_event_record(r) for r in rows]


def outbox_pending(db: Database) -> int:
    """How many outbox rows have not reached Slack: alert messages never delivered (pending or
    failed) plus queued notes and updates. One number, because "Slack is behind" is one symptom
    whether a top-level post or a thread note is stuck; events waiting for their alert count too."""
    alerts = db.execute("SELECT COUNT(*) FROM alerts WHERE delivery != 'delivered'").fetchone()[0]
    events = db.execute("SELECT COUNT(*) FROM alert_events WHERE delivered_at IS NULL").fetchone()[0]
    return int(alerts) + int(events)


def ping(db: Database) -> None:
    """The cheapest statement that proves the connection still answers (health checks)."""
    db.execute("SELECT 1").fetchone()


def mark_event_delivered(
    db: Database, event_id: int, *, ts: str | None = None, now: datetime | None = None
) -> EventRecord:
    """The event reached Slack (`ts` of the note, if one was posted); the alert counts as notified now."""
    stamp = _now(now)
    with write_tx(db):
        event = get_event(db, event_id)
        db.execute(
            "UPDATE alert_events SET delivered_at = ?, slack_ts = ?, attempts = attempts + 1, last_error = NULL "
            "WHERE id = ?",
            [stamp, ts, event_id],
        )
        db.execute("UPDATE alerts SET last_notified_at = ? WHERE id = ?", [stamp, event.alert_id])
        return get_event(db, event_id)


def mark_event_sending(db: Database, event_id: int, key: str, *, now: datetime | None = None) -> EventRecord:
    """Record, before the post, that the thread note is about to be posted with metadata `key`
    (first attempt's key and time kept, as `mark_sending`). `StateError` once delivered."""
    with write_tx(db):
        event = get_event(db, event_id)
        if event.delivered_at is not None:
            raise StateError(f"alert event {event_id} was already delivered")
        _begin_send(db, "alert_events", event_id, key, now)
        return get_event(db, event_id)


def mark_event_failed(db: Database, event_id: int, error: BaseException | str) -> EventRecord:
    """Delivery failed; the event stays pending for the next try (error kept short and redacted)."""
    with write_tx(db):
        cursor = db.execute(
            "UPDATE alert_events SET attempts = attempts + 1, last_error = ? WHERE id = ? AND delivered_at IS NULL",
            [short_error(error), event_id],
        )
        if cursor.rowcount == 0:
            event = get_event(db, event_id)  # NotFoundError if missing
            raise StateError(f"alert event {event.id} was already delivered")
        return get_event(db, event_id)


# =================================================================================================
# digests
# =================================================================================================


def _digest_record(row: Mapping[str, Any]) -> DigestRecord:
    return DigestRecord(
        id=row["id"],
        day=date.fromisoformat(row["day"]),
        sent_at=from_db_time(row["sent_at"]),
        channel=row["channel"],
        ts=row["ts"],
        summary=loads(row["summary_json"], {}),
    )


def get_digest(db: Database, day: date | str) -> DigestRecord | None:
    row = _one(db, "SELECT * FROM digests WHERE day = ?", [day_text(day)])
    return None if row is None else _digest_record(row)


def digest_sent(db: Database, day: date | str) -> bool:
    """Whether the digest for `day` (a date in the configured timezone) went out."""
    return get_digest(db, day) is not None


def record_digest(
    db: Database,
    day: date | str,
    *,
    channel: str,
    ts: str | None,
    summary: Mapping[str, Any],
    sent_at: datetime | None = None,
) -> DigestRecord:
    """Remember that the digest for `day` was sent. Raises `StateError` if one already was."""
    with write_tx(db):
        if digest_sent(db, day):
            raise StateError(f"the digest for {day_text(day)} was already recorded")
        digest_id = _insert(
            db,
            "digests",
            {
                "day": day_text(day),
                "sent_at": _now(sent_at),
                "channel": channel,
                "ts": ts,
                "summary_json": dumps(dict(summary)),
            },
        )
        return _digest_record(db.table("digests").get(digest_id))


# =================================================================================================
# housekeeping
# =================================================================================================


def prune(db: Database, older_than: datetime) -> PruneResult:
    """Delete history older than `older_than`, keep its daily summaries, give the space back.

    Removes snapshots taken before it, except each controller's latest snapshot at or
    before it (so "the latest snapshot at or before t" stays exact for every t from
    `older_than` on, which is what the digest's day-ago comparison asks, and each
    controller's latest snapshot is never removed); their AP rows, except rows a kept
    snapshot still shares, which move to the earliest kept snapshot sharing them; check
    runs started before it that have no snapshot left (running ones are kept); delivered
    events delivered before it; resolved, delivered alerts resolved before it with no
    event left; daily summaries of days `DAILY_SUMMARY_DAYS` before it. Never an open
    alert, an undelivered alert or an undelivered event. Every pruned snapshot's day keeps
    its summary (counted in its `pruned`). The AP state tracking is current state, not
    history, and is kept.

    Outside a caller's transaction, the freed pages are then handed back to the file
    system (`reclaim_space`), so the file shrinks instead of only ceasing to grow.
    """
    cutoff = to_db_time(older_than, "older_than")
    days_cutoff = (older_than.astimezone(UTC) - timedelta(days=DAILY_SUMMARY_DAYS)).date().isoformat()
    with write_tx(db):
        _select_prunable(db, cutoff)
        _summarise_unsummarised(db)
        db.execute(
            "UPDATE controller_days SET pruned = pruned + p.n FROM ("
            "SELECT s.controller, substr(s.taken_at, 1, 10) AS day, count(*) AS n "
            "FROM prune_snapshots x CROSS JOIN snapshots s ON s.id = x.id GROUP BY 1, 2) AS p "
            "WHERE controller_days.controller = p.controller AND controller_days.day = p.day"
        )
        _hand_over_shared_aps(db)
        ap_rows = db.execute("DELETE FROM snapshot_aps WHERE snapshot_id IN (SELECT id FROM prune_snapshots)").rowcount
        snapshots = db.execute("DELETE FROM snapshots WHERE id IN (SELECT id FROM prune_snapshots)").rowcount
        db.execute("DROP TABLE prune_snapshots")
        runs = db.execute(
            "DELETE FROM check_runs WHERE started_at < ? AND finished_at IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.check_run_id = check_runs.id)",
            [cutoff],
        ).rowcount
        events = db.execute(
            "DELETE FROM alert_events WHERE delivered_at IS NOT NULL AND delivered_at < ?", [cutoff]
        ).rowcount
        alerts = db.execute(
            "DELETE FROM alerts WHERE status = 'resolved' AND resolved_at < ? AND delivery = 'delivered' "
            "AND NOT EXISTS (SELECT 1 FROM alert_events e WHERE e.alert_id = alerts.id)",
            [cutoff],
        ).rowcount
        days = db.execute("DELETE FROM controller_days WHERE day < ?", [days_cutoff]).rowcount
    pages = 0 if db.conn.in_transaction else reclaim_space(db)
    return PruneResult(
        ap_rows=ap_rows,
        snapshots=snapshots,
        check_runs=runs,
        events=events,
        alerts=alerts,
        daily_summaries=days,
        pages_freed=pages,
    )


# The prune queries below start from `prune_snapshots` (CROSS JOIN fixes SQLite's join order): a
# day's worth of snapshots, probed by primary key or index, never a scan of the whole history.


def _select_prunable(db: Database, cutoff: str) -> None:
    """Fill the temp table `prune_snapshots` with the snapshots `prune` deletes.

    Everything before the cutoff except each controller's latest at or before it: one
    probe of (controller, taken_at, id) per candidate.
    """
    db.execute("CREATE TEMP TABLE IF NOT EXISTS prune_snapshots (id INTEGER PRIMARY KEY)")
    db.execute("DELETE FROM prune_snapshots")
    db.execute(
        "INSERT INTO prune_snapshots (id) SELECT s.id FROM snapshots s WHERE s.taken_at < :cutoff "
        "AND s.id != (SELECT x.id FROM snapshots x WHERE x.controller = s.controller AND x.taken_at <= :cutoff "
        "ORDER BY x.taken_at DESC, x.id DESC LIMIT 1)",
        {"cutoff": cutoff},
    )


def _summarise_unsummarised(db: Database) -> None:
    """The guarantee that a pruned day keeps its summary, whatever wrote the snapshot.

    `record_check` and migration 6 summarise every snapshot's day; a day with no summary
    (rows written some other way: by hand, an old tool) is summarised here from all its
    snapshots before any of them goes.
    """
    missing = db.execute(
        "SELECT DISTINCT s.controller, substr(s.taken_at, 1, 10) FROM prune_snapshots x "
        "CROSS JOIN snapshots s ON s.id = x.id WHERE NOT EXISTS ("
        "SELECT 1 FROM controller_days d WHERE d.controller = s.controller AND d.day = substr(s.taken_at, 1, 10))"
    ).fetchall()
    for controller, day in missing:
        next_day = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
        _fold_into_days(
            db,
            list(
                db.query(
                    "SELECT * FROM snapshots WHERE controller = ? AND taken_at >= ? AND taken_at < ?",
                    [controller, day, next_day],
                )
            ),
        )


def _hand_over_shared_aps(db: Database) -> None:
    """AP rows of a pruned snapshot that kept snapshots share move to the earliest of those.

    Moving the rows (an UPDATE of their `snapshot_id`, rowid order kept) rather than keeping
    the old snapshot means a kept snapshot never refers to a deleted one, which the foreign
    keys enforce as well.
    """
    db.execute("CREATE TEMP TABLE IF NOT EXISTS prune_handover (old_owner INTEGER PRIMARY KEY, new_owner INTEGER)")
    db.execute("DELETE FROM prune_handover")
    db.execute(
        "INSERT INTO prune_handover (old_owner, new_owner) "
        "SELECT s.aps_snapshot_id, min(s.id) FROM prune_snapshots p CROSS JOIN snapshots s ON s.aps_snapshot_id = p.id "
        "WHERE s.id NOT IN (SELECT id FROM prune_snapshots) GROUP BY s.aps_snapshot_id"
    )
    db.execute(
        "UPDATE snapshot_aps SET snapshot_id = (SELECT new_owner FROM prune_handover WHERE old_owner = snapshot_id) "
        "WHERE snapshot_id IN (SELECT old_owner FROM prune_handover)"
    )
    db.execute(
        "UPDATE snapshots SET aps_snapshot_id = nullif("
        "(SELECT new_owner FROM prune_handover WHERE old_owner = snapshots.aps_snapshot_id), id) "
        "WHERE aps_snapshot_id IN (SELECT old_owner FROM prune_handover) "
        "AND id NOT IN (SELECT id FROM prune_snapshots)"
    )
    db.execute("DROP TABLE prune_handover")


def reclaim_space(db: Database) -> int:
    """Hand the file's free pages back to the file system; returns how many pages it shrank by.

    A file in `auto_vacuum = INCREMENTAL` mode (every file this bot creates) runs
    `PRAGMA incremental_vacuum`; an older file is switched to that mode once, by setting
    the pragma and a full `VACUUM` (which rewrites the file: it needs free disk space for a
    copy of the file, which in WAL mode goes through the WAL, and holds the write lock while
    it runs). A WAL checkpoint then writes
    the result to the file and empties the WAL. Must run outside a transaction.
    """
    if db.conn.in_transaction:
        raise StateError("reclaim_space cannot run inside a transaction (VACUUM cannot)")
    before = _page_count(db)
    try:
        if db.execute("PRAGMA auto_vacuum").fetchone()[0] != _AUTO_VACUUM_INCREMENTAL:
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            db.execute("VACUUM")
        else:
            # Python's execute() steps a statement once, and this pragma frees one page per step;
            # executescript() steps it to the end. (Not in a transaction: checked above.)
            db.conn.executescript("PRAGMA incremental_vacuum;")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.OperationalError as error:
        # A full disk (the one-off VACUUM needs room for a copy of the file, in the WAL) or a
        # busy reader: the prune itself is committed, and the space comes back next time.
        log.warning("could not give the database's free pages back (%s); the next housekeeping retries", error)
        return 0
    return max(0, before - _page_count(db))


_AUTO_VACUUM_INCREMENTAL = 2


def _page_count(db: Database) -> int:
    return int(db.execute("PRAGMA page_count").fetchone()[0])
