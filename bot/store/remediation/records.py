"""What the remediation queries return: requests with their targets and votes, runs with their
steps, the recorded configuration, audit entries; and the status sets the rules use.

Why plain frozen rows here and not in `bot.store.records`: these are remediation's own, read
by the remediation service and its views, and they change with the playbooks, not with checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.store.records import StateError

FINAL_REQUEST = ("rejected", "expired", "cancelled", "succeeded", "failed")


ACTIVE_RUN = ("pending", "running", "undoing")


class ControllerBusyError(StateError):
    """A controller already has an active request or run."""

    def __init__(self, controller: str, request_id: int | None, status: str | None) -> None:
        held = f"request #{request_id} ({status})" if request_id is not None else "an active run"
        super().__init__(f"{controller} already has {held}: only one request or run per controller at a time")
        self.controller = controller
        self.request_id = request_id
        self.status = status


@dataclass(frozen=True)
class TargetRow:
    controller: str
    platform: str
    playbook: str
    params: dict[str, Any]
    active: bool


@dataclass(frozen=True)
class VoteRow:
    user_id: str
    vote: str
    at: datetime
    counted: bool
    reason: str | None
    comment: str | None = None  # the voter's own words: a rejection's reason, an approval's comment


@dataclass(frozen=True)
class RequestRow:
    id: int
    site: str
    requester: str
    status: str
    required_approvals: int
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    finished_at: datetime | None
    rejected_by: str | None
    channel: str | None
    message_ts: str | None
    view: dict[str, Any]
    note: str | None
    targets: tuple[TargetRow, ...] = ()
    votes: tuple[VoteRow, ...] = ()
    scheduled_for: datetime | None = None
    cancelled_by: str | None = None

    @property
    def approvals(self) -> tuple[VoteRow, ...]:
        return tuple(v for v in self.votes if v.vote == "approve" and v.counted)


@dataclass(frozen=True)
class StepRow:
    idx: int
    step_id: str
    action: str
    title: str
    changes: bool
    undo_action: str | None
    state: str
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    attempts: int
    result: dict[str, Any]
    error: str | None


@dataclass(frozen=True)
class RunRow:
    id: int
    request_id: int | None
    controller: str
    site: str | None
    platform: str
    host: str
    port: int
    credentials: dict[str, str]
    playbook: str
    plan: dict[str, Any]
    params: dict[str, Any]
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    outcome: str | None
    warnings: tuple[str, ...]
    steps: tuple[StepRow, ...] = ()
    claimed_by: str | None = None  # the instance that drives it (active/standby), None: any


@dataclass(frozen=True)
class RecordedRow:
    run_id: int
    controller: str
    platform: str
    captured_at: datetime
    config: dict[str, Any]
    verified_at: datetime | None
    verified_note: str | None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    kind: str
    text: str
    request_id: int | None = None
    run_id: int | None = None
    controller: str | None = None
    actor: str | None = None
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
