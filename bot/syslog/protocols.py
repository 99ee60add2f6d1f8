"""The asyncio protocols of the syslog receiver: bytes in, frames handed on.

They run inside the loop's I/O callbacks, so they only frame, count and hand each
message to the receiver's intake (which bounds and enqueues it); parsing and matching
happen on the listener's worker task. They see the listener only through `SyslogIntake`,
so this module does not import the server that owns them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from bot.syslog.framing import StreamFramer
from bot.syslog.pipeline import SyslogCounters

# The listener's logger: these lines were always its own, and a log config naming it keeps them.
log = logging.getLogger("bot.syslog.listener")


class SyslogIntake(Protocol):
    """What the protocols need of the listener: the counters, the frame bound, and the
    calls that accept a message and register or forget a TCP connection."""

    counters: SyslogCounters

    @property
    def max_message_bytes(self) -> int: ...

    def accept(self, data: bytes, source: str, transport: str) -> None: ...

    def register(self, conn: TcpProtocol) -> bool: ...

    def unregister(self, conn: TcpProtocol) -> None: ...


class UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, listener: SyslogIntake) -> None:
        self.listener = listener

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.listener.accept(data, str(addr[0]), "udp")

    def error_received(self, exc: Exception) -> None:  # ICMP errors on a receive-only socket: nothing to do
        log.debug("syslog UDP socket error: %s", exc)


class TcpProtocol(asyncio.Protocol):
    def __init__(self, listener: SyslogIntake) -> None:
        self.listener = listener
        self.transport: asyncio.Transport | None = None
        self.framer: StreamFramer | None = None
        self.ip = "?"
        self.last_activity = time.monotonic()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.ip = str(peer[0]) if peer else "?"
        if not self.listener.register(self):
            transport.abort()
            return
        self.framer = StreamFramer(self.listener.max_message_bytes)

    def data_received(self, data: bytes) -> None:
        framer = self.framer
        if framer is None:
            return
        self.last_activity = time.monotonic()
        before = framer.oversized
        frames = framer.feed(data)
        self._count_oversized(framer.oversized - before)
        for frame in frames:
            self.listener.accept(frame, self.ip, "tcp")

    def _count_oversized(self, n: int) -> None:
        if n:
            counters = self.listener.counters
            counters.received += n
            counters.oversized += n

    def _flush(self) -> None:
        framer, self.framer = self.framer, None
        if framer is None:
            return
        before = framer.oversized
        frames = framer.close()
        self._count_oversized(framer.oversized - before)
        for frame in frames:
            self.listener.accept(frame, self.ip, "tcp")

    def eof_received(self) -> bool:
        self._flush()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._flush()
        self.listener.unregister(self)


__all__ = ["SyslogIntake", "TcpProtocol", "UdpProtocol"]
