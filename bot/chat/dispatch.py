"""The seam between chat front doors (Slack, console, scheduler) and the bot.

A front door parses nothing itself: it hands the raw `/ccert` text or a
button's action to a `Dispatcher` and renders what comes back. Policy that
cuts across commands (the length cap, access control) lives here as filters,
like Errbot's command filters, so no listener can forget it.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Protocol

from bot.chat import handlers, remediation_views
from bot.chat.access import AccessPolicy
from bot.chat.commands import Invalid, Parsed, parse, too_long
from bot.chat.digest_views import history_reply
from bot.chat.remediation_views import APPROVE_ACTION, REJECT_ACTION
from bot.chat.reply import Caller, CommandResult, Reply
from bot.chat.text import MAX_ACTION_VALUE_CHARS, MAX_COMMAND_CHARS
from bot.domain.approvals import Voter
from bot.domain.digest import HistoryRow
from bot.fleet.service import FleetService, StaticFacts, WatchSource
from bot.inventory import Inventory
from bot.remediation.service import RemediationService, RequestRefused
from bot.settings import Settings
from bot.store import SiteCheck, SiteDay, Store, history

log = logging.getLogger(__name__)

DigestPoster = Callable[[str], Awaitable[object]]
Spawner = Callable[[Coroutine[Any, Any, Any], str], object]


class Dispatcher(Protocol):
    async def dispatch(self, text: str, caller: Caller) -> CommandResult:
        """Run `/ccert <text>` for `caller`. Returns at once; slow work is in `follow_up`."""
        ...

    async def handle_action(self, action_id: str, value: str, caller: Caller) -> CommandResult:
        """A button was clicked (Slack block_actions) or typed (console)."""
        ...


class BotDispatcher:
    """The real dispatcher: bound the text, parse strictly, check access, answer fast, work later.

    Without an `access` policy every command but `remediate` is open, and `remediate`
    is closed (nobody is an approver): the safe default for a dispatcher built by hand.
    """

    def __init__(
        self,
        inventory: Inventory,
        fleet: FleetService,
        access: AccessPolicy | None = None,
        store: Store | None = None,
        post_digest: DigestPoster | None = None,
        remediation: RemediationService | None = None,
        spawn: Spawner | None = None,
    ) -> None:
        self.inventory = inventory
        self.fleet = fleet
        self.access = access or AccessPolicy()
        self.store = store
        self.post_digest = post_digest
        self.remediation = remediation
        self.spawn = spawn

    async def dispatch(self, text: str, caller: Caller) -> CommandResult:
        if len(text) > MAX_COMMAND_CHARS:
            # Before any parsing: Slack never sends more, so this did not come from its UI,
            # and reading it would cost event-loop time every other user waits for.
            log.info("refused a %d-character /ccert text from %s", len(text), caller.user_id)
            return CommandResult(handlers.invalid_reply(too_long(len(text))))
        parsed = parse(text, self.inventory)
        if isinstance(parsed, Invalid):
            return CommandResult(handlers.invalid_reply(parsed))
        if not self.access.allows(parsed.name, caller):
            log.info("denied /ccert %s for %s", parsed.name, caller.user_id)
            return CommandResult(handlers.denied_reply(parsed.name))
        if parsed.name == "help":
            return CommandResult(handlers.help_reply())
        if parsed.name == "sites":
            return CommandResult(handlers.sites_reply(self.inventory))
        if parsed.name == "remediate":
            return self._remediate(parsed, caller)
        if parsed.name in {"approve", "reject"}:
            assert parsed.request_id is not None
            return await self._vote(parsed.request_id, parsed.name == "approve", caller)
        if parsed.name == "audit":
            assert parsed.request_id is not None
            return self._audit(parsed.request_id)
        if parsed.name == "history":
            return self._history(parsed.sites[0])
        if parsed.name == "digest":
            return self._digest(caller)
        return self._read_command(parsed)

    def _history(self, site: str) -> CommandResult:
        store = self.store
        if store is None:
            return CommandResult(handlers.not_enabled_reply("History (it needs the bot's database)"))

        async def follow_up() -> Reply:
            entries = await store.read(history.site_history, site, limit=10)
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
            # Days whose checks were pruned come as daily summaries, shown apart and marked.
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

        return CommandResult(
            handlers.checking_reply([site], len(self.inventory.sites[site].controllers), "reading the history of"),
            follow_up,
        )

    def _digest(self, caller: Caller) -> CommandResult:
        poster = self.post_digest
        channel = caller.channel_id
        if poster is None or channel is None:
            return CommandResult(handlers.not_enabled_reply("The digest (it needs the bot's database)"))

        async def follow_up() -> Reply:
            await poster(channel)
            return Reply(title="Digest posted.", ephemeral=True)

        return CommandResult(Reply(title="Building the digest…", ephemeral=True), follow_up)

    def _read_command(self, parsed: Parsed) -> CommandResult:
        count = sum(len(self.inventory.sites[s].controllers) for s in parsed.sites)
        verb = {"status": "checking", "aps": "listing APs of", "advise": "reading software of"}[parsed.name]
        ack = handlers.checking_reply(parsed.sites, count, verb)

        async def follow_up() -> Reply:
            reports = await self.fleet.read_sites(parsed.sites)
            if parsed.name == "aps":
                return handlers.aps_reply(reports, parsed.state)
            if parsed.name == "advise":
                return handlers.advise_reply(reports)
            return handlers.status_reply(reports)

        return CommandResult(ack, follow_up)

    def _remediate(self, parsed: Parsed, caller: Caller) -> CommandResult:
        """A request reads the controllers first, so the approvers see today's clock and NTP."""
        service = self.remediation
        if service is None:
            return CommandResult(handlers.not_enabled_reply("The time-back playbook (it needs the bot's database)"))
        site, controller = parsed.sites[0], parsed.controller
        target = controller or f"{site} ({len(self.inventory.sites[site].controllers)} controllers)"

        async def follow_up() -> Reply:
            try:
                if parsed.dry_run:
                    return remediation_views.dry_run_reply(await service.preview(site, controller))
                view = await service.create_request(site, controller, caller.user_id, caller.channel_id)
            except RequestRefused as refused:
                return remediation_views.refused_reply(refused.reason)
            return remediation_views.created_reply(view)

        verb = "dry run for" if parsed.dry_run else "preparing a time-back request for"
        return CommandResult(Reply(title=f"{verb} {target}: reading the controllers…", ephemeral=True), follow_up)

    async def _vote(self, request_id: int, approve: bool, caller: Caller) -> CommandResult:
        service = self.remediation
        if service is None:
            return CommandResult(handlers.not_enabled_reply("Remediation (it needs the bot's database)"))
        try:
            result = await service.vote(request_id, Voter(caller.user_id, caller.groups), approve)
        except RequestRefused as refused:
            return CommandResult(remediation_views.refused_reply(refused.reason))
        if result.approved_now:
            if self.spawn is None:  # the console: run in the foreground and say how it ended

                async def run() -> Reply:
                    await service.start_run(request_id)
                    return remediation_views.progress_reply(await service.request_view(request_id))

                return CommandResult(remediation_views.vote_reply(result.accepted, result.reason), run)
            self.spawn(service.start_run(request_id), f"remediation-run-{request_id}")
        return CommandResult(remediation_views.vote_reply(result.accepted, result.reason))

    def _audit(self, request_id: int) -> CommandResult:
        service = self.remediation
        if service is None:
            return CommandResult(handlers.not_enabled_reply("The audit trail (it needs the bot's database)"))

        async def follow_up() -> Reply:
            return remediation_views.audit_reply(request_id, await service.audit(request_id))

        title = f"reading the audit trail of request #{request_id}…"
        return CommandResult(Reply(title=title, ephemeral=True), follow_up)

    async def handle_action(self, action_id: str, value: str, caller: Caller) -> CommandResult:
        """Buttons go through the same parser and access rules as typed commands.

        A value is the bot's own (`site-a/wlc-a1`, a request number), but what arrives
        is whatever the client sent: it is bounded like Slack bounds it, and each part
        is quoted, so it stays one word and cannot add options or arguments.
        """
        if len(value) > MAX_ACTION_VALUE_CHARS:
            log.info("refused a %d-character button value from %s", len(value), caller.user_id)
            return CommandResult(handlers.invalid_reply(Invalid("That button's value is too long to be one of mine.")))
        if action_id in {"timeback_request", "timeback_dry_run"}:
            site, _, controller = value.partition("/")
            words = ["remediate", shlex.quote(site)] + ([shlex.quote(controller)] if controller else [])
            if action_id == "timeback_dry_run":
                words.append("--dry-run")
            return await self.dispatch(" ".join(words), caller)
        if action_id in {APPROVE_ACTION, REJECT_ACTION}:
            verb = "approve" if action_id == APPROVE_ACTION else "reject"
            return await self.dispatch(f"{verb} {shlex.quote(value)}", caller)
        return CommandResult(handlers.invalid_reply(Invalid("I don't know that button.")))


def build_dispatcher(
    inventory: Inventory,
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    store: Store | None = None,
    post_digest: DigestPoster | None = None,
    remediation: RemediationService | None = None,
    spawn: Spawner | None = None,
    watches: WatchSource | None = None,
    facts: StaticFacts | None = None,
) -> BotDispatcher:
    return BotDispatcher(
        inventory,
        FleetService(inventory, settings, environ, watches, facts),
        AccessPolicy.parse(settings.access, settings.approvers),
        store=store,
        post_digest=post_digest,
        remediation=remediation,
        spawn=spawn,
    )
