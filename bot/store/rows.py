"""Row helpers every store module shares: the current time as stored text, the first row of a
query, inserts that return the new row's id, and the few table-shaped reads and writes.

Why a module of its own: each query module needs them and none of them owns them. They are
plain SQL that SQLite and PostgreSQL both answer (`INSERT ... RETURNING id`, `ON CONFLICT ...
DO UPDATE`, double-quoted names), not sqlite-utils' table API, so one function serves both
backends (`bot.store.sql`); and a plain `INSERT` has none of the table API's per-row work
(type detection, column checks), which was most of a check's cost where it mattered. Table
and column names and the `where`/`order_by` fragments passed here are this package's own
constants, never text from outside; values always go as parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.store.codec import to_db_time, utc_now
from bot.store.records import NotFoundError
from bot.store.sql import Db, execute_many


def now_text(now: datetime | None) -> str:
    """`now` (or the current time) as stored: fixed-width UTC text; a naive `now` is refused."""
    return to_db_time(utc_now() if now is None else now, "now")


def first_row(db: Db, sql: str, params: Sequence[Any] | dict[str, Any]) -> dict[str, Any] | None:
    """The first row a query answers, or None: for joins, where the helpers below do not reach."""
    return next(iter(db.query(sql, params)), None)


def rows_where(
    db: Db,
    table: str,
    where: str | None = None,
    args: Sequence[Any] = (),
    *,
    order_by: str | None = None,
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """The rows of `table` matching `where` (all when None), in `order_by` order, as dicts."""
    sql = f'SELECT * FROM "{table}"'
    if where:
        sql += f" WHERE {where}"
    if order_by:
        sql += f" ORDER BY {order_by}"
    params = list(args)
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return iter(db.query(sql, params))


def get_row(db: Db, table: str, pk: int, missing: str) -> dict[str, Any]:
    """The row of `table` whose `id` is `pk`; raises the store's `NotFoundError(missing)`."""
    row = first_row(db, f'SELECT * FROM "{table}" WHERE id = ?', [int(pk)])
    if row is None:
        raise NotFoundError(missing)
    return row


def find_row(
    db: Db, table: str, where: str, args: Sequence[Any], *, order_by: str | None = None
) -> dict[str, Any] | None:
    """The first row of `table` matching `where` (in `order_by` order), or None."""
    return next(rows_where(db, table, where, args, order_by=order_by, limit=1), None)


def insert_row(db: Db, table: str, row: Mapping[str, Any]) -> int:
    """Insert one row of plain values (text, numbers, None); returns its integer `id`."""
    columns = ", ".join(f'"{c}"' for c in row)
    marks = ", ".join("?" * len(row))
    found = db.execute(f'INSERT INTO "{table}" ({columns}) VALUES ({marks}) RETURNING id', list(row.values()))
    return int(found.fetchone()[0])


# The same insert, by the name the hot path (one snapshot per controller) has always used.
insert_plain_row = insert_row


def update_row(db: Db, table: str, pk: int, values: Mapping[str, Any]) -> None:
    """Set `values` on the row of `table` whose `id` is `pk`."""
    assignments = ", ".join(f'"{c}" = ?' for c in values)
    db.execute(f'UPDATE "{table}" SET {assignments} WHERE id = ?', [*values.values(), int(pk)])


def upsert_rows(db: Db, table: str, columns: Sequence[str], key: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert `rows` (values in `columns` order), replacing the row with the same `key`."""
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" * len(columns))
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in key)
    conflict = ", ".join(f'"{c}"' for c in key)
    execute_many(
        db,
        f'INSERT INTO "{table}" ({names}) VALUES ({marks}) ON CONFLICT ({conflict}) DO UPDATE SET {updates}',
        rows,
    )
