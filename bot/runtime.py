"""Everything the running bot shares, wired once: store, notifier, checker, scheduler, the lead.

`ccert-bot run` (Slack) and `ccert-bot console`/`demo` (terminal) differ only
in the notifier and the front door; the jobs and the store are the same. The
`observability` (health facts and metrics) is wired here too, and the front
door serves it (`bot.slack.transport.serve(..., observability=...)`).

Active/standby (`bot.jobs.leadership`): every instance answers Slack and keeps its AP syslog
receiver; only the leader runs what acts on its own (the scheduled jobs: checks with their
outbox delivery, digest, housekeeping, expiry; the change-window timer; recovery and the
remediation runs, including those whose last approval was clicked on another instance). Taking
the lead starts them (`_elected`), losing it cancels them at once (`_lost`): a run is left where
it was, and the next leader's recovery resumes or undoes it exactly as after a crash. With
SQLite the one instance leads from start-up, as it always did.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TextIO

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.chat.dispatch import BotDispatcher, build_dispatcher
from bot.chat.notifier import Notifier, NotifyError, Posted
from bot.chat.reply import Reply
from bot.chat.request_announcer import ChatAnnouncer
from bot.console.notifier import ConsoleNotifier
from bot.console.repl import run_console
from bot.fleet.reader import FleetReader
from bot.fleet.service import static_facts, store_watches, stuck_after
from bot.inventory import Inventory
from bot.jobs.ap_log_alerts import APLogAlerts
from bot.jobs.checks import FleetChecker
from bot.jobs.digest import send_digest
from bot.jobs.leadership import Leadership, LeaderView, Lock
from bot.jobs.scheduler import build_scheduler
from bot.observability.observer import Observability
from bot.remediation.service import RemediationConfig, RemediationService
from bot.settings import Settings
from bot.store import Store, ap_state, checks, pruning
from bot.store import remediation as remediation_queries
from bot.store.leader_lock import LeaderLock, SoloLock, default_instance_name
from bot.store.records import CheckTrigger
from bot.syslog import SyslogEvent, SyslogListener

log = logging.getLogger(__name__)

ChangeListener = Callable[..., None]


@dataclass
class Runtime:
    inventory: Inventory
    settings: Settings
    store: Store
    notifier: Notifier
    environ: Mapping[str, str] | None = None
    background_runs: bool = True
    checker: FleetChecker = field(init=False)
    remediation: RemediationService = field(init=False)
    dispatcher: BotDispatcher = field(init=False)
    observability: Observability = field(init=False)
    scheduler: AsyncIOScheduler | None = None
    syslog: SyslogListener | None = None

    def __post_init__(self) -> None:
        self.leadership = self._leadership()
        self.observability = Observability(
            self.store,
            timedelta(minutes=self.settings.check_interval_minutes),
            scheduler=lambda: self.scheduler,
            syslog=lambda: self.syslog.counters if self.syslog is not None else None,
            leadership=self.leadership.view,
        )
        # One memory of the controllers' static facts: checks replay it, `/ccert status` refreshes it.
        self.facts = static_facts(self.settings)
        # One reader of the controllers: checks, status and remediation share its session limit.
        self.reader = FleetReader.from_settings(self.settings)
        self.checker = FleetChecker(
            self.inventory,
            self.settings,
            self.store,
            self.notifier,
            self.environ,
            recorder=self.observability,
            facts=self.facts,
            reader=self.reader,
        )
        # An AP's own failure log judges its controller's alert at once, on the leader.
        self.ap_log_alerts = APLogAlerts(
            self.checker.alert_from_ap_log, is_leader=lambda: self.leadership.is_leader and not self.checker.stopping
        )
        config = RemediationConfig.from_settings(self.settings)
        self.remediation = RemediationService(
            self.store,
            self.inventory,
            config,
            self.environ,
            ChatAnnouncer(self.notifier, windows=config.windows),
            recorder=self.observability.metrics,
            reader=self.reader,
            fence=self.leadership.fence,
            instance=self.leadership.instance,
        )
        self.observability.watch_slack_errors(self.notifier)
        self._tasks: set[asyncio.Task[object]] = set()
        self._jobs: set[asyncio.Task[Any]] = set()  # scheduled jobs running now
        self._recovered = asyncio.Event()
        self._lead_tasks: set[asyncio.Task[Any]] = set()  # what runs only while this instance leads
        self._jobs_wanted = True
        self.dispatcher = build_dispatcher(
            self.inventory,
            self.settings,
            self.environ,
            store=self.store,
            post_digest=self.post_digest,
            remediation=self.remediation,
            # The console runs an approved time-back in the foreground; over a shared store the
            # leader runs it, wherever it was approved (`spawn_run`).
            spawn=self.spawn_run if self.background_runs or self.leadership.shared else None,
            # `/ccert status` tells downloading (N min) from stuck with the checks' own timers.
            watches=store_watches(
                partial(self.store.read, ap_state.downloading_since), self._confirmed, stuck_after(self.settings)
            ),
            facts=self.facts,
            reader=self.reader,
        )

    def _leadership(self) -> Leadership:
        instance = self.settings.instance or default_instance_name()
        timeout = self.settings.leader_timeout_seconds
        shared = self.store.backend == "postgresql"

        def lock() -> Lock:
            if shared:
                return LeaderLock(self.settings.db, instance, timeout, password=self.settings.db_password_text)
            return SoloLock(instance)

        return Leadership(lock, timeout, shared=shared, on_elected=self._elected, on_lost=self._lost)

    @property
    def leader(self) -> LeaderView:
        """Who leads, as this instance sees it (status, `/healthz`)."""
        return self.leadership.view()

    def on_change(self, listener: ChangeListener) -> None:
        """Call `listener` after anything the App Home shows changed: a remediation request
        (created, voted, scheduled, started, stepped, ended) or a recorded check. It is called
        synchronously from the change, so it must only schedule work (`HomePublisher.changed`)."""
        self.checker.on_recorded.append(listener)
        self.remediation.add_listener(listener)

    def _confirmed(self, controller: str) -> Mapping[str, datetime]:
        """APs whose own log confirmed the certificate failure (empty without the syslog receiver)."""
        return self.syslog.confirmed(controller) if self.syslog is not None else {}

    def spawn(self, coro: Coroutine[Any, Any, object], name: str) -> asyncio.Task[object]:
        """Keep a strong reference to background work (a playbook run) and log how it ends."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)

        def finished(done: asyncio.Task[object]) -> None:
            self._tasks.discard(done)
            if not done.cancelled() and done.exception() is not None:
                log.error("%s failed: %s", name, type(done.exception()).__name__, exc_info=done.exception())

        task.add_done_callback(finished)
        return task

    async def start(self, *, jobs: bool = True) -> None:
        """Bring up what runs beside the front door: the AP syslog receiver, then the lead. A lone
        bot (SQLite) leads at once; with PostgreSQL the lead is taken in the background."""
        self.observability.start()
        self._jobs_wanted = jobs
        if self.settings.syslog_listen:
            self.syslog = SyslogListener(
                self.settings.syslog_listen, on_not_yet_valid=self._not_yet_valid, on_failure=self.ap_log_alerts.failed
            )
            await self.syslog.start()
            self.checker.confirmed = self.syslog.confirmed
            self.checker.logged = self.syslog.logged
            self.checker.observers.append(self.syslog)
            log.info("AP syslog receiver on %s", ", ".join(str(b) for b in self.syslog.bound))
        await self.leadership.start()

    async def _elected(self) -> None:
        """This instance leads: crash recovery of playbook runs first (a controller may be waiting
        with NTP deleted), then the window timer, the approved-run pump and the jobs."""
        self.observability.metrics.set_leader(True)
        self._recovered = asyncio.Event()
        # Recovery may resume an AP wait for up to an hour: it runs in the background, and new
        # runs wait for it (it also fails requests left approved without a run).
        self.spawn(self._recover(), "remediation-recovery")
        # Scheduled runs (change windows) are in the store: the timer re-arms them after recovery.
        self._window_timer = self._lead_task(self._run_window_timer(), "remediation-window-timer")
        if self.leadership.shared:
            self._lead_task(self._start_approved_elsewhere(), "remediation-approved-pump")
        if self._jobs_wanted:
            self.start_jobs(first_check_at=await self._first_check_at())

    async def _lost(self) -> None:
        """This instance no longer leads: stop everything that acts, at once (see the module docstring)."""
        self.observability.metrics.set_leader(False)
        self.stop_jobs()
        self.scheduler = None
        await self.ap_log_alerts.cancel()
        doomed = {t for t in self._lead_tasks | self._jobs | self._tasks if not t.done()}
        for task in doomed:
            task.cancel()
        if doomed:
            await asyncio.wait(doomed, timeout=5)

    def _lead_task(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._lead_tasks.add(task)
        task.add_done_callback(self._lead_tasks.discard)
        return task

    async def _first_check_at(self) -> datetime | None:
        """A new leader over a shared store keeps the fleet's rhythm: the next check is one interval
        after the last one started (at once when that is past); a lone bot checks at start-up."""
        if not self.leadership.shared:
            return None
        # A one-controller re-read for an AP's log (`ap-log`) is not the fleet's rhythm.
        recent = [r for r in await self.store.read(checks.recent_checks, 20) if r.trigger != CheckTrigger.AP_LOG]
        if not recent:
            return None
        due = recent[0].started_at + timedelta(minutes=self.settings.check_interval_minutes)
        return max(datetime.now(UTC), due)

    async def _start_approved_elsewhere(self) -> None:
        """Start runs whose last approval was given on another instance (a short poll)."""
        await self._recovered.wait()
        while True:
            try:
                await self.remediation.start_approved(self.spawn_run)
            except Exception as error:  # a store hiccup must not end the pump
                log.warning("could not look for approved requests: %s", type(error).__name__)
            await asyncio.sleep(self.leadership.poll)

    async def _recover(self) -> None:
        try:
            for result in await self.remediation.recover(hand_over=self.leadership.shared):
                log.warning("recovered an interrupted remediation run: %s", result)
        finally:
            self._recovered.set()

    async def _run_window_timer(self) -> None:
        await self._recovered.wait()
        await self.remediation.run_window_timer(self.spawn_run)

    def spawn_run(self, coro: Coroutine[Any, Any, object], name: str) -> asyncio.Task[object] | None:
        """Start an approved run once start-up recovery is over; on a standby, leave it to the
        leader (which starts it within a few seconds: `_start_approved_elsewhere`)."""
        if not self.leadership.is_leader:
            coro.close()
            log.info("%s: approved here; the leader starts it", name)
            return None

        async def after_recovery() -> object:
            await self._recovered.wait()
            return await coro

        return self.spawn(after_recovery(), name)

    async def stop(self) -> None:
        """Stop in an order that loses nothing: no new job or post starts; a check that is
        delivering gets `CCERT_SHUTDOWN_GRACE_SECONDS` to finish the post it is making (a post
        cut short after that is found again on restart, never repeated); everything else (a
        check still polling, waiting on a silent controller) is cancelled at once."""
        grace = self.settings.shutdown_grace_seconds
        self.checker.stopping = True
        # First of all: no scheduled run may start while the bot is going down.
        timer = getattr(self, "_window_timer", None)
        if timer is not None:
            timer.cancel()
            await asyncio.gather(timer, return_exceptions=True)
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.pause()
            running = {task for task in self._jobs if not task.done()}
            if running and self.checker.delivering and grace > 0:
                log.info("waiting up to %gs for the check to finish the post it is making", grace)
                _, late = await asyncio.wait(running, timeout=grace)
                if late:
                    log.warning("%d job(s) still running after %gs: cancelling them", len(late), grace)
        self.stop_jobs()
        await self.ap_log_alerts.cancel(grace if self.checker.delivering else 0.0)
        self.reader.close()
        if self._tasks:
            # A run in progress keeps going until it reaches a safe point; recovery handles the rest.
            await asyncio.wait(set(self._tasks), timeout=30)
        for task in list(self._lead_tasks):
            task.cancel()
        await asyncio.gather(*self._lead_tasks, return_exceptions=True)
        await self.remediation.chat.aclose(grace)
        if self.syslog is not None:
            await self.syslog.stop()
            self.syslog = None
        # Last: the lock's session ends, and a standby may take over what is left.
        await self.leadership.stop()
        await self.observability.stop()

    async def _not_yet_valid(self, controller: str | None, ap: object, event: SyslogEvent) -> None:
        """An AP says a certificate is not yet valid: a clock went back too far. If a time-back
        is running on that controller, say it in the run's thread at once."""
        ap_name = getattr(ap, "name", None) or "an AP"
        log.warning("%s on %s: certificate not yet valid: %s", ap_name, controller or "?", event.text)
        if controller is None or not self.leadership.is_leader:
            return  # the leader drives the runs, and tells their threads
        active = await self.store.read(remediation_queries.active_controllers)
        if controller not in active:
            return
        view = await self.remediation.request_view(active[controller][0])
        if not (view.channel and view.message_ts):
            return
        meaning = event.match.meaning if event.match is not None else "a certificate is not yet valid"
        note = Reply(
            title=f"⚠️ {ap_name} on {controller}: certificate NOT YET VALID",
            text=f"{meaning}\nThe controller clock may be earlier than its own certificate's start: "
            f"check the target of this run.\n`{event.text[:300]}`",
        )
        try:
            await self.notifier.post(view.channel, note, thread_ts=view.message_ts)
        except NotifyError as error:
            log.warning("could not post the NOT_YET_VALID note: %s", error.reason)

    def use_notifier(self, notifier: Notifier) -> None:
        """Slack's notifier exists only once the app is built around the dispatcher."""
        self.notifier = notifier
        self.checker.notifier = notifier
        self.remediation.announcer = ChatAnnouncer(notifier, windows=self.remediation.config.windows)
        self.observability.watch_slack_errors(notifier)

    async def post_digest(self, channel: str) -> Posted | None:
        return await send_digest(
            self.store, self.notifier, self.inventory, channel, datetime.now(UTC), self.settings.zone, force=True
        )

    async def scheduled_digest(self) -> None:
        channel = self.settings.digest_channel or self.settings.alert_channel
        if channel is None:
            log.warning("no CCERT_DIGEST_CHANNEL or CCERT_ALERT_CHANNEL: the daily digest is not posted")
            return
        await send_digest(self.store, self.notifier, self.inventory, channel, datetime.now(UTC), self.settings.zone)

    async def housekeeping(self) -> None:
        """The daily job: snapshots and AP rows past `CCERT_RETENTION_DAYS` go (each day keeps
        its summary per controller), then the freed pages go back to the file system."""
        result = await self.store.write(pruning.prune, datetime.now(UTC) - timedelta(days=self.settings.retention_days))
        log.info("housekeeping: %s", result)

    async def expire_requests(self) -> None:
        for view in await self.remediation.expire_due():
            log.info("remediation request #%s expired", view.id)

    def _tracked(self, job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
        """`job`, with the task running it known to `stop` (which lets it finish, bounded)."""

        async def run() -> object:
            task = asyncio.current_task()
            if task is not None:
                self._jobs.add(task)
            try:
                return await job()
            finally:
                if task is not None:
                    self._jobs.discard(task)

        return run

    def start_jobs(self, first_check_at: datetime | None = None) -> AsyncIOScheduler:
        self.scheduler = build_scheduler(
            self.settings,
            first_check_at=first_check_at,
            fleet_check=self._tracked(self.checker.run_check),
            digest=self._tracked(self.scheduled_digest),
            housekeeping=self._tracked(self.housekeeping),
            expire_requests=self._tracked(self.expire_requests),
        )
        self.scheduler.start()
        return self.scheduler

    def stop_jobs(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)


async def run_console_bot(
    inventory: Inventory,
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    user: str = "console",
) -> int:
    """The console twin with the real jobs: alerts and the digest print as text.

    On a terminal the scheduler runs (first check at once, alerts as they
    come); with piped input each line runs once and the process exits, so
    only what was typed happens.
    """
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    store = await Store.open(settings.db, password=settings.db_password_text)
    try:
        runtime = Runtime(inventory, settings, store, ConsoleNotifier(out), environ, background_runs=False)
        await runtime.start(jobs=stdin.isatty())
        try:
            return await run_console(runtime.dispatcher, stdin, out, user=user, export_dir=settings.export_dir)
        finally:
            await runtime.stop()
    finally:
        await store.close()
