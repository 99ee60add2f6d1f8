"""What a failing IOS AP sends to the bot's syslog receiver, sent over real UDP on loopback.

The lines are the simulator's (`bot.simulator.bug.failure_lines`: the tech note's SHA-2
sequence with the image's real certificate serial), framed as the APs frame them (RFC 3164,
facility kern, the AP's name as hostname). A test chooses who says it and when, instead of
waiting for the simulator's own download cycle.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.simulator.bug import ImageSigningRules, failure_lines
from bot.simulator.syslog import format_rfc3164


def failure_datagrams(rules: ImageSigningRules, hostname: str, when: datetime | None = None) -> list[bytes]:
    """The six lines of one rejected image download by `hostname`."""
    when = when or datetime.now(UTC)
    return [
        format_rfc3164(severity=severity, when=when, hostname=hostname, message=text)
        for severity, text in failure_lines(rules, when)
    ]


def send_udp(port: int, datagrams: Iterable[bytes], host: str = "127.0.0.1") -> int:
    """Send each datagram to `host:port` from one socket; how many were sent."""
    sent = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for datagram in datagrams:
            sender.sendto(datagram, (host, port))
            sent += 1
    return sent


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
