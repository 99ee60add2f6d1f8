"""Remediation requests and their votes: one request per change asked for, approved by people.

Why the rules sit in the schema as well: one active request per controller and one approval
per person are unique indexes (migration 4), so even a bug here cannot run two changes on a
controller or count a vote twice; `ControllerBusyError` turns the first into a clear refusal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.store.codec import dumps, from_db_time, from_db_time_or_none, loads, to_db_time
from bot.store.db import read_tx, write_tx
from bot.store.records import NotFoundError, StateError
from bot.store.remediation.audit import write_audit
from bot.store.remediation.records import FINAL_REQUEST, ControllerBusyError, RequestRow, TargetRow, VoteRow
from bot.store.sql import Db, IntegrityError


def _busy(db: Db, controllers: Sequence[str]) -> ControllerBusyError | None:
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


def active_controllers(db: Db) -> dict[str, tuple[int, str]]:
    """controller → (request id, status) for every controller with an active request."""
    rows = db.execute(
        "SELECT t.controller, t.request_id, r.status FROM remediation_targets t "
        "JOIN remediation_requests r ON r.id = t.request_id WHERE t.active = 1"
    ).fetchall()
    return {c: (rid, status) for c, rid, status in rows}


def insert_request(
    db: Db,
    *,
    site: str,
    requester: str,
    created_at: datetime,
    expires_at: datetime,
    required_approvals: int,
    channel: str | None,
    view: Mapping[str, Any],
    targets: Sequence[Mapping[str, Any]],
    scheduled_for: datetime | None = None,
) -> int:
    """Create a pending request for `targets` ({controller, platform, playbook, params}),
    to start at `scheduled_for` (a change window) or, when None, as soon as it is approved.

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
            "channel, view_json, scheduled_for) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?) RETURNING id",
            [
                site,
                requester,
                required_approvals,
                to_db_time(created_at),
                to_db_time(expires_at),
                channel,
                dumps(dict(view)),
                to_db_time(scheduled_for) if scheduled_for else None,
            ],
        )
        request_id = int(cursor.fetchone()[0])
        for t in targets:
            try:
                db.execute(
                    "INSERT INTO remediation_targets (request_id, controller, platform, playbook, params_json) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [request_id, t["controller"], t["platform"], t["playbook"], dumps(dict(t["params"]))],
                )
            except IntegrityError:
                raise ControllerBusyError(t["controller"], None, None) from None
        names = ", ".join(t["controller"] for t in targets)
        write_audit(
            db,
            created_at,
            "request",
            f"request #{request_id} for {site} ({names}) by <@{requester}>",
            request_id=request_id,
            actor=requester,
            data={
                "targets": [dict(t) for t in targets],
                "expires_at": to_db_time(expires_at),
                **({"scheduled_for": to_db_time(scheduled_for)} if scheduled_for else {}),
            },
        )
    return request_id


def get_request(db: Db, request_id: int) -> RequestRow:
    with read_tx(db):
        row = db.execute(
            "SELECT id, site, requester, status, required_approvals, created_at, expires_at, decided_at, finished_at, "
            "rejected_by, channel, message_ts, view_json, note, scheduled_for, cancelled_by "
            "FROM remediation_requests WHERE id = ?",
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
            VoteRow(u, v, from_db_time(at), bool(counted), reason, comment)
            for u, v, at, counted, reason, comment in db.execute(
                "SELECT user_id, vote, at, counted, reason, comment FROM remediation_votes WHERE request_id = ? "
                "ORDER BY id",
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
        scheduled_for,
        cancelled_by,
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
        scheduled_for=from_db_time_or_none(scheduled_for),
        cancelled_by=cancelled_by,
    )


def set_request_message(db: Db, request_id: int, channel: str, ts: str) -> None:
    """Remember where the request message was posted (to update it after each vote)."""
    with write_tx(db):
        db.execute(
            "UPDATE remediation_requests SET channel = ?, message_ts = ? WHERE id = ?", [channel, ts, request_id]
        )


def _set_status(db: Db, request_id: int, status: str, at: datetime, note: str | None) -> None:
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
    db: Db,
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
    comment: str | None = None,
    expected_scheduled_for: datetime | None = None,
) -> None:
    """Store one click and the request's new status, atomically, with its audit entry;
    `comment` is the voter's own words (a rejection's reason, an approval's comment).

    `expected_status` and `expected_scheduled_for` guard against a click decided on an old
    state: another vote, or a window moved meanwhile (an approval is for the window its voter
    saw). Either raises StateError; the caller re-reads and decides again.
    """
    with write_tx(db):
        row = db.execute("SELECT status, scheduled_for FROM remediation_requests WHERE id = ?", [request_id]).fetchone()
        if row is None:
            raise NotFoundError(f"no remediation request #{request_id}")
        if row[0] != expected_status:
            raise StateError(f"request #{request_id} changed meanwhile ({row[0]})")
        if row[1] != (to_db_time(expected_scheduled_for) if expected_scheduled_for else None):
            raise StateError(f"request #{request_id} got another window meanwhile")
        try:
            db.execute(
                "INSERT INTO remediation_votes (request_id, user_id, vote, at, counted, reason, comment) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [request_id, user_id, vote, to_db_time(at), int(counted), reason, comment],
            )
        except IntegrityError:
            raise StateError(f"<@{user_id}> already approved request #{request_id}") from None
        if new_status != row[0]:
            db.execute(
                "UPDATE remediation_requests SET rejected_by = COALESCE(?, rejected_by), "
                "decided_at = COALESCE(?, decided_at) WHERE id = ?",
                [rejected_by, to_db_time(decided_at) if decided_at else None, request_id],
            )
            _set_status(db, request_id, new_status, at, None)
        verdict = "counted" if counted else "refused"
        said = f" — “{comment}”" if comment else ""
        write_audit(
            db,
            at,
            "vote",
            f"{vote} by <@{user_id}>: {verdict} ({reason}){said}",
            request_id=request_id,
            actor=user_id,
            data={"vote": vote, "counted": counted, "status": new_status, **({"comment": comment} if comment else {})},
        )
        if new_status != row[0]:
            write_audit(
                db, at, new_status, f"request #{request_id} is {new_status}", request_id=request_id, actor=user_id
            )


def set_request_status(
    db: Db, request_id: int, status: str, at: datetime, note: str | None = None, actor: str | None = None
) -> None:
    with write_tx(db):
        _set_status(db, request_id, status, at, note)
        write_audit(db, at, status, note or f"request #{request_id} is {status}", request_id=request_id, actor=actor)


def requests_in(db: Db, statuses: Sequence[str]) -> list[int]:
    """Ids of requests in any of `statuses`, oldest first."""
    marks = ", ".join("?" for _ in statuses)
    rows = db.execute(
        f"SELECT id FROM remediation_requests WHERE status IN ({marks}) ORDER BY id", list(statuses)
    ).fetchall()
    return [r[0] for r in rows]


def approved_unstarted(db: Db, decided_after: datetime) -> list[int]:
    """Requests approved (not for a window) at or after `decided_after` with no run yet, oldest first:
    what a leader starts when the last approval was given on another instance."""
    rows = db.execute(
        "SELECT r.id FROM remediation_requests r WHERE r.status = 'approved' AND r.scheduled_for IS NULL "
        "AND r.decided_at >= ? AND NOT EXISTS (SELECT 1 FROM remediation_runs x WHERE x.request_id = r.id) "
        "ORDER BY r.id",
        [to_db_time(decided_after)],
    ).fetchall()
    return [r[0] for r in rows]


def transition_request(
    db: Db, request_id: int, expected: str, status: str, at: datetime, note: str | None = None
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
        write_audit(db, at, status, note or f"request #{request_id} is {status}", request_id=request_id)


def expire_requests(db: Db, now: datetime) -> list[int]:
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
            write_audit(
                db, now, "expired", f"request #{request_id} expired before it was approved", request_id=request_id
            )
    return ids


def open_work_by_site(db: Db) -> dict[str, tuple[int, int]]:
    """site -> (requests waiting for approval or to start, runs in progress or needing attention), for the digest."""
    rows = db.execute(
        "SELECT site, "
        "SUM(CASE WHEN status IN ('pending', 'approved', 'scheduled') THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN status IN ('running', 'needs_attention') THEN 1 ELSE 0 END) "
        "FROM remediation_requests GROUP BY site"
    ).fetchall()
    return {site: (int(requests or 0), int(runs or 0)) for site, requests, runs in rows}


def cancel_request(
    db: Db, request_id: int, *, user_id: str | None, at: datetime, expected_status: str, note: str
) -> None:
    """End a request that has not started (`expected_status` pending or scheduled), freeing its
    controllers; `user_id` None when the bot ended it (its APs recovered before the window).
    StateError when it changed meanwhile (a vote or the window's start came first)."""
    with write_tx(db):
        row = db.execute("SELECT status FROM remediation_requests WHERE id = ?", [request_id]).fetchone()
        if row is None:
            raise NotFoundError(f"no remediation request #{request_id}")
        if row[0] != expected_status:
            raise StateError(f"request #{request_id} is {row[0]}, not {expected_status}")
        db.execute(
            "UPDATE remediation_requests SET cancelled_by = ?, decided_at = COALESCE(decided_at, ?) WHERE id = ?",
            [user_id, to_db_time(at), request_id],
        )
        _set_status(db, request_id, "cancelled", at, note)
        write_audit(db, at, "cancelled", note, request_id=request_id, actor=user_id)


def set_schedule(
    db: Db,
    request_id: int,
    *,
    scheduled_for: datetime,
    expires_at: datetime,
    user_id: str,
    at: datetime,
) -> None:
    """Move a pending request's window before anyone approved it (an approval is for one window:
    StateError once a vote is counted, or when the request is no longer pending)."""
    with write_tx(db):
        row = db.execute("SELECT status FROM remediation_requests WHERE id = ?", [request_id]).fetchone()
        if row is None:
            raise NotFoundError(f"no remediation request #{request_id}")
        if row[0] != "pending":
            raise StateError(f"request #{request_id} is {row[0]}: its window can no longer change")
        counted = db.execute(
            "SELECT COUNT(*) FROM remediation_votes WHERE request_id = ? AND vote = 'approve' AND counted = 1",
            [request_id],
        ).fetchone()[0]
        if counted:
            raise StateError(f"request #{request_id} already has an approval: an approval is for the window it saw")
        db.execute(
            "UPDATE remediation_requests SET scheduled_for = ?, expires_at = ? WHERE id = ?",
            [to_db_time(scheduled_for), to_db_time(expires_at), request_id],
        )
        write_audit(
            db,
            at,
            "scheduled",
            f"request #{request_id} scheduled for {to_db_time(scheduled_for)} by <@{user_id}>",
            request_id=request_id,
            actor=user_id,
            data={"scheduled_for": to_db_time(scheduled_for), "expires_at": to_db_time(expires_at)},
        )


def due_scheduled(db: Db, now: datetime) -> list[int]:
    """Scheduled requests whose window has started, oldest window first."""
    rows = db.execute(
        "SELECT id FROM remediation_requests WHERE status = 'scheduled' AND scheduled_for <= ? "
        "ORDER BY scheduled_for, id",
        [to_db_time(now)],
    ).fetchall()
    return [r[0] for r in rows]


def next_scheduled(db: Db) -> datetime | None:
    """The earliest window start among scheduled requests (None when none waits)."""
    row = db.execute("SELECT MIN(scheduled_for) FROM remediation_requests WHERE status = 'scheduled'").fetchone()
    return from_db_time_or_none(row[0]) if row else None
