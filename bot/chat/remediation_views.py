"""Remediation messages: the request to approve, its progress, vote answers, run events, the audit.

Everything here reads view models (`bot.remediation.models`) or audit
entries and returns `Reply` objects, so Slack and the console show the same
thing and any message can be rebuilt from the store after a restart. The
request message is the one place approvers decide from: it says what will
change on which controller (current clock and NTP → proposed), which stuck
APs it is for, every command the run would send, who approved, how many
approvals remain, and, later, how the run went.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.chat.handlers import fmt_time, platform_label, plural
from bot.chat.reply import Button, Choice, Field, Level, Reply, Section, Table
from bot.domain.approvals import RequestStatus
from bot.domain.change_windows import ChangeWindows, resolve_local
from bot.remediation.engine import RunEvent, RunInfo
from bot.remediation.models import PreviewView, RequestView, RunView, TargetView
from bot.store.remediation import AuditEntry

APPROVE_ACTION = "remediation_approve"
REJECT_ACTION = "remediation_reject"
CANCEL_ACTION = "remediation_cancel"
WINDOW_ACTION = "remediation_window"
WINDOW_CHOICES = 6
MAX_COMMANDS_SHOWN = 60
MAX_AUDIT_ROWS = 400
# One command's output per code block: Slack section text stops at 3,000 characters.
MAX_OUTPUT_LINES = 40
MAX_OUTPUT_CHARS = 2_400

STATUS_TITLE = {
    RequestStatus.PENDING: ("⏳", "waiting for approval", Level.WARNING),
    RequestStatus.APPROVED: ("▶️", "approved — starting", Level.INFO),
    RequestStatus.SCHEDULED: ("🗓️", "approved — scheduled for its window", Level.INFO),
    RequestStatus.CANCELLED: ("⏹️", "cancelled — nothing was changed", Level.INFO),
    RequestStatus.REJECTED: ("🚫", "rejected — nothing was changed", Level.INFO),
    RequestStatus.EXPIRED: ("⌛", "expired — nothing was changed", Level.INFO),
    RequestStatus.RUNNING: ("🔧", "running", Level.WARNING),
    RequestStatus.SUCCEEDED: ("✅", "done", Level.OK),
    RequestStatus.FAILED: ("↩️", "failed — changes undone", Level.WARNING),
    RequestStatus.NEEDS_ATTENTION: ("🛑", "NEEDS ATTENTION", Level.DANGER),
}
STEP_ICON = {
    "pending": "·",
    "running": "⏳",
    "done": "✅",
    "failed": "❌",
    "undoing": "↩️",
    "undone": "↩️",
    "undo_failed": "🛑",
}
RUN_STATUS = {
    "pending": "waiting to start",
    "running": "running",
    "undoing": "undoing its changes",
    "succeeded": "done",
    "failed": "failed; every change was undone and verified",
    "needs_attention": "could not put everything back: act now",
}
EVENT_ICON = {"info": "ℹ️", "ok": "✅", "warning": "⚠️", "danger": "🛑"}


def _platform(value: str) -> str:
    return platform_label(value)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs:02d} s"


def _local(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "?"


def _target_section(target: TargetView) -> Section:
    offset = ""
    if target.utc_offset_seconds:
        hours = target.utc_offset_seconds / 3600
        offset = f" (controller local time, UTC{hours:+g} h)"
    proposed = (
        f"{fmt_time(target.proposed_clock)} = {_local(target.proposed_local)}{offset}"
        if target.proposed_clock
        else "chosen at run time"
    )
    source = {"ntp": "NTP", "manual": "set by hand", "unknown": "source unknown"}.get(
        target.current_clock_source, target.current_clock_source
    )
    ntp_now = ", ".join(target.ntp_servers) or "none configured"
    wait = target.params.get("wait_timeout_seconds")
    poll = target.params.get("poll_interval_seconds")
    fields = [
        Field(
            "Clock",
            f"{fmt_time(target.current_clock) if target.current_clock else 'not read'} ({source}) → "
            f"{proposed} → back to the current time on NTP",
        ),
        Field("NTP", f"{ntp_now} → deleted while the clock is back → restored exactly as recorded, saved"),
        Field("APs it is for", _stuck_text(target)),
    ]
    if wait is not None and poll is not None:
        fields.append(
            Field(
                "Wait",
                f"up to {_duration(float(wait))} for the APs, checking every "
                f"{_duration(float(poll))}; APs are never rebooted by the bot",
            )
        )
    text_lines = [f"⚠️ {w}" for w in target.warnings]
    return Section(
        title=f"{target.controller} ({_platform(target.platform)}) — playbook {target.playbook}",
        fields=tuple(fields),
        text="\n".join(text_lines) or None,
    )


def _stuck_text(target: TargetView) -> str:
    if not target.stuck_aps:
        return f"none of {plural(target.total_aps, 'AP')} is Downloading right now (nothing to fix?)"
    names = ", ".join(f"{a.name} ({a.model})" if a.model else a.name for a in target.stuck_aps[:20])
    more = f" and {len(target.stuck_aps) - 20} more" if len(target.stuck_aps) > 20 else ""
    return f"{plural(len(target.stuck_aps), 'AP')} in Downloading: {names}{more}"


def _commands_section(target: TargetView) -> Section:
    rows = []
    for c in target.commands[:MAX_COMMANDS_SHOWN]:
        rows.append((c.step, ("✏️ " if c.changes else "") + c.command, c.note))
    if len(target.commands) > MAX_COMMANDS_SHOWN:
        rows.append(("…", f"{len(target.commands) - MAX_COMMANDS_SHOWN} more", ""))
    changes = sum(1 for c in target.commands if c.changes)
    return Section(
        title=f"Dry-run on {target.controller}: every command, in order ({changes} change the controller, marked ✏️)",
        table=Table(("Step", "Command", "Note"), tuple(rows), whole=("Command",)),
    )


def _approvals_text(view: RequestView) -> str:
    who = ", ".join(
        f"<@{a.user_id}> ({a.at.astimezone(UTC):%H:%M} UTC)" + (f": “{a.comment}”" if a.comment else "")
        for a in view.approvals
    )
    if view.status is RequestStatus.PENDING:
        base = f"Approved by {who}. " if who else "No approval yet. "
        return base + f"{plural(view.remaining, 'more approval')} needed (requester excluded)."
    return f"Approved by {who}." if who else "No approvals."


def _run_section(run: RunView) -> Section:
    rows = tuple(
        (
            f"{STEP_ICON.get(s.state, s.state)} {s.title}",
            s.state,
            _duration(s.duration_seconds),
            (s.error or s.summary or "")[:200],
        )
        for s in run.steps
    )
    text = run.outcome if run.status in {"failed", "needs_attention", "succeeded"} and run.outcome else None
    if run.warnings:
        text = "\n".join([*([text] if text else []), *(f"⚠️ {w}" for w in run.warnings)])
    return Section(
        title=f"Run #{run.run_id} on {run.controller}: {RUN_STATUS.get(run.status, run.status)}",
        table=Table(("Step", "State", "Duration", "Result"), rows),
        text=text,
    )


def local_time(value: datetime, zone: ZoneInfo | None) -> str:
    """`Sat 2026-12-05 22:00 CET (21:00 UTC)`: the bot's zone first (what windows are agreed in)."""
    utc = value.astimezone(UTC)
    if zone is None or zone.key == "UTC":
        return f"{utc:%a %Y-%m-%d %H:%M} UTC"
    return f"{value.astimezone(zone):%a %Y-%m-%d %H:%M %Z} ({utc:%H:%M} UTC)"


def window_choices(now: datetime, windows: ChangeWindows, count: int = WINDOW_CHOICES) -> tuple[datetime, ...]:
    """Start times a request's window picker offers: the next allowed window starts when
    CCERT_CHANGE_WINDOWS is set, else the next two whole hours and the next nights at 22:00."""
    if windows.restricted:
        return tuple(windows.starts_after(now, count))
    zone = windows.zone
    local = now.astimezone(zone).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    found = [resolve_local(local + timedelta(hours=h), zone) for h in (1, 2)]
    night = local.replace(hour=22)
    while len(found) < count:
        candidate = resolve_local(night, zone)
        if candidate > found[-1]:
            found.append(candidate)
        night += timedelta(days=1)
    return tuple(sorted(found)[:count])


def _window_section(view: RequestView, now: datetime, zone: ZoneInfo | None) -> Section | None:
    if view.scheduled_for is None:
        return None
    when = local_time(view.scheduled_for, zone)
    if view.status is RequestStatus.PENDING:
        text = (
            f"The run starts at {when} once approved. Approval may come any time before; the request does not "
            "expire while it waits for its window."
        )
    elif view.status is RequestStatus.SCHEDULED:
        left = view.scheduled_for - now
        hours, minutes = divmod(max(0, int(left.total_seconds() // 60)), 60)
        text = (
            f"Approved. The run starts at {when} (in {hours} h {minutes:02d} min). The controllers are read again "
            "first: if no AP is Downloading any more, nothing is changed. "
            f"`/ccert cancel {view.id}` ends it before then."
        )
    else:
        text = f"Change window: {when}."
    return Section(title="Window", text=text)


def _window_button(view: RequestView, now: datetime, windows: ChangeWindows) -> Button | None:
    """The window picker: only while nobody has approved (an approval is for the window it saw)."""
    if view.status is not RequestStatus.PENDING or view.approvals:
        return None
    choices = tuple(
        Choice(local_time(t, windows.zone), f"{view.id} {t.astimezone(windows.zone):%Y-%m-%dT%H:%M}")
        for t in window_choices(now, windows)
    )
    label = "Move the window" if view.scheduled_for else "Run in a change window"
    return Button(label, WINDOW_ACTION, str(view.id), f"/ccert schedule {view.id} --at '<time>'", choices=choices)


def request_reply(
    view: RequestView,
    now: datetime | None = None,
    *,
    windows: ChangeWindows | None = None,
) -> Reply:
    """The request message, in whatever state the request is (posted once, updated after each change).

    `windows` (CCERT_CHANGE_WINDOWS in CCERT_TIMEZONE) is what the window picker offers and the
    zone times are shown in.
    """
    now = now or datetime.now(UTC)
    windows = windows or ChangeWindows()
    zone = windows.zone
    icon, label, level = STATUS_TITLE[view.status]
    controllers = ", ".join(view.controllers)
    title = f"{icon} Time-back request #{view.id} — {view.site} ({controllers}) — {label}"
    text = (
        f"Requested by <@{view.requester}> at {fmt_time(view.created_at)}. CSCwd80290 workaround: record NTP and "
        "the clock, delete NTP, set the clock before 2022-12-04, wait for the APs, restore NTP exactly, save, "
        "verify. Clock changes do not disrupt AP joins or clients; DNA Center Assurance, CMX and DNA Spaces may "
        "be affected until the clock is current again."
    )
    sections: list[Section] = [Section(title="Approvals", text=_approvals_text(view))]
    window = _window_section(view, now, zone)
    if window is not None:
        sections.append(window)
    if view.status is RequestStatus.PENDING:
        left = view.expires_at - now
        minutes = max(0, int(left.total_seconds() // 60))
        until = (
            f" Approvals are open until {local_time(view.expires_at, zone)}."
            if view.scheduled_for is not None
            else f" Expires at {fmt_time(view.expires_at)} ({minutes} min left)."
        )
        sections[0] = Section(title="Approvals", text=_approvals_text(view) + until)
    elif view.status is RequestStatus.EXPIRED:
        sections.append(
            Section(
                text=f"This request expired at {fmt_time(view.expires_at)} before it had "
                f"{plural(view.required_approvals, 'approval')}. Nothing was changed; "
                "start a new request if it is still needed."
            )
        )
    elif view.status is RequestStatus.REJECTED:
        why = f" Reason: “{view.rejection_reason}”." if view.rejection_reason else ""
        sections.append(Section(text=f"Rejected by <@{view.rejected_by}>.{why} Nothing was changed."))
    elif view.status is RequestStatus.CANCELLED:
        by = f"Cancelled by <@{view.cancelled_by}> before it started." if view.cancelled_by else (view.note or "")
        sections.append(Section(text=f"{by.rstrip('.')}. Nothing was changed."))
    for target in view.targets:
        sections.append(_target_section(target))
    for run in view.runs:
        sections.append(_run_section(run))
    if view.status in {RequestStatus.PENDING, RequestStatus.APPROVED, RequestStatus.SCHEDULED} or not view.runs:
        for target in view.targets:
            sections.append(_commands_section(target))
    buttons: list[Button] = []
    if view.status is RequestStatus.PENDING:
        buttons += [
            Button(
                "Approve", APPROVE_ACTION, str(view.id), f'/ccert approve {view.id} [--comment "..."]', style="primary"
            ),
            Button("Reject", REJECT_ACTION, str(view.id), f'/ccert reject {view.id} --reason "..."', style="danger"),
        ]
    if view.status is RequestStatus.SCHEDULED or (view.status is RequestStatus.PENDING and view.scheduled_for):
        buttons.append(Button("Cancel", CANCEL_ACTION, str(view.id), f"/ccert cancel {view.id}"))
    picker = _window_button(view, now, windows)
    if picker is not None:
        buttons.append(picker)
    footer = {
        RequestStatus.PENDING: "Two people other than the requester must approve. Any approver can reject.",
        RequestStatus.NEEDS_ATTENTION: "A controller may be left with NTP deleted or its clock set back: follow the "
        "run's 'Restore by hand' commands now.",
    }.get(view.status)
    return Reply(title=title, text=text, level=level, sections=tuple(sections), buttons=tuple(buttons), footer=footer)


def created_reply(view: RequestView) -> Reply:
    """The answer to `/ccert remediate`: a short note when the request message is already posted
    (the service has a notifier), else the request message itself for the caller to post."""
    if view.message_ts is None:
        return request_reply(view)
    return Reply(
        title=f"Time-back request #{view.id} is posted: it needs {plural(view.required_approvals, 'approval')} from "
        "people other than you.",
        text=(
            f"Once approved it starts at {local_time(view.scheduled_for, None)}, its window; it expires at "
            f"{fmt_time(view.expires_at)} if nobody approves it. Nothing changes before that."
            if view.scheduled_for
            else f"It expires at {fmt_time(view.expires_at)} if nobody approves it. Nothing changes before that."
        ),
        level=Level.OK,
        ephemeral=True,
    )


def dry_run_reply(preview: PreviewView) -> Reply:
    """What a request would do on each controller (current → proposed, stuck APs, every command); nothing ran."""
    controllers = ", ".join(t.controller for t in preview.targets)
    sections: list[Section] = []
    for target in preview.targets:
        sections.append(_target_section(target))
        sections.append(_commands_section(target))
    if preview.notes:
        sections.append(Section(text="\n".join(f"⚠️ {n}" for n in preview.notes)))
    return Reply(
        title=f"Dry run of the time-back for {preview.site} ({controllers}): nothing was changed",
        text="Read just now from the controllers. `/ccert remediate` without --dry-run opens a request that "
        "needs two approvals before anything runs.",
        sections=tuple(sections),
        ephemeral=True,
    )


def progress_reply(view: RequestView) -> Reply:
    """Only the run progress (step, state, duration) of a request, e.g. for `/ccert` status or the console."""
    icon, label, level = STATUS_TITLE[view.status]
    sections = tuple(_run_section(r) for r in view.runs) or (Section(text="No run has started."),)
    return Reply(title=f"{icon} Time-back request #{view.id} — {label}", level=level, sections=sections)


def vote_reply(accepted: bool, reason: str) -> Reply:
    """What the clicker alone sees after Approve/Reject (refusals always say why)."""
    return Reply(title=reason, level=Level.OK if accepted else Level.WARNING, ephemeral=True)


def note_reply(text: str, level: str = "info") -> Reply:
    """A line about a request in its thread: a vote with its reason or comment, a cancel, the window.

    In the text, not the title: a title is a plain-text header (150 characters, no mentions),
    and a reason is up to 500 characters with the voter's `<@…>` shown as a mention.
    """
    return Reply(
        title="",
        text=text,
        level={"ok": Level.OK, "warning": Level.WARNING, "danger": Level.DANGER}.get(level, Level.INFO),
    )


def refused_reply(reason: str) -> Reply:
    """A request (or run) the service would not start, shown to the person who asked."""
    return Reply(title="I can't open this time-back request.", text=reason, level=Level.WARNING, ephemeral=True)


def event_reply(run: RunInfo, event: RunEvent) -> Reply:
    """A notable event of a run, for the request message's thread."""
    icon = EVENT_ICON.get(event.level, "•")
    level = {"ok": Level.OK, "warning": Level.WARNING, "danger": Level.DANGER}.get(event.level, Level.INFO)
    step = f" [{event.step_id}]" if event.step_id else ""
    return Reply(title=f"{icon} {run.controller}{step}: {event.text}", level=level)


def audit_reply(request_id: int, entries: Sequence[AuditEntry]) -> Reply:
    """The audit of a request: votes, steps, every command sent (redacted) with its output, undo, end.

    The table is the timeline; each command then gets a code block with what
    the controller answered, because an approver or an incident review wants
    to see what the device said, not only what it was told.
    """
    shown = list(entries)[:MAX_AUDIT_ROWS]
    rows = tuple(
        (
            e.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            e.kind,
            f"<@{e.actor}>" if e.actor else (e.controller or ""),
            e.text if e.kind == "command" else e.text[:200],
        )
        for e in shown
    )
    more = len(entries) - MAX_AUDIT_ROWS
    count = f"{len(entries)} {'entry' if len(entries) == 1 else 'entries'}"
    commands = [e for e in shown if e.kind == "command"]
    outputs = tuple(_command_output_section(e) for e in commands)
    return Reply(
        title=f"Audit of time-back request #{request_id} ({count})",
        sections=(
            Section(table=Table(("Time (UTC)", "What", "Who/where", "Detail"), rows, whole=("Detail",))),
            *outputs,
        ),
        footer=f"{more} more entries not shown" if more > 0 else None,
        ephemeral=True,
    )


def _command_output_section(entry: AuditEntry) -> Section:
    """One command as the operator would have seen it on the CLI: the line sent, then the answer."""
    when = entry.at.astimezone(UTC).strftime("%H:%M:%S")
    where = " · ".join(p for p in (entry.controller, entry.step) if p)
    output = str(entry.data.get("output") or "").rstrip("\n")
    lines = output.split("\n") if output else []
    body = lines[:MAX_OUTPUT_LINES]
    while body and len("\n".join(body)) > MAX_OUTPUT_CHARS:
        body.pop()
    cut = len(lines) - len(body)
    text = "\n".join([f"{entry.controller or ''}# {entry.text}", *body])
    notes = []
    if not lines and "output" in entry.data:
        notes.append("(no output)")
    if "output" not in entry.data and "error" not in entry.data:
        notes.append("(no answer recorded)")
    if cut > 0:
        notes.append(f"(output cut here: {cut} more {'line' if cut == 1 else 'lines'} not shown)")
    if entry.data.get("error"):
        notes.append(f"error: {entry.data['error']}")
    elif entry.data.get("failed"):
        notes.append("the controller reported an error for this command")
    # A fence inside device output would end the code block early.
    block = "\n".join([text, *notes]).replace("```", "'''")
    return Section(title=f"{when} {where}".strip(), text=f"```\n{block}\n```")
