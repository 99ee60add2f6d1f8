"""Lost sessions at every changing step: the run retries or undoes, and the controller ends as before.

The simulator really drops the TCP connection (`faults.drop_after_commands`);
a thin session subclass only decides *when* to arm the fault: just before a
change command (it never executes) or just after one (it executed, and the
next command is lost: a half-done step). Then either

* **retry**: the fault is cleared once the engine reports it is reconnecting,
  so the retried step succeeds and the run completes; or
* **undo**: the fault stays until the step gave up, then the run undoes every
  change and verifies the controller against the record.

Either way the controller must end with NTP exactly as before (running and
saved) and a current clock. Trials run concurrently, one controller each,
and a small report of trials and failures is printed (pytest -s) and written
under the test's tmp dir.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.controllers.session import CommandOutput, ControllerSession
from bot.domain.approvals import RequestStatus
from bot.remediation.engine import RunEvent, RunInfo, StepInfo
from bot.remediation.service import RemediationService
from bot.simulator import SimulatorServer
from bot.store import Store
from tests.remediation.remediation_helpers import (
    APPROVER_1,
    APPROVER_2,
    REQUESTER,
    device_problems,
    fast_config,
    ntp_config,
    voter,
)
from tests.support.simulated_site import aireos, iosxe, simulated_site

# (step, command pattern, when) per platform: where the session is cut.
CUTS: dict[str, list[tuple[str, str, str]]] = {
    "aireos": [
        ("delete_ntp", r"^config time ntp delete", "after"),
        ("set_clock", r"^config time manual", "before"),
        ("restore_ntp", r"^config time ntp server", "after"),
        ("save", r"^save config", "before"),
    ],
    "iosxe": [
        ("delete_ntp", r"^no ntp server", "after"),
        ("set_clock", r"^clock set", "before"),
        ("restore_ntp", r"^ntp server", "after"),
        ("save", r"^write memory", "before"),
    ],
}


@dataclass
class Cut:
    sim: SimulatorServer
    controller: str
    step: str
    pattern: str
    when: str
    fired: bool = False

    def check(self, command: str, phase: str) -> None:
        if not self.fired and phase == self.when and re.search(self.pattern, command):
            self.fired = True
            self.sim.controllers[self.controller].faults.drop_after_commands = 0

    def clear(self) -> None:
        self.sim.controllers[self.controller].faults.drop_after_commands = None


def cutting_factory(cuts: dict[str, Cut]) -> Any:
    class CuttingSession(ControllerSession):
        async def send(self, command: str, timeout: float | None = None) -> CommandOutput:
            cut = cuts.get(self.name)
            if cut:
                cut.check(command, "before")
            output = await super().send(command, timeout)
            if cut:
                cut.check(command, "after")
            return output

        async def send_confirmed(
            self, command: str, prompt: str, answer: str, timeout: float | None = None
        ) -> CommandOutput:
            cut = cuts.get(self.name)
            if cut:
                cut.check(command, "before")
            output = await super().send_confirmed(command, prompt, answer, timeout)
            if cut:
                cut.check(command, "after")
            return output

    return CuttingSession


class Healer:
    """Clears a controller's fault when the engine reconnects (retry) or once the step failed (undo)."""

    def __init__(self, cuts: dict[str, Cut], mode: str) -> None:
        self.cuts = cuts
        self.mode = mode
        self.events: list[tuple[str, str]] = []

    async def step_started(self, run: RunInfo, step: StepInfo) -> None:
        return None

    async def step_finished(self, run: RunInfo, step: StepInfo) -> None:
        cut = self.cuts.get(run.controller)
        if self.mode == "undo" and cut and cut.fired and step.state == "failed":
            cut.clear()

    async def event(self, run: RunInfo, event: RunEvent) -> None:
        self.events.append((run.controller, event.text))
        cut = self.cuts.get(run.controller)
        if self.mode == "retry" and cut and cut.fired and "reconnecting" in event.text:
            cut.clear()


@pytest.mark.parametrize("mode", ["retry", "undo"])
@pytest.mark.parametrize("platform", ["aireos", "iosxe"])
async def test_session_lost_at_each_changing_step(tmp_path: Path, platform: str, mode: str) -> None:
    cuts_spec = CUTS[platform]
    make = aireos if platform == "aireos" else iosxe
    entries = [make(f"wlc-{step.replace('_', '-')}", site=f"site-{i}") for i, (step, _, _) in enumerate(cuts_spec)]
    report: list[str] = []
    failures = 0
    cuts: dict[str, Cut] = {}
    async with simulated_site(tmp_path, *entries) as site, await Store.open(site.settings.db) as store:
        for entry, (step, pattern, when) in zip(entries, cuts_spec, strict=True):
            cuts[entry["name"]] = Cut(site.sim, entry["name"], step, pattern, when)
        service = RemediationService(
            store, site.inventory, fast_config(site), site.environ, session_factory=cutting_factory(cuts)
        )
        healer = Healer(cuts, mode)

        async def trial(index: int, entry: dict[str, Any]) -> tuple[str, list[str]]:
            name = entry["name"]
            wlc = site.sim.controllers[name]
            before = ntp_config(wlc)
            view = await service.create_request(f"site-{index}", None, REQUESTER, "C0DEMO0001")
            await service.vote(view.id, voter(APPROVER_1), approve=True)
            await service.vote(view.id, voter(APPROVER_2), approve=True)
            [outcome] = await service.start_run(view.id, healer)
            problems = device_problems(wlc, before)
            cut = cuts[name]
            if not cut.fired:
                problems.append("the cut never fired")
            expected = "succeeded" if mode == "retry" else "failed"
            if outcome.status != expected:
                problems.append(f"run {outcome.status} (expected {expected}): {outcome.summary}")
            final = await service.request_view(view.id)
            if final.status is not RequestStatus(expected):
                problems.append(f"request {final.status}")
            if mode == "undo":
                failed = [s.step_id for s in final.runs[0].steps if s.state in ("failed", "undone")]
                if not failed or failed[-1] != cut.step:
                    problems.append(f"steps failed/undone {failed}, expected to stop at {cut.step}")
            return f"{platform:6} {mode:5} cut {cut.when:6} '{cut.pattern}' in {cut.step:12}", problems

        results = await asyncio.gather(*(trial(i, e) for i, e in enumerate(entries)))
    for label, problems in results:
        failures += bool(problems)
        report.append(f"{label} -> {'OK' if not problems else 'FAIL: ' + '; '.join(problems)}")
    report.append(f"{platform} {mode}: {len(results)} trials, {failures} failures")
    text = "\n".join(report)
    (tmp_path / "fault_report.txt").write_text(text + "\n", encoding="utf-8")
    print("\n" + text)
    assert failures == 0, text
    reconnects = [t for _, t in healer.events if "reconnecting" in t]
    assert reconnects, "the engine never reported a reconnect"
