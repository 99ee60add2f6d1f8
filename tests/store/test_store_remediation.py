"""What the schema itself guarantees, whatever the code above it does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlite_utils import Database

from bot.store import remediation as q
from bot.store.sql import IntegrityError
from tests.store.store_factories import make_run

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PLAN = {"name": "pb", "steps": [{"id": "record", "action": "capture_time_config", "title": "r", "undo": None}]}


def _request(db: Database, controller: str = "wlc-1") -> int:
    return q.insert_request(
        db,
        site="s",
        requester="UREQ",
        created_at=T0,
        expires_at=T0 + timedelta(hours=1),
        required_approvals=2,
        channel="C1",
        view={},
        targets=[{"controller": controller, "platform": "aireos", "playbook": "pb", "params": {}}],
    )


def _run(db: Database, controller: str = "wlc-1", request_id: int | None = None) -> int:
    return make_run(db, PLAN, controller=controller, request_id=request_id)


def test_audit_is_append_only_in_sql(db: Database) -> None:
    entry = q.append_audit(db, T0, "note", "hello", actor="UA")
    with pytest.raises(IntegrityError, match="append-only"):
        db.execute("UPDATE remediation_audit SET text = 'changed' WHERE id = ?", [entry])
    with pytest.raises(IntegrityError, match="append-only"):
        db.execute("DELETE FROM remediation_audit")
    assert [e.text for e in q.audit_for_run(db, 0)] == []


def test_recorded_configuration_is_fixed_and_kept_until_verified(db: Database) -> None:
    run_id = _run(db)
    assert q.save_recorded(db, run_id, {"ntp_servers": [{"address": "192.0.2.1"}]}, T0)
    assert not q.save_recorded(db, run_id, {"ntp_servers": []}, T0)  # the first capture wins
    with pytest.raises(IntegrityError, match="cannot be changed"):
        db.execute("UPDATE remediation_recorded_config SET config_json = '{}'")
    with pytest.raises(IntegrityError, match="kept until a run verified"):
        db.execute("DELETE FROM remediation_recorded_config")
    q.mark_recorded_verified(db, run_id, T0, "checked")
    recorded = q.get_recorded(db, run_id)
    assert recorded is not None and recorded.config["ntp_servers"] == [{"address": "192.0.2.1"}]
    db.execute("DELETE FROM remediation_recorded_config")  # allowed once verified (e.g. pruning)


def test_one_active_request_and_one_active_run_per_controller(db: Database) -> None:
    first = _request(db)
    with pytest.raises(q.ControllerBusyError, match=r"request #1 \(pending\)"):
        _request(db)
    with pytest.raises(IntegrityError):  # even bypassing the check, the index refuses
        db.execute(
            "INSERT INTO remediation_targets (request_id, controller, platform, playbook) "
            "VALUES (?, 'wlc-1', 'aireos', 'pb')",
            [first],
        )
    q.set_request_status(db, first, "rejected", T0)
    second = _request(db)
    assert second != first
    run = _run(db, "wlc-9")
    q.set_run_status(db, run, "running", T0)
    with pytest.raises(q.ControllerBusyError):
        _run(db, "wlc-9")


def test_an_approval_counts_once_in_sql(db: Database) -> None:
    request_id = _request(db)
    q.record_vote(
        db,
        request_id,
        user_id="UA",
        vote="approve",
        at=T0,
        counted=True,
        reason="ok",
        expected_status="pending",
        new_status="pending",
    )
    with pytest.raises(q.StateError):
        q.record_vote(
            db,
            request_id,
            user_id="UA",
            vote="approve",
            at=T0,
            counted=True,
            reason="ok",
            expected_status="pending",
            new_status="pending",
        )
    q.record_vote(
        db,
        request_id,
        user_id="UA",
        vote="approve",
        at=T0,
        counted=False,
        reason="counts once",
        expected_status="pending",
        new_status="pending",
    )
    with pytest.raises(q.StateError, match="changed meanwhile"):
        q.record_vote(
            db,
            request_id,
            user_id="UB",
            vote="approve",
            at=T0,
            counted=True,
            reason="ok",
            expected_status="approved",
            new_status="approved",
        )
    row = q.get_request(db, request_id)
    assert [v.user_id for v in row.approvals] == ["UA"] and len(row.votes) == 2


def test_expiry_frees_the_controller(db: Database) -> None:
    request_id = _request(db)
    assert q.expire_requests(db, T0 + timedelta(minutes=59)) == []
    assert q.expire_requests(db, T0 + timedelta(hours=1)) == [request_id]
    assert q.get_request(db, request_id).status == "expired"
    assert q.active_controllers(db) == {}
    _request(db)
