"""Copy a whole store from one backend to another (`ccert-bot db copy`): SQLite to PostgreSQL and back.

Why a copy of our own and not `pg_dump`/`.dump`: the two databases spell the schema
differently (`bot.store.migrations.postgres_baseline`), so only rows can move, not DDL. The
destination gets its schema the ordinary way (`open_db`, which migrates), and this module moves
the rows into it, table by table, keeping every id, so references, the audit and links posted in
Slack (request numbers) mean the same afterwards.

What it guarantees, and why:

* **Same schema on both sides, this code's.** A row means what the schema at that version says;
  copying between versions would need the migrations' data changes too. An older source is
  refused with the fix (`ccert-bot db migrate` on it), never migrated here: the source is opened
  read-only and read in one consistent view (`read_tx`), so the bot may even keep running on it.
* **An empty destination.** Merging two stores would renumber ids; refusing is the only answer
  that loses nothing. The check runs inside the destination's write transaction.
* **All or nothing.** Every insert is in one `write_tx` on the destination; row counts are
  compared table by table before the commit, and a difference rolls the whole copy back.
  The guard triggers (the audit is append-only, a recorded configuration fixed) refuse UPDATE
  and DELETE only, so the INSERTs pass and the guards hold afterwards.
* **Parents first.** Tables go in foreign-key order, read from the source's own schema; a
  table referring to itself (`snapshots.aps_snapshot_id`, a snapshot sharing an earlier one's AP
  rows) is copied in id order, which puts every referenced row first.
* **Row order kept.** `snapshot_aps` and `remediation_targets` are read in the order they were
  written: SQLite's implicit `rowid`, an explicit `rowid` column on PostgreSQL. Between the two,
  that value is copied too (SQLite accepts an explicit rowid in an INSERT), so a round trip
  gives back the same rowids.
* **Bounded memory.** Rows move in batches (`BATCH_ROWS`, keyset pages over the order key), so a
  large `snapshot_aps` never sits in memory whole.
* **New ids after the copy.** PostgreSQL identities do not move when ids are given explicitly,
  so each one is set past the highest copied value; the next insert gets a new id.
"""

from __future__ import annotations

import graphlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.store.db import applied_versions, read_tx, write_tx
from bot.store.migrations import MIGRATIONS
from bot.store.pg import PgDatabase, is_postgres_url
from bot.store.sql import DatabaseError, Db, column_names, execute_many, is_postgres

BATCH_ROWS = 5_000
META_TABLES = frozenset({"schema_migrations"})

RowidKind = Literal["column", "implicit", "alias", "none"]


class StoreCopyError(RuntimeError):
    """The copy was refused or failed; the message says why and what to do. Nothing was written."""


@dataclass(frozen=True)
class CopyResult:
    """Rows copied per table, in the order the tables were copied (parents first)."""

    tables: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.tables.values())


def same_target(a: str | Path, b: str | Path) -> bool:
    """Two `CCERT_DB` values naming the same store (one file, or one database on one server).

    Copying a store onto itself would either be refused as non-empty or copy nothing; it is
    caught first so the operator reads what they did.
    """
    if is_postgres_url(a) != is_postgres_url(b):
        return False
    if is_postgres_url(a):
        try:
            return _pg_identity(str(a)) == _pg_identity(str(b))
        except ValueError:  # an unreadable URL (a port that is not a number): connecting will say why
            return False
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def _pg_identity(url: str) -> tuple[str, int, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = (parts.hostname or "localhost").lower()
    if host in ("127.0.0.1", "::1"):
        host = "localhost"
    return host, parts.port or 5432, parts.path.lstrip("/")


def data_tables(db: Db) -> list[str]:
    """Every table holding the store's data: all but the migration record and SQLite's own."""
    return sorted(t for t in db.table_names() if t not in META_TABLES and not t.startswith("sqlite_"))


def first_non_empty(db: Db) -> str | None:
    """The first data table that has a row (None: the store holds no data, whatever its schema)."""
    for table in data_tables(db):
        if db.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() is not None:
            return table
    return None


def check_destination_empty(db: Db, description: str) -> None:
    """Refuse a destination with data: a copy into it would have to renumber ids (see the module docstring)."""
    table = first_non_empty(db)
    if table is not None:
        raise StoreCopyError(
            f"the destination {description} already holds data (table {table} is not empty); "
            "copy into an empty database or a new file"
        )


def check_source_version(db: Db, description: str) -> None:
    """The source is at this code's schema version, else the words that say what to run."""
    _check_version(db, description, role="source")


def _check_version(db: Db, description: str, *, role: str) -> None:
    current = len(MIGRATIONS)
    versions = applied_versions(db)
    if not versions:
        raise StoreCopyError(f"the {role} {description} is not a ccert-bot store (no schema)")
    if versions[-1] > current or any(v not in range(1, current + 1) for v in versions):
        raise StoreCopyError(
            f"the {role} {description} is at schema version {versions[-1]}, newer than this ccert-bot "
            f"knows ({current}): upgrade ccert-bot first"
        )
    if versions != list(range(1, current + 1)):
        hint = f"run `ccert-bot db migrate --db {description}` on it first" if role == "source" else "migrate it first"
        raise StoreCopyError(
            f"the {role} {description} is at schema version {versions[-1]}, this ccert-bot's is {current}: {hint}"
        )


def describe(db: Db) -> str:
    """How messages name a store: the PostgreSQL URL without its password, or the SQLite file."""
    if isinstance(db, PgDatabase):
        return db.description
    row = db.execute("PRAGMA database_list").fetchone()
    return str(row[2]) if row and row[2] else "the SQLite database"


def copy_store(source: Db, dest: Db, *, batch_rows: int = BATCH_ROWS) -> CopyResult:
    """Copy every data table of `source` into the empty `dest` (see the module docstring).

    `source` should be opened read-only (`connect(target, read_only=True)`); it is only read.
    `dest` must be migrated to this code's schema (`open_db`). Raises `StoreCopyError` for a
    refusal or a failure, with `dest` unchanged.
    """
    source_name, dest_name = describe(source), describe(dest)
    check_source_version(source, source_name)
    _check_version(dest, dest_name, role="destination")
    try:
        with read_tx(source), write_tx(dest):
            check_destination_empty(dest, dest_name)
            tables = _tables_in_order(source, dest, source_name, dest_name)
            counts: dict[str, int] = {}
            for table in tables:
                counts[table] = _copy_table(source, dest, table, batch_rows)
            if is_postgres(dest):
                _move_identities(dest)
            _verify(source, dest, counts)
            return CopyResult(counts)
    except DatabaseError as error:
        raise StoreCopyError(f"the copy failed and was rolled back, nothing written: {_one_line(error)}") from error


def _one_line(error: BaseException) -> str:
    return "; ".join(line.strip() for line in str(error).splitlines() if line.strip()) or type(error).__name__


def _tables_in_order(source: Db, dest: Db, source_name: str, dest_name: str) -> list[str]:
    """The source's data tables, parents before children (a self-reference is not an edge)."""
    tables = data_tables(source)
    missing = sorted(set(tables) - set(data_tables(dest)))
    if missing:
        raise StoreCopyError(f"the destination {dest_name} has no table {missing[0]} that {source_name} has")
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for table in tables:
        sorter.add(table, *sorted(p for p in _parents(source, table) if p != table and p in tables))
    try:
        return list(sorter.static_order())
    except graphlib.CycleError as error:
        raise StoreCopyError(
            f"the tables' foreign keys form a cycle ({error.args[1]}); cannot order the copy"
        ) from None


def _parents(db: Db, table: str) -> set[str]:
    """The tables `table`'s foreign keys refer to."""
    if is_postgres(db):
        rows = db.execute(
            "SELECT DISTINCT ref.relname FROM pg_constraint c "
            "JOIN pg_class child ON child.oid = c.conrelid JOIN pg_class ref ON ref.oid = c.confrelid "
            "JOIN pg_namespace n ON n.oid = child.relnamespace "
            "WHERE c.contype = 'f' AND n.nspname = current_schema() AND child.relname = ?",
            [table],
        )
        return {str(r[0]) for r in rows}
    return {str(r[2]) for r in db.execute(f'PRAGMA foreign_key_list("{table}")')}


def _primary_key(db: Db, table: str) -> list[str]:
    if is_postgres(db):
        rows = db.execute(
            "SELECT a.attname FROM pg_index i "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = to_regclass(?) AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)",
            [f'"{table}"'],
        )
        return [str(r[0]) for r in rows]
    info = [r for r in db.execute(f'PRAGMA table_info("{table}")') if r[5]]
    return [str(r[1]) for r in sorted(info, key=lambda r: r[5])]


_WITHOUT_ROWID = re.compile(r"\)\s*WITHOUT\s+ROWID\s*;?\s*$", re.IGNORECASE)


def _rowid_kind(db: Db, table: str) -> RowidKind:
    """What `rowid` is in this table: a PostgreSQL column, SQLite's implicit one, an alias of the
    `INTEGER PRIMARY KEY` (copied as that column), or nothing (a `WITHOUT ROWID` table)."""
    if is_postgres(db):
        return "column" if "rowid" in column_names(db, table) else "none"
    row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone()
    if row and row[0] and _WITHOUT_ROWID.search(row[0]):
        return "none"
    keys = [r for r in db.execute(f'PRAGMA table_info("{table}")') if r[5]]
    if len(keys) == 1 and str(keys[0][2]).upper() == "INTEGER":
        return "alias"
    return "implicit"


@dataclass(frozen=True)
class _Plan:
    columns: list[str]  # inserted, in this order (`rowid` last when copied)
    key: list[str]  # the source's order, and the keyset the pages follow


def _plan(source: Db, dest: Db, table: str) -> _Plan:
    """Which columns move and in what order the source is read (see the module docstring)."""
    source_rowid, dest_rowid = _rowid_kind(source, table), _rowid_kind(dest, table)
    copy_rowid = source_rowid in ("column", "implicit") and dest_rowid in ("column", "implicit")
    source_columns = [c for c in column_names(source, table) if c != "rowid"]
    dest_columns = set(column_names(dest, table))
    lost = [c for c in source_columns if c not in dest_columns]
    if lost:
        raise StoreCopyError(f"the destination's table {table} has no column {lost[0]}: its rows would be lost")
    if source_rowid == "column" and not copy_rowid:
        raise StoreCopyError(f"the destination's table {table} cannot keep the source's rowid order")
    columns = source_columns + (["rowid"] if copy_rowid else [])
    key = ["rowid"] if source_rowid in ("column", "implicit") else _primary_key(source, table)
    if not key:
        raise StoreCopyError(f"the source's table {table} has neither a rowid nor a primary key to copy it in order")
    return _Plan(columns, key)


def _name(column: str) -> str:
    """A column in SQL: `rowid` stays bare (SQLite reads a quoted "rowid" as a string when no column has the name)."""
    return column if column == "rowid" else f'"{column}"'


def _pages(source: Db, table: str, plan: _Plan, batch_rows: int) -> Iterator[list[tuple[Any, ...]]]:
    """The source's rows in key order, `batch_rows` at a time (keyset pagination: no OFFSET rescans)."""
    wanted = ", ".join(_name(c) for c in plan.columns + plan.key)
    key = ", ".join(_name(c) for c in plan.key)
    base = f'SELECT {wanted} FROM "{table}"'
    after: list[Any] | None = None
    width = len(plan.columns)
    while True:
        if after is None:
            sql, params = f"{base} ORDER BY {key} LIMIT {batch_rows}", []
        else:
            marks = ", ".join("?" for _ in plan.key)
            sql, params = f"{base} WHERE ({key}) > ({marks}) ORDER BY {key} LIMIT {batch_rows}", after
        rows = [tuple(r) for r in source.execute(sql, params).fetchall()]
        if not rows:
            return
        after = list(rows[-1][width:])
        yield [r[:width] for r in rows]
        if len(rows) < batch_rows:
            return


def _copy_table(source: Db, dest: Db, table: str, batch_rows: int) -> int:
    plan = _plan(source, dest, table)
    insert = (
        f'INSERT INTO "{table}" ({", ".join(_name(c) for c in plan.columns)}) '
        f"VALUES ({', '.join('?' for _ in plan.columns)})"
    )
    copied = 0
    for rows in _pages(source, table, plan, batch_rows):
        execute_many(dest, insert, rows)
        copied += len(rows)
    return copied


def _move_identities(dest: Db) -> None:
    """Each identity (ids, PostgreSQL's `rowid` columns) continues after the highest copied value."""
    identities = dest.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name, column_name"
    ).fetchall()
    for table, column in identities:
        dest.execute(
            f'SELECT setval(pg_get_serial_sequence(?, ?), coalesce((SELECT max("{column}") FROM "{table}"), 0) + 1, '
            "false)",
            [f'"{table}"', column],
        ).fetchone()


def _count(db: Db, table: str) -> int:
    return int(db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def _verify(source: Db, dest: Db, counts: dict[str, int]) -> None:
    """Both sides hold the same number of rows in every table, and as many as were copied."""
    for table, copied in counts.items():
        there, here = _count(source, table), _count(dest, table)
        if not there == here == copied:
            raise StoreCopyError(
                f"table {table}: the source has {there} rows, {copied} were copied and the destination has "
                f"{here}; the copy was rolled back"
            )
