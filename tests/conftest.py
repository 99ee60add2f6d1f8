"""Fixtures every test package may use: the throwaway PostgreSQL server (`tests/support/postgres.py`).

The server is started once per test session, on first use, and stopped when the session ends;
a test that asks for `postgres_url` gets a database of its own, dropped after it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import postgres

# A database migrated once per session, cloned for each test (a clone takes ~40 ms; migrating, longer).
_TEMPLATE = "ccert_template"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.PostgresServer]:
    if not postgres.available():
        pytest.fail(
            f"PostgreSQL is needed for these tests: install PostgreSQL 15 ({postgres.PG_BIN}) "
            f"or set {postgres.URL_ENV} to a server the tests may create databases on"
        )
    with postgres.running_server() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_template(postgres_server: postgres.PostgresServer) -> Iterator[str]:
    from bot.store import open_db

    url = postgres_server.new_database()
    open_db(url).close()
    name = url.rsplit("/", 1)[1]
    yield name
    postgres_server.drop_database(url)


@pytest.fixture
def postgres_url(postgres_server: postgres.PostgresServer, postgres_template: str) -> Iterator[str]:
    """A migrated PostgreSQL database of this test's own."""
    url = postgres_server.new_database(template=postgres_template)
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def empty_postgres_url(postgres_server: postgres.PostgresServer) -> Iterator[str]:
    """An empty PostgreSQL database of this test's own (no schema yet)."""
    url = postgres_server.new_database()
    yield url
    postgres_server.drop_database(url)
