"""Who leads: the PostgreSQL session advisory lock one instance holds, and the fence it gives.

Why a session-level advisory lock on a dedicated connection, and not a lease row: the lock
belongs to the connection's server session, so it is released the moment that session ends
(the process is killed, its host goes, the backend is terminated), with no clock to trust and
no row to clean up; and the database itself can answer "does this session still hold it?" in
any other transaction (`pg_locks`), which is the fence: every device-changing step checks it,
in the same transaction that marks the step started (`runs.step_started`).

The lock's connection is only for the lock: autocommit, a short statement timeout, and TCP
keepalives on both ends sized from `CCERT_LEADER_TIMEOUT_SECONDS`, so a partitioned leader's
session is dropped by the server (and the lock freed) within about that long, while the leader
itself stops acting within half of it (`bot.jobs.leadership`).

With SQLite there is one instance by construction (one file, one host), and `SoloLock` always
leads; its fence still checks the run's claim.
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass
from typing import Any

import psycopg

from bot.store.db import ADVISORY_NAMESPACE
from bot.store.pg import CONNECT_TIMEOUT_SECONDS, describe_url, is_postgres_url

LEADER_LOCK = 2  # the second integer of the lock key (`db.WRITE_LOCK` is 1, `MIGRATION_LOCK` 3)
APPLICATION_PREFIX = "ccert-bot"


def default_instance_name() -> str:
    """Host name and process id: two instances on one host differ, a restarted one is new."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}"


@dataclass(frozen=True)
class Fence:
    """What a device-changing step must still hold when it starts.

    `instance` must be the run's claim; `lock_pid`, when set (PostgreSQL), must be the server
    process that holds the leader lock at that moment.
    """

    instance: str
    lock_pid: int | None = None


# The holder of the leader lock, answered from any connection to the same database.
HOLDER_SQL = (
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.classid = ? AND l.objid = ? AND l.objsubid = 2 AND l.granted "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
HOLDS_SQL = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = ? AND objid = ? "
    "AND objsubid = 2 AND granted AND pid = ? "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"
)


def _as_unsigned(value: int) -> int:
    # pg_locks shows the two int4 keys as unsigned oids.
    return value & 0xFFFFFFFF


def holder_params() -> list[int]:
    return [_as_unsigned(ADVISORY_NAMESPACE), _as_unsigned(LEADER_LOCK)]


def instance_of(application_name: str | None) -> str | None:
    """The instance name inside a lock connection's application name (`ccert-bot/<name>/leader`)."""
    if not application_name or not application_name.startswith(APPLICATION_PREFIX + "/"):
        return None
    return application_name.removeprefix(APPLICATION_PREFIX + "/").removesuffix("/leader") or None


class LeaderLock:
    """The leader lock on its own PostgreSQL connection (blocking calls: run them in a thread)."""

    def __init__(self, url: str, instance: str, timeout_seconds: float, *, password: str | None = None) -> None:
        self.url = url
        self.instance = instance
        self.timeout_seconds = timeout_seconds
        self._password = password
        self._conn: psycopg.Connection[Any] | None = None
        self.backend_pid: int | None = None

    def _connect(self) -> psycopg.Connection[Any]:
        idle = max(1, int(self.timeout_seconds / 3))
        interval = max(1, int(self.timeout_seconds / 6))
        extra: dict[str, Any] = {"password": self._password} if self._password else {}
        conn = psycopg.connect(
            self.url,
            autocommit=True,
            connect_timeout=min(CONNECT_TIMEOUT_SECONDS, max(2, int(self.timeout_seconds / 3))),
            application_name=f"{APPLICATION_PREFIX}/{self.instance}/leader"[:63],
            keepalives=1,
            keepalives_idle=idle,
            keepalives_interval=interval,
            keepalives_count=2,
            **extra,
        )
        statement_ms = int(max(1.0, self.timeout_seconds / 5) * 1000)
        conn.execute(f"SET statement_timeout = {statement_ms}")
        # The server's side of the keepalive, and PostgreSQL 14's check for a vanished client.
        conn.execute(f"SET tcp_keepalives_idle = {idle}")
        conn.execute(f"SET tcp_keepalives_interval = {interval}")
        conn.execute("SET tcp_keepalives_count = 2")
        with contextlib.suppress(psycopg.Error):
            conn.execute(f"SET client_connection_check_interval = {interval * 1000}")
        return conn

    def try_acquire(self) -> bool:
        """Take the lead if nobody holds it; False (and no lock) otherwise. Raises on a dead database."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            self.close()
            self._conn = self._connect()
        row = self._conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s), pg_backend_pid()", [ADVISORY_NAMESPACE, LEADER_LOCK]
        ).fetchone()
        assert row is not None
        if row[0]:
            self.backend_pid = int(row[1])
            return True
        return False

    def still_held(self) -> bool:
        """The renewal: the lock's own session answers, and it still holds the lock."""
        if self._conn is None or self._conn.closed or self._conn.broken or self.backend_pid is None:
            return False
        try:
            row = self._conn.execute(HOLDS_SQL.replace("?", "%s"), [*holder_params(), self.backend_pid]).fetchone()
        except psycopg.OperationalError:  # the session is gone (terminated, server restart): so is the lock
            return False
        return bool(row and row[0])

    def fence(self) -> Fence:
        return Fence(self.instance, self.backend_pid)

    def holder(self) -> str | None:
        """The instance that leads now (from any session), or None when nobody does."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            self.close()
            self._conn = self._connect()
        row = self._conn.execute(HOLDER_SQL.replace("?", "%s"), holder_params()).fetchone()
        return instance_of(row[0]) if row else None

    def release(self) -> None:
        """Give the lead up (a clean stop): the session ends, and with it the lock."""
        self.backend_pid = None
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None


class SoloLock:
    """SQLite: the one instance always leads; the fence checks only the run's claim."""

    def __init__(self, instance: str) -> None:
        self.instance = instance
        self.backend_pid: int | None = None

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def fence(self) -> Fence:
        return Fence(self.instance, None)

    def holder(self) -> str | None:
        return self.instance

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass


def lead_summary(target: str, *, password: str | None = None, timeout_seconds: float = 5.0) -> dict[str, Any]:
    """Which backend holds the state and who leads, for `status` and `check-config`.

    Asks from a short-lived connection of its own and takes no lock. Never raises: a store
    that cannot be reached is said in words (`reachable` False), without the password.
    """
    if not is_postgres_url(target):
        return {
            "backend": "sqlite",
            "store": target,
            "reachable": True,
            "leader": None,
            "text": f"SQLite {target}: one instance, which leads while it runs",
        }
    shown = describe_url(target)
    probe = LeaderLock(target, "status-probe", timeout_seconds, password=password)
    try:
        holder = probe.holder()
    except psycopg.Error as error:
        return {
            "backend": "postgresql",
            "store": shown,
            "reachable": False,
            "leader": None,
            "text": f"PostgreSQL {shown}: cannot be reached ({type(error).__name__})",
        }
    finally:
        probe.close()
    said = f"{holder} leads" if holder else "no instance leads now (is any `ccert-bot run` up?)"
    return {
        "backend": "postgresql",
        "store": shown,
        "reachable": True,
        "leader": holder,
        "text": f"PostgreSQL {shown}: {said}",
    }
