"""`ccert-bot db migrate` and `ccert-bot db copy` as an operator runs them: a real process, real databases.

Every run has a sentinel `CCERT_DB_PASSWORD` in its environment (the test server trusts
loopback, so any password works) and every test checks it never reaches the output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store import open_db
from bot.store.copy import data_tables
from bot.store.db import connect, schema_version
from bot.store.migrations import MIGRATIONS
from tests.store.test_store_copy import populate

ROOT = Path(__file__).resolve().parents[1]
SENTINEL = "sentinel-Pa55w0rd-never-shown"
CURRENT = len(MIGRATIONS)


def run_db(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CCERT_", "SLACK_", "PG"))}
    base.update({"CCERT_DB_PASSWORD": SENTINEL, "PYTHONPATH": str(ROOT)})
    base.update(env or {})
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", *args], capture_output=True, text=True, env=base, cwd=cwd, timeout=120
    )
    assert SENTINEL not in result.stdout + result.stderr
    return result


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def counts(target: str | Path) -> dict[str, int]:
    db = connect(target, read_only=True)
    try:
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in data_tables(db)}
    finally:
        db.close()


def test_migrate_creates_then_finds_nothing_to_do(tmp_path: Path) -> None:
    first = run_db("migrate", cwd=tmp_path, env={"CCERT_DB": "store.db"})
    assert first.returncode == 0, first.stderr
    assert f"SQLite file {tmp_path / 'store.db'}" in first.stdout
    assert f"schema version: {CURRENT}" in first.stdout
    assert "applied now: " + ", ".join(str(v) for v in range(1, CURRENT + 1)) in first.stdout
    again = run_db("migrate", cwd=tmp_path, env={"CCERT_DB": "store.db"})
    assert again.returncode == 0 and "already up to date" in again.stdout


def test_migrate_brings_an_old_file_up_and_db_overrides_ccert_db(tmp_path: Path) -> None:
    open_db(tmp_path / "old.db", MIGRATIONS[:7]).close()
    result = run_db("migrate", "--db", str(tmp_path / "old.db"), cwd=tmp_path, env={"CCERT_DB": "other.db"})
    assert result.returncode == 0, result.stderr
    assert "applied now: " + ", ".join(str(v) for v in range(8, CURRENT + 1)) in result.stdout
    assert not (tmp_path / "other.db").exists()
    db = connect(tmp_path / "old.db", read_only=True)
    try:
        assert schema_version(db) == CURRENT
    finally:
        db.close()


def test_migrate_postgresql_shows_the_url_without_a_password(tmp_path: Path, empty_postgres_url: str) -> None:
    with_password = empty_postgres_url.replace("postgresql://postgres@", f"postgresql://postgres:{SENTINEL}@")
    result = run_db("migrate", cwd=tmp_path, env={"CCERT_DB": with_password})
    assert result.returncode == 0, result.stderr
    assert f"PostgreSQL {empty_postgres_url}" in result.stdout
    assert f"schema version: {CURRENT}" in result.stdout


def test_migrate_refuses_a_newer_store_in_one_line(tmp_path: Path) -> None:
    db = open_db(tmp_path / "new.db")
    db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 'x')")
    db.close()
    result = run_db("migrate", "--db", "new.db", cwd=tmp_path)
    assert_one_line_error(result, "newer version")


def test_migrate_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    result = run_db("migrate", "--db", f"postgresql://postgres:{SENTINEL}@127.0.0.1:1/ccert", cwd=tmp_path)
    assert_one_line_error(result, "cannot migrate PostgreSQL postgresql://postgres@127.0.0.1:1/ccert")


def test_copy_sqlite_to_postgresql_and_back(tmp_path: Path, empty_postgres_url: str) -> None:
    source = tmp_path / "ccert.db"
    db = open_db(source)
    populate(db)
    db.close()
    expected = counts(source)

    result = run_db("copy", "--from", "ccert.db", "--to", empty_postgres_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert counts(empty_postgres_url) == expected
    lines = result.stdout.splitlines()
    for table, rows in expected.items():
        assert any(line.split() == [table, str(rows)] for line in lines), (table, result.stdout)
    assert any(line.split() == ["total", str(sum(expected.values()))] for line in lines)
    assert f"set CCERT_DB={empty_postgres_url}" in result.stdout
    assert result.stderr == ""

    back = run_db("copy", "--from", empty_postgres_url, "--to", "back.db", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert counts(tmp_path / "back.db") == expected
    assert f"set CCERT_DB={tmp_path / 'back.db'}" in back.stdout


def test_copy_into_a_store_with_data_is_refused_and_changes_nothing(tmp_path: Path, postgres_url: str) -> None:
    source = tmp_path / "ccert.db"
    db = open_db(source)
    populate(db)
    db.close()
    dest = open_db(postgres_url)
    populate(dest)
    dest.close()
    before = counts(postgres_url)
    result = run_db("copy", "--from", str(source), "--to", postgres_url, cwd=tmp_path)
    assert_one_line_error(result, "already holds data", "is not empty")
    assert counts(postgres_url) == before


def test_copy_of_an_older_source_says_to_migrate_it_and_creates_nothing(tmp_path: Path) -> None:
    open_db(tmp_path / "old.db", MIGRATIONS[:7]).close()
    result = run_db("copy", "--from", "old.db", "--to", "new.db", cwd=tmp_path)
    assert_one_line_error(result, "schema version 7", "ccert-bot db migrate")
    assert not (tmp_path / "new.db").exists()
    db = connect(tmp_path / "old.db", read_only=True)
    try:
        assert schema_version(db) == 7
    finally:
        db.close()


def test_copy_onto_itself_is_refused(tmp_path: Path) -> None:
    open_db(tmp_path / "ccert.db").close()
    result = run_db("copy", "--from", "ccert.db", "--to", str(tmp_path / "ccert.db"), cwd=tmp_path)
    assert_one_line_error(result, "the same store")


def test_copy_from_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    result = run_db("copy", "--from", "nothing.db", "--to", "new.db", cwd=tmp_path)
    assert_one_line_error(result, "does not exist")
    assert not (tmp_path / "nothing.db").exists() and not (tmp_path / "new.db").exists()


@pytest.mark.parametrize(
    "url",
    [f"postgresql://postgres:{SENTINEL}@127.0.0.1:1/ccert", "postgresql://postgres@127.0.0.1:notaport/ccert"],
    ids=["unreachable", "bad-port"],
)
def test_copy_to_an_unreachable_or_bad_url_is_one_line(tmp_path: Path, url: str) -> None:
    open_db(tmp_path / "ccert.db").close()
    result = run_db("copy", "--from", "ccert.db", "--to", url, cwd=tmp_path)
    assert_one_line_error(result, "cannot open the destination PostgreSQL")
