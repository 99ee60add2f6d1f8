"""The PostgreSQL schema is SQLite's: the same tables, columns, nullability, indexes and guards.

Why a test and not trust: the PostgreSQL baseline is written by hand beside SQLite's eight
migrations, and a column added to one and not the other would surface only as a failed
write in production on the backend nobody tried.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.store import open_db
from bot.store.pg import PgDatabase
from bot.store.sql import IntegrityError

# Columns PostgreSQL spells out where SQLite has an implicit rowid (the order rows were written).
PG_ONLY_COLUMNS = {("snapshot_aps", "rowid"), ("remediation_targets", "rowid")}
# TRUNCATE skips row triggers in PostgreSQL; SQLite has no TRUNCATE.
PG_ONLY_TRIGGERS = {"remediation_audit_no_truncate", "remediation_recorded_config_no_truncate"}


def sqlite_columns(db: Database) -> dict[str, dict[str, bool]]:
    tables = [t for t in db.table_names() if not t.startswith("sqlite_")]
    return {t: {c.name: bool(c.notnull) or bool(c.is_pk) for c in db[t].columns} for t in tables}


def pg_columns(db: PgDatabase) -> dict[str, dict[str, bool]]:
    out: dict[str, dict[str, bool]] = {}
    for table, column, nullable in db.execute(
        "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ):
        if (table, column) not in PG_ONLY_COLUMNS:
            out.setdefault(table, {})[column] = nullable == "NO"
    return out


Both = tuple[Database, PgDatabase]


@pytest.fixture
def both(db_path: Path, postgres_url: str) -> Iterator[Both]:
    lite, pg = open_db(db_path), open_db(postgres_url)
    assert isinstance(lite, Database) and isinstance(pg, PgDatabase)
    yield lite, pg
    lite.close()
    pg.close()


def test_same_tables_and_columns(both: Both) -> None:
    lite, pg = both
    assert pg_columns(pg) == sqlite_columns(lite)


def test_same_indexes(both: Both) -> None:
    lite, pg = both
    sqlite_indexes = {
        name for (name,) in lite.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    }
    pg_indexes = {
        name
        for (name,) in pg.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey' "
            "AND indexname NOT LIKE '%_key'"
        )
    }
    assert pg_indexes == sqlite_indexes


def test_same_guard_triggers(both: Both) -> None:
    lite, pg = both
    sqlite_triggers = {name for (name,) in lite.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    pg_triggers = {name for (name,) in pg.execute("SELECT DISTINCT trigger_name FROM information_schema.triggers")} | {
        name for (name,) in pg.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
    }
    assert pg_triggers - PG_ONLY_TRIGGERS == sqlite_triggers


def test_the_audit_cannot_be_truncated_on_postgresql(postgres_url: str) -> None:
    db = open_db(postgres_url)
    try:
        db.execute(
            "INSERT INTO remediation_audit (at, kind, text) VALUES ('2026-12-01T00:00:00.000000+00:00', 'x', 'kept')"
        )
        with pytest.raises(IntegrityError, match="append-only"):
            db.execute("TRUNCATE remediation_audit")
        assert db.execute("SELECT count(*) FROM remediation_audit").fetchone()[0] == 1
    finally:
        db.close()


def test_text_sorts_by_code_point_as_in_sqlite(both: Both) -> None:
    """`COLLATE "C"`: controller names sort the same on both backends, whatever the server's locale."""
    names = ["wlc-b", "WLC-a", "wlc_a", "wlc-A", "Ärzte", "wlc10", "wlc9"]
    answers = []
    for db in both:
        for i, name in enumerate(names):
            db.execute(
                "INSERT INTO ap_state (controller, ap_name, state, state_since, last_seen) "
                "VALUES (?, ?, 'x', 't', 't')",
                [name, f"ap{i}"],
            )
        answers.append([r[0] for r in db.execute("SELECT controller FROM ap_state ORDER BY controller")])
    assert answers[0] == answers[1] == sorted(names)


def test_percent_signs_reach_postgresql_as_written(postgres_url: str) -> None:
    """Placeholders are translated only when parameters come along; a `%` is never doubled by mistake."""
    db = open_db(postgres_url)
    try:
        assert db.execute("SELECT 7 % 3").fetchone()[0] == 1
        assert db.execute("SELECT 7 % ?", [4]).fetchone()[0] == 3
        assert db.execute("SELECT '100%' || ?", ["?"]).fetchone()[0] == "100%?"
        assert [r["v"] for r in db.query("SELECT 10 % 4 AS v")] == [2]
        assert db.execute("SELECT ?::int + 1 AS n -- not a ? here", [1]).fetchone()[0] == 2
    finally:
        db.close()
