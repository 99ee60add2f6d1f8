"""Every fault mode behaves as named, from the scenario and flipped at runtime."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncssh
import pytest
from scrapli.exceptions import ScrapliAuthenticationFailed, ScrapliConnectionError, ScrapliTimeout

from bot.simulator import SimulatorServer
from tests.simulator.simtools import RawSession, aireos_entry, iosxe_entry, scrapli_session, serve


async def _connect(sim: SimulatorServer, name: str, **kwargs: Any) -> asyncssh.SSHClientConnection:
    host, port = sim.address(name)
    return await asyncssh.connect(
        host, port, username="admin", password="admin", known_hosts=None, connect_timeout=2, **kwargs
    )


async def test_refuse_connections_from_scenario_and_at_runtime() -> None:
    async with serve(iosxe_entry(faults={"refuse_connections": True})) as sim:
        host, port = sim.address("wlc-xe")
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(host, port)
        sim.controllers["wlc-xe"].faults.refuse_connections = False
        async with scrapli_session(sim, "wlc-xe") as conn:
            assert "wlc-xe" in await conn.get_prompt()
            sim.controllers["wlc-xe"].faults.refuse_connections = True
            # an open session survives; new connections are refused, on the same port
            assert "Number of APs: 3" in (await conn.send_command("show ap summary")).result
            with pytest.raises(ConnectionRefusedError):
                await asyncio.open_connection(host, port)
        assert sim.ports["wlc-xe"] == port


async def test_hang_on_connect_accepts_tcp_but_never_speaks() -> None:
    async with serve(iosxe_entry()) as sim:
        sim.controllers["wlc-xe"].faults.hang_on_connect = True
        host, port = sim.address("wlc-xe")
        reader, writer = await asyncio.open_connection(host, port)  # TCP accepted
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(reader.read(1), 0.5)  # no SSH banner, ever
        writer.close()
        with pytest.raises((asyncio.TimeoutError, asyncssh.Error, OSError)):
            await asyncio.wait_for(_connect(sim, "wlc-xe"), 1.0)
        sim.controllers["wlc-xe"].faults.hang_on_connect = False
        conn = await _connect(sim, "wlc-xe")
        conn.close()


async def test_reject_password_iosxe_at_ssh_level() -> None:
    async with serve(iosxe_entry(faults={"reject_password": True})) as sim:
        with pytest.raises(asyncssh.PermissionDenied):
            await _connect(sim, "wlc-xe")
        with pytest.raises(ScrapliAuthenticationFailed):
            async with scrapli_session(sim, "wlc-xe"):
                pass
        sim.controllers["wlc-xe"].faults.clear()
        (await _connect(sim, "wlc-xe")).close()


async def test_reject_password_aireos_inside_the_session() -> None:
    """No SSH-level auth on AireOS: the in-session login fails three times, then the WLC hangs up."""
    async with (
        serve(aireos_entry(faults={"reject_password": True})) as sim,
        RawSession.open(sim, "wlc-ae", login=False) as raw,
    ):
        for _ in range(3):
            await raw.read_until(b"User: ")
            raw.send("admin\r")
            await raw.read_until(b"Password:")
            raw.send("admin\r")
        with pytest.raises(EOFError):
            await raw.read_until(b"User: ", timeout=5)


async def test_reject_password_aireos_with_ssh_password_auth() -> None:
    async with serve(aireos_entry(ssh_auth="password", faults={"reject_password": True})) as sim:
        with pytest.raises(asyncssh.PermissionDenied):
            await _connect(sim, "wlc-ae")


async def test_command_delay_slows_every_command() -> None:
    async with serve(iosxe_entry()) as sim:
        async with scrapli_session(sim, "wlc-xe") as conn:
            start = time.monotonic()
            await conn.send_command("show clock")
            fast = time.monotonic() - start
            sim.controllers["wlc-xe"].faults.command_delay_ms = 300
            start = time.monotonic()
            await conn.send_command("show clock")
            await conn.send_command("show clock")
            slow = time.monotonic() - start
        assert fast < 0.3
        assert slow >= 0.6


async def test_command_delay_times_out_a_client() -> None:
    async with serve(iosxe_entry(faults={"command_delay_ms": 1500})) as sim:
        with pytest.raises(ScrapliTimeout):
            async with scrapli_session(sim, "wlc-xe", timeout_ops=0.5):
                pass


async def test_drop_after_commands() -> None:
    async with serve(iosxe_entry(faults={"drop_after_commands": 3})) as sim:
        async with RawSession.open(sim, "wlc-xe") as raw:
            for _ in range(3):
                assert "UTC" in await raw.command(sim, "wlc-xe", "show clock")
            raw.send("show clock\r")
            with pytest.raises(EOFError):
                await raw.read_until(b"wlc-xe#")
        # scrapli's on_open uses 2 commands (terminal length/width): the third drops the session
        sim.controllers["wlc-xe"].faults.drop_after_commands = 2
        with pytest.raises((ScrapliConnectionError, OSError, asyncssh.Error)):
            async with scrapli_session(sim, "wlc-xe") as conn:
                await conn.send_command("show clock")


async def test_faults_are_per_controller() -> None:
    async with serve(iosxe_entry("a", faults={"refuse_connections": True}), iosxe_entry("b")) as sim:
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(*sim.address("a"))
        async with scrapli_session(sim, "b") as conn:
            assert (await conn.get_prompt()) == "b#"


async def test_refuse_flipped_twice_in_one_turn_stays_refused() -> None:
    async with serve(iosxe_entry()) as sim:
        faults = sim.controllers["wlc-xe"].faults
        faults.refuse_connections = True
        faults.refuse_connections = False  # reopening is scheduled...
        faults.refuse_connections = True  # ...and cancelled before it ran
        await asyncio.sleep(0.05)
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(*sim.address("wlc-xe"))
        faults.refuse_connections = False
        _, writer = await asyncio.open_connection(*sim.address("wlc-xe"))  # queued, then served
        writer.close()
