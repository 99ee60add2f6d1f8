"""Helpers for the simulator tests: scenarios, real SSH clients, polling.

Two independent clients drive the simulator, as the bot will drive real
controllers: scrapli (classic, async, asyncssh transport) and netmiko (sync,
paramiko, run in a thread). `RawSession` is a bare asyncssh client for
byte-level checks (echo, paging, faults) that the libraries would hide.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncssh
from scrapli import AsyncScrapli
from scrapli.driver import AsyncNetworkDriver

from bot.simulator import Scenario, SimulatorServer

AIREOS_FAILED_WHEN = ["Incorrect usage.", "Incorrect input!"]
IOSXE_FAILED_WHEN = ["% Invalid input", "% Incomplete command", "% Ambiguous command"]


def aireos_entry(name: str = "wlc-ae", **overrides: Any) -> dict[str, Any]:
    """An AireOS 8.10 controller: NTP (one keyed), 2 stuck IOS APs, 1 AP-COS AP."""
    entry: dict[str, Any] = {
        "name": name,
        "platform": "aireos",
        "version": "8.10.162.0",
        "port": 0,
        "ntp": [{"index": 1, "address": "192.0.2.123", "key": 1}, {"index": 2, "address": "198.51.100.123"}],
        "ntp_keys": {1: "md5 ascii s3cret"},
        "download_seconds": 60,
        "ntp_sync_seconds": 120,
        "aps": [
            {"name": "CAP3702I.4CD4", "model": "AIR-CAP3702I-E-K9", "image": "8.5.182.0", "retry_count": 7},
            {"name": "AP2702-1", "model": "AIR-CAP2702I-E-K9", "image": "8.5.182.0"},
            {"name": "AP1852-1", "model": "AIR-AP1852I-E-K9"},
        ],
    }
    entry.update(overrides)
    return entry


def iosxe_entry(name: str = "wlc-xe", **overrides: Any) -> dict[str, Any]:
    """A 9800 on 17.3.4: NTP with prefer/key/vrf options, 2 stuck IOS APs, 1 Wi-Fi 6 AP."""
    entry: dict[str, Any] = {
        "name": name,
        "platform": "iosxe",
        "version": "17.3.4",
        "port": 0,
        "ntp": ["192.0.2.123 prefer", "198.51.100.123 key 1", "vrf Mgmt-intf 203.0.113.123 source GigabitEthernet0"],
        "ntp_keys": {1: "md5 0822455D0A16 7"},
        "ntp_authenticate": True,
        "ntp_trusted_keys": [1],
        "download_seconds": 60,
        "ntp_sync_seconds": 120,
        "aps": [
            {"name": "AP3702-1", "model": "AIR-CAP3702I-E-K9", "image": "17.3.3.26", "retry_count": 3},
            {"name": "IW3702-1", "model": "IW3702-2E-UXK9", "image": "17.3.3.26"},
            {"name": "AP9120-1", "model": "C9120AXI-E"},
        ],
    }
    entry.update(overrides)
    return entry


@contextlib.asynccontextmanager
async def serve(*entries: dict[str, Any], time_scale: float = 600.0, **kwargs: Any) -> AsyncIterator[SimulatorServer]:
    """A running simulator for these controller entries, stopped on exit."""
    scenario = Scenario.from_dict({"controllers": list(entries)})
    async with SimulatorServer(scenario, time_scale=time_scale, **kwargs) as sim:
        yield sim


async def wait_for(
    predicate: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0, interval: float = 0.05
) -> None:
    """Poll until `predicate()` is true; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result) or isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


# ------------------------------------------------------------------- scrapli


async def _read_until(conn: AsyncNetworkDriver, marker: bytes, timeout: float = 10.0) -> bytes:
    buf = b""

    async def read() -> None:
        nonlocal buf
        while marker not in buf:
            buf += await conn.channel.read()

    await asyncio.wait_for(read(), timeout)
    return buf


async def aireos_on_open(conn: AsyncNetworkDriver) -> None:
    """AireOS in-session login that reads until each prompt (never `time.sleep`)."""
    await _read_until(conn, b"User:")
    conn.channel.write(conn.auth_username)
    conn.channel.send_return()
    await _read_until(conn, b"Password:")
    conn.channel.write(conn.auth_password, redacted=True)
    conn.channel.send_return()
    await conn.acquire_priv(desired_priv=conn.default_desired_privilege_level)
    await conn.send_command("config paging disable")


async def aireos_on_close(conn: AsyncNetworkDriver) -> None:
    conn.channel.write("logout")
    conn.channel.send_return()


def scrapli_driver(sim: SimulatorServer, name: str, **overrides: Any) -> AsyncNetworkDriver:
    """An unopened scrapli driver for controller `name` (platform from the model)."""
    controller = sim.controllers[name]
    host, port = sim.address(name)
    kwargs: dict[str, Any] = {
        "host": host,
        "port": port,
        "auth_username": controller.username,
        "auth_password": controller.password,
        "auth_strict_key": False,
        "transport": "asyncssh",
        "timeout_socket": 10,
        "timeout_transport": 15,
        "timeout_ops": 15,
    }
    if controller.platform == "aireos":
        kwargs.update(
            platform="cisco_aireos",
            on_open=aireos_on_open,
            on_close=aireos_on_close,
            failed_when_contains=AIREOS_FAILED_WHEN,
        )
    else:
        kwargs.update(platform="cisco_iosxe", failed_when_contains=IOSXE_FAILED_WHEN)
    kwargs.update(overrides)
    return AsyncScrapli(**kwargs)


@contextlib.asynccontextmanager
async def scrapli_session(sim: SimulatorServer, name: str, **overrides: Any) -> AsyncIterator[AsyncNetworkDriver]:
    conn = scrapli_driver(sim, name, **overrides)
    await conn.open()
    try:
        yield conn
    finally:
        await conn.close()


# ------------------------------------------------------------------- netmiko


def netmiko_params(sim: SimulatorServer, name: str) -> dict[str, Any]:
    controller = sim.controllers[name]
    host, port = sim.address(name)
    return {
        "device_type": "cisco_wlc_ssh" if controller.platform == "aireos" else "cisco_xe",
        "host": host,
        "port": port,
        "username": controller.username,
        "password": controller.password,
        "use_keys": False,
        "allow_agent": False,
        "ssh_strict": False,
        "system_host_keys": False,
        "conn_timeout": 10,
        "banner_timeout": 10,
        "auth_timeout": 10,
    }


# ------------------------------------------------------------ raw byte level


class RawSession:
    """A bare asyncssh shell session: exact bytes in and out."""

    def __init__(self, conn: asyncssh.SSHClientConnection, writer: Any, reader: Any) -> None:
        self.conn = conn
        self.writer = writer
        self.reader = reader
        self.buffer = b""

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls,
        sim: SimulatorServer,
        name: str,
        *,
        username: str | None = None,
        password: str | None = None,
        login: bool = True,
    ) -> AsyncIterator[RawSession]:
        """Connect; for AireOS also answer User:/Password: unless `login` is False."""
        controller = sim.controllers[name]
        host, port = sim.address(name)
        conn = await asyncssh.connect(
            host,
            port,
            username=username or controller.username,
            password=password or controller.password,
            known_hosts=None,
            connect_timeout=10,
        )
        try:
            writer, reader, _ = await conn.open_session(term_type="vt100", encoding=None)
            session = cls(conn, writer, reader)
            if login and controller.platform == "aireos":
                await session.read_until(b"User: ")
                session.send(f"{controller.username}\r\n")
                await session.read_until(b"Password:")
                session.send(f"{controller.password}\r\n")
            if login:
                await session.read_until(prompt_bytes(sim, name))
            yield session
        finally:
            conn.close()
            with contextlib.suppress(Exception):
                await conn.wait_closed()

    def send(self, text: str | bytes) -> None:
        self.writer.write(text.encode() if isinstance(text, str) else text)

    async def read_until(self, marker: bytes | re.Pattern[bytes], timeout: float = 10.0) -> bytes:
        """Bytes up to and including `marker`; the rest stays buffered."""

        def find() -> int:
            if isinstance(marker, bytes):
                i = self.buffer.find(marker)
                return -1 if i < 0 else i + len(marker)
            m = marker.search(self.buffer)
            return -1 if m is None else m.end()

        async def read() -> bytes:
            while (end := find()) < 0:
                try:
                    chunk = await self.reader.read(65536)
                except (asyncssh.ConnectionLost, asyncssh.DisconnectError):
                    chunk = b""
                if not chunk:
                    raise EOFError(f"connection closed; got {self.buffer!r}")
                self.buffer += chunk
            out, self.buffer = self.buffer[:end], self.buffer[end:]
            return out

        return await asyncio.wait_for(read(), timeout)

    async def command(self, sim: SimulatorServer, name: str, command: str, timeout: float = 10.0) -> str:
        """Send one command; its output between the echo and the next prompt, as text."""
        self.send(command + "\r")
        raw = await self.read_until(prompt_bytes(sim, name), timeout)
        text = raw.decode()
        text = text[: -len(prompt_bytes(sim, name).decode())]
        echo = command + "\r\n"
        assert text.startswith(echo), f"no echo of {command!r}: {text!r}"
        return text[len(echo) :]


def prompt_bytes(sim: SimulatorServer, name: str) -> bytes:
    controller = sim.controllers[name]
    return f"({name}) >".encode() if controller.platform == "aireos" else f"{name}#".encode()


def parse_aireos_time(output: str) -> datetime:
    m = re.search(r"^Time\.+ (\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4})", output, re.M)
    assert m, output
    return datetime.strptime(m[1], "%a %b %d %H:%M:%S %Y").replace(tzinfo=UTC)


def parse_ios_clock(output: str) -> tuple[str, datetime]:
    m = re.search(r"^([*.]?)(\d\d:\d\d:\d\d)\.\d{3} UTC \w{3} (\w{3}) (\d{1,2}) (\d{4})", output, re.M)
    assert m, output
    value = datetime.strptime(f"{m[2]} {m[3]} {m[4]} {m[5]}", "%H:%M:%S %b %d %Y").replace(tzinfo=UTC)
    return m[1], value


def aireos_ntp_rows(output: str) -> list[tuple[int, int, str, str]]:
    """(index, key index, server, status) rows of AireOS `show time`."""
    rows = []
    for m in re.finditer(r"^\s+(\d+)\s+(\d+)\s+(\S+)\s+(In Sync|Not Tried|Not Synched)\s", output, re.M):
        rows.append((int(m[1]), int(m[2]), m[3], m[4]))
    return rows


def close_to_now(value: datetime, tolerance_s: float = 120.0) -> bool:
    return abs((value - datetime.now(UTC)).total_seconds()) < tolerance_s
