"""Open the store (a SQLite file or a PostgreSQL database), set it up, migrate it; transactions.

`open_db(target)` opens `CCERT_DB`: a path is the embedded SQLite file (the default), a
`postgresql://` URL the shared database two or more instances use (`bot.store.pg`). Either
comes back with every migration in `bot.store.migrations.MIGRATIONS` applied. A store written
by an older bot is brought up to date on open; one written by a newer bot (versions this code
does not know) is refused rather than used half-understood.

SQLite: WAL mode with `synchronous=NORMAL` (durable at every checkpoint, safe against
corruption, fast: one fsync per checkpoint rather than per commit), foreign keys on and a busy
timeout. A new file is created with `auto_vacuum = INCREMENTAL`, so the pages pruning frees can
be handed back to the file system (`pruning.reclaim_space`, after every prune); a file created
before that is converted once, by the first prune (a `VACUUM`, which cannot run inside a
transaction), not on open, so a start-up never waits for a rewrite of the whole file.

Transactions: `write_tx(db)` is one writer at a time for the whole store, on either backend,
because the store's functions read and then write in one transaction and were written for
that. On SQLite it is `BEGIN IMMEDIATE` ... `COMMIT`, which takes the write lock up front, so two
processes (the bot and a `ccert-bot` command run beside it) queue on the busy timeout instead
of failing on a lock upgrade; the outermost level is not sqlite-utils' `db.atomic()` because
that opens with a deferred `BEGIN`, which takes the write lock only at the first write and can
then fail at once where `BEGIN IMMEDIATE` waits its turn. On PostgreSQL it is `BEGIN` and a
transaction-level advisory lock (`pg_advisory_xact_lock`, released by the commit), so writes
from every instance queue the same way, and nothing in the store needs a retry loop for
serialization failures. Nested use becomes a savepoint. Why the migrations are ours and not
sqlite-utils' `Migrations`: `bot.store.migrations`. `read_tx(db)` gives several reads one
consistent view (WAL readers never block the writer; on PostgreSQL a `REPEATABLE READ`
snapshot).

In-process serialisation of writes is the async `Store`'s job
(`bot.store.store`); the functions here and in the store modules are synchronous and
take the `Db` first, so a CLI or a test can use them directly.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from bot.store.codec import to_db_time, utc_now
from bot.store.migrations import MIGRATIONS, POSTGRES_BASELINE, Migration
from bot.store.pg import PgDatabase, is_postgres_url
from bot.store.sql import Db

BUSY_TIMEOUT_SECONDS = 10.0

# PostgreSQL advisory lock keys (the two-integer form, first integer "our" namespace): one writer
# at a time (`write_tx`), and one migration at a time when instances start together.
ADVISORY_NAMESPACE = 0x63636572  # "ccer"
WRITE_LOCK = 1
MIGRATION_LOCK = 3

_savepoints = itertools.count(1)


class SchemaError(RuntimeError):
    """The store's schema cannot be used by this code (newer, or migrations out of order)."""


def connect(target: str | Path, *, read_only: bool = False, password: str | None = None) -> Db:
    """A configured connection, without migrating (see `open_db`).

    SQLite: `check_same_thread=False` because the async `Store` hands the connection to worker
    threads; it guarantees one thread at a time uses it.
    """
    if is_postgres_url(target):
        return PgDatabase.connect(str(target), read_only=read_only, password=password)
    conn = sqlite3.connect(str(target), timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
    db = Database(conn)
    if not read_only and is_empty(db):
        # Only an empty file takes this without a VACUUM, and only before WAL writes its header.
        db.execute("PRAGMA auto_vacuum = INCREMENTAL")
    if not read_only and str(target) != ":memory:" and db.journal_mode != "wal":
        db.enable_wal()
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
    if read_only:
        db.execute("PRAGMA query_only=ON")
    return db


def is_empty(db: Db) -> bool:
    """Nothing written yet: a new SQLite file (not even its header), or a database with no tables."""
    if isinstance(db, PgDatabase):
        return not db.table_names()
    return int(db.execute("PRAGMA page_count").fetchone()[0]) == 0


def ping(db: Db) -> None:
    """The cheapest statement that proves the connection still answers (health checks)."""
    db.execute("SELECT 1").fetchone()


def open_db(target: str | Path, migrations: Sequence[Migration] = MIGRATIONS, *, password: str | None = None) -> Db:
    """Open (creating if needed) and migrate the store at `target` (a path or a PostgreSQL URL).

    `migrations` is for tests that build an old file (`MIGRATIONS[:1]`); `password` is
    PostgreSQL's (`CCERT_DB_PASSWORD`), ignored for a file.
    """
    db = connect(target, password=password)
    try:
        migrate(db, migrations)
    except BaseException:
        db.close()
        raise
    return db


@contextmanager
def write_tx(db: Db) -> Iterator[Db]:
    """One write transaction, one writer at a time (see the module docstring); nested: a savepoint."""
    if isinstance(db, PgDatabase):
        with _pg_tx(db, "BEGIN", lock=WRITE_LOCK):
            yield db
        return
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
def read_tx(db: Db) -> Iterator[Db]:
    """A consistent view for several reads (no-op when already in a transaction)."""
    if db.conn.in_transaction:
        yield db
        return
    db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ" if isinstance(db, PgDatabase) else "BEGIN")
    try:
        yield db
    finally:
        db.rollback()


@contextmanager
def _pg_tx(db: PgDatabase, begin: str, *, lock: int) -> Iterator[None]:
    if db.conn.in_transaction:
        name = f"ccert_sp{next(_savepoints)}"
        db.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            db.execute(f"ROLLBACK TO SAVEPOINT {name}")
            raise
        db.execute(f"RELEASE SAVEPOINT {name}")
        return
    db.execute(begin)
    try:
        db.execute("SELECT pg_advisory_xact_lock(?, ?)", [ADVISORY_NAMESPACE, lock]).fetchone()
        yield
    except BaseException:
        if not db.closed:
            db.rollback()
        raise
    db.commit()


def _check_sequence(migrations: Sequence[Migration]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise SchemaError(f"migrations must be numbered 1, 2, 3, ... in order; got {versions}")


def applied_versions(db: Db) -> list[int]:
    if "schema_migrations" not in db.table_names():
        return []
    return [row[0] for row in db.execute("SELECT version FROM schema_migrations ORDER BY version")]


def schema_version(db: Db) -> int:
    """The highest applied migration (0 for an empty store)."""
    versions = applied_versions(db)
    return versions[-1] if versions else 0


def migrate(db: Db, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Apply the missing migrations in order; returns the versions applied now.

    SQLite: foreign keys are off while migrations run (SQLite cannot switch them inside a
    transaction, and a table rebuilt the documented way, as migration 8 does, must be dropped
    and renamed while children still point at it); before the commit every reference is
    checked (`PRAGMA foreign_key_check`), so a migration that broke one is rolled back whole,
    and foreign keys are on again afterwards in every case.

    PostgreSQL: see `_migrate_postgres`.
    """
    _check_sequence(migrations)
    applied_now: list[int] = []
    if isinstance(db, PgDatabase):
        _migrate_postgres(db, migrations, applied_now)
        return applied_now
    db.execute("PRAGMA foreign_keys=OFF")
    try:
        _migrate(db, migrations, applied_now)
    finally:
        db.execute("PRAGMA foreign_keys=ON")
    return applied_now


_SCHEMA_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


def _refuse_unknown(done: set[int], migrations: Sequence[Migration]) -> None:
    unknown = sorted(done - {m.version for m in migrations})
    if unknown:
        raise SchemaError(
            f"the store has schema versions {unknown} that this ccert-bot does not know: "
            "it was written by a newer version; upgrade the bot or point CCERT_DB elsewhere"
        )


def _record(db: Db, migration: Migration) -> None:
    db.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        [migration.version, migration.name, to_db_time(utc_now())],
    )


def _migrate(db: Database, migrations: Sequence[Migration], applied_now: list[int]) -> None:
    with write_tx(db):
        db.execute(_SCHEMA_MIGRATIONS)
        done = set(applied_versions(db))
        _refuse_unknown(done, migrations)
        for migration in migrations:
            if migration.version in done:
                continue
            migration.apply(db)
            _record(db, migration)
            applied_now.append(migration.version)
        broken = db.execute("PRAGMA foreign_key_check").fetchall() if applied_now else []
        if broken:
            raise SchemaError(f"a migration left {len(broken)} broken references (first: {broken[0]}); nothing changed")


def _migrate_postgres(db: PgDatabase, migrations: Sequence[Migration], applied_now: list[int]) -> None:
    """PostgreSQL: one transaction, one migrating instance at a time, baseline then later versions.

    PostgreSQL support begins at schema `POSTGRES_BASELINE`: an empty database gets that
    schema in one step (`migrations.postgres_baseline`, the same tables, indexes and triggers
    SQLite reaches through migrations 1 to `POSTGRES_BASELINE`), recorded as those versions;
    each later migration carries its PostgreSQL form (`Migration.postgres`). PostgreSQL DDL
    is transactional, so a failed migration leaves the database as it was, and references are
    checked by every statement (no foreign-key switch is needed). Instances started together
    queue on an advisory lock, and the second finds nothing left to do.
    """
    from bot.store.migrations import postgres_baseline

    with _pg_tx(db, "BEGIN", lock=MIGRATION_LOCK):
        db.execute(_SCHEMA_MIGRATIONS)
        done = set(applied_versions(db))
        _refuse_unknown(done, migrations)
        if not done and len(migrations) >= POSTGRES_BASELINE:
            postgres_baseline.apply(db)
            for migration in migrations[:POSTGRES_BASELINE]:
                _record(db, migration)
                applied_now.append(migration.version)
            done = set(applied_now)
        elif (done and min(done) != 1) or (not done and len(migrations) < POSTGRES_BASELINE):
            raise SchemaError(f"PostgreSQL stores start at schema version {POSTGRES_BASELINE}")
        for migration in migrations:
            if migration.version in done:
                continue
            if migration.postgres is None:
                raise SchemaError(f"migration {migration.version} ({migration.name}) has no PostgreSQL form")
            migration.postgres(db)
            _record(db, migration)
            applied_now.append(migration.version)
