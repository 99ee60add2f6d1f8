"""`ccert-bot check-config` as an operator runs it: a real process, real files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CCERT_", "SLACK_"))}
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=base, cwd=cwd, timeout=60
    )


def test_check_config_accepts_the_example(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    result = run_cli(
        "check-config",
        "--inventory",
        str(ROOT / "inventory.example.yaml"),
        env={"CCERT_SSH_USERNAME": "admin", "CCERT_SSH_PASSWORD": "admin", "CCERT_SSH_KNOWN_HOSTS": str(known)},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok:" in result.stdout and "1 site(s), 2 controller(s)" in result.stdout
    assert "warning" not in result.stdout


def test_check_config_lists_problems_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "inventory.yaml"
    bad.write_text(
        "sites:\n  s:\n    controllers:\n      - {name: w, host: 10.0.0.1, platform: junos, credentials: x}\n"
    )
    env = {"CCERT_INVENTORY": str(bad), "CCERT_SSH_TIMEOUT_SECONDS": "-1"}
    result = run_cli("check-config", env=env, cwd=tmp_path)
    assert result.returncode == 1
    out = result.stdout
    assert f"error: {bad}:4: controller 'w': platform 'junos'" in out
    assert "error: " in out and "missing `credentials:`" in out
    assert "CCERT_SSH_TIMEOUT_SECONDS" in out


def test_check_config_warns_about_unset_credentials(tmp_path: Path) -> None:
    result = run_cli(
        "check-config",
        "--inventory",
        str(ROOT / "inventory.example.yaml"),
        env={"CCERT_SSH_STRICT_HOST_KEYS": "false"},
        cwd=tmp_path,
    )
    assert result.returncode == 0
    assert "warning: environment variable CCERT_SSH_USERNAME is not set" in result.stdout


def test_python_dash_m_bot_is_the_console_script() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("check-config", "status", "simulate"):
        assert command in result.stdout


def test_a_bad_inventory_never_starts_the_bot(tmp_path: Path) -> None:
    bad = tmp_path / "inventory.yaml"
    bad.write_text("sites: {}\ncredentials: {}\nextra: 1\n")
    env = {"CCERT_INVENTORY": str(bad), "SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "PORT": "3999"}
    result = run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert f"{bad}:3: the inventory: unknown key 'extra'" in result.stderr
    assert "xoxb-x" not in result.stderr + result.stdout
