"""A running simulator plus the inventory and settings that point the bot at it.

Shared by every test that needs real SSH to simulated controllers: the bot
sees nothing but an inventory, settings and environment variables, exactly
as in production.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.controllers.platforms import registry
from bot.controllers.session_api import SessionOptions
from bot.demo import DEMO_PASSWORD_ENV, DEMO_USERNAME_ENV, inventory_for
from bot.inventory import Inventory
from bot.settings import Settings, load_settings
from bot.simulator import Scenario, SimulatorServer

ENVIRON = {DEMO_USERNAME_ENV: "admin", DEMO_PASSWORD_ENV: "admin"}


@dataclass
class SimulatedSite:
    sim: SimulatorServer
    inventory: Inventory
    settings: Settings
    environ: dict[str, str]
    known_hosts: Path


def aireos(name: str, **overrides: Any) -> dict[str, Any]:
    """An AireOS 8.10 controller with NTP, two stuck IOS APs and one AP-COS AP."""
    entry: dict[str, Any] = {
        "name": name,
        "site": "site-t",
        "platform": "aireos",
        "version": "8.10.162.0",
        "port": 0,
        "username": "admin",
        "password": "admin",
        "ntp": [{"index": 1, "address": "192.0.2.123", "key": 1}, {"index": 2, "address": "198.51.100.123"}],
        "ntp_keys": {1: "md5 ascii s3cret"},
        "certificate": {"not_before": "2019-03-07T09:12:44Z", "not_after": "2029-03-07T09:22:44Z"},
        "download_seconds": 60,
        "ntp_sync_seconds": 120,
        "aps": [
            {"name": "CAP3702I.4CD4", "model": "AIR-CAP3702I-E-K9", "image": "8.5.182.0"},
            {"name": "AP2702-1", "model": "AIR-CAP2702I-E-K9", "image": "8.5.182.0"},
            {"name": "AP1852-1", "model": "AIR-AP1852I-E-K9"},
        ],
    }
    entry.update(overrides)
    return entry


def iosxe(name: str, **overrides: Any) -> dict[str, Any]:
    """A 9800 on 17.3.4 with NTP options, two stuck IOS APs and one Wi-Fi 6 AP."""
    entry: dict[str, Any] = {
        "name": name,
        "site": "site-t",
        "platform": "iosxe",
        "version": "17.3.4",
        "port": 0,
        "username": "admin",
        "password": "admin",
        "ntp": ["192.0.2.123 prefer", "198.51.100.123 key 1", "vrf Mgmt-intf 203.0.113.123 source GigabitEthernet0"],
        "certificate": {"not_before": "2020-01-10T00:00:00Z", "not_after": "2030-01-10T00:00:00Z"},
        "download_seconds": 60,
        "ntp_sync_seconds": 120,
        "aps": [
            {"name": "AP3702-1", "model": "AIR-CAP3702I-E-K9", "image": "17.3.3.26"},
            {"name": "AP2702-2", "model": "AIR-CAP2702I-E-K9", "image": "17.3.3.26"},
            {"name": "AP9120-1", "model": "C9120AXI-E"},
        ],
    }
    entry.update(overrides)
    return entry


def session_to(cls: type, site: SimulatedSite, name: str, **overrides: Any) -> Any:
    """A session of `cls` (`ReadSession`, `ControllerSession` or a subclass) to the simulated
    controller `name`, host keys checked against the simulator's; `overrides` are
    `SessionOptions` fields, or `password` to log in with another one."""
    controller = site.inventory.controller(name)
    assert controller is not None
    username, password = controller.credentials.resolve(site.environ)
    options: dict[str, Any] = {"timeout_seconds": 5, "strict_host_keys": True, "known_hosts": site.known_hosts}
    password = overrides.pop("password", password)
    options.update(overrides)
    return cls(
        name=name,
        host=controller.host,
        port=controller.port,
        platform=registry.get(controller.platform).definition,
        username=username,
        password=password,
        options=SessionOptions(**options),
    )


@contextlib.asynccontextmanager
async def simulated_site(
    tmp_path: Path,
    *entries: dict[str, Any],
    time_scale: float = 600.0,
    timeout_seconds: float = 3.0,
    **settings_overrides: Any,
) -> AsyncIterator[SimulatedSite]:
    scenario = Scenario.from_dict({"controllers": [dict(e) for e in entries]})
    async with SimulatorServer(scenario, time_scale=time_scale) as sim:
        known_hosts = sim.write_known_hosts(tmp_path / "known_hosts")
        inventory = inventory_for(scenario.controllers, sim.ports, "127.0.0.1")
        options: dict[str, Any] = {
            "db": tmp_path / "ccert.db",
            "ssh_known_hosts": known_hosts,
            "ssh_strict_host_keys": True,
            "ssh_timeout_seconds": timeout_seconds,
        }
        options.update(settings_overrides)
        yield SimulatedSite(sim, inventory, load_settings(**options), dict(ENVIRON), known_hosts)
