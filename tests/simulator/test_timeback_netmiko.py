"""The same time-back through netmiko (paramiko, synchronous, in a thread).

A second, independent SSH client: if the simulator only worked with scrapli's
habits (echo handling, `\\n` returns, asyncssh), these tests would say so.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from netmiko import BaseConnection, ConnectHandler

from bot.simulator import REGISTERED
from tests.simulator.simtools import (
    aireos_entry,
    aireos_ntp_rows,
    close_to_now,
    iosxe_entry,
    netmiko_params,
    parse_aireos_time,
    parse_ios_clock,
    serve,
)


def _poll(check: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def _run(conn: BaseConnection, command: str, **kwargs: Any) -> str:
    """`send_command` as text (netmiko's return type also covers parsed output)."""
    out = conn.send_command(command, **kwargs)
    assert isinstance(out, str)
    return out


@dataclass
class AireosSeen:
    rows: list[tuple[int, int, str, str]]
    downloading_before: int
    set_time: datetime
    save: str
    rows_after: list[tuple[int, int, str, str]]


def aireos_timeback(params: dict[str, Any]) -> AireosSeen:
    """The AireOS procedure with netmiko; returns what it saw, for the asserts."""
    conn = ConnectHandler(**params)
    try:
        rows = aireos_ntp_rows(_run(conn, "show time"))
        downloading = len(re.findall(r"Downloading\s*$", _run(conn, "show ap image status"), re.M))
        for index, _, _, _ in rows:
            _run(conn, f"config time ntp delete {index}")
        _run(conn, "config time manual 12/02/22 00:00:00")
        set_time = parse_aireos_time(_run(conn, "show time"))
        _poll(lambda: re.search(r"Total AP's Downloading\.+ 0$", _run(conn, "show ap image status"), re.M))
        for index, key, address, _ in rows:
            _run(conn, f"config time ntp server {index} {address}")
            if key:
                _run(conn, f"config time ntp auth enable {index} {key}")
        save = _run(conn, "save config", expect_string=r"\(y/n\)")
        save += _run(conn, "y", expect_string=r"\) >")

        def synced() -> bool:
            text = _run(conn, "show time")
            return any(r[3] == "In Sync" for r in aireos_ntp_rows(text)) and close_to_now(parse_aireos_time(text))

        _poll(synced)
        rows_after = aireos_ntp_rows(_run(conn, "show time"))
    finally:
        conn.disconnect()
    return AireosSeen(rows, downloading, set_time, save, rows_after)


@dataclass
class IosxeSeen:
    servers: list[str]
    downloading_before: int
    set_clock: tuple[str, datetime]
    save: str
    servers_after: list[str]


def iosxe_timeback(params: dict[str, Any]) -> IosxeSeen:
    conn = ConnectHandler(**params)
    try:
        servers = [line for line in _run(conn, "show run | i ntp").splitlines() if line.startswith("ntp server")]
        downloading = _run(conn, "show ap summary").count("Downloading")
        conn.send_config_set([f"no {line}" for line in servers])
        _run(conn, "clock set 00:00:00 2 Dec 2022")
        set_clock = parse_ios_clock(_run(conn, "show clock"))
        _poll(lambda: "Downloading" not in _run(conn, "show ap summary"))
        conn.send_config_set(servers)
        save = conn.save_config()

        def synced() -> bool:
            prefix, value = parse_ios_clock(_run(conn, "show clock"))
            return prefix == "" and close_to_now(value)

        _poll(synced)
        after = [line for line in _run(conn, "show running-config | include ntp server").splitlines() if line]
    finally:
        conn.disconnect()
    return IosxeSeen(servers, downloading, set_clock, save, after)


async def test_aireos_timeback_with_netmiko() -> None:
    async with serve(aireos_entry(ssh_auth="password")) as sim:
        wlc = sim.controllers["wlc-ae"]
        saved_before = wlc.saved.copy()
        seen = await asyncio.to_thread(aireos_timeback, netmiko_params(sim, "wlc-ae"))
        assert [r[:3] for r in seen.rows] == [(1, 1, "192.0.2.123"), (2, 0, "198.51.100.123")]
        assert seen.downloading_before == 2
        assert seen.set_time.date() == date(2022, 12, 2)
        assert "Configuration Saved!" in seen.save
        assert [r[:3] for r in seen.rows_after] == [r[:3] for r in seen.rows]
        assert all(ap.state == REGISTERED for ap in wlc.aps.values())
        assert wlc.saved == saved_before and not wlc.unsaved_changes


async def test_iosxe_timeback_with_netmiko() -> None:
    async with serve(iosxe_entry()) as sim:
        wlc = sim.controllers["wlc-xe"]
        saved_before = wlc.saved.copy()
        seen = await asyncio.to_thread(iosxe_timeback, netmiko_params(sim, "wlc-xe"))
        assert seen.servers == [
            "ntp server 192.0.2.123 prefer",
            "ntp server 198.51.100.123 key 1",
            "ntp server vrf Mgmt-intf 203.0.113.123 source GigabitEthernet0",
        ]
        assert seen.downloading_before == 2
        prefix, value = seen.set_clock
        assert prefix == "*" and value.date() == date(2022, 12, 2)
        assert "[OK]" in seen.save
        assert seen.servers_after == seen.servers
        assert all(ap.state == REGISTERED for ap in wlc.aps.values())
        assert wlc.saved == saved_before and wlc.clock_source == "ntp"


async def test_both_clients_read_the_same_state() -> None:
    """scrapli and netmiko, at the same time, see the same clock and APs."""
    from tests.simulator.simtools import scrapli_session

    async with serve(iosxe_entry(), aireos_entry()) as sim:
        async with scrapli_session(sim, "wlc-xe") as conn:
            scrapli_summary = (await conn.send_command("show ap summary")).result

            def read() -> str:
                with ConnectHandler(**netmiko_params(sim, "wlc-xe")) as nm:
                    return _run(nm, "show ap summary")

            netmiko_summary = await asyncio.to_thread(read)
        # scrapli strips trailing spaces from every line; netmiko keeps them
        assert scrapli_summary.strip().splitlines() == [line.rstrip() for line in netmiko_summary.strip().splitlines()]
        assert scrapli_summary.count("Downloading") == 2
