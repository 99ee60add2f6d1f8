"""The remediation store: requests, votes, runs, steps, the recorded configuration, the audit.

Synchronous functions taking the `Database` first, run through `Store.read(fn, ...)` /
`Store.write(fn, ...)` (serialised writes, one `BEGIN IMMEDIATE` transaction each), in
modules by what they hold: `requests` (requests and votes), `runs` (runs and steps),
`recorded` (the configuration a run recorded), `audit`, `listing` (which requests are in
which states, for the App Home), and `records` (what they return).
The schema (migration 4) enforces the rules that must hold even if this code had a bug:
one active request and one active run per controller, an approval counted once per person,
an append-only audit, a recorded configuration that cannot be altered and is kept until
verified.

This package's namespace is the remediation code's one import
(`from bot.store import remediation as q`; `await store.write(q.record_vote, ...)`): it
names each function once, from the module that holds it.
"""

from bot.store.leader_lock import Fence
from bot.store.records import FencedOut, NotFoundError, StateError
from bot.store.remediation.audit import append_audit, audit_for_request, audit_for_run
from bot.store.remediation.listing import count_requests, count_waiting, request_ids, waiting_ids
from bot.store.remediation.recorded import get_recorded, mark_recorded_verified, save_recorded
from bot.store.remediation.records import (
    ACTIVE_RUN,
    FINAL_REQUEST,
    AuditEntry,
    ControllerBusyError,
    RecordedRow,
    RequestRow,
    RunRow,
    StepRow,
    TargetRow,
    VoteRow,
)
from bot.store.remediation.requests import (
    active_controllers,
    approved_unstarted,
    cancel_request,
    due_scheduled,
    expire_requests,
    get_request,
    insert_request,
    next_scheduled,
    open_work_by_site,
    record_vote,
    requests_in,
    set_request_message,
    set_request_status,
    set_schedule,
    transition_request,
)
from bot.store.remediation.runs import (
    check_fence,
    claim_runs,
    create_run,
    get_run,
    runs_for_request,
    set_run_params,
    set_run_status,
    step_finished,
    step_started,
    unfinished_runs,
)

__all__ = [
    "ACTIVE_RUN",
    "FINAL_REQUEST",
    "AuditEntry",
    "ControllerBusyError",
    "Fence",
    "FencedOut",
    "NotFoundError",
    "RecordedRow",
    "RequestRow",
    "RunRow",
    "StateError",
    "StepRow",
    "TargetRow",
    "VoteRow",
    "active_controllers",
    "append_audit",
    "approved_unstarted",
    "audit_for_request",
    "audit_for_run",
    "cancel_request",
    "check_fence",
    "claim_runs",
    "count_requests",
    "count_waiting",
    "create_run",
    "due_scheduled",
    "expire_requests",
    "get_recorded",
    "get_request",
    "get_run",
    "insert_request",
    "mark_recorded_verified",
    "next_scheduled",
    "open_work_by_site",
    "record_vote",
    "request_ids",
    "requests_in",
    "runs_for_request",
    "save_recorded",
    "set_request_message",
    "set_request_status",
    "set_run_params",
    "set_run_status",
    "set_schedule",
    "step_finished",
    "step_started",
    "transition_request",
    "unfinished_runs",
    "waiting_ids",
]
