"""Routine checks ask only what changes; static facts come back after a reload or an upgrade.

Unit tests for the decision (`StaticFacts.why_read`), then real SSH polls of
the simulator with a session that records every command sent.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from bot.controllers.platforms import registry
from bot.controllers.polling import PollOptions, poll_fleet
from bot.controllers.session import ControllerSession
from bot.controllers.static_facts import Identity, StaticFacts, StaticRead
from bot.fleet.service import poll_options
from tests.support.simulated_site import SimulatedSite, aireos, iosxe, simulated_site

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def facts_after(identity: Identity, *, refresh: timedelta = DAY) -> StaticFacts:
    facts = StaticFacts(refresh)
    facts.remember("wlc", StaticRead(T0, identity, {"show_wireless_management_trustpoint": "tp"}))
    return facts


def test_nothing_remembered_is_a_first_check() -> None:
    assert StaticFacts(DAY).why_read("wlc", Identity("17.3.4", timedelta(days=3)), T0) == "first check"


def test_same_software_and_a_grown_uptime_replay_the_last_read() -> None:
    facts = facts_after(Identity("17.3.4", timedelta(days=3)))
    later = T0 + timedelta(minutes=15)
    assert facts.why_read("wlc", Identity("17.3.4", timedelta(days=3, minutes=15)), later) is None
    # a clock that runs fast (a simulator at 60x) only moves the boot time earlier: still the same boot
    assert facts.why_read("wlc", Identity("17.3.4", timedelta(days=3, hours=15)), later) is None


def test_checks_every_fifteen_minutes_on_an_unchanged_controller_never_look_like_a_reload() -> None:
    """A replay keeps the read's time but moves the uptime baseline to the check that saw it."""
    facts = facts_after(Identity("17.3.4", timedelta(days=3)))
    reasons = []
    for k in range(1, 13):  # three hours of checks
        now = T0 + timedelta(minutes=15 * k)
        identity = Identity("17.3.4", timedelta(days=3, minutes=15 * k))
        reasons.append(facts.why_read("wlc", identity, now))
        last = facts.recall("wlc")
        assert last is not None
        facts.remember("wlc", replace(last, identity=identity, seen_at=now))  # what a replaying check keeps
    assert reasons == [None] * 12
    assert facts.recall("wlc").read_at == T0  # the refresh still counts from the read


def test_new_software_a_reload_or_an_old_read_read_everything_again() -> None:
    facts = facts_after(Identity("17.3.4", timedelta(days=3)))
    later = T0 + timedelta(minutes=15)
    assert facts.why_read("wlc", Identity("17.9.4", timedelta(days=3, minutes=15)), later) == "software changed"
    assert facts.why_read("wlc", Identity("17.3.4", timedelta(minutes=5)), later) == "reloaded"
    # a reload between checks whose uptime already passed the old one: the boot time moved
    young = facts_after(Identity("17.3.4", timedelta(hours=1)))
    assert young.why_read("wlc", Identity("17.3.4", timedelta(hours=2)), T0 + timedelta(hours=20)) == "reloaded"
    assert facts.why_read("wlc", Identity("17.3.4", timedelta(days=4)), T0 + DAY) == "refresh due"
    assert facts.why_read("wlc", None, later) == "the software and uptime could not be read"
    assert facts.why_read("wlc", Identity("17.3.4", None), later) == "uptime unknown"


class RecordingSession(ControllerSession):
    """A real session that also notes every command it sends, per controller."""

    sent: ClassVar[dict[str, list[str]]] = {}

    async def send(self, command: str, timeout: float | None = None) -> Any:
        RecordingSession.sent.setdefault(self.name, []).append(command)
        return await super().send(command, timeout)


async def poll(site: SimulatedSite, facts: StaticFacts, *, routine: bool) -> tuple[list[Any], dict[str, list[str]]]:
    RecordingSession.sent = {}
    options: PollOptions = poll_options(site.settings, facts, routine=routine)
    snapshots = await poll_fleet(site.inventory.controllers(), options, site.environ, session_factory=RecordingSession)
    return snapshots, dict(RecordingSession.sent)


def static_commands(platform: str) -> set[str]:
    return {item.command.split(" {")[0] for item in registry.get(platform).definition.poll if item.static}


def sent_static(commands: list[str], platform: str) -> set[str]:
    """The static commands (without their `{placeholder}` arguments) among `commands`."""
    return {w for w in static_commands(platform) if any(c.startswith(w) for c in commands)}


def facts_view(snapshot: Any) -> tuple[Any, ...]:
    return (snapshot.software_version, snapshot.software_raw, tuple(snapshot.apsps), snapshot.certificate)


async def test_routine_checks_replay_static_facts_until_a_reload_or_upgrade(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, aireos("wlc-a"), iosxe("wlc-x")) as site:
        facts = StaticFacts(DAY)
        first, sent1 = await poll(site, facts, routine=True)
        second, sent2 = await poll(site, facts, routine=True)
        # an upgrade of the 9800 (a reload on new software) and a plain reload of the AireOS box
        site.sim.controllers["wlc-x"].reload(version="17.9.4")
        site.sim.controllers["wlc-a"].reload()
        third, sent3 = await poll(site, facts, routine=True)
        fourth, sent4 = await poll(site, facts, routine=True)

    for name, platform in (("wlc-a", "aireos"), ("wlc-x", "iosxe")):
        assert sent_static(sent1[name], platform), f"{name}: the first check reads the static facts"
        assert sent_static(sent2[name], platform) == set(), f"{name}: the second replays them: {sent2[name]}"
        assert len(sent2[name]) < len(sent1[name])
        assert sent_static(sent3[name], platform), f"{name}: a reload makes the check read them again"
        assert sent_static(sent4[name], platform) == set()
    # What a replayed check reports is what the controller said at the last read: identical snapshots.
    for before, after in zip(first, second, strict=True):
        assert facts_view(after) == facts_view(before)
        assert after.errors == before.errors == []
        assert [(a.name, a.model, a.state) for a in after.aps] == [(b.name, b.model, b.state) for b in before.aps]
        assert after.certificate is not None
    upgraded = next(s for s in third if s.name == "wlc-x")
    assert upgraded.software_version == "17.9.4"
    assert next(s for s in fourth if s.name == "wlc-x").software_version == "17.9.4"


async def test_a_person_asking_reads_everything_and_refreshes_the_checks_memory(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, iosxe("wlc-x")) as site:
        facts = StaticFacts(DAY)
        await poll(site, facts, routine=True)
        _, full = await poll(site, facts, routine=False)
        remembered = facts.recall("wlc-x")
        _, routine = await poll(site, facts, routine=True)
    assert sent_static(full["wlc-x"], "iosxe") == static_commands("iosxe")
    assert remembered is not None and set(remembered.parsed) >= {"show_wireless_management_trustpoint"}
    assert sent_static(routine["wlc-x"], "iosxe") == set()


async def test_the_refresh_interval_rereads_static_facts_of_an_unchanged_controller(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, iosxe("wlc-x")) as site:
        facts = StaticFacts(DAY)
        await poll(site, facts, routine=True)
        last = facts.recall("wlc-x")
        assert last is not None
        facts.remember("wlc-x", replace(last, read_at=last.read_at - DAY))  # a day has passed
        _, sent = await poll(site, facts, routine=True)
    assert sent_static(sent["wlc-x"], "iosxe") == static_commands("iosxe")


def test_the_readme_lists_what_a_routine_check_sends_on_each_platform() -> None:
    """The README's table of commands is the platform data, not a copy that drifts."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip(): line
        for line in readme.splitlines()
        if line.startswith("| AireOS |") or line.startswith("| Catalyst 9800 |")
    }
    for platform, label in (("aireos", "AireOS"), ("iosxe", "Catalyst 9800")):
        definition = registry.get(platform).definition
        every, static = re.split(r"(?<!\\)\|", rows[label])[2:4]  # cells; `\|` is a pipe inside one
        for command in (*definition.session_setup, *(c.command for c in definition.routine_commands())):
            assert f"`{command.replace('|', chr(92) + '|')}`" in every, (platform, command)
        for item in definition.poll:
            if item.static:
                assert f"`{item.command.replace('{trustpoint}', '<trustpoint>')}`" in static, (platform, item.command)
