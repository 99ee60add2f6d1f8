"""Digests: one per day, and the stuck counts the next day compares with."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlite_utils import Database

from bot.store import (
    StateError,
    digests,
)
from tests.store.store_factories import T0


def test_digest_sent_once_per_day(db: Database) -> None:
    day = date(2024, 5, 1)
    assert not digests.digest_sent(db, day)
    rec = digests.record_digest(
        db, day, channel="C-DIGEST", ts="123.456", summary={"stuck": 3}, sent_at=T0 + timedelta(hours=-1)
    )
    assert (rec.day, rec.channel, rec.ts, rec.summary) == (day, "C-DIGEST", "123.456", {"stuck": 3})
    assert rec.sent_at == T0 - timedelta(hours=1)
    assert digests.digest_sent(db, day) and digests.digest_sent(db, "2024-05-01")
    assert not digests.digest_sent(db, date(2024, 5, 2))
    assert digests.get_digest(db, "2024-05-01") == rec
    with pytest.raises(StateError):
        digests.record_digest(db, "2024-05-01", channel="C-DIGEST", ts=None, summary={})
    with pytest.raises(TypeError):
        digests.digest_sent(db, T0)  # a datetime is ambiguous: which timezone's day?


def test_the_next_digest_compares_with_the_stuck_counts_this_one_sent(db: Database) -> None:
    """`stuck_by_site` (what `build_digest` calls yesterday's numbers) reads back what was sent."""
    day = date(2024, 5, 1)
    assert digests.stuck_by_site(db, day) == {}  # no digest that day: unknown, not zero
    digests.record_digest(
        db, day, channel="C-DIGEST", ts="1.2", summary={"stuck_by_site": {"hq": 3, "branch": 0}, "sites": 2}
    )
    assert digests.stuck_by_site(db, day) == {"hq": 3, "branch": 0}
    assert digests.stuck_by_site(db, date(2024, 5, 2)) == {}
    digests.record_digest(db, date(2024, 5, 3), channel="C-DIGEST", ts=None, summary={"sites": 0})
    assert digests.stuck_by_site(db, date(2024, 5, 3)) == {}
