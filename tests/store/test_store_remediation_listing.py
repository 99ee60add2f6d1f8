"""`request_ids` and `waiting_ids`: which requests are in which states, in the order the home shows
them, one requester's, bounded; and the counts that keep the home's headings true past the bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from bot.store import remediation as q
from bot.store.remediation.listing import MAX_LISTED

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _request(
    db: Database,
    controller: str,
    requester: str,
    status: str = "pending",
    *,
    expires_in: timedelta = timedelta(hours=1),
    window: datetime | None = None,
) -> int:
    request_id = q.insert_request(
        db,
        site="s",
        requester=requester,
        created_at=T0,
        expires_at=T0 + expires_in,
        scheduled_for=window,
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


def test_the_order_is_chosen_before_the_cap(db: Database) -> None:
    """With more requests than the cap, the ones that matter most are the ones listed."""
    closest = _request(db, "wlc-1", "UCARLA", expires_in=timedelta(minutes=5))
    later = [_request(db, f"wlc-p{n}", "UCARLA", expires_in=timedelta(hours=2)) for n in range(3)]
    assert q.request_ids(db, ("pending",), limit=2) == [later[2], later[1]], "newest first by default"
    assert q.request_ids(db, ("pending",), limit=2, order="expires") == [closest, later[0]]
    soonest = _request(db, "wlc-s1", "UDAVE", "scheduled", window=T0 + timedelta(hours=1))
    _request(db, "wlc-s2", "UDAVE", "scheduled", window=T0 + timedelta(days=2))
    unset = _request(db, "wlc-s3", "UDAVE", "scheduled")
    next_day = _request(db, "wlc-s4", "UDAVE", "scheduled", window=T0 + timedelta(days=1))
    assert q.request_ids(db, ("scheduled",), limit=2, order="window") == [soonest, next_day]
    assert q.request_ids(db, ("scheduled",), order="window")[-1] == unset, "no window: last"


def test_counts_are_the_whole_lists(db: Database) -> None:
    for n in range(MAX_LISTED + 5):
        _request(db, f"wlc-{n}", "UCARLA" if n % 2 else "UDAVE", "running")
    assert len(q.request_ids(db, ("running",), limit=10_000)) == MAX_LISTED
    assert q.count_requests(db, ("running", "approved")) == MAX_LISTED + 5
    assert q.count_requests(db, ("running",), requester="UCARLA") == (MAX_LISTED + 5) // 2
    assert q.count_requests(db, ("scheduled",)) == 0 and q.count_requests(db, ()) == 0
    assert q.count_requests(db) == MAX_LISTED + 5


def test_waiting_ids_are_what_the_viewer_may_still_approve_closest_to_expiring_first(db: Database) -> None:
    now = T0 + timedelta(minutes=1)
    mine = _request(db, "wlc-1", "UALICE")  # her own
    late = _request(db, "wlc-2", "UCARLA", expires_in=timedelta(hours=3))
    soon = _request(db, "wlc-3", "UCARLA", expires_in=timedelta(minutes=30))
    _request(db, "wlc-4", "UCARLA", expires_in=timedelta(seconds=30))  # past its deadline at `now`
    voted = _request(db, "wlc-5", "UCARLA")
    q.record_vote(
        db,
        voted,
        user_id="UALICE",
        vote="approve",
        at=T0,
        counted=True,
        reason="ok",
        expected_status="pending",
        new_status="pending",
    )
    _request(db, "wlc-6", "UCARLA", "running")
    assert q.waiting_ids(db, "UALICE", now) == [soon, late]
    assert q.count_waiting(db, "UALICE", now) == 2
    assert q.waiting_ids(db, "UALICE", now, limit=1) == [soon], "the cap drops the latest deadline"
    assert q.waiting_ids(db, "UBOB", now) == [soon, mine, voted, late]
    assert q.count_waiting(db, "UBOB", now) == 4
