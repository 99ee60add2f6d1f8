"""Remediation runs and their steps: the execution of an approved request on one controller.

Why each step's start and finish are written as they happen: after a crash or restart,
`unfinished_runs` and the step states are what recovery decides from (resume, undo, or ask
people), so the store must say exactly how far a run got.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.store.codec import dumps, from_db_time, from_db_time_or_none, loads, to_db_time
from bot.store.db import read_tx, write_tx
from bot.store.leader_lock import HOLDS_SQL, Fence, holder_params
from bot.store.records import FencedOut, NotFoundError
from bot.store.remediation.audit import write_audit
from bot.store.remediation.records import ControllerBusyError, RunRow, StepRow
from bot.store.sql import Db, IntegrityError


def create_run(
    db: Db,
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
    claimed_by: str | None = None,
) -> int:
    """A pending run with one pending row per step, claimed by the instance `claimed_by` (the
    leader that will drive it). ControllerBusyError if the controller has an active run."""
    with write_tx(db):
        try:
            cursor = db.execute(
                "INSERT INTO remediation_runs (request_id, controller, site, platform, host, port, credentials_json, "
                "playbook, plan_json, params_json, status, created_at, claimed_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING id",
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
                    claimed_by,
                ],
            )
        except IntegrityError:
            raise ControllerBusyError(controller, request_id, "run") from None
        run_id = int(cursor.fetchone()[0])
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
        write_audit(
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


def get_run(db: Db, run_id: int) -> RunRow:
    with read_tx(db):
        row = db.execute(
            "SELECT id, request_id, controller, site, platform, host, port, credentials_json, playbook, plan_json, "
            "params_json, status, created_at, started_at, finished_at, outcome, warnings_json, claimed_by "
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
        claimed_by,
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
        claimed_by,
    )


def runs_for_request(db: Db, request_id: int) -> list[RunRow]:
    ids = [
        r[0]
        for r in db.execute("SELECT id FROM remediation_runs WHERE request_id = ? ORDER BY id", [request_id]).fetchall()
    ]
    return [get_run(db, i) for i in ids]


def unfinished_runs(db: Db) -> list[RunRow]:
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
    db: Db,
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
        write_audit(
            db,
            at,
            f"run_{status}",
            audit_text or outcome or f"run #{run_id} {status}",
            request_id=row[0],
            run_id=run_id,
            controller=row[1],
        )


def set_run_params(db: Db, run_id: int, params: Mapping[str, Any]) -> None:
    with write_tx(db):
        db.execute("UPDATE remediation_runs SET params_json = ? WHERE id = ?", [dumps(dict(params)), run_id])


def claim_runs(db: Db, run_ids: Sequence[int], instance: str, at: datetime) -> None:
    """`instance` drives these runs from now on (a new leader recovering them); audited."""
    with write_tx(db):
        for run_id in run_ids:
            row = db.execute("SELECT request_id, controller, claimed_by FROM remediation_runs WHERE id = ?", [run_id])
            found = row.fetchone()
            if found is None or found[2] == instance:
                continue
            db.execute("UPDATE remediation_runs SET claimed_by = ? WHERE id = ?", [instance, run_id])
            write_audit(
                db,
                at,
                "claimed",
                f"run #{run_id} is driven by {instance} from now on" + (f" (was {found[2]})" if found[2] else ""),
                request_id=found[0],
                run_id=run_id,
                controller=found[1],
                data={"instance": instance, "previous": found[2]},
            )


def check_fence(db: Db, run_id: int, fence: Fence) -> None:
    """Raise `FencedOut` unless this instance holds the run's claim and (PostgreSQL) the lead.

    Called inside the transaction that marks a device-changing step started, so the check and
    the step's start are one atomic fact: a standby that took over (and claimed the run) or a
    lost lock session makes the step refuse before anything is sent.
    """
    row = db.execute("SELECT claimed_by FROM remediation_runs WHERE id = ?", [run_id]).fetchone()
    if row is None:
        raise NotFoundError(f"no remediation run #{run_id}")
    if row[0] is not None and row[0] != fence.instance:
        raise FencedOut(f"run #{run_id} is driven by {row[0]}, not {fence.instance}")
    if fence.lock_pid is not None:
        holds = db.execute(HOLDS_SQL, [*holder_params(), fence.lock_pid]).fetchone()
        if not (holds and holds[0]):
            raise FencedOut(f"{fence.instance} no longer leads: run #{run_id} is left to the new leader")


def step_started(
    db: Db, run_id: int, idx: int, at: datetime, *, state: str = "running", fence: Fence | None = None
) -> datetime:
    """Mark a step running (or undoing); keeps the first start time (a resumed wait keeps its deadline).

    With `fence`, first `check_fence` in the same transaction (`FencedOut`, nothing written)."""
    with write_tx(db):
        if fence is not None:
            check_fence(db, run_id, fence)
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
        write_audit(
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
    db: Db,
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
        write_audit(
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
