"""`ccert-bot known-hosts` against real simulated controllers on loopback.

The proof that matters is the last step an operator takes: after `--write`,
a strict-host-key status read with that file succeeds, and a changed key is
refused without touching the file.
"""

from __future__ import annotations

import argparse
import asyncio
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncssh
import pytest
import yaml

from bot.console import known_hosts_command
from bot.console.known_hosts_command import add_arguments, run_known_hosts
from bot.console.status_command import run_status
from bot.controllers.host_keys import FetchedKey, HostKey
from bot.inventory import Inventory
from bot.inventory_file import parse_inventory
from bot.settings import Settings, load_settings
from tests.support.simulated_site import SimulatedSite, aireos, iosxe, simulated_site


def sim_key(site: SimulatedSite) -> HostKey:
    algorithm, data = site.sim.host_public_key.split()[:2]
    return HostKey(algorithm, data)


def inventory_of(endpoints: dict[str, tuple[str, int]], site: str = "site-t") -> Inventory:
    """An inventory as an operator writes it, for endpoints that are not all simulator controllers."""
    document = {
        "sites": {
            site: {
                "controllers": [
                    {"name": name, "host": host, "port": port, "platform": "iosxe", "credentials": "sim"}
                    for name, (host, port) in endpoints.items()
                ]
            }
        },
        "credentials": {"sim": {"username_env": "SIM_USER", "password_env": "SIM_PASS"}},
    }
    return parse_inventory(yaml.safe_dump(document))


async def known_hosts(inventory: Inventory, settings: Settings, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    out, err = io.StringIO(), io.StringIO()
    code = await run_known_hosts(parser.parse_args(list(argv)), inventory, settings, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def row(out: str, name: str) -> list[str]:
    (line,) = [line for line in out.splitlines() if line.split()[:1] == [name]]
    return line.split()


async def test_prints_each_controllers_fingerprint_and_writes_nothing(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, aireos("wlc-1"), iosxe("wlc-2")) as site:
        code, out, err = await known_hosts(site.inventory, site.settings)
        ports = site.sim.ports
        expected = asyncssh.import_public_key(site.sim.host_public_key).get_fingerprint("sha256")
    assert code == 0, err
    assert row(out, "wlc-1") == ["wlc-1", f"127.0.0.1:{ports['wlc-1']}", "ssh-ed25519", expected]
    assert row(out, "wlc-2") == ["wlc-2", f"127.0.0.1:{ports['wlc-2']}", "ssh-ed25519", expected]
    assert "nothing written: use --write FILE" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["known_hosts"]  # only the simulator's own file


async def test_written_file_lets_a_strict_status_read_succeed(tmp_path: Path) -> None:
    written = tmp_path / "fresh" / "known_hosts"  # neither the file nor its directory exist yet
    async with simulated_site(tmp_path, aireos("wlc-1"), iosxe("wlc-2")) as site:
        code, out, err = await known_hosts(site.inventory, site.settings, "--write", str(written))
        assert code == 0, err
        strict = {"db": tmp_path / "ccert.db", "ssh_strict_host_keys": True, "ssh_timeout_seconds": 3}
        untrusted = tmp_path / "empty_known_hosts"
        untrusted.write_text("# nothing trusted yet\n")
        refused = await run_status(
            "site-t",
            site.inventory,
            load_settings(**strict, ssh_known_hosts=untrusted),
            out=io.StringIO(),
            environ=site.environ,
        )
        status_out = io.StringIO()
        read = await run_status(
            "site-t",
            site.inventory,
            load_settings(**strict, ssh_known_hosts=written),
            out=status_out,
            environ=site.environ,
        )
        ports = site.sim.ports
    assert refused == 1  # the control: strict checking really is on
    assert read == 0, status_out.getvalue()
    assert "wlc-1 (AireOS) — downloading" in status_out.getvalue()
    key = sim_key(site)
    assert sorted(written.read_text().splitlines()) == sorted(
        f"[127.0.0.1]:{ports[n]} {key.openssh}" for n in ("wlc-1", "wlc-2")
    )
    assert "wrote 2 new entries to" in out
    assert row(out, "wlc-1")[-1] == "new"


async def test_running_twice_changes_nothing(tmp_path: Path) -> None:
    written = tmp_path / "known_hosts.ccert"
    async with simulated_site(tmp_path, aireos("wlc-1"), iosxe("wlc-2")) as site:
        first = await known_hosts(site.inventory, site.settings, "--write", str(written))
        after_first = written.read_bytes()
        code, out, err = await known_hosts(site.inventory, site.settings, "--write", str(written))
    assert first[0] == 0 and code == 0, err
    assert written.read_bytes() == after_first
    assert len(after_first.splitlines()) == 2
    assert row(out, "wlc-1")[-2:] == ["already", "known"] and row(out, "wlc-2")[-2:] == ["already", "known"]
    assert f"nothing written to {written}: 2 key(s) already there" in out and "wrote" not in out


async def test_a_changed_key_is_refused_and_the_file_left_alone(tmp_path: Path) -> None:
    written = tmp_path / "known_hosts.ccert"
    written.write_bytes(b"# controllers, checked on the consoles 2024-05-01\n")
    async with simulated_site(tmp_path, aireos("wlc-1"), iosxe("wlc-2")) as before:
        code, _, err = await known_hosts(before.inventory, before.settings, "--write", str(written))
        ports = before.sim.ports
    assert code == 0, err
    trusted = written.read_bytes()
    # Same addresses and ports, new host key: a replaced controller, or someone in between.
    (tmp_path / "later").mkdir()
    entries = [aireos("wlc-1", port=ports["wlc-1"]), iosxe("wlc-2", port=ports["wlc-2"])]
    async with simulated_site(tmp_path / "later", *entries) as after:
        code, out, err = await known_hosts(after.inventory, after.settings, "--write", str(written))
        new_fingerprint = sim_key(after).fingerprint
    assert code == 1
    assert written.read_bytes() == trusted
    assert row(out, "wlc-1")[-2:] == ["KEY", "DIFFERS"]
    assert f"warning: wlc-1 (127.0.0.1:{ports['wlc-1']}) presents ssh-ed25519 {new_fingerprint}" in err
    # which lines hold the old keys (line 1 is the comment), each once although it matches name and address
    assert err.count("line 2:") == 1 and err.count("line 3:") == 1
    assert "man-in-the-middle" in err
    assert "2 key(s) differ" in out and "wlc-1, wlc-2" in out


async def test_a_changed_key_does_not_stop_new_controllers_being_added(tmp_path: Path) -> None:
    written = tmp_path / "known_hosts.ccert"
    other = HostKey.from_ssh_key(asyncssh.generate_private_key("ssh-ed25519"))
    async with simulated_site(tmp_path, aireos("wlc-1"), iosxe("wlc-2")) as site:
        ports = site.sim.ports
        original = f"# by hand\n[127.0.0.1]:{ports['wlc-1']} {other.openssh}\n"
        written.write_text(original)
        code, out, err = await known_hosts(site.inventory, site.settings, "--write", str(written))
        key = sim_key(site)
    assert code == 1
    assert written.read_text() == original + f"[127.0.0.1]:{ports['wlc-2']} {key.openssh}\n"
    assert f"line 2: [127.0.0.1]:{ports['wlc-1']} ssh-ed25519 {other.fingerprint}" in err
    assert row(out, "wlc-2")[-1] == "new"


async def test_unreachable_controllers_are_named_and_the_others_still_written(tmp_path: Path) -> None:
    written = tmp_path / "known_hosts.ccert"
    async with simulated_site(
        tmp_path, aireos("wlc-1"), iosxe("down", faults={"refuse_connections": True}), iosxe("wlc-3")
    ) as site:
        code, out, err = await known_hosts(site.inventory, site.settings, "--write", str(written))
        ports = site.sim.ports
        key = sim_key(site)
    assert code == 1
    assert " ".join(row(out, "down")).startswith(f"down 127.0.0.1:{ports['down']} failed: connection refused")
    assert written.read_text().splitlines() == [f"[127.0.0.1]:{ports[n]} {key.openssh}" for n in ("wlc-1", "wlc-3")]
    assert "1 controller(s) failed: down" in out
    assert "Traceback" not in out + err


async def test_silent_and_non_ssh_ports_fail_alone_with_their_reason(tmp_path: Path) -> None:
    async def web(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    web_server = await asyncio.start_server(web, "127.0.0.1", 0)
    try:
        async with simulated_site(
            tmp_path, iosxe("wlc-1"), iosxe("hang", faults={"hang_on_connect": True}), timeout_seconds=0.5
        ) as site:
            endpoints = {name: site.sim.address(name) for name in ("wlc-1", "hang")}
            endpoints["web"] = ("127.0.0.1", web_server.sockets[0].getsockname()[1])
            code, out, err = await known_hosts(inventory_of(endpoints), site.settings)
            expected = sim_key(site).fingerprint
    finally:
        web_server.close()
        await web_server.wait_closed()
    assert code == 1, err
    assert row(out, "wlc-1")[-1] == expected
    assert "failed: timed out after 0.5s" in " ".join(row(out, "hang"))
    assert "not an SSH server" in " ".join(row(out, "web"))
    assert "2 controller(s) failed: hang, web" in out


async def test_site_option_limits_the_fetch(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, aireos("wlc-1"), iosxe("wlc-2", site="site-u")) as site:
        code, out, _ = await known_hosts(site.inventory, site.settings, "--site", "site-u")
        unknown = await known_hosts(site.inventory, site.settings, "--site", "site-x")
        accepted = site.sim.connections_accepted
    assert code == 0
    assert [line.split()[0] for line in out.splitlines() if line.startswith("wlc-")] == ["wlc-2"]
    assert accepted["wlc-1"] == 0
    assert unknown[0] == 2 and "no site 'site-x'" in unknown[2] and "site-t" in unknown[2]


async def test_a_file_the_bot_could_not_read_is_reported_before_any_connection(tmp_path: Path) -> None:
    written = tmp_path / "known_hosts.ccert"
    written.write_text("# ok\nbroken-line-without-key\n")
    async with simulated_site(tmp_path, iosxe("wlc-1")) as site:
        code, out, err = await known_hosts(site.inventory, site.settings, "--write", str(written))
        accepted = site.sim.connections_accepted["wlc-1"]
    assert code == 2 and out == ""
    assert f"{written}:2:" in err
    assert accepted == 0
    assert written.read_text() == "# ok\nbroken-line-without-key\n"


async def test_a_pinned_key_type_the_controller_no_longer_offers_is_a_key_change(tmp_path: Path) -> None:
    written = tmp_path / "known_hosts.ccert"
    rsa = HostKey.from_ssh_key(asyncssh.generate_private_key("ssh-rsa"))
    async with simulated_site(tmp_path, iosxe("wlc-1")) as site:  # the simulator only has an Ed25519 key
        original = f"[127.0.0.1]:{site.sim.ports['wlc-1']} {rsa.openssh}\n"
        written.write_text(original)
        code, out, err = await known_hosts(site.inventory, site.settings, "--write", str(written))
    assert code == 1
    assert written.read_text() == original
    assert "failed: SSH key exchange failed" in " ".join(row(out, "wlc-1"))
    assert f"offers no host key of the type {written} holds for it:\n    line 1: ssh-rsa {rsa.fingerprint}" in err


async def test_fetches_run_concurrently_within_max_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    key = HostKey.from_ssh_key(asyncssh.generate_private_key("ssh-ed25519"))
    in_flight = peak = 0

    async def fake_fetch(host: str, port: int, *, timeout: float, algorithms: Sequence[str] = ()) -> FetchedKey:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return FetchedKey(key, (host,))

    monkeypatch.setattr(known_hosts_command, "fetch_host_key", fake_fetch)
    inventory = inventory_of({f"wlc-{i}": ("127.0.0.1", 2200 + i) for i in range(7)})
    options: dict[str, Any] = {"max_concurrency": 3, "ssh_timeout_seconds": 1}
    code, out, _ = await known_hosts(inventory, load_settings(**options))
    assert code == 0
    assert peak == 3
    assert [line.split()[0] for line in out.splitlines()[:7]] == [f"wlc-{i}" for i in range(7)]  # inventory order
