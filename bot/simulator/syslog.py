"""AP syslog over UDP, BSD syslog (RFC 3164) style.

APs send their console messages to the AP syslog host the controller pushes
(`config ap syslog host global`, or the 9800 AP join profile). The simulator
sends what a failing AP would send, so the bot's syslog listener can be tested
against the same bytes: `<PRI>Mmm dd hh:mm:ss HOSTNAME MSG`, facility `kern`
(the AP default, so PRI equals the severity), MSG being the AP console line
with its own `*Dec 6 21:35:24.259:` timestamp.
"""

from __future__ import annotations

import contextlib
import socket
from datetime import datetime

from bot.simulator.dates import rfc3164_time

FACILITY_KERN = 0


def format_rfc3164(
    *, severity: int, when: datetime, hostname: str, message: str, facility: int = FACILITY_KERN
) -> bytes:
    """One datagram: `<3>Dec  6 08:47:20 CAP3702E.4CD4 *Dec 6 08:47:20.227: %PKI-3-...`."""
    pri = facility * 8 + severity
    return f"<{pri}>{rfc3164_time(when)} {hostname} {message}".encode("utf-8", "replace")


class SyslogSender:
    """One non-blocking UDP socket shared by all controllers of a server.

    Sending is best effort, as UDP syslog is: an unreachable target or a full
    socket buffer loses the datagram and never stalls the simulator.
    """

    def __init__(self) -> None:
        self._sockets: dict[int, socket.socket] = {}
        self.sent = 0

    def send(self, host: str, port: int, payload: bytes) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = self._sockets.get(family)
        if sock is None:
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.setblocking(False)
            self._sockets[family] = sock
        try:
            sock.sendto(payload, (host, port))
            self.sent += 1
        except OSError:
            pass

    def close(self) -> None:
        for sock in self._sockets.values():
            with contextlib.suppress(OSError):
                sock.close()
        self._sockets.clear()
