"""Opening the file: WAL, pragmas, schema creation and migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.store import SchemaError, alerts, ap_state, history, open_db, schema_version
from bot.store.codec import to_db_time
from bot.store.db import applied_versions, connect, migrate
from bot.store.migrations import MIGRATIONS, Migration, add_column, run_ddl
from bot.store.sql import IntegrityError
from tests.store.store_factories import T0, ap, record, snap

TABLES = {
    "schema_migrations",
    "check_runs",
    "snapshots",
    "snapshot_aps",
    "ap_state",
    "alerts",
    "alert_events",
    "digests",
}


def test_new_file_gets_the_whole_schema(db_path: Path) -> None:
    db = open_db(db_path)
    assert set(db.table_names()) >= TABLES
    assert applied_versions(db) == [m.version for m in MIGRATIONS]
    assert schema_version(db) == len(MIGRATIONS)
    indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {
        "snapshots_controller_taken",
        "snapshots_site_run",
        "snapshot_aps_snapshot",
        "alerts_one_open",
        "alert_events_pending",
    } <= indexes
    db.close()


def test_wal_and_pragmas(db_path: Path) -> None:
    db = open_db(db_path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    db.close()
    # WAL is a property of the file: a plain sqlite3 connection sees it too.
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_reopening_applies_nothing_and_keeps_data(db_path: Path) -> None:
    db = open_db(db_path)
    record(db, [snap(aps=[ap("a1")])])
    db.close()
    db = open_db(db_path)
    assert migrate(db) == []
    assert len(history.latest_snapshots(db)) == 1
    db.close()


def test_old_v1_file_is_migrated_on_open(db_path: Path) -> None:
    old = open_db(db_path, MIGRATIONS[:1])
    assert applied_versions(old) == [1]
    assert "alerts" not in old.table_names()
    # what a v1 bot wrote (today's code writes columns v1 did not have)
    since = to_db_time(T0)
    old.execute(
        "INSERT INTO ap_state (controller, ap_name, state, state_since, last_seen) VALUES (?, ?, ?, ?, ?)",
        ["wlc-1", "a1", "Downloading", since, since],
    )
    old.conn.commit()
    old.close()

    db = open_db(db_path)
    assert applied_versions(db) == [m.version for m in MIGRATIONS]
    assert set(db.table_names()) >= TABLES
    # the v1 data is still there and the new tables work
    assert ap_state.downloading_since(db, "wlc-1") == {"a1": T0}
    alert = alerts.open_alert(db, "stuck", "wlc-1", channel="C1", payload={"stuck": ["a1"]}, now=T0)
    assert alerts.get_open_alert(db, "wlc-1", "stuck") == alert
    db.close()


def test_migrations_are_numbered_in_order_and_idempotent(tmp_path: Path) -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    db = connect(tmp_path / "twice.db")
    for migration in MIGRATIONS:
        migration.apply(db)
        migration.apply(db)  # running one again must be harmless
    schema_once = sorted(db.execute("SELECT type, name, sql FROM sqlite_master").fetchall())
    # and the runner, finding no record of them, applies them over the existing tables
    assert migrate(db) == [m.version for m in MIGRATIONS]
    schema_after = sorted(
        row for row in db.execute("SELECT type, name, sql FROM sqlite_master") if row[1] != "schema_migrations"
    )
    assert schema_after == schema_once
    db.close()


def test_a_failing_migration_leaves_the_file_as_it_was(db_path: Path) -> None:
    open_db(db_path, MIGRATIONS[:1]).close()

    def broken(db: Database) -> None:
        run_ddl(db, "CREATE TABLE half_done (id INTEGER PRIMARY KEY); CREATE TABLE oops (")

    with pytest.raises(sqlite3.OperationalError):
        open_db(db_path, [*MIGRATIONS[:1], Migration(2, "broken", broken)])
    db = connect(db_path)
    assert applied_versions(db) == [1]
    assert "half_done" not in db.table_names()
    db.close()


def test_file_from_a_newer_bot_is_refused(db_path: Path) -> None:
    db = open_db(db_path)
    db.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        [len(MIGRATIONS) + 1, "from the future", "2030-01-01T00:00:00.000000+00:00"],
    )
    db.close()
    with pytest.raises(SchemaError, match="newer"):
        open_db(db_path)


def test_out_of_order_migration_list_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="numbered"):
        open_db(tmp_path / "x.db", [MIGRATIONS[1], MIGRATIONS[0]])


def test_open_alert_uniqueness_is_enforced_by_the_schema_too(db: Database) -> None:
    alerts.open_alert(db, "stuck", "wlc-1", channel="C1", payload={}, now=T0)
    with pytest.raises(IntegrityError):
        db.execute(
            "INSERT INTO alerts (kind, controller, channel, opened_at, updated_at) VALUES "
            "('stuck', 'wlc-1', 'C1', '2024-01-01T00:00:00.000000+00:00', '2024-01-01T00:00:00.000000+00:00')"
        )


def test_a_later_migration_is_appended_and_applied(db_path: Path) -> None:
    """How a later issue extends the schema: append a numbered, idempotent migration."""
    open_db(db_path).close()

    def add_team(db: Database) -> None:
        add_column(db, "alerts", "team", "TEXT")
        run_ddl(db, "CREATE TABLE IF NOT EXISTS remediation_requests (id INTEGER PRIMARY KEY, controller TEXT)")

    later = [*MIGRATIONS, Migration(len(MIGRATIONS) + 1, "remediation requests", add_team)]
    db = open_db(db_path, later)
    assert schema_version(db) == len(later)
    assert "team" in db["alerts"].columns_dict and "remediation_requests" in db.table_names()
    add_team(db)  # idempotent
    db.close()
    # and this (older) code refuses the file now rather than misread it
    with pytest.raises(SchemaError, match="newer"):
        open_db(db_path)
