"""The model without SSH: the bug's rules, downloads and retries, NTP and the
clock, configuration, command matching, the terminal, scenario validation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.simulator.build import build_ap
from bot.simulator.config import NtpServer, NtpSyntaxError
from bot.simulator.grammar import Failure, Grammar, Match, split_words
from bot.simulator.model import DOWNLOADING, REGISTERED, Controller
from bot.simulator.scenario import Scenario
from bot.simulator.terminal import Terminal
from bot.simulator.timebase import TimeBase

EXPIRY = datetime(2022, 12, 4, 21, 43, 46, tzinfo=UTC)


class Clock:
    """A hand-driven monotonic clock for TimeBase (real seconds)."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def controller(entry: dict[str, Any], scale: float = 1.0) -> tuple[Controller, Clock, TimeBase]:
    mono = Clock()
    tb = TimeBase(scale, monotonic=mono, wall=lambda: datetime(2025, 1, 1, tzinfo=UTC).timestamp())
    c, initial = Scenario.from_dict({"controllers": [{"port": 0, **entry}]}).build()[0]
    c.attach(tb, initial_clock=initial)
    return c, mono, tb


def ios_controller(**over: Any) -> tuple[Controller, Clock, TimeBase]:
    entry = {
        "name": "c",
        "platform": "iosxe",
        "version": "17.3.4",
        "ntp": ["192.0.2.1"],
        "download_seconds": 100,
        "ntp_sync_seconds": 50,
        "aps": [
            {"name": "A", "model": "AIR-CAP3702I-E-K9", "image": "17.3.3.0"},
            {"name": "B", "model": "C9120AXI-E", "image": "17.3.3.0"},
        ],
        **over,
    }
    return controller(entry)


@pytest.mark.parametrize(
    ("model", "ios"),
    [
        ("AIR-CAP3702I-E-K9", True),
        ("AIR-CAP2702I-E-K9", True),
        ("AIR-CAP1702I-E-K9", True),
        ("IW3702-2E-UXK9", True),
        ("AIR-CAP1532I-E-K9", True),
        ("AIR-CAP1572EAC-A-K9", True),
        ("AIR-LAP1142N-E-K9", True),
        ("3702I", True),
        ("AIR-CAP702W-E-K9", True),
        ("AIR-AP802GN-A-K9", True),
        ("AIR-CAP3602I-E-K9", True),
        ("AIR-AP1852I-E-K9", False),
        ("C9120AXI-E", False),
        ("AIR-AP2802I-E-K9", False),
        ("AIR-AP4800-B-K9", False),
        ("9130AXI", False),
        ("CW9166I-B", False),
        ("AIR-AP1562E-E-K9", False),
        ("AIR-AP1542I-E-K9", False),
        ("AIR-AP1815I-E-K9", False),
    ],
)
def test_ios_based_model_table(model: str, ios: bool) -> None:
    c, _, _ = ios_controller()
    assert c.rules.is_ios_based(model) is ios


def test_validation_fails_from_the_expiry_second_on() -> None:
    c, _, _ = ios_controller()
    rules = c.rules
    assert rules.validation_fails(ios_based=True, controller_fixed=False, clock=EXPIRY)
    assert not rules.validation_fails(ios_based=True, controller_fixed=False, clock=EXPIRY - timedelta(seconds=1))
    assert not rules.validation_fails(ios_based=True, controller_fixed=True, clock=EXPIRY + timedelta(days=900))
    assert not rules.validation_fails(ios_based=False, controller_fixed=False, clock=EXPIRY + timedelta(days=9))


def test_ios_ap_loops_cos_ap_registers() -> None:
    c, mono, tb = ios_controller()
    assert c.aps["A"].state == DOWNLOADING and c.aps["B"].state == DOWNLOADING
    mono.t = 1000  # ten download periods
    c.step(tb.sim_now())
    assert c.aps["B"].state == REGISTERED and c.aps["B"].image == "17.3.4.0"
    assert c.aps["A"].state == DOWNLOADING and c.aps["A"].image == "17.3.3.0"
    assert c.aps["A"].retry_count == 10


def test_ap_joining_at_runtime_downloads() -> None:
    c, mono, tb = ios_controller()
    ap = build_ap(
        {"name": "N", "model": "AIR-CAP2702I-E-K9", "image": "8.5.0.0"},
        9,
        controller_name="c",
        ap_image=c.ap_image,
        rules=c.rules,
    )
    c.add_ap(ap)
    assert [a.name for a in c.aps_in_state(DOWNLOADING)] == ["A", "B", "N"]
    mono.t = 100
    c.step(tb.sim_now())
    assert c.aps["N"].state == DOWNLOADING and c.aps["N"].retry_count == 1
    assert [a.name for a in c.aps_in_state(REGISTERED)] == ["B"]


def test_fixed_controller_lets_ios_aps_register() -> None:
    c, mono, tb = ios_controller(fixed=True)
    mono.t = 100
    c.step(tb.sim_now())
    assert c.aps["A"].state == REGISTERED and c.aps["A"].retry_count == 0


def test_timeback_window_and_ntp_step_back_are_exact_between_ticks() -> None:
    """A hand-set clock with NTP still configured: downloads finishing before NTP
    steps the clock back take the image; later ones fail. One big step, no ticks."""
    c, mono, tb = controller(
        {
            "name": "c",
            "platform": "aireos",
            "ntp": [{"index": 1, "address": "192.0.2.1"}],
            "download_seconds": 100,
            "ntp_sync_seconds": 500,
            "aps": [{"name": f"A{i}", "model": "AIR-CAP3702I-E-K9", "image": "8.5.0.0"} for i in range(20)],
        }
    )
    mono.t = 1
    c.set_clock(datetime(2022, 12, 2, tzinfo=UTC))
    assert c.clock_source == "manual"
    mono.t = 2000
    c.step(tb.sim_now())
    assert c.clock_source == "ntp" and c.clock_offset == timedelta(0)
    # every AP finishes one download within 100 s of the start, i.e. inside the 2022 window
    assert all(ap.state == REGISTERED for ap in c.aps.values())
    sync = [e for e in c.log if e.mnemonic == "OSAPI-6-NTP_SYNC"]
    assert len(sync) == 1 and sync[0].when == tb.wall_at(501)


def test_wrong_order_leaves_aps_stuck() -> None:
    c, mono, tb = controller(
        {
            "name": "c",
            "platform": "aireos",
            "ntp": [{"index": 1, "address": "192.0.2.1"}],
            "download_seconds": 1000,
            "ntp_sync_seconds": 10,
            "aps": [{"name": "A", "model": "AIR-CAP3702I-E-K9", "image": "8.5.0.0"}],
        }
    )
    due = c.aps["A"].download_due
    assert due is not None and due > 20
    c.set_clock(datetime(2022, 12, 2, tzinfo=UTC))
    mono.t = 11
    assert c.clock_source == "ntp"  # pulled back before the download ended
    c.delete_aireos_ntp_server(1)
    mono.t = 5000
    c.step(tb.sim_now())
    assert c.aps["A"].state == DOWNLOADING and c.clock_source == "none"


def test_unreachable_ntp_never_pulls_back() -> None:
    c, mono, tb = ios_controller(ntp_unreachable=["192.0.2.1"])
    assert c.clock_source == "none"
    c.set_clock(datetime(2022, 12, 2, tzinfo=UTC))
    mono.t = 10_000
    c.step(tb.sim_now())
    assert c.clock_source == "manual" and c.now() > datetime(2022, 12, 2, 2, tzinfo=UTC)
    c.ntp_unreachable.clear()  # the network heals
    c.step(tb.sim_now())
    mono.t = 10_051
    c.step(tb.sim_now())
    assert c.clock_source == "ntp"


def test_certificate_not_yet_valid_is_logged_once_and_cleared() -> None:
    c, mono, tb = ios_controller(certificate={"not_before": "2023-01-01T00:00:00Z"})
    assert c.certificate_state == "valid"
    c.set_clock(datetime(2022, 12, 2, tzinfo=UTC))
    c.step(tb.sim_now())
    assert c.certificate_state == "not yet valid"
    assert [e.mnemonic for e in c.log].count("PKI-3-CERTIFICATE_INVALID_NOT_YET_VALID") == 1
    mono.t = 60
    c.step(tb.sim_now())
    assert c.certificate_state == "valid" and c.log[-1].mnemonic == "PKI-6-CERTIFICATE_VALID"


def test_huge_time_jump_is_bounded() -> None:
    c, mono, tb = ios_controller()
    mono.t = 10_000_000  # 100 000 download periods in one step
    c.step(tb.sim_now(), max_events=64)
    assert c.aps["A"].retry_count == 100_000
    assert c.aps["A"].download_due is not None and c.aps["A"].download_due > tb.sim_now()


def test_running_vs_saved_and_listeners() -> None:
    c, _, _ = ios_controller()
    seen: list[str] = []
    c.add_change_listener(lambda ctl: seen.append(ctl.name))
    c.set_ios_ntp_server(NtpServer.from_ios_words(["192.0.2.1", "prefer"]))  # same peer: replaced
    assert [s.ios_line() for s in c.running.ntp_servers] == ["ntp server 192.0.2.1 prefer"]
    assert c.unsaved_changes and seen == ["c"]
    c.save()
    assert not c.unsaved_changes and c.saved.ntp_servers[0].prefer
    assert not c.delete_ios_ntp_server(NtpServer.from_ios_words(["vrf", "X", "192.0.2.1"]))  # other VRF


def test_ntp_server_parsing_and_canonical_line() -> None:
    s = NtpServer.from_ios_words(["vrf", "Mgmt", "10.0.0.1", "source", "Vlan10", "pref", "key", "1", "vers", "4"])
    assert s.ios_line() == "ntp server vrf Mgmt 10.0.0.1 version 4 key 1 prefer source Vlan10"
    assert NtpServer.from_dict(s.ios_line()) == s
    assert NtpServer.from_dict(s.to_dict()) == s
    with pytest.raises(NtpSyntaxError) as err:
        NtpServer.from_ios_words(["10.0.0.1", "key", "x"])
    assert err.value.word_index == 2
    with pytest.raises(NtpSyntaxError) as err:
        NtpServer.from_ios_words(["999.1", "prefer"])
    assert err.value.word_index == 0


def test_grammar_prefixes_ambiguity_and_rest() -> None:
    def clock() -> None: ...
    def pki() -> None: ...
    def clock_set() -> None: ...
    def detail() -> None: ...

    g = Grammar(
        [
            ("show clock", clock),
            ("show crypto pki certificates <tp>", pki),
            ("clock set <rest...>", clock_set),
            ("show clock detail", detail),
        ]
    )
    m = g.match(split_words("sh cl"))
    assert isinstance(m, Match) and m.handler is clock and m.canonical == "show clock"
    assert g.match(split_words("sh c")) == Failure("ambiguous", 1)
    assert g.match(split_words("show cry pki cert")) == Failure("incomplete", 4)
    assert g.match(split_words("show bogus")) == Failure("invalid", 1)
    m = g.match(split_words("clock set 00:00:00 2 Dec 2022"))
    assert isinstance(m, Match) and m.args == {"rest": ["00:00:00", "2", "Dec", "2022"]}
    assert split_words("  sh  run")[1].column == 6


async def test_terminal_line_endings_backspace_and_keys() -> None:
    out: list[bytes] = []
    t = Terminal(out.append)
    t.feed(b"ab\rcd\nef\r\ngh\x7f\x7fi\r\n q")
    assert [await t.read_line() for _ in range(4)] == ["ab", "cd", "ef", "i"]
    assert await t.read_key() == " "
    assert await t.read_key() == "q"
    t.feed(b"secret\r")
    assert await t.read_line(echo=False) == "secret"
    t.flush()
    assert b"".join(out) == b"ab\r\ncd\r\nef\r\ngh\b \b\b \bi\r\n\r\n"
    t.feed_eof()
    assert await t.read_line() is None
    await asyncio.sleep(0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"controllers": [{"name": "a", "platform": "nexus"}]}, "platform"),
        ({"controllers": [{"name": "a", "platform": "iosxe", "colour": "red"}]}, "colour"),
        ({"controllers": [{"name": "a", "platform": "iosxe"}, {"name": "a", "platform": "aireos"}]}, "twice"),
        (
            {
                "controllers": [
                    {"name": "a", "platform": "iosxe", "port": 2300},
                    {"name": "b", "platform": "iosxe", "port": 2300},
                ]
            },
            "used twice",
        ),
        ({"controllers": [{"name": "a", "platform": "iosxe", "replay": {"show clock": "/no/such/file"}}]}, "replay"),
        ({"controllers": [{"name": "a", "platform": "iosxe", "faults": {"explode": True}}]}, "fault"),
        (
            {"controllers": [{"name": "a", "platform": "iosxe", "aps": [{"name": "x", "model": "m", "mac": "zz"}]}]},
            "MAC",
        ),
        ({"controllers": []}, "no controllers"),
    ],
)
def test_scenario_errors_name_the_problem(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Scenario.from_dict(data)


def test_fleet_scenario() -> None:
    fleet = Scenario.fleet(6, 4, platform="mixed", download_seconds=30)
    assert len(fleet.controllers) == 6
    built = [c for c, _ in fleet.build()]
    assert [c.platform for c in built] == ["aireos", "iosxe"] * 3
    assert all(c.port == 0 and len(c.aps) == 4 and c.download_seconds == 30 for c in built)
    assert sum(ap.image != c.ap_image for c in built for ap in c.aps.values()) == 12
    assert Scenario.from_dict(fleet.to_dict()).controllers == fleet.controllers
