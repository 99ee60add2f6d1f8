"""Stuck AP -> its own syslog says why -> the alert goes out before the threshold, confirmed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.jobs.checks import FleetChecker
from bot.slack.app import build_client
from bot.slack.notifier import SlackNotifier
from bot.store import Store
from bot.syslog import SyslogListener
from tests.support.fake_slack import FakeSlack
from tests.support.simulated_site import aireos, simulated_site

TOKEN = "xoxb-syslog-test"


async def test_ap_log_confirms_a_stuck_ap_before_the_threshold(tmp_path: Path) -> None:
    async with SyslogListener("udp://127.0.0.1:0") as listener, FakeSlack(token=TOKEN) as slack:
        port = listener.port("udp")
        entry = aireos("wlc-1", ap_syslog={"host": "127.0.0.1", "port": port})
        async with (
            simulated_site(
                tmp_path, entry, slack_api_url=slack.api_url, alert_channel="C0ALERTS", stuck_after_minutes=30
            ) as site,
            await Store.open(tmp_path / "db.sqlite") as store,
        ):
            checker = FleetChecker(
                site.inventory,
                site.settings,
                store,
                SlackNotifier(build_client(site.settings, token=TOKEN)),
                site.environ,
                confirmed=listener.confirmed,
                observers=[listener],
            )
            first = await checker.run_check()
            for _ in range(100):  # the simulated APs fail validation every ~0.1 s at this time scale
                if len(listener.confirmed("wlc-1")) == 2:
                    break
                await asyncio.sleep(0.1)
            second = await checker.run_check()
            counters = listener.counters.snapshot()
    assert set(listener.confirmed("wlc-1")) == {"CAP3702I.4CD4", "AP2702-1"}
    # Within a second of start-up, far below the 30-minute threshold: only the AP logs can say "stuck".
    stuck = [d for d in first.decisions + second.decisions if d.kind.value == "stuck"]
    assert type(stuck[0]).__name__ == "OpenAlert"
    assert {ap["name"] for ap in stuck[-1].payload["stuck_aps"] if ap["confirmed"]} == {"CAP3702I.4CD4", "AP2702-1"}
    (post,) = [c for c in slack.calls_to("chat.postMessage") if not c.body.get("thread_ts")]
    assert "confirmed by AP log" in str(post.body["blocks"])
    assert counters.matched > 0 and counters.malformed == 0
