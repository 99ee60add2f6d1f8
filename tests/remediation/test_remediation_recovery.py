"""The bot killed (SIGKILL) at every step in turn, on both platforms; recovery brings the controller back.

Each trial runs an approved request in a child process
(`remediation_child.py`), which freezes at a chosen point of a chosen step
(after the step's first change command, or its first command, or at its
start) and is then killed with SIGKILL by this test, so no cleanup of the
engine runs. The simulator lives in this test process and outlives every
child. Then `RemediationService.recover()` runs, as the bot does at start-up,
and every controller must be back to its recorded state: NTP identical
(running and saved), clock current. Runs interrupted while waiting for APs
(within the deadline) or while putting things back are resumed and succeed;
the others are undone.

All 18 trials (9 steps x 2 platforms) run with bounded concurrency; the
report (trials, failures) is printed (pytest -s) and written under tmp.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.domain.approvals import RequestStatus
from bot.remediation.actions import ACTIONS
from bot.remediation.recovery import decide
from bot.remediation.service import RemediationService
from bot.remediation.steps import AfterCrash
from bot.store import Store
from bot.store import remediation as q
from tests.remediation.remediation_helpers import (
    APPROVER_1,
    APPROVER_2,
    FAST_PARAMS,
    REQUESTER,
    device_problems,
    fast_config,
    ntp_config,
    voter,
)
from tests.support.simulated_site import aireos, iosxe, simulated_site

CHILD = Path(__file__).with_name("remediation_child.py")
REPO = Path(__file__).resolve().parents[2]
STEPS = [
    "record",
    "check_target",
    "delete_ntp",
    "set_clock",
    "verify_clock",
    "wait_aps",
    "restore_ntp",
    "save",
    "verify_current",
]
CHANGING = {"delete_ntp", "set_clock", "restore_ntp", "save"}
RESUMED = {"wait_aps", "restore_ntp", "save", "verify_current"}
NO_COMMANDS = {"check_target"}
CONCURRENT_CHILDREN = 6


def _inventory_yaml(site: Any) -> str:
    document = {
        "sites": {
            s.name: {
                "channel": s.channel,
                "controllers": [
                    {
                        "name": c.name,
                        "host": c.host,
                        "port": c.port,
                        "platform": c.platform,
                        "credentials": c.credentials.key,
                    }
                    for c in s.controllers
                ],
            }
            for s in site.inventory.sites.values()
        },
        "credentials": {
            k: {"username_env": v.username_env, "password_env": v.password_env}
            for k, v in site.inventory.credentials.items()
        },
    }
    return yaml.safe_dump(document)


async def _run_child_until_frozen(config: Path, timeout: float = 30.0) -> str:
    """Start the child, wait for FROZEN, SIGKILL it; returns what it printed last."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CHILD),
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    last = ""
    try:
        async with asyncio.timeout(timeout):
            assert proc.stdout is not None
            while True:
                line = (await proc.stdout.readline()).decode().strip()
                if not line:
                    break
                last = line
                if line.startswith(("FROZEN", "FINISHED")):
                    break
    except TimeoutError:
        last = "TIMEOUT"
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
        await proc.wait()
    if not last.startswith("FROZEN"):
        assert proc.stderr is not None
        err = (await proc.stderr.read()).decode()[-2000:]
        last += " | " + err
    return last


@pytest.mark.slow
async def test_killed_at_every_step_then_recovered(tmp_path: Path) -> None:
    trials = [(platform, step) for platform in ("aireos", "iosxe") for step in STEPS]
    entries = []
    for i, (platform, step) in enumerate(trials):
        make = aireos if platform == "aireos" else iosxe
        # Slower downloads so that a run killed while waiting still has APs downloading.
        entries.append(make(f"k{i}-{step.replace('_', '-')}", site=f"site-{i}", download_seconds=300))
    report: list[str] = []
    async with simulated_site(tmp_path, *entries) as site, await Store.open(site.settings.db) as store:
        # The AP wait outlasts all 18 trials even on a loaded machine: a run killed while waiting
        # must still be inside its approved wait when recovery looks (else it is rightly undone).
        params = {**FAST_PARAMS, "wait_timeout_seconds": 90}
        config = fast_config(site, param_overrides=params)
        service = RemediationService(store, site.inventory, config, site.environ)
        before = {e["name"]: ntp_config(site.sim.controllers[e["name"]]) for e in entries}
        inventory_text = _inventory_yaml(site)
        semaphore = asyncio.Semaphore(CONCURRENT_CHILDREN)

        async def kill_trial(index: int) -> tuple[int, str]:
            _, step = trials[index]
            view = await service.create_request(f"site-{index}", None, REQUESTER, "C0DEMO0001")
            await service.vote(view.id, voter(APPROVER_1), approve=True)
            assert (await service.vote(view.id, voter(APPROVER_2), approve=True)).approved_now
            cfg = {
                "db": str(site.settings.db),
                "inventory": inventory_text,
                "environ": site.environ,
                "known_hosts": str(site.known_hosts),
                "approvers": sorted(config.policy.approvers),
                "params": params,
                "request_id": view.id,
                "freeze": {
                    "step": step,
                    "after_commands": 0 if step in NO_COMMANDS else 1,
                    "changes_only": step in CHANGING,
                },
            }
            path = tmp_path / f"child-{index}.json"
            path.write_text(json.dumps(cfg), encoding="utf-8")
            async with semaphore:
                last = await _run_child_until_frozen(path)
            return view.id, last

        killed = await asyncio.gather(*(kill_trial(i) for i in range(len(trials))))
        interrupted = await store.read(q.unfinished_runs)
        recovered = await service.recover()
        by_run = {r.run_id: r for r in recovered}
        failures = 0
        for index, ((platform, step), (request_id, last)) in enumerate(zip(trials, killed, strict=True)):
            name = entries[index]["name"]
            problems: list[str] = []
            if not last.startswith(f"FROZEN {step}"):
                problems.append(f"child did not freeze: {last}")
            problems += device_problems(site.sim.controllers[name], before[name])
            runs = await store.read(q.runs_for_request, request_id)
            if len(runs) != 1:
                problems.append(f"{len(runs)} runs")
            else:
                run = runs[0]
                result = by_run.get(run.id)
                expected = "resumed" if step in RESUMED else "undone"
                if result is None:
                    problems.append("recovery did not see the run")
                elif result.decision != expected:
                    problems.append(f"recovery {result.decision}, expected {expected} ({result.reason})")
                want = "succeeded" if step in RESUMED else "failed"
                if run.status != want:
                    problems.append(f"run {run.status} ({run.outcome})")
                recorded = await store.read(q.get_recorded, run.id)
                if step != "record" and (recorded is None or recorded.verified_at is None):
                    problems.append("the recorded configuration was not verified")
            view = await service.request_view(request_id)
            if view.status not in (RequestStatus.SUCCEEDED, RequestStatus.FAILED):
                problems.append(f"request {view.status}")
            failures += bool(problems)
            outcome = by_run[runs[0].id].decision if runs and runs[0].id in by_run else "?"
            report.append(
                f"{platform:6} killed in {step:15} -> {outcome:8} "
                f"{'OK' if not problems else 'FAIL: ' + '; '.join(problems)}"
            )
        assert len(interrupted) == len(trials)
        assert await store.read(q.unfinished_runs) == []
    report.append(f"kill/restart: {len(trials)} trials (9 steps x 2 platforms), {failures} failures")
    text = "\n".join(report)
    (tmp_path / "kill_report.txt").write_text(text + "\n", encoding="utf-8")
    print("\n" + text)
    assert failures == 0, text


def _run(
    status: str, states: list[str], actions: list[str], started: datetime | None = None, timeout: float = 60
) -> q.RunRow:
    steps = tuple(
        q.StepRow(i, a, a, a, False, None, s, started if s != "pending" else None, None, None, 1, {}, None)
        for i, (a, s) in enumerate(zip(actions, states, strict=True))
    )
    plan = {
        "steps": [
            {"id": a, "action": a, "args": {"timeout_seconds": {"$param": "wait_timeout_seconds"}}} for a in actions
        ]
    }
    return q.RunRow(
        1,
        1,
        "wlc",
        "site",
        "aireos",
        "h",
        22,
        {},
        "pb",
        plan,
        {"wait_timeout_seconds": timeout},
        status,
        datetime.now(UTC),
        None,
        None,
        None,
        (),
        steps,
    )


def test_decide_resumes_only_safe_points() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    actions = ["capture_time_config", "delete_ntp_servers", "set_clock", "wait_for_aps", "restore_ntp_servers"]
    waiting = _run("running", ["done", "done", "done", "running", "pending"], actions, now - timedelta(seconds=10))
    assert decide(waiting, now)[:2] == ("resume", 3)
    late = _run("running", ["done", "done", "done", "running", "pending"], actions, now - timedelta(seconds=61))
    assert decide(late, now)[0] == "undo"
    mid_delete = _run("running", ["done", "running", "pending", "pending", "pending"], actions, now)
    assert decide(mid_delete, now)[0] == "undo"
    restoring = _run("running", ["done", "done", "done", "done", "running"], actions, now)
    assert decide(restoring, now)[:2] == ("resume", 4)
    assert decide(_run("undoing", ["done", "done", "failed", "pending", "pending"], actions, now), now)[0] == "undo"
    assert decide(_run("pending", ["pending"] * 5, actions), now)[0] == "undo"
    finished = _run("running", ["done"] * 5, actions, now)
    assert decide(finished, now)[:2] == ("resume", 5)


def test_decide_follows_the_actions_declared_after_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new step says what a crash at it means (`ActionSpec.after_crash`); recovery obeys, unchanged."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    finishing = replace(ACTIONS["save_config"], name="tidy_up", after_crash=AfterCrash.FINISH)
    waiting = replace(ACTIONS["wait_for_aps"], name="wait_for_noc", during="waiting for the NOC")
    monkeypatch.setitem(ACTIONS, finishing.name, finishing)
    monkeypatch.setitem(ACTIONS, waiting.name, waiting)
    actions = ["capture_time_config", "delete_ntp_servers", "wait_for_noc", "restore_ntp_servers", "tidy_up"]
    at_tidy = _run("running", ["done", "done", "done", "done", "running"], actions, now)
    assert decide(at_tidy, now)[:2] == ("resume", 4)
    in_wait = _run("running", ["done", "done", "running", "pending", "pending"], actions, now - timedelta(seconds=10))
    decision, index, why = decide(in_wait, now)
    assert (decision, index) == ("resume", 2) and "waiting for the NOC" in why
    undone = replace(finishing, after_crash=AfterCrash.UNDO)
    monkeypatch.setitem(ACTIONS, finishing.name, undone)
    assert decide(at_tidy, now)[0] == "undo"
