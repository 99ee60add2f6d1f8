"""End to end with the real simulator: stuck IOS APs log the tech note's failure
to the bot's syslog listener, which confirms them, so the stuck alert opens at
the first check instead of after the 30-minute threshold, marked "confirmed by AP log"."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from bot.chat.alert_views import alert_reply
from bot.console.render import render_text
from bot.domain.alerts import AlertPolicy, AlertState, OpenAlert, evaluate_alerts
from bot.fleet.service import FleetService
from bot.syslog import SyslogListener
from tests.support.simulated_site import aireos, iosxe, simulated_site

STUCK = {"wlc-1": {"CAP3702I.4CD4", "AP2702-1"}, "wlc-2": {"AP3702-1", "AP2702-2"}}


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


async def test_simulated_ap_logs_confirm_stuck_aps_before_the_threshold(tmp_path: Path) -> None:
    async with SyslogListener("udp://127.0.0.1:0,tcp://127.0.0.1:0") as listener:
        target = {"host": "127.0.0.1", "port": listener.port("udp")}
        entries = (aireos("wlc-1", ap_syslog=target), iosxe("wlc-2", ap_syslog=target))
        # 60 simulated seconds per download are 0.1 s real: failures arrive many times a second.
        async with simulated_site(tmp_path, *entries, time_scale=600.0) as site:
            (report,) = await FleetService(site.inventory, site.settings, site.environ).read_sites(["site-t"])
            listener.update_inventory(report.snapshots)

            def all_confirmed() -> bool:
                return all(set(listener.confirmed(c)) == names for c, names in STUCK.items())

            assert await until(all_confirmed), listener.status()
            assert site.sim.syslog_sent > 0
        confirmed = {c: listener.confirmed(c) for c in STUCK}
        status = listener.status()

    # The simulator sends every AP's lines from 127.0.0.1, with the AP name as hostname:
    # attribution was by hostname (the simulated AP addresses are 10.x, not loopback).
    assert listener.correlator.resolve("127.0.0.1", None) is None
    for state in listener.correlator.states():
        assert state.sender == "127.0.0.1"
        assert state.track.sha == "SHA-2" and state.track.image == "ap3g2-k9w8-mx.153-3.JPJ9"
    # AP-COS APs never fail, and nothing was dropped. Lines that arrived before the
    # first poll (unknown senders then) were promoted to their APs once it came.
    assert {s.ap for s in listener.correlator.states()} == set().union(*STUCK.values())
    assert status.unknown_senders == ()
    assert status.counters.matched == status.counters.correlated + status.counters.unknown_sender
    assert status.counters.dropped_queue_full == status.counters.dropped_rate_limited == 0
    assert status.counters.malformed == status.counters.oversized == 0

    policy = AlertPolicy()  # stuck after 30 min
    by_name = {v.controller: v for v in report.verdict.controllers}
    for controller, names in STUCK.items():
        verdict = by_name[controller]
        # seen for the first time: downloading, and stuck only once their own log says so
        assert {f.ap.name for f in verdict.downloading_aps} == names
        assert verdict.stuck_aps == []
        # First sighting now: without the AP log, no alert yet (the threshold has not passed).
        assert evaluate_alerts(verdict, downloading_since={}, now=verdict.taken_at, policy=policy) == []
        decisions = evaluate_alerts(
            verdict, downloading_since={}, now=verdict.taken_at, policy=policy, confirmed=confirmed[controller]
        )
        assert len(decisions) == 1
        (decision,) = decisions
        assert isinstance(decision, OpenAlert)
        assert set(decision.stuck_aps) == names
        stuck = decision.payload["stuck_aps"]
        assert {ap["name"] for ap in stuck} == names
        assert all(ap["confirmed"] and ap["confirmed_at"] for ap in stuck)
        text = render_text(alert_reply(decision.payload, AlertState.OPEN, now=verdict.taken_at))
        assert text.count("confirmed by AP log") >= len(names)
