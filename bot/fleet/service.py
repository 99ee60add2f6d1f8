"""Read a site now and judge it: the one call status, aps and advise share.

Sits between chat handlers (which know nothing of SSH) and the controller
adapters (which know nothing of verdicts). The reading itself goes through the
bot's one `FleetReader` (`reader.py`), under the session limit every read shares.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.controllers.polling import PollOptions
from bot.controllers.session import SessionOptions
from bot.controllers.static_facts import StaticFacts
from bot.domain.models import ControllerSnapshot
from bot.domain.verdict import DownloadWatch, SiteVerdict, VerdictStatus, evaluate_controllers
from bot.fleet.reader import FleetReader
from bot.inventory import Controller, Inventory, Site
from bot.settings import Settings

# controller name -> what earlier checks know of its APs in Downloading (first seen, confirmed).
WatchSource = Callable[[Sequence[str]], Awaitable[Mapping[str, DownloadWatch]]]


@dataclass(frozen=True)
class SiteReport:
    site: Site
    snapshots: list[ControllerSnapshot]
    verdict: SiteVerdict

    @property
    def all_read(self) -> bool:
        """Every controller read completely: no connection failure, no failed command, no
        AP list shorter than the controller's own count."""
        # an incomplete AP list is an error of its own (ErrorKind.INCOMPLETE)
        return all(
            v.status not in (VerdictStatus.UNREACHABLE, VerdictStatus.ERROR) and not v.errors
            for v in self.verdict.controllers
        )


def poll_options(settings: Settings, facts: StaticFacts | None = None, *, routine: bool = False) -> PollOptions:
    """How the bot polls: a routine check (`routine`) replays the static facts `facts`
    remembers while the controller is unchanged; any other read refreshes them."""
    return PollOptions(
        session=SessionOptions(
            timeout_seconds=settings.ssh_timeout_seconds,
            strict_host_keys=settings.ssh_strict_host_keys,
            known_hosts=settings.ssh_known_hosts,
        ),
        max_concurrency=settings.max_concurrency,
        facts=facts,
        routine=routine,
    )


def static_facts(settings: Settings) -> StaticFacts:
    return StaticFacts(timedelta(hours=settings.static_refresh_hours))


def stuck_after(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.stuck_after_minutes)


def named_peers(inventory: Inventory) -> dict[str, tuple[str, ...]]:
    """Controller name -> the failover peers the inventory names for it (`peers:` / `backup:`)."""
    return {c.name: c.peers for c in inventory.controllers() if c.peers}


class FleetService:
    """`watches` (optional) tells how long APs have been seen Downloading, from the bot's
    database; without it a read is the first sighting of every download, so only an AP's
    own log can make it *stuck* and the rest are *downloading (first seen now)*."""

    def __init__(
        self,
        inventory: Inventory,
        settings: Settings,
        environ: Mapping[str, str] | None = None,
        watches: WatchSource | None = None,
        facts: StaticFacts | None = None,
        *,
        reader: FleetReader | None = None,
    ) -> None:
        self.inventory = inventory
        self.settings = settings
        self.environ = environ
        # The bot's one reader (shared with the checks and remediation, so all reads stay under
        # one session limit); a service built alone gets its own.
        self.reader = reader if reader is not None else FleetReader.from_settings(settings)
        # A person asking reads everything; what it reads refreshes the checks' static facts.
        self.options = poll_options(settings, facts)
        self.watches = watches
        self._reading: dict[tuple[str, ...], asyncio.Task[list[SiteReport]]] = {}

    async def read_sites(self, names: Sequence[str]) -> list[SiteReport]:
        """Read every controller of the named sites in one bounded poll, plus the failover
        peers they name elsewhere (read-only, to compare software).

        Asking for the same sites while such a read is in flight joins it: 200 people typing
        `/ccert status site-a` during an incident start one poll, and each gets its answer
        from it (begun at most one read before they asked). One asker giving up (a
        cancelled follow-up) does not cancel the read the others wait for.
        """
        key = tuple(names)
        task = self._reading.get(key)
        if task is None:
            task = asyncio.ensure_future(self._read_sites(key))
            self._reading[key] = task
            task.add_done_callback(lambda done: self._done_reading(key, done))
        return await asyncio.shield(task)

    def _done_reading(self, key: tuple[str, ...], task: asyncio.Task[list[SiteReport]]) -> None:
        if self._reading.get(key) is task:
            del self._reading[key]
        if not task.cancelled():
            task.exception()  # retrieved here: every asker sees it raised, nobody sees "never retrieved"

    async def _read_sites(self, names: Sequence[str]) -> list[SiteReport]:
        sites = [self.inventory.sites[n] for n in names]
        controllers = [c for s in sites for c in s.controllers]
        wanted = {c.name for c in controllers}
        peers = named_peers(self.inventory)
        extra: list[Controller] = []
        for c in controllers:
            for peer in c.peers:
                found = self.inventory.controller(peer)
                if found is not None and found.name not in wanted:
                    wanted.add(found.name)
                    extra.append(found)
        snapshots = await self.reader.read([*controllers, *extra], self.options, self.environ)
        by_name = {s.name: s for s in snapshots}
        others = [by_name[c.name] for c in extra]
        watches = await self.watches([c.name for c in controllers]) if self.watches else {}
        default = DownloadWatch(stuck_after=stuck_after(self.settings))
        watch_map = {c.name: watches.get(c.name, default) for c in controllers}
        reports = []
        for site in sites:
            site_snapshots = [by_name[c.name] for c in site.controllers]
            verdicts = evaluate_controllers(site_snapshots, peers=peers, watches=watch_map, others=others)
            reports.append(SiteReport(site, site_snapshots, SiteVerdict.from_verdicts(site.name, verdicts)))
        return reports


def store_watches(
    since: Callable[[str], Awaitable[Mapping[str, datetime]]],
    confirmed: Callable[[str], Mapping[str, datetime]] | None,
    threshold: timedelta,
) -> WatchSource:
    """A `WatchSource` over the store's AP state tracking and the AP-log confirmations."""

    async def watches(names: Sequence[str]) -> dict[str, DownloadWatch]:
        out: dict[str, DownloadWatch] = {}
        for name in names:
            out[name] = DownloadWatch(
                since=dict(await since(name)),
                confirmed=dict(confirmed(name) or {}) if confirmed else {},
                stuck_after=threshold,
            )
        return out

    return watches
