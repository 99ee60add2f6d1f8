"""`ccert-bot status` as an operator runs it: a real process against the simulator."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import yaml

from tests.support.simulated_site import SimulatedSite, aireos, iosxe, simulated_site


def write_inventory(site: SimulatedSite, path: Path) -> Path:
    document = {
        "sites": {
            name: {
                "channel": s.channel,
                "controllers": [
                    {"name": c.name, "host": c.host, "port": c.port, "platform": c.platform, "credentials": "sim"}
                    for c in s.controllers
                ],
            }
            for name, s in site.inventory.sites.items()
        },
        "credentials": {"sim": {"username_env": "SIM_USER", "password_env": "SIM_PASS"}},
    }
    path.write_text(yaml.safe_dump(document))
    return path


async def run_status(
    site: SimulatedSite, tmp_path: Path, *args: str, env_extra: dict[str, str] | None = None
) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCERT_", "SLACK_"))}
    env.update(
        SIM_USER="admin",
        SIM_PASS="admin",
        CCERT_INVENTORY=str(write_inventory(site, tmp_path / "inventory.yaml")),
        CCERT_SSH_KNOWN_HOSTS=str(site.known_hosts),
        CCERT_SSH_TIMEOUT_SECONDS="2",
    )
    env.update(env_extra or {})
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "status",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_status_text_names_downloading_aps_and_exits_zero(tmp_path: Path) -> None:
    """A one-off read sees every download for the first time: *downloading*, not yet *stuck*."""
    async with simulated_site(tmp_path, aireos("wlc-1"), iosxe("wlc-2")) as site:
        code, out, err = await run_status(site, tmp_path, "site-t")
        code0, out0, _ = await run_status(site, tmp_path, "site-t", env_extra={"CCERT_STUCK_AFTER_MINUTES": "0"})
    assert code == 0, err
    assert "site-t: downloading — 4 affected APs downloading, none stuck yet" in out
    for expected in (
        "wlc-1 (AireOS) — downloading",
        "wlc-2 (Catalyst 9800) — downloading",
        "CAP3702I.4CD4",
        "AP3702-1",
        "first seen now",
        "not yet",
        "8.10.183.0",
        "ntp server 198.51.100.123 key 1",
        "/ccert remediate site-t wlc-1",
    ):
        assert expected in out
    assert "stuck downloading" not in out
    assert "AP1852-1" not in out.split("Downloading AP")[1]  # AP-COS APs are never listed
    # with no threshold, the same read is stuck
    assert code0 == 0
    assert "site-t: stuck — 4 APs stuck downloading" in out0 and "wlc-1 (AireOS) — stuck" in out0


async def test_status_json_follows_the_documented_schema(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, aireos("wlc-1"), iosxe("wlc-2")) as site:
        code, out, _ = await run_status(site, tmp_path, "all", "--json")
    assert code == 0
    document = json.loads(out)
    assert document["schema"] == "ccert-bot/status/v2"
    assert document["all_read"] is True
    (site_doc,) = document["sites"]
    assert site_doc["site"] == "site-t" and site_doc["status"] == "downloading"
    assert (site_doc["downloading_count"], site_doc["stuck_count"]) == (4, 0)
    controllers = {c["controller"]: c for c in site_doc["controllers"]}
    assert controllers["wlc-1"]["fix"]["state"] == "not_fixed"
    assert controllers["wlc-1"]["complete"] is True and controllers["wlc-1"]["failure"] is None
    downloading = controllers["wlc-2"]["downloading_aps"]
    assert {a["ap"]["name"] for a in downloading} == {"AP3702-1", "AP2702-2"}
    assert all(a["stuck"] is False and a["downloading_minutes"] == 0 and a["since"] for a in downloading)
    assert controllers["wlc-2"]["stuck_aps"] == []
    snapshot = controllers["wlc-1"]["snapshot"]
    assert snapshot["software_version"] == "8.10.162.0"
    assert [s["address"] for s in snapshot["ntp_servers"]] == ["192.0.2.123", "198.51.100.123"]
    assert "admin" not in out


async def test_status_exits_non_zero_when_a_controller_was_not_read(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, aireos("wlc-1"), iosxe("down", faults={"refuse_connections": True})) as site:
        code, out, _ = await run_status(site, tmp_path, "site-t")
    assert code == 1
    assert "down (Catalyst 9800) — unreachable" in out and "connection refused" in out
    assert "wlc-1 (AireOS) — downloading" in out


async def test_unknown_site_is_a_clear_error(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, iosxe("wlc-2")) as site:
        code, out, err = await run_status(site, tmp_path, "site-x")
    assert code == 2 and out == ""
    assert "no site 'site-x'" in err and "site-t" in err
