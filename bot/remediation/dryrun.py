"""Dry-run: every command a playbook would send, and what would change, before anyone approves.

Approvers approve what they see, so the request message shows the exact
lines (built by the same actions and templates the run uses) and the
current versus proposed clock and NTP configuration. Nothing here talks to a
device: it works from a fresh snapshot the service just read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.controllers.platforms import registry
from bot.domain.models import ClockReading, ControllerSnapshot, PlatformName
from bot.domain.utc_offset import infer_offset, to_local
from bot.remediation.actions import ACTIONS
from bot.remediation.platform_ops import ops_for
from bot.remediation.playbook_loader import Playbook, resolve_args
from bot.remediation.steps import PlanContext, PlannedCommand


@dataclass(frozen=True)
class DryRun:
    """What a run of `playbook` on one controller would do."""

    controller: str
    platform: PlatformName
    commands: tuple[PlannedCommand, ...]
    current_clock: datetime | None
    current_clock_source: str
    proposed_clock: datetime | None  # UTC
    proposed_local: datetime | None
    utc_offset: timedelta | None
    current_ntp: tuple[str, ...]
    ntp_during: tuple[str, ...]
    ntp_after: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def lines(self) -> list[str]:
        """Every command that would be sent, in order (reads included)."""
        return [c.command for c in self.commands]

    @property
    def changes(self) -> list[str]:
        """Only the commands that change the controller."""
        return [c.command for c in self.commands if c.changes]


def snapshot_offset(clock: ClockReading | None, platform: PlatformName, now: datetime) -> tuple[timedelta | None, str]:
    """The controller's UTC offset as a poll saw it (its platform knows where the zone was printed)."""
    if clock is None:
        return None, "clock not read"
    printed = registry.get(platform).printed_utc_offset(clock)
    if printed is not None:
        return printed, "time zone"
    if clock.synced:
        return infer_offset(clock.time, now), "inferred from the NTP-synced clock"
    return None, "unknown"


def dry_run(
    playbook: Playbook, snapshot: ControllerSnapshot, params: Mapping[str, Any], now: datetime | None = None
) -> DryRun:
    """Every command `playbook` would send to the controller of `snapshot`, with `params` (resolved)."""
    now = now or datetime.now(UTC)
    ops = ops_for(playbook.platform)
    offset, _ = snapshot_offset(snapshot.clock, playbook.platform, now)
    ctx = PlanContext(
        platform=playbook.platform,
        ops=ops,
        ntp_servers=tuple(snapshot.ntp_servers),
        utc_offset=offset,
        software_version=snapshot.software_version,
        params=params,
        now=now,
    )
    commands: list[PlannedCommand] = []
    for step in playbook.steps:
        args = resolve_args(step.args, params)
        for planned in ACTIONS[step.action].plan(ctx, args):
            commands.append(PlannedCommand(step.id, planned.command, planned.changes, planned.note))
    target = params.get("target")
    proposed = target if isinstance(target, datetime) else None
    current = snapshot.clock.time if snapshot.clock else None
    servers = tuple(ops.describe(s) for s in snapshot.ntp_servers)
    notes = list(ctx.notes)
    if offset is None:
        notes.append("the controller's UTC offset is unknown: the run reads it again before any change")
    return DryRun(
        controller=snapshot.name,
        platform=playbook.platform,
        commands=tuple(commands),
        current_clock=current,
        current_clock_source=snapshot.clock.source.value if snapshot.clock else "unknown",
        proposed_clock=proposed,
        proposed_local=to_local(proposed, offset) if proposed is not None and offset is not None else None,
        utc_offset=offset,
        current_ntp=servers,
        ntp_during=(),
        ntp_after=servers,
        notes=tuple(notes),
    )
