"""`ccert-bot check-config` on a PostgreSQL store: it says who leads, refuses a URL it cannot use,
and never shows the password. A real process, a real PostgreSQL, a real leader lock."""

from __future__ import annotations

from pathlib import Path

from bot.store.leader_lock import LeaderLock
from tests.test_cli import GOOD_ENV, ROOT, run_cli

SENTINEL = "sentinel-pw-7f3e"


def check_config(tmp_path: Path, **env: str) -> tuple[int, str]:
    known = tmp_path / "known_hosts"
    known.write_text("")
    result = run_cli(
        "check-config",
        "--inventory",
        str(ROOT / "inventory.example.yaml"),
        env={**GOOD_ENV, "CCERT_SSH_KNOWN_HOSTS": str(known), "CCERT_DB_PASSWORD": SENTINEL, **env},
        cwd=tmp_path,
    )
    out = result.stdout + result.stderr
    assert SENTINEL not in out
    return result.returncode, out


def test_it_names_the_instance_that_leads(tmp_path: Path, postgres_url: str) -> None:
    code, out = check_config(tmp_path, CCERT_DB=postgres_url)
    assert code == 0, out
    assert "store: PostgreSQL " in out and "no instance leads now" in out
    lock = LeaderLock(postgres_url, "bot-a", 15)
    try:
        assert lock.try_acquire()
        code, out = check_config(tmp_path, CCERT_DB=postgres_url)
        assert code == 0 and "bot-a leads" in out, out
    finally:
        lock.close()


def test_a_sqlite_store_says_there_is_one_instance(tmp_path: Path) -> None:
    code, out = check_config(tmp_path, CCERT_DB=str(tmp_path / "ccert.db"))
    assert code == 0 and "store: SQLite" in out and "one instance" in out, out


def test_a_url_it_cannot_use_is_a_problem_and_a_password_in_it_a_warning(
    tmp_path: Path, postgres_url: str, unused_tcp_port: int
) -> None:
    code, out = check_config(tmp_path, CCERT_DB="postgresql://ccert@db.example.net:notaport/ccert")
    assert code == 1 and "is not a PostgreSQL URL this bot can use" in out, out
    with_password = postgres_url.replace("postgres@", f"postgres:{SENTINEL}@")
    code, out = check_config(tmp_path, CCERT_DB=with_password)
    assert code == 0 and "carries a password: put it in CCERT_DB_PASSWORD" in out, out
    code, out = check_config(tmp_path, CCERT_DB=f"postgresql://postgres@127.0.0.1:{unused_tcp_port}/ccert")
    assert code == 1 and "error: CCERT_DB: PostgreSQL" in out and "cannot be reached (OperationalError)" in out, out
