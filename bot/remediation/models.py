"""View models of remediation requests and runs: plain data the chat renders.

The service builds these from the store; `bot.chat.remediation_views` turns
them into `Reply` objects. The part approvers were shown (`TargetView`) is
stored with the request as JSON, so the message can be rebuilt exactly as
it was approved, whatever the controller looks like later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.approvals import RequestStatus


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class CommandView:
    step: str
    command: str
    changes: bool
    note: str = ""


@dataclass(frozen=True)
class StuckAPView:
    name: str
    model: str | None = None
    state: str | None = None


@dataclass(frozen=True)
class TargetView:
    """One controller of a request: current → proposed, the APs it is for, the dry-run."""

    controller: str
    platform: str
    playbook: str
    playbook_digest: str
    current_clock: datetime | None
    current_clock_source: str
    proposed_clock: datetime | None
    proposed_local: datetime | None
    utc_offset_seconds: int | None
    ntp_servers: tuple[str, ...]
    stuck_aps: tuple[StuckAPView, ...]
    commands: tuple[CommandView, ...]
    params: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    total_aps: int = 0

    @property
    def nothing_to_fix(self) -> bool:
        return not self.stuck_aps

    def to_dict(self) -> dict[str, Any]:
        return {
            "controller": self.controller,
            "platform": self.platform,
            "playbook": self.playbook,
            "playbook_digest": self.playbook_digest,
            "current_clock": self.current_clock.isoformat() if self.current_clock else None,
            "current_clock_source": self.current_clock_source,
            "proposed_clock": self.proposed_clock.isoformat() if self.proposed_clock else None,
            "proposed_local": self.proposed_local.isoformat() if self.proposed_local else None,
            "utc_offset_seconds": self.utc_offset_seconds,
            "ntp_servers": list(self.ntp_servers),
            "stuck_aps": [{"name": a.name, "model": a.model, "state": a.state} for a in self.stuck_aps],
            "commands": [
                {"step": c.step, "command": c.command, "changes": c.changes, "note": c.note} for c in self.commands
            ],
            "params": dict(self.params),
            "warnings": list(self.warnings),
            "total_aps": self.total_aps,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TargetView:
        return cls(
            controller=d["controller"],
            platform=d["platform"],
            playbook=d["playbook"],
            playbook_digest=d.get("playbook_digest", ""),
            current_clock=_dt(d.get("current_clock")),
            current_clock_source=d.get("current_clock_source", "unknown"),
            proposed_clock=_dt(d.get("proposed_clock")),
            proposed_local=_dt(d.get("proposed_local")),
            utc_offset_seconds=d.get("utc_offset_seconds"),
            ntp_servers=tuple(d.get("ntp_servers", ())),
            stuck_aps=tuple(StuckAPView(a["name"], a.get("model"), a.get("state")) for a in d.get("stuck_aps", ())),
            commands=tuple(
                CommandView(c["step"], c["command"], c["changes"], c.get("note", "")) for c in d.get("commands", ())
            ),
            params=dict(d.get("params", {})),
            warnings=tuple(d.get("warnings", ())),
            total_aps=int(d.get("total_aps", 0)),
        )


@dataclass(frozen=True)
class StepView:
    index: int
    step_id: str
    title: str
    state: str
    duration_seconds: float | None = None
    summary: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class RunView:
    run_id: int
    controller: str
    status: str
    steps: tuple[StepView, ...]
    outcome: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApprovalView:
    user_id: str
    at: datetime
    comment: str | None = None  # the approver's optional words, shown with the approval


@dataclass(frozen=True)
class RequestView:
    """A request as the chat shows it, in any state (pending ... succeeded)."""

    id: int
    site: str
    requester: str
    status: RequestStatus
    created_at: datetime
    expires_at: datetime
    required_approvals: int
    approvals: tuple[ApprovalView, ...]
    targets: tuple[TargetView, ...]
    rejected_by: str | None = None
    decided_at: datetime | None = None
    channel: str | None = None
    message_ts: str | None = None
    note: str | None = None
    runs: tuple[RunView, ...] = ()
    # The change window's start (UTC) when the run waits for one; None: it starts once approved.
    scheduled_for: datetime | None = None
    cancelled_by: str | None = None
    rejection_reason: str | None = None

    @property
    def remaining(self) -> int:
        return max(0, self.required_approvals - len(self.approvals))

    @property
    def controllers(self) -> tuple[str, ...]:
        return tuple(t.controller for t in self.targets)


@dataclass(frozen=True)
class PreviewView:
    """A dry run (`/ccert remediate ... --dry-run`): what a request would do; nothing stored or changed."""

    site: str
    targets: tuple[TargetView, ...]
    notes: tuple[str, ...] = ()
    read_at: datetime | None = None
