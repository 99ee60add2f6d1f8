"""Listing remediation requests: which ids are in which states, newest first, for one requester.

The App Home (`bot.chat.home`) shows a person the requests waiting for them, the runs in
progress and scheduled, and their own recent requests; each is then read whole through
`RemediationService.request_view`. These are ids only, bounded by `limit`, so a store with
thousands of old requests answers with one indexed scan and never loads their views.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlite_utils import Database

#: At most this many ids per question, whatever the caller asks.
MAX_LISTED = 200


def request_ids(
    db: Database, statuses: Sequence[str] | None = None, *, requester: str | None = None, limit: int = 50
) -> list[int]:
    """Ids of requests in any of `statuses` (None: any status), of `requester` when given,
    newest first, at most `limit` (capped at `MAX_LISTED`)."""
    where: list[str] = []
    params: list[object] = []
    if statuses is not None:
        if not statuses:
            return []
        where.append(f"status IN ({', '.join('?' for _ in statuses)})")
        params.extend(str(s) for s in statuses)
    if requester is not None:
        where.append("requester = ?")
        params.append(requester)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    bound = max(0, min(int(limit), MAX_LISTED))
    rows = db.execute(
        f"SELECT id FROM remediation_requests{clause} ORDER BY id DESC LIMIT ?", [*params, bound]
    ).fetchall()
    return [int(r[0]) for r in rows]
