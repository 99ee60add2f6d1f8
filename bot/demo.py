"""`ccert-bot demo`: the simulator's demo site and the console, in one process.

A newcomer sees the real bot (real SSH, real parsers, real verdicts) in one
command, without a Slack workspace or a controller. The simulator listens on
free loopback ports, so a `ccert-bot simulate` already running is no obstacle;
host keys stay checked, through a temporary known_hosts file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

import yaml

from bot.inventory import Inventory
from bot.inventory_file import parse_inventory
from bot.runtime import run_console_bot
from bot.settings import Settings, load_settings
from bot.simulator.scenario import Scenario
from bot.simulator.server import SimulatorServer

DEMO_USERNAME_ENV = "CCERT_DEMO_USERNAME"
DEMO_PASSWORD_ENV = "CCERT_DEMO_PASSWORD"
DEMO_USER = "U0DEMO"
DEMO_APPROVERS = ("U0ALICE", "U0BOB")
DEMO_ACCESS = f"remediate={','.join((DEMO_USER, *DEMO_APPROVERS))}"


def inventory_for(controllers: Iterable[dict[str, Any]], ports: dict[str, int], host: str) -> Inventory:
    """An inventory pointing at the simulated controllers, as an operator would write it."""
    sites: dict[str, list[dict[str, Any]]] = {}
    for entry in controllers:
        sites.setdefault(entry.get("site") or "site-a", []).append(
            {
                "name": entry["name"],
                "host": host,
                "port": ports[entry["name"]],
                "platform": entry["platform"],
                "credentials": "demo",
            }
        )
    document = {
        "sites": {name: {"channel": "C0DEMO0001", "controllers": items} for name, items in sites.items()},
        "credentials": {"demo": {"username_env": DEMO_USERNAME_ENV, "password_env": DEMO_PASSWORD_ENV}},
    }
    return parse_inventory(yaml.safe_dump(document), "<demo inventory>")


async def run_demo(stdin: TextIO | None = None, out: TextIO | None = None, time_scale: float = 60.0) -> int:
    out = out or sys.stdout
    scenario = Scenario.demo()
    for entry in scenario.controllers:
        entry["port"] = 0
    with tempfile.TemporaryDirectory(prefix="ccert-demo-") as tmp:
        async with SimulatorServer(scenario, host="127.0.0.1", time_scale=time_scale) as sim:
            known_hosts = Path(tmp) / "known_hosts"
            sim.write_known_hosts(known_hosts)
            inventory = inventory_for(scenario.controllers, sim.ports, "127.0.0.1")
            settings: Settings = load_settings(
                db=Path(tmp) / "ccert.db",
                ssh_known_hosts=known_hosts,
                ssh_strict_host_keys=True,
                ssh_timeout_seconds=10,
                # Two demo approvers; `/as U0ALICE` in the console switches who types.
                approvers=" ".join(DEMO_APPROVERS),
                playbook_poll_seconds=2,
                playbook_wait_minutes=5,
                # `remediate` is closed to all but the approvers unless CCERT_ACCESS names who may
                # ask: the demo names its console user (and the approvers), so the story runs.
                access=DEMO_ACCESS,
            )
            first = scenario.controllers[0]
            environ = dict(os.environ)
            environ[DEMO_USERNAME_ENV] = first.get("username", "admin")
            environ[DEMO_PASSWORD_ENV] = first.get("password", "admin")
            sites = ", ".join(f"{s.name} ({len(s.controllers)} controllers)" for s in inventory.sites.values())
            if (stdin or sys.stdin).isatty():
                out.write(
                    f"Demo: simulated {sites} on 127.0.0.1 ports "
                    f"{', '.join(str(p) for p in sim.ports.values())}.\n"
                    f"You are {DEMO_USER}, allowed to request a time-back (CCERT_ACCESS={DEMO_ACCESS}); "
                    f"the approvers are {' and '.join(DEMO_APPROVERS)} "
                    f"(/as {DEMO_APPROVERS[0]} to vote as one). Try: /ccert status site-a\n"
                )
            return await run_console_bot(inventory, settings, environ, stdin, out, user=DEMO_USER)
