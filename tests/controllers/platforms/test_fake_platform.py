"""A platform is one package: a made-up "acme" family, registered from `tests/fake_platform/`.

Nothing outside that package knows about acme; the registry hands out its
parsers, driver, session hooks and ops, and a dry-run plan of the shipped
time-back playbook is built through them. An unknown name is an error.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.controllers.platforms import registry
from bot.controllers.polling import PollOptions, poll_controller
from bot.controllers.session_api import CommandOutput, SessionOptions
from bot.domain.advisory_file import load_advisory
from bot.domain.models import ClockSource, ControllerSnapshot, NtpServer
from bot.inventory import Controller, Credentials
from bot.remediation.dryrun import dry_run, snapshot_offset
from bot.remediation.platform_ops import ops_for
from bot.remediation.playbook_loader import playbook_for
from tests.fake_platform import PLATFORM as ACME
from tests.fake_platform.ops import AcmeOps

ANSWERS = {
    "show version": "AcmeOS 17.9.4 up 3600\n",
    "show clock": "2026-06-01T12:00:00 ntp\n",
    "show ntp": "192.0.2.1\n192.0.2.2\n",
}


@pytest.fixture
def acme() -> Iterator[None]:
    registry.register(ACME)
    yield
    registry.unregister(ACME.name)


def test_unknown_platform_is_an_error_never_a_fallback() -> None:
    with pytest.raises(registry.UnknownPlatform, match=r"unknown platform 'nokia' \(known: aireos, iosxe\)"):
        registry.get("nokia")
    for lookup in (registry.get, ops_for):
        with pytest.raises(registry.UnknownPlatform):
            lookup("nokia")
    assert "acme" not in registry.names()


def test_a_registered_platform_is_found_everywhere_by_its_name(acme: None) -> None:
    assert registry.get("acme") is ACME
    assert registry.names() == ("acme", "aireos", "iosxe")
    assert registry.get("acme").parser("show_ntp") is ACME.parsers["show_ntp"]
    assert "show_clock" in registry.get("acme").parsers
    assert isinstance(ops_for("acme"), AcmeOps)
    assert ACME.label == "Acme Wireless"
    with pytest.raises(ValueError, match="already registered"):
        registry.register(type(ACME)())  # another object under a taken name


def test_the_shipped_platforms_come_from_their_packages() -> None:
    assert registry.names() == ("aireos", "iosxe")
    assert [registry.get(name).label for name in registry.names()] == ["AireOS", "Catalyst 9800"]


class _AcmeSession:
    """Answers acme's three read commands, as the simulator would."""

    def __init__(self, **kwargs: Any) -> None:
        self.platform = kwargs["platform"]

    async def __aenter__(self) -> _AcmeSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def send(self, command: str, timeout: float | None = None) -> CommandOutput:
        return CommandOutput(command, ANSWERS[command], False, 0.0)


def _controller() -> Controller:
    return Controller("acme-1", "127.0.0.1", 22, "acme", Credentials("c", "U", "P"), "lab")


def test_a_poll_reads_an_acme_controller(acme: None) -> None:
    options = PollOptions(SessionOptions(timeout_seconds=5))
    snapshot = asyncio.run(poll_controller(_controller(), options, {"U": "u", "P": "p"}, _AcmeSession))
    assert snapshot.errors == []
    assert snapshot.software_version == "17.9.4"
    assert [s.address for s in snapshot.ntp_servers] == ["192.0.2.1", "192.0.2.2"]


def test_a_poll_of_acme_through_its_platform_pieces(acme: None) -> None:
    """What a poll does per command (fleet.py's loop), with only the registry's acme pieces."""
    platform = registry.get("acme")
    snapshot = ControllerSnapshot("acme-1", "acme", "127.0.0.1", datetime.now(UTC))
    driver, context = registry.get("acme").driver(), dict[str, str]()
    for item in platform.definition.poll:
        driver.apply(snapshot, item.key, registry.get("acme").parser(item.key)(ANSWERS[item.command]), context)
    driver.finish(snapshot)
    assert snapshot.software_version == "17.9.4"
    assert snapshot.clock is not None and snapshot.clock.source is ClockSource.NTP
    assert [s.address for s in snapshot.ntp_servers] == ["192.0.2.1", "192.0.2.2"]
    assert platform.definition.prompt == r"^acme[>#]\s*$"


def test_a_dry_run_plans_the_time_back_through_acme(acme: None) -> None:
    # The shipped playbook's steps, for an acme controller (acme ships no playbook file of its own).
    playbook = dataclasses.replace(playbook_for("iosxe"), platform="acme")
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    snapshot = ControllerSnapshot("acme-1", "acme", "127.0.0.1", now)
    snapshot.clock = registry.get("acme").parser("show_clock")(ANSWERS["show clock"])
    snapshot.ntp_servers = [NtpServer("192.0.2.1", 1), NtpServer("192.0.2.2", 2)]
    snapshot.software_version = "17.9.4"
    assert snapshot_offset(snapshot.clock, "acme", now)[1] == "time zone"
    target = datetime(2022, 12, 1, 0, 0, tzinfo=UTC)
    params = playbook.resolve_params({"target": target.isoformat()})
    plan = dry_run(playbook, snapshot, params, now)
    assert plan.changes == [
        "ntp remove 192.0.2.1",
        "ntp remove 192.0.2.2",
        "clock set 12/01/22 00:00:00",
        "ntp add 192.0.2.1",
        "ntp add 192.0.2.2",
        "commit",
    ]
    assert "show clock" in plan.lines and "show ntp" in plan.lines
    assert plan.current_ntp == ("192.0.2.1", "192.0.2.2")


def test_every_shipped_platform_has_its_advisory_facts() -> None:
    """A platform package without its advisory entries would load and then get only
    UNKNOWN verdicts: its version numbering and its fixed releases are Cisco's facts, data."""
    advisory = load_advisory()
    for name in registry.names():
        assert advisory.platform(name) is not None, name
        assert name in advisory.no_fix_listed, name
        assert any(row.platform == name for row in advisory.fixed_releases), name
