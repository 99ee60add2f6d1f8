"""Benchmark: one full poll of N simulated controllers (not a test; prints numbers).

    python benchmarks/poll_fleet.py [--controllers 200] [--aps 50] [--concurrency 50] [--netmiko-sample 10]

The simulator runs in its own process (`ccert-bot simulate`) so the numbers
are the bot's alone. Each measured phase runs in a fresh child process, so
peak RSS belongs to that phase:

- floor:   plain asyncssh, same N at once: connect, log in, `show ap summary`, close;
- poll:    the bot's real `poll_fleet` (every command of a poll, parsed into snapshots);
- netmiko: a sequential netmiko loop over a sample, extrapolated to N.

Loopback only (127.0.0.1). Bounded: every phase has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _usage() -> tuple[float, float]:
    """CPU seconds and peak RSS (MB) of this process.

    Peak RSS comes from VmHWM: `ru_maxrss` survives execve on Linux, so a
    child would report its parent's peak.
    """
    ru = resource.getrusage(resource.RUSAGE_SELF)
    peak = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024.0
    return ru.ru_utime + ru.ru_stime, peak


async def _floor(targets: list[dict[str, Any]]) -> dict[str, Any]:
    import asyncssh

    async def one(t: dict[str, Any]) -> bool:
        conn = await asyncio.wait_for(
            asyncssh.connect(t["host"], t["port"], username="admin", password="admin", known_hosts=None),
            timeout=60,
        )
        try:
            process = await conn.create_process(term_type="vt100")
            prompt = b"#" if t["platform"] == "iosxe" else b") >"
            buffer = b""

            async def read_until(marker: bytes) -> None:
                nonlocal buffer
                while marker not in buffer:
                    chunk = await asyncio.wait_for(process.stdout.read(65536), timeout=60)
                    if not chunk:
                        raise EOFError
                    buffer += chunk.encode() if isinstance(chunk, str) else chunk

            if t["platform"] == "aireos":
                await read_until(b"User:")
                process.stdin.write("admin\n")
                await read_until(b"Password:")
                process.stdin.write("admin\n")
                await read_until(prompt)
                buffer = b""
                process.stdin.write("config paging disable\n")
            else:
                await read_until(prompt)
                buffer = b""
                process.stdin.write("terminal length 0\n")
            await read_until(prompt)
            buffer = b""
            process.stdin.write("show ap summary\n")
            await read_until(b"AP Name")
            await read_until(prompt)
            return True
        finally:
            conn.close()
            await conn.wait_closed()

    results = await asyncio.gather(*(one(t) for t in targets), return_exceptions=True)
    return {"ok": sum(1 for r in results if r is True), "failed": sum(1 for r in results if r is not True)}


async def _poll(targets: list[dict[str, Any]], concurrency: int) -> dict[str, Any]:
    from bot.controllers.fleet import PollOptions, poll_fleet
    from bot.controllers.session import SessionOptions
    from bot.inventory import parse_inventory

    document = {
        "sites": {"fleet": {"controllers": [
            {"name": t["name"], "host": t["host"], "port": t["port"], "platform": t["platform"], "credentials": "b"}
            for t in targets
        ]}},
        "credentials": {"b": {"username_env": "BENCH_USER", "password_env": "BENCH_PASS"}},
    }
    inventory = parse_inventory(yaml.safe_dump(document), "<bench>")
    options = PollOptions(SessionOptions(timeout_seconds=60, strict_host_keys=False), max_concurrency=concurrency)
    snapshots = await poll_fleet(inventory.controllers(), options, {"BENCH_USER": "admin", "BENCH_PASS": "admin"})
    return {
        "ok": sum(1 for s in snapshots if not s.errors),
        "failed": sum(1 for s in snapshots if s.errors),
        "aps": sum(len(s.aps) for s in snapshots),
        "errors": sorted({e.message.split(": ", 1)[-1] for s in snapshots for e in s.errors})[:5],
    }


def _netmiko(targets: list[dict[str, Any]]) -> dict[str, Any]:
    from netmiko import ConnectHandler

    ok = 0
    for t in targets:
        device = {
            "device_type": "cisco_wlc_ssh" if t["platform"] == "aireos" else "cisco_xe",
            "host": t["host"], "port": t["port"], "username": "admin", "password": "admin",
            "ssh_config_file": None, "allow_agent": False, "use_keys": False, "timeout": 60,
        }
        with ConnectHandler(**device) as conn:
            if "AP Name" in conn.send_command("show ap summary"):
                ok += 1
    return {"ok": ok, "failed": len(targets) - ok}


def run_phase(args: argparse.Namespace) -> None:
    targets = json.loads(Path(args.targets).read_text())
    cpu0, _ = _usage()
    started = time.perf_counter()
    if args.phase == "floor":
        result = asyncio.run(_floor(targets))
    elif args.phase == "poll":
        result = asyncio.run(_poll(targets, args.concurrency))
    else:
        result = _netmiko(targets[: args.netmiko_sample])
    wall = time.perf_counter() - started
    cpu1, rss = _usage()
    result.update(wall_s=round(wall, 2), cpu_s=round(cpu1 - cpu0, 2), peak_rss_mb=round(rss, 1))
    print(json.dumps(result))


def start_simulator(scenario: Path) -> tuple[subprocess.Popen[str], list[dict[str, Any]]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "simulate", "--scenario", str(scenario), "--time-scale", "1"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("ready"):
        process.kill()
        raise SystemExit(f"simulator did not start: {line!r}")
    platforms = {c["name"]: c["platform"] for c in yaml.safe_load(scenario.read_text())["controllers"]}
    targets = []
    for item in line.split()[1:]:
        name, address = item.split("=", 1)
        host, port = address.rsplit(":", 1)
        targets.append({"name": name, "host": host, "port": int(port), "platform": platforms[name]})
    return process, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--controllers", type=int, default=200)
    parser.add_argument("--aps", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--netmiko-sample", type=int, default=10)
    parser.add_argument("--phase", choices=("floor", "poll", "netmiko"))
    parser.add_argument("--targets")
    args = parser.parse_args()
    if args.phase:
        run_phase(args)
        return

    from bot.simulator.scenario import Scenario

    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "fleet.yaml"
        scenario.write_text(yaml.safe_dump(Scenario.fleet(args.controllers, args.aps).to_dict()))
        simulator, targets = start_simulator(scenario)
        try:
            targets_file = Path(tmp) / "targets.json"
            targets_file.write_text(json.dumps(targets))
            rows = {}
            for phase in ("floor", "poll", "netmiko"):
                out = subprocess.run(
                    [sys.executable, __file__, "--phase", phase, "--targets", str(targets_file),
                     "--concurrency", str(args.concurrency), "--netmiko-sample", str(args.netmiko_sample)],
                    capture_output=True, text=True, timeout=900, cwd=ROOT,
                )
                if out.returncode != 0:
                    raise SystemExit(f"phase {phase} failed:\n{out.stderr[-2000:]}")
                rows[phase] = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            simulator.terminate()
            simulator.wait(timeout=30)
    n, sample = args.controllers, min(args.netmiko_sample, args.controllers)
    print(f"poll_fleet benchmark — {time.strftime('%Y-%m-%d')} — {platform.platform()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"{n} controllers (half AireOS, half 9800), {args.aps} APs each; bot concurrency {args.concurrency}")
    print(f"{'phase':<34} {'wall s':>8} {'cpu s':>8} {'peak RSS MB':>12}  result")
    floor, poll, nm = rows["floor"], rows["poll"], rows["netmiko"]
    print(f"{'floor: asyncssh, 1 command, all at once':<34} {floor['wall_s']:>8} {floor['cpu_s']:>8} "
          f"{floor['peak_rss_mb']:>12}  ok={floor['ok']} failed={floor['failed']}")
    print(f"{'ccert-bot poll_fleet (full poll)':<34} {poll['wall_s']:>8} {poll['cpu_s']:>8} "
          f"{poll['peak_rss_mb']:>12}  ok={poll['ok']} failed={poll['failed']} aps={poll['aps']} {poll['errors']}")
    per = nm["wall_s"] / max(sample, 1)
    print(f"{f'netmiko sequential, sample of {sample}':<34} {nm['wall_s']:>8} {nm['cpu_s']:>8} "
          f"{nm['peak_rss_mb']:>12}  ok={nm['ok']} → ~{per * n:.0f} s for {n} ({per:.2f} s each)")


if __name__ == "__main__":
    main()
