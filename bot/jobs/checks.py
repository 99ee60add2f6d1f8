"""The scheduled fleet check: poll, remember, decide alerts, deliver them.

Every decision is stored before anything is posted (the store is the truth,
Slack is a view of it), so a bot restart never re-alerts, and a message that
Slack refused is retried on the next check instead of being dropped.

The AP's own failure log comes in between checks (`alert_from_ap_log`): the same alert rules
judge the controller's last snapshot again with the new confirmations, and the same outbox
delivers what they decide. One lock orders the two, so an alert is never decided twice at once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.chat.alert_views import alert_reply, ap_log_note_text, thread_note_text
from bot.chat.notifier import MessageMetadata, Notifier, NotifyError, Posted
from bot.chat.reply import Reply
from bot.controllers.static_facts import StaticFacts
from bot.domain.alerts import (
    AlertDecision,
    AlertKind,
    AlertPolicy,
    OpenAlert,
    OpenAlertState,
    ReopenAlert,
    ResolveAlert,
    ResolvedAlertState,
    UpdateAlert,
    evaluate_alerts,
    newly_confirmed,
)
from bot.domain.ap_log import APLogEntry
from bot.domain.models import ControllerSnapshot
from bot.domain.verdict import ControllerVerdict, DownloadWatch, evaluate_controllers
from bot.fleet.reader import FleetReader
from bot.fleet.service import named_peers, poll_options, static_facts
from bot.inventory import Inventory
from bot.settings import Settings
from bot.store import Store, alerts, ap_state, checks, outbox
from bot.store.records import AlertRecord, CheckRun, CheckTrigger, EventKind, EventRecord

log = logging.getLogger(__name__)

ALERT_EVENT_TYPE = "ccert_alert"
ALERT_NOTE_EVENT_TYPE = "ccert_alert_note"

ConfirmedSource = Callable[[str], Mapping[str, datetime]]
# (controller, AP name) → what that AP logged to begin its confirmed failure, if it did.
LoggedSource = Callable[[str, str], APLogEntry | None]


class SnapshotObserver(Protocol):
    """Anything that wants every fresh snapshot (the syslog correlator learns AP addresses)."""

    def update_inventory(self, snapshots: Iterable[ControllerSnapshot]) -> None: ...


class CheckRecorder(Protocol):
    """Who is told how checks and alert posts went (metrics and health); the checker only reports
    facts, so it needs no metrics library and a test can pass a plain recorder."""

    def check_finished(self, outcome: CheckOutcome) -> None: ...

    def alert_posted(self) -> None: ...


class _NoRecorder:
    def check_finished(self, outcome: CheckOutcome) -> None:
        pass

    def alert_posted(self) -> None:
        pass


def utcnow() -> datetime:
    return datetime.now(UTC)


# Slack's answers that mean "you may not read this channel" rather than "try again later".
# A deleted alert message (`thread_not_found`) leaves no thread to look in, ever.
CANNOT_LOOK = frozenset(
    {"missing_scope", "not_allowed_token_type", "not_in_channel", "channel_not_found", "thread_not_found"}
)


def new_send_key() -> str:
    """A client-side key for one outbox message: random, so two bots (or databases) posting in
    one channel never take each other's messages for their own."""
    return secrets.token_hex(8)


def alert_metadata(alert: AlertRecord, key: str) -> MessageMetadata:
    """What an alert message carries for other apps and for finding it again."""
    payload = {"alert_id": str(alert.id), "kind": alert.kind.value, "controller": alert.controller}
    if alert.site:
        payload["site"] = alert.site
    return MessageMetadata(ALERT_EVENT_TYPE, key, payload)


def note_metadata(event: EventRecord, key: str) -> MessageMetadata:
    payload = {"alert_id": str(event.alert_id), "note_id": str(event.id)}
    if event.controller:
        payload["controller"] = event.controller
    return MessageMetadata(ALERT_NOTE_EVENT_TYPE, key, payload)


def alert_policy(settings: Settings) -> AlertPolicy:
    return AlertPolicy.from_minutes(
        stuck_after_minutes=settings.stuck_after_minutes,
        unreachable_after_checks=settings.unreachable_after_checks,
        dedupe_window_minutes=settings.alert_dedupe_minutes,
    )


@dataclass
class CheckOutcome:
    run_id: int
    controllers: int
    read: int
    duration: timedelta
    overran: bool
    decisions: list[AlertDecision] = field(default_factory=list)
    delivered: int = 0
    delivery_failures: int = 0
    # What the check found, for metrics: controllers per verdict status (`VerdictStatus` values),
    # affected APs Downloading on software that does not fix them (the stuck candidates), and the
    # APs the alert rules count as stuck (listed in the controller's open stuck alert afterwards).
    statuses: dict[str, int] = field(default_factory=dict)
    aps_downloading: int = 0
    aps_stuck: int = 0


@dataclass(frozen=True)
class APLogOutcome:
    """What an AP-log confirmation did to a controller's alert: the decisions (none when the
    confirmation changed nothing), and whether the controller was read again first because its
    last snapshot was older than one check interval (or missing, or failed)."""

    controller: str
    decisions: tuple[AlertDecision, ...]
    reread: bool
    delivered: int = 0


def _stuck_after(decisions: Iterable[AlertDecision], open_stuck: OpenAlertState | None) -> int:
    """APs the controller's stuck alert lists once `decisions` are applied: the new list when the
    stuck alert opened, changed or re-opened, none when it resolved, else the open alert's list
    (no decision: unchanged, including through an unreachable check, as in the channel)."""
    for decision in decisions:
        if decision.kind is AlertKind.STUCK:
            return 0 if isinstance(decision, ResolveAlert) else len(decision.stuck_aps)
    return len(open_stuck.stuck_aps) if open_stuck is not None else 0


class FleetChecker:
    """One object per bot process; `run_check` is what the scheduler calls."""

    def __init__(
        self,
        inventory: Inventory,
        settings: Settings,
        store: Store,
        notifier: Notifier,
        environ: Mapping[str, str] | None = None,
        confirmed: ConfirmedSource | None = None,
        clock: Callable[[], datetime] = utcnow,
        observers: Iterable[SnapshotObserver] = (),
        recorder: CheckRecorder | None = None,
        facts: StaticFacts | None = None,
        reader: FleetReader | None = None,
    ) -> None:
        self.inventory = inventory
        self.settings = settings
        self.store = store
        self.notifier = notifier
        self.environ = environ
        self.confirmed = confirmed
        # What each confirmed AP logged (the syslog receiver), for the alert's thread.
        self.logged: LoggedSource | None = None
        self.clock = clock
        self.observers = list(observers)
        self.recorder: CheckRecorder = recorder or _NoRecorder()
        self.policy = alert_policy(settings)
        self.interval = timedelta(minutes=settings.check_interval_minutes)
        # Trustpoint and certificates are asked again only when a controller changed (static_facts.py).
        self.facts = facts if facts is not None else static_facts(settings)
        # The bot's one reader (the session limit shared with status and remediation reads); it
        # polls a large fleet on every core (`CCERT_POLL_WORKERS`). A checker built alone gets its own.
        self.reader = reader if reader is not None else FleetReader.from_settings(settings)
        # Set when the bot is stopping: a delivery under way finishes, no new post starts.
        self.stopping = False
        # True while `deliver_pending` runs: what a stopping bot waits for (bounded), and only that.
        self.delivering = False
        # Told the run id once a check is recorded (the App Home republishes); called
        # synchronously, so each must only schedule work; a failing one is logged, never raised.
        self.on_recorded: list[Callable[[int], None]] = []
        # One alert decision at a time: a check's, or an AP log's between checks.
        self._alerting = asyncio.Lock()
        # Each controller's last snapshot, which an AP-log confirmation is judged against.
        self._latest: dict[str, ControllerSnapshot] = {}

    def channel_for(self, site: str | None) -> str | None:
        configured = self.inventory.sites.get(site or "")
        return (configured.channel if configured else None) or self.settings.alert_channel

    async def run_check(
        self, trigger: CheckTrigger = CheckTrigger.SCHEDULED, only: Collection[str] | None = None
    ) -> CheckOutcome:
        """Poll the fleet (or only the controllers `only` names), record what it said, decide the
        alerts and deliver them. The fleet's metrics are told only of whole-fleet checks."""
        started = self.clock()
        run_id = await self.store.write(checks.start_check, trigger, started)
        controllers = self.inventory.controllers()
        if only is not None:
            controllers = [c for c in controllers if c.name in only]
        options = poll_options(self.settings, self.facts, routine=True)
        snapshots = await self.reader.read_fleet(controllers, options, self.environ)
        for observer in self.observers:
            observer.update_inventory(snapshots)
        async with self._alerting:
            outcome = await self._judge_check(run_id, trigger, started, snapshots, whole=only is None)
        if only is None:
            self.recorder.check_finished(outcome)
        return outcome

    async def _judge_check(
        self,
        run_id: int,
        trigger: CheckTrigger,
        started: datetime,
        snapshots: list[ControllerSnapshot],
        *,
        whole: bool,
    ) -> CheckOutcome:
        others = () if whole else tuple(s for n, s in self._latest.items() if n not in {x.name for x in snapshots})
        self._latest.update((s.name, s) for s in snapshots)
        watches = {s.name: await self._watch(s.name) for s in snapshots}
        verdicts = evaluate_controllers(snapshots, peers=named_peers(self.inventory), watches=watches, others=others)
        finished = self.clock()
        duration = finished - started
        overran = whole and duration > self.interval
        note = None
        if overran:
            note = (
                f"the check took {duration.total_seconds():.0f}s, longer than the "
                f"{self.interval.total_seconds() / 60:g}-minute interval; the next one was not started twice"
            )
            log.warning("fleet check %s overran: %s", run_id, note)
        await self.store.write(
            checks.record_check,
            CheckRun(trigger, started, finished, overran=overran, note=note, id=run_id),
            snapshots,
            verdicts,
        )
        self._tell_recorded(run_id)
        outcome = CheckOutcome(run_id, len(snapshots), sum(1 for s in snapshots if s.reachable), duration, overran)
        outcome.statuses = dict(Counter(v.status.value for v in verdicts))
        outcome.aps_downloading = sum(len(v.downloading_aps) for v in verdicts)
        for snapshot, verdict in zip(snapshots, verdicts, strict=True):
            decisions, stuck = await self._apply_alerts(snapshot, verdict, finished, watches[snapshot.name].since)
            outcome.decisions.extend(decisions)
            outcome.aps_stuck += stuck
        delivered, failed = await self.deliver_pending()
        outcome.delivered, outcome.delivery_failures = delivered, failed
        return outcome

    async def alert_from_ap_log(self, controller: str) -> APLogOutcome:
        """Judge `controller`'s stuck alert again now that APs' own logs confirmed failures.

        Against its last snapshot, as the check that took it judged it, with the confirmations
        of now: the alert opens or is updated (or nothing changes) exactly as the next check
        would decide, and goes out through the same outbox. When that snapshot is older than
        one check interval, missing (no check since this instance started or took the lead) or
        failed, the controller is read again first (a check of that one controller, recorded
        with the trigger `ap-log`), so an alert never rests on stale AP states.
        """
        snapshot = self._latest.get(controller)
        if snapshot is None or not snapshot.reachable or self.clock() - snapshot.taken_at > self.interval:
            outcome = await self.run_check(CheckTrigger.AP_LOG, only={controller})
            stuck = tuple(d for d in outcome.decisions if d.kind is AlertKind.STUCK)
            return APLogOutcome(controller, stuck, reread=True, delivered=outcome.delivered)
        async with self._alerting:
            snapshot = self._latest[controller]  # a check may have brought a newer one meanwhile
            now = self.clock()
            watch = await self._watch(controller)
            others = tuple(s for n, s in self._latest.items() if n != controller)
            (verdict,) = evaluate_controllers(
                [snapshot], peers=named_peers(self.inventory), watches={controller: watch}, others=others
            )
            # Only the stuck alert: what a controller's reachability says is the checks' to judge.
            decisions, _ = await self._apply_alerts(snapshot, verdict, now, watch.since, kinds=(AlertKind.STUCK,))
            delivered, _ = await self.deliver_pending()
        return APLogOutcome(controller, tuple(decisions), reread=False, delivered=delivered)

    def _tell_recorded(self, run_id: int) -> None:
        for listener in self.on_recorded:
            try:
                listener(run_id)
            except Exception:
                log.exception("a listener of recorded checks failed (ignored)")

    async def _watch(self, controller: str) -> DownloadWatch:
        """What earlier checks know of this controller's downloads, so the verdict calls an AP
        stuck exactly when the alert rules do (threshold, AP log, already in an open alert)."""
        record = await self.store.read(alerts.get_open_alert, controller, AlertKind.STUCK)
        listed = OpenAlertState.from_payload(record.payload).stuck_aps if record is not None else frozenset()
        return DownloadWatch(
            since=await self.store.read(ap_state.downloading_since, controller),
            confirmed=self.confirmed(controller) if self.confirmed else {},
            stuck_after=self.policy.stuck_after,
            already_stuck=frozenset(listed),
        )

    async def _apply_alerts(
        self,
        snapshot: ControllerSnapshot,
        verdict: ControllerVerdict,
        now: datetime,
        downloading_since: Mapping[str, datetime],
        kinds: Collection[AlertKind] = tuple(AlertKind),
    ) -> tuple[list[AlertDecision], int]:
        """Decide, store and queue this controller's alerts; also return how many of its APs
        the stuck alert lists afterwards (the alert rules' own notion of "stuck").

        `downloading_since` is the map the verdict was judged with (read before this check
        was recorded: an AP not in it was first seen now, as the alert rules assume)."""
        name = snapshot.name
        open_alerts: dict[AlertKind | str, OpenAlertState] = {}
        recently: dict[AlertKind | str, datetime | ResolvedAlertState] = {}
        for kind in AlertKind:
            record = await self.store.read(alerts.get_open_alert, name, kind)
            if record is not None:
                open_alerts[kind] = OpenAlertState.from_payload(record.payload, alert_id=record.id)
            resolved = await self.store.read(alerts.last_resolved_alert, name, kind)
            if resolved is not None and resolved.resolved_at is not None:
                recently[kind] = ResolvedAlertState(resolved.resolved_at, resolved.id, resolved.payload)
        unreachable = await self.store.read(
            checks.consecutive_unreachable, name, self.policy.unreachable_after_checks + 1
        )
        decisions = evaluate_alerts(
            verdict,
            downloading_since=downloading_since,
            now=now,
            open_alerts=open_alerts,
            recently_resolved=recently,
            unreachable_checks=unreachable,
            policy=self.policy,
            confirmed=self.confirmed(name) if self.confirmed else None,
            ap_states={ap.name: ap.state for ap in snapshot.aps},
        )
        decisions = [d for d in decisions if d.kind in kinds]
        for decision in decisions:
            await self._record(decision, snapshot.site, now)
        return decisions, _stuck_after(decisions, open_alerts.get(AlertKind.STUCK))

    async def _record(self, decision: AlertDecision, site: str | None, now: datetime) -> None:
        """Store the decision and queue what must be said; delivery happens after. APs it
        newly shows as confirmed by their own log get a word in the thread: which AP logged
        what, when (under a new alert as a note of its own, else in the decision's note)."""
        logged = ap_log_note_text(self._logged(decision))
        note = {"text": "\n".join(t for t in (thread_note_text(decision), logged) if t)}
        if isinstance(decision, OpenAlert):
            channel = self.channel_for(site)
            if channel is None:
                log.error(
                    "no channel for site %s and no CCERT_ALERT_CHANNEL: alert for %s kept in the store",
                    site,
                    decision.controller,
                )
                channel = ""
            opened = await self.store.write(
                alerts.open_alert,
                decision.kind,
                decision.controller,
                channel=channel,
                payload=decision.payload,
                site=site,
                now=now,
            )
            if logged:
                note = {"text": logged}
                await self.store.write(outbox.enqueue_event, opened.id, EventKind.THREAD_NOTE, note, now=now)
            return
        alert_id = int(decision.alert_id) if decision.alert_id is not None else None
        if alert_id is None:
            log.error("alert decision without an alert id: %r", decision)
            return
        if isinstance(decision, UpdateAlert):
            await self.store.write(alerts.update_alert_payload, alert_id, decision.payload, now=now)
        elif isinstance(decision, ResolveAlert):
            await self.store.write(alerts.resolve_alert, alert_id, payload=decision.payload, now=now)
        elif isinstance(decision, ReopenAlert):
            await self.store.write(alerts.reopen_alert, alert_id, payload=decision.payload, now=now)
        await self.store.write(outbox.enqueue_event, alert_id, EventKind.UPDATE_MESSAGE, {}, now=now)
        kind = EventKind.RESOLVE_NOTE if isinstance(decision, ResolveAlert) else EventKind.THREAD_NOTE
        await self.store.write(outbox.enqueue_event, alert_id, kind, note, now=now)

    def _logged(self, decision: AlertDecision) -> list[APLogEntry]:
        """What each AP `decision` newly shows as confirmed logged (none without the receiver)."""
        if self.logged is None:
            return []
        entries = (self.logged(decision.controller, name) for name in newly_confirmed(decision))
        return [entry for entry in entries if entry is not None]

    async def deliver_pending(self) -> tuple[int, int]:
        """Post alerts that never reached the channel, then their queued thread notes and updates.

        Each post is recorded as begun (a key in the message's metadata) before it is made, and
        a post begun before and never confirmed is first looked for: a bot stopped or killed
        while Slack was answering finds that message and adopts it instead of posting a twin.
        Once the bot is stopping (`stopping`), no new post starts; the rest wait for the restart.
        """
        self.delivering = True
        try:
            return await self._deliver_pending()
        finally:
            self.delivering = False

    async def _deliver_pending(self) -> tuple[int, int]:
        delivered = failed = 0
        for alert in await self.store.read(alerts.alerts_pending_delivery):
            if self.stopping:
                return delivered, failed
            if not alert.channel:
                continue
            try:
                await self._deliver_alert(alert)
            except NotifyError as error:
                await self.store.write(alerts.mark_delivery_failed, alert.id, error.reason)
                failed += 1
                continue
            self.recorder.alert_posted()
            delivered += 1
        for event in await self.store.read(outbox.pending_events):
            if self.stopping:
                return delivered, failed
            if event.alert_ts is None or event.alert_channel is None:
                continue
            try:
                ts = await self._deliver_event(event, Posted(event.alert_channel, event.alert_ts))
            except NotifyError as error:
                await self.store.write(outbox.mark_event_failed, event.id, error.reason)
                failed += 1
                continue
            await self.store.write(outbox.mark_event_delivered, event.id, ts=ts)
            delivered += 1
        return delivered, failed

    async def _deliver_alert(self, alert: AlertRecord) -> None:
        """Post the alert message once: adopt the message an earlier attempt left in Slack, or
        record the attempt and post. An adopted message is brought up to date by an update
        queued behind it (it says what the alert said when it was posted)."""
        if alert.maybe_posted:
            assert alert.send_key is not None and alert.sending_since is not None
            metadata = alert_metadata(alert, alert.send_key)
            found = await self._find(alert.channel, metadata, alert.sending_since)
            if found is not None:
                log.info(
                    "alert %s for %s: found the message an earlier attempt posted; adopting it",
                    alert.id,
                    alert.controller,
                )
                await self.store.write(alerts.mark_delivered, alert.id, found.ts, found.channel)
                await self.store.write(outbox.enqueue_event, alert.id, EventKind.UPDATE_MESSAGE, {})
                return
        sending = await self.store.write(alerts.mark_sending, alert.id, new_send_key())
        assert sending.send_key is not None
        posted = await self.notifier.post(
            alert.channel, self._alert_view(sending), metadata=alert_metadata(sending, sending.send_key)
        )
        await self.store.write(alerts.mark_delivered, alert.id, posted.ts, posted.channel)

    async def _deliver_event(self, event: EventRecord, alert_message: Posted) -> str | None:
        """Deliver one queued event; returns the ts of the note posted (None for an update).

        Updates are idempotent (an edit made twice reads the same); notes are posted once, as
        alert messages are: recorded before, looked for in the thread when an attempt was cut short.
        """
        if event.kind is EventKind.UPDATE_MESSAGE:
            alert = await self.store.read(alerts.get_alert, event.alert_id)
            # The same key, so the message stays findable; without one Slack keeps what it has.
            metadata = alert_metadata(alert, alert.send_key) if alert.send_key else None
            await self.notifier.update(alert_message, self._alert_view(alert), metadata=metadata)
            return None
        if event.maybe_posted:
            assert event.send_key is not None and event.sending_since is not None
            metadata = note_metadata(event, event.send_key)
            found = await self._find(alert_message.channel, metadata, event.sending_since, alert_message.ts)
            if found is not None:
                return found.ts
        sending = await self.store.write(outbox.mark_event_sending, event.id, new_send_key())
        assert sending.send_key is not None
        # The first line heads the note; the rest (what changed, what the APs logged) is its text.
        title, _, body = (event.text or "").partition("\n")
        note = await self.notifier.post(
            alert_message.channel,
            Reply(title=title, text=body),
            alert_message.ts,
            metadata=note_metadata(sending, sending.send_key),
        )
        return note.ts

    async def _find(
        self, channel: str, metadata: MessageMetadata, since: datetime, thread_ts: str | None = None
    ) -> Posted | None:
        """The message an earlier attempt posted, if Slack has it. Without the scope to read the
        channel (`channels:history`/`groups:history`), the bot cannot look: it says so and posts,
        because an alert posted twice is better than one never posted."""
        try:
            return await self.notifier.find(channel, metadata, since=since, thread_ts=thread_ts)
        except NotifyError as error:
            if error.reason in CANNOT_LOOK:
                log.warning(
                    "cannot look for an earlier post in %s (%s): posting again may repeat it", channel, error.reason
                )
                return None
            raise

    def _alert_view(self, alert: AlertRecord) -> Reply:
        return alert_reply(alert.payload, alert.status.value, now=self.clock())
