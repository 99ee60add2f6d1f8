"""A throwaway PostgreSQL 15 server for the tests: `initdb` into a temp dir, on a free loopback port.

Why a real server and not a mock: the store's second backend is PostgreSQL, and what can go
wrong there (SQL dialect, types, locks, a backend terminated under the bot) only a real server
shows. `initdb` refuses to run as root, so when the tests run as root the server runs as the
`postgres` user (`runuser`), in a directory it owns; it listens on 127.0.0.1 only, with trust
authentication for that address alone, and is stopped (`pg_ctl stop -m immediate`) and its
directory removed when the test session ends.

`CCERT_TEST_POSTGRES_URL` points the tests at a server someone else runs instead (a URL to a
database the tests may create and drop databases in).

Each test gets a database of its own, cloned from a template that is created once per server
(`fresh_database`), so tests never see each other's rows.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN = Path(os.environ.get("CCERT_TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
URL_ENV = "CCERT_TEST_POSTGRES_URL"
START_TIMEOUT_SECONDS = 30


def available() -> bool:
    """PostgreSQL can be started here (or one is given)."""
    return bool(os.environ.get(URL_ENV)) or (PG_BIN / "initdb").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(argv: list[str]) -> list[str]:
    """Run `argv` as the `postgres` user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@dataclass
class PostgresServer:
    """One running server; `url(dbname)` addresses one of its databases."""

    host: str
    port: int
    user: str
    directory: Path | None = None
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def admin(self, sql: str) -> None:
        """Run one statement on the `postgres` database in autocommit (CREATE/DROP DATABASE)."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)

    def new_database(self, template: str | None = None) -> str:
        """Create an empty database (or a copy of `template`) and return its URL."""
        name = f"t{os.getpid()}_{next(self._counter)}"
        self.admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _external() -> PostgresServer:
    import psycopg

    with psycopg.connect(os.environ[URL_ENV]) as conn:
        info = conn.info
        return PostgresServer(host=info.host, port=int(info.port), user=info.user)


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    """Start a throwaway server (or use `CCERT_TEST_POSTGRES_URL`) and stop it afterwards."""
    if os.environ.get(URL_ENV):
        yield _external()
        return
    root = Path(tempfile.mkdtemp(prefix="ccert-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    try:
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]
            ),
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT_SECONDS + 30,
        )
        server = PostgresServer(host="127.0.0.1", port=port, user="postgres", directory=data)
        _wait_ready(server)
        yield server
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(server: PostgresServer) -> None:
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            with psycopg.connect(server.url(), connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
