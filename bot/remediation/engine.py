"""Run a playbook on one controller: step by step, persisted, undone on failure.

The engine is the careful part of the bot. Its rules:

* The run's state is written to SQLite **before and after every step**
  (`remediation_run_steps`), so a crash at any instant leaves a record of
  what may have happened; `bot.remediation.recovery` picks it up.
* The NTP configuration and clock are recorded (`capture_time_config`)
  before the first change; undo and the final check work from that record.
* A lost SSH session is reopened a few times with exponential backoff and
  the step is retried (actions are written to be safe to re-run: they read
  the device first and only send what is still needed).
* A step that fails (or a session that cannot be reopened) triggers the
  undo of every changing step that started, in reverse order (NTP restored
  exactly as recorded, the clock back to the current time); the undo retries
  the connection too, longer. The run then verifies the device against the
  record: `failed` means the change failed but the controller is as it was;
  `needs_attention` means it could not be shown to be, and the report says
  what to type by hand.
* Progress goes to a `ProgressListener` (the chat renders it); a listener
  that raises never disturbs the run.
* Cancellation (the bot shutting down) is not a failure: the run stays
  `running` in the database and recovery handles it at the next start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.controllers.session import ControllerSession, SessionError, SessionOptions
from bot.domain.advisory_data import Advisory
from bot.domain.advisory_file import load_advisory
from bot.domain.utc_offset import to_local
from bot.inventory import Controller, Credentials
from bot.remediation.actions import ACTIONS
from bot.remediation.commands import Command, CommandValueError
from bot.remediation.device import RETRYABLE_KINDS, ChangeRefused, DeviceLink, ReadFailed, SessionFactory
from bot.remediation.platform_ops import ops_for
from bot.remediation.playbook_loader import (
    ParamRef,
    StepSpec,
    check_value,
    parse_datetime,
    resolve_args,
    steps_from_plan,
)
from bot.remediation.recorded_config import RecordedConfig
from bot.remediation.redact import redact
from bot.remediation.steps import ActionFailed, ActionSpec, StepContext, StepResult
from bot.store import Store
from bot.store import remediation as q
from bot.store.codec import short_error

log = logging.getLogger(__name__)

Now = Callable[[], datetime]
# What a device-changing step must still hold (`q.Fence`), asked just before each step starts;
# it raises `q.FencedOut` itself when this instance no longer leads.
FenceSource = Callable[[], q.Fence | None]
Sleep = Callable[[float], Awaitable[None]]


def utc_now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------------
# Progress reporting
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunInfo:
    run_id: int
    request_id: int | None
    controller: str
    site: str | None
    platform: str
    playbook: str


@dataclass(frozen=True)
class StepInfo:
    index: int
    step_id: str
    title: str
    action: str
    state: str  # running | done | failed | undoing | undone | undo_failed
    started_at: datetime | None = None
    duration_seconds: float | None = None
    summary: str | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    undo: bool = False


@dataclass(frozen=True)
class RunEvent:
    level: str  # info | ok | warning | danger
    text: str
    at: datetime
    step_id: str | None = None


class ProgressListener(Protocol):
    """What the chat implements to show a run: a progress list and notable events."""

    async def step_started(self, run: RunInfo, step: StepInfo) -> None: ...

    async def step_finished(self, run: RunInfo, step: StepInfo) -> None: ...

    async def event(self, run: RunInfo, event: RunEvent) -> None: ...


class NullListener:
    async def step_started(self, run: RunInfo, step: StepInfo) -> None:
        return None

    async def step_finished(self, run: RunInfo, step: StepInfo) -> None:
        return None

    async def event(self, run: RunInfo, event: RunEvent) -> None:
        return None


class RecordingListener:
    """Keeps everything it hears (tests, the console, the CLI)."""

    def __init__(self) -> None:
        self.started: list[tuple[RunInfo, StepInfo]] = []
        self.finished: list[tuple[RunInfo, StepInfo]] = []
        self.events: list[tuple[RunInfo, RunEvent]] = []

    async def step_started(self, run: RunInfo, step: StepInfo) -> None:
        self.started.append((run, step))

    async def step_finished(self, run: RunInfo, step: StepInfo) -> None:
        self.finished.append((run, step))

    async def event(self, run: RunInfo, event: RunEvent) -> None:
        self.events.append((run, event))


# ---------------------------------------------------------------------------
# Outcomes and policy
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try to reach the controller again before giving up on a step (or an undo)."""

    attempts: int = 4
    undo_attempts: int = 8
    base_delay: float = 2.0
    max_delay: float = 60.0

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * (2**attempt))


@dataclass(frozen=True)
class RunOutcome:
    run_id: int
    controller: str
    status: str  # succeeded | failed | needs_attention
    summary: str
    warnings: tuple[str, ...] = ()
    failed_step: str | None = None
    manual_steps: tuple[str, ...] = ()


class StepFailure(Exception):
    """A step (or undo) that cannot complete; `reason` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Run:
    row: q.RunRow
    info: RunInfo
    steps: tuple[StepSpec, ...]
    params: dict[str, Any]
    controller: Controller
    link: DeviceLink
    record: RecordedConfig | None
    results: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    current_step: str | None = None


# ---------------------------------------------------------------------------
# Parameters as stored
# ---------------------------------------------------------------------------


def encode_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}


def decode_params(params: Mapping[str, Any], types: Mapping[str, str]) -> dict[str, Any]:
    out = dict(params)
    for name, kind in types.items():
        if kind == "datetime" and name in out:
            out[name] = parse_datetime(out[name])
    return out


def controller_of(row: q.RunRow) -> Controller:
    """The controller as the run recorded it (host, port, names of credential variables)."""
    creds = row.credentials
    return Controller(
        name=row.controller,
        host=row.host,
        port=row.port,
        platform=row.platform,
        credentials=Credentials(creds.get("key", "run"), creds["username_env"], creds["password_env"]),
        site=row.site or "",
    )


async def create_run(
    store: Store,
    *,
    controller: Controller,
    playbook_plan: Mapping[str, Any],
    params: Mapping[str, Any],
    request_id: int | None = None,
    now: datetime | None = None,
    claimed_by: str | None = None,
) -> int:
    """Persist a pending run of a playbook plan (`Playbook.to_plan()`) on one controller,
    claimed by the instance `claimed_by` (the leader that drives it)."""
    plan = dict(playbook_plan)
    plan["steps"] = [{**s, "changes": ACTIONS[s["action"]].changes_device} for s in plan["steps"]]
    return await store.write(
        q.create_run,
        request_id=request_id,
        controller=controller.name,
        site=controller.site,
        platform=controller.platform,
        host=controller.host,
        port=controller.port,
        credentials={
            "key": controller.credentials.key,
            "username_env": controller.credentials.username_env,
            "password_env": controller.credentials.password_env,
        },
        playbook=str(plan["name"]),
        plan=plan,
        params=encode_params(params),
        created_at=now or utc_now(),
        claimed_by=claimed_by,
    )


# ---------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------


class Engine:
    """Executes persisted runs. One engine may run many runs concurrently (one task each)."""

    def __init__(
        self,
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
        clock_tolerance_seconds: float = 120.0,
        fence: FenceSource | None = None,
    ) -> None:
        self.store = store
        # Active/standby: every step (and undo) re-checks the lead and the run's claim in the
        # transaction that marks it started; `q.FencedOut` stops the run where it is, for the
        # instance that now leads to recover (nothing is undone from here).
        self.fence: FenceSource = fence or (lambda: None)
        self.environ = environ
        self.session_options = session_options
        self.listener: ProgressListener = listener or NullListener()
        self.retry = retry or RetryPolicy()
        self.advisory = advisory or load_advisory()
        self.now = now
        self.sleep = sleep
        self.session_factory = session_factory
        self.clock_tolerance = timedelta(seconds=clock_tolerance_seconds)

    # --- public entry points ---------------------------------------------------------------------

    async def execute(self, run_id: int, start_index: int = 0) -> RunOutcome:
        """Run the steps from `start_index` (0 for a fresh run; later when recovery resumes)."""
        run = await self._load(run_id)
        if run.row.status not in ("pending", "running"):
            await run.link.close()
            raise ValueError(f"run #{run_id} is {run.row.status}: it cannot be executed again")
        try:
            await self.store.write(
                q.set_run_status,
                run_id,
                "running",
                self.now(),
                audit_text=f"run #{run_id} started at step {start_index + 1}",
            )
            for idx in range(start_index, len(run.steps)):
                failure = await self._step(run, idx)
                if failure is not None:
                    return await self._undo(run, f"step '{run.steps[idx].id}' failed: {failure}", run.steps[idx].id)
            return await self._finish_success(run)
        finally:
            await run.link.close()

    async def undo_run(self, run_id: int, reason: str) -> RunOutcome:
        """Undo every changing step that started, then verify against the record (recovery uses this)."""
        run = await self._load(run_id)
        try:
            return await self._undo(run, reason, None)
        finally:
            await run.link.close()

    # --- loading ---------------------------------------------------------------------------------

    async def _load(self, run_id: int) -> _Run:
        row = await self.store.read(q.get_run, run_id)
        types = row.plan.get("parameters", {})
        params = decode_params(row.params, types)
        steps = steps_from_plan(row.plan)
        recorded = await self.store.read(q.get_recorded, run_id)
        record = RecordedConfig.from_dict(recorded.config) if recorded else None
        controller = controller_of(row)
        info = RunInfo(row.id, row.request_id, row.controller, row.site, row.platform, row.playbook)
        link = DeviceLink(controller, self.environ, self.session_options, None, self.session_factory)
        run = _Run(row, info, steps, params, controller, link, record)
        link.on_command = self._command_hook(run)
        run.results = {s.step_id: s.result for s in row.steps if s.state == "done"}
        return run

    def _command_hook(self, run: _Run) -> Callable[[Command, Any, str | None], Awaitable[None]]:
        async def hook(command: Command, output: Any, error: str | None) -> None:
            data: dict[str, Any] = {"changes": command.changes, "purpose": command.purpose}
            if output is not None:
                data.update(output=redact(output.text), failed=output.failed, elapsed=round(output.elapsed, 3))
            if error is not None:
                data["error"] = error
            await self.store.write(
                q.append_audit,
                self.now(),
                "command",
                redact(command.text),
                request_id=run.info.request_id,
                run_id=run.info.run_id,
                controller=run.info.controller,
                step=run.current_step,
                data=data,
            )

        return hook

    # --- listener calls that can never break a run -----------------------------------------------

    async def _tell(self, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        try:
            await fn(*args)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("progress listener failed (ignored)")

    async def _event(self, run: _Run, level: str, text: str) -> None:
        event = RunEvent(level, text, self.now(), run.current_step)
        await self.store.write(
            q.append_audit,
            event.at,
            f"event_{level}",
            text,
            request_id=run.info.request_id,
            run_id=run.info.run_id,
            controller=run.info.controller,
            step=run.current_step,
        )
        await self._tell(self.listener.event, run.info, event)

    # --- one step --------------------------------------------------------------------------------

    def _context(self, run: _Run, step_id: str, started_at: datetime) -> StepContext:
        async def save_record(record: RecordedConfig) -> None:
            await self.store.write(q.save_recorded, run.info.run_id, record.to_dict(), self.now())
            stored = await self.store.read(q.get_recorded, run.info.run_id)
            if stored is None:
                raise ActionFailed("the recorded configuration could not be stored: refusing to change anything")
            run.record = RecordedConfig.from_dict(stored.config)

        async def save_params(update: Mapping[str, Any]) -> None:
            run.params.update(update)
            await self.store.write(q.set_run_params, run.info.run_id, encode_params(run.params))

        async def mark_verified(note: str) -> None:
            await self.store.write(q.mark_recorded_verified, run.info.run_id, self.now(), note)

        async def event(level: str, text: str) -> None:
            await self._event(run, level, text)

        return StepContext(
            run_id=run.info.run_id,
            step_id=step_id,
            controller=run.controller,
            ops=ops_for(run.controller.platform),
            link=run.link,
            params=run.params,
            record=run.record,
            advisory=self.advisory,
            step_started_at=started_at,
            now=self.now,
            sleep=self.sleep,
            event=event,
            save_record=save_record,
            save_params=save_params,
            mark_verified=mark_verified,
            step_results=run.results,
        )

    def _args(self, spec: ActionSpec, args: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        """Resolve `$param` arguments and check them against the action's argument types again."""
        resolved = resolve_args(args, params)
        for name, value in list(resolved.items()):
            arg = spec.args.get(name)
            if arg is None:
                raise StepFailure(f"argument '{name}' is not one {spec.name} takes")
            try:
                resolved[name] = check_value(arg, value)
            except ValueError as exc:
                raise StepFailure(f"argument '{name}': {exc}") from None
        return resolved

    async def _attempt(
        self, run: _Run, ctx: StepContext, spec: ActionSpec, args: Mapping[str, Any], attempts: int
    ) -> StepResult:
        """Run an action, reopening a lost session with backoff up to `attempts` times."""
        for attempt in range(attempts):
            try:
                await run.link.open()
                ctx.record = run.record
                return await spec.run(ctx, args)
            except SessionError as exc:
                await run.link.drop()
                if exc.kind not in RETRYABLE_KINDS:
                    raise StepFailure(exc.message) from None
                if attempt + 1 >= attempts:
                    raise StepFailure(f"{exc.message}; gave up after {attempts} attempts") from None
                delay = self.retry.delay(attempt)
                await self._event(
                    run, "warning", f"{exc.message}: reconnecting in {delay:g} s (attempt {attempt + 2} of {attempts})"
                )
                await self.sleep(delay)
            except ActionFailed as exc:
                raise StepFailure(exc.reason) from None
            except (ChangeRefused, ReadFailed, CommandValueError) as exc:
                raise StepFailure(str(exc)) from None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("action %s failed unexpectedly", spec.name)
                raise StepFailure(f"unexpected error: {short_error(exc)}") from None
        raise StepFailure("no attempt was made")  # attempts < 1

    async def _step(self, run: _Run, idx: int) -> str | None:
        """Run step `idx`; None when done, the failure reason otherwise. State is persisted around it."""
        step = run.steps[idx]
        spec = ACTIONS[step.action]
        run.current_step = step.id
        started = await self.store.write(q.step_started, run.info.run_id, idx, self.now(), fence=self.fence())
        await self._tell(
            self.listener.step_started, run.info, StepInfo(idx, step.id, step.title, step.action, "running", started)
        )
        try:
            args = self._args(spec, step.args, run.params)
            result = await self._attempt(run, self._context(run, step.id, started), spec, args, self.retry.attempts)
        except StepFailure as failure:
            row = await self.store.write(
                q.step_finished, run.info.run_id, idx, "failed", self.now(), error=failure.reason
            )
            await self._tell(
                self.listener.step_finished,
                run.info,
                StepInfo(
                    idx, step.id, step.title, step.action, "failed", started, row.duration_seconds, error=failure.reason
                ),
            )
            await self._event(run, "danger", f"{step.title}: {failure.reason}")
            return failure.reason
        data = {"summary": result.summary, **dict(result.data), "warnings": list(result.warnings)}
        row = await self.store.write(
            q.step_finished, run.info.run_id, idx, "done", self.now(), result=data, summary=result.summary
        )
        run.results[step.id] = data
        await self._tell(
            self.listener.step_finished,
            run.info,
            StepInfo(
                idx,
                step.id,
                step.title,
                step.action,
                "done",
                started,
                row.duration_seconds,
                summary=result.summary,
                warnings=result.warnings,
            ),
        )
        for warning in result.warnings:
            run.warnings.append(warning)
            await self._event(run, "warning", warning)
        return None

    async def _finish_success(self, run: _Run) -> RunOutcome:
        summary = f"{run.info.playbook} completed on {run.info.controller}"
        if run.warnings:
            summary += f" with {len(run.warnings)} warning(s)"
        await self.store.write(
            q.set_run_status, run.info.run_id, "succeeded", self.now(), outcome=summary, warnings=run.warnings
        )
        await self._event(run, "ok", summary)
        return RunOutcome(run.info.run_id, run.info.controller, "succeeded", summary, tuple(run.warnings))

    # --- undo ------------------------------------------------------------------------------------

    async def _undo(self, run: _Run, reason: str, failed_step: str | None) -> RunOutcome:
        rows = (await self.store.read(q.get_run, run.info.run_id)).steps
        started_changes = [r for r in rows if r.changes and r.state != "pending" and r.state != "undone"]
        if run.record is None or not started_changes:
            note = "nothing had been changed on the controller"
            if run.record is not None:
                await self.store.write(
                    q.mark_recorded_verified, run.info.run_id, self.now(), "no change was made before the run stopped"
                )
            outcome = f"{reason}; {note}"
            await self.store.write(
                q.set_run_status, run.info.run_id, "failed", self.now(), outcome=outcome, warnings=run.warnings
            )
            await self._event(run, "warning", outcome)
            return RunOutcome(run.info.run_id, run.info.controller, "failed", outcome, tuple(run.warnings), failed_step)

        await self.store.write(q.set_run_status, run.info.run_id, "undoing", self.now(), audit_text=reason)
        await self._event(run, "warning", f"{reason}. Undoing {len(started_changes)} change(s) in reverse order.")
        undo_failures: list[str] = []
        by_index = {i: s for i, s in enumerate(run.steps)}
        for row in sorted(started_changes, key=lambda r: r.idx, reverse=True):
            step = by_index[row.idx]
            if step.undo is None:  # the loader refuses this; a stored plan could still lack one
                undo_failures.append(f"'{step.id}' has no undo")
                continue
            spec = ACTIONS[step.undo.action]
            run.current_step = step.id
            started = await self.store.write(
                q.step_started, run.info.run_id, row.idx, self.now(), state="undoing", fence=self.fence()
            )
            await self._tell(
                self.listener.step_started,
                run.info,
                StepInfo(row.idx, step.id, step.title, spec.name, "undoing", started, undo=True),
            )
            try:
                args = self._args(spec, step.undo.args, run.params)
                result = await self._attempt(
                    run, self._context(run, step.id, self.now()), spec, args, self.retry.undo_attempts
                )
            except StepFailure as failure:
                undo_failures.append(f"undo of '{step.id}' ({spec.name}): {failure.reason}")
                done = await self.store.write(
                    q.step_finished, run.info.run_id, row.idx, "undo_failed", self.now(), error=failure.reason
                )
                await self._tell(
                    self.listener.step_finished,
                    run.info,
                    StepInfo(
                        row.idx,
                        step.id,
                        step.title,
                        spec.name,
                        "undo_failed",
                        started,
                        done.duration_seconds,
                        error=failure.reason,
                        undo=True,
                    ),
                )
                await self._event(run, "danger", f"undo of {step.title} failed: {failure.reason}")
                continue
            done = await self.store.write(
                q.step_finished,
                run.info.run_id,
                row.idx,
                "undone",
                self.now(),
                result={"summary": result.summary, **dict(result.data)},
                summary=result.summary,
            )
            await self._tell(
                self.listener.step_finished,
                run.info,
                StepInfo(
                    row.idx,
                    step.id,
                    step.title,
                    spec.name,
                    "undone",
                    started,
                    done.duration_seconds,
                    summary=result.summary,
                    undo=True,
                ),
            )
        run.current_step = None
        return await self._verify_after_undo(run, reason, failed_step, undo_failures)

    async def _verify_after_undo(
        self, run: _Run, reason: str, failed_step: str | None, undo_failures: list[str]
    ) -> RunOutcome:
        """Verify the device against the record like the playbook's last step (waiting for NTP to sync,
        setting the clock by hand if it does not); `failed` (restored) or `needs_attention`."""
        assert run.record is not None
        record = run.record
        problems: list[str] = list(undo_failures)
        spec = next(s for s in ACTIONS.values() if s.verifies_original)
        planned = next((s for s in run.steps if s.action == spec.name), None)
        try:
            args = self._args(spec, planned.args, run.params) if planned is not None else {}
            run.current_step = planned.id if planned is not None else None
            result = await self._attempt(
                run, self._context(run, "verify_after_undo", self.now()), spec, args, self.retry.undo_attempts
            )
            for warning in result.warnings:
                run.warnings.append(warning)
                await self._event(run, "warning", warning)
        except StepFailure as failure:
            problems.append(f"the final check failed: {failure.reason}")
        run.current_step = None

        if not problems:
            outcome = f"{reason}; every change was undone and the controller is as recorded"
            await self.store.write(
                q.set_run_status, run.info.run_id, "failed", self.now(), outcome=outcome, warnings=run.warnings
            )
            await self._event(run, "warning", outcome)
            return RunOutcome(run.info.run_id, run.info.controller, "failed", outcome, tuple(run.warnings), failed_step)

        manual = manual_restore_steps(record, self.now())
        outcome = (
            f"{reason}; the controller could NOT be shown to be as recorded: "
            + "; ".join(problems)
            + ". Restore by hand: "
            + " / ".join(manual)
        )
        await self.store.write(
            q.set_run_status, run.info.run_id, "needs_attention", self.now(), outcome=outcome, warnings=run.warnings
        )
        await self._event(run, "danger", outcome)
        return RunOutcome(
            run.info.run_id,
            run.info.controller,
            "needs_attention",
            outcome,
            tuple(run.warnings),
            failed_step,
            tuple(manual),
        )


def manual_restore_steps(record: RecordedConfig, now: datetime) -> list[str]:
    """The commands a person would type to put NTP and the clock back (from the record)."""
    ops = ops_for(record.platform)
    commands = [c.text for c in ops.wrap_config(ops.restore_commands(record.ntp_servers, ()))]
    commands.append(ops.clock_command(to_local(now, record.utc_offset)).text + "  (with the current time)")
    commands.append(ops.save_command().text)
    return commands


__all__ = [
    "Engine",
    "NullListener",
    "ParamRef",
    "ProgressListener",
    "RecordingListener",
    "RetryPolicy",
    "RunEvent",
    "RunInfo",
    "RunOutcome",
    "StepInfo",
    "create_run",
    "manual_restore_steps",
]
