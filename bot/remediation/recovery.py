"""After a crash: find interrupted runs and bring their controllers back to a known state.

Call `recover(...)` once at start-up, before the bot accepts new runs. Every
run left `pending`, `running`, `undoing` or `needs_attention` is reported
(listener event) and then:

* **resumed** when that is safe and still useful: it was in a bounded wait
  (an action whose `after_crash` is `WAIT_OUT`, e.g. `wait_for_aps`) with
  every earlier step done and the original deadline not passed (the wait
  keeps its first start time, so it never waits longer than approved), or it
  was already putting things back (`FINISH`: `restore_ntp_servers`,
  `save_config`, `verify_clock_current`), which only moves the controller
  towards its recorded state;
* **undone** otherwise: every changing step that started is undone in
  reverse order from the recorded configuration, then verified.

The recorded NTP configuration is never deleted: the store refuses to delete
it until a run verified it on the device, and recovery only ever reads it.
A run whose controller cannot be reached stays `needs_attention`, and the
next `recover` tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.controllers.session import ControllerSession, SessionOptions
from bot.domain.advisory_data import Advisory
from bot.remediation.actions import ACTIONS
from bot.remediation.device import SessionFactory
from bot.remediation.engine import (
    Engine,
    FenceSource,
    Now,
    ProgressListener,
    RetryPolicy,
    RunEvent,
    RunInfo,
    RunOutcome,
    Sleep,
    utc_now,
)
from bot.remediation.steps import AfterCrash
from bot.store import Store
from bot.store import remediation as q

#: A playbook parameter older runs named their wait's length by (before each step's args
#: carried it); still read when the step's own `timeout_seconds` is missing.
LEGACY_WAIT_PARAMETER = "wait_timeout_seconds"


@dataclass(frozen=True)
class RecoveryResult:
    run_id: int
    controller: str
    decision: str  # resumed | undone | nothing_to_do
    reason: str
    outcome: RunOutcome | None


def decide(run: q.RunRow, now: datetime) -> tuple[str, int, str]:
    """(decision, step index to resume from, why) for one interrupted run. Pure, for tests."""
    if run.status in ("undoing", "needs_attention"):
        return "undo", 0, f"the run was {run.status.replace('_', ' ')}: undoing again from the recorded configuration"
    if run.status == "pending":
        return "undo", 0, "the run was created but never started"
    steps = run.steps
    k = next((s.idx for s in steps if s.state != "done"), len(steps))
    if k == len(steps):
        return "resume", k, "every step had finished; only the final status was missing"
    step = steps[k]
    spec = ACTIONS.get(step.action)
    after_crash = spec.after_crash if spec is not None else AfterCrash.UNDO
    if after_crash is AfterCrash.WAIT_OUT:
        assert spec is not None
        doing = spec.during or f"at '{step.step_id}'"
        timeout = float(run.params.get(LEGACY_WAIT_PARAMETER) or 0)
        planned: dict[str, Any] = next((s for s in run.plan.get("steps", []) if s["id"] == step.step_id), {})
        wait_args = planned.get("args", {})
        ref = wait_args.get("timeout_seconds")
        if isinstance(ref, dict) and "$param" in ref:
            timeout = float(run.params.get(ref["$param"]) or 0)
        elif isinstance(ref, int | float):
            timeout = float(ref)
        started = step.started_at or now
        deadline = started + timedelta(seconds=timeout)
        if now < deadline:
            left = (deadline - now).total_seconds()
            why = f"it was {doing}: resuming the wait within the original deadline ({left:.0f} s left)"
            return "resume", k, why
        return "undo", 0, f"it was {doing} and the approved wait is over: undoing the time-back"
    if after_crash is AfterCrash.FINISH:
        return "resume", k, f"it was at '{step.step_id}' (putting things back): finishing the playbook"
    return "undo", 0, f"it was interrupted at '{step.step_id}' ({step.state}): undoing every change"


async def recover(
    store: Store,
    *,
    environ: Mapping[str, str] | None,
    session_options: SessionOptions,
    listener: ProgressListener | None = None,
    retry: RetryPolicy | None = None,
    advisory: Advisory | None = None,
    now: Now = utc_now,
    sleep: Sleep = asyncio.sleep,
    session_factory: SessionFactory = ControllerSession,
    fence: FenceSource | None = None,
    instance: str | None = None,
) -> list[RecoveryResult]:
    """Handle every interrupted run (concurrently, one task per controller); returns what was done.

    `instance` (this bot, the leader) first claims every interrupted run, so the instance that
    drove them before, if it still runs somewhere, is fenced out of them (`q.check_fence`).
    """
    engine = Engine(
        store,
        environ=environ,
        session_options=session_options,
        listener=listener,
        retry=retry,
        advisory=advisory,
        now=now,
        sleep=sleep,
        session_factory=session_factory,
        fence=fence,
    )
    runs = await store.read(q.unfinished_runs)
    if instance is not None and runs:
        await store.write(q.claim_runs, [r.id for r in runs], instance, now())

    async def one(run: q.RunRow) -> RecoveryResult:
        decision, start, why = decide(run, now())
        info = RunInfo(run.id, run.request_id, run.controller, run.site, run.platform, run.playbook)
        text = f"recovering run #{run.id} on {run.controller} {_after(run, instance)}: {why}"
        await store.write(
            q.append_audit,
            now(),
            "recovery",
            text,
            request_id=run.request_id,
            run_id=run.id,
            controller=run.controller,
            data={"decision": decision, "from_step": start},
        )
        if listener is not None:
            with contextlib.suppress(Exception):  # a chat outage must not stop recovery
                await listener.event(info, RunEvent("warning", text, now()))
        if decision == "resume":
            outcome = await engine.execute(run.id, start)
            result = RecoveryResult(run.id, run.controller, "resumed", why, outcome)
        else:
            outcome = await engine.undo_run(run.id, f"interrupted ({why})")
            result = RecoveryResult(run.id, run.controller, "undone", why, outcome)
        if run.request_id is not None:
            await settle_request(store, run.request_id, now())
        return result

    return list(await asyncio.gather(*(one(r) for r in runs)))


def _after(run: q.RunRow, instance: str | None) -> str:
    """Why the run is being recovered, in words: a restart, or another instance taking it over."""
    if instance is not None and run.claimed_by is not None and run.claimed_by != instance:
        return f"after {run.claimed_by} stopped ({instance} leads now and takes it over)"
    return "after a restart"


async def settle_request(store: Store, request_id: int, at: datetime) -> str | None:
    """Set a request's status from its runs once none is active; returns the new status (or None)."""
    runs = await store.read(q.runs_for_request, request_id)
    if not runs or any(r.status in q.ACTIVE_RUN for r in runs):
        return None
    statuses = {r.status for r in runs}
    if "needs_attention" in statuses:
        status = "needs_attention"
    elif "failed" in statuses:
        status = "failed"
    else:
        status = "succeeded"
    notes = "; ".join(f"{r.controller}: {r.outcome}" for r in runs if r.outcome)
    await store.write(q.set_request_status, request_id, status, at, notes or None)
    return status
