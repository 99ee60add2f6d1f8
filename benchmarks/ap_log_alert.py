"""How soon after an AP logs the certificate failure does the channel hear of it?

`ccert-bot run` as a process (the simulator over SSH, the fake Slack Web API and the AP syslog
receiver on loopback UDP), with the default check interval unless told otherwise. The start-up
check sees every IOS AP `Downloading` for the first time (not stuck yet: no alert). Then:

* **one AP at a time**: AP i sends the six lines of a rejected image (RFC 3164, as the APs
  send them); timed from the send to the bot's next write in the channel (the alert posted for
  the first AP, the alert updated for each further one). Trials are spaced so each is its own burst.
* **a burst**: every AP of two other controllers (100 each) fails at once (1,200 lines from one
  socket); timed to both alerts, and the alerts and updates counted (one alert per controller,
  no update, is the goal).

The anchor, measured in the same run, is the start-up check's duration (from the bot's own
`/metrics`): what the alert cost before in work, on top of waiting for that check to come
round. Also printed: one `chat.postMessage` round trip to the fake Slack from this process
(the floor of any post), and the share of `quiet` (0.5 s), the wait for a burst to settle
that the bot makes by design before it judges.

Before the AP log judged alerts itself, the alert waited for the next check: run this with
the old code on `PYTHONPATH` and `--interval-minutes 1` to see it (at the default 15 minutes
it does not come within any sensible timeout).

Usage: python benchmarks/ap_log_alert.py [--trials 5] [--interval-minutes 15] [--timeout 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.jobs.ap_log_alerts import DEFAULT_QUIET  # noqa: E402
from tests.remediation.remediation_helpers import eventually  # noqa: E402
from tests.support.ap_syslog import failure_datagrams, free_udp_port, send_udp  # noqa: E402
from tests.support.bot_process import BotProcess, bot_process, free_port, run_env  # noqa: E402
from tests.support.fake_slack import FakeSlack  # noqa: E402
from tests.support.simulated_site import aireos, iosxe, simulated_site  # noqa: E402

BURST = 100  # APs per burst controller


def ios_aps(prefix: str, count: int, model: str, image: str) -> list[dict[str, Any]]:
    return [{"name": f"{prefix}-{i:03d}", "model": model, "image": image} for i in range(count)]


def writes(slack: FakeSlack) -> int:
    """The bot's writes about alerts: top-level posts and message updates."""
    return len(slack.top_level_posts()) + len(slack.calls_to("chat.update"))


async def post_floor(slack: FakeSlack, rounds: int = 20) -> float:
    """Median seconds of one `chat.postMessage` to the fake Slack (the anchor)."""
    times = []
    async with aiohttp.ClientSession() as http:
        for _ in range(rounds):
            started = time.perf_counter()
            async with http.post(
                slack.api_url + "chat.postMessage",
                json={"channel": "C0ANCHOR", "text": "anchor"},
                headers={"Authorization": f"Bearer {slack.token}"},
            ) as response:
                await response.read()
            times.append(time.perf_counter() - started)
    return statistics.median(times)


async def first_check(bot: BotProcess) -> None:
    async def done() -> bool:
        return (await bot.metric("ccert_checks_total") or 0) >= 1

    await eventually(done, timeout=90, interval=0.1, what="the first check")


async def run(trials: int, interval: float | None, timeout: float) -> None:
    single = ios_aps("AP3702", trials, "AIR-CAP3702I-E-K9", "8.5.182.0")
    one = ios_aps("B3702", BURST, "AIR-CAP3702I-E-K9", "8.5.182.0")
    two = ios_aps("C2702", BURST, "AIR-CAP2702I-E-K9", "17.3.3.26")
    entries = (aireos("wlc-1", aps=single), aireos("wlc-2", aps=one), iosxe("wlc-3", aps=two))
    udp = free_udp_port()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        async with FakeSlack() as slack, simulated_site(tmp_path, *entries) as site:
            extra = {"CCERT_SYSLOG_LISTEN": f"udp://127.0.0.1:{udp}"}
            if interval is not None:
                extra["CCERT_CHECK_INTERVAL_MINUTES"] = f"{interval:g}"
            env = run_env(site, slack, tmp_path, free_port(), **extra)
            async with bot_process("bot", env, tmp_path) as bot:
                await first_check(bot)
                check_seconds = await bot.metric("ccert_check_duration_seconds_sum") or float("nan")
                assert writes(slack) == 0, "the first check alerted by itself"
                latencies: list[float | None] = []
                for ap in single:
                    before = writes(slack)
                    sent = time.perf_counter()
                    send_udp(udp, failure_datagrams(site.sim.controllers["wlc-1"].rules, ap["name"]))
                    try:
                        await eventually(lambda b=before: writes(slack) > b, timeout=timeout, interval=0.01)
                        latencies.append(time.perf_counter() - sent)
                    except AssertionError:
                        latencies.append(None)
                    await asyncio.sleep(1.0)  # its own burst, and a check that was due has run
                before_posts = len(slack.top_level_posts())
                before_updates = len(slack.calls_to("chat.update"))
                burst = [d for ap in one for d in failure_datagrams(site.sim.controllers["wlc-2"].rules, ap["name"])]
                burst += [d for ap in two for d in failure_datagrams(site.sim.controllers["wlc-3"].rules, ap["name"])]
                sent = time.perf_counter()
                send_udp(udp, burst)
                try:
                    await eventually(
                        lambda: writes(slack) >= before_posts + before_updates + 2, timeout=timeout, interval=0.01
                    )
                    burst_took: float | None = time.perf_counter() - sent
                except AssertionError:
                    burst_took = None
                await asyncio.sleep(3.0)  # a second judgement, if any, would post by now
                burst_alerts = len(slack.top_level_posts()) - before_posts
                burst_updates = len(slack.calls_to("chat.update")) - before_updates
                checks = await bot.metric("ccert_checks_total")
                floor = await post_floor(slack)
    shown = [f"{x:.2f}" if x is not None else f">{timeout:g}" for x in latencies]
    arrived = [x for x in latencies if x is not None]
    print(f"check interval: {interval if interval is not None else 15:g} min; fleet checks run: {checks:g}")
    print(
        f"anchor: the start-up check of 3 controllers, {trials + 2 * BURST} IOS APs, took {check_seconds:.2f} s; "
        f"one chat.postMessage to the fake Slack {floor * 1000:.1f} ms (median of 20)"
    )
    print(f"one AP at a time ({trials} trials), send → alert posted/updated, s: {', '.join(shown)}")
    if arrived:
        median = statistics.median(arrived)
        print(
            f"  median {median:.2f} s = {median / check_seconds:.2f}× the start-up check; "
            f"of which the debounce's quiet {DEFAULT_QUIET:g} s ({DEFAULT_QUIET / median:.0%}), "
            f"the rest {max(0.0, median - DEFAULT_QUIET) * 1000:.0f} ms"
        )
    took = f"{burst_took:.2f} s" if burst_took is not None else f"not within {timeout:g} s"
    print(
        f"burst: {2 * BURST} APs on 2 controllers, {len(burst)} lines → both alerts in {took}; "
        f"{burst_alerts} alert(s), {burst_updates} update(s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--interval-minutes", type=float, default=None, help="CCERT_CHECK_INTERVAL_MINUTES")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each alert")
    args = parser.parse_args()
    asyncio.run(run(max(1, min(args.trials, 50)), args.interval_minutes, args.timeout))


if __name__ == "__main__":
    main()
