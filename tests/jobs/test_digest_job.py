"""The daily digest job: from the store to Slack, once a day, readable at 500 controllers."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
import yaml

from bot.console.notifier import ConsoleNotifier
from bot.domain.models import AccessPoint, ClockReading, ClockSource, ControllerSnapshot, NtpServer, Platform
from bot.domain.verdict import evaluate_controller
from bot.inventory import Inventory
from bot.inventory_file import parse_inventory
from bot.jobs.checks import FleetChecker
from bot.jobs.digest import send_digest
from bot.settings import load_settings
from bot.slack.app import build_client
from bot.slack.notifier import SlackNotifier
from bot.store import Store, checks
from bot.store.records import CheckRun, CheckTrigger
from tests.jobs.conftest import TOKEN, Harness
from tests.support.fake_slack import FakeSlack

UTC_ZONE = ZoneInfo("UTC")


async def test_digest_summary_first_details_in_thread_once_a_day(harness: Harness) -> None:
    checker = harness.checker()
    await checker.run_check()
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=31), tick=True):
        await checker.run_check()
        now = datetime.now(UTC)
        posted = await send_digest(harness.store, checker.notifier, harness.site.inventory, "C0DIGEST", now, UTC_ZONE)
        again = await send_digest(harness.store, checker.notifier, harness.site.inventory, "C0DIGEST", now, UTC_ZONE)
    assert posted is not None and again is None
    digest_posts = [b for b in harness.posts() if b["channel"] == "C0DIGEST"]
    summary, *details = digest_posts
    assert "thread_ts" not in summary or summary["thread_ts"] is None
    assert "daily digest" in summary["text"].lower()
    assert all(d["thread_ts"] == posted.ts for d in details) and details
    everything = " ".join(str(d["blocks"]) for d in digest_posts)
    assert "site-t" in everything and "8.10.183.0" in everything
    # Two APs are in the open stuck alert of wlc-1: the digest says so.
    assert "Stuck APs: 2" in summary["text"] or "Stuck APs: 2" in str(summary["blocks"])


async def test_empty_fleet_digest(tmp_path: Path) -> None:
    out = io.StringIO()
    async with await Store.open(tmp_path / "db.sqlite") as store:
        posted = await send_digest(
            store, ConsoleNotifier(out), Inventory({}, {}), "C0DIGEST", datetime.now(UTC), UTC_ZONE
        )
    assert posted is not None
    assert "no sites" in out.getvalue().lower()


def _fleet_inventory(sites: int, per_site: int) -> Inventory:
    document = {
        "sites": {
            f"site-{s:03d}": {
                "channel": "C0FLEET001",
                "controllers": [
                    {
                        "name": f"wlc-{s:03d}-{c}",
                        "host": "127.0.0.1",
                        "port": 20000 + s * per_site + c,
                        "platform": "iosxe",
                        "credentials": "d",
                    }
                    for c in range(per_site)
                ],
            }
            for s in range(sites)
        },
        "credentials": {"d": {"username_env": "U", "password_env": "P"}},
    }
    return parse_inventory(yaml.safe_dump(document), "<fleet>")


def _snapshot(name: str, site: str, index: int, taken: datetime) -> ControllerSnapshot:
    stuck = index % 7 == 0
    aps = [
        AccessPoint(
            f"{name}-ap{j:02d}",
            "AIR-CAP3702I-E-K9" if j < 10 else "C9120AXI-E",
            state="Downloading" if stuck and j < 3 else "Registered",
        )
        for j in range(50)
    ]
    return ControllerSnapshot(
        name=name,
        platform=Platform.IOSXE,
        host="127.0.0.1",
        taken_at=taken,
        site=site,
        software_version="17.3.4" if index % 3 else "17.9.4",
        clock=ClockReading(taken, ClockSource.NTP, True, True, "UTC"),
        ntp_servers=[NtpServer("192.0.2.1", config_line="ntp server 192.0.2.1")],
        aps=aps,
    )


async def test_500_controller_digest_stays_within_slack_limits(tmp_path: Path) -> None:
    inventory = _fleet_inventory(100, 5)
    now = datetime.now(UTC)
    async with await Store.open(tmp_path / "fleet.db") as store, FakeSlack(token=TOKEN) as slack:
        snapshots = [_snapshot(c.name, c.site, i, now) for i, c in enumerate(inventory.controllers())]
        verdicts = [evaluate_controller(s) for s in snapshots]
        run_id = await store.write(checks.start_check, CheckTrigger.SCHEDULED, now)
        await store.write(
            checks.record_check, CheckRun(CheckTrigger.SCHEDULED, now, now, id=run_id), snapshots, verdicts
        )
        settings_client = build_client(load_settings(slack_api_url=slack.api_url), token=TOKEN)
        posted = await send_digest(store, SlackNotifier(settings_client), inventory, "C0DIGEST", now, UTC_ZONE)
        calls = slack.calls_to("chat.postMessage")
    assert posted is not None
    assert all(c.response.get("ok") for c in calls), [c.response for c in calls if not c.response.get("ok")]
    assert 2 <= len(calls) <= 40, len(calls)
    for call in calls:
        assert len(call.blocks) <= 50
    summary = str(calls[0].blocks)
    assert "500 controllers" in summary or "500" in summary


async def test_console_twin_prints_alerts(harness: Harness) -> None:
    out = io.StringIO()
    checker = FleetChecker(
        harness.site.inventory, harness.site.settings, harness.store, ConsoleNotifier(out), harness.site.environ
    )
    await checker.run_check()
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=31), tick=True):
        await checker.run_check()
    text = out.getvalue()
    assert "wlc-1" in text and "CAP3702I.4CD4" in text and "[Request time-back]  type: /ccert remediate" in text


async def test_digest_counts_open_remediation_requests(harness: Harness) -> None:
    from bot.domain.approvals import ApprovalPolicy
    from bot.remediation.service import RemediationConfig, RemediationService

    await harness.checker().run_check()
    config = RemediationConfig.from_settings(
        harness.site.settings, policy=ApprovalPolicy(approvers=frozenset({"U0ALICE", "U0BOB"}))
    )
    service = RemediationService(harness.store, harness.site.inventory, config, harness.site.environ)
    await service.create_request("site-t", "wlc-1", "U0CARLA", None)
    out = io.StringIO()
    await send_digest(
        harness.store, ConsoleNotifier(out), harness.site.inventory, "C0DIGEST", datetime.now(UTC), UTC_ZONE
    )
    assert "1 open request" in out.getvalue()
