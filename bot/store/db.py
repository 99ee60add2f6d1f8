"""Open the one SQLite file, set it up, migrate it; transactions.

`open_db(path)` returns a `sqlite_utils.Database` in WAL mode with
`synchronous=NORMAL` (durable at every checkpoint, safe against corruption,
fast: one fsync per checkpoint rather than per commit), foreign keys on and a
busy timeout, with every migration in `bot.store.migrations.MIGRATIONS`
applied. A file written by an older bot is brought up to date on open; a
file written by a newer bot (versions this code does not know) is refused
rather than used half-understood.

A new file is created with `auto_vacuum = INCREMENTAL`, so the pages pruning
frees can be handed back to the file system (`pruning.reclaim_space`, after
every prune); a file created before that is converted once, by the first
prune (a `VACUUM`, which cannot run inside a transaction), not on open, so a
start-up never waits for a rewrite of the whole file.

Transactions: `write_tx(db)` is `BEGIN IMMEDIATE` ... `COMMIT`, which takes
SQLite's write lock up front, so two processes (the bot and a `ccert-bot`
command run beside it) queue on the busy timeout instead of failing on a
lock upgrade. Nested use becomes a savepoint, through sqlite-utils'
`db.atomic()`; the outermost level is not `db.atomic()` because that opens
with a deferred `BEGIN`, which takes the write lock only at the first write
and can then fail at once where `BEGIN IMMEDIATE` waits its turn. Why the
migrations are ours and not sqlite-utils' `Migrations`: `bot.store.migrations`. `read_tx(db)` gives several
reads one consistent view (WAL readers never block the writer).

In-process serialisation of writes is the async `Store`'s job
(`bot.store.store`); the functions here and in the store modules are synchronous and
take the `Database` first, so a CLI or a test can use them directly.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from bot.store.codec import to_db_time, utc_now
from bot.store.migrations import MIGRATIONS, Migration

BUSY_TIMEOUT_SECONDS = 10.0


class SchemaError(RuntimeError):
    """The file's schema cannot be used by this code (newer, or migrations out of order)."""


def connect(path: str | Path, *, read_only: bool = False) -> Database:
    """A configured connection, without migrating (see `open_db`).

    `check_same_thread=False` because the async `Store` hands the connection
    to worker threads; it guarantees one thread at a time uses it.
    """
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
    db = Database(conn)
    if not read_only and is_empty(db):
        # Only an empty file takes this without a VACUUM, and only before WAL writes its header.
        db.execute("PRAGMA auto_vacuum = INCREMENTAL")
    if not read_only and str(path) != ":memory:" and db.journal_mode != "wal":
        db.enable_wal()
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
    if read_only:
        db.execute("PRAGMA query_only=ON")
    return db


def is_empty(db: Database) -> bool:
    """Nothing written yet: not even the file header (a new file)."""
    return int(db.execute("PRAGMA page_count").fetchone()[0]) == 0


def ping(db: Database) -> None:
    """The cheapest statement that proves the connection still answers (health checks)."""
    db.execute("SELECT 1").fetchone()


def open_db(path: str | Path, migrations: Sequence[Migration] = MIGRATIONS) -> Database:
    """Open (creating if needed) and migrate the store file at `path`.

    `migrations` is for tests that build an old file (`MIGRATIONS[:1]`).
    """
    db = connect(path)
    try:
        migrate(db, migrations)
    except BaseException:
        db.close()
        raise
    return db


@contextmanager
def write_tx(db: Database) -> Iterator[Database]:
    """One write transaction (`BEGIN IMMEDIATE`); a savepoint when already inside one."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    db.commit()


@contextmanager
def read_tx(db: Database) -> Iterator[Database]:
    """A consistent view for several reads (no-op when already in a transaction)."""
    if db.conn.in_transaction:
        yield db
        return
    db.execute("BEGIN")
    try:
        yield db
    finally:
        db.rollback()


def _check_sequence(migrations: Sequence[Migration]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise SchemaError(f"migrations must be numbered 1, 2, 3, ... in order; got {versions}")


def applied_versions(db: Database) -> list[int]:
    if "schema_migrations" not in db.table_names():
        return []
    return [row[0] for row in db.execute("SELECT version FROM schema_migrations ORDER BY version")]


def schema_version(db: Database) -> int:
    """The highest applied migration (0 for an empty file)."""
    versions = applied_versions(db)
    return versions[-1] if versions else 0


def migrate(db: Database, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Apply the missing migrations in order; returns the versions applied now.

    Foreign keys are off while migrations run (SQLite cannot switch them inside a
    transaction, and a table rebuilt the documented way, as migration 8 does, must be
    dropped and renamed while children still point at it); before the commit every
    reference is checked (`PRAGMA foreign_key_check`), so a migration that broke one
    is rolled back whole, and foreign keys are on again afterwards in every case.
    """
    _check_sequence(migrations)
    applied_now: list[int] = []
    db.execute("PRAGMA foreign_keys=OFF")
    try:
        _migrate(db, migrations, applied_now)
    finally:
        db.execute("PRAGMA foreign_keys=ON")
    return applied_now


def _migrate(db: Database, migrations: Sequence[Migration], applied_now: list[int]) -> None:
    with write_tx(db):
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        done = set(applied_versions(db))
        unknown = sorted(done - {m.version for m in migrations})
        if unknown:
            raise SchemaError(
                f"the store file has schema versions {unknown} that this ccert-bot does not know: "
                "it was written by a newer version; upgrade the bot or point CCERT_DB elsewhere"
            )
        for migration in migrations:
            if migration.version in done:
                continue
            migration.apply(db)
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [migration.version, migration.name, to_db_time(utc_now())],
            )
            applied_now.append(migration.version)
        broken = db.execute("PRAGMA foreign_key_check").fetchall() if applied_now else []
        if broken:
            raise SchemaError(f"a migration left {len(broken)} broken references (first: {broken[0]}); nothing changed")
