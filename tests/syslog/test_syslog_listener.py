"""The listener over real loopback sockets: the tech note's lines over UDP and TCP,
attributed to the AP that sent them; junk, floods and hooks handled without harm."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.models import AccessPoint, ControllerSnapshot, Platform
from bot.syslog import (
    ListenerOptions,
    ListenSpec,
    ListenSpecError,
    SyslogEvent,
    SyslogListener,
    SyslogListenError,
    parse_listen_spec,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "syslog"
SHA1 = (FIXTURES / "ap_console_sha1_expired.log").read_text().splitlines()
SHA2 = (FIXTURES / "ap_console_sha2_expired.log").read_text().splitlines()
NOT_YET_VALID = (
    "*Dec 2 00:00:01.001: %PKI-3-CERTIFICATE_INVALID_NOT_YET_VALID: Certificate chain validation has failed. "
    "The certificate (SN: 4E78A210000000000007) is not yet valid. Validity period starts on 21:43:46 UTC Dec 4 2012"
)
SUCCESS = "*Dec 2 00:00:01.001: Image signing certificate validation succeeded."

SHA1_AP, SHA2_AP = "CAP3702E.4CD4", "AP3702-SHA2"
SPECS = [ListenSpec("udp", "127.0.0.1", 0), ListenSpec("tcp", "127.0.0.1", 0)]


def inventory() -> list[ControllerSnapshot]:
    return [
        ControllerSnapshot(
            name="wlc-t",
            platform=Platform.AIREOS,
            host="127.0.0.1",
            taken_at=datetime.now(UTC),
            aps=[
                AccessPoint(SHA1_AP, model="AIR-CAP3702E-E-K9", ip="127.0.0.2", state="Downloading"),
                AccessPoint(SHA2_AP, model="AIR-CAP3702I-E-K9", ip="127.0.0.3", state="Downloading"),
                AccessPoint("AP1852-1", model="AIR-AP1852I-E-K9", ip="127.0.0.4", state="Registered"),
            ],
        )
    ]


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


def send_udp(port: int, lines: list[str] | list[bytes], source: str = "127.0.0.2", pri: str = "<3>") -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        for line in lines:
            data = line if isinstance(line, bytes) else f"{pri}{line}".encode()
            sock.sendto(data, ("127.0.0.1", port))


async def send_tcp(port: int, payload: bytes, source: str = "127.0.0.2") -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(payload)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


def counted(line: str) -> bytes:
    data = f"<3>{line}".encode()
    return str(len(data)).encode() + b" " + data


# ------------------------------------------------------------------ settings


def test_parse_listen_spec() -> None:
    assert parse_listen_spec("udp://0.0.0.0:5514") == [ListenSpec("udp", "0.0.0.0", 5514)]
    assert parse_listen_spec(" udp://0.0.0.0:5514 , TCP://127.0.0.1:5514/ ") == [
        ListenSpec("udp", "0.0.0.0", 5514),
        ListenSpec("tcp", "127.0.0.1", 5514),
    ]
    assert parse_listen_spec("tcp://[::1]:0") == [ListenSpec("tcp", "::1", 0)]
    assert parse_listen_spec("udp://:514") == [ListenSpec("udp", "0.0.0.0", 514)]
    assert parse_listen_spec("udp://localhost:5514")[0].host == "localhost"
    assert str(ListenSpec("tcp", "::1", 5514)) == "tcp://[::1]:5514"
    for off in ("", "  ", "off", "None", None):
        assert parse_listen_spec(off) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.0.0.0:5514", "say which transport"),
        ("tls://0.0.0.0:6514", "unknown transport 'tls'"),
        ("udp://0.0.0.0", "give a port"),
        ("udp://0.0.0.0:http", "must be a number"),
        ("udp://0.0.0.0:70000", "out of range"),
        ("udp://::1:5514", "in brackets"),
        ("udp://[nope]:5514", "not an IPv6 address"),
        ("udp://bad_host!:5514", "not an IP address or host name"),
        ("udp://0.0.0.0:5514/path", "only HOST:PORT"),
        ("udp://0.0.0.0:5514,udp://0.0.0.0:5514", "listed twice"),
    ],
)
def test_parse_listen_spec_errors_say_how_to_fix(text: str, message: str) -> None:
    with pytest.raises(ListenSpecError, match=message):
        parse_listen_spec(text)


# ----------------------------------------------------------------- recognise


async def test_tech_note_lines_over_udp_are_recognised_and_correlated() -> None:
    async with SyslogListener(SPECS) as listener:
        listener.update_inventory(inventory())
        port = listener.port("udp")
        assert port != 0
        send_udp(port, SHA1, source="127.0.0.2")
        send_udp(port, SHA2, source="127.0.0.3")
        assert await until(lambda: listener.counters.parsed == len(SHA1) + len(SHA2))
        assert await listener.wait_idle()
        confirmed = listener.confirmed("wlc-t")
        counters = listener.counters.snapshot()
    assert set(confirmed) == {SHA1_AP, SHA2_AP}
    assert counters.received == counters.parsed == counters.matched == counters.correlated == 13
    assert counters.unknown_sender == counters.malformed == counters.dropped_queue_full == 0
    states = {s.ap: s for s in listener.correlator.states("wlc-t")}
    assert states[SHA1_AP].track.sha == "SHA-1" and states[SHA2_AP].track.sha == "SHA-2"
    assert states[SHA1_AP].track.image == "ap3g2-k9w8-mx.153-3.JPJ9"
    assert states[SHA2_AP].track.image == "ap3g2-k9w8-mx.153-3.JPJ7c"
    assert states[SHA1_AP].track.failure_lines == 4 and states[SHA1_AP].track.failure_cycles == 1
    assert states[SHA1_AP].sender == "127.0.0.2"


async def test_tech_note_lines_over_tcp_octet_counted_and_newline_framed() -> None:
    async with SyslogListener(SPECS) as listener:
        listener.update_inventory(inventory())
        port = listener.port("tcp")
        await send_tcp(port, b"".join(counted(line) for line in SHA1), source="127.0.0.2")
        await send_tcp(port, "".join(f"<3>{line}\n" for line in SHA2).encode(), source="127.0.0.3")
        assert await until(lambda: listener.counters.parsed == 13)
        assert await listener.wait_idle()
        assert set(listener.confirmed("wlc-t")) == {SHA1_AP, SHA2_AP}
        assert listener.counters.correlated == 13


async def test_hostname_in_the_message_beats_the_source_address() -> None:
    """A relay (or the simulator) sends from one address with each AP's name in the header."""
    async with SyslogListener(SPECS[:1]) as listener:
        listener.update_inventory(inventory())
        lines = [f"<3>Dec  6 21:35:24 {SHA2_AP} {line}".encode() for line in SHA1]
        send_udp(listener.port(), lines, source="127.0.0.9")
        assert await until(lambda: listener.counters.matched == len(SHA1))
        assert await listener.wait_idle()
        assert list(listener.confirmed("wlc-t")) == [SHA2_AP]


async def test_rfc5424_over_udp() -> None:
    async with SyslogListener(SPECS[:1]) as listener:
        listener.update_inventory(inventory())
        lines = [f"<11>1 2022-12-06T21:35:24.327Z {SHA1_AP} - - - - {line}".encode() for line in SHA1]
        send_udp(listener.port(), lines, source="127.0.0.5")
        assert await until(lambda: listener.counters.correlated == len(SHA1))
        assert list(listener.confirmed("wlc-t")) == [SHA1_AP]


async def test_unrelated_lines_are_ignored() -> None:
    noise = [
        "*Dec 6 21:35:24.327: %LINK-3-UPDOWN: Interface GigabitEthernet0, changed state to up",
        "*Dec 6 21:35:24.327: %CAPWAP-5-DTLSREQSEND: DTLS connection request sent peer_ip: 192.0.2.10",
        "*Dec 6 21:35:24.327: %DOT11-6-ASSOC: Interface Dot11Radio0, Station 0011.2233.4455 Associated",
    ]
    async with SyslogListener(SPECS[:1]) as listener:
        listener.update_inventory(inventory())
        send_udp(listener.port(), noise)
        assert await until(lambda: listener.counters.parsed == 3)
        assert await listener.wait_idle()
        assert listener.counters.matched == 0
        assert listener.confirmed("wlc-t") == {}
        assert listener.correlator.tracked_aps == 0


async def test_success_clears_the_confirmation() -> None:
    async with SyslogListener(SPECS[:1]) as listener:
        listener.update_inventory(inventory())
        send_udp(listener.port(), SHA1)
        assert await until(lambda: listener.counters.matched == len(SHA1))
        assert await listener.wait_idle()
        assert SHA1_AP in listener.confirmed("wlc-t")
        send_udp(listener.port(), [SUCCESS])
        assert await until(lambda: listener.counters.matched == len(SHA1) + 1)
        assert await listener.wait_idle()
        assert listener.confirmed("wlc-t") == {}


# ------------------------------------------------------------------ junk


async def test_malformed_and_oversized_datagrams_are_counted_and_dropped() -> None:
    options = ListenerOptions(max_message_bytes=512)
    async with SyslogListener(SPECS, options=options) as listener:
        listener.update_inventory(inventory())
        port = listener.port("udp")
        junk = [b"\xff\xfe\x00\x01\x02\x03" * 10, b"<999>bad pri", b"<12", b"   ", b"<3>" + b"A" * 4000]
        send_udp(port, junk)
        assert await until(lambda: listener.counters.received == len(junk))
        assert await listener.wait_idle()
        c = listener.counters
        assert (c.malformed, c.oversized, c.parsed, c.matched) == (4, 1, 0, 0)
        # Still alive and recognising.
        send_udp(port, SHA1[-1:])
        assert await until(lambda: listener.counters.correlated == 1)
        # Oversized over TCP: skipped by length, the next frame still read.
        tcp = listener.port("tcp")
        big = b"<3>" + b"B" * 3000
        await send_tcp(tcp, str(len(big)).encode() + b" " + big + counted(SHA1[-1]), source="127.0.0.2")
        await send_tcp(tcp, b"C" * 5000 + b"\n" + f"<3>{SHA1[-1]}\n".encode(), source="127.0.0.2")
        assert await until(lambda: listener.counters.correlated == 3)
        assert listener.counters.oversized == 3


async def test_truncated_and_non_utf8_lines_still_count_when_recognisable() -> None:
    async with SyslogListener(SPECS[:1]) as listener:
        listener.update_inventory(inventory())
        send_udp(listener.port(), [b"<3>*Dec 6 21:35:24.327: AP image integrity check FAILED \xc3\x28\xff"])
        send_udp(listener.port(), [b"<3>*Dec 6 21:35:24.327: Digital Signature Failed Validation (flash:/upd"])
        assert await until(lambda: listener.counters.parsed == 2)
        assert await listener.wait_idle()
        assert listener.counters.matched == 1 and listener.counters.malformed == 0


async def test_unknown_senders_are_counted_and_kept_bounded() -> None:
    async with SyslogListener(SPECS[:1]) as listener:
        listener.update_inventory(inventory())
        send_udp(listener.port(), SHA1[-1:], source="127.0.0.77")
        assert await until(lambda: listener.counters.unknown_sender == 1)
        status = listener.status()
        assert status.listening == (f"udp://127.0.0.1:{listener.port()}",)
        assert [u.ip for u in status.unknown_senders] == ["127.0.0.77"]
        assert status.known_aps == 3 and status.counters.unknown_sender == 1


# ------------------------------------------------------------- floods, bounds


async def test_a_tcp_burst_beyond_the_queue_is_dropped_and_counted() -> None:
    options = ListenerOptions(queue_size=50, rate_per_sender=None)
    async with SyslogListener(SPECS[1:], options=options) as listener:
        burst = "".join(f"<3>{SHA1[-1]}\n" for _ in range(5000)).encode()
        await send_tcp(listener.port("tcp"), burst)
        assert await until(lambda: listener.counters.received == 5000, timeout=10)
        assert await listener.wait_idle()
        c = listener.counters
        assert c.dropped_queue_full > 0
        assert c.parsed + c.dropped_queue_full == 5000
        assert c.unknown_sender == c.matched == c.parsed  # no inventory given


async def test_queue_is_bounded_in_bytes_too() -> None:
    options = ListenerOptions(queue_size=10_000, max_queue_bytes=2000, max_message_bytes=1000, rate_per_sender=None)
    async with SyslogListener(SPECS[1:], options=options) as listener:
        line = b"<3>" + b"x" * 900 + b"\n"
        await send_tcp(listener.port("tcp"), line * 200)
        assert await until(lambda: listener.counters.received == 200, timeout=10)
        assert await listener.wait_idle()
        assert listener.counters.dropped_queue_full > 0


async def test_one_noisy_sender_is_rate_limited() -> None:
    options = ListenerOptions(rate_per_sender=10, rate_burst=20)
    async with SyslogListener(SPECS[:1], options=options) as listener:
        listener.update_inventory(inventory())
        send_udp(listener.port(), [SHA1[-1]] * 200, source="127.0.0.8")
        assert await until(lambda: listener.counters.received == 200)
        assert listener.counters.dropped_rate_limited >= 150
        # Another sender is not affected.
        send_udp(listener.port(), SHA1, source="127.0.0.2")
        assert await until(lambda: listener.counters.correlated == len(SHA1))


async def test_the_worker_yields_to_the_loop_during_a_flood() -> None:
    options = ListenerOptions(queue_size=20_000, rate_per_sender=None, yield_every=32)
    async with SyslogListener(SPECS[1:], options=options) as listener:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        await send_tcp(listener.port("tcp"), "".join(f"<3>{SHA2[2]}\n" for _ in range(4000)).encode())
        assert await until(lambda: listener.counters.parsed == 4000, timeout=10)
        stop.set()
        await task
        assert ticks >= 4000 // 32 // 2


async def test_tcp_connections_are_capped_and_idle_ones_closed() -> None:
    options = ListenerOptions(max_tcp_connections=2, tcp_idle_timeout=0.2)
    async with SyslogListener(SPECS[1:], options=options) as listener:
        port = listener.port("tcp")
        conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        try:
            assert await until(lambda: listener.counters.connections_rejected == 1)
            assert await until(lambda: listener.status().tcp_connections == 0, timeout=3)
            for reader, _ in conns:
                assert await asyncio.wait_for(reader.read(), 2) == b""  # closed by the listener
        finally:
            for _, writer in conns:
                writer.close()


# ------------------------------------------------------------------- hooks


async def test_hooks_not_yet_valid_debounced_and_failure_once_per_episode() -> None:
    calls: list[tuple[str, str | None, str | None, str]] = []

    async def on_not_yet_valid(controller: str | None, ap: AccessPoint | None, event: SyslogEvent) -> None:
        await asyncio.sleep(0)
        calls.append(("nyv", controller, ap.name if ap else None, event.match.id))

    def on_failure(controller: str | None, ap: AccessPoint | None, event: SyslogEvent) -> None:
        calls.append(("failure", controller, ap.name if ap else None, event.match.id))

    async with SyslogListener(SPECS[:1], on_not_yet_valid=on_not_yet_valid, on_failure=on_failure) as listener:
        listener.update_inventory(inventory())
        port = listener.port()
        send_udp(port, [NOT_YET_VALID, NOT_YET_VALID], source="127.0.0.2")
        send_udp(port, [NOT_YET_VALID], source="127.0.0.66")
        send_udp(port, SHA1 + SHA1, source="127.0.0.3")
        assert await until(lambda: listener.counters.matched == 3 + 12)
        assert await listener.wait_idle()
        assert await until(lambda: len(calls) == 3)
    assert len(calls) == 3
    assert set(calls) == {
        ("failure", "wlc-t", SHA2_AP, "image-cert-expired"),
        ("nyv", None, None, "cert-not-yet-valid"),
        ("nyv", "wlc-t", SHA1_AP, "cert-not-yet-valid"),
    }


async def test_a_failing_hook_is_counted_not_fatal() -> None:
    def boom(controller: str | None, ap: AccessPoint | None, event: SyslogEvent) -> None:
        raise RuntimeError("hook bug")

    async def async_boom(controller: str | None, ap: AccessPoint | None, event: SyslogEvent) -> None:
        raise RuntimeError("async hook bug")

    async with SyslogListener(SPECS[:1], on_failure=boom, on_not_yet_valid=async_boom) as listener:
        listener.update_inventory(inventory())
        send_udp(listener.port(), [NOT_YET_VALID, *SHA1])
        assert await until(lambda: listener.counters.hook_errors == 2)
        assert await until(lambda: listener.counters.correlated == 7)
        assert listener.counters.internal_errors == 0


async def test_slow_async_hooks_are_capped_and_cancelled_on_stop() -> None:
    started = 0

    async def slow(controller: str | None, ap: AccessPoint | None, event: SyslogEvent) -> None:
        nonlocal started
        started += 1
        await asyncio.sleep(60)

    options = ListenerOptions(max_hook_tasks=2)
    listener = SyslogListener(SPECS[:1], options=options, on_not_yet_valid=slow)
    await listener.start()
    try:
        for i in range(5):  # five different senders, so no cooldown applies
            send_udp(listener.port(), [NOT_YET_VALID], source=f"127.0.1.{i + 1}")
        assert await until(lambda: listener.counters.hooks_dropped == 3)
        assert started == 2
    finally:
        began = time.monotonic()
        await listener.stop(hook_grace=0.1)
    assert time.monotonic() - began < 2
    assert not listener.running


# --------------------------------------------------------------- lifecycle


async def test_stop_closes_everything() -> None:
    listener = SyslogListener(SPECS)
    await listener.start()
    udp, tcp = listener.port("udp"), listener.port("tcp")
    _, writer = await asyncio.open_connection("127.0.0.1", tcp)
    await listener.stop()
    await listener.stop()  # idempotent
    writer.close()
    assert not listener.running and listener.bound == []
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", tcp)
    # The UDP port is free again: we can bind it ourselves.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", udp))


async def test_bind_error_is_friendly_and_leaves_nothing_open() -> None:
    async with SyslogListener(SPECS[1:]) as first:
        taken = first.port("tcp")
        second = SyslogListener([ListenSpec("udp", "127.0.0.1", 0), ListenSpec("tcp", "127.0.0.1", taken)])
        with pytest.raises(SyslogListenError, match=rf"cannot listen on tcp://127.0.0.1:{taken}.*another process"):
            await second.start()
        assert not second.running and second.bound == []


async def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no ::1 on this host")
    async with SyslogListener("udp://[::1]:0") as listener:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.sendto(f"<3>{SHA1[-1]}".encode(), ("::1", listener.port()))
        assert await until(lambda: listener.counters.matched == 1)
        assert [u.ip for u in listener.correlator.unknown_senders()] == ["::1"]
