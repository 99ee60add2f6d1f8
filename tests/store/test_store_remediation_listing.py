"""`request_ids`: which requests are in which states, newest first, one requester's, bounded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.store import open_db
from bot.store import remediation as q
from bot.store.remediation.listing import MAX_LISTED

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_db(tmp_path / "ccert.db")
    yield database
    database.close()


def _request(db: Database, controller: str, requester: str, status: str = "pending") -> int:
    request_id = q.insert_request(
        db,
        site="s",
        requester=requester,
        created_at=T0,
        expires_at=T0 + timedelta(hours=1),
        required_approvals=2,
        channel="C1",
        view={},
        targets=[{"controller": controller, "platform": "aireos", "playbook": "pb", "params": {}}],
    )
    if status != "pending":
        q.set_request_status(db, request_id, status, T0)
    return request_id


def test_request_ids_by_status_and_requester_newest_first(db: Database) -> None:
    a = _request(db, "wlc-1", "UCARLA", "succeeded")
    b = _request(db, "wlc-2", "UDAVE")
    c = _request(db, "wlc-3", "UCARLA", "running")
    d = _request(db, "wlc-1", "UCARLA")
    assert q.request_ids(db, ("pending",)) == [d, b]
    assert q.request_ids(db, ("running", "needs_attention")) == [c]
    assert q.request_ids(db, None, requester="UCARLA") == [d, c, a]
    assert q.request_ids(db, ("pending",), requester="UCARLA") == [d]
    assert q.request_ids(db, None, requester="UCARLA", limit=2) == [d, c]
    assert q.request_ids(db, ("scheduled",)) == []
    assert q.request_ids(db, ()) == []


def test_request_ids_are_bounded(db: Database) -> None:
    for n in range(MAX_LISTED + 5):
        _request(db, f"wlc-{n}", "UCARLA", "rejected")
    assert len(q.request_ids(db, None, limit=10_000)) == MAX_LISTED
    assert q.request_ids(db, None, limit=-1) == []
