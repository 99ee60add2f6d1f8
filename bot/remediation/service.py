"""The remediation service: requests, two-person approval, runs, audit — what the chat calls.

    service = RemediationService(store, inventory, RemediationConfig.from_settings(settings), environ, announcer)
    view = await service.create_request("site-a", None, requester="U1", channel="C1")   # or RequestRefused
    result = await service.vote(view.id, Voter("U2", groups), approve=True)              # result.reason if refused
    if result.approved_now:
        asyncio.create_task(service.start_run(view.id))                                   # returns when finished
    await service.expire_due()                                                            # from the scheduler
    entries = await service.audit(view.id)

A request is built from a fresh read of the controllers (never from a stale
snapshot): the approvers see the current clock and NTP, the proposed clock,
the stuck APs it is for, and every command the run would send. The
approval rules are the pure ones in `bot.domain.approvals`; the store
enforces one active request/run per controller. With an announcer (the
chat side's `RequestAnnouncer`, see `announcer.py`), the service posts and
updates the request message itself (progress in the message, notable events
in its thread); without one, the caller renders the returned views
(`bot.chat.remediation_views`). Its fresh reads go through the bot's one
`FleetReader`, under the session limit every read shares.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.controllers.polling import PollOptions
from bot.controllers.session import ControllerSession, SessionOptions
from bot.domain.advisory_data import Advisory
from bot.domain.advisory_file import load_advisory
from bot.domain.approvals import (
    MAX_COMMENT_CHARS,
    Approval,
    ApprovalPolicy,
    RequestState,
    RequestStatus,
    VoteKind,
    Voter,
    decide_cancel,
    decide_vote,
    is_approver,
)
from bot.domain.change_windows import ChangeWindows, parse_windows
from bot.domain.models import ControllerSnapshot, ErrorKind
from bot.fleet.reader import FleetReader
from bot.inventory import Controller, Inventory
from bot.remediation.actions import target_plan
from bot.remediation.announcer import AnnounceError, MessageRef, RequestAnnouncer
from bot.remediation.chat_queue import RequestChat
from bot.remediation.device import SessionFactory
from bot.remediation.dryrun import dry_run
from bot.remediation.engine import (
    Engine,
    FenceSource,
    ProgressListener,
    RetryPolicy,
    RunEvent,
    RunInfo,
    RunOutcome,
    StepInfo,
    create_run,
    utc_now,
)
from bot.remediation.models import (
    ApprovalView,
    CommandView,
    PreviewView,
    RequestView,
    RunView,
    StepView,
    StuckAPView,
    TargetView,
)
from bot.remediation.playbook_loader import Playbook, PlaybookError, default_playbook_dir, parse_datetime, playbook_for
from bot.remediation.recovery import RecoveryResult, recover, settle_request
from bot.store import NotFoundError, StateError, Store
from bot.store import remediation as q

log = logging.getLogger(__name__)

# How long a finished run waits for its chat to catch up before returning (the drain goes on).
CHAT_CATCH_UP_SECONDS = 60.0


class RequestRefused(Exception):
    """A request (or a run start) the service will not accept; `reason` is for the person who asked."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RemediationRecorder(Protocol):
    """Who is told how requests and runs end (metrics). Request outcomes: created, refused,
    approved, rejected, expired; run outcomes: a `RunOutcome.status` (succeeded, failed,
    needs_attention), or refused when an approved request could not start (nothing was sent)."""

    def remediation_request(self, outcome: str) -> None: ...

    def remediation_run(self, outcome: str) -> None: ...


class _NoRecorder:
    def remediation_request(self, outcome: str) -> None:
        pass

    def remediation_run(self, outcome: str) -> None:
        pass


@dataclass(frozen=True)
class RemediationConfig:
    """The settings remediation needs (the lead wires them from `Settings`).

    CCERT_REQUIRED_APPROVALS (2), CCERT_APPROVERS (""), CCERT_APPROVAL_TTL_MINUTES (60),
    CCERT_PLAYBOOK_WAIT_MINUTES (60), CCERT_PLAYBOOK_POLL_SECONDS (120), CCERT_PLAYBOOK_DIR (playbooks/).
    `param_overrides` adds playbook parameter values (tests: second-scale waits).
    """

    policy: ApprovalPolicy = field(default_factory=ApprovalPolicy)
    session: SessionOptions = field(default_factory=SessionOptions)
    wait_seconds: float = 3600.0
    poll_seconds: float = 120.0
    playbook_dir: Path | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    param_overrides: Mapping[str, Any] = field(default_factory=dict)
    # CCERT_CHANGE_WINDOWS in CCERT_TIMEZONE (empty: a run may start any time).
    windows: ChangeWindows = field(default_factory=ChangeWindows)
    # How often the window timer looks at the store at most (it also wakes when a request is
    # scheduled or cancelled, and at the earliest window start it knows).
    schedule_check_seconds: float = 30.0

    @property
    def zone(self) -> ZoneInfo:
        return self.windows.zone

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> RemediationConfig:
        """Read the remediation settings, with the documented defaults for fields not (yet) in Settings."""
        policy = ApprovalPolicy(
            required_approvals=int(getattr(settings, "required_approvals", 2)),
            approvers=ApprovalPolicy.parse_approvers(getattr(settings, "approvers", "") or ""),
            ttl=timedelta(minutes=float(getattr(settings, "approval_ttl_minutes", 60))),
        )
        session = SessionOptions(
            timeout_seconds=settings.ssh_timeout_seconds,
            strict_host_keys=settings.ssh_strict_host_keys,
            known_hosts=settings.ssh_known_hosts,
        )
        values: dict[str, Any] = {
            "policy": policy,
            "session": session,
            "wait_seconds": float(getattr(settings, "playbook_wait_minutes", 60)) * 60,
            "poll_seconds": float(getattr(settings, "playbook_poll_seconds", 120)),
            "playbook_dir": getattr(settings, "playbook_dir", None),
            "windows": parse_windows(
                getattr(settings, "change_windows", "") or "", ZoneInfo(getattr(settings, "timezone", "UTC") or "UTC")
            ),
        }
        values.update(overrides)
        return cls(**values)

    @property
    def setting_defaults(self) -> dict[str, Any]:
        return {"playbook_wait_seconds": self.wait_seconds, "playbook_poll_seconds": self.poll_seconds}


@dataclass(frozen=True)
class VoteResult:
    """One click's outcome: show `reason` to the clicker; start the run when `approved_now`."""

    accepted: bool
    reason: str
    view: RequestView
    approved_now: bool = False
    remaining: int = 0


def _state(row: q.RequestRow) -> RequestState:
    return RequestState(
        id=row.id,
        requester=row.requester,
        status=RequestStatus(row.status),
        created_at=row.created_at,
        expires_at=row.expires_at,
        approvals=tuple(Approval(v.user_id, v.at) for v in row.approvals),
        rejected_by=row.rejected_by,
        decided_at=row.decided_at,
        scheduled_for=row.scheduled_for,
    )


def clean_comment(text: str | None) -> str | None:
    """A voter's words as kept: one line per line, no control characters, at most
    MAX_COMMENT_CHARS (they go to Slack, the audit and the request message, never to a device)."""
    if text is None:
        return None
    kept = "".join(c if c == "\n" or (c.isprintable() and c not in "\u2028\u2029") else " " for c in text)
    # `<@U…>`, `<#C…>`, `<!here>`, `<https://…|label>`: a voter's words never ping, link or disguise.
    kept = kept.replace("<", "\u2039").replace(">", "\u203a")
    lines = [" ".join(line.split()) for line in kept.split("\n")]
    cleaned = "\n".join(line for line in lines if line).strip()
    return cleaned[:MAX_COMMENT_CHARS] or None


def _run_view(run: q.RunRow) -> RunView:
    steps = tuple(
        StepView(s.idx, s.step_id, s.title, s.state, s.duration_seconds, s.result.get("summary"), s.error)
        for s in run.steps
    )
    return RunView(run.id, run.controller, run.status, steps, run.outcome, run.warnings)


def _vote_note(user_id: str, kind: VoteKind, comment: str | None, view: RequestView) -> str:
    """The thread's line for a counted vote: who, what, their words, and what happens next."""
    words = f": “{comment}”" if comment else ""
    if kind is VoteKind.REJECT:
        who = "withdrew the request" if user_id == view.requester else "rejected the request"
        return f"🚫 <@{user_id}> {who}{words}. Nothing will run."
    if view.status is RequestStatus.SCHEDULED and view.scheduled_for is not None:
        then = f"approved{words}. The run is scheduled for {view.scheduled_for:%Y-%m-%d %H:%M} UTC."
    elif view.status is RequestStatus.APPROVED:
        then = f"approved{words}. The run is starting."
    else:
        then = f"approved{words}. Still needed: {view.remaining}."
    return f"✅ <@{user_id}> {then}"


def _vote_level(kind: VoteKind) -> str:
    return "warning" if kind is VoteKind.REJECT else "ok"


Spawn = Callable[[Any, str], object]


class _FanOut:
    """Several progress listeners as one (the caller's and the chat's)."""

    def __init__(self, listeners: Sequence[ProgressListener]) -> None:
        self.listeners = list(listeners)

    async def _each(self, name: str, *args: Any) -> None:
        for listener in self.listeners:
            try:
                await getattr(listener, name)(*args)
            except asyncio.CancelledError:
                raise
            except Exception:  # one broken listener must not silence the others
                log.exception("progress listener %s failed (ignored)", type(listener).__name__)

    async def step_started(self, run: RunInfo, step: StepInfo) -> None:
        await self._each("step_started", run, step)

    async def step_finished(self, run: RunInfo, step: StepInfo) -> None:
        await self._each("step_finished", run, step)

    async def event(self, run: RunInfo, event: RunEvent) -> None:
        await self._each("event", run, event)


class ChatProgress:
    """Shows a run in chat: the request message is refreshed with the progress list after each
    step; notable events go to its thread. Both only queue (`RequestChat`): a step never waits
    on Slack, and delivery failures are logged, never raised.

    `request_id` None: each run's own request (recovery, which brings back the runs of several
    requests at once; a run without a request has no thread and is not shown)."""

    def __init__(self, chat: RequestChat, request_id: int | None = None) -> None:
        self.chat = chat
        self.request_id = request_id

    def _request(self, run: RunInfo) -> int | None:
        return self.request_id if self.request_id is not None else run.request_id

    async def step_started(self, run: RunInfo, step: StepInfo) -> None:
        if (request_id := self._request(run)) is not None:
            self.chat.refresh(request_id)

    async def step_finished(self, run: RunInfo, step: StepInfo) -> None:
        if (request_id := self._request(run)) is not None:
            self.chat.refresh(request_id)

    async def event(self, run: RunInfo, event: RunEvent) -> None:
        if (request_id := self._request(run)) is not None:
            self.chat.event(request_id, run, event)


class RemediationService:
    def __init__(
        self,
        store: Store,
        inventory: Inventory,
        config: RemediationConfig,
        environ: Mapping[str, str] | None = None,
        announcer: RequestAnnouncer | None = None,
        *,
        advisory: Advisory | None = None,
        now: Any = utc_now,
        sleep: Any = asyncio.sleep,
        session_factory: SessionFactory = ControllerSession,
        recorder: RemediationRecorder | None = None,
        reader: FleetReader | None = None,
        window_clock: Any = None,
        fence: FenceSource | None = None,
        instance: str | None = None,
    ) -> None:
        self.store = store
        # Active/standby (`bot.jobs.leadership`): the instance that drives runs, and what each
        # device-changing step must still hold. None: a lone bot or a test, nothing to fence.
        self.fence = fence
        self.instance = instance
        self.inventory = inventory
        self.config = config
        self.environ = environ
        self.announcer = announcer
        self.advisory = advisory or load_advisory()
        self.now = now
        # What the window timer reads to decide that a window has begun (`now` unless a test
        # moves it on its own: the runs themselves always use `now`, like the controllers do).
        self.window_clock = window_clock or now
        self.sleep = sleep
        self.session_factory = session_factory
        self.recorder: RemediationRecorder = recorder or _NoRecorder()
        # The bot's one reader (the session limit shared with status and the checks); a service
        # built alone gets its own, with the default limit.
        self.reader = reader if reader is not None else FleetReader()
        # The request messages and threads, told from their own tasks (never from a step or a vote).
        self.chat = RequestChat(self._send_refresh, self._send_event, post_note=self._send_note)
        # Told (synchronously; each only schedules its own work) whenever a request changes: the
        # Home tab republishes from here.
        self._listeners: list[Callable[[RequestView], None]] = []
        # Woken when a request is scheduled or cancelled, so the window timer re-reads the store.
        self._schedule_changed = asyncio.Event()
        self._runs: set[asyncio.Task[None]] = set()  # scheduled runs started without a spawner
        self._starting: set[int] = set()  # requests whose start_run is under way here

    def add_listener(self, callback: Callable[[RequestView], None]) -> None:
        """Call `callback(view)` after every change of a request (created, vote, window, run, end).
        It runs inline and must not block or raise; a failing one is logged and skipped."""
        self._listeners.append(callback)

    # --- helpers ---------------------------------------------------------------------------------

    def _playbook(self, platform: str) -> Playbook:
        return playbook_for(platform, self.config.playbook_dir or default_playbook_dir())

    def engine(self, listener: ProgressListener | None = None) -> Engine:
        return Engine(
            self.store,
            environ=self.environ,
            session_options=self.config.session,
            listener=listener,
            retry=self.config.retry,
            advisory=self.advisory,
            now=self.now,
            sleep=self.sleep,
            session_factory=self.session_factory,
            fence=self.fence,
        )

    async def _read(self, controllers: Sequence[Controller]) -> list[ControllerSnapshot]:
        options = PollOptions(session=self.config.session)
        return await self.reader.read(controllers, options, self.environ, session_factory=self.session_factory)

    def _target(
        self, controller: Controller, snapshot: ControllerSnapshot, params: Mapping[str, Any] | None, now: datetime
    ) -> TargetView:
        blocking = [
            e
            for e in snapshot.errors
            if e.kind in {ErrorKind.UNREACHABLE, ErrorKind.TIMEOUT, ErrorKind.AUTH_FAILED, ErrorKind.HOST_KEY}
        ]
        if blocking:
            raise RequestRefused(f"could not read {controller.name}: {blocking[0].message}")
        if snapshot.clock is None:
            raise RequestRefused(
                f"could not read the clock and NTP configuration of {controller.name}: "
                + "; ".join(e.message for e in snapshot.errors)
            )
        try:
            playbook = self._playbook(controller.platform)
            values = playbook.resolve_params(
                {**self.config.param_overrides, **dict(params or {})}, self.config.setting_defaults
            )
        except PlaybookError as exc:
            raise RequestRefused(f"the {controller.platform} playbook cannot run: {exc}") from None
        certificate = snapshot.certificate
        if certificate is None and not values.get("allow_unknown_certificate"):
            raise RequestRefused(
                f"{controller.name}: the controller certificate's start date could not be read, so no clock target "
                "can be shown to be safe; check it by hand (AireOS `show certificate summary`, 9800 `show crypto "
                "pki certificates <trustpoint>`) or use a staging controller"
            )
        plan, refusal = target_plan(certificate, values.get("target", "auto"), self.advisory)
        if refusal is not None:
            raise RequestRefused(f"{controller.name}: {refusal}")
        values["target"] = plan.target
        dr = dry_run(playbook, snapshot, values, now)
        stuck = tuple(StuckAPView(ap.name, ap.model, ap.state) for ap in snapshot.aps if ap.is_downloading)
        warnings = list(plan.warnings) + list(dr.notes)
        if not stuck:
            warnings.append(
                "no AP is Downloading on this controller right now: the time-back only helps APs that "
                "are stuck downloading"
            )
        stored = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()}
        return TargetView(
            controller=controller.name,
            platform=str(controller.platform),
            playbook=playbook.name,
            playbook_digest=playbook.digest,
            current_clock=dr.current_clock,
            current_clock_source=dr.current_clock_source,
            proposed_clock=dr.proposed_clock,
            proposed_local=dr.proposed_local,
            utc_offset_seconds=int(dr.utc_offset.total_seconds()) if dr.utc_offset is not None else None,
            ntp_servers=dr.current_ntp,
            stuck_aps=stuck,
            commands=tuple(CommandView(c.step, c.command, c.changes, c.note) for c in dr.commands),
            params=stored,
            warnings=tuple(warnings),
            total_aps=len(snapshot.aps),
        )

    # --- requests --------------------------------------------------------------------------------

    async def create_request(
        self,
        site: str,
        controller: str | None,
        requester: str,
        channel: str | None,
        *,
        params: Mapping[str, Any] | None = None,
        now: datetime | None = None,
        at: datetime | None = None,
    ) -> RequestView:
        """Read the controller(s) fresh, build the dry-run and open a pending request; with `at`
        (a change window's start) an approval schedules the run for then instead of starting it.

        Raises RequestRefused (with the reason to show) for an unknown site or
        controller, no approvers configured, a controller that already has an
        active request or run, a controller that cannot be read, bad
        parameters, or a time-back that is impossible (staging controller advice).
        """
        try:
            view = await self._create_request(site, controller, requester, channel, params=params, now=now, at=at)
        except RequestRefused:
            self.recorder.remediation_request("refused")
            raise
        self.recorder.remediation_request("created")
        return view

    async def _create_request(
        self,
        site: str,
        controller: str | None,
        requester: str,
        channel: str | None,
        *,
        params: Mapping[str, Any] | None,
        now: datetime | None,
        at: datetime | None,
    ) -> RequestView:
        now = now or self.now()
        controllers = self._controllers(site, controller)
        if not self.config.policy.approvers:
            raise RequestRefused("no approvers are configured (CCERT_APPROVERS): nobody could approve the request")
        self._check_window(at or now, scheduled=at is not None)
        active = await self.store.read(q.active_controllers)
        busy = [
            f"{c.name} already has request #{active[c.name][0]} ({active[c.name][1].replace('_', ' ')})"
            for c in controllers
            if c.name in active
        ]
        if busy:
            raise RequestRefused("; ".join(busy) + ": only one request or run per controller at a time")
        snapshots = await self._read(controllers)
        targets = [self._target(c, s, params, now) for c, s in zip(controllers, snapshots, strict=True)]
        policy = self.config.policy
        try:
            request_id = await self.store.write(
                q.insert_request,
                site=site,
                requester=requester,
                created_at=now,
                # Approval may come any time before the window: the request never expires while it waits.
                expires_at=max(now + policy.ttl, at) if at is not None else now + policy.ttl,
                required_approvals=policy.required_approvals,
                scheduled_for=at,
                channel=channel,
                view={"targets": [t.to_dict() for t in targets]},
                targets=[
                    {"controller": t.controller, "platform": t.platform, "playbook": t.playbook, "params": t.params}
                    for t in targets
                ],
            )
        except q.ControllerBusyError as exc:
            raise RequestRefused(str(exc)) from None
        view = await self.request_view(request_id)
        if self.announcer is not None and channel:
            try:
                posted = await self.announcer.post_request(channel, view, now)
                await self.store.write(q.set_request_message, request_id, posted.channel, posted.ts)
                view = await self.request_view(request_id)
            except AnnounceError as exc:
                log.warning("could not post request #%s: %s", request_id, exc.reason)
        self._changed(view)
        if at is not None:
            self._schedule_changed.set()
        return view

    def _check_window(self, when: datetime, *, scheduled: bool) -> None:
        """Refuse a start outside CCERT_CHANGE_WINDOWS, naming the next allowed start."""
        windows = self.config.windows
        if windows.allows(when):
            return
        start = windows.next_start(when)
        hint = f"; ask for it with `--at '{start:%a %H:%M}'`" if not scheduled else ""
        moment = f"{when.astimezone(windows.zone):%a %Y-%m-%d %H:%M}" if scheduled else "now"
        raise RequestRefused(
            f"{moment} is outside the change windows ({windows.describe()}): the next allowed start is "
            f"{start:%a %Y-%m-%d %H:%M %Z}{hint}"
        )

    def _controllers(self, site: str, controller: str | None) -> list[Controller]:
        found = self.inventory.site(site)
        if found is None:
            raise RequestRefused(f"unknown site '{site}'")
        controllers = list(found.controllers)
        if controller is not None:
            controllers = [c for c in controllers if c.name == controller]
            if not controllers:
                raise RequestRefused(f"site '{site}' has no controller '{controller}'")
        return controllers

    async def preview(
        self,
        site: str,
        controller: str | None,
        *,
        params: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> PreviewView:
        """A dry run: read the controller(s) fresh and show what a request would do; stores nothing.

        Raises RequestRefused like `create_request` when a controller cannot be
        read or the time-back is impossible there; a controller that already
        has an active request is previewed anyway, with a note.
        """
        now = now or self.now()
        controllers = self._controllers(site, controller)
        snapshots = await self._read(controllers)
        targets = tuple(self._target(c, s, params, now) for c, s in zip(controllers, snapshots, strict=True))
        active = await self.store.read(q.active_controllers)
        notes = tuple(
            f"{c.name} already has request #{active[c.name][0]} ({active[c.name][1].replace('_', ' ')}): a new "
            "request for it would be refused until that one ends"
            for c in controllers
            if c.name in active
        )
        return PreviewView(site=site, targets=targets, notes=notes, read_at=now)

    async def attach_message(self, request_id: int, channel: str, ts: str) -> None:
        """Remember where the caller posted the request message (when the service has no announcer)."""
        await self.store.write(q.set_request_message, request_id, channel, ts)

    async def request_view(self, request_id: int) -> RequestView:
        row = await self.store.read(q.get_request, request_id)
        runs = await self.store.read(q.runs_for_request, request_id)
        return RequestView(
            id=row.id,
            site=row.site,
            requester=row.requester,
            status=RequestStatus(row.status),
            created_at=row.created_at,
            expires_at=row.expires_at,
            required_approvals=row.required_approvals,
            approvals=tuple(ApprovalView(v.user_id, v.at, v.comment) for v in row.approvals),
            targets=tuple(TargetView.from_dict(t) for t in row.view.get("targets", [])),
            rejected_by=row.rejected_by,
            decided_at=row.decided_at,
            channel=row.channel,
            message_ts=row.message_ts,
            note=row.note,
            runs=tuple(_run_view(r) for r in runs),
            scheduled_for=row.scheduled_for,
            cancelled_by=row.cancelled_by,
            rejection_reason=next(
                (v.comment for v in reversed(row.votes) if v.vote == "reject" and v.counted and v.comment), None
            ),
        )

    async def _update_message(self, view: RequestView) -> None:
        """Queue a refresh of the request message (it is re-read from the store when sent), and
        tell the listeners the request changed."""
        if self.announcer is not None and view.channel and view.message_ts:
            self.chat.refresh(view.id)
        self._changed(view)

    def _note(self, view: RequestView, text: str, level: str = "info") -> None:
        """Queue a line for the request's thread (never waits on the chat)."""
        if self.announcer is not None and view.channel and view.message_ts:
            self.chat.note(view.id, text, level)

    def _changed(self, view: RequestView) -> None:
        for callback in list(self._listeners):
            try:
                callback(view)
            except Exception:  # a broken listener must not undo a vote or a run
                log.exception("request listener %r failed (ignored)", callback)

    async def _send_note(self, request_id: int, text: str, level: str) -> None:
        view = await self.request_view(request_id)
        if self.announcer is None or not view.channel or not view.message_ts:
            return
        try:
            await self.announcer.post_note(MessageRef(view.channel, view.message_ts), request_id, text, level)
        except AnnounceError as exc:
            log.warning("could not post a note for request #%s: %s", request_id, exc.reason)

    async def _send_refresh(self, request_id: int) -> None:
        view = await self.request_view(request_id)
        if self.announcer is None or not view.channel or not view.message_ts:
            return
        try:
            await self.announcer.update_request(MessageRef(view.channel, view.message_ts), view, self.now())
        except AnnounceError as exc:
            log.warning("could not update request #%s message: %s", request_id, exc.reason)

    async def _send_event(self, request_id: int, run: RunInfo, event: RunEvent) -> None:
        view = await self.request_view(request_id)
        if self.announcer is None or not view.channel or not view.message_ts:
            return
        try:
            await self.announcer.post_event(MessageRef(view.channel, view.message_ts), run, event)
        except AnnounceError as exc:
            log.warning("could not post run event for request #%s: %s", request_id, exc.reason)

    async def vote(
        self,
        request_id: int,
        voter: Voter,
        approve: bool,
        *,
        comment: str | None = None,
        now: datetime | None = None,
    ) -> VoteResult:
        """Apply one Approve/Reject click; every click is stored and audited, refused ones with their reason.

        `comment` is the voter's own words: required for a Reject (its reason), optional for an
        Approve. A counted one goes to the audit, the request message and its thread.
        """
        kind = VoteKind.APPROVE if approve else VoteKind.REJECT
        comment = clean_comment(comment)
        for _ in range(3):  # a concurrent click changed the request: decide again on the new state
            when = now or self.now()
            try:
                row = await self.store.read(q.get_request, request_id)
            except NotFoundError:
                raise RequestRefused(f"there is no request #{request_id}") from None
            decision = decide_vote(_state(row), voter, kind, when, self.config.policy, comment)
            new = decision.new_state
            try:
                await self.store.write(
                    q.record_vote,
                    request_id,
                    user_id=voter.user_id,
                    vote=kind.value,
                    at=when,
                    counted=decision.accepted,
                    reason=decision.reason,
                    expected_status=row.status,
                    new_status=new.status.value,
                    rejected_by=new.rejected_by,
                    decided_at=new.decided_at,
                    comment=comment,
                    expected_scheduled_for=row.scheduled_for,
                )
            except StateError:
                continue
            if decision.approved_now or decision.ended_now or decision.scheduled_now:
                self.recorder.remediation_request(new.status.value)  # approved, scheduled, rejected or expired
            view = await self.request_view(request_id)
            if decision.accepted:
                self._note(view, _vote_note(voter.user_id, kind, comment, view), _vote_level(kind))
            if decision.accepted or decision.ended_now:
                await self._update_message(view)
            if decision.scheduled_now:
                self._schedule_changed.set()
            return VoteResult(
                decision.accepted, decision.reason, view, decision.approved_now, decision.approvals_remaining
            )
        raise RequestRefused("the request changed while your click was handled; please click again")

    async def expire_due(self, now: datetime | None = None) -> list[RequestView]:
        """Expire pending requests past their deadline (call from the scheduler); their messages say so."""
        ids = await self.store.write(q.expire_requests, now or self.now())
        for _ in ids:
            self.recorder.remediation_request(RequestStatus.EXPIRED.value)
        views = [await self.request_view(i) for i in ids]
        for view in views:
            await self._update_message(view)
        return views

    async def cancel(self, request_id: int, voter: Voter, *, now: datetime | None = None) -> VoteResult:
        """`/ccert cancel <id>` or the Cancel button: end a pending or scheduled request before its
        run starts (requester or an approver). A started run is never cancelled."""
        for _ in range(3):
            when = now or self.now()
            try:
                row = await self.store.read(q.get_request, request_id)
            except NotFoundError:
                raise RequestRefused(f"there is no request #{request_id}") from None
            decision = decide_cancel(_state(row), voter, when, self.config.policy)
            if not decision.accepted:
                return VoteResult(False, decision.reason, await self.request_view(request_id))
            try:
                await self.store.write(
                    q.cancel_request,
                    request_id,
                    user_id=voter.user_id,
                    at=when,
                    expected_status=row.status,
                    note=f"cancelled by <@{voter.user_id}> before it started; nothing was changed",
                )
            except StateError:
                continue
            self.recorder.remediation_request(RequestStatus.CANCELLED.value)
            view = await self.request_view(request_id)
            self._note(view, f"⏹️ <@{voter.user_id}> cancelled the request. Nothing will run.", "info")
            await self._update_message(view)
            self._schedule_changed.set()
            return VoteResult(True, decision.reason, view)
        raise RequestRefused("the request changed while your cancel was handled; please try again")

    async def schedule(self, request_id: int, voter: Voter, at: datetime, *, now: datetime | None = None) -> VoteResult:
        """Set or move the change window of a pending request nobody has approved yet (an approval
        is given for the window it saw). The requester or an approver may; CCERT_CHANGE_WINDOWS holds."""
        when = now or self.now()
        try:
            row = await self.store.read(q.get_request, request_id)
        except NotFoundError:
            raise RequestRefused(f"there is no request #{request_id}") from None
        state = _state(row)
        if voter.user_id != row.requester and not is_approver(voter, self.config.policy):
            return VoteResult(
                False, "Only the requester or an approver can choose the window.", await self.request_view(request_id)
            )
        if state.status is not RequestStatus.PENDING or row.approvals:
            return VoteResult(
                False,
                f"Request #{request_id} already has an approval or is no longer pending: an approval is for the "
                "window it saw. Cancel it and request again for another window.",
                await self.request_view(request_id),
            )
        self._check_window(at, scheduled=True)
        try:
            await self.store.write(
                q.set_schedule,
                request_id,
                scheduled_for=at,
                # From now: a window moved closer does not keep the old window's later deadline.
                expires_at=max(when + self.config.policy.ttl, at),
                user_id=voter.user_id,
                at=when,
            )
        except StateError as exc:
            return VoteResult(False, f"{exc}.", await self.request_view(request_id))
        view = await self.request_view(request_id)
        local = at.astimezone(self.config.zone)
        self._note(
            view, f"🗓️ <@{voter.user_id}> set the window: the run starts at {local:%a %Y-%m-%d %H:%M %Z} once approved."
        )
        await self._update_message(view)
        return VoteResult(
            True, f"Request #{request_id} will start at {local:%a %Y-%m-%d %H:%M %Z} once approved.", view
        )

    async def start_due(self, spawn: Spawn | None = None, now: datetime | None = None) -> list[int]:
        """Start every scheduled run whose window has begun (the window timer calls this).

        Each controller is read again first: the request was approved on how the controller
        looked hours ago. A controller whose APs are all past `Downloading` now (a complete,
        successful read) is left alone; when that is every controller, the request ends
        `cancelled` without a single change and its thread says so. A read that fails proves
        nothing: the run starts and its own steps read the controller before they change it.
        """
        when = now or self.window_clock()
        started: list[int] = []
        for request_id in await self.store.read(q.due_scheduled, when):
            try:
                if await self._start_one_due(request_id, when, spawn):
                    started.append(request_id)
            except asyncio.CancelledError:
                raise
            except Exception:  # one request that cannot start must not hold up the others
                log.exception("scheduled request #%s could not be started (it is tried again)", request_id)
        return started

    async def _start_one_due(self, request_id: int, when: datetime, spawn: Spawn | None) -> bool:
        row = await self.store.read(q.get_request, request_id)
        assert row.scheduled_for is not None
        late = when - row.scheduled_for
        if late > self.config.policy.ttl:
            # A window missed by more than the approval TTL (the bot was down over the weekend)
            # is not run on Monday morning: the approvers agreed to that window, not to any time.
            note = (
                f"missed its window ({row.scheduled_for:%Y-%m-%d %H:%M} UTC) by {int(late.total_seconds() // 60)} "
                "min, more than CCERT_APPROVAL_TTL_MINUTES: the run did not start and nothing was changed; "
                "request it again for a new window"
            )
            await self._end_unstarted(request_id, note, f"\u26a0\ufe0f The request {note}.", "warning")
            return False
        recovered = await self._recovered(row)
        names = {t.controller for t in row.targets}
        if names and recovered >= names:
            note = (
                f"at the window start no AP was Downloading any more on {', '.join(sorted(names))}: the run did "
                "not start and nothing was changed"
            )
            await self._end_unstarted(request_id, note, f"\u2705 {note[0].upper()}{note[1:]}.", "ok")
            return False
        try:
            await self.store.write(
                q.transition_request, request_id, "scheduled", "approved", self.now(), "its change window started"
            )
        except StateError:
            return False  # cancelled meanwhile
        view = await self.request_view(request_id)
        if recovered:
            self._note(
                view,
                f"The window started. {', '.join(sorted(recovered))} has no AP Downloading any more and is left "
                "alone; the run starts on the others.",
            )
        else:
            self._note(view, "\u25b6\ufe0f The window started: the run is starting.")
        coroutine = self._start_scheduled(request_id, frozenset(recovered))
        if spawn is not None:
            spawn(coroutine, f"remediation-run-{request_id}")
        else:
            task = asyncio.get_running_loop().create_task(coroutine, name=f"remediation-run-{request_id}")
            self._runs.add(task)  # a strong reference until it ends
            task.add_done_callback(self._runs.discard)
        return True

    async def _end_unstarted(self, request_id: int, note: str, thread_line: str, level: str) -> None:
        """End a scheduled request the bot will not start (`cancelled`, by nobody): its note in the
        audit, `thread_line` in its thread. A request cancelled meanwhile is left as it is."""
        try:
            await self.store.write(
                q.cancel_request, request_id, user_id=None, at=self.now(), expected_status="scheduled", note=note
            )
        except StateError:
            return
        self.recorder.remediation_request(RequestStatus.CANCELLED.value)
        view = await self.request_view(request_id)
        self._note(view, thread_line, level)
        await self._update_message(view)

    async def _start_scheduled(self, request_id: int, skip: frozenset[str]) -> None:
        try:
            await self.start_run(request_id, skip=skip)
        except RequestRefused as refused:
            log.warning("scheduled request #%s did not start: %s", request_id, refused.reason)
            self._note(await self.request_view(request_id), f"⚠️ The run did not start: {refused.reason}.", "warning")

    async def _recovered(self, row: q.RequestRow) -> set[str]:
        """Controllers of `row` read completely just now with no AP Downloading."""
        controllers = [c for c in (self.inventory.controller(t.controller) for t in row.targets) if c is not None]
        if not controllers:
            return set()
        snapshots = await self._read(controllers)
        return {
            c.name
            for c, snap in zip(controllers, snapshots, strict=True)
            if snap.aps_read
            and not snap.errors
            and not snap.incomplete_reasons
            and not any(ap.is_downloading for ap in snap.aps)
        }

    def wake_window_timer(self) -> None:
        """Make the window timer look at the store now (a test that moved its clock; a new window)."""
        self._schedule_changed.set()

    async def run_window_timer(self, spawn: Spawn | None = None) -> None:
        """Start scheduled runs at their windows until cancelled (one task, from the runtime).

        It sleeps until the earliest window it knows or `schedule_check_seconds`, whichever is
        first, and wakes early when a request is scheduled or cancelled. Everything it needs is
        in the store, so a restart re-arms every scheduled run (and one whose window began while
        the bot was down starts at once, if the change windows still allow it).
        """
        while True:
            self._schedule_changed.clear()
            wait = self.config.schedule_check_seconds
            try:
                await self.start_due(spawn)
                earliest = await self.store.read(q.next_scheduled)
                if earliest is not None:
                    wait = min(wait, max(0.05, (earliest - self.window_clock()).total_seconds()))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the change-window timer failed; trying again in %.0f s", wait)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._schedule_changed.wait(), timeout=wait)

    # --- runs ------------------------------------------------------------------------------------

    async def start_run(
        self,
        request_id: int,
        listener: ProgressListener | None = None,
        *,
        skip: frozenset[str] = frozenset(),
    ) -> list[RunOutcome]:
        """Run an approved request on each of its controllers (concurrently); returns when all finished.

        The request moves approved → running atomically, so a second start is
        refused. If the request can no longer run as approved (a controller
        left the inventory, the playbook file changed since the approvers saw
        its dry-run, the start falls outside CCERT_CHANGE_WINDOWS), it is
        marked failed, freeing the controllers, and RequestRefused says why:
        nothing was sent. `skip` names controllers a scheduled run found
        recovered at its window: they are left alone.
        """
        if request_id in self._starting:
            raise RequestRefused(f"request #{request_id} is already starting")
        self._starting.add(request_id)
        try:
            return await self._start_run(request_id, listener, skip=skip)
        finally:
            self._starting.discard(request_id)

    async def _start_run(
        self, request_id: int, listener: ProgressListener | None, *, skip: frozenset[str]
    ) -> list[RunOutcome]:
        row = await self.store.read(q.get_request, request_id)
        if row.status != RequestStatus.APPROVED.value:
            raise RequestRefused(f"request #{request_id} is {row.status}, not approved: nothing runs")
        targets = [TargetView.from_dict(t) for t in row.view.get("targets", [])]
        prepared: list[tuple[Controller, Playbook, dict[str, Any]]] = []
        problems: list[str] = []
        windows = self.config.windows
        if not windows.allows(self.now()):
            problems.append(
                f"the run would start outside the change windows ({windows.describe()}); the next allowed start "
                f"is {windows.next_start(self.now()):%a %Y-%m-%d %H:%M %Z}: request it again with --at"
            )
            targets = []
        for target in targets:
            if target.controller in skip:
                continue
            controller = self.inventory.controller(target.controller)
            if controller is None:
                problems.append(f"{target.controller} is no longer in the inventory")
                continue
            try:
                playbook = self._playbook(controller.platform)
            except PlaybookError as exc:
                problems.append(f"the {controller.platform} playbook cannot be loaded: {exc}")
                continue
            if playbook.digest != target.playbook_digest:
                problems.append(
                    f"the playbook {playbook.name} changed since the request was approved: start a new request so "
                    "that the approvers see what will run"
                )
                continue
            params = {k: parse_datetime(v) if k == "target" else v for k, v in target.params.items()}
            prepared.append((controller, playbook, params))
        try:
            if problems:
                reason = "; ".join(problems) + "; nothing was changed"
                await self.store.write(q.transition_request, request_id, "approved", "failed", self.now(), reason)
                await self._update_message(await self.request_view(request_id))
                self.recorder.remediation_run("refused")
                raise RequestRefused(reason)
            await self.store.write(q.transition_request, request_id, "approved", "running", self.now(), "run started")
        except StateError:
            raise RequestRefused(f"request #{request_id} is already starting or running") from None
        listeners: list[ProgressListener] = []
        if listener is not None:
            listeners.append(listener)
        if self.announcer is not None:
            listeners.append(ChatProgress(self.chat, request_id))
        engine = self.engine(_FanOut(listeners))
        run_ids: list[int] = []
        outcomes: list[RunOutcome] = []
        for controller, playbook, params in prepared:
            try:
                run_ids.append(
                    await create_run(
                        self.store,
                        controller=controller,
                        playbook_plan=playbook.to_plan(),
                        params=params,
                        request_id=request_id,
                        now=self.now(),
                        claimed_by=self.instance,
                    )
                )
            except q.ControllerBusyError as exc:
                outcomes.append(RunOutcome(0, controller.name, "failed", str(exc)))
        outcomes += list(await asyncio.gather(*(engine.execute(run_id) for run_id in run_ids)))
        for outcome in outcomes:
            self.recorder.remediation_run(outcome.status)
        if outcomes and not run_ids:
            await self.store.write(q.set_request_status, request_id, "failed", self.now(), outcomes[0].summary)
        else:
            await settle_request(self.store, request_id, self.now())
        await self._update_message(await self.request_view(request_id))
        # The device work is over: give the thread a bounded chance to catch up, so that a run
        # that returns has (normally) told the whole story; a slow Slack finishes it later.
        await self.chat.idle(request_id, timeout=CHAT_CATCH_UP_SECONDS)
        return outcomes

    async def recover(
        self, listener: ProgressListener | None = None, *, hand_over: bool = False
    ) -> list[RecoveryResult]:
        """Call once at start-up (or when this instance takes the lead), before new runs: bring
        interrupted runs back (see `bot.remediation.recovery`), then settle requests the crash
        left behind.

        A request left `approved` with no run (the bot died between the last
        vote and the start) is marked failed rather than started behind
        everyone's back: nothing was changed, and the message says to request
        again. A request left `running` gets its status from its runs.

        `hand_over` (a standby taking the lead over a shared database): a request approved
        within `CCERT_APPROVAL_TTL_MINUTES` with no run stays approved, for `start_approved`:
        its last approval may have been given on another instance a moment ago, and with two
        instances that is the normal way a run starts, not a crash.
        """
        # The request threads hear of it too: after a crash or a hand-over, the people who
        # approved the run see where it was and what the bot does about it.
        listeners: list[ProgressListener] = [listener] if listener is not None else []
        if self.announcer is not None:
            listeners.append(ChatProgress(self.chat))
        results = await recover(
            self.store,
            environ=self.environ,
            session_options=self.config.session,
            listener=_FanOut(listeners) if listeners else None,
            retry=self.config.retry,
            advisory=self.advisory,
            now=self.now,
            sleep=self.sleep,
            session_factory=self.session_factory,
            fence=self.fence,
            instance=self.instance,
        )
        for result in results:
            if result.outcome is not None:
                self.recorder.remediation_run(result.outcome.status)
        handed_over = set(await self.store.read(q.approved_unstarted, self._fresh_since())) if hand_over else set()
        for request_id in await self.store.read(q.requests_in, ("approved", "running")):
            if request_id in handed_over:
                continue
            runs = await self.store.read(q.runs_for_request, request_id)
            row = await self.store.read(q.get_request, request_id)
            if runs:
                await settle_request(self.store, request_id, self.now())
            elif row.status == "approved" and row.scheduled_for is not None:
                # The window had begun and the bot stopped before the run did: nothing was sent.
                # It waits for its window again; the timer re-reads the controllers first.
                await self.store.write(
                    q.transition_request,
                    request_id,
                    "approved",
                    "scheduled",
                    self.now(),
                    "the bot restarted as the window began, before the run started; nothing was changed",
                )
            else:
                await self.store.write(
                    q.set_request_status,
                    request_id,
                    "failed",
                    self.now(),
                    "the bot restarted before the run started; nothing was changed: request it again",
                )
            await self._update_message(await self.request_view(request_id))
        return results

    def _fresh_since(self) -> datetime:
        return self.now() - self.config.policy.ttl

    async def start_approved(self, spawn: Spawn | None) -> list[int]:
        """Start every request approved on any instance (not for a window) that has no run yet.

        The leader calls this every few seconds: with two or more instances the last Approve
        may be clicked on a follower, which records it and leaves the run to the leader. A
        request this instance is already starting is skipped; one started meanwhile elsewhere
        is refused by `start_run`'s atomic approved → running move, so a run never starts twice.
        """
        started: list[int] = []
        for request_id in await self.store.read(q.approved_unstarted, self._fresh_since()):
            if request_id in self._starting:
                continue
            started.append(request_id)
            coroutine = self._start_quietly(request_id)
            if spawn is not None:
                spawn(coroutine, f"remediation-run-{request_id}")
            else:
                task = asyncio.get_running_loop().create_task(coroutine)
                self._runs.add(task)
                task.add_done_callback(self._runs.discard)
        return started

    async def _start_quietly(self, request_id: int) -> None:
        try:
            await self.start_run(request_id)
        except RequestRefused as refused:
            log.info("request #%s was not started here: %s", request_id, refused)

    async def audit(self, request_id: int) -> list[q.AuditEntry]:
        """Every audit entry of a request and its runs, oldest first."""
        return await self.store.read(q.audit_for_request, request_id)
