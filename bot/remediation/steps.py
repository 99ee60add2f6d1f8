"""What an action is, and what it runs in: specs, results, and the step and plan contexts.

A remediation action is a pair of functions (run it on a device, or say what it
would send) with a spec the playbook loader checks arguments against. The
engine builds a `StepContext` for a run and the dry-run a `PlanContext`; both
reach the controller's platform only through its ops (`PlatformOps`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.controllers.platforms import registry
from bot.controllers.platforms.remediation_ops import PlatformOps, TimeConfig
from bot.domain.advisory_data import Advisory
from bot.domain.models import NtpServer, PlatformName
from bot.inventory import Controller
from bot.remediation.device import DeviceLink
from bot.remediation.recorded_config import RecordedConfig


class ActionFailed(Exception):
    """A step cannot complete; `reason` is written for the operator (no secrets)."""

    def __init__(self, reason: str, data: Mapping[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.data = dict(data or {})


@dataclass(frozen=True)
class StepResult:
    summary: str
    data: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArgSpec:
    type: str  # integer | number | boolean | string | datetime
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class PlannedCommand:
    """One line a dry-run says would be sent (`changes` marks device changes)."""

    step: str
    command: str
    changes: bool
    note: str = ""


ActionRun = Callable[["StepContext", Mapping[str, Any]], Awaitable[StepResult]]
ActionPlan = Callable[["PlanContext", Mapping[str, Any]], list[PlannedCommand]]

#: In an `Order`, the action that declares the rule.
SELF = "self"


@dataclass(frozen=True)
class Order:
    """A rule of order a playbook using the declaring action must keep: `first` runs before
    `then` (either may be `SELF`), or the loader refuses the playbook with `why`.

    `required`: both actions must be in the playbook (a missing one is the same mistake as a
    wrong order, e.g. deleting NTP with no restore); otherwise the rule binds only when both
    are. `when`: the rule binds only if that action is in the playbook too.

    The rules live on the actions, so a new step brings its own safety rules and the loader
    knows no action by name.
    """

    first: str
    then: str
    why: str
    required: bool = True
    when: str | None = None


class AfterCrash(StrEnum):
    """What a restarted bot does with a run a crash stopped at a step of this action."""

    #: Put everything back from the recorded configuration (the safe default).
    UNDO = "undo"
    #: The step was already putting things back: finishing the playbook is the way back.
    FINISH = "finish"
    #: A bounded wait (its `timeout_seconds` argument): resume it within the approved
    #: deadline, counted from when the step started, else undo.
    WAIT_OUT = "wait_out"


@dataclass(frozen=True)
class ActionSpec:
    """An action as the loader, the engine, the dry run and recovery see it.

    `records` names what the action records (a playbook must run it before its first
    device change); `verifies_original` marks the check that the controller is back as
    recorded (the engine runs it after an undo too); `during` says what a run at this step
    is doing, for recovery's words.
    """

    name: str
    title: str
    changes_device: bool
    run: ActionRun
    plan: ActionPlan
    undo_actions: frozenset[str] = frozenset()
    args: Mapping[str, ArgSpec] = field(default_factory=dict)
    undo_only: bool = False
    order: tuple[Order, ...] = ()
    records: str = ""
    after_crash: AfterCrash = AfterCrash.UNDO
    during: str = ""
    verifies_original: bool = False


@dataclass
class StepContext:
    """Everything an action may use. The engine persists what the callbacks receive."""

    run_id: int
    step_id: str
    controller: Controller
    ops: PlatformOps
    link: DeviceLink
    params: dict[str, Any]
    record: RecordedConfig | None
    advisory: Advisory
    step_started_at: datetime
    now: Callable[[], datetime]
    sleep: Callable[[float], Awaitable[None]]
    event: Callable[[str, str], Awaitable[None]]  # (level, text)
    save_record: Callable[[RecordedConfig], Awaitable[None]]
    save_params: Callable[[Mapping[str, Any]], Awaitable[None]]
    mark_verified: Callable[[str], Awaitable[None]]
    step_results: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def need_record(self) -> RecordedConfig:
        if self.record is None:
            raise ActionFailed("no recorded NTP configuration for this run: refusing to change anything")
        return self.record

    async def read_time(self) -> TimeConfig:
        record = self.record
        version = record.software_version if record else None
        read = await self.link.read(self.ops.reads("time_config"), version)
        return self.ops.time_config(read, self.now(), record.utc_offset if record else None)


@dataclass
class PlanContext:
    """What a dry-run knows: the current snapshot's NTP servers and clock offset."""

    platform: PlatformName
    ops: PlatformOps
    ntp_servers: tuple[NtpServer, ...]
    utc_offset: timedelta | None
    software_version: str | None
    params: Mapping[str, Any]
    now: datetime
    notes: list[str] = field(default_factory=list)

    def planned_reads(self, step: str, purpose: str, note: str = "") -> list[PlannedCommand]:
        """The read commands of `purpose` as a dry-run lists them (placeholders shown as `<name>`)."""
        commands = registry.get(self.platform).read_commands(self.ops.reads(purpose), self.software_version)
        return [PlannedCommand(step, cmd, False, note) for _, cmd in commands]
