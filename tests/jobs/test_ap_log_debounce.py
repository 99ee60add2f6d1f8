"""The per-controller debounce between the syslog receiver and the alert rules (`APLogAlerts`).

Fed real events (the receiver's own pipeline on lines from the simulator's failure log); the
judgement it calls is recorded, so what is measured is exactly when and how often it judges."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from bot.domain.models import AccessPoint, ControllerSnapshot, Platform
from bot.jobs.ap_log_alerts import APLogAlerts
from bot.simulator.bug import ImageSigningRules
from bot.simulator.scenario import builtin_defaults
from bot.syslog import Correlator, SyslogEvent, SyslogProcessor
from tests.support.ap_syslog import failure_datagrams

RULES = ImageSigningRules.from_dict(builtin_defaults())


class Judge:
    """Records each judgement (controller, monotonic time); can be made slow or failing."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.calls: list[tuple[str, float]] = []
        self.delay = delay
        self.fail = fail

    async def __call__(self, controller: str) -> str:
        self.calls.append((controller, time.monotonic()))
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("the store is gone")
        return f"judged {controller}"


def processor(*controllers: tuple[str, list[AccessPoint]]) -> SyslogProcessor:
    correlator = Correlator()
    correlator.update_inventory(
        ControllerSnapshot(name=name, platform=Platform.AIREOS, host="192.0.2.1", taken_at=datetime.now(UTC), aps=aps)
        for name, aps in controllers
    )
    return SyslogProcessor(correlator=correlator)


def downloading(name: str, state: str = "Downloading") -> AccessPoint:
    return AccessPoint(name=name, model="AIR-CAP3702I-E-K9", state=state)


def episodes(proc: SyslogProcessor, *hostnames: str) -> list[SyslogEvent]:
    """The events that start a failure episode, as the receiver's `on_failure` hook gets them."""
    out = []
    for name in hostnames:
        for datagram in failure_datagrams(RULES, name):
            event = proc.handle(datagram, "127.0.0.1")
            if event is not None and event.newly_confirmed:
                out.append(event)
    return out


def tell(alerts: APLogAlerts, events: list[SyslogEvent]) -> None:
    for event in events:
        alerts.failed(event.controller, event.ap, event)


async def test_a_burst_on_two_controllers_is_one_judgement_each() -> None:
    proc = processor(
        ("wlc-1", [downloading(f"A{i}") for i in range(100)]), ("wlc-2", [downloading(f"B{i}") for i in range(100)])
    )
    judge = Judge()
    alerts = APLogAlerts(judge, is_leader=lambda: True, quiet=0.2, longest=1.0)
    events = episodes(proc, *(f"A{i}" for i in range(100)), *(f"B{i}" for i in range(100)))
    assert len(events) == 200  # one episode start per AP, however many lines each sent
    started = time.monotonic()
    tell(alerts, events)
    assert alerts.waiting == {"wlc-1": 100, "wlc-2": 100}
    await asyncio.sleep(0.6)
    assert sorted(c for c, _ in judge.calls) == ["wlc-1", "wlc-2"]
    assert all(at - started > 0.15 for _, at in judge.calls)  # after `quiet`, not at the first line
    assert alerts.waiting == {} and alerts.stats.judged == 2 and alerts.stats.heard == 200


async def test_a_steady_trickle_is_judged_within_longest_then_again() -> None:
    names = [f"A{i}" for i in range(12)]
    proc = processor(("wlc-1", [downloading(n) for n in names]))
    judge = Judge()
    alerts = APLogAlerts(judge, is_leader=lambda: True, quiet=0.2, longest=0.5)
    started = time.monotonic()
    for name in names:  # one AP every 0.1 s: never quiet for 0.2 s
        tell(alerts, episodes(proc, name))
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.4)
    times = [at - started for _, at in judge.calls]
    # `longest` after the first failure, while the trickle (1.2 s) still went on
    assert times and 0.45 < times[0] < 1.1
    assert 2 <= len(times) <= 4  # a trickle of 1.2 s gives a few judgements, never one per AP


async def test_failures_during_a_judgement_give_one_more_after_it() -> None:
    proc = processor(("wlc-1", [downloading(f"A{i}") for i in range(3)]))
    judge = Judge(delay=0.4)
    alerts = APLogAlerts(judge, is_leader=lambda: True, quiet=0.1, longest=0.3)
    tell(alerts, episodes(proc, "A0"))
    await asyncio.sleep(0.2)  # judging A0 now
    tell(alerts, episodes(proc, "A1", "A2"))
    await asyncio.sleep(1.0)
    assert len(judge.calls) == 2 and alerts.waiting == {}


async def test_not_downloading_unknown_and_standby_are_left_to_the_next_check() -> None:
    proc = processor(("wlc-1", [downloading("UP", "Registered"), downloading("DL")]))
    judge = Judge()
    leading = False
    alerts = APLogAlerts(judge, is_leader=lambda: leading, quiet=0.05, longest=0.1)
    tell(alerts, episodes(proc, "UP", "NOBODY", "DL"))
    await asyncio.sleep(0.3)
    assert judge.calls == []
    # UP is Registered, NOBODY is unknown (the hook is told of unknown senders with None);
    # DL is Downloading, but this instance is a standby.
    unknown = proc.handle(failure_datagrams(RULES, "NOBODY2")[1], "127.0.0.1")
    assert unknown is not None
    alerts.failed(unknown.controller, unknown.ap, unknown)
    assert alerts.stats.next_check == 2 and alerts.stats.standby == 1 and alerts.stats.judged == 0


async def test_a_failing_judgement_is_counted_and_the_next_burst_still_judged() -> None:
    proc = processor(("wlc-1", [downloading("A"), downloading("B")]))
    judge = Judge(fail=True)
    alerts = APLogAlerts(judge, is_leader=lambda: True, quiet=0.05, longest=0.1)
    tell(alerts, episodes(proc, "A"))
    await asyncio.sleep(0.3)
    judge.fail = False
    tell(alerts, episodes(proc, "B"))
    await asyncio.sleep(0.3)
    assert len(judge.calls) == 2 and alerts.stats.errors == 1
    assert alerts.stats.last["wlc-1"] == "judged wlc-1"


async def test_cancel_stops_a_waiting_timer_and_forgets_what_it_held() -> None:
    proc = processor(("wlc-1", [downloading("A")]))
    judge = Judge()
    alerts = APLogAlerts(judge, is_leader=lambda: True, quiet=0.3, longest=0.5)
    tell(alerts, episodes(proc, "A"))
    await alerts.cancel()
    await asyncio.sleep(0.6)
    assert judge.calls == [] and alerts.waiting == {}


def test_bounds_are_checked() -> None:
    with pytest.raises(ValueError):
        APLogAlerts(Judge(), is_leader=lambda: True, quiet=0, longest=1)
    with pytest.raises(ValueError):
        APLogAlerts(Judge(), is_leader=lambda: True, quiet=1, longest=0.5)
