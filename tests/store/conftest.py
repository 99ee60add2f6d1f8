"""Fixtures for the store tests: a real SQLite file under tmp_path, and a real PostgreSQL database.

`db` and `store` run each test that uses them on both backends (`[sqlite]`, `[postgresql]`):
the store is one interface over two databases, and every behaviour is checked on each.
`db_path` stays SQLite: tests of the file itself (WAL, pragmas, old files' migrations).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.store import Store, open_db
from bot.store.sql import Db

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ccert.db"


@pytest.fixture
def sqlite_db(db_path: Path) -> Iterator[Db]:
    """The SQLite file alone: tests of what only a file has (WAL, pragmas, vacuum)."""
    database = open_db(db_path)
    yield database
    database.close()


@pytest.fixture(params=BACKENDS)
def store_target(request: pytest.FixtureRequest, db_path: Path) -> str:
    """Where the store lives for this test: the SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(db_path)
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def db(store_target: str) -> Iterator[Db]:
    database = open_db(store_target)
    yield database
    database.close()


@pytest.fixture
async def store(store_target: str) -> AsyncIterator[Store]:
    async with await Store.open(store_target) as s:
        yield s
