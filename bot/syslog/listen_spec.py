"""`CCERT_SYSLOG_LISTEN`: which addresses the AP syslog receiver listens on.

Its own module because two layers need it: the settings check the value when the bot
starts (so a typo is a start-up error naming the fix, not a bind failure later), and the
listener opens the sockets it names. It knows nothing of sockets or of the listener.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

Transport = Literal["udp", "tcp"]
TRANSPORTS: tuple[Transport, ...] = ("udp", "tcp")
OFF_WORDS = frozenset({"", "off", "none", "no", "false", "0", "disabled"})
_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}))*\.?")


class ListenSpecError(ValueError):
    """`CCERT_SYSLOG_LISTEN` is wrong; the message says how to write it."""


@dataclass(frozen=True)
class ListenSpec:
    """One address to listen on. `port` 0 asks the OS for a free port (tests)."""

    transport: Transport
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport}://{host}:{self.port}"


_EXAMPLE = "udp://0.0.0.0:5514 or tcp://127.0.0.1:5514 (comma-separated for both)"


def parse_listen_spec(text: str | None) -> list[ListenSpec]:
    """`udp://0.0.0.0:5514,tcp://[::1]:5514` → [ListenSpec, ...]; empty or `off` → [].

    Raises ListenSpecError naming the bad part. An empty host (`udp://:5514`)
    means all IPv4 addresses.
    """
    if text is None or text.strip().lower() in OFF_WORDS:
        return []
    specs: list[ListenSpec] = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        spec = _parse_one(part)
        if spec in specs and spec.port != 0:
            raise ListenSpecError(f"'{part}' is listed twice in CCERT_SYSLOG_LISTEN")
        specs.append(spec)
    return specs


def _parse_one(part: str) -> ListenSpec:
    scheme, sep, rest = part.partition("://")
    if not sep:
        raise ListenSpecError(f"'{part}': say which transport, e.g. {_EXAMPLE}")
    transport = scheme.strip().lower()
    if transport not in TRANSPORTS:
        raise ListenSpecError(f"'{part}': unknown transport '{scheme}'; use udp:// or tcp:// (TLS is not supported)")
    rest = rest.rstrip("/")
    if "/" in rest or "?" in rest or "@" in rest:
        raise ListenSpecError(f"'{part}': only HOST:PORT goes after {transport}://, e.g. {_EXAMPLE}")
    if rest.startswith("["):
        host, bracket, port_text = rest[1:].partition("]")
        if not bracket or not port_text.startswith(":"):
            raise ListenSpecError(f"'{part}': write IPv6 as {transport}://[::1]:5514")
        port_text = port_text[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ListenSpecError(f"'{part}': '{host}' is not an IPv6 address") from None
    else:
        host, colon, port_text = rest.rpartition(":")
        if not colon:
            raise ListenSpecError(f"'{part}': give a port, e.g. {transport}://{rest or '0.0.0.0'}:5514")
        if ":" in host:
            raise ListenSpecError(f"'{part}': put an IPv6 address in brackets, e.g. {transport}://[::1]:5514")
        host = host or "0.0.0.0"
        if not _valid_host(host):
            raise ListenSpecError(f"'{part}': '{host}' is not an IP address or host name")
    if not port_text.isdigit() or not port_text.isascii():
        raise ListenSpecError(f"'{part}': the port must be a number, e.g. 5514")
    port = int(port_text)
    if port > 65535:
        raise ListenSpecError(f"'{part}': port {port} is out of range (0-65535)")
    return ListenSpec(transport, host, port)  # type: ignore[arg-type]


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return len(host) <= 253 and _HOSTNAME.fullmatch(host) is not None and not host.replace(".", "").isdigit()


__all__ = ["OFF_WORDS", "TRANSPORTS", "ListenSpec", "ListenSpecError", "Transport", "parse_listen_spec"]
