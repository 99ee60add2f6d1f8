"""The read-only heart of the bot, end to end over real SSH to the simulator."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.domain.advisory_data import ModelCategory
from bot.domain.models import ErrorKind
from bot.domain.software_fix import FixState
from bot.domain.verdict import VerdictStatus
from bot.fleet.service import FleetService
from tests.support.simulated_site import aireos, iosxe, simulated_site


async def test_demo_like_site_is_stuck_with_the_right_advice(tmp_path: Path) -> None:
    # CCERT_STUCK_AFTER_MINUTES=0: a download seen once counts as stuck (the threshold has its own tests)
    async with simulated_site(tmp_path, aireos("wlc-1"), iosxe("wlc-2"), stuck_after_minutes=0) as site:
        (report,) = await FleetService(site.inventory, site.settings, site.environ).read_sites(["site-t"])
    assert report.all_read
    assert report.verdict.status is VerdictStatus.STUCK
    by_name = {v.controller: v for v in report.verdict.controllers}
    assert set(by_name) == {"wlc-1", "wlc-2"}
    assert {f.ap.name for f in by_name["wlc-1"].stuck_aps} == {"CAP3702I.4CD4", "AP2702-1"}
    assert {f.ap.name for f in by_name["wlc-2"].stuck_aps} == {"AP3702-1", "AP2702-2"}
    for verdict in by_name.values():
        assert verdict.status is VerdictStatus.STUCK
        assert verdict.fix is not None and verdict.fix.state is FixState.NOT_FIXED
        assert verdict.not_affected_count == 1
        assert all(f.classification.category is ModelCategory.AFFECTED for f in verdict.stuck_aps)
        assert verdict.timeback is not None and verdict.timeback.possible
    assert "8.10.183.0" in by_name["wlc-1"].recommendation.text
    assert "17.3.6" in by_name["wlc-2"].recommendation.text and "APSP" in by_name["wlc-2"].recommendation.text
    snapshots = {s.name: s for s in report.snapshots}
    assert [s.address for s in snapshots["wlc-1"].ntp_servers] == ["192.0.2.123", "198.51.100.123"]
    assert snapshots["wlc-1"].ntp_servers[0].key_index == 1
    assert [s.config_line for s in snapshots["wlc-2"].ntp_servers] == [
        "ntp server 192.0.2.123 prefer",
        "ntp server 198.51.100.123 key 1",
        "ntp server vrf Mgmt-intf 203.0.113.123 source GigabitEthernet0",
    ]
    assert snapshots["wlc-1"].certificate is not None
    assert snapshots["wlc-1"].certificate.not_before == datetime(2019, 3, 7, 9, 12, 44, tzinfo=UTC)
    assert snapshots["wlc-2"].certificate is not None
    assert snapshots["wlc-2"].certificate.not_before.year == 2020
    for snapshot in snapshots.values():
        assert snapshot.clock is not None and abs((snapshot.clock.time - datetime.now(UTC)).total_seconds()) < 120
        assert not snapshot.clock.looks_hand_set


async def test_verdict_changes_after_time_back_registers_the_aps(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, iosxe("wlc-2"), aireos("wlc-1"), time_scale=600.0) as site:
        service = FleetService(site.inventory, site.settings, site.environ)
        for wlc in site.sim.controllers.values():
            for server in list(wlc.running.ntp_servers):
                if wlc.platform == "iosxe":
                    wlc.delete_ios_ntp_server(server)
                else:
                    wlc.delete_aireos_ntp_server(server.index)
            wlc.set_clock(datetime(2022, 12, 2, tzinfo=UTC))
        # 60 simulated seconds of download are 0.1 s real at this scale; allow a few ticks.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            (report,) = await service.read_sites(["site-t"])
            if report.verdict.downloading_count == 0:
                break
            await asyncio.sleep(0.2)
    assert report.verdict.downloading_count == 0
    for verdict in report.verdict.controllers:
        assert verdict.status is VerdictStatus.AT_RISK, verdict.summary
        assert verdict.state_counts.get("Registered") == 3
        # A 2022 clock without NTP is the worst thing to leave behind: it must be shouted about.
        assert verdict.critical
    for snapshot in report.snapshots:
        assert snapshot.clock is not None and snapshot.clock.time.year == 2022
        assert snapshot.ntp_servers == []


async def test_failures_are_named_and_do_not_hold_up_the_others(tmp_path: Path) -> None:
    entries = [
        aireos("good-ae"),
        iosxe("good-xe"),
        iosxe("refuses", faults={"refuse_connections": True}),
        aireos("hangs", faults={"hang_on_connect": True}),
        iosxe("badpass-xe", faults={"reject_password": True}),
        aireos("badpass-ae", faults={"reject_password": True}),
    ]
    async with simulated_site(tmp_path, *entries, timeout_seconds=2.0, stuck_after_minutes=0) as site:
        started = time.monotonic()
        (report,) = await FleetService(site.inventory, site.settings, site.environ).read_sites(["site-t"])
        elapsed = time.monotonic() - started
    assert not report.all_read
    by_name = {v.controller: v for v in report.verdict.controllers}
    assert by_name["good-ae"].status is VerdictStatus.STUCK
    assert by_name["good-xe"].status is VerdictStatus.STUCK
    kinds = {name: [e.kind for e in by_name[name].errors] for name in by_name}
    assert kinds["refuses"] == [ErrorKind.UNREACHABLE]
    assert kinds["hangs"] == [ErrorKind.TIMEOUT]
    assert kinds["badpass-xe"] == [ErrorKind.AUTH_FAILED]
    assert kinds["badpass-ae"] == [ErrorKind.AUTH_FAILED]
    for name in ("refuses", "hangs", "badpass-xe", "badpass-ae"):
        assert by_name[name].status is VerdictStatus.UNREACHABLE
        assert name in by_name[name].errors[0].message
        assert "admin" not in by_name[name].errors[0].message
    # Everything within the connect timeout (2 s) with margin, not the sum of the failures.
    assert elapsed < 2.0 * 2 + 2


async def test_unknown_host_key_is_refused_unless_checking_is_turned_off(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, iosxe("wlc-2")) as site:
        site.known_hosts.write_text("")
        (refused,) = await FleetService(site.inventory, site.settings, site.environ).read_sites(["site-t"])
        relaxed = site.settings.model_copy(update={"ssh_strict_host_keys": False})
        (accepted,) = await FleetService(site.inventory, relaxed, site.environ).read_sites(["site-t"])
    (verdict,) = refused.verdict.controllers
    assert [e.kind for e in verdict.errors] == [ErrorKind.HOST_KEY]
    assert "CCERT_SSH_KNOWN_HOSTS" in verdict.errors[0].message
    assert accepted.all_read


async def test_dropped_session_keeps_what_was_read(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, iosxe("wlc-2", faults={"drop_after_commands": 4})) as site:
        (report,) = await FleetService(site.inventory, site.settings, site.environ).read_sites(["site-t"])
    (snapshot,) = report.snapshots
    assert snapshot.software_version == "17.3.4"
    assert snapshot.aps == []
    assert snapshot.errors and snapshot.errors[-1].kind in {ErrorKind.DISCONNECTED, ErrorKind.TIMEOUT}
    assert report.verdict.controllers[0].status in {VerdictStatus.ERROR, VerdictStatus.UNREACHABLE}


async def test_a_missing_known_hosts_file_is_named(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, iosxe("wlc-2")) as site:
        settings = site.settings.model_copy(update={"ssh_known_hosts": tmp_path / "nope" / "known_hosts"})
        (report,) = await FleetService(site.inventory, settings, site.environ).read_sites(["site-t"])
        assert site.sim.connections_accepted["wlc-2"] == 0
    (error,) = report.snapshots[0].errors
    assert error.kind is ErrorKind.HOST_KEY and "does not exist" in error.message
