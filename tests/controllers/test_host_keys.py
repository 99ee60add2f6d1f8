"""Host key fetching and the known_hosts merge.

The merge is tested as the pure function it is; the fetch against the real
simulator (and a non-SSH TCP server) on loopback. Where OpenSSH's own tools
are installed they are the independent judge of fingerprints and line format.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest

from bot.controllers.host_keys import (
    HostKey,
    HostKeyFetchError,
    KnownHostsFileError,
    Target,
    classify_fetch_failure,
    fetch_host_key,
    known_hosts_line,
    merge_known_hosts,
    pinned_algorithms,
    stored_keys,
)
from bot.simulator import Scenario, SimulatorServer
from tests.support.simulated_site import iosxe


def new_key(algorithm: str = "ssh-ed25519") -> HostKey:
    return HostKey.from_ssh_key(asyncssh.generate_private_key(algorithm))


KEY_A = new_key()
KEY_B = new_key()


def target(
    host: str = "127.0.0.1",
    port: int = 2201,
    key: HostKey = KEY_A,
    name: str = "wlc-a1",
    addresses: tuple[str, ...] = (),
) -> Target:
    return Target(name, host, port, key, addresses)


def openssh_hashed(name: str, salt: bytes = b"0123456789abcdefghij") -> str:
    """`|1|salt|hash` as OpenSSH's HashKnownHosts writes it (HMAC-SHA1 of the name, keyed by the salt)."""
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


# ---------------------------------------------------------------- line format and fingerprints


def test_line_uses_bracket_form_except_on_port_22() -> None:
    assert known_hosts_line("10.0.0.5", 22, KEY_A) == f"10.0.0.5 ssh-ed25519 {KEY_A.data}"
    assert known_hosts_line("10.0.0.5", 2201, KEY_A) == f"[10.0.0.5]:2201 ssh-ed25519 {KEY_A.data}"
    assert known_hosts_line("2001:db8::5", 2201, KEY_A).startswith("[2001:db8::5]:2201 ")


def test_the_bot_ssh_client_trusts_the_lines_it_is_given() -> None:
    """asyncssh, which the bot's sessions use, must find the key under exactly the line we write."""
    for host, port in (("10.0.0.5", 22), ("10.0.0.5", 2201), ("wlc.example.net", 830)):
        known = asyncssh.import_known_hosts(known_hosts_line(host, port, KEY_A) + "\n")
        trusted = known.match(host, "", None if port == 22 else port)[0]
        assert [k.public_data for k in trusted] == [KEY_A.blob]


@pytest.mark.parametrize("algorithm", ["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"])
def test_fingerprint_is_what_openssh_prints(tmp_path: Path, algorithm: str) -> None:
    private = asyncssh.generate_private_key(algorithm)
    key = HostKey.from_ssh_key(private)
    assert key.algorithm == algorithm
    assert key.fingerprint == private.get_fingerprint("sha256")
    if shutil.which("ssh-keygen"):
        pub = tmp_path / "key.pub"
        pub.write_text(key.openssh + "\n")
        printed = subprocess.run(
            ["ssh-keygen", "-E", "sha256", "-lf", str(pub)], capture_output=True, text=True, check=True, timeout=30
        ).stdout
        assert printed.split()[1] == key.fingerprint


# ---------------------------------------------------------------- merge


def test_a_fresh_file_gets_one_line_per_controller() -> None:
    result = merge_known_hosts("", [target(), target("10.0.0.7", 22, KEY_B, "wlc-b1")])
    assert result.text == f"[127.0.0.1]:2201 ssh-ed25519 {KEY_A.data}\n10.0.0.7 ssh-ed25519 {KEY_B.data}\n"
    assert [t.name for t in result.added] == ["wlc-a1", "wlc-b1"]
    assert result.known == () and result.conflicts == ()


def test_merging_twice_changes_nothing() -> None:
    targets = [target(), target(port=2202, key=KEY_B, name="wlc-a2")]
    first = merge_known_hosts("", targets)
    second = merge_known_hosts(first.text, targets)
    assert second.text == first.text
    assert second.added == () and [t.name for t in second.known] == ["wlc-a1", "wlc-a2"]


def test_other_lines_are_kept_byte_for_byte_and_new_ones_appended() -> None:
    existing = f"# edited by hand\r\n10.9.9.9 ssh-ed25519 {KEY_B.data}\r\n\n  # indented note, ünïcode\n# no newline"
    result = merge_known_hosts(existing, [target()])
    assert result.text == existing + "\n" + target().line + "\n"


def test_a_different_stored_key_is_a_conflict_and_is_not_written() -> None:
    existing = f"# site A\n[127.0.0.1]:2201 ssh-ed25519 {KEY_B.data}\n"
    result = merge_known_hosts(existing, [target(key=KEY_A), target(port=2202, name="wlc-a2")])
    assert result.text == existing + target(port=2202).line + "\n"  # the other controller is still added
    (conflict,) = result.conflicts
    assert conflict.target.name == "wlc-a1" and not conflict.revoked
    assert [(s.line_number, s.key) for s in conflict.stored] == [(2, KEY_B)]
    assert [t.name for t in result.added] == ["wlc-a2"]


def test_a_hashed_entry_counts_as_known_and_as_a_conflict() -> None:
    hashed = openssh_hashed("[127.0.0.1]:2201")
    same = merge_known_hosts(f"{hashed} ssh-ed25519 {KEY_A.data}\n", [target(key=KEY_A)])
    assert same.added == () and len(same.known) == 1
    other = merge_known_hosts(f"{hashed} ssh-ed25519 {KEY_B.data}\n", [target(key=KEY_A)])
    assert other.added == () and other.conflicts[0].stored[0].line_number == 1


def test_a_comma_list_entry_for_the_host_counts_as_known() -> None:
    existing = f"wlc-a1.example.net,[127.0.0.1]:2201 ssh-ed25519 {KEY_A.data}\n"
    result = merge_known_hosts(existing, [target()])
    assert result.text == existing and len(result.known) == 1


def test_a_plain_host_entry_applies_to_other_ports_as_in_asyncssh() -> None:
    """asyncssh falls back to `host` when no `[host]:port` entry exists: a different key there is a conflict."""
    assert merge_known_hosts(f"127.0.0.1 ssh-ed25519 {KEY_A.data}\n", [target(key=KEY_A)]).added == ()
    result = merge_known_hosts(f"127.0.0.1 ssh-ed25519 {KEY_B.data}\n", [target(key=KEY_A)])
    assert len(result.conflicts) == 1 and result.added == ()


def test_an_entry_for_the_resolved_address_is_checked_too() -> None:
    existing = f"10.1.1.5 ssh-ed25519 {KEY_B.data}\n"
    named = target("wlc-a1.example.net", 22, KEY_A, addresses=("10.1.1.5",))
    result = merge_known_hosts(existing, [named])
    assert result.text == existing and result.conflicts[0].stored[0].line_number == 1


def test_a_revoked_key_is_refused() -> None:
    existing = f"@revoked [127.0.0.1]:2201 ssh-ed25519 {KEY_A.data}\n"
    result = merge_known_hosts(existing, [target(key=KEY_A)])
    assert result.text == existing
    assert result.conflicts[0].revoked and result.conflicts[0].stored[0].revoked


def test_the_same_endpoint_twice_is_written_once() -> None:
    result = merge_known_hosts("", [target(), target(name="again")])
    assert result.text == target().line + "\n"
    assert [t.name for t in result.known] == ["again"]


def test_lines_asyncssh_rejects_are_reported_with_their_number() -> None:
    with pytest.raises(KnownHostsFileError) as caught:
        merge_known_hosts(f"# ok\n[127.0.0.1]:2201 ssh-ed25519 {KEY_A.data}\njust-one-field\n", [target()])
    assert [p.line_number for p in caught.value.problems] == [3]


def test_pinned_algorithms_follow_the_stored_key_type() -> None:
    rsa = new_key("ssh-rsa")
    text = f"[127.0.0.1]:2201 ssh-rsa {rsa.data}\n10.0.0.7 ssh-ed25519 {KEY_A.data}\n"
    pinned = pinned_algorithms(text, [("127.0.0.1", 2201), ("10.0.0.7", 22), ("127.0.0.1", 2202)])
    assert "rsa-sha2-256" in pinned[("127.0.0.1", 2201)] and "ssh-ed25519" not in pinned[("127.0.0.1", 2201)]
    assert pinned[("10.0.0.7", 22)] == ["ssh-ed25519"]
    assert ("127.0.0.1", 2202) not in pinned
    assert [s.line_number for s in stored_keys(text, "127.0.0.1", 2201)] == [1]


# ---------------------------------------------------------------- fetching, on loopback


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    scenario = Scenario.from_dict({"controllers": [iosxe("wlc-1")]})
    async with SimulatorServer(scenario) as server:
        yield server


async def test_fetch_returns_the_simulator_key(sim: SimulatorServer) -> None:
    host, port = sim.address("wlc-1")
    fetched = await fetch_host_key(host, port, timeout=5)
    assert fetched.key.openssh == " ".join(sim.host_public_key.split()[:2])
    assert fetched.addresses == ("127.0.0.1",)
    if shutil.which("ssh-keyscan"):  # OpenSSH's own scan writes the very same line
        scan = await asyncio.create_subprocess_exec(
            "ssh-keyscan",
            "-t",
            "ed25519",
            "-p",
            str(port),
            host,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await asyncio.wait_for(scan.communicate(), timeout=30)
        assert known_hosts_line(host, port, fetched.key) in out.decode().splitlines()


async def test_fetch_reads_no_client_keys_or_agent(sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a key scan must not load the user's SSH keys")

    monkeypatch.setattr(asyncssh.connection, "load_default_keypairs", forbidden)
    monkeypatch.setenv("SSH_AUTH_SOCK", "/nonexistent/agent.sock")
    host, port = sim.address("wlc-1")
    fetched = await fetch_host_key(host, port, timeout=5)
    assert fetched.key.algorithm == "ssh-ed25519"


async def test_asking_for_a_key_type_the_server_lacks_fails_as_kex(sim: SimulatorServer) -> None:
    host, port = sim.address("wlc-1")
    with pytest.raises(HostKeyFetchError) as caught:
        await fetch_host_key(host, port, timeout=5, algorithms=["rsa-sha2-256", "ssh-rsa"])
    assert caught.value.kind == "kex"


async def test_a_server_that_does_not_speak_ssh_is_named_as_such() -> None:
    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(http, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(HostKeyFetchError) as caught:
            await fetch_host_key("127.0.0.1", port, timeout=5)
    finally:
        server.close()
        await server.wait_closed()
    assert caught.value.kind == "closed" and "not an SSH server" in caught.value.reason


async def test_a_closed_port_is_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(HostKeyFetchError) as caught:  # nothing listens there any more
        await fetch_host_key("127.0.0.1", port, timeout=5)
    assert caught.value.kind == "refused" and caught.value.reason.startswith("connection refused")


def test_failures_read_as_one_line_an_engineer_knows() -> None:
    assert classify_fetch_failure(socket.gaierror(-2, "Name or service not known"), 30).reason.startswith(
        "name not resolved"
    )
    assert classify_fetch_failure(TimeoutError(), 2.5).reason.startswith("timed out after 2.5s")
    assert classify_fetch_failure(OSError(113, "No route to host"), 30).reason == "no route to host"
    odd = classify_fetch_failure(RuntimeError("secret=hunter2"), 30)
    assert odd.kind == "unexpected" and "hunter2" not in odd.reason
    for exc in (socket.gaierror(-2, "x"), TimeoutError(), ConnectionRefusedError(), asyncssh.ConnectionLost("x")):
        assert "\n" not in classify_fetch_failure(exc, 30).reason
