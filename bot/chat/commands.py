"""The `/ccert` subcommands: one decorated function each (see `bot.chat.registry`).

Importing this module registers them in `REGISTRY`, in the order `/ccert help`
and the README list them. Each function's signature is its arguments, already
checked against the inventory when it runs (`bot.chat.arguments`); its
docstring's first line is its help line and its second paragraph the README's
row; the rest is for whoever changes it. A function returns a chat-agnostic
`Reply` (built by `bot.chat.handlers` and the `*_views` modules); a `slow`
one's ack is said at once and its body answers as the follow-up.

`python -c "from bot.chat.commands import readme_table; print(readme_table())"`
prints the README's command table.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, TypeVar

from bot.chat import exports, handlers, home, remediation_views
from bot.chat.arguments import ControllerOfSite, Flag, Invalid, Option, RequestId, Site, SiteOrAll, Text
from bot.chat.context import CommandContext
from bot.chat.digest_views import history_reply
from bot.chat.registry import REGISTRY, Access, AckFactory, Command, Parsed, command
from bot.chat.remediation_views import APPROVE_ACTION, CANCEL_ACTION, REJECT_ACTION, WINDOW_ACTION, local_time
from bot.chat.reply import CommandResult, Level, Reply, ReplyFile
from bot.domain.approvals import Voter, is_approver
from bot.domain.digest import HistoryRow
from bot.domain.schedule_time import FORMS, ScheduleTimeError, parse_at
from bot.fleet.service import SiteReport
from bot.inventory import Inventory
from bot.remediation.models import RequestView
from bot.remediation.service import RequestRefused
from bot.store import APState, SiteCheck, SiteDay, ap_state
from bot.store import history as history_store

__all__ = ["COMMANDS", "REGISTRY", "parse", "readme_table"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: How long a cancelled export waits for its writing thread, to delete the file it writes.
EXPORT_CANCEL_WAIT = 30.0

#: The registered subcommands by name (the registry itself: a read-only view for callers outside bot.chat).
COMMANDS: Mapping[str, Command] = REGISTRY

AP_STATE = re.compile(r"^[A-Za-z][A-Za-z -]{0,30}$")
ApState = Annotated[
    str | None,
    Option("--state", example="Downloading", what="an AP state (e.g. Downloading, Registered)", pattern=AP_STATE),
]
DryRun = Annotated[bool, Flag("--dry-run")]
#: The words of the refusal of a reject without a reason: exactly what to type instead.
REASON_REQUIRED = (
    "A reject needs a reason: it goes to the request's thread, the request message and the audit, "
    'so the requester knows why. Type `/ccert reject {request_id} --reason "why you reject it"`.'
)
RejectReason = Annotated[str, Text("--reason", what="reason", required=REASON_REQUIRED)]
ApproveComment = Annotated[str | None, Text("--comment", what="comment")]
AT_TEXT = re.compile(r"^[A-Za-z0-9 :T-]{1,25}$")
At = Annotated[
    str | None,
    Option("--at", example="'Sat 22:00'", what=f"a time (--at takes {FORMS})", pattern=AT_TEXT),
]
AffectedOnly = Annotated[bool, Flag("--affected")]
Export = Annotated[bool, Flag("--export")]


def parse(text: str, inventory: Inventory) -> Parsed | Invalid:
    """`/ccert` text → one of the bot's commands with checked arguments, or why not."""
    return REGISTRY.parse(text, inventory)


def readme_table() -> str:
    """The README's `/ccert` table, as `REGISTRY` prints it (tests/chat/test_readme_commands.py compares)."""
    return REGISTRY.readme_table()


def reading(verb: str) -> AckFactory:
    """The usual slow ack: `<verb> site-a: 2 controllers…`, over the sites the arguments name."""

    def ack(cmd: Command, ctx: CommandContext, args: Mapping[str, Any]) -> Reply:
        sites = cmd.signature.sites(args)
        return handlers.checking_reply(sites, sum(len(ctx.inventory.sites[s].controllers) for s in sites), verb)

    return ack


def saying(title: str) -> AckFactory:
    """A slow ack that is one fixed ephemeral line."""

    def ack(cmd: Command, ctx: CommandContext, args: Mapping[str, Any]) -> Reply:
        return Reply(title=title, ephemeral=True)

    return ack


def _site_and_controller(value: str) -> list[str]:
    site, _, controller = value.partition("/")
    return [site] + ([controller] if controller else [])


@command("help", access=Access.ALWAYS)
async def help_(ctx: CommandContext) -> Reply:
    """this list

    the commands (also on empty input; unknown commands get a did-you-mean)
    """
    return handlers.help_reply(registry=ctx.registry)


@command("sites")
async def sites(ctx: CommandContext) -> Reply:
    """the sites and controllers I watch

    sites and controllers from the inventory
    """
    return handlers.sites_reply(ctx.inventory)


@command("status", slow=reading("checking"))
async def status(ctx: CommandContext, sites: SiteOrAll) -> Reply:
    """read the controllers now; CSCwd80290 verdict

    acknowledges at once, reads the controllers, posts the verdict with stuck APs and the next step
    """
    return handlers.status_reply(await ctx.fleet.read_sites(sites))


@command("aps", slow=reading("listing APs of"), usage_args="<site> [--state Downloading]")
async def aps(ctx: CommandContext, sites: SiteOrAll, state: ApState) -> Reply:
    """list a site's APs, optionally by state

    every AP with model, image, state and whether CSCwd80290 affects it
    """
    return handlers.aps_reply(await ctx.fleet.read_sites(sites), state)


@command("advise", slow=reading("reading software of"), usage_args="<site>")
async def advise(ctx: CommandContext, sites: SiteOrAll) -> Reply:
    """fixed release and time-back advice per controller

    fixed release per controller, and whether a time-back is safe (controller certificate start)
    """
    return handlers.advise_reply(await ctx.fleet.read_sites(sites))


async def _ap_states(ctx: CommandContext, reports: Sequence[SiteReport]) -> dict[str, dict[str, APState]]:
    """The store's `ap_state` of every controller read, by AP name (nothing without a database)."""
    if ctx.store is None:
        return {}
    out: dict[str, dict[str, APState]] = {}
    for report in reports:
        for s in report.snapshots:
            out[s.name] = {row.ap_name: row for row in await ctx.store.read(ap_state.ap_states, s.name)}
    return out


async def _write_in_thread(write: Callable[[], T], discard: Callable[[T], None]) -> T:
    """`write()` in a worker thread; its temporary files are never left behind on a cancel.

    A thread cannot be stopped: when the awaiting task is cancelled (shutdown's
    `tasks.aclose`, a console Ctrl-C) it still finishes its CSV, and with nobody to take
    the result nobody would deliver and delete the file. So the thread's future is
    shielded; on a cancel it is waited for (up to `EXPORT_CANCEL_WAIT` seconds, then its
    end is left to delete the file whenever it comes) and what it wrote is `discard`ed
    before the cancel goes on.
    """
    future = asyncio.ensure_future(asyncio.to_thread(write))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        # Registered before `asyncio.wait`'s own callback, so it has run when the wait returns.
        future.add_done_callback(lambda done: _discard_result(done, discard))
        await asyncio.wait({future}, timeout=EXPORT_CANCEL_WAIT)
        raise


def _discard_result(future: asyncio.Future[T], discard: Callable[[T], None]) -> None:
    """Delete what a cancelled export's thread wrote, once it ended (nothing when it failed:
    `write_csv` deletes its file then)."""
    if future.cancelled() or future.exception() is not None:
        return
    try:
        discard(future.result())
    except OSError as error:  # the log has it; the cancel goes on regardless
        log.warning("could not delete a cancelled export's file: %s", type(error).__name__)


@command("export", slow=reading("exporting the APs of"), usage_args="<site>|all [--affected]")
async def export(ctx: CommandContext, sites: SiteOrAll, affected: AffectedOnly) -> Reply:
    """every AP as a CSV file (for change tickets and RMA planning); --affected only affected models

    every AP as a CSV file, read now: site, controller, AP, model, affected?, state and since when, image,
    controller software, fixed release; `--affected` keeps the models CSCwd80290 affects. A controller not
    read (completely) is named in the message

    Read fresh like `aps` (under the shared session limit); `state_since` comes from the scheduled
    checks' memory (`ap_state`). The CSV is streamed to a temporary file in a worker thread, so a
    10,000-AP fleet is never one string; the front door delivers and deletes it (and a cancelled
    export deletes it itself: `_write_in_thread`).
    """
    reports = await ctx.fleet.read_sites(sites)
    states = await _ap_states(ctx, reports)
    return await _write_in_thread(
        lambda: exports.fleet_export(reports, states, affected_only=affected), Reply.discard_files
    )


@command(
    "history",
    slow=reading("reading the history of"),
    requires=("store",),
    unavailable="History (it needs the bot's database)",
)
async def history(ctx: CommandContext, site: Site) -> Reply:
    """the last scheduled checks of a site

    the last scheduled checks of the site

    Days whose checks were pruned come as daily summaries, shown apart and marked.
    """
    assert ctx.store is not None
    entries = await ctx.store.read(history_store.site_history, site, limit=10)
    rows = [
        HistoryRow(
            s.taken_at,
            s.controller,
            s.status,
            s.stuck_count,
            s.total_aps if s.aps_read else None,
            s.downloading_count,
            s.incomplete,
        )
        for check in entries
        if isinstance(check, SiteCheck)
        for s in check.snapshots
    ]
    days = [
        HistoryRow(
            c.last_at,
            c.controller,
            c.status,
            c.stuck_aps,
            c.total_aps if c.aps_read else None,
            c.downloading_aps,
            c.aps_incomplete,
        )
        for day in entries
        if isinstance(day, SiteDay)
        for c in day.controllers
    ]
    if not days:
        return history_reply(site, rows)
    return handlers.history_with_daily_summaries(site, history_reply(site, rows) if rows else None, days)


@command(
    "digest",
    slow=saying("Building the digest…"),
    requires=("post_digest", "channel"),
    unavailable="The digest (it needs the bot's database)",
)
async def digest(ctx: CommandContext) -> Reply:
    """post the fleet digest here now

    posts the fleet digest in this channel now
    """
    assert ctx.post_digest is not None and ctx.channel is not None
    await ctx.post_digest(ctx.channel)
    return Reply(title="Digest posted.", ephemeral=True)


@command("home", requires=("store",), unavailable="The home (it needs the bot's database)")
async def home_(ctx: CommandContext) -> Reply:
    """the fleet at a glance and what waits for you (the Home tab)

    what the bot's **Home** tab in Slack shows: sites by verdict, worst first, with stuck and downloading counts
    and the age of the last check; the requests waiting for your approval; runs in progress and scheduled; your
    own recent requests

    Read from the store only (the last checks), never from the controllers, so it answers at once.
    """
    assert ctx.store is not None
    # The sites are what `status` shows: a caller `CCERT_ACCESS` keeps from `status` does not see them here either.
    return await home.home_reply(
        ctx.store,
        ctx.inventory,
        ctx.remediation,
        ctx.caller,
        zone=ctx.fleet.settings.zone,
        fleet=ctx.allows("status"),
    )


def _remediate_ack(cmd: Command, ctx: CommandContext, args: Mapping[str, Any]) -> Reply:
    site, controller = args["site"], args["controller"]
    target = controller or f"{site} ({len(ctx.inventory.sites[site].controllers)} controllers)"
    verb = "dry run for" if args["dry_run"] else "preparing a time-back request for"
    if args.get("at") and not args["dry_run"]:
        verb = f"preparing a time-back request (window {args['at']}) for"
    return Reply(title=f"{verb} {target}: reading the controllers…", ephemeral=True)


@command(
    "remediate",
    access=Access.APPROVERS,
    slow=_remediate_ack,
    requires=("remediation",),
    unavailable="The time-back playbook (it needs the bot's database)",
    denied=(
        "Time-back requests and dry runs are for the people `CCERT_ACCESS` names for `remediate`, "
        "or, when it names nobody for it, for the approvers (`CCERT_APPROVERS`). "
        "Ask a ccert-bot admin to add you if you need it."
    ),
    buttons={
        "timeback_request": _site_and_controller,
        "timeback_dry_run": lambda value: [*_site_and_controller(value), "--dry-run"],
    },
)
async def remediate(ctx: CommandContext, site: Site, controller: ControllerOfSite, dry_run: DryRun, at: At) -> Reply:
    """request the time-back playbook (needs two approvals); --at runs it in a change window; --dry-run only shows

    request the time-back playbook (the **Request time-back** button does the same); `--at <time>` (`22:00`,
    `'Sat 22:00'`, `'2026-12-05 22:00'`, in `CCERT_TIMEZONE`) starts the approved run at that window instead
    of at once; `--dry-run` (the **Dry run** button) only shows every command. Closed by default: only who
    `CCERT_ACCESS` names for `remediate`, or, when it does not name `remediate`, the approvers
    (`CCERT_APPROVERS`); the dry run follows the same rule, since it reads the production controllers

    A change targets one site (never `all`), optionally one of its controllers. A request reads
    the controllers first, so the approvers see today's clock and NTP. `CCERT_CHANGE_WINDOWS`
    refuses a start outside its windows, naming the next allowed one.
    """
    service = ctx.remediation
    assert service is not None
    try:
        if dry_run:
            return remediation_views.dry_run_reply(await service.preview(site, controller))
        when = None
        if at is not None:
            try:
                when = parse_at(at, service.now(), service.config.zone)
            except ScheduleTimeError as bad:
                return remediation_views.refused_reply(str(bad))
        view = await service.create_request(site, controller, ctx.caller.user_id, ctx.caller.channel_id, at=when)
    except RequestRefused as refused:
        return remediation_views.refused_reply(refused.reason)
    return remediation_views.created_reply(view)


async def _vote(ctx: CommandContext, request_id: int, approve: bool, comment: str | None) -> CommandResult:
    """The vote is counted at once; the approval that completes a request starts its run.

    `comment` is a reject's reason (required, the parser saw to that) or an approval's
    optional comment; the service keeps it with the vote, in the audit, on the request
    message and in its thread.
    """
    service = ctx.remediation
    assert service is not None
    voter = Voter(ctx.caller.user_id, ctx.caller.groups)
    try:
        result = await service.vote(request_id, voter, approve, comment=comment)
    except RequestRefused as refused:
        return CommandResult(remediation_views.refused_reply(refused.reason))
    if result.approved_now:
        if ctx.spawn is None:  # the console: run in the foreground and say how it ended

            async def run() -> Reply:
                await service.start_run(request_id)
                return remediation_views.progress_reply(await service.request_view(request_id))

            return CommandResult(remediation_views.vote_reply(result.accepted, result.reason), run)
        ctx.spawn(service.start_run(request_id), f"remediation-run-{request_id}")
    return CommandResult(remediation_views.vote_reply(result.accepted, result.reason))


@command(
    "approve",
    requires=("remediation",),
    unavailable="Remediation (it needs the bot's database)",
    buttons={APPROVE_ACTION: lambda value: [value]},
)
async def approve(ctx: CommandContext, request_id: RequestId, comment: ApproveComment) -> CommandResult:
    """approve a remediation request, optionally with a comment (the Approve button)

    vote for a request, optionally with a comment (the **Approve** button asks for it in a form); the comment
    goes to the request's thread, its message and the audit

    Open to everyone here: the remediation service checks a vote against `CCERT_APPROVERS`.
    In Slack the button opens a form (`bot.slack.modals`) whose submission is dispatched as
    this command, so a click and a typed vote pass the same checks.
    """
    return await _vote(ctx, request_id, approve=True, comment=comment)


@command(
    "reject",
    requires=("remediation",),
    unavailable="Remediation (it needs the bot's database)",
    buttons={REJECT_ACTION: lambda value: [value]},
)
async def reject(ctx: CommandContext, request_id: RequestId, reason: RejectReason) -> CommandResult:
    """reject a remediation request, saying why (the Reject button)

    vote against a request, with its reason (required: the **Reject** button asks for it in a form); the
    reason goes to the request's thread, its message and the audit

    A click of the button without the form (the console types its `console_command`) is
    `reject <id>` and so gets the refusal that says how to give the reason.
    """
    return await _vote(ctx, request_id, approve=False, comment=reason)


@command(
    "cancel",
    requires=("remediation",),
    unavailable="Remediation (it needs the bot's database)",
    buttons={CANCEL_ACTION: lambda value: [value]},
)
async def cancel(ctx: CommandContext, request_id: RequestId) -> Reply:
    """end a request before its run starts (the Cancel button)

    end a pending or scheduled request before its run starts (the **Cancel** button): its requester or an
    approver; a run that has started is never stopped half-way
    """
    assert ctx.remediation is not None
    try:
        result = await ctx.remediation.cancel(request_id, Voter(ctx.caller.user_id, ctx.caller.groups))
    except RequestRefused as refused:
        return remediation_views.refused_reply(refused.reason)
    return remediation_views.vote_reply(result.accepted, result.reason)


def _window_words(value: str) -> list[str]:
    """The window picker's value `12 2026-12-05T22:00` as `schedule` words."""
    request_id, _, when = value.partition(" ")
    return [request_id, "--at", when]


@command(
    "schedule",
    usage_args="<request-id> --at 'Sat 22:00'",
    requires=("remediation",),
    unavailable="Remediation (it needs the bot's database)",
    buttons={WINDOW_ACTION: _window_words},
)
async def schedule(ctx: CommandContext, request_id: RequestId, at: At) -> Reply:
    """set the change window of a request nobody approved yet (the window picker)

    set or move the change window of a pending request nobody has approved yet (the request's window picker);
    the approved run then starts at that time (`CCERT_TIMEZONE`)
    """
    service = ctx.remediation
    assert service is not None
    if at is None:
        return remediation_views.refused_reply(f"When? e.g. `/ccert schedule {request_id} --at 'Sat 22:00'` ({FORMS}).")
    try:
        when = parse_at(at, service.now(), service.config.zone)
        result = await service.schedule(request_id, Voter(ctx.caller.user_id, ctx.caller.groups), when)
    except ScheduleTimeError as bad:
        return remediation_views.refused_reply(str(bad))
    except RequestRefused as refused:
        return remediation_views.refused_reply(refused.reason)
    if result.accepted:
        return remediation_views.vote_reply(
            True, f"Request #{request_id} starts at {local_time(when, service.config.zone)} once approved."
        )
    return remediation_views.vote_reply(False, result.reason)


def _audit_export_refusal(ctx: CommandContext, view: RequestView) -> Reply | None:
    """Why `audit --export` may not share this request's audit where it was typed; None when it may.

    The CSV holds every command sent and its output (secrets redacted, but hostnames, addresses
    and configuration all the same), and plain `audit` keeps that private. A file goes to the
    whole channel it is posted in, so it is posted only where the request, its votes and its
    run's steps were already posted: the request's own channel, whose people saw all of it.
    A request posted in no channel (made from the Home tab) may be shared by its requester or
    an approver, who answer for the change and choose where its record goes. The console writes
    the file to the operator's disk (`CCERT_EXPORT_DIR`), which no channel sees: always allowed.
    """
    assert ctx.remediation is not None
    if ctx.spawn is None:  # the console (see CommandContext)
        return None
    if view.channel and view.message_ts:
        if ctx.channel == view.channel:
            return None
        return exports.audit_export_elsewhere(view.id, view.channel)
    voter = Voter(ctx.caller.user_id, ctx.caller.groups)
    if voter.user_id == view.requester or is_approver(voter, ctx.remediation.config.policy):
        return None
    return exports.audit_export_not_theirs(view.id)


def _audit_ack(cmd: Command, ctx: CommandContext, args: Mapping[str, Any]) -> Reply:
    return Reply(title=f"reading the audit trail of request #{args['request_id']}…", ephemeral=True)


@command(
    "audit",
    slow=_audit_ack,
    requires=("remediation",),
    unavailable="The audit trail (it needs the bot's database)",
)
async def audit(ctx: CommandContext, request_id: RequestId, export: Export) -> Reply:
    """everything a remediation request did, in order; --export as a CSV file

    everything a request did: votes, every command sent with its output (secrets redacted), steps, undo, end;
    `--export` posts it as a CSV file in the request's own channel (typed elsewhere it is refused, saying where)

    Without `--export` the answer is private (ephemeral). The CSV cannot be: Slack has no private
    file in a channel, and a DM would be invisible (the app's Messages tab is off), so the file
    is shared only where the request already is (`_audit_export_refusal`).
    """
    assert ctx.remediation is not None
    entries = await ctx.remediation.audit(request_id)
    if not export:
        return remediation_views.audit_reply(request_id, entries)
    if not entries:
        return Reply(
            title=f"Request #{request_id} has no audit entries: nothing to export.",
            level=Level.WARNING,
            ephemeral=True,
        )
    refusal = _audit_export_refusal(ctx, await ctx.remediation.request_view(request_id))
    if refusal is not None:
        return refusal
    file = await _write_in_thread(lambda: exports.write_audit_csv(request_id, entries), ReplyFile.discard)
    return exports.audit_export_reply(request_id, file)
