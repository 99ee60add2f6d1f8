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


GOOD_ENV = {
    "CCERT_SSH_USERNAME": "admin",
    "CCERT_SSH_PASSWORD": "admin",
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_SIGNING_SECRET": "test-secret",
    "CCERT_APPROVERS": "U0ALICE,U0BOB",
}


def test_check_config_accepts_the_example(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    result = run_cli(
        "check-config",
        "--inventory",
        str(ROOT / "inventory.example.yaml"),
        env={**GOOD_ENV, "CCERT_SSH_KNOWN_HOSTS": str(known)},
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


def test_check_config_fails_on_unset_credentials_naming_the_inventory_line(tmp_path: Path) -> None:
    inventory = ROOT / "inventory.example.yaml"
    result = run_cli(
        "check-config",
        "--inventory",
        str(inventory),
        env={k: v for k, v in GOOD_ENV.items() if not k.startswith("CCERT_SSH")} | {"CCERT_SSH_STRICT_HOST_KEYS": "0"},
        cwd=tmp_path,
    )
    assert result.returncode == 1
    line = next(n for n, text in enumerate(inventory.read_text().splitlines(), 1) if "CCERT_SSH_USERNAME" in text)
    assert (
        f"error: {inventory}:{line}: credentials 'default': environment variable CCERT_SSH_USERNAME is not set"
        in result.stdout
    )
    assert "CCERT_SSH_PASSWORD is not set" in result.stdout


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


def _site_files(tmp_path: Path, env_lines: str) -> None:
    (tmp_path / "inventory.yaml").write_text((ROOT / "inventory.example.yaml").read_text())
    (tmp_path / ".env").write_text(env_lines)


def test_env_file_typos_are_errors_with_their_line_and_nothing_starts(tmp_path: Path) -> None:
    """`CCERT_ACCESS='remediat=…'`, approvers that are names, a missing playbook folder: check-config
    used to say ok and `run` then crashed with a traceback (and created ccert.db first)."""
    _site_files(
        tmp_path,
        "CCERT_SSH_USERNAME=admin\nCCERT_SSH_PASSWORD=admin\nCCERT_ACCESS=remediat=U0ALICE\n"
        "CCERT_APPROVERS=alice,bob\nCCERT_PLAYBOOK_DIR=/nonexistent/playbooks\nCCERT_SSH_STRICT_HOST_KEYS=0\n",
    )
    expected = (
        ".env:3: CCERT_ACCESS: 'remediat' is not a /ccert command (did you mean 'remediate'?)",
        ".env:4: CCERT_APPROVERS: not Slack user or group IDs: alice, bob",
        ".env:5: CCERT_PLAYBOOK_DIR: /nonexistent/playbooks is not a folder",
    )
    check = run_cli("check-config", env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, cwd=tmp_path)
    assert check.returncode == 1, check.stdout
    for line in expected:
        assert f"error: {line}" in check.stdout
    for command in ("run", "console"):
        result = run_cli(command, env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        for line in expected:
            assert f"error: {line}" in result.stderr
        assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "ccert.db").exists()


def test_missing_slack_settings_are_named_together_and_no_database_is_created(tmp_path: Path) -> None:
    _site_files(tmp_path, "CCERT_SSH_USERNAME=a\nCCERT_SSH_PASSWORD=b\nCCERT_SSH_STRICT_HOST_KEYS=false\n")
    result = run_cli("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "HTTP mode (SLACK_APP_TOKEN is not set) needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in result.stderr
    assert not (tmp_path / "ccert.db").exists()
    # Socket Mode has no requests to sign: the signing secret is not demanded
    socket = run_cli(
        "check-config",
        env={"SLACK_APP_TOKEN": "xapp-1", "SLACK_BOT_TOKEN": "xoxb-1", "CCERT_APPROVERS": "U0A,U0B"},
        cwd=tmp_path,
    )
    assert socket.returncode == 0, socket.stdout
    assert "SIGNING_SECRET" not in socket.stdout


def test_a_slack_token_of_the_wrong_kind_is_named_but_never_echoed(tmp_path: Path) -> None:
    _site_files(tmp_path, "CCERT_SSH_USERNAME=a\nCCERT_SSH_PASSWORD=b\nCCERT_SSH_STRICT_HOST_KEYS=false\n")
    result = run_cli(
        "check-config",
        env={"SLACK_BOT_TOKEN": "xoxp-user-token-SECRET", "SLACK_SIGNING_SECRET": "s", "CCERT_APPROVERS": "U0A,U0B"},
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "SLACK_BOT_TOKEN does not start with 'xoxb-'" in result.stdout
    assert "SECRET" not in result.stdout.replace("SLACK_SIGNING_SECRET", "")


def test_non_utf8_files_are_problems_not_tracebacks(tmp_path: Path) -> None:
    (tmp_path / "inventory.yaml").write_bytes(b"sites:\n  site-a: # caf\xe9\n")
    (tmp_path / ".env").write_bytes(b"CCERT_SSH_USERNAME=admin\nCCERT_SSH_PASSWORD=\xff\xfe\n")
    for command in (("check-config",), ("status", "site-a"), ("console",), ("run",)):
        result = run_cli(*command, cwd=tmp_path)
        output = result.stdout + result.stderr
        assert result.returncode == (1 if command[0] == "check-config" else 2), output
        assert "inventory.yaml:2: not UTF-8 text (byte 0xe9)" in output
        assert ".env:2: not UTF-8 text (byte 0xff)" in output
        assert "Traceback" not in output


def test_settings_errors_name_the_env_file_line(tmp_path: Path) -> None:
    _site_files(
        tmp_path, "CCERT_SSH_USERNAME=a\nCCERT_SSH_PASSWORD=b\n\nCCERT_TIMEZONE=Mars/Olympus\nCCERT_DIGEST_TIME=8am\n"
    )
    result = run_cli("check-config", "--for", "status", env={"CCERT_CHECK_INTERVAL_MINUTES": "0"}, cwd=tmp_path)
    assert result.returncode == 1
    assert "error: .env:4: CCERT_TIMEZONE: unknown time zone 'Mars/Olympus'" in result.stdout
    assert "error: .env:5: CCERT_DIGEST_TIME: use HH:MM" in result.stdout
    assert "error: environment: CCERT_CHECK_INTERVAL_MINUTES:" in result.stdout


def test_manifest_mode_decides_socket_mode_and_urls(tmp_path: Path) -> None:
    import yaml

    http = run_cli("manifest", "--mode", "http", "--url", "https://bot.example.net", cwd=tmp_path)
    assert http.returncode == 0, http.stderr
    manifest = yaml.safe_load(http.stdout)
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["event_subscriptions"]["request_url"] == "https://bot.example.net/slack/events"
    assert manifest["settings"]["interactivity"]["request_url"] == "https://bot.example.net/slack/events"
    assert manifest["features"]["slash_commands"][0]["url"] == "https://bot.example.net/slack/events"
    socket = yaml.safe_load(run_cli("manifest", cwd=tmp_path).stdout)
    assert socket["settings"]["socket_mode_enabled"] is True
    for bad in (
        ("--mode", "http", "--url", "http://bot.example.net/slack/events"),
        ("--mode", "socket", "--url", "https://bot.example.net/slack/events"),
    ):
        refused = run_cli("manifest", *bad, cwd=tmp_path)
        assert refused.returncode == 2 and refused.stdout == "" and "error:" in refused.stderr
