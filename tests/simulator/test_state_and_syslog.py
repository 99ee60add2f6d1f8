"""What outlives a session: the state file across restarts, AP syslog over UDP,
and the clean shutdown of everything a server started."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from bot.simulator import Scenario, SimulatorServer
from tests.simulator.simtools import RawSession, aireos_entry, iosxe_entry, scrapli_session, serve, wait_for


async def test_state_file_survives_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    async with serve(iosxe_entry(), aireos_entry(), state_file=state) as sim:
        async with scrapli_session(sim, "wlc-xe") as conn:
            await conn.send_configs(["no ntp server 198.51.100.123 key 1", "ntp server 192.0.2.77 iburst"])
            await conn.send_command("write memory")
            await conn.send_configs(["no ntp server 192.0.2.123"])  # running only: lost at restart
        async with RawSession.open(sim, "wlc-ae") as raw:
            await raw.command(sim, "wlc-ae", "config time ntp delete 2")  # never saved
        written = json.loads(state.read_text())
        assert written["controllers"]["wlc-xe"]["unsaved_changes"] is True
        assert written["controllers"]["wlc-ae"]["unsaved_changes"] is True

    async with serve(iosxe_entry(), aireos_entry(), state_file=state) as sim:
        xe = sim.controllers["wlc-xe"]
        assert [s.ios_line() for s in xe.running.ntp_servers] == [
            "ntp server 192.0.2.123 prefer",
            "ntp server vrf Mgmt-intf 203.0.113.123 source GigabitEthernet0",
            "ntp server 192.0.2.77 iburst",
        ]
        assert xe.running == xe.saved and not xe.unsaved_changes
        assert [s.index for s in sim.controllers["wlc-ae"].running.ntp_servers] == [1, 2]
        async with scrapli_session(sim, "wlc-xe") as conn:
            run = (await conn.send_command("show run | i ntp server")).result
        assert "192.0.2.77 iburst" in run and "198.51.100.123" not in run


async def test_ap_syslog_sequence_then_success(tmp_path: Path) -> None:
    received: list[bytes] = []

    class Collector(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            received.append(data)

    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(Collector, local_addr=("127.0.0.1", 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        entry = iosxe_entry(ap_syslog={"host": "127.0.0.1", "port": port})
        async with serve(entry) as sim:
            await wait_for(lambda: sum(b"AP image integrity check FAILED" in d for d in received) >= 2)
            failure = [d.decode() for d in received if b"AP3702-1 " in d][:6]
            assert re.fullmatch(
                r"<6>\w{3} [ \d]\d \d\d:\d\d:\d\d AP3702-1 \*\w{3} \d{1,2} \d\d:\d\d:\d\d\.\d{3}: "
                r"Using SHA-2 signed certificate for image signing validation\.",
                failure[0],
            ), failure[0]
            assert failure[1].startswith("<3>")
            assert (
                ": %PKI-3-CERTIFICATE_INVALID_EXPIRED: Certificate chain validation has failed. The certificate "
                "(SN: 4E78A210000000000007) has expired. Validity period ended on 21:43:46 UTC Dec 4 2022"
            ) in failure[1]
            assert [line.split(": ", 1)[1] for line in failure[2:]] == [
                "Image signing certificate validation failed (1A).",
                "Failed to validate signature",
                "Digital Signature Failed Validation (flash:/update/ap3g2-k9w8-mx.153-3.JPJ9/final_hash)",
                "AP image integrity check FAILED",
            ]
            assert not any(b"AP9120-1" in d for d in received)  # AP-COS, already on the image

            received.clear()
            wlc = sim.controllers["wlc-xe"]
            wlc.running.ntp_servers.clear()
            wlc.set_clock(wlc.now().replace(year=2022, month=12, day=2))
            sim.step()
            await wait_for(lambda: sum(b"validation succeeded" in d for d in received) == 2)
            assert any(b"*Dec 2 " in d for d in received)  # the AP's time is the controller's
            assert sim.syslog_sent >= 4
    finally:
        transport.close()


async def test_stop_leaves_no_tasks_or_ports(tmp_path: Path) -> None:
    before = asyncio.all_tasks()
    hanging = iosxe_entry("x2", faults={"hang_on_connect": True})
    scenario = Scenario.from_dict({"controllers": [aireos_entry(), hanging]})
    sim = SimulatorServer(scenario, time_scale=600)
    async with sim:
        ports = dict(sim.ports)
        held = await asyncio.open_connection("127.0.0.1", ports["x2"])  # a hanging TCP peer
        session = RawSession.open(sim, "wlc-ae")
        raw = await session.__aenter__()  # an idle logged-in shell
        assert await raw.command(sim, "wlc-ae", "show time")
    assert asyncio.all_tasks() - before == set()
    for port in ports.values():
        try:
            _, w = await asyncio.open_connection("127.0.0.1", port)
        except ConnectionRefusedError:
            continue
        w.close()
        raise AssertionError(f"port {port} still listening")
    held[1].close()
    await session.__aexit__(None, None, None)


async def test_ports_zero_are_free_and_below_the_ephemeral_range() -> None:
    async with serve(*(iosxe_entry(f"c{i}") for i in range(5))) as sim:
        ports = list(sim.ports.values())
        assert len(set(ports)) == 5 and all(1024 < p < 32768 for p in ports)
        assert sim.ready_line().startswith("ready c0=127.0.0.1:")
