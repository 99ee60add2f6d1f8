"""The fence: a device-changing step starts only for the instance that holds the run's claim
and (PostgreSQL) the lead, checked in the transaction that marks the step started.

On PostgreSQL the lead is a real session advisory lock taken by a real `LeaderLock`, and
losing it is a real terminated backend.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.store import open_db
from bot.store import remediation as q
from bot.store.leader_lock import LeaderLock
from bot.store.sql import Db
from tests.store.store_factories import make_run

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PLAN = {
    "name": "pb",
    "steps": [
        {
            "id": "clock",
            "action": "set_clock",
            "title": "set the clock back",
            "changes": True,
            "undo": {"action": "restore_clock"},
        },
    ],
}


def run_claimed_by(db: Db, instance: str | None) -> int:
    return make_run(db, PLAN, claimed_by=instance)


def step_state(db: Db, run_id: int) -> tuple[str, int]:
    row = db.execute("SELECT state, attempts FROM remediation_run_steps WHERE run_id = ? AND idx = 0", [run_id])
    state, attempts = row.fetchone()
    return state, attempts


def audit_kinds(db: Db, run_id: int) -> list[str]:
    return [e.kind for e in q.audit_for_run(db, run_id)]


def test_the_claiming_instance_starts_its_step(db: Db) -> None:
    run_id = run_claimed_by(db, "bot-a")
    q.step_started(db, run_id, 0, T0, fence=q.Fence("bot-a"))
    assert step_state(db, run_id) == ("running", 1)


def test_another_instance_is_fenced_out_and_nothing_is_written(db: Db) -> None:
    run_id = run_claimed_by(db, "bot-a")
    before = audit_kinds(db, run_id)
    with pytest.raises(q.FencedOut, match="driven by bot-a"):
        q.step_started(db, run_id, 0, T0, fence=q.Fence("bot-b"))
    assert step_state(db, run_id) == ("pending", 0)
    assert audit_kinds(db, run_id) == before


def test_a_claim_moves_the_run_to_the_new_leader_and_fences_the_old_one(db: Db) -> None:
    run_id = run_claimed_by(db, "bot-a")
    q.claim_runs(db, [run_id], "bot-b", T0)
    assert audit_kinds(db, run_id)[-1] == "claimed"
    with pytest.raises(q.FencedOut):
        q.step_started(db, run_id, 0, T0, fence=q.Fence("bot-a"))
    q.step_started(db, run_id, 0, T0, fence=q.Fence("bot-b"))
    assert step_state(db, run_id) == ("running", 1)


def test_a_run_from_before_claims_is_not_refused(db: Db) -> None:
    run_id = run_claimed_by(db, None)  # written by a bot before migration 9
    q.step_started(db, run_id, 0, T0, fence=q.Fence("bot-a"))
    assert step_state(db, run_id) == ("running", 1)


def test_the_lock_session_must_still_hold_the_lead(postgres_url: str) -> None:
    """PostgreSQL: a fence names the lock's server process; once that session is gone, it refuses."""
    db = open_db(postgres_url)
    lock = LeaderLock(postgres_url, "bot-a", 6)
    try:
        assert lock.try_acquire()
        fence = lock.fence()
        assert fence.lock_pid is not None
        run_id = run_claimed_by(db, "bot-a")
        q.step_started(db, run_id, 0, T0, fence=fence)  # holds the lead: allowed
        db.execute("SELECT pg_terminate_backend(?)", [fence.lock_pid])
        with pytest.raises(q.FencedOut, match="no longer leads"):
            q.step_started(db, run_id, 0, T0, fence=fence)
        assert step_state(db, run_id) == ("running", 1)  # the refused start wrote nothing
        assert not lock.still_held()
    finally:
        lock.close()
        db.close()
