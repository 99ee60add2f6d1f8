"""Query functions for remediation: requests, votes, runs, steps, recorded config, audit.

Synchronous functions taking the `Database` first, run through
`Store.read(fn, ...)` / `Store.write(fn, ...)` (serialised writes, one
`BEGIN IMMEDIATE` transaction each). The schema (migration 4) enforces the
rules that must hold even if this code had a bug: one active request and one
active run per controller, an approval counted once per person, an
append-only audit, a recorded configuration that cannot be altered and is
kept until verified.

Every write that matters for the audit appends its audit entry in the same
transaction, so the audit never misses a state change that happened.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.store.codec import dumps, from_db_time, from_db_time_or_none, loads, to_db_time
from bot.store.db import read_tx, write_tx
from bot.store.records import NotFoundError, StateError

FINAL_REQUEST = ("rejected", "expired", "succeeded", "failed")
ACTIVE_RUN = ("pending", "running", "undoing")


class ControllerBusyError(StateError):
    """A controller already has an active request or run."""

    def __init__(self, controller: str, request_id: int | None, status: str | None) -> None:
        held = f"request #{request_id} ({status})" if request_id is not None else "an active run"
        super().__init__(f"{controller} already has {held}: only one request or run per controller at a time")
        self.controller = controller
        self.request_id = request_id
        self.status = status


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetRow:
    controller: str
    platform: str
    playbook: str
    params: dict[str, Any]
    active: bool


@dataclass(frozen=True)
class VoteRow:
    user_id: str
    vote: str
    at: datetime
    counted: bool
    reason: str | None


@dataclass(frozen=True)
class RequestRow:
    id: int
    site: str
    requester: str
    status: str
    required_approvals: int
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    finished_at: datetime | None
    rejected_by: str | None
    channel: str | None
    message_ts: str | None
    view: dict[str, Any]
    note: str | None
    targets: tuple[TargetRow, ...] = ()
    votes: tuple[VoteRow, ...] = ()

    @property
    def approvals(self) -> tuple[VoteRow, ...]:
        return tuple(v for v in self.votes if v.vote == "approve" and v.counted)


@dataclass(frozen=True)
class StepRow:
    idx: int
    step_id: str
    action: str
    title: str
    changes: bool
    undo_action: str | None
    state: str
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    attempts: int
    result: dict[str, Any]
    error: str | None


@dataclass(frozen=True)
class RunRow:
    id: int
    request_id: int | None
    controller: str
    site: str | None
    platform: str
    host: str
    port: int
    credentials: dict[str, str]
    playbook: str
    plan: dict[str, Any]
    params: dict[str, Any]
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    outcome: str | None
    warnings: tuple[str, ...]
    steps: tuple[StepRow, ...] = ()


@dataclass(frozen=True)
class RecordedRow:
    run_id: int
    controller: str
    platform: str
    captured_at: datetime
    config: dict[str, Any]
    verified_at: datetime | None
    verified_note: str | None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    kind: str
    text: str
    request_id: int | None = None
    run_id: int | None = None
    controller: str | None = None
    actor: str | None = None
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Audit
# ---------------------------------------------------------------------------


def _audit(
    db: Database,
    at: datetime,
    kind: str,
    text: str,
    *,
    request_id: int | None = None,
    run_id: int | None = None,
    controller: str | None = None,
    actor: str | None = None,
    step: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> int:
    cursor = db.execute(
        "INSERT INTO remediation_audit (at, request_id, run_id, controller, kind, actor, step, text, data_json) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [to_db_time(at), request_id, run_id, controller, kind, actor, step, text, dumps(dict(data or {}))],
    )
    return int(cursor.lastrowid or 0)


def append_audit(db: Database, at: datetime, kind: str, text: str, **context: Any) -> int:
    """Append one audit entry (its own transaction). The caller redacts secrets first."""
    with write_tx(db):
        return _audit(db, at, kind, text, **context)


def _audit_entry(row: sqlite3.Row | tuple[Any, ...]) -> AuditEntry:
    (id_, at, request_id, run_id, controller, kind, actor, step, text, data) = row
    return AuditEntry(id_, from_db_time(at), kind, text, request_id, run_id, controller, actor, step, loads(data, {}))


_AUDIT_COLUMNS = "id, at, request_id, run_id, controller, kind, actor, step, text, data_json"


def audit_for_request(db: Database, request_id: int) -> list[AuditEntry]:
    """Every entry of a request and of its runs, oldest first."""
    rows = db.execute(
        f"SELECT {_AUDIT_COLUMNS} FROM remediation_audit WHERE request_id = ? "
        "OR run_id IN (SELECT id FROM remediation_runs WHERE request_id = ?) ORDER BY id",
        [request_id, request_id],
    ).fetchall()
    return [_audit_entry(r) for r in rows]


def audit_for_run(db: Database, run_id: int) -> list[AuditEntry]:
    rows = db.execute(
        f"SELECT {_AUDIT_COLUMNS} FROM remediation_audit WHERE run_id = ? ORDER BY id", [run_id]
    ).fetchall()
    return [_audit_entry(r) for r in rows]


# ---------------------------------------------------------------------------
# Requests and votes
# ---------------------------------------------------------------------------


def _busy(db: Database, controllers: Sequence[str]) -> ControllerBusyError | None:
    for controller in controllers:
        row = db.execute(
            "SELECT t.request_id, r.status FROM remediation_targets t JOIN remediation_requests r "
            "ON r.id = t.request_id WHERE t.controller = ? AND t.active = 1",
            [controller],
        ).fetchone()
        if row is not None:
            return ControllerBusyError(controller, row[0], row[1])
        run = db.execute(
            "SELECT request_id, status FROM remediation_runs WHERE controller = ? AND status IN "
            "('pending', 'running', 'undoing', 'needs_attention') ORDER BY id DESC LIMIT 1",
            [controller],
        ).fetchone()
        if run is not None:
            return ControllerBusyError(controller, run[0], f"run {run[1]}")
    return None


def active_controllers(db: Database) -> dict[str, tuple[int, str]]:
    """controller → (request id, status) for every controller with an active request."""
    rows = db.execute(
        "SELECT t.controller, t.request_id, r.status FROM remediation_targets t "
        "JOIN remediation_requests r ON r.id = t.request_id WHERE t.active = 1"
    ).fetchall()
    return {c: (rid, status) for c, rid, status in rows}


def insert_request(
    db: Database,
    *,
    site: str,
    requester: str,
    created_at: datetime,
    expires_at: datetime,
    required_approvals: int,
    channel: str | None,
    view: Mapping[str, Any],
    targets: Sequence[Mapping[str, Any]],
) -> int:
    """Create a pending request for `targets` ({controller, platform, playbook, params}).

    Raises ControllerBusyError (nothing written) when a controller already
    has an active request or run; the partial unique index makes this hold
    even against a concurrent writer.
    """
    with write_tx(db):
        busy = _busy(db, [t["controller"] for t in targets])
        if busy is not None:
            raise busy
        cursor = db.execute(
            "INSERT INTO remediation_requests (site, requester, status, required_approvals, created_at, expires_at, "
            "channel, view_json) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?)",
            [
                site,
                requester,
                required_approvals,
                to_db_time(created_at),
                to_db_time(expires_at),
                channel,
                dumps(dict(view)),
            ],
        )
        request_id = int(cursor.lastrowid or 0)
        for t in targets:
            try:
                db.execute(
                    "INSERT INTO remediation_targets (request_id, controller, platform, playbook, params_json) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [request_id, t["controller"], t["platform"], t["playbook"], dumps(dict(t["params"]))],
                )
            except sqlite3.IntegrityError:
                raise ControllerBusyError(t["controller"], None, None) from None
        names = ", ".join(t["controller"] for t in targets)
        _audit(
            db,
            created_at,
            "request",
            f"request #{request_id} for {site} ({names}) by <@{requester}>",
            request_id=request_id,
            actor=requester,
            data={"targets": [dict(t) for t in targets], "expires_at": to_db_time(expires_at)},
        )
    return request_id


def get_request(db: Database, request_id: int) -> RequestRow:
    with read_tx(db):
        row = db.execute(
            "SELECT id, site, requester, status, required_approvals, created_at, expires_at, decided_at, finished_at, "
            "rejected_by, channel, message_ts, view_json, note FROM remediation_requests WHERE id = ?",
            [request_id],
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no remediation request #{request_id}")
        targets = tuple(
            TargetRow(c, p, pb, loads(params, {}), bool(active))
            for c, p, pb, params, active in db.execute(
                "SELECT controller, platform, playbook, params_json, active FROM remediation_targets "
                "WHERE request_id = ? ORDER BY rowid",
                [request_id],
            ).fetchall()
        )
        votes = tuple(
            VoteRow(u, v, from_db_time(at), bool(counted), reason)
            for u, v, at, counted, reason in db.execute(
                "SELECT user_id, vote, at, counted, reason FROM remediation_votes WHERE request_id = ? ORDER BY id",
                [request_id],
            ).fetchall()
        )
    (
        id_,
        site,
        requester,
        status,
        required,
        created,
        expires,
        decided,
        finished,
        rejected_by,
        channel,
        ts,
        view,
        note,
    ) = row
    return RequestRow(
        id=id_,
        site=site,
        requester=requester,
        status=status,
        required_approvals=required,
        created_at=from_db_time(created),
        expires_at=from_db_time(expires),
        decided_at=from_db_time_or_none(decided),
        finished_at=from_db_time_or_none(finished),
        rejected_by=rejected_by,
        channel=channel,
        message_ts=ts,
        view=loads(view, {}),
        note=note,
        targets=targets,
        votes=votes,
    )


def set_request_message(db: Database, request_id: int, channel: str, ts: str) -> None:
    """Remember where the request message was posted (to update it after each vote)."""
    with write_tx(db):
        db.execute(
            "UPDATE remediation_requests SET channel = ?, message_ts = ? WHERE id = ?", [channel, ts, request_id]
        )


def _set_status(db: Database, request_id: int, status: str, at: datetime, note: str | None) -> None:
    finished = to_db_time(at) if status in FINAL_REQUEST or status == "needs_attention" else None
    db.execute(
        "UPDATE remediation_requests SET status = ?, note = COALESCE(?, note), "
        "finished_at = COALESCE(?, finished_at) WHERE id = ?",
        [status, note, finished, request_id],
    )
    if status in FINAL_REQUEST:
        # A final request frees its controllers. needs_attention keeps them: a person must look first.
        db.execute("UPDATE remediation_targets SET active = 0 WHERE request_id = ?", [request_id])


def record_vote(
    db: Database,
    request_id: int,
    *,
    user_id: str,
    vote: str,
    at: datetime,
    counted: bool,
    reason: str,
    expected_status: str,
    new_status: str,
    rejected_by: str | None = None,
    decided_at: datetime | None = None,
) -> None:
    """Store one click and the request's new status, atomically, with its audit entry.

    `expected_status` guards against two clicks decided on the same old state
    (raises StateError; the caller re-reads and decides again).
    """
    with write_tx(db):
        row = db.execute("SELECT status FROM remediation_requests WHERE id = ?", [request_id]).fetchone()
        if row is None:
            raise NotFoundError(f"no remediation request #{request_id}")
        if row[0] != expected_status:
            raise StateError(f"request #{request_id} changed meanwhile ({row[0]})")
        try:
            db.execute(
                "INSERT INTO remediation_votes (request_id, user_id, vote, at, counted, reason) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [request_id, user_id, vote, to_db_time(at), int(counted), reason],
            )
        except sqlite3.IntegrityError:
            raise StateError(f"<@{user_id}> already approved request #{request_id}") from None
        if new_status != row[0]:
            db.execute(
                "UPDATE remediation_requests SET rejected_by = COALESCE(?, rejected_by), "
                "decided_at = COALESCE(?, decided_at) WHERE id = ?",
                [rejected_by, to_db_time(decided_at) if decided_at else None, request_id],
            )
            _set_status(db, request_id, new_status, at, None)
        verdict = "counted" if counted else "refused"
        _audit(
            db,
            at,
            "vote",
            f"{vote} by <@{user_id}>: {verdict} ({reason})",
            request_id=request_id,
            actor=user_id,
            data={"vote": vote, "counted": counted, "status": new_status},
        )
        if new_status != row[0]:
            _audit(db, at, new_status, f"request #{request_id} is {new_status}", request_id=request_id, actor=user_id)


def set_request_status(
    db: Database, request_id: int, status: str, at: datetime, note: str | None = None, actor: str | None = None
) -> None:
    with write_tx(db):
        _set_status(db, request_id, status, at, note)
        _audit(db, at, status, note or f"request #{request_id} is {status}", request_id=request_id, actor=actor)


def requests_in(db: Database, statuses: Sequence[str]) -> list[int]:
    """Ids of requests in any of `statuses`, oldest first."""
    marks = ", ".join("?" for _ in statuses)
    rows = db.execute(
        f"SELECT id FROM remediation_requests WHERE status IN ({marks}) ORDER BY id", list(statuses)
    ).fetchall()
    return [r[0] for r in rows]


def transition_request(
    db: Database, request_id: int, expected: str, status: str, at: datetime, note: str | None = None
) -> None:
    """Move a request from `expected` to `status` atomically (StateError if it is not in `expected`).

    Starting a run uses this (approved → running), so two starts of the same
    request can never both go ahead.
    """
    with write_tx(db):
        row = db.execute("SELECT status FROM remediation_requests WHERE id = ?", [request_id]).fetchone()
        if row is None:
            raise NotFoundError(f"no remediation request #{request_id}")
        if row[0] != expected:
            raise StateError(f"request #{request_id} is {row[0]}, not {expected}")
        _set_status(db, request_id, status, at, note)
        _audit(db, at, status, note or f"request #{request_id} is {status}", request_id=request_id)


def expire_requests(db: Database, now: datetime) -> list[int]:
    """Mark every pending request past its deadline expired; returns their ids."""
    with write_tx(db):
        ids = [
            r[0]
            for r in db.execute(
                "SELECT id FROM remediation_requests WHERE status = 'pending' AND expires_at <= ? ORDER BY id",
                [to_db_time(now)],
            ).fetchall()
        ]
        for request_id in ids:
            db.execute("UPDATE remediation_requests SET decided_at = ? WHERE id = ?", [to_db_time(now), request_id])
            _set_status(db, request_id, "expired", now, "expired before it was approved")
            _audit(db, now, "expired", f"request #{request_id} expired before it was approved", request_id=request_id)
    return ids


# ---------------------------------------------------------------------------
# Runs and steps
# ---------------------------------------------------------------------------


def create_run(
    db: Database,
    *,
    request_id: int | None,
    controller: str,
    site: str | None,
    platform: str,
    host: str,
    port: int,
    credentials: Mapping[str, str],
    playbook: str,
    plan: Mapping[str, Any],
    params: Mapping[str, Any],
    created_at: datetime,
) -> int:
    """A pending run with one pending row per step. ControllerBusyError if the controller has an active run."""
    with write_tx(db):
        try:
            cursor = db.execute(
                "INSERT INTO remediation_runs (request_id, controller, site, platform, host, port, credentials_json, "
                "playbook, plan_json, params_json, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "'pending', ?)",
                [
                    request_id,
                    controller,
                    site,
                    platform,
                    host,
                    port,
                    dumps(dict(credentials)),
                    playbook,
                    dumps(dict(plan)),
                    dumps(dict(params)),
                    to_db_time(created_at),
                ],
            )
        except sqlite3.IntegrityError:
            raise ControllerBusyError(controller, request_id, "run") from None
        run_id = int(cursor.lastrowid or 0)
        for idx, step in enumerate(plan["steps"]):
            undo = step.get("undo")
            db.execute(
                "INSERT INTO remediation_run_steps (run_id, idx, step_id, action, title, changes, undo_action) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    run_id,
                    idx,
                    step["id"],
                    step["action"],
                    step["title"],
                    int(bool(step.get("changes"))),
                    undo["action"] if undo else None,
                ],
            )
        _audit(
            db,
            created_at,
            "run_created",
            f"run #{run_id} of {playbook} on {controller}",
            request_id=request_id,
            run_id=run_id,
            controller=controller,
            data={"params": dict(params)},
        )
    return run_id


def _step_row(row: tuple[Any, ...]) -> StepRow:
    (idx, step_id, action, title, changes, undo, state, started, finished, duration, attempts, result, error) = row
    return StepRow(
        idx,
        step_id,
        action,
        title,
        bool(changes),
        undo,
        state,
        from_db_time_or_none(started),
        from_db_time_or_none(finished),
        duration,
        attempts,
        loads(result, {}),
        error,
    )


def get_run(db: Database, run_id: int) -> RunRow:
    with read_tx(db):
        row = db.execute(
            "SELECT id, request_id, controller, site, platform, host, port, credentials_json, playbook, plan_json, "
            "params_json, status, created_at, started_at, finished_at, outcome, warnings_json "
            "FROM remediation_runs WHERE id = ?",
            [run_id],
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no remediation run #{run_id}")
        steps = tuple(
            _step_row(r)
            for r in db.execute(
                "SELECT idx, step_id, action, title, changes, undo_action, state, started_at, finished_at, "
                "duration_seconds, attempts, result_json, error FROM remediation_run_steps WHERE run_id = ? "
                "ORDER BY idx",
                [run_id],
            ).fetchall()
        )
    (
        id_,
        request_id,
        controller,
        site,
        platform,
        host,
        port,
        creds,
        playbook,
        plan,
        params,
        status,
        created,
        started,
        finished,
        outcome,
        warnings,
    ) = row
    return RunRow(
        id_,
        request_id,
        controller,
        site,
        platform,
        host,
        port,
        loads(creds, {}),
        playbook,
        loads(plan, {}),
        loads(params, {}),
        status,
        from_db_time(created),
        from_db_time_or_none(started),
        from_db_time_or_none(finished),
        outcome,
        tuple(loads(warnings, [])),
        steps,
    )


def runs_for_request(db: Database, request_id: int) -> list[RunRow]:
    ids = [
        r[0]
        for r in db.execute("SELECT id FROM remediation_runs WHERE request_id = ? ORDER BY id", [request_id]).fetchall()
    ]
    return [get_run(db, i) for i in ids]


def unfinished_runs(db: Database) -> list[RunRow]:
    """Runs a crash may have interrupted, and runs whose undo could not finish (needs_attention)."""
    ids = [
        r[0]
        for r in db.execute(
            "SELECT id FROM remediation_runs WHERE status IN ('pending', 'running', 'undoing', 'needs_attention') "
            "ORDER BY id"
        ).fetchall()
    ]
    return [get_run(db, i) for i in ids]


def set_run_status(
    db: Database,
    run_id: int,
    status: str,
    at: datetime,
    *,
    outcome: str | None = None,
    warnings: Sequence[str] | None = None,
    audit_text: str | None = None,
) -> None:
    with write_tx(db):
        row = db.execute("SELECT request_id, controller FROM remediation_runs WHERE id = ?", [run_id]).fetchone()
        if row is None:
            raise NotFoundError(f"no remediation run #{run_id}")
        started = to_db_time(at) if status == "running" else None
        finished = to_db_time(at) if status in ("succeeded", "failed", "needs_attention") else None
        db.execute(
            "UPDATE remediation_runs SET status = ?, started_at = COALESCE(started_at, ?), finished_at = ?, "
            "outcome = COALESCE(?, outcome), warnings_json = COALESCE(?, warnings_json), heartbeat_at = ? "
            "WHERE id = ?",
            [
                status,
                started,
                finished,
                outcome,
                dumps(list(warnings)) if warnings is not None else None,
                to_db_time(at),
                run_id,
            ],
        )
        _audit(
            db,
            at,
            f"run_{status}",
            audit_text or outcome or f"run #{run_id} {status}",
            request_id=row[0],
            run_id=run_id,
            controller=row[1],
        )


def set_run_params(db: Database, run_id: int, params: Mapping[str, Any]) -> None:
    with write_tx(db):
        db.execute("UPDATE remediation_runs SET params_json = ? WHERE id = ?", [dumps(dict(params)), run_id])


def step_started(db: Database, run_id: int, idx: int, at: datetime, *, state: str = "running") -> datetime:
    """Mark a step running (or undoing); keeps the first start time (a resumed wait keeps its deadline)."""
    with write_tx(db):
        db.execute(
            "UPDATE remediation_run_steps SET state = ?, started_at = COALESCE(started_at, ?), "
            "attempts = attempts + 1, error = NULL WHERE run_id = ? AND idx = ?",
            [state, to_db_time(at), run_id, idx],
        )
        db.execute("UPDATE remediation_runs SET heartbeat_at = ? WHERE id = ?", [to_db_time(at), run_id])
        row = db.execute(
            "SELECT started_at, step_id, (SELECT request_id FROM remediation_runs WHERE id = ?), "
            "(SELECT controller FROM remediation_runs WHERE id = ?) FROM remediation_run_steps "
            "WHERE run_id = ? AND idx = ?",
            [run_id, run_id, run_id, idx],
        ).fetchone()
        if row is None:
            raise NotFoundError(f"run #{run_id} has no step {idx}")
        verb = "undo of" if state == "undoing" else "step"
        _audit(
            db,
            at,
            "step_started" if state == "running" else "undo_started",
            f"{verb} '{row[1]}' started",
            request_id=row[2],
            run_id=run_id,
            controller=row[3],
            step=row[1],
        )
        return from_db_time(row[0])


def step_finished(
    db: Database,
    run_id: int,
    idx: int,
    state: str,
    at: datetime,
    *,
    result: Mapping[str, Any] | None = None,
    error: str | None = None,
    summary: str | None = None,
) -> StepRow:
    """Record a step's end (done / failed / undone / undo_failed) with its duration and result."""
    with write_tx(db):
        row = db.execute(
            "SELECT started_at, step_id FROM remediation_run_steps WHERE run_id = ? AND idx = ?", [run_id, idx]
        ).fetchone()
        if row is None:
            raise NotFoundError(f"run #{run_id} has no step {idx}")
        started = from_db_time_or_none(row[0])
        duration = (at - started).total_seconds() if started else None
        if state in ("undone", "undo_failed"):
            # Keep the step's own result; add the undo's under its own key.
            existing = loads(
                db.execute(
                    "SELECT result_json FROM remediation_run_steps WHERE run_id = ? AND idx = ?", [run_id, idx]
                ).fetchone()[0],
                {},
            )
            merged = {**existing, "undo": dict(result or {})}
            db.execute(
                "UPDATE remediation_run_steps SET state = ?, result_json = ?, error = COALESCE(?, error) "
                "WHERE run_id = ? AND idx = ?",
                [state, dumps(merged), error, run_id, idx],
            )
        else:
            db.execute(
                "UPDATE remediation_run_steps SET state = ?, finished_at = ?, duration_seconds = ?, result_json = ?, "
                "error = ? WHERE run_id = ? AND idx = ?",
                [state, to_db_time(at), duration, dumps(dict(result or {})), error, run_id, idx],
            )
        db.execute("UPDATE remediation_runs SET heartbeat_at = ? WHERE id = ?", [to_db_time(at), run_id])
        meta = db.execute("SELECT request_id, controller FROM remediation_runs WHERE id = ?", [run_id]).fetchone()
        text = summary or error or state
        _audit(
            db,
            at,
            f"step_{state}",
            f"'{row[1]}' {state}: {text}",
            request_id=meta[0],
            run_id=run_id,
            controller=meta[1],
            step=row[1],
            data={"result": dict(result or {}), "error": error},
        )
    return get_run(db, run_id).steps[idx]


# ---------------------------------------------------------------------------
# Recorded configuration
# ---------------------------------------------------------------------------


def save_recorded(db: Database, run_id: int, config: Mapping[str, Any], at: datetime) -> bool:
    """Store the configuration captured before the first change; the first capture wins (False if one exists)."""
    with write_tx(db):
        meta = db.execute(
            "SELECT request_id, controller, platform FROM remediation_runs WHERE id = ?", [run_id]
        ).fetchone()
        if meta is None:
            raise NotFoundError(f"no remediation run #{run_id}")
        cursor = db.execute(
            "INSERT OR IGNORE INTO remediation_recorded_config "
            "(run_id, controller, platform, captured_at, config_json) VALUES (?, ?, ?, ?, ?)",
            [run_id, meta[1], meta[2], to_db_time(at), dumps(dict(config))],
        )
        stored = cursor.rowcount == 1
        if stored:
            _audit(
                db,
                at,
                "recorded",
                "NTP configuration and clock recorded before any change",
                request_id=meta[0],
                run_id=run_id,
                controller=meta[1],
                data={"config": dict(config)},
            )
    return stored


def get_recorded(db: Database, run_id: int) -> RecordedRow | None:
    row = db.execute(
        "SELECT run_id, controller, platform, captured_at, config_json, verified_at, verified_note "
        "FROM remediation_recorded_config WHERE run_id = ?",
        [run_id],
    ).fetchone()
    if row is None:
        return None
    return RecordedRow(
        row[0], row[1], row[2], from_db_time(row[3]), loads(row[4], {}), from_db_time_or_none(row[5]), row[6]
    )


def mark_recorded_verified(db: Database, run_id: int, at: datetime, note: str) -> None:
    """The device shows the recorded NTP configuration again (only now may the record ever be pruned)."""
    with write_tx(db):
        meta = db.execute("SELECT request_id, controller FROM remediation_runs WHERE id = ?", [run_id]).fetchone()
        db.execute(
            "UPDATE remediation_recorded_config SET verified_at = ?, verified_note = ? WHERE run_id = ?",
            [to_db_time(at), note, run_id],
        )
        _audit(
            db,
            at,
            "verified",
            note,
            request_id=meta[0] if meta else None,
            run_id=run_id,
            controller=meta[1] if meta else None,
        )


def open_work_by_site(db: Database) -> dict[str, tuple[int, int]]:
    """site -> (requests waiting for approval or to start, runs in progress or needing attention), for the digest."""
    rows = db.execute(
        "SELECT site, "
        "SUM(CASE WHEN status IN ('pending', 'approved') THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN status IN ('running', 'needs_attention') THEN 1 ELSE 0 END) "
        "FROM remediation_requests GROUP BY site"
    ).fetchall()
    return {site: (int(requests or 0), int(runs or 0)) for site, requests, runs in rows}
