"""The one store interface over two backends: the connection type and what differs between them.

Every store function takes a `Db` first: sqlite-utils' `Database` for the embedded SQLite file
(the default), or `PgDatabase` for PostgreSQL (`CCERT_DB=postgresql://...`, for two or more
instances in active/standby). Both answer `execute`, `query`, `table_names` and `close`, and
the store's SQL is the subset both speak, so a query is written once. The few places where
the two must differ in more than spelling ask `is_postgres(db)` here, so a reader finds every
such place by that one name: statements with more than one row (`execute_many`), the columns
of a table (`column_names`), and which driver errors mean what (`IntegrityError`,
`DatabaseError`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

import psycopg
from sqlite_utils import Database

from bot.store.pg import PgDatabase

Db: TypeAlias = Database | PgDatabase

# A constraint refused the statement (a unique index, a CHECK, a trigger guarding a row).
IntegrityError: tuple[type[Exception], ...] = (sqlite3.IntegrityError, psycopg.IntegrityError)
# Anything the database itself raised (health checks report it by name).
DatabaseError: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)


def is_postgres(db: Db) -> bool:
    """The connection is PostgreSQL (the shared, multi-instance backend)."""
    return isinstance(db, PgDatabase)


def in_transaction(db: Db) -> bool:
    return bool(db.conn.in_transaction)


def execute_many(db: Db, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    """One statement for many rows (the AP rows of a check): the driver's own batch call."""
    if isinstance(db, PgDatabase):
        db.executemany(sql, rows)
    else:
        db.conn.executemany(sql, rows)


def column_names(db: Db, table: str) -> list[str]:
    """The table's columns in declared order (empty when there is no such table)."""
    if isinstance(db, PgDatabase):
        return db.columns(table)
    return [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]
