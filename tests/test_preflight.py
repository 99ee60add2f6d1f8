"""The checks every command runs first: each level checks what its command uses, and says where."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.preflight import Need, check

ROOT = Path(__file__).resolve().parents[1]
CREDENTIALS = {"CCERT_SSH_USERNAME": "admin", "CCERT_SSH_PASSWORD": "admin"}
SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "CCERT_APPROVERS": "U0ALICE,U0BOB"}


def run(tmp_path: Path, need: Need, **environ: str):  # type: ignore[no-untyped-def]
    environ.setdefault("CCERT_SSH_STRICT_HOST_KEYS", "false")
    environ.setdefault("CCERT_DB", str(tmp_path / "ccert.db"))
    return check(need, inventory=ROOT / "inventory.example.yaml", env_file=tmp_path / ".env", environ=environ)


def test_a_complete_setup_passes_every_level(tmp_path: Path) -> None:
    for need in Need:
        report = run(tmp_path, need, **CREDENTIALS, **SLACK)
        assert report.ok, (need, report.problems)
        assert report.environ["CCERT_SSH_USERNAME"] == "admin"
    assert not (tmp_path / "ccert.db").exists()  # checking creates nothing


def test_each_level_checks_only_what_its_command_uses(tmp_path: Path) -> None:
    keys = run(tmp_path, Need.KEYS)  # known-hosts logs in nowhere: no credentials needed
    assert keys.ok, keys.problems
    status = run(tmp_path, Need.STATUS, CCERT_ACCESS="nonsense", CCERT_APPROVERS="alice")
    assert [p for p in status.problems if "CCERT_SSH_USERNAME" in p] and not [
        p for p in status.problems if "ACCESS" in p or "APPROVERS" in p or "SLACK" in p
    ]
    console = run(tmp_path, Need.CONSOLE, **CREDENTIALS, CCERT_ACCESS="status=nobody")
    assert any("CCERT_ACCESS" in p for p in console.problems) and not any("SLACK" in p for p in console.problems)


def test_a_broken_playbook_in_the_playbook_dir_is_named_with_its_line(tmp_path: Path) -> None:
    books = tmp_path / "books"
    shutil.copytree(ROOT / "playbooks", books)
    good = (books / "timeback-iosxe.yaml").read_text(encoding="utf-8")
    (books / "timeback-iosxe.yaml").write_text(
        good.replace("action: set_clock", "action: set_clok", 1), encoding="utf-8"
    )
    (books / "timeback-aireos.yaml").write_bytes(b"name: x\nsteps: \xff\n")
    report = run(tmp_path, Need.CONSOLE, **CREDENTIALS, CCERT_PLAYBOOK_DIR=str(books))
    line = next(n for n, text in enumerate(good.splitlines(), 1) if "action: set_clock" in text)
    assert any(p.startswith(f"{books / 'timeback-iosxe.yaml'}:{line}:") and "set_clok" in p for p in report.problems)
    assert f"{books / 'timeback-aireos.yaml'}:2: not UTF-8 text (byte 0xff); save the file as UTF-8" in report.problems


def test_the_database_folder_must_exist(tmp_path: Path) -> None:
    report = run(tmp_path, Need.CONSOLE, **CREDENTIALS, CCERT_DB=str(tmp_path / "missing" / "ccert.db"))
    assert any(p.startswith("CCERT_DB: the folder") and "does not exist" in p for p in report.problems)
    assert not (tmp_path / "missing").exists()


def test_too_few_approvers_is_a_warning_not_a_silent_dead_end(tmp_path: Path) -> None:
    report = run(tmp_path, Need.RUN, **CREDENTIALS, **(SLACK | {"CCERT_APPROVERS": "U0ALICE"}))
    assert report.ok
    assert any("names 1 approver(s) but CCERT_REQUIRED_APPROVALS is 2" in w for w in report.warnings)


def test_strict_host_keys_without_a_known_hosts_file_points_at_known_hosts(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        Need.STATUS,
        **CREDENTIALS,
        CCERT_SSH_STRICT_HOST_KEYS="true",
        CCERT_SSH_KNOWN_HOSTS=str(tmp_path / "none"),
    )
    assert report.ok
    assert any("ccert-bot known-hosts --write FILE" in w for w in report.warnings)
