"""The environment the bot sees: process variables over `.env`, with lines for messages."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from bot.environment import EnvFileError, merged_environ, origin, read_env_file
from tests.console.test_status_command import write_inventory
from tests.support.simulated_site import aireos, simulated_site


def test_values_and_lines_skip_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("# comment\n\nA=1\nexport B='two words'\n\n\nC=\"x\"\n")
    env = read_env_file(path)
    assert env.exists and env.values == {"A": "1", "B": "two words", "C": "x"}
    assert env.lines == {"A": 3, "B": 4, "C": 7}


def test_the_process_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A=file\nB=file\n")
    env = read_env_file(path)
    assert merged_environ(env, {"A": "process"}) == {"A": "process", "B": "file"}
    assert origin("A", env, {"A": "process"}) == "environment"
    assert origin("B", env, {}) == f"{path}:2"
    assert origin("Z", env, {}) == "environment or .env"


def test_a_missing_file_is_empty_not_an_error(tmp_path: Path) -> None:
    env = read_env_file(tmp_path / ".env")
    assert not env.exists and env.values == {}


def test_malformed_and_non_utf8_files_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A=1\nthis is not an assignment\n")
    with pytest.raises(EnvFileError, match=r"\.env:2: cannot parse this line"):
        read_env_file(path)
    path.write_bytes(b"A=1\nB=2\nC=\xff\n")
    with pytest.raises(EnvFileError, match=r"\.env:3: not UTF-8 text \(byte 0xff\)"):
        read_env_file(path)


async def test_status_reads_controller_credentials_from_dot_env(tmp_path: Path) -> None:
    """The reproduction: credentials only in `.env` used to give "environment variable … is not set"."""
    async with simulated_site(tmp_path, aireos("wlc-1")) as site:
        inventory = write_inventory(site, tmp_path / "inventory.yaml")
        (tmp_path / ".env").write_text(f"SIM_USER=admin\nSIM_PASS=admin\nCCERT_SSH_KNOWN_HOSTS={site.known_hosts}\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CCERT_", "SLACK_", "SIM_"))}
        env["CCERT_INVENTORY"] = str(inventory)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "status",
            "site-t",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=tmp_path,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    assert "wlc-1 (AireOS) — downloading" in out.decode()
    assert "admin" not in err.decode()
