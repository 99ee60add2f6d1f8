"""Check runs: register one as running, record a whole check in one transaction, read runs back.

Why one module: a check is written as a unit (the run, one snapshot per controller with its
verdict summary, the AP rows, the stuck rule's memory and the daily summaries) so that a crash
never leaves half a check; `record_check` is that unit and the rest of this module reads what
it wrote. The AP rows, the AP state tracking and the daily summaries it writes are each
explained in their own module (`snapshots`, `ap_state`, `days`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.domain.models import ControllerSnapshot
from bot.domain.verdict import RISK_CODES, ControllerVerdict, Severity, VerdictStatus
from bot.store.ap_state import track_ap_states
from bot.store.codec import dumps, from_db_time, from_db_time_or_none, to_db_time, to_device_time
from bot.store.days import fold_into_days
from bot.store.db import write_tx
from bot.store.records import CheckRun, CheckRunRecord, CheckTrigger, StateError
from bot.store.rows import get_row, insert_plain_row, insert_row, now_text, rows_where, update_row
from bot.store.snapshots import AP_COLUMNS, AP_FIELDS, ap_values, aps_digest, shared_aps_owner
from bot.store.sql import Db, execute_many


def start_check(db: Db, trigger: CheckTrigger | str, started_at: datetime | None = None) -> int:
    """Register a check as running; returns its id for `record_check` and `mark_check_overran`."""
    with write_tx(db):
        return insert_row(
            db, "check_runs", {"trigger": CheckTrigger(trigger).value, "started_at": now_text(started_at)}
        )


def mark_check_overran(db: Db, run_id: int, note: str) -> None:
    """Note that a check ran past its interval (the next one was not started beside it)."""
    with write_tx(db):
        row = get_row(db, "check_runs", run_id, f"no check run {run_id}")
        text = note if not row["note"] else f"{row['note']}; {note}"
        update_row(db, "check_runs", run_id, {"overran": 1, "note": text})


def _aps_read(verdict: ControllerVerdict) -> bool:
    """Whether the check says what the controller's APs are.

    Not when it was unreachable, nor when it was read only partly (status
    `error`): a failed AP command can drop exactly the looping APs (AireOS
    lists unjoined APs only in `show ap image all`). A `stuck` verdict counts
    as read even with errors, as the verdict itself does.
    """
    return verdict.status not in (VerdictStatus.UNREACHABLE, VerdictStatus.ERROR)


def _snapshot_row(
    run_id: int, s: ControllerSnapshot, v: ControllerVerdict, aps_read: bool, since: Mapping[str, str]
) -> dict[str, Any]:
    clock, cert = s.clock, s.certificate
    return {
        "check_run_id": run_id,
        "controller": s.name,
        "site": s.site,
        "platform": s.platform,
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
    db: Db,
    run: CheckRun,
    snapshots: Sequence[ControllerSnapshot],
    verdicts: Iterable[ControllerVerdict],
) -> int:
    """Write a whole check in one transaction: the run, every snapshot with its
    verdict summary and AP rows, the AP state tracking and each controller's daily
    summary. Returns the run id.

    AP rows are written only when they changed: a snapshot whose AP list is exactly
    the controller's previous one (`shared_aps_owner`) refers to that snapshot's rows
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
            run_id = insert_row(db, "check_runs", {**counts, "overran": run.overran, "note": run.note})
        else:
            row = get_row(db, "check_runs", run.id, f"no check run {run.id}")
            if row["finished_at"] is not None:
                raise StateError(f"check run {run.id} was already recorded")
            notes = [n for n in (row["note"], run.note) if n]
            update_row(
                db,
                "check_runs",
                run.id,
                {**counts, "overran": bool(row["overran"]) or run.overran, "note": "; ".join(notes) or None},
            )
            run_id = run.id
        ap_rows: list[tuple[Any, ...]] = []
        recorded: list[dict[str, Any]] = []
        for s in snapshots:
            verdict = by_name[s.name]
            aps_read = _aps_read(verdict)
            since = track_ap_states(db, s, complete=not verdict.incomplete) if aps_read else {}
            row = _snapshot_row(run_id, s, verdict, aps_read, since)
            aps = [ap_values(ap) for ap in s.aps]
            row["aps_hash"] = aps_digest(aps) if aps else None
            row["aps_snapshot_id"] = shared_aps_owner(db, s.name, row["aps_hash"]) if aps else None
            snapshot_id = insert_plain_row(db, "snapshots", row)
            if aps and row["aps_snapshot_id"] is None:
                ap_rows.extend((snapshot_id, s.name, *values) for values in aps)
            recorded.append(row)
        # One statement for tens of thousands of plain rows, without a table API's per-row work.
        execute_many(
            db,
            f"INSERT INTO snapshot_aps (snapshot_id, controller, {AP_COLUMNS}) "
            f"VALUES (?, ?, {', '.join('?' * len(AP_FIELDS))})",
            ap_rows,
        )
        fold_into_days(db, recorded)
    return run_id


def check_run_record(row: Mapping[str, Any]) -> CheckRunRecord:
    """A `check_runs` row decoded (shared with `history`, which lists runs with their snapshots)."""
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


def get_check(db: Db, run_id: int) -> CheckRunRecord:
    """One check run by id (`NotFoundError` without it)."""
    return check_run_record(get_row(db, "check_runs", run_id, f"no check run {run_id}"))


def recent_checks(db: Db, limit: int = 10) -> list[CheckRunRecord]:
    """The latest check runs, newest first (running ones included)."""
    rows = rows_where(db, "check_runs", order_by="started_at DESC, id DESC", limit=int(limit))
    return [check_run_record(r) for r in rows]


def consecutive_unreachable(db: Db, controller: str, limit: int) -> int:
    """How many of the controller's latest snapshots (at most `limit`) in a row found it unreachable.

    The alert rules open an unreachable alert only after several failed checks in a row, so one
    dropped SSH session is not an incident; this counts them from the newest back.
    """
    rows = db.execute(
        "SELECT status FROM snapshots WHERE controller = ? ORDER BY taken_at DESC, id DESC LIMIT ?",
        [controller, limit],
    ).fetchall()
    count = 0
    for (status,) in rows:
        if status != VerdictStatus.UNREACHABLE.value:
            break
        count += 1
    return count
