"""Every number `status` posts is what the controller said: over real SSH to the simulator.

Each case is one of the ways real controllers were seen to mislead the first
version: a truncated AP table, a terminal that wraps at 80 columns, an
experimental build label, a refused login, peers on different software, a
predownload.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.chat.handlers import advise_reply, status_reply
from bot.console.render import render_text
from bot.console.status_command import status_document
from bot.domain.models import ErrorKind
from bot.domain.verdict import VerdictStatus
from bot.fleet.service import FleetService, SiteReport
from bot.simulator.model import Controller as SimController
from tests.console.test_status_command import run_status
from tests.support.simulated_site import SimulatedSite, aireos, iosxe, simulated_site

COS_APS = [{"name": f"AP1852-{i:02d}", "model": "AIR-AP1852I-E-K9"} for i in range(12)]


def controller(site: SimulatedSite, name: str) -> SimController:
    return site.sim.controllers[name]


async def read(site: SimulatedSite) -> list[SiteReport]:
    return await FleetService(site.inventory, site.settings, site.environ).read_sites(["site-t"])


# ------------------------------------------------------------------ truncated AP table


async def test_a_truncated_ap_table_is_an_incomplete_read_and_status_exits_non_zero(tmp_path: Path) -> None:
    fixed = {"version": "8.10.183.0", "aps": COS_APS, "ap_summary_truncate": 5}
    async with simulated_site(tmp_path, aireos("wlc-1", **fixed)) as site:
        code, out, err = await run_status(site, tmp_path, "site-t", "--json")
        reports = await read(site)
    assert code == 1, err
    document = json.loads(out)
    assert document["all_read"] is False
    controller = document["sites"][0]["controllers"][0]
    assert controller["status"] == "error" and controller["failure"] == "incomplete"
    assert controller["complete"] is False
    assert controller["incomplete"] == ["read 5 of 12 APs"]
    # AireOS names every AP again in its image table, so the bot knows all 12 names, but the
    # summary (models, IPs) stopped after 5: the read is still incomplete and says so.
    assert controller["declared_ap_count"] == 12
    text = render_text(status_reply(reports))
    assert "wlc-1 (AireOS) — incomplete" in text
    assert "read 5 of 12 APs" in text and "incomplete read" in text
    assert "— ok" not in text


async def test_a_truncated_9800_table_is_incomplete_too(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, iosxe("wlc-2", version="17.9.4", ap_summary_truncate=1)) as site:
        [report] = await read(site)
    [v] = report.verdict.controllers
    assert v.incomplete == ["read 1 of 3 APs"]
    assert v.status is not VerdictStatus.OK
    assert not report.all_read


# ------------------------------------------------------------------ narrow terminals


async def test_an_80_column_aireos_terminal_gives_exactly_its_aps_with_their_ips(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, aireos("wlc-1", terminal_width=80)) as site:
        [report] = await read(site)
        expected = {ap.name: ap for ap in controller(site, "wlc-1").aps.values()}
    [snapshot] = report.snapshots
    assert snapshot.errors == []
    assert sorted(ap.name for ap in snapshot.aps) == sorted(expected)
    for ap in snapshot.aps:
        assert ap.ip == expected[ap.name].ip
        assert ap.model == expected[ap.name].model
    assert report.verdict.controllers[0].total_aps == len(expected)
    # `show time` is wrapped too: the NTP servers a time-back would restore are read whole
    ntp = [(s.index, s.key_index, s.address, s.status) for s in snapshot.ntp_servers]
    assert [n[:3] for n in ntp] == [(1, 1, "192.0.2.123"), (2, 0, "198.51.100.123")]
    assert all(status in {"In Sync", "Not Tried", "Not Synched"} for *_, status in ntp)


async def test_a_9800_on_a_narrow_terminal_is_asked_not_to_wrap(tmp_path: Path) -> None:
    """The session sends `terminal width 0`; the controller then prints whole lines."""
    async with simulated_site(tmp_path, iosxe("wlc-2", version="17.9.4", terminal_width=80)) as site:
        [report] = await read(site)
        expected = {ap.name: ap for ap in controller(site, "wlc-2").aps.values()}
    [snapshot] = report.snapshots
    assert snapshot.errors == []
    assert {ap.name: (ap.ip, ap.state) for ap in snapshot.aps} == {
        name: (ap.ip, ap.state) for name, ap in expected.items()
    }


# ------------------------------------------------------------------ versions


async def test_an_experimental_build_is_read_as_its_real_release(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, iosxe("wlc-2", version="16.12.4", version_form="experimental")) as site:
        [report] = await read(site)
    [snapshot] = report.snapshots
    assert snapshot.software_version == "16.12"
    assert snapshot.software_raw is not None and snapshot.software_raw.startswith("BLD_")
    [v] = report.verdict.controllers
    assert v.recommendation is not None and "17" in v.recommendation.text
    assert "16.12" in render_text(status_reply([report]))


async def test_a_build_label_with_the_release_on_the_ios_line_is_read_as_that_release(tmp_path: Path) -> None:
    label = "2024-06-05_03.14_mcpre"
    async with simulated_site(tmp_path, iosxe("wlc-2", version_string=label)) as site:
        [report] = await read(site)
    [v] = report.verdict.controllers
    assert (v.software_version, v.software_raw) == ("17.3.4", label)


async def test_a_version_nobody_can_place_is_unknown_software_with_the_raw_string(tmp_path: Path) -> None:
    label = "8.10.MR3-ENG"
    async with simulated_site(tmp_path, aireos("wlc-1", version_string=label)) as site:
        [report] = await read(site)
    [v] = report.verdict.controllers
    assert v.software_version is None and v.software_raw == label
    assert v.fix is not None and v.fix.state.value == "unknown"
    text = render_text(status_reply([report]))
    assert f"unknown software (the controller printed '{label}')" in text
    assert "8.10 " not in text and "8.10.183.0" not in text  # no train, no "fixed in" guess


# ------------------------------------------------------------------ failures


async def test_a_bad_password_is_auth_failed_on_both_platforms_and_nothing_is_invented(tmp_path: Path) -> None:
    entries = (aireos("wlc-1", password="not-this"), iosxe("wlc-2", password="not-this"))
    async with simulated_site(tmp_path, *entries) as site:
        code, out, err = await run_status(site, tmp_path, "site-t")
        [report] = await read(site)
    assert code == 1, err
    assert [v.failure for v in report.verdict.controllers] == [ErrorKind.AUTH_FAILED, ErrorKind.AUTH_FAILED]
    assert "wlc-1 (AireOS) — auth failed" in out and "wlc-2 (Catalyst 9800) — auth failed" in out
    assert "unreachable" not in out.split("\n", 1)[1]  # only the site summary may say "could not be read"
    assert "no NTP server configured" not in out and "0 APs (" not in out
    document = status_document([report])
    for controller in document["sites"][0]["controllers"]:
        assert controller["failure"] == "auth_failed"
        assert controller["total_aps"] is None
        assert controller["snapshot"]["ntp_read"] is False


# ------------------------------------------------------------------ failover and predownload


async def test_peers_on_different_software_warn_of_a_failover_download(tmp_path: Path) -> None:
    joined = [{"name": f"AP3702-{i}", "model": "AIR-CAP3702I-E-K9", "image": "8.10.151.0"} for i in (1, 2)]
    a1 = aireos("wlc-1", version="8.10.151.0", aps=joined)
    a2 = aireos("wlc-2", version="8.10.162.0", aps=COS_APS[:2])
    async with simulated_site(tmp_path, a1, a2) as site:
        reports = await read(site)
    text = render_text(status_reply(reports))
    ios = 2  # the two IOS APs joined to wlc-1 on its own image
    risk = f"if wlc-1 fails, {ios} IOS APs will download from wlc-2 (8.10.151.0 ≠ 8.10.162.0) and get stuck"
    assert risk in text
    assert risk in render_text(advise_reply(reports))
    assert "if wlc-2 fails" not in text  # wlc-2 has no IOS AP


async def test_affected_aps_predownloading_are_reported(tmp_path: Path) -> None:
    entry: dict[str, Any] = iosxe("wlc-2", predownload={"status": "Predownloading", "version": "17.3.7.10"})
    for ap in entry["aps"]:
        ap["image"] = "17.3.4.0"  # already on the controller's image: no download, only the predownload
    async with simulated_site(tmp_path, entry) as site:
        [report] = await read(site)
    [v] = report.verdict.controllers
    assert sorted(f.ap.name for f in v.predownloading_aps) == ["AP2702-2", "AP3702-1"]
    assert "predownloading 17.3.7.10" in render_text(status_reply([report]))
