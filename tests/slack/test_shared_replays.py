"""Two instances over one PostgreSQL store refuse a replay whichever of them it reaches.

Each `Store` here is what one `ccert-bot run` opens; the request guard's replay check goes
through `SharedReplays` when the store is shared (`bot.slack.transport.build_web_app`).
"""

from __future__ import annotations

import logging
import time

import pytest

from bot.slack.request_guard import REPLAY_WINDOW_SECONDS, SharedReplays
from bot.store import Store
from bot.store import signatures as signatures_store


async def test_a_signature_accepted_by_one_instance_is_a_replay_at_the_other(postgres_url: str) -> None:
    now = time.time()
    async with await Store.open(postgres_url) as first, await Store.open(postgres_url) as second:
        a, b = SharedReplays(first), SharedReplays(second)
        assert await a.first_time("v0=" + "a" * 64, int(now), now)
        assert not await b.first_time("v0=" + "a" * 64, int(now), now)  # the load balancer's other pick
        assert not await a.first_time("v0=" + "a" * 64, int(now), now)  # and at home too
        assert await b.first_time("v0=" + "b" * 64, int(now), now)
        stored = [row[0] for row in await first.read(lambda db: db.execute("SELECT digest FROM slack_signatures"))]
        assert len(stored) == 2 and not any("a" * 64 in d or "b" * 64 in d for d in stored)  # digests only


async def test_expired_signatures_leave_the_store(postgres_url: str) -> None:
    now = time.time()
    async with await Store.open(postgres_url) as store:
        replays = SharedReplays(store)
        assert await replays.first_time("v0=" + "c" * 64, int(now), now)
        later = now + REPLAY_WINDOW_SECONDS + 2
        assert await SharedReplays(store).first_time("v0=" + "d" * 64, int(later), later)
        assert await store.read(signatures_store.signatures_kept) == 1  # c went with the next write


async def test_a_store_that_cannot_be_written_leaves_the_local_answer(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    now = time.time()
    store = await Store.open(postgres_url)
    replays = SharedReplays(store)
    await store.close()
    with caplog.at_level(logging.WARNING):
        assert await replays.first_time("v0=" + "e" * 64, int(now), now)  # Slack still gets its answer
        assert not await replays.first_time("v0=" + "e" * 64, int(now), now)  # this instance still remembers
    assert "could not share a Slack signature" in caplog.text
