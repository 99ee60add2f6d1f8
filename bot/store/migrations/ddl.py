"""What every migration is written with: the `Migration` record and two DDL helpers.

Why helpers and not sqlite-utils' table API for schema changes: `run_ddl` keeps every statement
inside the one migration transaction (`executescript` would commit first), and `add_column`
is `ALTER TABLE ... ADD COLUMN`, which leaves a table's triggers in place where
`table.transform()` would rebuild the table without them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlite_utils import Database

from bot.store.pg import PgDatabase
from bot.store.sql import Db, column_names


@dataclass(frozen=True)
class Migration:
    """One numbered schema change; `version` and `name` are what `schema_migrations` records."""

    version: int
    name: str
    apply: Callable[[Database], None]  # the SQLite form
    # The same change for PostgreSQL; required from `POSTGRES_BASELINE + 1` on (`db.migrate`).
    postgres: Callable[[PgDatabase], None] | None = None


def run_ddl(db: Db, script: str) -> None:
    """Run `;`-separated DDL statements one by one, inside the caller's transaction.

    (`executescript` would COMMIT first and break the one-transaction rule.)
    """
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def add_column(db: Db, table: str, column: str, declaration: str) -> None:
    """`ALTER TABLE ... ADD COLUMN` unless the column is already there (for later migrations)."""
    if column not in column_names(db, table):
        db.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {declaration}')
