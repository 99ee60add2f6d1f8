"""Migration 8 rebuilds the request table (two new statuses in its CHECK): a version-7 file keeps
every request, vote, target and run, foreign keys hold again afterwards, and the new statuses and
columns work."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store import open_db, schema_version
from bot.store import remediation as q
from bot.store.migrations import MIGRATIONS

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _v7_file(path: Path) -> int:
    db = open_db(path, MIGRATIONS[:7])
    assert schema_version(db) == 7
    db.execute(
        "INSERT INTO remediation_requests (site, requester, status, required_approvals, created_at, expires_at, "
        "channel, view_json) VALUES ('site-a', 'UREQ', 'pending', 2, ?, ?, 'C1', '{}')",
        [T0.isoformat(), (T0 + timedelta(hours=1)).isoformat()],
    )
    request_id = int(db.execute("SELECT max(id) FROM remediation_requests").fetchone()[0])
    db.execute(
        "INSERT INTO remediation_targets (request_id, controller, platform, playbook) VALUES (?, 'wlc-a1', "
        "'aireos', 'aireos-timeback')",
        [request_id],
    )
    db.execute(
        "INSERT INTO remediation_votes (request_id, user_id, vote, at, counted, reason) "
        "VALUES (?, 'UA', 'approve', ?, 1, 'counted')",
        [request_id, T0.isoformat()],
    )
    db.conn.commit()
    db.close()
    return request_id


def test_a_version_7_file_keeps_its_requests_and_gains_windows(tmp_path: Path) -> None:
    path = tmp_path / "v7.db"
    request_id = _v7_file(path)
    db = open_db(path)
    assert schema_version(db) == len(MIGRATIONS) >= 8
    row = q.get_request(db, request_id)
    assert (row.site, row.requester, row.status, row.channel) == ("site-a", "UREQ", "pending", "C1")
    assert [t.controller for t in row.targets] == ["wlc-a1"] and [v.user_id for v in row.approvals] == ["UA"]
    assert row.scheduled_for is None and row.cancelled_by is None and row.votes[0].comment is None
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1, "foreign keys are on again after migrating"
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO remediation_votes (request_id, user_id, vote, at, counted) "
            "VALUES (999, 'UB', 'approve', ?, 0)",
            [T0.isoformat()],
        )
    window = T0 + timedelta(hours=6)
    with pytest.raises(q.StateError, match="already has an approval"):
        q.set_schedule(db, request_id, scheduled_for=window, expires_at=window, user_id="UREQ", at=T0)
    assert q.get_request(db, request_id).scheduled_for is None
    other = q.insert_request(
        db,
        site="site-a",
        requester="UREQ",
        created_at=T0,
        expires_at=T0 + timedelta(hours=1),
        required_approvals=2,
        channel="C1",
        view={},
        targets=[{"controller": "wlc-a2", "platform": "aireos", "playbook": "p", "params": {}}],
    )
    q.set_schedule(db, other, scheduled_for=window, expires_at=window, user_id="UREQ", at=T0)
    assert q.get_request(db, other).scheduled_for == window and q.get_request(db, other).expires_at == window
    q.cancel_request(db, request_id, user_id="UREQ", at=T0, expected_status="pending", note="cancelled by <@UREQ>")
    ended = q.get_request(db, request_id)
    assert ended.status == "cancelled" and ended.cancelled_by == "UREQ"
    assert "wlc-a1" not in q.active_controllers(db), "a cancelled request frees its controller"
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE remediation_requests SET status = 'bogus' WHERE id = ?", [request_id])
    db.close()
