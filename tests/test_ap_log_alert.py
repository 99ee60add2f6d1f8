"""The AP's own failure log alerts within seconds, through the real stack.

`ccert-bot run` as a process with its defaults (a check every 15 minutes, stuck after 30), the
simulator over SSH, the fake Slack Web API, the AP syslog receiver on loopback UDP. The first
check runs at start-up and sees the IOS APs `Downloading` for the first time: no alert. Every
alert posted after it came from what the APs logged, since the next check is 15 minutes away.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from bot.simulator.bug import ImageSigningRules
from tests.remediation.remediation_helpers import eventually
from tests.support.ap_syslog import failure_datagrams, free_udp_port, send_udp
from tests.support.bot_process import BotProcess, bot_process, free_port, run_env
from tests.support.fake_slack import FakeSlack
from tests.support.simulated_site import SimulatedSite, aireos, iosxe, simulated_site

pytestmark = pytest.mark.slow

REGISTERED_IOS_AP = {"name": "AP3702-OK", "model": "AIR-CAP3702I-E-K9"}  # runs the controller's image


def alerts_posted(slack: FakeSlack) -> list[dict[str, Any]]:
    return slack.top_level_posts()


async def first_check_done(bot: BotProcess) -> None:
    async def checked() -> bool:
        return (await bot.metric("ccert_checks_total")) == 1.0

    await eventually(checked, timeout=60, interval=0.1, what=f"the first check ({bot.log_tail(500)})")


def rules(site: SimulatedSite, controller: str) -> ImageSigningRules:
    return site.sim.controllers[controller].rules


async def test_a_downloading_ap_logging_the_failure_is_alerted_within_seconds_a_registered_one_not(
    tmp_path: Path,
) -> None:
    entry = aireos("wlc-1", aps=[*aireos("wlc-1")["aps"], REGISTERED_IOS_AP])
    udp = free_udp_port()
    async with FakeSlack() as slack, simulated_site(tmp_path, entry) as site:
        env = run_env(site, slack, tmp_path, free_port(), CCERT_SYSLOG_LISTEN=f"udp://127.0.0.1:{udp}")
        assert "CCERT_CHECK_INTERVAL_MINUTES" not in env and "CCERT_STUCK_AFTER_MINUTES" not in env
        async with bot_process("bot", env, tmp_path) as bot:
            await first_check_done(bot)
            assert alerts_posted(slack) == []
            # An IOS AP that is Registered logs the failure: its log is kept, nothing is posted.
            send_udp(udp, failure_datagrams(rules(site, "wlc-1"), "AP3702-OK"))

            async def heard() -> bool:
                return (await bot.metric("ccert_syslog_messages_total", result="matched") or 0) >= 4

            await eventually(heard, timeout=10, what="the Registered AP's lines received and matched")
            await asyncio.sleep(3)  # longer than the debounce, far shorter than a check
            after_registered = alerts_posted(slack)
            # An AP the first check saw Downloading logs it: the alert comes within seconds.
            sent = time.monotonic()
            send_udp(udp, failure_datagrams(rules(site, "wlc-1"), "CAP3702I.4CD4"))
            (alert,) = await eventually(lambda: alerts_posted(slack), timeout=30, what="the AP-log alert")
            took = time.monotonic() - sent
            ts = await eventually(lambda: slack_ts(slack, alert), timeout=5, what="the alert's ts")
            note = await eventually(lambda: thread(slack, ts), timeout=10, what="the AP-log note")
            checks = await bot.metric("ccert_checks_total")
    assert after_registered == []
    assert took < 10, f"the alert took {took:.1f} s"
    assert "confirmed by AP log" in json.dumps(alert) and "wlc-1" in alert["text"]
    assert checks == 1.0  # no check ran in between: the AP's log alone raised it
    assert "CAP3702I.4CD4 at " in note[0] and "AP3702-OK" not in note[0]


async def test_two_hundred_aps_failing_in_one_burst_give_one_alert_per_controller(tmp_path: Path) -> None:
    one = [{"name": f"AP3702-{i:03d}", "model": "AIR-CAP3702I-E-K9", "image": "8.5.182.0"} for i in range(100)]
    two = [{"name": f"AP2702-{i:03d}", "model": "AIR-CAP2702I-E-K9", "image": "17.3.3.26"} for i in range(100)]
    udp = free_udp_port()
    async with (
        FakeSlack() as slack,
        simulated_site(tmp_path, aireos("wlc-1", aps=one), iosxe("wlc-2", aps=two)) as site,
    ):
        env = run_env(site, slack, tmp_path, free_port(), CCERT_SYSLOG_LISTEN=f"udp://127.0.0.1:{udp}")
        async with bot_process("bot", env, tmp_path) as bot:
            await first_check_done(bot)
            assert alerts_posted(slack) == []
            datagrams = [d for ap in one for d in failure_datagrams(rules(site, "wlc-1"), ap["name"])]
            datagrams += [d for ap in two for d in failure_datagrams(rules(site, "wlc-2"), ap["name"])]
            send_udp(udp, datagrams)  # 1,200 lines, as fast as one socket sends them
            await eventually(lambda: len(alerts_posted(slack)) >= 2, timeout=30, what="an alert per controller")
            await asyncio.sleep(3)  # a second judgement of either controller would have posted by now
            posts = alerts_posted(slack)
            updates = slack.calls_to("chat.update")
            notes = [c.body for c in slack.calls_to("chat.postMessage") if c.body.get("thread_ts")]
            matched = await bot.metric("ccert_syslog_messages_total", result="matched")
            dropped = await bot.metric("ccert_syslog_messages_total", result="dropped")
    assert len(posts) == 2 and updates == []
    assert sorted(p["metadata"]["event_payload"]["controller"] for p in posts) == ["wlc-1", "wlc-2"]
    assert "100 APs stuck" in posts[0]["text"] and "100 APs stuck" in posts[1]["text"]
    # one note per alert: the APs that logged it, the first ten by name and time, then how many more
    assert len(notes) == 2 and all("and 90 more APs logged" in n["text"] for n in notes)
    assert matched == 1200.0 and not dropped  # every line of every AP arrived and was recognised


def slack_ts(slack: FakeSlack, alert: dict[str, Any]) -> str | None:
    """The ts the fake Slack gave the alert message."""
    for message in slack.channel_history(alert["channel"]):
        if message.get("text") == alert.get("text"):
            return str(message["ts"])
    return None


def thread(slack: FakeSlack, ts: str) -> list[str]:
    return [json.dumps(body) for body in slack.thread_posts(ts)]
