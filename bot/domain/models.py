"""The snapshot model: what one poll learned about one controller.

Everything here is plain data so the domain core can be tested with plain
values and stored or rendered without knowing how it was read. Parsers fill
these; the advisory and verdict read them; nothing here talks to a device.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Platform(StrEnum):
    AIREOS = "aireos"
    IOSXE = "iosxe"


class ClockSource(StrEnum):
    """Where the controller says its time comes from.

    `manual` is the dangerous one for this bug: a clock someone set by hand
    (the time-back) that nobody put back.
    """

    NTP = "ntp"
    MANUAL = "manual"
    UNKNOWN = "unknown"


class ErrorKind(StrEnum):
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    AUTH_FAILED = "auth_failed"
    HOST_KEY = "host_key"
    UNPARSABLE = "unparsable"
    COMMAND_FAILED = "command_failed"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class NtpServer:
    """One configured NTP server, with everything needed to put it back.

    `config_line` is the exact IOS-XE running-config line (`ntp server vrf
    Mgmt 10.0.0.1 key 1 prefer source Vlan10`) which is restored verbatim;
    AireOS restores from `index`, `address` and `key_index`.
    """

    address: str
    index: int | None = None
    key_index: int | None = None
    vrf: str | None = None
    options: tuple[str, ...] = ()
    config_line: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class ClockReading:
    """The controller's clock as it printed it.

    `time` is timezone-aware when the output named a zone we know, naive
    otherwise (AireOS `show time` prints local time; the delta is separate).
    """

    time: datetime
    source: ClockSource = ClockSource.UNKNOWN
    authoritative: bool | None = None
    synced: bool | None = None
    timezone: str | None = None
    raw: str = ""

    @property
    def looks_hand_set(self) -> bool:
        """True when the clock is not NTP-synchronised but was set by someone."""
        return self.source is ClockSource.MANUAL or (self.synced is False and self.authoritative is False)


@dataclass(frozen=True)
class CertificateWindow:
    """Validity of the controller's own device certificate (the one a
    time-back must not predate)."""

    not_before: datetime
    not_after: datetime
    name: str | None = None
    subject: str | None = None


@dataclass(frozen=True)
class AccessPoint:
    """One AP as the controller reports it.

    `state` keeps the controller's own word (`Registered`, `Downloading`, or
    anything new a future release prints): never normalised away, never dropped.
    """

    name: str
    model: str | None = None
    mac: str | None = None
    ip: str | None = None
    image_version: str | None = None
    state: str | None = None
    retry_count: int | None = None
    location: str | None = None

    @property
    def is_downloading(self) -> bool:
        return (self.state or "").strip().lower() in {"downloading", "predownloading"}


@dataclass(frozen=True)
class SnapshotError:
    kind: ErrorKind
    message: str
    command: str | None = None


@dataclass
class ControllerSnapshot:
    """Everything one poll learned about one controller, errors included.

    A failed command adds an error but keeps what earlier commands read, so
    a partially read controller is still reported honestly.
    """

    name: str
    platform: Platform
    host: str
    taken_at: datetime
    site: str | None = None
    software_version: str | None = None
    apsps: list[str] = field(default_factory=list)
    clock: ClockReading | None = None
    ntp_servers: list[NtpServer] = field(default_factory=list)
    certificate: CertificateWindow | None = None
    aps: list[AccessPoint] = field(default_factory=list)
    errors: list[SnapshotError] = field(default_factory=list)

    @property
    def reachable(self) -> bool:
        connection_kinds = {
            ErrorKind.UNREACHABLE,
            ErrorKind.TIMEOUT,
            ErrorKind.AUTH_FAILED,
            ErrorKind.HOST_KEY,
        }
        return not any(e.kind in connection_kinds for e in self.errors) or self.software_version is not None

    @property
    def state_counts(self) -> dict[str, int]:
        return dict(Counter(ap.state or "unknown" for ap in self.aps))

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
