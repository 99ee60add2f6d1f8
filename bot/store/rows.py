"""Row helpers every store module shares: the current time as stored text, the first row of a
query, and inserts that return the new row's id.

Why a module of its own: each query module needs them and none of them owns them. `insert_row`
is sqlite-utils' table API (`db.table(t).insert(row).last_pk`); `insert_plain_row` is a
hand-written `INSERT` for the one hot path where the table API's per-row work (type
detection, column checks) was most of a check's cost. Table and column names passed to it
are this package's own constants, never text from outside.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlite_utils.db
from sqlite_utils import Database

from bot.store.codec import to_db_time, utc_now
from bot.store.records import NotFoundError


def now_text(now: datetime | None) -> str:
    """`now` (or the current time) as stored: fixed-width UTC text; a naive `now` is refused."""
    return to_db_time(utc_now() if now is None else now, "now")


def first_row(db: Database, sql: str, params: Sequence[Any] | dict[str, Any]) -> dict[str, Any] | None:
    """The first row a query answers, or None: for joins, where the table API does not reach."""
    return next(iter(db.query(sql, params)), None)


def get_row(db: Database, table: str, pk: int, missing: str) -> dict[str, Any]:
    """The row of `table` with primary key `pk` (sqlite-utils' `Table.get`).

    Raises the store's own `NotFoundError(missing)` rather than sqlite-utils' one, so callers
    catch one lookup error whatever answered.
    """
    try:
        return db.table(table).get(pk)
    except sqlite_utils.db.NotFoundError:
        raise NotFoundError(missing) from None


def find_row(
    db: Database, table: str, where: str, args: Sequence[Any], *, order_by: str | None = None
) -> dict[str, Any] | None:
    """The first row of `table` matching `where` (in `order_by` order), or None.

    `where` and `order_by` are this package's own constant SQL fragments; values go in `args`.
    """
    return next(db.table(table).rows_where(where, args, order_by=order_by, limit=1), None)


def insert_row(db: Database, table: str, row: dict[str, Any]) -> int:
    """Insert one row; returns its integer primary key."""
    pk = db.table(table).insert(row).last_pk
    assert pk is not None
    return int(pk)


def insert_plain_row(db: Database, table: str, row: Mapping[str, Any]) -> int:
    """`insert_row` for a row of plain SQLite values (text, numbers, None), without sqlite-utils'
    per-row work: a check inserts one snapshot per controller, and that work was most of it."""
    columns = ", ".join(f"[{c}]" for c in row)
    marks = ", ".join("?" * len(row))
    cursor = db.execute(f"INSERT INTO [{table}] ({columns}) VALUES ({marks})", list(row.values()))
    assert cursor.lastrowid is not None
    return int(cursor.lastrowid)
