"""Daily digests: which day's digest went out, and the numbers it carried.

Why recorded: the digest is posted once a day, so a restart after the digest hour must not
post it again; and tomorrow's digest compares its stuck counts with today's
(`stuck_by_site`), which are alert counts that no other table keeps.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from bot.store.codec import day_text, dumps, from_db_time, loads
from bot.store.db import write_tx
from bot.store.records import DigestRecord, StateError
from bot.store.rows import find_row, get_row, insert_row, now_text
from bot.store.sql import Db


def _digest_record(row: Mapping[str, Any]) -> DigestRecord:
    return DigestRecord(
        id=row["id"],
        day=date.fromisoformat(row["day"]),
        sent_at=from_db_time(row["sent_at"]),
        channel=row["channel"],
        ts=row["ts"],
        summary=loads(row["summary_json"], {}),
    )


def get_digest(db: Db, day: date | str) -> DigestRecord | None:
    """The digest recorded for `day`, if one was sent."""
    row = find_row(db, "digests", "day = ?", [day_text(day)])
    return None if row is None else _digest_record(row)


def digest_sent(db: Db, day: date | str) -> bool:
    """Whether the digest for `day` (a date in the configured timezone) went out."""
    return get_digest(db, day) is not None


def record_digest(
    db: Db,
    day: date | str,
    *,
    channel: str,
    ts: str | None,
    summary: Mapping[str, Any],
    sent_at: datetime | None = None,
) -> DigestRecord:
    """Remember that the digest for `day` was sent. Raises `StateError` if one already was."""
    with write_tx(db):
        if digest_sent(db, day):
            raise StateError(f"the digest for {day_text(day)} was already recorded")
        digest_id = insert_row(
            db,
            "digests",
            {
                "day": day_text(day),
                "sent_at": now_text(sent_at),
                "channel": channel,
                "ts": ts,
                "summary_json": dumps(dict(summary)),
            },
        )
        return _digest_record(get_row(db, "digests", digest_id, f"no digest {digest_id}"))


def stuck_by_site(db: Db, day: date) -> dict[str, int]:
    """The stuck AP count per site that the digest of `day` reported (empty without one).

    The next day's digest compares with these: they are alert counts (APs past the stuck
    threshold), which no other table keeps for a past day.
    """
    record = get_digest(db, day)
    if record is None:
        return {}
    return {str(k): int(v) for k, v in (record.summary.get("stuck_by_site") or {}).items()}
