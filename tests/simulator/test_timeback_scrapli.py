"""The CSCwd80290 time-back, driven over real SSH by scrapli, on both platforms.

Each test runs the tech note's procedure the way the bot will: note the NTP
servers, delete them, set the clock to 2022-12-02 00:00, verify, wait until
the stuck APs are Registered, restore NTP exactly, save, verify the clock is
back on NTP. The assertions read both the CLI and the live model.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from scrapli.driver import AsyncNetworkDriver

from bot.simulator import DOWNLOADING, REGISTERED, SimulatorServer
from tests.simulator.simtools import (
    aireos_entry,
    aireos_ntp_rows,
    close_to_now,
    iosxe_entry,
    parse_aireos_time,
    parse_ios_clock,
    scrapli_session,
    serve,
    wait_for,
)


async def _aireos_downloading(conn: AsyncNetworkDriver) -> int:
    out = (await conn.send_command("show ap image status")).result
    m = re.search(r"^Total AP's Downloading\.+ (\d+)", out, re.M)
    assert m, out
    return int(m[1])


async def test_aireos_timeback_with_scrapli() -> None:
    async with serve(aireos_entry()) as sim:
        wlc = sim.controllers["wlc-ae"]
        saved_before = wlc.saved.copy()
        async with scrapli_session(sim, "wlc-ae") as conn:
            assert await _aireos_downloading(conn) == 2
            retries = wlc.aps["CAP3702I.4CD4"].retry_count
            await wait_for(lambda: wlc.aps["CAP3702I.4CD4"].retry_count > retries)  # still failing, still retrying

            # 1. note the NTP servers, then delete them
            rows = aireos_ntp_rows((await conn.send_command("show time")).result)
            assert [(i, k, a) for i, k, a, _ in rows] == [(1, 1, "192.0.2.123"), (2, 0, "198.51.100.123")]
            for index, _, _, _ in rows:
                result = await conn.send_command(f"config time ntp delete {index}")
                assert not result.failed, result.result
            # 2. set the clock before the certificate expiry; 3. verify
            assert not (await conn.send_command("config time manual 12/02/22 00:00:00")).failed
            shown = (await conn.send_command("show time")).result
            assert parse_aireos_time(shown).date() == date(2022, 12, 2)
            assert "NTP Servers" not in shown
            # 4. wait until every AP downloaded and joined
            await wait_for(lambda: _no_downloading_aireos(conn), timeout=15)
            # 5. restore NTP exactly (index, address, key binding)
            for index, key, address, _ in rows:
                assert not (await conn.send_command(f"config time ntp server {index} {address}")).failed
                if key:
                    assert not (await conn.send_command(f"config time ntp auth enable {index} {key}")).failed
            # 6. save, answering the question
            saved = await conn.send_interactive([("save config", "(y/n)", False), ("y", "(wlc-ae) >", False)])
            assert "Configuration Saved!" in saved.result

            # 7. the clock comes back to real time on NTP
            async def in_sync() -> bool:
                out = (await conn.send_command("show time")).result
                return any(r[3] == "In Sync" for r in aireos_ntp_rows(out)) and close_to_now(parse_aireos_time(out))

            await wait_for(in_sync, timeout=15)
            after = aireos_ntp_rows((await conn.send_command("show time")).result)
            assert [(i, k, a) for i, k, a, _ in after] == [(i, k, a) for i, k, a, _ in rows]

        assert {ap.name: ap.state for ap in wlc.aps.values()} == dict.fromkeys(wlc.aps, REGISTERED)
        assert all(ap.image == "8.10.162.0" for ap in wlc.aps.values())
        assert wlc.aps["AP1852-1"].download_status == "None"  # never needed a download
        assert wlc.saved == saved_before and not wlc.unsaved_changes
        assert wlc.clock_source == "ntp" and abs(wlc.clock_offset.total_seconds()) < 1


async def _no_downloading_aireos(conn: AsyncNetworkDriver) -> bool:
    return await _aireos_downloading(conn) == 0


async def _ios_states(conn: AsyncNetworkDriver) -> list[str]:
    out = (await conn.send_command("show ap summary")).result
    return re.findall(r"\b(Registered|Downloading)\s*$", out, re.M)


async def test_iosxe_timeback_with_scrapli() -> None:
    async with serve(iosxe_entry()) as sim:
        wlc = sim.controllers["wlc-xe"]
        saved_before = wlc.saved.copy()
        async with scrapli_session(sim, "wlc-xe") as conn:
            assert sorted(await _ios_states(conn)) == [DOWNLOADING, DOWNLOADING, REGISTERED]
            # 1. note the NTP servers (verbatim lines), remove them
            ntp_lines = (await conn.send_command("show run | i ntp")).result.splitlines()
            servers = [line for line in ntp_lines if line.startswith("ntp server ")]
            assert servers == [
                "ntp server 192.0.2.123 prefer",
                "ntp server 198.51.100.123 key 1",
                "ntp server vrf Mgmt-intf 203.0.113.123 source GigabitEthernet0",
            ]
            result = await conn.send_configs([f"no {line}" for line in servers])
            assert not result.failed, result.result
            assert "%NTP is not enabled." in (await conn.send_command("show ntp associations")).result
            # 2. clock set; 3. verify: hand-set, so `*`
            assert not (await conn.send_command("clock set 00:00:00 2 Dec 2022")).failed
            prefix, value = parse_ios_clock((await conn.send_command("show clock")).result)
            assert prefix == "*" and value.date() == date(2022, 12, 2)
            # 4. wait until Registered
            await wait_for(lambda: _all_registered_ios(conn), timeout=15)
            # 5. restore verbatim; 6. save
            assert not (await conn.send_configs(servers)).failed
            written = await conn.send_command("write memory")
            assert "[OK]" in written.result

            # 7. NTP synced: no prefix, current time, a sys.peer
            async def synced() -> bool:
                prefix, value = parse_ios_clock((await conn.send_command("show clock")).result)
                return prefix == "" and close_to_now(value)

            await wait_for(synced, timeout=15)
            assocs = (await conn.send_command("show ntp associations")).result
            assert re.search(r"^\*~192\.0\.2\.123 ", assocs, re.M), assocs  # the `prefer` server
            restored = (await conn.send_command("show running-config | include ntp server")).result.splitlines()
            assert restored == servers

        assert all(ap.state == REGISTERED and ap.image == "17.3.4.0" for ap in wlc.aps.values())
        assert wlc.saved == saved_before and not wlc.unsaved_changes
        assert wlc.clock_source == "ntp"


async def _all_registered_ios(conn: AsyncNetworkDriver) -> bool:
    return set(await _ios_states(conn)) == {REGISTERED}


# Downloads much slower than NTP's correction, so that the hand-set clock is
# undone before any download could finish with it.
SLOW_DOWNLOADS: dict[str, Any] = {"download_seconds": 1200, "ntp_sync_seconds": 30}


async def _no_download_due_soon(sim: SimulatorServer, name: str, margin_s: float = 300.0) -> None:
    """Wait for a moment when no AP finishes a download in the next `margin_s` simulated seconds."""
    wlc = sim.controllers[name]

    def quiet() -> bool:
        now = sim.timebase.sim_now()
        return all(ap.download_due is None or ap.download_due - now > margin_s for ap in wlc.aps.values())

    await wait_for(quiet)


async def test_wrong_order_is_undone_by_ntp_aireos() -> None:
    """Clock set while NTP is still configured: NTP pulls it back; APs stay stuck."""
    async with serve(aireos_entry(**SLOW_DOWNLOADS)) as sim:
        wlc = sim.controllers["wlc-ae"]
        async with scrapli_session(sim, "wlc-ae") as conn:
            await _no_download_due_soon(sim, "wlc-ae")
            await conn.send_command("config time manual 12/02/22 00:00:00")
            assert parse_aireos_time((await conn.send_command("show time")).result).year == 2022

            async def current() -> bool:
                return close_to_now(parse_aireos_time((await conn.send_command("show time")).result))

            await wait_for(current, timeout=10)
            for index in (1, 2):
                await conn.send_command(f"config time ntp delete {index}")
            assert await current()
            retries = wlc.aps["AP2702-1"].retry_count
            await wait_for(lambda: wlc.aps["AP2702-1"].retry_count > retries)
            assert await _aireos_downloading(conn) == 2
        assert wlc.clock_source == "none" and abs(wlc.clock_offset.total_seconds()) < 1


async def test_wrong_order_is_undone_by_ntp_iosxe() -> None:
    async with serve(iosxe_entry(**SLOW_DOWNLOADS)) as sim:
        wlc = sim.controllers["wlc-xe"]
        async with scrapli_session(sim, "wlc-xe") as conn:
            await _no_download_due_soon(sim, "wlc-xe")
            await conn.send_command("clock set 00:00:00 2 Dec 2022")
            assert parse_ios_clock((await conn.send_command("show clock")).result)[0] == "*"

            async def ntp_again() -> bool:
                prefix, value = parse_ios_clock((await conn.send_command("show clock")).result)
                return prefix == "" and close_to_now(value)

            await wait_for(ntp_again, timeout=10)
            servers = [s.ios_line() for s in wlc.running.ntp_servers]
            await conn.send_configs([f"no {line}" for line in servers])
            prefix, value = parse_ios_clock((await conn.send_command("show clock")).result)
            assert close_to_now(value) and prefix == "*"  # no NTP now: not authoritative, but current
            retries = wlc.aps["AP3702-1"].retry_count
            await wait_for(lambda: wlc.aps["AP3702-1"].retry_count > retries)
            assert sorted(await _ios_states(conn)) == [DOWNLOADING, DOWNLOADING, REGISTERED]


async def test_clock_before_certificate_start_is_reported() -> None:
    cert = {"not_before": "2023-01-10T08:00:00Z", "not_after": "2033-01-10T08:00:00Z"}
    async with serve(aireos_entry(certificate=cert), iosxe_entry(certificate=cert)) as sim:
        async with scrapli_session(sim, "wlc-ae") as conn:
            assert "Start : Jan 10 08:00:00 2023 GMT" in (await conn.send_command("show certificate all")).result
            await conn.send_command("config time manual 12/02/22 00:00:00")
            assert sim.controllers["wlc-ae"].certificate_state == "not yet valid"
            log = (await conn.send_command("show logging")).result
            assert "%PKI-3-CERTIFICATE_INVALID_NOT_YET_VALID:" in log
            assert "Validity period starts on 08:00:00 UTC Jan 10 2023" in log
        async with scrapli_session(sim, "wlc-xe") as conn:
            tp = (await conn.send_command("show wireless management trustpoint")).result
            name = re.search(r"^Trustpoint Name : (\S+)", tp, re.M)
            assert name, tp
            certs = (await conn.send_command(f"show crypto pki certificates {name[1]}")).result
            assert "    start date: 08:00:00 UTC Jan 10 2023" in certs
            assert sim.controllers["wlc-xe"].certificate_state == "valid"
            await conn.send_command("clock set 00:00:00 2 Dec 2022")
            assert sim.controllers["wlc-xe"].certificate_state == "not yet valid"
            assert "%PKI-3-CERTIFICATE_INVALID_NOT_YET_VALID:" in (await conn.send_command("show logging")).result
