"""`ccert-bot simulate`: serve a scenario until SIGINT/SIGTERM.

The lead wires `add_arguments` and `run` into the main CLI. With no options
it serves the shipped demo (site-a: wlc-a1 AireOS on 127.0.0.1:2201, wlc-a2
9800 on 127.0.0.1:2202) and prints exactly one line once every port
listens, so a script can wait for it:

    ready wlc-a1=127.0.0.1:2201 wlc-a2=127.0.0.1:2202
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from bot.simulator.scenario import Scenario
from bot.simulator.server import SimulatorServer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", metavar="FILE", help="scenario YAML (default: the shipped demo)")
    parser.add_argument("--host", help="listen address for every controller (default: from the scenario)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=60.0,
        metavar="X",
        help="simulated seconds per real second (default: 60)",
    )
    parser.add_argument("--state-file", metavar="FILE", help="keep saved configuration in this JSON file")
    parser.add_argument(
        "--tick-seconds",
        type=float,
        default=0.05,
        metavar="S",
        help="real seconds between two steps of every controller's model (default: 0.05); each step "
        "visits every AP, so a benchmark of 1,000 controllers uses a longer tick to measure the bot",
    )


async def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; 0 on a clean stop, 2 on a bad scenario."""
    try:
        scenario = Scenario.load(args.scenario) if args.scenario else Scenario.demo()
    except (OSError, ValueError) as exc:
        print(f"simulate: {exc}", file=sys.stderr, flush=True)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        if not 0.001 <= args.tick_seconds <= 60:
            print("simulate: --tick-seconds must be between 0.001 and 60", file=sys.stderr, flush=True)
            return 2
        server = SimulatorServer(
            scenario,
            host=args.host,
            time_scale=args.time_scale,
            state_file=args.state_file,
            tick_interval=args.tick_seconds,
        )
        async with server:
            print(server.ready_line(), flush=True)
            await stop.wait()
    except OSError as exc:
        print(f"simulate: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.simulator", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return asyncio.run(run(parser.parse_args(argv)))
