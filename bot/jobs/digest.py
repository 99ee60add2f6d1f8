"""The daily digest: where the fleet stands, once a day, summary first.

Built from the store only (the last check of every controller, the open
alerts), so it costs no SSH session and reads the same on a 500-controller
fleet. Recorded per day, so a restart at 08:01 does not post it twice.

The summary message carries Slack message metadata (`ccert_digest`, `digest_metadata`):
the day and the fleet numbers the summary itself states, so other apps and workflows
can react to it, and the bot can find it again by its key (`digest-<day>`).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.chat.digest_views import digest_replies
from bot.chat.notifier import MessageMetadata, Notifier, PayloadValue, Posted
from bot.domain.alerts import AlertKind
from bot.domain.digest import FleetDigest, SiteDigest, UnfixedController
from bot.inventory import Inventory
from bot.store import Store, alerts, digests, history
from bot.store import remediation as remediation_queries
from bot.store.records import SiteSummary

log = logging.getLogger(__name__)

DIGEST_EVENT_TYPE = "ccert_digest"


def digest_metadata(digest: FleetDigest) -> MessageMetadata:
    """Only numbers the digest shows: sites, controllers (how many read, how many unreachable),
    stuck APs, the sites needing attention (0 when all clear or the fleet is empty), and
    whether the numbers are `complete` (see `digest_complete`), so a workflow that reads
    `stuck_aps: 0` can tell "none stuck" from "none seen". Nobody looks for the digest before
    posting it again, so the client may resend it (`once=False`)."""
    totals = digest.totals
    payload: dict[str, PayloadValue] = {
        "date": digest.day.isoformat(),
        "sites": totals.sites,
        "controllers": totals.controllers,
        "controllers_read": totals.controllers_read,
        "controllers_unreachable": totals.controllers_unreachable,
        "stuck_aps": totals.stuck_aps,
        "sites_needing_attention": len(digest.needing_attention),
        "complete": digest_complete(digest),
    }
    return MessageMetadata(DIGEST_EVENT_TYPE, f"digest-{digest.day.isoformat()}", payload, once=False)


def digest_complete(digest: FleetDigest) -> bool:
    """Whether the digest's numbers cover the whole fleet, as the digest itself says so: every
    site's last check read its controllers (none unreachable, none only partly, no AP list
    incomplete). A site with no check yet, or an empty fleet, is not complete: the numbers
    then come from nothing, and `stuck_aps: 0` must not read as "none stuck"."""
    return bool(digest.sites) and all(
        s.controllers_read
        and not s.controllers_unreachable
        and not s.controllers_partial
        and not s.controllers_incomplete
        for s in digest.sites
    )


def _site_digest(
    name: str,
    summary: SiteSummary | None,
    stuck: int,
    yesterday: int | None,
    unreachable_names: tuple[str, ...],
    open_work: tuple[int, int],
) -> SiteDigest:
    requests, runs = open_work
    if summary is None:
        return SiteDigest(
            site=name, stuck_aps=stuck, stuck_aps_yesterday=yesterday, open_requests=requests, open_runs=runs
        )
    return SiteDigest(
        site=name,
        controllers_read=summary.controllers_read,
        controllers_unreachable=summary.controllers_unreachable,
        aps_total=summary.total_aps,
        affected_aps=summary.affected_aps,
        stuck_aps=stuck,
        stuck_aps_yesterday=yesterday,
        downloading_aps=max(0, summary.downloading_aps - stuck),
        controllers_incomplete=summary.controllers_incomplete,
        risks=tuple(f"{controller}: {text}" for controller, text in summary.risks),
        unfixed=tuple(
            UnfixedController(u.controller, u.software_version, u.recommendation or "", u.fix_state, u.at_risk_aps)
            for u in summary.unfixed
        ),
        at_risk_aps=summary.at_risk_aps,
        controllers_partial=summary.controllers_partial,
        critical=tuple(f"{controller}: {finding.text}" for controller, finding in summary.critical),
        unreachable_controllers=unreachable_names,
        open_requests=requests,
        open_runs=runs,
    )


async def build_digest(store: Store, inventory: Inventory, now: datetime, zone: ZoneInfo) -> FleetDigest:
    """Stuck counts come from open stuck alerts: APs past the threshold, not every download."""
    summary = await store.read(history.fleet_summary, now)
    stuck = Counter[str]()
    for alert in await store.read(alerts.open_alerts, AlertKind.STUCK):
        stuck[alert.site or ""] += len(alert.payload.get("stuck_aps") or [])
    previous = await store.read(digests.stuck_by_site, (now.astimezone(zone) - timedelta(days=1)).date())
    open_work = await store.read(remediation_queries.open_work_by_site)
    sites = []
    for name in inventory.sites:
        site_summary = summary.site(name)
        # Yesterday's number is yesterday's digest (alert counts); without one it is unknown,
        # which is more honest than comparing with verdict counts that ignore the threshold.
        yesterday = previous.get(name)
        unreachable = site_summary.unreachable_controllers if site_summary else ()
        sites.append(_site_digest(name, site_summary, stuck[name], yesterday, unreachable, open_work.get(name, (0, 0))))
    return FleetDigest(day=now.astimezone(zone).date(), generated_at=now, sites=tuple(sites))


async def send_digest(
    store: Store,
    notifier: Notifier,
    inventory: Inventory,
    channel: str,
    now: datetime,
    zone: ZoneInfo,
    *,
    force: bool = False,
) -> Posted | None:
    """Post today's digest (summary, then details in its thread) unless already sent today."""
    digest = await build_digest(store, inventory, now, zone)
    if not force and await store.read(digests.digest_sent, digest.day):
        log.info("digest for %s already sent", digest.day)
        return None
    replies = digest_replies(digest)
    first = await notifier.post(channel, replies[0], metadata=digest_metadata(digest))
    for reply in replies[1:]:
        await notifier.post(channel, reply, thread_ts=first.ts)
    if not await store.read(digests.digest_sent, digest.day):
        await store.write(
            digests.record_digest,
            digest.day,
            channel=first.channel,
            ts=first.ts,
            summary={"stuck_by_site": {s.site: s.stuck_aps for s in digest.sites}, "sites": len(digest.sites)},
            sent_at=now,
        )
    return first
