"""Gathering the App Home's data from the store: the last check per site, the requests.

`home_reply` is what both the Slack Home tab and `/ccert home` show: it reads the latest
snapshot of every controller (summary rows only, never AP rows: one indexed probe per
controller, so a 500-controller fleet costs milliseconds) and a bounded number of
remediation requests (ids from `bot.store.remediation.request_ids` / `waiting_ids`, in the
order shown, each then read as the thread shows it, `RemediationService.request_view`, and
the real totals from `count_requests` / `count_waiting`, so a heading over a capped list
is still true), and hands plain data to the pure view `bot.chat.home_views`. No
controller is read: the home is what the last checks said.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

from bot.chat.home_views import HomeData, SiteGlance, waiting_for
from bot.chat.home_views import home_reply as render_home
from bot.chat.reply import Caller, Reply
from bot.domain.approvals import RequestStatus, Voter, is_approver
from bot.domain.verdict import VerdictStatus, worst_status
from bot.inventory import Inventory
from bot.remediation.models import RequestView
from bot.remediation.service import RemediationService
from bot.store import NotFoundError, SnapshotRecord, Store
from bot.store import history as history_store
from bot.store import remediation as requests_store
from bot.store.remediation.listing import Order

log = logging.getLogger(__name__)

# How many ids each question asks the store for (each becomes one request view).
PENDING_LIMIT = 50
IN_PROGRESS_LIMIT = 20
SCHEDULED_LIMIT = 20
MINE_LIMIT = 5
IN_PROGRESS = tuple(s.value for s in (RequestStatus.APPROVED, RequestStatus.RUNNING, RequestStatus.NEEDS_ATTENTION))
SCHEDULED = (RequestStatus.SCHEDULED.value,)


def site_glances(inventory: Inventory, snapshots: Sequence[SnapshotRecord]) -> list[SiteGlance]:
    """One glance per inventory site, from the latest snapshot of each of its controllers
    (snapshots of controllers no longer in the inventory are left out)."""
    latest = {s.controller: s for s in snapshots}
    glances = []
    for site in inventory.sites.values():
        snaps = [latest[c.name] for c in site.controllers if c.name in latest]
        if not snaps:
            glances.append(SiteGlance(site=site.name, controllers=len(site.controllers)))
            continue
        glances.append(
            SiteGlance(
                site=site.name,
                controllers=len(site.controllers),
                checked=len(snaps),
                status=worst_status(s.status for s in snaps),
                stuck_aps=sum(s.stuck_count for s in snaps),
                downloading_aps=sum(s.downloading_count for s in snaps),
                total_aps=sum(s.total_aps for s in snaps),
                unreachable=sum(1 for s in snaps if s.status is VerdictStatus.UNREACHABLE),
                incomplete=sum(1 for s in snaps if s.status is VerdictStatus.ERROR or s.incomplete),
                checked_at=min(s.taken_at for s in snaps),
                newest_at=max(s.taken_at for s in snaps),
            )
        )
    return glances


async def _views(service: RemediationService, ids: Sequence[int]) -> list[RequestView]:
    views = []
    for request_id in ids:
        try:
            views.append(await service.request_view(request_id))
        except (NotFoundError, ValueError) as error:  # gone meanwhile, or a status this code does not know
            log.warning("home: request #%s left out (%s)", request_id, type(error).__name__)
    return views


async def _listed(
    store: Store,
    remediation: RemediationService,
    statuses: Sequence[str],
    requester: str | None,
    *,
    limit: int,
    order: Order = "newest",
) -> tuple[list[RequestView], int]:
    """The views of the first `limit` ids in `order`, and how many there are in all."""
    ids = await store.read(requests_store.request_ids, statuses, requester=requester, limit=limit, order=order)
    total = await store.read(requests_store.count_requests, statuses, requester=requester)
    return await _views(remediation, ids), total


async def gather_home(
    store: Store,
    inventory: Inventory,
    remediation: RemediationService | None,
    caller: Caller,
    *,
    zone: tzinfo,
    now: datetime | None = None,
    fleet: bool = True,
) -> HomeData:
    """The home's data for `caller`, fresh from the store.

    `fleet` False (the caller may not run `/ccert status`): the sites are not read, so the
    home cannot show what `CCERT_ACCESS` keeps from them. Runs in progress and scheduled
    are every request's for an approver, only the caller's own for anyone else: who asks
    what on which controller is the approvers' business.
    """
    now = now or datetime.now(UTC)
    sites = site_glances(inventory, await store.read(history_store.latest_snapshots)) if fleet else []
    if remediation is None:
        return HomeData(caller.user_id, now, zone, tuple(sites), requests=False, fleet=fleet)
    voter = Voter(caller.user_id, caller.groups)
    policy = remediation.config.policy
    approver = is_approver(voter, policy)
    waiting: list[RequestView] = []
    waiting_total = 0
    if approver:
        # The closest to expiring first: the first to decide on, and never the ones the cap drops.
        pending = await store.read(requests_store.waiting_ids, caller.user_id, now, limit=PENDING_LIMIT)
        waiting = waiting_for(voter, policy, await _views(remediation, pending), now)
        waiting_total = await store.read(requests_store.count_waiting, caller.user_id, now)
    whose = None if approver else caller.user_id
    in_progress, in_progress_total = await _listed(store, remediation, IN_PROGRESS, whose, limit=IN_PROGRESS_LIMIT)
    scheduled, scheduled_total = await _listed(
        store, remediation, SCHEDULED, whose, limit=SCHEDULED_LIMIT, order="window"
    )
    mine = await _views(
        remediation, await store.read(requests_store.request_ids, None, requester=caller.user_id, limit=MINE_LIMIT)
    )
    return HomeData(
        caller.user_id,
        now,
        zone,
        tuple(sites),
        waiting=tuple(waiting),
        in_progress=tuple(in_progress),
        scheduled=tuple(scheduled),
        mine=tuple(mine),
        approver=approver,
        fleet=fleet,
        # A request decided between the count and the read must not make the heading smaller than the list.
        waiting_total=max(waiting_total, len(waiting)),
        in_progress_total=max(in_progress_total, len(in_progress)),
        scheduled_total=max(scheduled_total, len(scheduled)),
    )


async def home_reply(
    store: Store,
    inventory: Inventory,
    remediation: RemediationService | None,
    caller: Caller,
    *,
    zone: tzinfo,
    now: datetime | None = None,
    fleet: bool = True,
) -> Reply:
    """The home for `caller`: what the Home tab publishes and `/ccert home` answers (`fleet`:
    whether the caller may see the sites, see `gather_home`)."""
    return render_home(await gather_home(store, inventory, remediation, caller, zone=zone, now=now, fleet=fleet))
