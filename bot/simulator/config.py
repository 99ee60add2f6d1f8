"""The configuration the simulator tracks: NTP servers and keys.

Kept apart from the live model because it is plain data that is compared
(running vs saved), copied (`save`), written to the state file and parsed
from CLI input and scenarios alike.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

# Keyword options of IOS `ntp server`, in the order the running-config prints
# them (the order of the project's domain example
# `ntp server vrf Mgmt 10.0.0.1 key 1 prefer source Vlan10`).
IOS_NTP_VALUE_OPTIONS = ("version", "key", "minpoll", "maxpoll")
IOS_NTP_FLAG_OPTIONS = ("prefer", "burst", "iburst")
IOS_NTP_OPTIONS = (*IOS_NTP_VALUE_OPTIONS, *IOS_NTP_FLAG_OPTIONS, "source")

_HOSTNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$")


def valid_address(text: str) -> bool:
    """An NTP server address: IPv4, IPv6 or a host name."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return bool(_HOSTNAME_RE.match(text)) and not text.replace(".", "").isdigit()
    return True


class NtpSyntaxError(ValueError):
    """A bad `ntp server` line; `word_index` points at the offending word."""

    def __init__(self, message: str, word_index: int) -> None:
        super().__init__(message)
        self.word_index = word_index


@dataclass
class NtpServer:
    """One configured NTP server.

    AireOS uses `index` (slot 1..3) and `key` (the bound key index, None when
    authentication is off); IOS-XE uses everything else and prints the server
    back with `ios_line()`.
    """

    address: str
    index: int | None = None
    key: int | None = None
    vrf: str | None = None
    version: int | None = None
    minpoll: int | None = None
    maxpoll: int | None = None
    prefer: bool = False
    burst: bool = False
    iburst: bool = False
    source: str | None = None

    def ios_line(self) -> str:
        """The running-config line, options in IOS order."""
        parts = ["ntp server"]
        if self.vrf:
            parts += ["vrf", self.vrf]
        parts.append(self.address)
        for name in IOS_NTP_VALUE_OPTIONS:
            value = getattr(self, name)
            if value is not None:
                parts += [name, str(value)]
        parts += [name for name in IOS_NTP_FLAG_OPTIONS if getattr(self, name)]
        if self.source:
            parts += ["source", self.source]
        return " ".join(parts)

    def same_peer(self, other: NtpServer) -> bool:
        """IOS identifies a server by address and VRF."""
        return self.address.lower() == other.address.lower() and (self.vrf or "") == (other.vrf or "")

    @classmethod
    def from_ios_words(cls, words: list[str]) -> NtpServer:
        """Parse the words after `ntp server` (`[vrf V] ADDR [options...]`).

        Option keywords may be abbreviated to a unique prefix, as on IOS.
        """
        if not words:
            raise NtpSyntaxError("incomplete", 0)
        i = 0
        vrf = None
        if words[0].lower() == "vrf":
            if len(words) < 2:
                raise NtpSyntaxError("incomplete", 1)
            vrf = words[1]
            i = 2
        if i >= len(words):
            raise NtpSyntaxError("incomplete", i)
        if not valid_address(words[i]):
            raise NtpSyntaxError("bad address", i)
        server = cls(address=words[i], vrf=vrf)
        i += 1
        while i < len(words):
            word = words[i].lower()
            matches = [name for name in IOS_NTP_OPTIONS if name.startswith(word)]
            if len(matches) != 1:
                raise NtpSyntaxError("bad option", i)
            name = matches[0]
            if name in IOS_NTP_FLAG_OPTIONS:
                setattr(server, name, True)
                i += 1
                continue
            if i + 1 >= len(words):
                raise NtpSyntaxError("incomplete", i + 1)
            value = words[i + 1]
            if name == "source":
                server.source = value
            else:
                if not value.isdigit():
                    raise NtpSyntaxError("bad number", i + 1)
                setattr(server, name, int(value))
            i += 2
        return server

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"address": self.address}
        for name in ("index", "key", "vrf", "version", "minpoll", "maxpoll", "source"):
            if getattr(self, name) is not None:
                d[name] = getattr(self, name)
        for name in IOS_NTP_FLAG_OPTIONS:
            if getattr(self, name):
                d[name] = True
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any] | str) -> NtpServer:
        """From the state file or a scenario.

        A scenario may also give a 9800 server as its config text:
        `"192.0.2.1 prefer"` or `"ntp server vrf Mgmt 192.0.2.1 key 1"`.
        """
        if isinstance(d, str):
            words = d.split()
            if words[:2] == ["ntp", "server"]:
                words = words[2:]
            return cls.from_ios_words(words)
        known = {"address", "index", "key", "key_index", "vrf", "version", "minpoll", "maxpoll", "source"}
        unknown = set(d) - known - set(IOS_NTP_FLAG_OPTIONS) - {"reachable"}
        if unknown:
            raise ValueError(f"unknown NTP server key(s): {', '.join(sorted(unknown))}")
        key = d.get("key", d.get("key_index"))
        if key in (0, "0"):
            key = None  # AireOS prints key index 0 for "no key"
        return cls(
            address=str(d["address"]),
            index=None if d.get("index") is None else int(d["index"]),
            key=None if key is None else int(key),
            vrf=d.get("vrf"),
            version=None if d.get("version") is None else int(d["version"]),
            minpoll=None if d.get("minpoll") is None else int(d["minpoll"]),
            maxpoll=None if d.get("maxpoll") is None else int(d["maxpoll"]),
            prefer=bool(d.get("prefer", False)),
            burst=bool(d.get("burst", False)),
            iburst=bool(d.get("iburst", False)),
            source=d.get("source"),
        )


@dataclass
class ControllerConfig:
    """The configuration the simulator tracks, running or saved.

    `ntp_keys` maps a key number to the rest of its definition
    (AireOS `md5 ascii secret`; IOS `md5 0822455D0A16 7`).
    """

    ntp_servers: list[NtpServer] = field(default_factory=list)
    ntp_keys: dict[int, str] = field(default_factory=dict)
    ntp_authenticate: bool = False
    ntp_trusted_keys: list[int] = field(default_factory=list)

    def copy(self) -> ControllerConfig:
        return ControllerConfig.from_dict(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return {
            "ntp_servers": [s.to_dict() for s in self.ntp_servers],
            "ntp_keys": {str(k): v for k, v in sorted(self.ntp_keys.items())},
            "ntp_authenticate": self.ntp_authenticate,
            "ntp_trusted_keys": list(self.ntp_trusted_keys),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ControllerConfig:
        return cls(
            ntp_servers=[NtpServer.from_dict(s) for s in d.get("ntp_servers", [])],
            ntp_keys={int(k): str(v) for k, v in (d.get("ntp_keys") or {}).items()},
            ntp_authenticate=bool(d.get("ntp_authenticate", False)),
            ntp_trusted_keys=[int(k) for k in d.get("ntp_trusted_keys", [])],
        )

    def ios_ntp_lines(self) -> list[str]:
        """The `ntp ...` lines of an IOS-XE running-config, in IOS order."""
        lines = [f"ntp authentication-key {k} {v}" for k, v in sorted(self.ntp_keys.items())]
        if self.ntp_authenticate:
            lines.append("ntp authenticate")
        lines += [f"ntp trusted-key {k}" for k in self.ntp_trusted_keys]
        lines += [s.ios_line() for s in self.ntp_servers]
        return lines
