"""A bot process for the kill tests: runs one approved request, and freezes where it is told.

    PYTHONPATH=<repo> python tests/remediation/remediation_child.py CONFIG.json

CONFIG holds the store path, the inventory (YAML text), the environment with
the credentials, the known_hosts file, the request id and where to freeze:
`{"step": "delete_ntp", "after_commands": 1}` freezes right after the first
command of that step that changes the controller (or, for a step that
changes nothing, its first command; with 0, at the step's start). Freezing
prints `FROZEN <step>` on stdout and sleeps; the test then SIGKILLs this
process, so nothing of the engine's own cleanup runs, exactly like a crash.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from bot.controllers.session import CommandOutput, ControllerSession, SessionOptions
from bot.domain.approvals import ApprovalPolicy
from bot.inventory_file import parse_inventory
from bot.remediation.engine import RetryPolicy, RunEvent, RunInfo, StepInfo
from bot.remediation.service import RemediationConfig, RemediationService
from bot.store import Store

FREEZE_SECONDS = 60.0


class Freezer:
    """Knows the current step; freezes the process at the configured point."""

    def __init__(self, step: str, after_commands: int, changes_only: bool) -> None:
        self.step = step
        self.after = after_commands
        self.changes_only = changes_only
        self.current: str | None = None
        self.seen = 0

    async def freeze(self) -> None:
        print(f"FROZEN {self.step}", flush=True)
        await asyncio.sleep(FREEZE_SECONDS)
        raise SystemExit("not killed in time")

    async def command_sent(self, command: str) -> None:
        if self.current != self.step or self.after == 0:
            return
        if self.changes_only and command.startswith(("show ", "configure terminal", "end")):
            return
        self.seen += 1
        if self.seen == self.after:
            await self.freeze()

    async def step_started(self, run: RunInfo, step: StepInfo) -> None:
        self.current = step.step_id if not step.undo else None
        if self.current == self.step and self.after == 0:
            await self.freeze()

    async def step_finished(self, run: RunInfo, step: StepInfo) -> None:
        return None

    async def event(self, run: RunInfo, event: RunEvent) -> None:
        return None


def freezing_factory(freezer: Freezer) -> Any:
    class FreezingSession(ControllerSession):
        async def send(self, command: str, timeout: float | None = None) -> CommandOutput:
            output = await super().send(command, timeout)
            await freezer.command_sent(command)
            return output

        async def send_confirmed(
            self, command: str, prompt: str, answer: str, timeout: float | None = None
        ) -> CommandOutput:
            output = await super().send_confirmed(command, prompt, answer, timeout)
            await freezer.command_sent(command)
            return output

    return FreezingSession


async def main(path: str) -> int:
    cfg = json.loads(Path(path).read_text(encoding="utf-8"))
    inventory = parse_inventory(cfg["inventory"], "<child inventory>")
    freeze = cfg["freeze"]
    freezer = Freezer(freeze["step"], int(freeze["after_commands"]), bool(freeze["changes_only"]))
    config = RemediationConfig(
        policy=ApprovalPolicy(approvers=frozenset(cfg["approvers"])),
        session=SessionOptions(timeout_seconds=3.0, strict_host_keys=True, known_hosts=Path(cfg["known_hosts"])),
        retry=RetryPolicy(attempts=3, undo_attempts=3, base_delay=0.05, max_delay=0.2),
        param_overrides=cfg["params"],
    )
    async with await Store.open(cfg["db"]) as store:
        service = RemediationService(
            store, inventory, config, cfg["environ"], session_factory=freezing_factory(freezer)
        )
        outcomes = await service.start_run(int(cfg["request_id"]), freezer)
    print("FINISHED " + " ".join(o.status for o in outcomes), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
