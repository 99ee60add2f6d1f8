"""Shared helpers for the remediation tests: fast settings, simulator state, assertions.

The remediation tests talk to the simulator over real SSH exactly like the
bot in production; these helpers only make the waits second-scale and read
the simulator's live model to check what really happened on the "device".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.controllers.session import SessionOptions
from bot.domain.approvals import ApprovalPolicy, Voter
from bot.remediation.engine import RetryPolicy
from bot.remediation.service import RemediationConfig
from bot.simulator import Controller as SimController
from tests.support.simulated_site import SimulatedSite

REQUESTER = "UREQ0001"
APPROVER_1 = "UAPP0001"
APPROVER_2 = "UAPP0002"
GROUP_MEMBER = "UGRP0001"
NETOPS_GROUP = "SNETOPS01"
OUTSIDER = "UOUT0001"

#: Second-scale waits for a simulator running 600x: downloads take ~0.1 s, NTP sync ~0.2 s.
FAST_PARAMS: dict[str, Any] = {
    "wait_timeout_seconds": 15,
    "poll_interval_seconds": 0.1,
    "ntp_sync_timeout_seconds": 10,
    "ntp_sync_poll_seconds": 0.05,
}
FAST_RETRY = RetryPolicy(attempts=4, undo_attempts=8, base_delay=0.05, max_delay=0.4)


def voter(user_id: str, *groups: str) -> Voter:
    return Voter(user_id, tuple(groups))


def fast_config(site: SimulatedSite, **overrides: Any) -> RemediationConfig:
    values: dict[str, Any] = {
        "policy": ApprovalPolicy(
            required_approvals=2,
            approvers=frozenset({REQUESTER, APPROVER_1, APPROVER_2, NETOPS_GROUP}),
            ttl=timedelta(minutes=60),
        ),
        "session": SessionOptions(
            timeout_seconds=site.settings.ssh_timeout_seconds,
            strict_host_keys=True,
            known_hosts=site.known_hosts,
        ),
        "retry": FAST_RETRY,
        "param_overrides": dict(FAST_PARAMS),
    }
    values.update(overrides)
    return RemediationConfig(**values)


def ntp_config(wlc: SimController) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """(running servers, saved servers, everything else saved) — what must be identical before/after."""
    saved = wlc.saved.to_dict()
    return (
        [s.to_dict() for s in wlc.running.ntp_servers],
        [s.to_dict() for s in wlc.saved.ntp_servers],
        {k: v for k, v in saved.items() if k != "ntp_servers"},
    )


def clock_is_current(wlc: SimController, tolerance_seconds: float = 60.0) -> bool:
    return abs(wlc.clock_offset.total_seconds()) <= tolerance_seconds


def device_problems(wlc: SimController, before: tuple[Any, ...]) -> list[str]:
    """What is wrong with a simulated controller compared with its state before a run (empty = fine)."""
    problems = []
    now = ntp_config(wlc)
    if now[0] != before[0]:
        problems.append(f"running NTP {now[0]} != {before[0]}")
    if now[1] != before[1] or now[2] != before[2]:
        problems.append(f"saved NTP {now[1]} != {before[1]}")
    if wlc.running.to_dict() != wlc.saved.to_dict() and before[0] == before[1]:
        problems.append("unsaved changes left behind")
    if not clock_is_current(wlc):
        problems.append(f"clock off by {wlc.clock_offset} ({wlc.clock_source})")
    return problems


async def eventually(
    predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05, *, what: str | None = None
) -> Any:
    """Poll until `predicate()` (a function or a coroutine function) gives something truthy, and
    return that (bounded); fail on timeout, naming `what` when given."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or 'condition'}: not met within {timeout:g}s")
        await asyncio.sleep(interval)


class WindowClock:
    """The window timer's clock (`RemediationService(window_clock=...)`), moved by a test; the
    runs and the simulated controllers keep the real one."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def move_to(self, when: datetime) -> None:
        self.offset = when - datetime.now(UTC)
