"""Session behaviour at the byte level: echo, line endings, type-ahead, paging,
the save / unsaved-changes questions, error messages, replayed captures and
host keys."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import asyncssh
import pytest
import yaml
from scrapli.exceptions import ScrapliAuthenticationFailed

from bot.simulator import Scenario, SimulatorServer
from tests.simulator.simtools import RawSession, aireos_entry, iosxe_entry, scrapli_session, serve

MANY_APS = [{"name": f"AP{i:03d}", "model": "AIR-AP1852I-E-K9"} for i in range(30)]


async def test_cr_lf_and_crlf_each_count_as_one_enter() -> None:
    async with serve(iosxe_entry()) as sim, RawSession.open(sim, "wlc-xe") as raw:
        raw.send("show clock\r")
        raw.send("show clock\n")
        raw.send("show clock\r\n")
        for _ in range(3):
            out = await raw.read_until(b"wlc-xe#")
            assert re.search(rb"^show clock\r\n\*?\.?\d\d:\d\d:\d\d\.\d{3} UTC .*\r\n", out), out
        with pytest.raises(asyncio.TimeoutError):
            await raw.read_until(b"wlc-xe#", timeout=0.3)  # no stray prompt from the LF of CRLF


async def test_type_ahead_is_echoed_after_the_next_prompt() -> None:
    async with serve(iosxe_entry(faults={"command_delay_ms": 200})) as sim, RawSession.open(sim, "wlc-xe") as raw:
        raw.send("show clock\rshow ntp status\r")
        out = (await raw.read_until(re.compile(rb"wlc-xe#show ntp status\r\n.*?wlc-xe#", re.S))).decode()
        first, second = out.split("wlc-xe#show ntp status\r\n")
        assert first.startswith("show clock\r\n") and " UTC " in first
        assert second.startswith("Clock is synchronized")


async def test_backspace_edits_the_line() -> None:
    async with serve(iosxe_entry()) as sim, RawSession.open(sim, "wlc-xe") as raw:
        raw.send("shx\x7fow clock\r")
        out = await raw.read_until(b"wlc-xe#")
        assert b"shx\b \bow clock\r\n" in out
        assert b" UTC " in out


async def test_aireos_paging_more_quit_and_disable() -> None:
    async with serve(aireos_entry(aps=MANY_APS)) as sim, RawSession.open(sim, "wlc-ae") as raw:
        raw.send("show ap summary\r")
        page = (await raw.read_until(b"--More-- or (q)uit")).decode()
        assert page.count("\r\n") == sim.controllers["wlc-ae"].page_lines  # echo line + page - 1 lines
        raw.send(" ")
        rest = (await raw.read_until(b"--More-- or (q)uit")).decode()
        raw.send(" ")
        rest += (await raw.read_until(b"(wlc-ae) >")).decode()
        names = re.findall(r"^AP\d{3}\b", page + rest, re.M)
        assert names == [f"AP{i:03d}" for i in range(30)]

        raw.send("show ap summary\r")
        await raw.read_until(b"--More-- or (q)uit")
        raw.send("q")
        rest = (await raw.read_until(b"(wlc-ae) >")).decode()
        assert "AP029" not in rest

        assert (await raw.command(sim, "wlc-ae", "config paging disable")).strip() == ""
        out = await raw.command(sim, "wlc-ae", "show ap summary")
        assert "--More--" not in out and "AP029" in out


async def test_iosxe_paging_until_terminal_length_0() -> None:
    async with serve(iosxe_entry(aps=MANY_APS)) as sim, RawSession.open(sim, "wlc-xe") as raw:
        raw.send("show ap summary\r")
        first = (await raw.read_until(b" --More-- ")).decode()
        assert first.count("\r\n") == 24  # echo + 23 lines of a 24-line terminal
        raw.send(" ")
        rest = (await raw.read_until(b"wlc-xe#")).decode()
        erased = (first + rest).replace(" --More-- " + "\b" * 10 + " " * 10 + "\b" * 10, "")
        assert len(re.findall(r"^AP\d{3}\b", erased, re.M)) == 30
        await raw.command(sim, "wlc-xe", "terminal length 0")
        assert "--More--" not in await raw.command(sim, "wlc-xe", "show ap summary")


async def test_aireos_save_config_question_and_logout_with_unsaved_changes() -> None:
    async with serve(aireos_entry()) as sim:
        wlc = sim.controllers["wlc-ae"]
        async with RawSession.open(sim, "wlc-ae") as raw:
            await raw.command(sim, "wlc-ae", "config time ntp delete 2")
            assert wlc.unsaved_changes
            raw.send("save config\r")
            await raw.read_until(b"Are you sure you want to save? (y/n) ")
            raw.send("n\r")
            assert "Configuration not saved!" in (await raw.read_until(b"(wlc-ae) >")).decode()
            assert wlc.unsaved_changes and len(wlc.saved.ntp_servers) == 2
            raw.send("logout\r")
            await raw.read_until(b"The system has unsaved changes. Would you like to save them now? (y/N) ")
            raw.send("y\r")
            with pytest.raises(EOFError):
                await raw.read_until(b"(wlc-ae) >")
        assert not wlc.unsaved_changes and [s.index for s in wlc.saved.ntp_servers] == [1]

        async with RawSession.open(sim, "wlc-ae") as raw:
            await raw.command(sim, "wlc-ae", "config time ntp delete 1")
            raw.send("logout\r")
            await raw.read_until(b"(y/N) ")
            raw.send("N\r")
            with pytest.raises(EOFError):
                await raw.read_until(b"(wlc-ae) >")
        assert wlc.unsaved_changes and [s.index for s in wlc.saved.ntp_servers] == [1]

        async with RawSession.open(sim, "wlc-ae") as raw:
            raw.send("save config\r")
            await raw.read_until(b"(y/n) ")
            raw.send("y\r")
            assert "Configuration Saved!" in (await raw.read_until(b"(wlc-ae) >")).decode()
            raw.send("logout\r")  # nothing unsaved: no question, the WLC just hangs up
            with pytest.raises(EOFError):
                await raw.read_until(b"(y/N)")
        assert wlc.saved.ntp_servers == []


async def test_aireos_config_mode_and_key_binding() -> None:
    async with serve(aireos_entry()) as sim, RawSession.open(sim, "wlc-ae") as raw:
        wlc = sim.controllers["wlc-ae"]
        raw.send("config\r")
        await raw.read_until(b"(wlc-ae) config>")
        raw.send("time ntp server 3 203.0.113.5\r")
        await raw.read_until(b"(wlc-ae) config>")
        raw.send("time ntp auth enable 3 1\r")
        await raw.read_until(b"(wlc-ae) config>")
        raw.send("exit\r")
        await raw.read_until(b"(wlc-ae) >")
        server = wlc.running.ntp_servers[-1]
        assert (server.index, server.address, server.key) == (3, "203.0.113.5", 1)
        assert "Incorrect input!" in await raw.command(sim, "wlc-ae", "config time ntp auth enable 3 9")
        assert "Incorrect input!" in await raw.command(sim, "wlc-ae", "config time ntp server 4 203.0.113.6")
        assert "Incorrect input!" in await raw.command(sim, "wlc-ae", "config time manual 13/45/22 00:00:00")


async def test_aireos_incorrect_usage() -> None:
    old_aps = [{"name": f"AP{i}", "model": "AIR-CAP3702I-E-K9", "image": "8.3.150.0"} for i in range(2)]
    async with serve(aireos_entry(version="8.5.182.0", aps=old_aps)) as sim, RawSession.open(sim, "wlc-ae") as raw:
        msg = "Incorrect usage. Use the '?' or <TAB> key to list commands."
        assert msg in await raw.command(sim, "wlc-ae", "show foo")
        assert msg in await raw.command(sim, "wlc-ae", "show ap image status")  # 8.10 and later only
        assert "Downloading..................................... 2" in await raw.command(sim, "wlc-ae", "sh ap ima all")


async def test_iosxe_errors_with_caret_and_abbreviations() -> None:
    async with serve(iosxe_entry()) as sim, RawSession.open(sim, "wlc-xe") as raw:
        await raw.command(sim, "wlc-xe", "terminal length 0")
        out = await raw.command(sim, "wlc-xe", "show foo")
        assert out == " " * len("wlc-xe#show ") + "^\r\n% Invalid input detected at '^' marker.\r\n\r\n"
        out = await raw.command(sim, "wlc-xe", "clock set 25:00:00 2 Dec 2022")
        assert out.startswith(" " * len("wlc-xe#clock set ") + "^\r\n% Invalid input")
        assert await raw.command(sim, "wlc-xe", "sh c") == '% Ambiguous command:  "sh c"\r\n'
        assert await raw.command(sim, "wlc-xe", "show") == "% Incomplete command.\r\n\r\n"
        assert await raw.command(sim, "wlc-xe", "sh ap sum") == await raw.command(sim, "wlc-xe", "show ap summary")
        assert (await raw.command(sim, "wlc-xe", "sh run | i ntp server")).splitlines()[0] == (
            "ntp server 192.0.2.123 prefer"
        )
        assert "Number of lines which match regexp = 3" in await raw.command(
            sim, "wlc-xe", "show running-config | count ntp server"
        )
        raw.send("conf t\r")
        await raw.read_until(b"wlc-xe(config)#")
        raw.send("ntp server 192.0.2.9 bogus\r")
        out = (await raw.read_until(b"wlc-xe(config)#")).decode()
        assert " " * len("wlc-xe(config)#ntp server 192.0.2.9 ") + "^" in out
        raw.send("ntp server 192.0.2.9 prefer key 2 version 4\r")
        await raw.read_until(b"wlc-xe(config)#")
        raw.send("do show run | i 192.0.2.9\r")
        out = (await raw.read_until(b"wlc-xe(config)#")).decode()
        assert "ntp server 192.0.2.9 version 4 key 2 prefer\r\n" in out  # IOS order, not typed order
        raw.send("end\r")
        await raw.read_until(b"wlc-xe#")
        assert "[OK]" in await raw.command(sim, "wlc-xe", "wr")
        raw.send("copy running-config startup-config\r")
        await raw.read_until(b"Destination filename [startup-config]? ")
        raw.send("\r")
        assert b"[OK]" in await raw.read_until(b"wlc-xe#")
        assert "ntp server 192.0.2.9" in await raw.command(sim, "wlc-xe", "show startup-config")


async def test_replay_prints_the_capture_verbatim(tmp_path: Path) -> None:
    capture = tmp_path / "summary.raw"
    data = b"Number of APs: 1\r\r\n\r\r\nAP Name   State\r\r\nAP1       Downloading  \r\r\n"
    capture.write_bytes(data)
    entry = iosxe_entry(replay={"show ap summary": str(capture)})
    async with serve(entry) as sim, RawSession.open(sim, "wlc-xe") as raw:
        for command in ("show ap summary", "sh ap  sum"):  # typed, or abbreviated to the same command
            raw.send(command + "\r")
            out = await raw.read_until(b"wlc-xe#")
            assert out == command.encode() + b"\r\n" + data + b"wlc-xe#"
        assert "AP3702-1" in await raw.command(sim, "wlc-xe", "show ap image")  # other commands: the model


async def test_known_hosts_and_stable_host_key(tmp_path: Path) -> None:
    async with serve(iosxe_entry(), aireos_entry()) as sim:
        keys = set()
        for name in ("wlc-xe", "wlc-ae", "wlc-xe"):
            host, port = sim.address(name)
            async with asyncssh.connect(host, port, username="admin", password="admin", known_hosts=None) as conn:
                server_key = conn.get_server_host_key()
                assert server_key is not None
                keys.add(server_key.export_public_key().decode().split()[1])
        assert keys == {sim.host_public_key.split()[1]}

        known = sim.write_known_hosts(tmp_path / "known_hosts")
        async with scrapli_session(sim, "wlc-xe", auth_strict_key=True, ssh_known_hosts_file=str(known)) as conn:
            assert await conn.get_prompt() == "wlc-xe#"
        host, port = sim.address("wlc-xe")
        async with asyncssh.connect(host, port, username="admin", password="admin", known_hosts=str(known)):
            pass  # OpenSSH-style `[host]:port` entry

        other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().split()
        (tmp_path / "wrong").write_text(f"127.0.0.1 {other[0]} {other[1]}\n")
        with pytest.raises(ScrapliAuthenticationFailed):
            async with scrapli_session(
                sim, "wlc-xe", auth_strict_key=True, ssh_known_hosts_file=str(tmp_path / "wrong")
            ):
                pass


AIREOS_COMMANDS = {
    "show sysinfo": "Product Version.................................. 8.10.162.0",
    "show time": "NTP Polling Interval",
    "show ap summary": "AIR-CAP3702I-E-K9",
    "show ap image status": "Total AP's Downloading........................... 2",
    "show ap image all": "Downloading..................................... 2",
    "show ap config general CAP3702I.4CD4": "Operation State ................................. DOWNLOADING",
    "show ap config general AP1852-1": "Operation State ................................. REGISTERED",
    "show ap config general nope": "Cisco AP nope is not found.",
    "show certificate summary": "Web Administration Certificate................... Locally Generated",
    "show certificate all": "Certificate Name: Cisco SHA2 device cert",
    "show logging": "Logging to buffer :",
    "show msglog": "Logging to buffer :",
}

IOSXE_COMMANDS = {
    "show version": "Cisco IOS XE Software, Version 17.03.04",
    "show install summary": "IMG   C    17.03.04.0.",
    "show clock detail": "Time source is NTP",
    "show ntp status": "Clock is synchronized, stratum 2, reference is 192.0.2.123",
    "show running-config": "hostname wlc-xe",
    "show startup-config": "ntp server 192.0.2.123 prefer",
    "show ap image": "Downloading                : 2",
    "show wireless management trustpoint": "Trustpoint Name : wlc-xe_WLC_TP",
    "show crypto pki certificates": "Associated Trustpoints: wlc-xe_WLC_TP",
    "show logging": "Log Buffer (102400 bytes):",
    "enable": "",
    "terminal width 0": "",
}


async def test_every_command_answers() -> None:
    """Each supported command runs over SSH and prints its characteristic line."""
    async with serve(aireos_entry(), iosxe_entry()) as sim:
        async with RawSession.open(sim, "wlc-ae") as raw:
            await raw.command(sim, "wlc-ae", "config paging disable")
            for command, expected in AIREOS_COMMANDS.items():
                out = await raw.command(sim, "wlc-ae", command)
                assert expected in out and "Incorrect usage" not in out, (command, out)
        async with RawSession.open(sim, "wlc-xe") as raw:
            await raw.command(sim, "wlc-xe", "terminal length 0")
            for command, expected in IOSXE_COMMANDS.items():
                out = await raw.command(sim, "wlc-xe", command)
                assert expected in out and "% " not in out, (command, out)
            raw.send("exit\r")
            with pytest.raises(EOFError):
                await raw.read_until(b"wlc-xe#")


async def test_host_key_from_the_scenario(tmp_path: Path) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(tmp_path / "sim_key")
    scenario_file = tmp_path / "s.yaml"
    scenario_file.write_text(yaml.safe_dump({"host_key": "sim_key", "controllers": [iosxe_entry()]}))
    async with SimulatorServer(Scenario.load(scenario_file), time_scale=600) as sim:
        assert sim.host_public_key.split()[:2] == key.export_public_key().decode().split()[:2]
        host, port = sim.address("wlc-xe")
        async with asyncssh.connect(host, port, username="admin", password="admin", known_hosts=None) as conn:
            server_key = conn.get_server_host_key()
            assert server_key is not None and server_key.export_public_key() == key.export_public_key()
