"""Benchmark: N concurrent scrapli sessions against one simulator process.

Each session does what a poll does at minimum: connect (SSH, plus the
in-session login on AireOS), `show ap summary`, close. The simulator runs in
its own process (started through `python -m bot.simulator`, like
`ccert-bot simulate`), so the numbers separate client and server cost.

    python benchmarks/simulator_sessions.py                  # 200 controllers, mixed platforms
    python benchmarks/simulator_sessions.py -n 200 --platform iosxe --aps 8
    python benchmarks/simulator_sessions.py --in-process     # one event loop for both sides

Prints wall time, client CPU, simulator CPU, peak RSS of both, and failures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import yaml
from scrapli import AsyncScrapli
from scrapli.driver import AsyncNetworkDriver

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.simulator import Scenario, SimulatorServer  # noqa: E402


async def _read_until(conn: AsyncNetworkDriver, marker: bytes) -> None:
    buf = b""
    while marker not in buf:
        buf += await conn.channel.read()


async def aireos_on_open(conn: AsyncNetworkDriver) -> None:
    """AireOS login by reading until each prompt (scrapli-community's sleeps block the loop)."""
    await asyncio.wait_for(_read_until(conn, b"User:"), 30)
    conn.channel.write(conn.auth_username)
    conn.channel.send_return()
    await asyncio.wait_for(_read_until(conn, b"Password:"), 30)
    conn.channel.write(conn.auth_password, redacted=True)
    conn.channel.send_return()
    await conn.acquire_priv(desired_priv=conn.default_desired_privilege_level)
    await conn.send_command("config paging disable")


async def aireos_on_close(conn: AsyncNetworkDriver) -> None:
    conn.channel.write("logout")
    conn.channel.send_return()


async def one_session(host: str, port: int, platform: str) -> int:
    """connect + show ap summary + close; returns the AP rows seen."""
    kwargs: dict[str, Any] = {
        "host": host,
        "port": port,
        "auth_username": "admin",
        "auth_password": "admin",
        "auth_strict_key": False,
        "transport": "asyncssh",
        "timeout_socket": 60,
        "timeout_transport": 60,
        "timeout_ops": 60,
    }
    if platform == "aireos":
        kwargs.update(platform="cisco_aireos", on_open=aireos_on_open, on_close=aireos_on_close)
    else:
        kwargs.update(platform="cisco_iosxe")
    conn = AsyncScrapli(**kwargs)
    await conn.open()
    try:
        out = (await conn.send_command("show ap summary")).result
    finally:
        await conn.close()
    return len(re.findall(r"^AP\d{4}-\d{3}\b", out, re.M))


async def run_sessions(targets: list[tuple[str, int, str]]) -> tuple[float, list[BaseException | int]]:
    start = time.perf_counter()
    results = await asyncio.gather(*(one_session(*t) for t in targets), return_exceptions=True)
    return time.perf_counter() - start, results


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def bench_subprocess(scenario: Scenario, time_scale: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fleet.yaml"
        path.write_text(yaml.safe_dump(scenario.to_dict()))
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.simulator",
            "--scenario",
            str(path),
            "--time-scale",
            str(time_scale),
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        if not line.startswith("ready "):
            raise RuntimeError(f"simulator did not start: {line!r}")
        ready = {name: int(port) for name, _host, port in re.findall(r"([\w.-]+)=(\S+):(\d+)", line)}
        platforms = {e["name"]: e["platform"] for e in scenario.controllers}
        targets = [("127.0.0.1", int(port), platforms[name]) for name, port in ready.items()]
        server = psutil.Process(proc.pid)
        server_cpu_before = sum(server.cpu_times()[:2])
        cpu_before = cpu_seconds()
        wall, results = await run_sessions(targets)
        client_cpu = cpu_seconds() - cpu_before
        server_cpu = sum(server.cpu_times()[:2]) - server_cpu_before
        server_rss = server.memory_info().rss
        proc.terminate()
        await proc.wait()
    return {
        "wall": wall,
        "results": results,
        "client_cpu": client_cpu,
        "server_cpu": server_cpu,
        "server_rss": server_rss,
    }


async def bench_in_process(scenario: Scenario, time_scale: float) -> dict[str, Any]:
    async with SimulatorServer(scenario, time_scale=time_scale) as sim:
        targets = [(*sim.address(name), c.platform) for name, c in sim.controllers.items()]
        cpu_before = cpu_seconds()
        wall, results = await run_sessions(targets)
        cpu = cpu_seconds() - cpu_before
    return {"wall": wall, "results": results, "client_cpu": cpu, "server_cpu": None, "server_rss": None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--controllers", type=int, default=200)
    parser.add_argument("--aps", type=int, default=4, help="APs per controller")
    parser.add_argument("--platform", choices=["mixed", "aireos", "iosxe"], default="mixed")
    parser.add_argument("--time-scale", type=float, default=60.0)
    parser.add_argument("--in-process", action="store_true", help="simulator and clients on one event loop")
    args = parser.parse_args()

    scenario = Scenario.fleet(args.controllers, args.aps, platform=args.platform)
    bench = bench_in_process if args.in_process else bench_subprocess
    out = asyncio.run(bench(scenario, args.time_scale))
    failures = [r for r in out["results"] if isinstance(r, BaseException)]
    rows_ok = sum(1 for r in out["results"] if r == args.aps)
    peak_client = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"sessions        {args.controllers} ({args.platform}, {args.aps} APs each, "
        f"{'in-process' if args.in_process else 'simulator in its own process'})"
    )
    print(f"wall            {out['wall']:.2f} s")
    print(f"client CPU      {out['client_cpu']:.2f} s" + (" (client + simulator)" if args.in_process else ""))
    if out["server_cpu"] is not None:
        print(f"simulator CPU   {out['server_cpu']:.2f} s")
        print(f"simulator RSS   {out['server_rss'] / 2**20:.0f} MB")
    print(f"client peak RSS {peak_client:.0f} MB")
    print(f"complete        {rows_ok}/{args.controllers}")
    print(f"failures        {len(failures)}" + (f"  first: {failures[0]!r}" if failures else ""))
    return 0 if not failures and rows_ok == args.controllers else 1


if __name__ == "__main__":
    raise SystemExit(main())
