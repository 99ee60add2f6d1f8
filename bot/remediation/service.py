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
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from bot.controllers.polling import PollOptions
from bot.controllers.session import ControllerSession, SessionOptions
from bot.domain.advisory_data import Advisory
from bot.domain.advisory_file import load_advisory
from bot.domain.approvals import (
    Approval,
    ApprovalPolicy,
    RequestState,
    RequestStatus,
    VoteKind,
    Voter,
    decide_vote,
)
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
    )


def _run_view(run: q.RunRow) -> RunView:
    steps = tuple(
        StepView(s.idx, s.step_id, s.title, s.state, s.duration_seconds, s.result.get("summary"), s.error)
        for s in run.steps
    )
    return RunView(run.id, run.controller, run.status, steps, run.outcome, run.warnings)


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
    on Slack, and delivery failures are logged, never raised."""

    def __init__(self, chat: RequestChat, request_id: int) -> None:
        self.chat = chat
        self.request_id = request_id

    async def step_started(self, run: RunInfo, step: StepInfo) -> None:
        self.chat.refresh(self.request_id)

    async def step_finished(self, run: RunInfo, step: StepInfo) -> None:
        self.chat.refresh(self.request_id)

    async def event(self, run: RunInfo, event: RunEvent) -> None:
        self.chat.event(self.request_id, run, event)


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
    ) -> None:
        self.store = store
        self.inventory = inventory
        self.config = config
        self.environ = environ
        self.announcer = announcer
        self.advisory = advisory or load_advisory()
        self.now = now
        self.sleep = sleep
        self.session_factory = session_factory
        self.recorder: RemediationRecorder = recorder or _NoRecorder()
        # The bot's one reader (the session limit shared with status and the checks); a service
        # built alone gets its own, with the default limit.
        self.reader = reader if reader is not None else FleetReader()
        # The request messages and threads, told from their own tasks (never from a step or a vote).
        self.chat = RequestChat(self._send_refresh, self._send_event)

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
    ) -> RequestView:
        """Read the controller(s) fresh, build the dry-run and open a pending request.

        Raises RequestRefused (with the reason to show) for an unknown site or
        controller, no approvers configured, a controller that already has an
        active request or run, a controller that cannot be read, bad
        parameters, or a time-back that is impossible (staging controller advice).
        """
        try:
            view = await self._create_request(site, controller, requester, channel, params=params, now=now)
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
    ) -> RequestView:
        now = now or self.now()
        controllers = self._controllers(site, controller)
        if not self.config.policy.approvers:
            raise RequestRefused("no approvers are configured (CCERT_APPROVERS): nobody could approve the request")
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
                expires_at=now + policy.ttl,
                required_approvals=policy.required_approvals,
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
        return view

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
            approvals=tuple(ApprovalView(v.user_id, v.at) for v in row.approvals),
            targets=tuple(TargetView.from_dict(t) for t in row.view.get("targets", [])),
            rejected_by=row.rejected_by,
            decided_at=row.decided_at,
            channel=row.channel,
            message_ts=row.message_ts,
            note=row.note,
            runs=tuple(_run_view(r) for r in runs),
        )

    async def _update_message(self, view: RequestView) -> None:
        """Queue a refresh of the request message (it is re-read from the store when sent)."""
        if self.announcer is not None and view.channel and view.message_ts:
            self.chat.refresh(view.id)

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
        self, request_id: int, voter: Voter, approve: bool, *, comment: str | None = None, now: datetime | None = None
    ) -> VoteResult:  # TEMP-LOCAL
        """Apply one Approve/Reject click; every click is stored and audited, refused ones with their reason."""
        kind = VoteKind.APPROVE if approve else VoteKind.REJECT
        for _ in range(3):  # a concurrent click changed the request: decide again on the new state
            when = now or self.now()
            try:
                row = await self.store.read(q.get_request, request_id)
            except NotFoundError:
                raise RequestRefused(f"there is no request #{request_id}") from None
            decision = decide_vote(_state(row), voter, kind, when, self.config.policy)
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
                )
            except StateError:
                continue
            if decision.approved_now or decision.ended_now:
                self.recorder.remediation_request(new.status.value)  # approved, rejected or expired
            view = await self.request_view(request_id)
            if decision.accepted or decision.ended_now:
                await self._update_message(view)
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

    # --- runs ------------------------------------------------------------------------------------

    async def start_run(self, request_id: int, listener: ProgressListener | None = None) -> list[RunOutcome]:
        """Run an approved request on each of its controllers (concurrently); returns when all finished.

        The request moves approved → running atomically, so a second start is
        refused. If the request can no longer run as approved (a controller
        left the inventory, the playbook file changed since the approvers saw
        its dry-run), it is marked failed, freeing the controllers, and
        RequestRefused says why: nothing was sent.
        """
        row = await self.store.read(q.get_request, request_id)
        if row.status != RequestStatus.APPROVED.value:
            raise RequestRefused(f"request #{request_id} is {row.status}, not approved: nothing runs")
        targets = [TargetView.from_dict(t) for t in row.view.get("targets", [])]
        prepared: list[tuple[Controller, Playbook, dict[str, Any]]] = []
        problems: list[str] = []
        for target in targets:
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

    async def recover(self, listener: ProgressListener | None = None) -> list[RecoveryResult]:
        """Call once at start-up, before new runs: bring interrupted runs back (see
        `bot.remediation.recovery`), then settle requests the crash left behind.

        A request left `approved` with no run (the bot died between the last
        vote and the start) is marked failed rather than started behind
        everyone's back: nothing was changed, and the message says to request
        again. A request left `running` gets its status from its runs.
        """
        results = await recover(
            self.store,
            environ=self.environ,
            session_options=self.config.session,
            listener=listener,
            retry=self.config.retry,
            advisory=self.advisory,
            now=self.now,
            sleep=self.sleep,
            session_factory=self.session_factory,
        )
        for result in results:
            if result.outcome is not None:
                self.recorder.remediation_run(result.outcome.status)
        for request_id in await self.store.read(q.requests_in, ("approved", "running")):
            runs = await self.store.read(q.runs_for_request, request_id)
            if runs:
                await settle_request(self.store, request_id, self.now())
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

    async def audit(self, request_id: int) -> list[q.AuditEntry]:
        """Every audit entry of a request and its runs, oldest first."""
        return await self.store.read(q.audit_for_request, request_id)
