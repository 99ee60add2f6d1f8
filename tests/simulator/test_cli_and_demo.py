"""`ccert-bot simulate` (bot.simulator.cli) as a process, and the shipped demo scenario."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest
import yaml

from bot.simulator import DOWNLOADING, REGISTERED, Scenario, SimulatorServer
from bot.simulator.cli import add_arguments
from tests.simulator.simtools import aireos_entry, iosxe_entry, scrapli_session

REPO = Path(__file__).resolve().parents[2]


async def _start(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.simulator",
        *args,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
    return proc, line


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_cli_prints_one_ready_line_and_stops_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump({"controllers": [aireos_entry("wlc-p1"), iosxe_entry("wlc-p2")]}))
    state = str(tmp_path / "st.json")
    proc, line = await _start("--scenario", str(scenario), "--time-scale", "600", "--state-file", state)
    try:
        m = re.fullmatch(r"ready wlc-p1=127\.0\.0\.1:(\d+) wlc-p2=127\.0\.0\.1:(\d+)\n", line)
        assert m, line
        # the ports really serve: a 9800 prompt on the second one
        reader, writer = await asyncio.open_connection("127.0.0.1", int(m[2]))
        assert (await asyncio.wait_for(reader.readline(), 5)).startswith(b"SSH-2.0-")
        writer.close()
    finally:
        proc.send_signal(sig)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    assert proc.stdout is not None and await proc.stdout.read() == b""  # exactly one line
    assert (tmp_path / "st.json").exists()


async def test_cli_bad_scenario_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("controllers: [{name: x, platform: nexus}]\n")
    proc, line = await _start("--scenario", str(bad))
    assert line == ""
    assert await asyncio.wait_for(proc.wait(), 10) == 2


def test_cli_arguments_and_defaults() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    assert (args.scenario, args.host, args.time_scale, args.state_file) == (None, None, 60.0, None)
    args = parser.parse_args(["--scenario", "x.yaml", "--host", "127.0.0.2", "--time-scale", "5", "--state-file", "s"])
    assert (args.scenario, args.host, args.time_scale, args.state_file) == ("x.yaml", "127.0.0.2", 5.0, "s")


def test_demo_scenario_contents() -> None:
    demo = Scenario.demo()
    entries = {e["name"]: e for e in demo.controllers}
    assert list(entries) == ["wlc-a1", "wlc-a2"]
    a1, a2 = entries["wlc-a1"], entries["wlc-a2"]
    assert (a1["site"], a1["platform"], a1["version"], a1["host"], a1["port"]) == (
        "site-a",
        "aireos",
        "8.10.162.0",
        "127.0.0.1",
        2201,
    )
    assert (a2["site"], a2["platform"], a2["version"], a2["host"], a2["port"]) == (
        "site-a",
        "iosxe",
        "17.3.4",
        "127.0.0.1",
        2202,
    )
    assert all((e["username"], e["password"]) == ("admin", "admin") for e in entries.values())
    models = {c.name: c for c, _ in demo.build()}
    for name in entries:
        wlc = models[name]
        stuck = {ap.model for ap in wlc.aps.values() if ap.state == DOWNLOADING}
        fine = {ap.model for ap in wlc.aps.values() if ap.state == REGISTERED}
        assert stuck and all(wlc.rules.is_ios_based(m) for m in stuck)
        assert fine >= {"AIR-AP1852I-E-K9", "C9120AXI-E"}
        assert not any(wlc.rules.is_ios_based(m) for m in fine)
        assert wlc.certificate.not_before.year == 2019 and not wlc.fixed
    assert any(s.key for s in models["wlc-a1"].running.ntp_servers)
    lines = [s.ios_line() for s in models["wlc-a2"].running.ntp_servers]
    assert any(line.endswith(" prefer") for line in lines) and any(" key 1" in line for line in lines)


async def test_demo_serves_with_ports_overridden() -> None:
    """The demo as shipped, on free ports (the fixed ones may be taken on a test machine)."""
    demo = Scenario.demo()
    for entry in demo.controllers:
        entry["port"] = 0
    async with SimulatorServer(demo, time_scale=600) as sim:
        async with scrapli_session(sim, "wlc-a1") as conn:
            out = (await conn.send_command("show ap image status")).result
            assert re.search(r"^Total AP's Downloading\.+ 3$", out, re.M), out
        async with scrapli_session(sim, "wlc-a2") as conn:
            out = (await conn.send_command("show ap summary")).result
            assert out.count("Downloading") == 3 and out.count("Registered") == 2
