"""Read a site now and judge it: the one call status, aps and advise share.

Sits between chat handlers (which know nothing of SSH) and the controller
adapters (which know nothing of verdicts).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.controllers.fleet import PollOptions, poll_fleet
from bot.controllers.session import SessionOptions
from bot.domain.models import ControllerSnapshot
from bot.domain.verdict import DownloadWatch, SiteVerdict, VerdictStatus, evaluate_controllers
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


def poll_options(settings: Settings) -> PollOptions:
    return PollOptions(
        session=SessionOptions(
            timeout_seconds=settings.ssh_timeout_seconds,
            strict_host_keys=settings.ssh_strict_host_keys,
            known_hosts=settings.ssh_known_hosts,
        ),
        max_concurrency=settings.max_concurrency,
    )


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
    ) -> None:
        self.inventory = inventory
        self.settings = settings
        self.environ = environ
        self.options = poll_options(settings)
        self.watches = watches

    async def read_sites(self, names: Sequence[str]) -> list[SiteReport]:
        """Read every controller of the named sites in one bounded poll, plus the failover
        peers they name elsewhere (read-only, to compare software)."""
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
        snapshots = await poll_fleet([*controllers, *extra], self.options, self.environ)
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
