"""Read a site now and judge it: the one call status, aps and advise share.

Sits between chat handlers (which know nothing of SSH) and the controller
adapters (which know nothing of verdicts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.controllers.fleet import PollOptions, poll_fleet
from bot.controllers.session import SessionOptions
from bot.domain.models import ControllerSnapshot
from bot.domain.verdict import ControllerVerdict, SiteVerdict, evaluate_controller
from bot.inventory import Inventory, Site
from bot.settings import Settings


@dataclass(frozen=True)
class SiteReport:
    site: Site
    snapshots: list[ControllerSnapshot]
    verdict: SiteVerdict

    @property
    def all_read(self) -> bool:
        return all(v.status.value not in {"unreachable", "error"} for v in self.verdict.controllers)


def poll_options(settings: Settings) -> PollOptions:
    return PollOptions(
        session=SessionOptions(
            timeout_seconds=settings.ssh_timeout_seconds,
            strict_host_keys=settings.ssh_strict_host_keys,
            known_hosts=settings.ssh_known_hosts,
        ),
        max_concurrency=settings.max_concurrency,
    )


class FleetService:
    def __init__(self, inventory: Inventory, settings: Settings, environ: Mapping[str, str] | None = None) -> None:
        self.inventory = inventory
        self.settings = settings
        self.environ = environ
        self.options = poll_options(settings)

    async def read_sites(self, names: Sequence[str]) -> list[SiteReport]:
        """Read every controller of the named sites in one bounded poll."""
        sites = [self.inventory.sites[n] for n in names]
        controllers = [c for s in sites for c in s.controllers]
        snapshots = await poll_fleet(controllers, self.options, self.environ)
        by_name = {s.name: s for s in snapshots}
        reports = []
        for site in sites:
            site_snapshots = [by_name[c.name] for c in site.controllers]
            verdicts: list[ControllerVerdict] = [evaluate_controller(s) for s in site_snapshots]
            reports.append(SiteReport(site, site_snapshots, SiteVerdict.from_verdicts(site.name, verdicts)))
        return reports
