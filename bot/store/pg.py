"""`PgDatabase`: a PostgreSQL connection that answers the store's SQL as the SQLite one does.

Why an adapter and not a second set of queries: every store function is written once, in the
SQL both databases speak (`ON CONFLICT`, `RETURNING`, `substr`, `coalesce`, ...), and takes
the connection first. This class gives a psycopg 3 connection the few methods those functions
call on sqlite-utils' `Database` (`execute`, `query`, `table_names`, `close`), and translates
what differs only in spelling:

* placeholders: SQLite's `?` and `:name` become psycopg's `%s` and `%(name)s`, outside quoted
  text, identifiers and comments; `::` casts are left alone; every literal `%` becomes `%%`
  (psycopg reads it even inside quotes), and a statement without parameters goes as written;
* `True`/`False` parameters become 1/0, because the schema keeps SQLite's integer flags.

Transactions are the store's own (`bot.store.db.write_tx`/`read_tx` send `BEGIN` and
`COMMIT`), so the connection is in autocommit mode between them, exactly like a sqlite3
connection outside `BEGIN`. Text columns are declared `COLLATE "C"` (the PostgreSQL schema),
so text sorts and compares by code point as it does in SQLite, whatever the server's locale.

The connection URL may carry a password; it is kept only inside psycopg, and `describe_url`
is what logs and messages show.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import pq
from psycopg.rows import dict_row

POSTGRES_SCHEMES = ("postgresql", "postgres")
CONNECT_TIMEOUT_SECONDS = 10


def is_postgres_url(target: object) -> bool:
    """`CCERT_DB` names a PostgreSQL database (`postgresql://...`) rather than a SQLite file."""
    return isinstance(target, str) and target.split("://", 1)[0].lower() in POSTGRES_SCHEMES and "://" in target


def describe_url(url: str) -> str:
    """The URL without its password (and without a query string that could carry one): for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:  # not a number: shown as given, so the operator sees the typo
        port = None
        host = f"{host}:{parts.netloc.rsplit(':', 1)[-1]}"
    if port:
        host = f"{host}:{port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, "", ""))


_TOKEN = re.compile(
    r"""
    '(?:[^']|'')*'          # a string literal
  | "(?:[^"]|"")*"          # a quoted identifier
  | --[^\n]*                # a comment
  | ::                      # a cast, not a named parameter
  | :[A-Za-z_][A-Za-z0-9_]* # a named parameter
  | \?                      # a positional parameter
  | %                       # a literal percent sign
    """,
    re.VERBOSE,
)


@lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """SQLite placeholders to psycopg ones (see the module docstring); cached per statement."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if token.startswith(":") and token != "::":
            return f"%({token[1:]})s"
        # Quoted text and comments keep their `?` and `:`, but psycopg reads `%` everywhere.
        return token.replace("%", "%%")

    return _TOKEN.sub(replace, sql)


def _value(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def adapt_params(params: Any) -> Any:
    """Parameters as psycopg takes them: a list or a dict, with booleans as 1/0."""
    if params is None:
        return None
    if isinstance(params, Mapping):
        return {k: _value(v) for k, v in params.items()}
    return [_value(v) for v in params]


class Cursor(Protocol):
    """What the store reads from a statement's cursor, on either backend."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class _ConnShim:
    """What the store reads from sqlite-utils' `db.conn`: whether a transaction is open."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    @property
    def in_transaction(self) -> bool:
        return self._conn.info.transaction_status != pq.TransactionStatus.IDLE


class PgDatabase:
    """One PostgreSQL connection in the shape the store functions use (see the module docstring)."""

    dialect = "postgresql"

    def __init__(self, url: str, *, password: str | None = None, read_only: bool = False) -> None:
        self._url = url
        self._password = password
        self._read_only = read_only
        self.description = describe_url(url)
        self._shut = False  # closed by us: stays closed (a dropped connection is revived)
        self.raw = self._open()
        self.conn = _ConnShim(self.raw)

    @classmethod
    def connect(cls, url: str, *, password: str | None = None, read_only: bool = False) -> PgDatabase:
        """Open a connection in autocommit mode (the store sends its own BEGIN/COMMIT).

        `password` (from `CCERT_DB_PASSWORD`) is handed to libpq beside the URL, so it is in no
        URL, log line or error message; without it libpq's own sources apply (`PGPASSWORD`,
        `~/.pgpass`).
        """
        return cls(url, password=password, read_only=read_only)

    def _open(self) -> psycopg.Connection[Any]:
        extra: dict[str, Any] = {"password": self._password} if self._password else {}
        conn = psycopg.connect(
            self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS, application_name="ccert-bot", **extra
        )
        if self._read_only:
            conn.execute("SET default_transaction_read_only = on")
        return conn

    def revive(self) -> None:
        """Reconnect if the server dropped the connection (a restart, a failover, a terminated backend).

        Called between store calls, never inside a transaction: a transaction the server lost is
        lost whole (its caller saw the error), and the next call starts on a new connection.
        """
        if self._shut:
            return
        if self.raw.closed or self.raw.broken:
            self.raw.close()
            self.raw = self._open()
            self.conn = _ConnShim(self.raw)

    def execute(self, sql: str, parameters: Iterable[Any] | Mapping[str, Any] | None = None) -> Cursor:
        """Run one statement; the cursor answers `fetchone`, `fetchall`, iteration and `rowcount`.

        Without parameters the text goes as written: psycopg does no placeholder processing
        then, so a `%` (a modulo, a PL/pgSQL body) must not be doubled either."""
        if parameters is None:
            return self.raw.execute(sql)
        return self.raw.execute(translate(sql), adapt_params(parameters))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.raw.cursor() as cursor:
            cursor.executemany(translate(sql), [adapt_params(r) for r in rows])

    def query(self, sql: str, params: Iterable[Any] | Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Rows as dicts, like sqlite-utils' `Database.query`."""
        with self.raw.cursor(row_factory=dict_row) as cursor:
            if params is None:
                cursor.execute(sql)
            else:
                cursor.execute(translate(sql), adapt_params(params))
            rows = cursor.fetchall() if cursor.description else []
        yield from rows

    def table_names(self) -> list[str]:
        return [
            row[0]
            for row in self.raw.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
            )
        ]

    def columns(self, table: str) -> list[str]:
        return [
            row[0]
            for row in self.raw.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
                [table],
            )
        ]

    def commit(self) -> None:
        if self.conn.in_transaction:
            self.raw.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.raw.execute("ROLLBACK")

    def close(self) -> None:
        self._shut = True
        self.raw.close()

    @property
    def closed(self) -> bool:
        return self.raw.closed
