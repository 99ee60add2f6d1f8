"""Listing remediation requests: which ids are in which states, in the order the App Home shows them.

The App Home (`bot.chat.home`) shows a person the requests waiting for them, the runs in
progress and scheduled, and their own recent requests; each is then read whole through
`RemediationService.request_view`. These are ids only, bounded by `limit`, so a store with
thousands of old requests answers with one indexed scan and never loads their views; the
`count_*` functions say how many there are in all, so a heading over a capped list still
tells the truth.

The order is chosen in SQL, before the cap, so the cap never drops the rows that matter
most: pending requests closest to expiring (`order="expires"`), the next change window
(`order="window"`), otherwise the newest.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from bot.store.codec import to_db_time
from bot.store.sql import Db

#: At most this many ids per question, whatever the caller asks.
MAX_LISTED = 200

Order = Literal["newest", "expires", "window"]
_ORDER_BY: dict[str, str] = {
    "newest": "id DESC",
    # Both indexed ((status, expires_at), (status, scheduled_for)); the id breaks ties oldest first.
    "expires": "expires_at ASC, id ASC",
    "window": "scheduled_for IS NULL, scheduled_for ASC, id ASC",  # a request without a window last
}


def _where(statuses: Sequence[str] | None, requester: str | None) -> tuple[str, list[object]] | None:
    """The WHERE clause and its parameters; None when `statuses` is empty (nothing can match)."""
    where: list[str] = []
    params: list[object] = []
    if statuses is not None:
        if not statuses:
            return None
        where.append(f"status IN ({', '.join('?' for _ in statuses)})")
        params.extend(str(s) for s in statuses)
    if requester is not None:
        where.append("requester = ?")
        params.append(requester)
    return (f" WHERE {' AND '.join(where)}" if where else ""), params


def _bound(limit: int) -> int:
    return max(0, min(int(limit), MAX_LISTED))


def request_ids(
    db: Db,
    statuses: Sequence[str] | None = None,
    *,
    requester: str | None = None,
    limit: int = 50,
    order: Order = "newest",
) -> list[int]:
    """Ids of requests in any of `statuses` (None: any status), of `requester` when given,
    in `order` (newest first by default), at most `limit` (capped at `MAX_LISTED`)."""
    found = _where(statuses, requester)
    if found is None:
        return []
    clause, params = found
    rows = db.execute(
        f"SELECT id FROM remediation_requests{clause} ORDER BY {_ORDER_BY[order]} LIMIT ?", [*params, _bound(limit)]
    ).fetchall()
    return [int(r[0]) for r in rows]


def count_requests(db: Db, statuses: Sequence[str] | None = None, *, requester: str | None = None) -> int:
    """How many requests `request_ids` would list without its cap."""
    found = _where(statuses, requester)
    if found is None:
        return 0
    clause, params = found
    return int(db.execute(f"SELECT COUNT(*) FROM remediation_requests{clause}", params).fetchone()[0])


# Pending, not `viewer`'s own, not yet approved by them, not past its deadline: what
# `bot.chat.home_views.waiting_for` keeps, so the cap and the count are over the same requests.
_WAITING = (
    " FROM remediation_requests r WHERE r.status = 'pending' AND r.requester != ? AND r.expires_at > ?"
    " AND NOT EXISTS (SELECT 1 FROM remediation_votes v WHERE v.request_id = r.id AND v.user_id = ?"
    " AND v.vote = 'approve' AND v.counted = 1)"
)


def waiting_ids(db: Db, viewer: str, now: datetime, *, limit: int = 50) -> list[int]:
    """Ids of the pending requests `viewer` may still approve at `now` (whether they are an
    approver at all is the caller's question), the closest to expiring first."""
    rows = db.execute(
        f"SELECT r.id{_WAITING} ORDER BY r.expires_at ASC, r.id ASC LIMIT ?",
        [viewer, to_db_time(now), viewer, _bound(limit)],
    ).fetchall()
    return [int(r[0]) for r in rows]


def count_waiting(db: Db, viewer: str, now: datetime) -> int:
    """How many requests `waiting_ids` would list without its cap."""
    return int(db.execute(f"SELECT COUNT(*){_WAITING}", [viewer, to_db_time(now), viewer]).fetchone()[0])
