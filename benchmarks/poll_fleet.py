"""Benchmark: polling N simulated controllers, the bot against the raw SSH floor (prints numbers).

    python benchmarks/poll_fleet.py [--controllers 1000] [--aps 50] [--concurrency 50] [--netmiko-sample 10]
                                    [--sim-tick 1] [--repeat 3]

The simulator runs in its own process (`ccert-bot simulate`) so the numbers
are the bot's alone. Each measured phase runs in a fresh child process, so
peak RSS belongs to that phase, and every phase polls the same simulated fleet
in the same sitting:

- floor:   plain asyncssh, no parsing: log in, paging off, `show ap summary`, close
           (both platforms), at the bot's concurrency and, as a second anchor, all at once;
           and the same plain client sending the routine check's own commands (what those
           commands cost without scrapli, parsing or snapshots);
- routine: the scheduled check in its steady state: a first routine poll reads everything
           (and remembers the static facts), the measured second one sends only what changes;
           on one loop, and sharded over one worker process per core (`FleetPoller`);
- full:    `/ccert status`'s read: every command, parsed into snapshots;
- netmiko: a sequential netmiko loop over a sample, extrapolated to N.

Printed per phase: wall, CPU (the bot's, and the simulator's beside it: on two cores they
share the machine), peak RSS, commands per controller, AP-table rows the
compiled patterns left to the general fitter ("fallback"), and the ratios to the floor
at the same concurrency. Goals: routine ≤ 1.5× the floor's wall, full ≤ 3×, ≥ 20× faster
than sequential netmiko, RSS ≤ 150 MB at 2,000 controllers.

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
from datetime import timedelta
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


async def _floor(targets: list[dict[str, Any]], concurrency: int | None, commands: bool = False) -> dict[str, Any]:
    import asyncssh

    gate = asyncio.Semaphore(concurrency or len(targets))
    sent = [0]

    async def one(t: dict[str, Any]) -> bool:
        async with gate:
            return await _floor_one(asyncssh, t, _routine_commands(t["platform"]) if commands else None, sent)

    results = await asyncio.gather(*(one(t) for t in targets), return_exceptions=True)
    return {
        "ok": sum(1 for r in results if r is True),
        "failed": sum(1 for r in results if r is not True),
        "commands": round(sent[0] / max(len(targets), 1), 2),
    }


def _routine_commands(platform_name: str) -> list[str]:
    """The commands of the bot's routine check on this platform (placeholders left out)."""
    from bot.controllers.platforms import registry

    definition = registry.get(platform_name).definition
    commands = [c.command for c in definition.routine_commands() if "{" not in c.command]
    if platform_name == "aireos":
        commands = [c for c in commands if c != "show ap image all"]  # 8.10: `show ap image status`
    return [*definition.session_setup[1:], *commands]


async def _floor_one(asyncssh: Any, t: dict[str, Any], commands: list[str] | None, sent: list[int]) -> bool:
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
        sent[0] += 1
        for command in commands or ["show ap summary"]:
            buffer = b""
            process.stdin.write(command + "\n")
            await read_until(command.encode())
            await read_until(prompt)
            sent[0] += 1
        return True
    finally:
        conn.close()
        await conn.wait_closed()


def _count_fallbacks() -> list[int]:
    """Sum `fallback_rows` of every AP table the bot parses in this process (benchmark only)."""
    from bot.controllers.platforms import registry

    total = [0]
    for name in registry.names():
        table = registry.get(name).parsers
        assert isinstance(table, dict)  # each platform's own module-level table
        for key, parse in list(table.items()):
            if "show_ap_summary" in key or "show_ap_image" in key:

                def counting(text: str, parse: Any = parse) -> Any:
                    result = parse(text)
                    total[0] += getattr(result, "fallback_rows", 0)
                    return result

                table[key] = counting
    return total


async def _poll_workers(targets: list[dict[str, Any]], concurrency: int) -> dict[str, Any]:
    """The routine check's steady state on every core: `FleetPoller` with one worker per core."""
    from bot.controllers.polling import PollOptions
    from bot.controllers.session import SessionOptions
    from bot.controllers.static_facts import StaticFacts
    from bot.controllers.workers import FleetPoller, auto_workers

    inventory, environ = _inventory(targets)
    facts = StaticFacts(timedelta(hours=24))
    session = SessionOptions(timeout_seconds=60, strict_host_keys=False)
    options = PollOptions(session, max_concurrency=concurrency, facts=facts, routine=True)
    poller = FleetPoller(auto_workers(0), shard_from=0)
    try:
        await poller.poll(inventory.controllers(), options, environ)  # warm-up: first check, workers started
        cpu0, _ = _usage()
        started = time.perf_counter()
        snapshots = await poller.poll(inventory.controllers(), options, environ)
        wall = time.perf_counter() - started
        cpu1, _ = _usage()
    finally:
        poller.close()
    return {
        "ok": sum(1 for s in snapshots if not s.errors),
        "failed": sum(1 for s in snapshots if s.errors),
        "aps": sum(len(s.aps) for s in snapshots),
        "errors": sorted({e.message.split(": ", 1)[-1] for s in snapshots for e in s.errors})[:5],
        "commands": "–",
        "fallback": "–",
        "workers": auto_workers(0),
        "measured_wall_s": round(wall, 2),
        # the workers' CPU is not this process's: RUSAGE_CHILDREN counts them once they exit
        "measured_cpu_s": round(cpu1 - cpu0, 2),
    }


def _inventory(targets: list[dict[str, Any]]) -> tuple[Any, dict[str, str]]:
    from bot.inventory_file import parse_inventory

    document = {
        "sites": {
            "fleet": {
                "controllers": [
                    {
                        "name": t["name"],
                        "host": t["host"],
                        "port": t["port"],
                        "platform": t["platform"],
                        "credentials": "b",
                    }
                    for t in targets
                ]
            }
        },
        "credentials": {"b": {"username_env": "BENCH_USER", "password_env": "BENCH_PASS"}},
    }
    return parse_inventory(yaml.safe_dump(document), "<bench>"), {"BENCH_USER": "admin", "BENCH_PASS": "admin"}


async def _poll(targets: list[dict[str, Any]], concurrency: int, routine: bool) -> dict[str, Any]:
    from bot.controllers.polling import PollOptions, poll_fleet
    from bot.controllers.read_session import ReadSession
    from bot.controllers.session import SessionOptions
    from bot.controllers.static_facts import StaticFacts

    inventory, environ = _inventory(targets)
    facts = StaticFacts(timedelta(hours=24))
    session = SessionOptions(timeout_seconds=60, strict_host_keys=False)
    options = PollOptions(session, max_concurrency=concurrency, facts=facts, routine=routine)
    sent = [0]

    class Counting(ReadSession):  # the session polls use
        async def send(self, command: str, timeout: float | None = None) -> Any:
            sent[0] += 1
            return await super().send(command, timeout)

    if routine:  # the first check of a run reads everything; the steady state is what repeats
        await poll_fleet(inventory.controllers(), options, environ)
    fallbacks = _count_fallbacks()
    cpu0, _ = _usage()
    started = time.perf_counter()
    snapshots = await poll_fleet(inventory.controllers(), options, environ, session_factory=Counting)
    wall = time.perf_counter() - started
    cpu1, _ = _usage()
    return {
        "ok": sum(1 for s in snapshots if not s.errors),
        "failed": sum(1 for s in snapshots if s.errors),
        "aps": sum(len(s.aps) for s in snapshots),
        "errors": sorted({e.message.split(": ", 1)[-1] for s in snapshots for e in s.errors})[:5],
        "commands": round(sent[0] / max(len(targets), 1), 2),
        "fallback": fallbacks[0],
        "measured_wall_s": round(wall, 2),
        "measured_cpu_s": round(cpu1 - cpu0, 2),
    }


def _netmiko(targets: list[dict[str, Any]]) -> dict[str, Any]:
    from netmiko import ConnectHandler

    ok = 0
    for t in targets:
        device = {
            "device_type": "cisco_wlc_ssh" if t["platform"] == "aireos" else "cisco_xe",
            "host": t["host"],
            "port": t["port"],
            "username": "admin",
            "password": "admin",
            "ssh_config_file": None,
            "allow_agent": False,
            "use_keys": False,
            "timeout": 60,
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
        result = asyncio.run(_floor(targets, args.concurrency))
    elif args.phase == "floor-all":
        result = asyncio.run(_floor(targets, None))
    elif args.phase == "floor-routine":
        result = asyncio.run(_floor(targets, args.concurrency, commands=True))
    elif args.phase == "routine-workers":
        result = asyncio.run(_poll_workers(targets, args.concurrency))
    elif args.phase in ("routine", "full"):
        result = asyncio.run(_poll(targets, args.concurrency, routine=args.phase == "routine"))
    else:
        result = _netmiko(targets[: args.netmiko_sample])
    wall = time.perf_counter() - started
    cpu1, rss = _usage()
    result.update(wall_s=round(wall, 2), cpu_s=round(cpu1 - cpu0, 2), peak_rss_mb=round(rss, 1))
    if "measured_wall_s" in result:  # the routine phase's warm-up check is not part of the number
        result["wall_s"], result["cpu_s"] = result.pop("measured_wall_s"), result.pop("measured_cpu_s")
    print(json.dumps(result))


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) another process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_simulator(scenario: Path, tick: float = 1.0) -> tuple[subprocess.Popen[str], list[dict[str, Any]]]:
    process = subprocess.Popen(
        # Each tick steps every AP model: at 1,000 controllers the simulator's default 50 ms tick
        # takes 28 % of a core on its own, which the bot's phases would share (`--sim-tick`).
        [
            sys.executable,
            "-m",
            "bot",
            "simulate",
            "--scenario",
            str(scenario),
            "--time-scale",
            "1",
            "--tick-seconds",
            str(tick),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
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


PHASES = ("floor", "floor-all", "floor-routine", "routine", "routine-workers", "full", "netmiko")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--controllers", type=int, default=1000)
    parser.add_argument("--aps", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--netmiko-sample", type=int, default=10)
    parser.add_argument("--sim-tick", type=float, default=1.0, help="the simulator's tick in seconds (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of each phase; the median is shown (default 3)")
    parser.add_argument("--phase", choices=PHASES)
    parser.add_argument("--targets")
    args = parser.parse_args()
    if args.phase:
        run_phase(args)
        return

    from bot.simulator.scenario import Scenario

    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "fleet.yaml"
        scenario.write_text(yaml.safe_dump(Scenario.fleet(args.controllers, args.aps).to_dict()))
        simulator, targets = start_simulator(scenario, args.sim_tick)
        try:
            targets_file = Path(tmp) / "targets.json"
            targets_file.write_text(json.dumps(targets))
            runs: dict[str, list[dict[str, Any]]] = {phase: [] for phase in PHASES}
            # The simulator's first sessions to each controller cost it more (lazy set-up): a
            # warm-up floor pass first, so the anchor is not the phase that pays for it. Then
            # `--repeat` rounds of every phase, interleaved, so a slow minute of the shared
            # machine lands on all of them; each phase reports its median round.
            order = ["floor"] + [p for _ in range(args.repeat) for p in PHASES if p != "netmiko"] + ["netmiko"]
            for phase in order:
                sim_cpu = _process_cpu(simulator.pid)
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--phase",
                        phase,
                        "--targets",
                        str(targets_file),
                        "--concurrency",
                        str(args.concurrency),
                        "--netmiko-sample",
                        str(args.netmiko_sample),
                    ],
                    capture_output=True,
                    text=True,
                    timeout=1800,
                    cwd=ROOT,
                )
                if out.returncode != 0:
                    raise SystemExit(f"phase {phase} failed:\n{out.stderr[-2000:]}")
                row = json.loads(out.stdout.strip().splitlines()[-1])
                row["sim_cpu_s"] = round(_process_cpu(simulator.pid) - sim_cpu, 2)
                runs[phase].append(row)
            runs["floor"] = runs["floor"][1:]  # the warm-up
            rows = {phase: _median_row(done) for phase, done in runs.items()}
        finally:
            simulator.terminate()
            simulator.wait(timeout=60)
    report(rows, args)


def _median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median wall time (its own CPU, RSS and counts with it)."""
    ordered = sorted(rows, key=lambda row: row["wall_s"])
    return ordered[len(ordered) // 2]


def report(rows: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    n, sample = args.controllers, min(args.netmiko_sample, args.controllers)
    floor = rows["floor"]
    nm = rows["netmiko"]
    per_netmiko = nm["wall_s"] / max(sample, 1)
    print(
        f"poll_fleet benchmark — {time.strftime('%Y-%m-%d')} — {platform.platform()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(
        f"{n} controllers (half AireOS, half 9800), {args.aps} APs each; concurrency {args.concurrency}; "
        f"simulator tick {args.sim_tick:g} s; median of {args.repeat} interleaved rounds"
    )
    print(
        f"{'phase':<44} {'wall s':>7} {'cpu s':>7} {'sim cpu':>7} {'RSS MB':>7} {'cmds':>5} {'fallback':>8} "
        f"{'×floor':>7}  result"
    )
    labels = {
        "floor": f"floor: asyncssh, {args.concurrency} in flight",
        "floor-all": "floor: asyncssh, all at once",
        "floor-routine": "asyncssh sending the routine check's commands",
        "routine": "ccert-bot routine check (steady state)",
        "routine-workers": "ccert-bot routine, a worker per core (cpu: main)",
        "full": "ccert-bot full read (/ccert status)",
    }
    for phase, label in labels.items():
        row = rows[phase]
        ratio = row["wall_s"] / floor["wall_s"] if floor["wall_s"] else float("nan")
        extra = f" aps={row['aps']}" if "aps" in row else ""
        errors = f" {row['errors']}" if row.get("errors") else ""
        print(
            f"{label:<44} {row['wall_s']:>7} {row['cpu_s']:>7} {row['sim_cpu_s']:>7} {row['peak_rss_mb']:>7} "
            f"{row['commands']:>5} "
            f"{row.get('fallback', '–'):>8} {ratio:>6.2f}×  ok={row['ok']} failed={row['failed']}{extra}{errors}"
        )
    print(
        f"{f'netmiko sequential, sample of {sample}':<44} {nm['wall_s']:>7} {nm['cpu_s']:>7} {nm['sim_cpu_s']:>7} "
        f"{nm['peak_rss_mb']:>7} {'':>5} {'':>8} {'':>7}  ok={nm['ok']} → ~{per_netmiko * n:.0f} s for {n}"
    )
    routine, full = rows["routine"], rows["full"]
    sharded = rows["routine-workers"]
    print(
        f"routine ÷ floor {routine['wall_s'] / floor['wall_s']:.2f}× (goal ≤ 1.5; "
        f"on {sharded['workers']} workers {sharded['wall_s'] / floor['wall_s']:.2f}×), "
        f"full ÷ floor {full['wall_s'] / floor['wall_s']:.2f}× (goal ≤ 3), "
        f"netmiko ÷ full {per_netmiko * n / full['wall_s']:.0f}× (goal ≥ 20)"
    )


if __name__ == "__main__":
    main()
