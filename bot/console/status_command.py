"""`ccert-bot status SITE|all [--json]`: one read of the fleet, from a terminal.

The text output is the console rendering of the very Reply Slack would get;
the JSON is the verdicts plus the raw snapshots (schema in the README).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.chat.handlers import status_reply
from bot.console.render import render_text
from bot.fleet.service import FleetService, SiteReport
from bot.inventory import Inventory
from bot.settings import Settings
from bot.store.leader_lock import lead_summary

SCHEMA = "ccert-bot/status/v2"


def status_document(reports: list[SiteReport]) -> dict[str, Any]:
    sites = []
    for report in reports:
        site = report.verdict.to_dict()
        snapshots = {s.name: s for s in report.snapshots}
        for controller in site["controllers"]:
            controller["snapshot"] = snapshots[controller["controller"]].to_dict()
        sites.append(site)
    return {
        "schema": SCHEMA,
        "generated_at": datetime.now(UTC).isoformat(),
        "all_read": all(r.all_read for r in reports),
        "sites": sites,
    }


async def run_status(
    site: str,
    inventory: Inventory,
    settings: Settings,
    as_json: bool = False,
    out: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    out = out or sys.stdout
    if site == "all":
        names = list(inventory.sites)
    elif site in inventory.sites:
        names = [site]
    else:
        known = ", ".join(sorted(inventory.sites)) or "none"
        print(f"error: no site '{site}' in the inventory (known: {known}; or 'all')", file=sys.stderr)
        return 2
    reports = await FleetService(inventory, settings, environ).read_sites(names)
    # Which instance leads (PostgreSQL) or that there is one (SQLite): who runs the checks.
    lead = await asyncio.to_thread(lead_summary, settings.db, password=settings.db_password_text)
    if as_json:
        json.dump({**status_document(reports), "store": lead}, out, indent=2)
        out.write("\n")
    else:
        out.write(render_text(status_reply(reports)) + "\n")
        out.write(f"store: {lead['text']}\n")
    return 0 if all(r.all_read for r in reports) else 1
