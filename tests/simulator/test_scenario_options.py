"""Scenario options for awkward real-world output, each over a real SSH session.

The bot must cope with controllers that wrap long lines at a narrow terminal,
print fewer `show ap summary` rows than their AP count, print odd version
strings, report predownloads and retry counts, and refuse a wrong password in
platform-specific ways. These tests pin what the simulator serves for each, so
the parser and client tests elsewhere can rely on it.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

import asyncssh
import pytest
from netmiko import ConnectHandler
from netmiko.exceptions import NetmikoAuthenticationException
from scrapli.exceptions import ScrapliAuthenticationFailed

from bot.simulator import Scenario
from bot.simulator import render_aireos as ae
from bot.simulator import render_iosxe as xe
from bot.simulator.wrapping import wrap
from tests.simulator.simtools import RawSession, aireos_entry, iosxe_entry, netmiko_params, scrapli_session, serve

TEN_APS = [{"name": f"AP{i:03d}", "model": "AIR-AP1852I-E-K9"} for i in range(10)]


def crlf(text: str) -> str:
    """Renderer text as the terminal sends it."""
    return text.replace("\n", "\r\n")


def widest(output: str) -> int:
    return max(len(line) for line in output.split("\r\n"))


# ---------------------------------------------------------------- terminal width


async def test_aireos_terminal_width_wraps_every_output_line() -> None:
    """AireOS has no command to widen the screen: `terminal_width` always wraps."""
    entry = aireos_entry(terminal_width=80, download_seconds=36000)
    async with serve(entry, time_scale=1) as sim, RawSession.open(sim, "wlc-ae") as raw:
        wlc = sim.controllers["wlc-ae"]
        await raw.command(sim, "wlc-ae", "config paging disable")
        for command, render in (("show ap summary", ae.show_ap_summary), ("show ap image all", ae.show_ap_image_all)):
            out = await raw.command(sim, "wlc-ae", command)
            assert max(len(line) for line in render(wlc).split("\n")) > 80  # something to wrap
            assert out == crlf(wrap(render(wlc), 80)) + "\r\n\r\n", command
            assert widest(out) == 80
        # the unwrapped header is exactly the pieces joined back
        out = await raw.command(sim, "wlc-ae", "show ap summary")
        lines = out.split("\r\n")
        start = lines.index(ae.AP_SUMMARY_HEADER[:80])
        assert lines[start] + lines[start + 1] == ae.AP_SUMMARY_HEADER
        # no AireOS command changes the width
        assert "Incorrect usage" in await raw.command(sim, "wlc-ae", "terminal width 0")
        assert widest(await raw.command(sim, "wlc-ae", "show ap summary")) == 80


async def test_aireos_pager_counts_wrapped_lines() -> None:
    async with serve(aireos_entry(terminal_width=80, aps=TEN_APS)) as sim, RawSession.open(sim, "wlc-ae") as raw:
        wlc = sim.controllers["wlc-ae"]
        raw.send("show ap summary\r")
        page = (await raw.read_until(b"--More-- or (q)uit")).decode()
        pieces = wrap(ae.show_ap_summary(wlc), 80).split("\n")
        assert page == "show ap summary\r\n" + crlf("\n".join(pieces[: wlc.page_lines - 1])) + "\r\n--More-- or (q)uit"


async def test_iosxe_terminal_width_starts_narrow_and_terminal_width_changes_it() -> None:
    async with serve(iosxe_entry(terminal_width=80)) as sim:
        wlc = sim.controllers["wlc-xe"]
        async with RawSession.open(sim, "wlc-xe") as raw:
            await raw.command(sim, "wlc-xe", "terminal length 0")
            out = await raw.command(sim, "wlc-xe", "show ap summary")
            assert out == crlf(wrap(xe.show_ap_summary(wlc), 80)) + "\r\n"
            assert widest(out) == 80
            # pipes filter the logical lines, then the screen wraps what is left
            out = await raw.command(sim, "wlc-xe", "show ap summary | include AP9120-1")
            row = next(line for line in xe.show_ap_summary(wlc).split("\n") if line.startswith("AP9120-1"))
            assert out == crlf(wrap(row, 80)) + "\r\n"
            assert await raw.command(sim, "wlc-xe", "terminal width 132") == ""
            out = await raw.command(sim, "wlc-xe", "show ap summary")
            assert out == crlf(wrap(xe.show_ap_summary(wlc), 132)) + "\r\n"
            assert await raw.command(sim, "wlc-xe", "terminal width 0") == ""
            out = await raw.command(sim, "wlc-xe", "show ap summary")
            assert out == crlf(xe.show_ap_summary(wlc)) + "\r\n"
        async with RawSession.open(sim, "wlc-xe") as raw:  # the width is per session: a new one starts narrow
            await raw.command(sim, "wlc-xe", "terminal length 0")
            assert widest(await raw.command(sim, "wlc-xe", "show ap summary")) == 80
        async with scrapli_session(sim, "wlc-xe") as conn:  # scrapli's on_open sends `terminal width 512`
            result = (await conn.send_command("show ap summary")).result
            assert result.splitlines()[2].startswith("AP Name") and "State" in result.splitlines()[2]


async def test_no_terminal_width_means_no_wrapping_whatever_the_client_sends() -> None:
    async with serve(iosxe_entry(), aireos_entry()) as sim:
        async with RawSession.open(sim, "wlc-xe") as raw:
            await raw.command(sim, "wlc-xe", "terminal length 0")
            assert await raw.command(sim, "wlc-xe", "terminal width 40") == ""
            out = await raw.command(sim, "wlc-xe", "show ap summary")
            assert out == crlf(xe.show_ap_summary(sim.controllers["wlc-xe"])) + "\r\n"
        async with RawSession.open(sim, "wlc-ae") as raw:
            await raw.command(sim, "wlc-ae", "config paging disable")
            assert widest(await raw.command(sim, "wlc-ae", "show ap summary")) > 80


# ------------------------------------------------------------ truncated summary


async def test_ap_summary_truncate_keeps_the_true_count() -> None:
    async with serve(
        aireos_entry(aps=TEN_APS, ap_summary_truncate=3),
        iosxe_entry(aps=TEN_APS, ap_summary_truncate=3),
        iosxe_entry("wlc-new", version="17.9.4", aps=TEN_APS, ap_summary_truncate=0, ap_summary_header_every=4),
    ) as sim:
        async with scrapli_session(sim, "wlc-ae") as conn:
            out = (await conn.send_command("show ap summary")).result
            assert "Number of APs.................................... 10" in out
            assert re.findall(r"^AP\d{3}\b", out, re.M) == ["AP000", "AP001", "AP002"]
        async with scrapli_session(sim, "wlc-xe") as conn:
            out = (await conn.send_command("show ap summary")).result
            assert out.splitlines()[0] == "Number of APs: 10"
            assert re.findall(r"^AP\d{3}\b", out, re.M) == ["AP000", "AP001", "AP002"]
        async with scrapli_session(sim, "wlc-new") as conn:
            out = (await conn.send_command("show ap summary")).result
            assert out.splitlines()[0] == "Number of APs: 10" and "CC = Country Code" in out
            assert re.findall(r"^AP Name\b", out, re.M) == ["AP Name"] and not re.search(r"^AP\d{3}", out, re.M)


# ---------------------------------------------------------------- show version


def _version_lines(out: str, count: int = 4) -> list[str]:
    return out.split("\r\n")[:count]


async def test_show_version_forms_and_version_string() -> None:
    async with serve(
        iosxe_entry("exp", version="16.12.4", version_form="experimental"),
        iosxe_entry(
            "exp-label",
            version="17.6.1",
            version_form="experimental",
            version_string="BLD_POLARIS_DEV_LATEST_20210302_012043",
        ),
        iosxe_entry("eng", version="17.12.1", version_form="engineering"),
        iosxe_entry("special", version="16.9.5", version_string="V169_5_SR689355441_2"),
        aireos_entry(version_string="8.10.151.0 (special build)"),
    ) as sim:
        async with RawSession.open(sim, "exp") as raw:
            await raw.command(sim, "exp", "terminal length 0")
            xe_line, ios_line, copyright_line, compiled = _version_lines(await raw.command(sim, "exp", "show version"))
            m = re.fullmatch(r"Cisco IOS XE Software, Version (BLD_POLARIS_DEV_LATEST_(\d{8}_\d{6}))", xe_line)
            assert m, xe_line
            n = re.fullmatch(
                r"Cisco IOS Software \[Gibraltar\], C9800-CL Software \(C9800-CL-K9_IOSXE\), "
                r"Experimental Version 16\.12\.(\d{8}:\d{6}) \[polaris_dev-/nobackup/mcpre/BLD-(\S+) \d+\]",
                ios_line,
            )
            assert n and n[2] == m[1], ios_line
            label_at = datetime.strptime(m[2], "%Y%m%d_%H%M%S")
            built_at = datetime.strptime(n[1], "%Y%m%d:%H%M%S")
            assert timedelta(0) < built_at - label_at < timedelta(hours=1)
            assert copyright_line == f"Copyright (c) 1986-{label_at.year} by Cisco Systems, Inc."
            assert compiled.startswith("Compiled ") and compiled.endswith(" by mcpre")
            # the same build every time (stable per version)
            assert _version_lines(await raw.command(sim, "exp", "show version"))[0] == xe_line

        async with scrapli_session(sim, "exp-label") as conn:
            xe_line, ios_line = (await conn.send_command("show version")).result.splitlines()[:2]
            assert xe_line == "Cisco IOS XE Software, Version BLD_POLARIS_DEV_LATEST_20210302_012043"
            assert "[Bengaluru]" in ios_line and "Experimental Version 17.6.20210302:" in ios_line
            assert "/BLD-BLD_POLARIS_DEV_LATEST_20210302_012043 " in ios_line

        async with scrapli_session(sim, "eng") as conn:
            xe_line, ios_line, support = (await conn.send_command("show version")).result.splitlines()[:3]
            m = re.fullmatch(r"Cisco IOS XE Software, Version (17\.12\.01\.0\.\d{4})", xe_line)
            assert m, xe_line
            assert ios_line.endswith(f"(C9800-CL-K9_IOSXE), Version {m[1]}, RELEASE SOFTWARE (fc3)")
            assert support == "Technical Support: http://www.cisco.com/techsupport"
            install = (await conn.send_command("show install summary")).result
            assert f"IMG   C    {m[1]}" in install  # the same build number

        async with scrapli_session(sim, "special") as conn:
            xe_line, ios_line = (await conn.send_command("show version")).result.splitlines()[:2]
            assert xe_line == "Cisco IOS XE Software, Version V169_5_SR689355441_2"
            assert ios_line.endswith("Version 16.9.5, RELEASE SOFTWARE (fc3)")

        async with scrapli_session(sim, "wlc-ae") as conn:
            out = (await conn.send_command("show sysinfo")).result
            assert "Product Version.................................. 8.10.151.0 (special build)" in out
            assert "RTOS Version..................................... 8.10.162.0" in out


def test_version_form_and_predownload_are_checked() -> None:
    with pytest.raises(ValueError, match="version_form"):
        Scenario.from_dict({"controllers": [iosxe_entry(version_form="nightly")]})
    with pytest.raises(ValueError, match="unknown predownload key"):
        Scenario.from_dict({"controllers": [iosxe_entry(predownload={"version": "17.9.4.27", "when": "now"})]})
    with pytest.raises(ValueError, match="terminal_width"):
        Scenario.from_dict({"controllers": [iosxe_entry(terminal_width=-1)]})


# ------------------------------------------------------------------ predownload

AE_IMAGE_ROW = re.compile(
    r"^(?P<name>\S+)\s+(?P<primary>\S+)\s+(?P<backup>\S+)\s+(?P<status>\S+)\s+(?P<version>\S+)\s+"
    r"(?P<next>\S+)\s+(?P<retry>\S+)\s*$",
    re.M,
)
XE_IMAGE_ROW = re.compile(
    r"^(?P<name>\S+)\s+(?P<primary>\S+)\s+(?P<backup>\S+)\s+(?P<status>\S+)\s+(?P<version>\S+)\s+"
    r"(?P<next>\S+)\s+(?P<retry>\d+)\s+(?P<method>\S+)\s*$",
    re.M,
)


async def test_predownload_in_show_ap_image() -> None:
    aireos_aps = [
        {
            "name": "AP1852-1",
            "model": "AIR-AP1852I-E-K9",
            "predownload": {"status": "Predownloading", "version": "8.10.185.0"},
        },
        {
            "name": "AP1852-2",
            "model": "AIR-AP1852I-E-K9",
            "predownload": {"status": "Complete", "version": "8.10.185.0"},
        },
        {"name": "AP1852-3", "model": "AIR-AP1852I-E-K9"},
    ]
    iosxe_aps = [
        {"name": "AP9120-1", "model": "C9120AXI-E"},
        {"name": "AP9120-2", "model": "C9120AXI-E", "predownload": {"status": "Failed", "version": "17.9.4.27"}},
        {"name": "AP9120-3", "model": "C9120AXI-E", "predownload": None},  # opts out of the controller's
    ]
    async with serve(
        aireos_entry(version="8.5.182.0", aps=aireos_aps),
        iosxe_entry(aps=iosxe_aps, predownload="17.9.4.27"),  # scenario level: every AP predownloads
        iosxe_entry("wlc-plain"),
    ) as sim:
        async with scrapli_session(sim, "wlc-ae") as conn:
            out = (await conn.send_command("show ap image all")).result
            rows = {m["name"]: m for m in AE_IMAGE_ROW.finditer(out)}
            assert (rows["AP1852-1"]["status"], rows["AP1852-1"]["version"]) == ("Predownloading", "8.10.185.0")
            assert (rows["AP1852-2"]["status"], rows["AP1852-2"]["version"]) == ("Complete", "8.10.185.0")
            assert (rows["AP1852-3"]["status"], rows["AP1852-3"]["version"]) == ("None", "None")
            assert "\tPredownloading.................................. 1" in out
            assert "\tCompleted predownloading........................ 1" in out
            assert "\tFailed to Predownload........................... 0" in out
        async with scrapli_session(sim, "wlc-xe") as conn:
            out = (await conn.send_command("show ap image")).result
            rows = {m["name"]: m for m in XE_IMAGE_ROW.finditer(out)}
            assert (rows["AP9120-1"]["status"], rows["AP9120-1"]["version"]) == ("Predownloading", "17.9.4.27")
            assert (rows["AP9120-2"]["status"], rows["AP9120-2"]["version"]) == ("Failed", "17.9.4.27")
            assert (rows["AP9120-3"]["status"], rows["AP9120-3"]["version"]) == ("None", "0.0.0.0")
            assert "Predownloading             : 1" in out
            assert "Failed to Predownload      : 1" in out
            assert "Predownload in progress    : Yes" in out
        async with scrapli_session(sim, "wlc-plain") as conn:
            out = (await conn.send_command("show ap image")).result
            assert {(m["status"], m["version"]) for m in XE_IMAGE_ROW.finditer(out)} == {("None", "0.0.0.0")}
            assert "Predownloading             : 0" in out and "Predownload in progress    : No" in out


# ----------------------------------------------------------- AireOS retry count


async def test_aireos_show_ap_image_all_prints_the_retry_count_of_downloading_aps() -> None:
    entry = aireos_entry(download_seconds=36000)  # no download ends during the test
    async with serve(entry, time_scale=1) as sim, RawSession.open(sim, "wlc-ae") as raw:
        wlc = sim.controllers["wlc-ae"]
        await raw.command(sim, "wlc-ae", "config paging disable")
        rows = {m["name"]: m for m in AE_IMAGE_ROW.finditer(await raw.command(sim, "wlc-ae", "show ap image all"))}
        assert rows["CAP3702I.4CD4"]["retry"] == "7"  # downloading, 7 failed attempts
        assert rows["AP2702-1"]["retry"] == "NA"  # downloading, first attempt (as the tech note shows)
        assert rows["AP1852-1"]["retry"] == "NA"  # registered
        assert rows["CAP3702I.4CD4"]["next"] == "NA"
        wlc.aps["AP2702-1"].retry_count = 2  # the live model, not a snapshot
        rows = {m["name"]: m for m in AE_IMAGE_ROW.finditer(await raw.command(sim, "wlc-ae", "show ap image all"))}
        assert rows["AP2702-1"]["retry"] == "2"


# -------------------------------------------------------------- wrong password


async def test_wrong_password_on_a_9800_is_an_ssh_authentication_failure() -> None:
    async with serve(iosxe_entry(password="right")) as sim:
        host, port = sim.address("wlc-xe")
        with pytest.raises(asyncssh.PermissionDenied):
            await asyncssh.connect(host, port, username="admin", password="admin", known_hosts=None)
        with pytest.raises(ScrapliAuthenticationFailed):
            async with scrapli_session(sim, "wlc-xe", auth_password="admin"):
                pass
        params = {**netmiko_params(sim, "wlc-xe"), "password": "admin"}
        with pytest.raises(NetmikoAuthenticationException):
            await asyncio.to_thread(ConnectHandler, **params)
        async with RawSession.open(sim, "wlc-xe", password="right") as raw:  # the right one works
            assert "UTC" in await raw.command(sim, "wlc-xe", "show clock")


async def test_wrong_password_on_aireos_asks_user_again_then_hangs_up() -> None:
    """SSH auth `none`: any client is let in, and the WLC's own login refuses.

    On the wire: `User: ` again after each wrong password (no message), and
    after the third the WLC closes the SSH connection (no exit status).
    """
    async with serve(aireos_entry(password="right")) as sim:
        async with RawSession.open(sim, "wlc-ae", password="anything", login=False) as raw:
            seen = await raw.read_until(b"User: ")
            assert seen == b"\r\n(wlc-ae)\r\nUser: "
            for attempt in range(3):
                raw.send("admin\r")
                assert await raw.read_until(b"Password:") == b"admin\r\nPassword:"
                raw.send("admin\r")  # wrong: the scenario says "right"
                if attempt < 2:
                    assert await raw.read_until(b"User: ") == b"\r\nUser: "  # asked again, nothing else
            assert await raw.read_until(b"\r\n") == b"\r\n"
            with pytest.raises(EOFError):
                await raw.read_until(b"User: ", timeout=5)
            assert raw.buffer == b""
            assert raw.writer.channel.get_exit_status() is None
        # a wrong user name is refused the same way; the right credentials work
        async with RawSession.open(sim, "wlc-ae", login=False) as raw:
            await raw.read_until(b"User: ")
            raw.send("root\r")
            await raw.read_until(b"Password:")
            raw.send("right\r")
            assert await raw.read_until(b"User: ") == b"\r\nUser: "
            raw.send("admin\r")
            await raw.read_until(b"Password:")
            raw.send("right\r")
            assert await raw.read_until(b"(wlc-ae) >") == b"\r\n(wlc-ae) >"


async def test_wrong_password_on_aireos_with_ssh_password_auth_fails_at_ssh_level() -> None:
    async with serve(aireos_entry(ssh_auth="password", password="right")) as sim:
        host, port = sim.address("wlc-ae")
        with pytest.raises(asyncssh.PermissionDenied):
            await asyncssh.connect(host, port, username="admin", password="admin", known_hosts=None)
        with pytest.raises(ScrapliAuthenticationFailed):
            async with scrapli_session(sim, "wlc-ae", auth_password="admin"):
                pass
