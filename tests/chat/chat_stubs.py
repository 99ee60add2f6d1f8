"""A real `BotDispatcher` with recording stand-ins at the edge where devices begin.

The fleet and the remediation service are the only parts of the bot that open
SSH sessions. These stand-ins record what they were asked to read or change
(site and controller names, exactly as the dispatcher passed them) and answer
without touching a network, so a test can check that only inventory names
ever get that far, and that a refused command got nowhere near.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import ZoneInfo

from bot.chat.access import AccessPolicy
from bot.chat.dispatch import BotDispatcher
from bot.domain.approvals import Voter
from bot.domain.models import ControllerSnapshot, ErrorKind, SnapshotError
from bot.domain.verdict import SiteVerdict, evaluate_controller
from bot.fleet.service import FleetService, SiteReport
from bot.inventory import Inventory
from bot.inventory_file import parse_inventory
from bot.remediation.service import RemediationService, RequestRefused

INVENTORY_YAML = """\
sites:
  site-a:
    channel: C0SITEA001
    controllers:
      - {name: wlc-a1, host: 192.0.2.11, platform: aireos, credentials: lab}
      - {name: wlc-a2, host: 192.0.2.12, platform: iosxe, credentials: lab}
  site-b:
    channel: C0SITEB001
    controllers:
      - {name: wlc-b1, host: 192.0.2.21, platform: iosxe, credentials: lab}
credentials:
  lab: {username_env: LAB_USER, password_env: LAB_PASS}
"""
ENV = {"LAB_USER": "admin", "LAB_PASS": "not-a-secret"}
APPROVERS = "U0ALICE, U0BOB"


def inventory() -> Inventory:
    return parse_inventory(INVENTORY_YAML, "<chat test inventory>", environ=ENV)


@dataclass
class RecordingFleet:
    """Stands in for FleetService: records the sites it is asked to read; reads nothing."""

    inventory: Inventory
    reads: list[tuple[str, ...]] = field(default_factory=list)

    async def read_sites(self, names: Sequence[str]) -> list[SiteReport]:
        self.reads.append(tuple(names))
        reports = []
        for name in names:
            site = self.inventory.sites[name]
            snapshots = [
                ControllerSnapshot(
                    name=c.name,
                    platform=c.platform,
                    host=c.host,
                    taken_at=datetime.now(UTC),
                    site=site.name,
                    errors=[SnapshotError(ErrorKind.UNREACHABLE, "not contacted: a test stand-in")],
                )
                for c in site.controllers
            ]
            verdicts = [evaluate_controller(s) for s in snapshots]
            reports.append(SiteReport(site, snapshots, SiteVerdict.from_verdicts(site.name, verdicts)))
        return reports


@dataclass
class RecordingRemediation:
    """Stands in for RemediationService: records each call and refuses it (no request is stored)."""

    calls: list[tuple[Any, ...]] = field(default_factory=list)

    async def preview(self, site: str, controller: str | None) -> Any:
        self.calls.append(("preview", site, controller))
        raise RequestRefused("recorded by the test stand-in")

    config: Any = field(default_factory=lambda: SimpleNamespace(zone=ZoneInfo("UTC")))

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def create_request(
        self, site: str, controller: str | None, requester: str, channel: str | None, *, at: datetime | None = None
    ) -> Any:
        self.calls.append(("create_request", site, controller, requester) + ((at,) if at is not None else ()))
        raise RequestRefused("recorded by the test stand-in")

    async def vote(self, request_id: int, voter: Voter, approve: bool, *, comment: str | None = None) -> Any:
        self.calls.append(("vote", request_id, voter.user_id, approve, comment))
        raise RequestRefused("recorded by the test stand-in")

    async def cancel(self, request_id: int, voter: Voter) -> Any:
        self.calls.append(("cancel", request_id, voter.user_id))
        raise RequestRefused("recorded by the test stand-in")

    async def schedule(self, request_id: int, voter: Voter, at: datetime) -> Any:
        self.calls.append(("schedule", request_id, voter.user_id, at))
        raise RequestRefused("recorded by the test stand-in")

    async def audit(self, request_id: int) -> list[Any]:
        self.calls.append(("audit", request_id))
        return []


@dataclass
class Harness:
    dispatcher: BotDispatcher
    fleet: RecordingFleet
    remediation: RecordingRemediation
    inventory: Inventory

    def contacted(self) -> list[tuple[str, str | None]]:
        """(site, controller or None for the whole site) of every read or change asked for."""
        out: list[tuple[str, str | None]] = [(site, None) for sites in self.fleet.reads for site in sites]
        out += [(call[1], call[2]) for call in self.remediation.calls if call[0] in {"preview", "create_request"}]
        return out


def harness(access: str = "", approvers: str = APPROVERS) -> Harness:
    """A real dispatcher (parser, access policy, handlers) over the recording stand-ins."""
    inv = inventory()
    fleet = RecordingFleet(inv)
    remediation = RecordingRemediation()
    dispatcher = BotDispatcher(
        inv,
        cast(FleetService, fleet),
        AccessPolicy.parse(access, approvers),
        remediation=cast(RemediationService, remediation),
    )
    return Harness(dispatcher, fleet, remediation, inv)
