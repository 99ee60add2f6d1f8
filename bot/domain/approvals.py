"""Two-person approval of a remediation request: the rules, as pure functions.

A time-back changes production controllers, so nobody runs one alone: a
request needs `required_approvals` distinct approvers, none of them the
requester; any approver can stop it with Reject; it expires if nobody acts.
These rules are plain functions over plain values so that they can be tested
exhaustively and so that the chat layer, the service and the store cannot
each grow their own idea of them. Every refusal carries a reason written for
the person who clicked (the chat shows it to them alone).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum


class RequestStatus(StrEnum):
    PENDING = "pending"  # waiting for approvals
    APPROVED = "approved"  # enough approvals; the run may start
    SCHEDULED = "scheduled"  # enough approvals; the run starts at its change window (`scheduled_for`)
    CANCELLED = "cancelled"  # ended before its run started (`/ccert cancel`, or nothing left to fix)
    REJECTED = "rejected"
    EXPIRED = "expired"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the run failed and its changes were undone
    NEEDS_ATTENTION = "needs_attention"  # the run could not put everything back: a person must look


#: A controller with a request in one of these states cannot get another one.
ACTIVE_STATUSES = frozenset(
    {
        RequestStatus.PENDING,
        RequestStatus.APPROVED,
        RequestStatus.SCHEDULED,
        RequestStatus.RUNNING,
        RequestStatus.NEEDS_ATTENTION,
    }
)
FINAL_STATUSES = frozenset(
    {
        RequestStatus.REJECTED,
        RequestStatus.EXPIRED,
        RequestStatus.CANCELLED,
        RequestStatus.SUCCEEDED,
        RequestStatus.FAILED,
    }
)
#: A request in one of these states has not started: `/ccert cancel` may end it.
CANCELLABLE_STATUSES = frozenset({RequestStatus.PENDING, RequestStatus.SCHEDULED})

#: The longest reason or comment kept with a vote (a modal's input is capped at the same length).
MAX_COMMENT_CHARS = 500


class VoteKind(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


_ID = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,40}$")


@dataclass(frozen=True)
class ApprovalPolicy:
    """Who may approve and how many must (`CCERT_APPROVERS`, `CCERT_REQUIRED_APPROVALS`,
    `CCERT_APPROVAL_TTL_MINUTES`). `approvers` holds Slack user IDs and/or user-group IDs."""

    required_approvals: int = 2
    approvers: frozenset[str] = frozenset()
    ttl: timedelta = timedelta(minutes=60)

    def __post_init__(self) -> None:
        if self.required_approvals < 1:
            raise ValueError("required approvals must be at least 1")
        if self.ttl <= timedelta(0):
            raise ValueError("the approval time-to-live must be positive")

    @staticmethod
    def parse_approvers(text: str | Iterable[str] | None) -> frozenset[str]:
        """`"U0123ABCD, S0456EFGH"` (commas and/or spaces) → the set of IDs; bad IDs raise ValueError."""
        if text is None:
            return frozenset()
        items = re.split(r"[\s,;]+", text) if isinstance(text, str) else list(text)
        ids = [i.strip() for i in items if i and i.strip()]
        bad = [i for i in ids if not _ID.match(i)]
        if bad:
            raise ValueError(f"not Slack user or group IDs: {', '.join(bad)}")
        return frozenset(ids)


@dataclass(frozen=True)
class Voter:
    """Who clicked: their Slack user ID and the user groups they belong to."""

    user_id: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Approval:
    user_id: str
    at: datetime


@dataclass(frozen=True)
class RequestState:
    """What the rules need to know about one request."""

    id: int
    requester: str
    status: RequestStatus
    created_at: datetime
    expires_at: datetime
    approvals: tuple[Approval, ...] = ()
    rejected_by: str | None = None
    decided_at: datetime | None = None
    # The change window's start: an approval before it schedules the run instead of starting it.
    scheduled_for: datetime | None = None

    @property
    def approvers(self) -> tuple[str, ...]:
        return tuple(a.user_id for a in self.approvals)


@dataclass(frozen=True)
class VoteDecision:
    """The outcome of one click.

    `accepted` is whether the click changed anything; when it is False,
    `reason` says why (shown to the clicker only). `new_state` is what to
    store (it may differ even for a refused click: a click on an expired
    request marks it expired). `approved_now` is True exactly once per
    request: on the vote that completed the approvals (start the run then);
    a request with a change window still ahead is `scheduled_now` instead
    (its run starts at `scheduled_for`, nothing starts now).
    """

    accepted: bool
    reason: str
    new_state: RequestState
    approvals_remaining: int
    approved_now: bool = False
    ended_now: bool = False
    scheduled_now: bool = False


def new_request(request_id: int, requester: str, now: datetime, policy: ApprovalPolicy) -> RequestState:
    """A fresh pending request that expires `policy.ttl` from now."""
    _aware(now)
    return RequestState(
        id=request_id,
        requester=requester,
        status=RequestStatus.PENDING,
        created_at=now,
        expires_at=now + policy.ttl,
    )


def is_approver(voter: Voter, policy: ApprovalPolicy) -> bool:
    """True when the voter's user ID or one of their groups is listed."""
    return voter.user_id in policy.approvers or any(g in policy.approvers for g in voter.groups)


def remaining(state: RequestState, policy: ApprovalPolicy) -> int:
    return max(0, policy.required_approvals - len(state.approvals))


def is_expired(state: RequestState, now: datetime) -> bool:
    return state.status is RequestStatus.PENDING and _aware(now) >= state.expires_at


def expire(state: RequestState, now: datetime) -> RequestState | None:
    """The expired state if `state` is pending past its deadline, else None."""
    if not is_expired(state, now):
        return None
    return replace(state, status=RequestStatus.EXPIRED, decided_at=now)


def _ended_reason(state: RequestState) -> str:
    if state.status is RequestStatus.REJECTED:
        who = f" by <@{state.rejected_by}>" if state.rejected_by else ""
        return f"This request was rejected{who}; nothing will run. Start a new request if it is still needed."
    if state.status is RequestStatus.EXPIRED:
        return "This request expired before it was approved; nothing will run. Start a new request."
    if state.status is RequestStatus.APPROVED:
        return "This request is already approved; the run is starting."
    if state.status is RequestStatus.SCHEDULED:
        when = f" for {state.scheduled_for:%Y-%m-%d %H:%M} UTC" if state.scheduled_for else ""
        return f"This request is already approved and scheduled{when}; `/ccert cancel {state.id}` ends it."
    if state.status is RequestStatus.CANCELLED:
        return "This request was cancelled before it started; nothing will run. Start a new request if needed."
    if state.status is RequestStatus.RUNNING:
        return "This request is already running."
    return f"This request is {state.status.value.replace('_', ' ')}; votes are closed."


def decide_vote(
    state: RequestState,
    voter: Voter,
    vote: VoteKind | str,
    now: datetime,
    policy: ApprovalPolicy,
    comment: str | None = None,
) -> VoteDecision:
    """Apply one Approve/Reject click to a request. Pure: returns the new state.

    Order of the checks matters for the reasons people see: a closed request
    says it is closed (whoever clicks), then non-approvers are told they are
    not approvers, then a Reject without a reason is refused (a rejection
    someone must act on says why), then the requester is told they cannot
    approve their own request, then a repeat click is told it counts once.
    """
    _aware(now)
    kind = VoteKind(vote)
    left = remaining(state, policy)

    def refuse(reason: str, new_state: RequestState = state, ended: bool = False) -> VoteDecision:
        return VoteDecision(False, reason, new_state, remaining(new_state, policy), ended_now=ended)

    if state.status is RequestStatus.PENDING and now >= state.expires_at:
        expired = replace(state, status=RequestStatus.EXPIRED, decided_at=now)
        return refuse(_ended_reason(expired), expired, ended=True)
    if state.status is not RequestStatus.PENDING:
        return refuse(_ended_reason(state))

    requester = voter.user_id == state.requester
    if kind is VoteKind.REJECT and (requester or is_approver(voter, policy)):
        if not (comment or "").strip():
            return refuse(
                f'A rejection needs a reason: type `/ccert reject {state.id} --reason "..."` '
                "(or use the Reject button's form). Nothing was changed."
            )
        rejected = replace(state, status=RequestStatus.REJECTED, rejected_by=voter.user_id, decided_at=now)
        why = "You withdrew your request." if requester else "You rejected the request; nothing will run."
        return VoteDecision(True, why, rejected, remaining(rejected, policy), ended_now=True)
    if not is_approver(voter, policy):
        return refuse(
            "You are not an approver for remediation requests (CCERT_APPROVERS lists who is); "
            "your click was not counted."
        )
    if requester:
        return refuse("You cannot approve your own request: it needs approvals from other people.")
    if voter.user_id in state.approvers:
        return refuse(f"You already approved this request; it counts once. Still needed: {left}.")

    approvals = (*state.approvals, Approval(voter.user_id, now))
    if len(approvals) >= policy.required_approvals:
        if state.scheduled_for is not None and now < state.scheduled_for:
            scheduled = replace(state, approvals=approvals, status=RequestStatus.SCHEDULED, decided_at=now)
            return VoteDecision(
                True,
                f"Approved: the run is scheduled for its window ({state.scheduled_for:%Y-%m-%d %H:%M} UTC).",
                scheduled,
                0,
                scheduled_now=True,
            )
        approved = replace(state, approvals=approvals, status=RequestStatus.APPROVED, decided_at=now)
        return VoteDecision(True, "Approved: the run is starting.", approved, 0, approved_now=True)
    updated = replace(state, approvals=approvals)
    still = remaining(updated, policy)
    return VoteDecision(True, f"Your approval is counted. Still needed: {still}.", updated, still)


@dataclass(frozen=True)
class CancelDecision:
    """The outcome of `/ccert cancel` (or the Cancel button): `accepted`, else `reason` says why not."""

    accepted: bool
    reason: str
    new_state: RequestState


def decide_cancel(state: RequestState, voter: Voter, now: datetime, policy: ApprovalPolicy) -> CancelDecision:
    """End a request that has not started: its requester or any approver may, while it is pending or
    scheduled. A running request is never cancelled (its run owns the controller until it has put
    everything back), and an ended one is left as it ended."""
    _aware(now)
    if state.status not in CANCELLABLE_STATUSES:
        if state.status in {RequestStatus.RUNNING, RequestStatus.APPROVED, RequestStatus.NEEDS_ATTENTION}:
            return CancelDecision(
                False,
                f"Request #{state.id} has started ({state.status.value.replace('_', ' ')}): a run is never "
                "stopped half-way; it finishes or undoes its own changes.",
                state,
            )
        return CancelDecision(False, _ended_reason(state), state)
    if voter.user_id != state.requester and not is_approver(voter, policy):
        return CancelDecision(False, "Only the requester or an approver (CCERT_APPROVERS) can cancel a request.", state)
    cancelled = replace(state, status=RequestStatus.CANCELLED, decided_at=now)
    return CancelDecision(True, f"Request #{state.id} is cancelled; nothing will run.", cancelled)


@dataclass(frozen=True)
class Conflict:
    controller: str
    request_id: int
    status: RequestStatus


def conflicts(wanted: Iterable[str], active: Mapping[str, tuple[int, RequestStatus]]) -> list[Conflict]:
    """Controllers in `wanted` that already have an active request or run (`active`: controller → (id, status))."""
    return [Conflict(c, *active[c]) for c in wanted if c in active]


@dataclass(frozen=True)
class ConflictReason:
    conflicts: tuple[Conflict, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        parts = [
            f"{c.controller} already has request #{c.request_id} ({c.status.value.replace('_', ' ')})"
            for c in self.conflicts
        ]
        return "; ".join(parts) + ": only one request or run per controller at a time."


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("approval times must be timezone-aware")
    return now
