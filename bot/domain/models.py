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
from typing import Any, Final

#: A controller family is its name, the inventory's `platform:` value (`aireos`, `iosxe`, ...).
#: The set is open: the names are the packages under `bot/controllers/platforms/` (and any a
#: test registers), checked once, when the inventory loads; the domain never enumerates them.
PlatformName = str


class Platform:
    """The two shipped platforms' names, as plain strings for tests and examples.

    Not a closed set: nothing checks membership against it, and a third family needs no line here.
    """

    AIREOS: Final[PlatformName] = "aireos"
    IOSXE: Final[PlatformName] = "iosxe"


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
    # The command answered but not with everything: the controller counted more APs than it
    # listed, or some lines of its table could not be read. What was read is kept.
    INCOMPLETE = "incomplete"


# Errors that mean the controller was not read at all (no session, or no login).
CONNECTION_ERROR_KINDS = frozenset(
    {ErrorKind.UNREACHABLE, ErrorKind.TIMEOUT, ErrorKind.AUTH_FAILED, ErrorKind.HOST_KEY}
)


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
    # From the image table: a predownload in progress (`Predownloading`, `Initiated`) and its
    # version. A predownload meets the same certificate check as a download (tech note FAQ).
    predownload: str | None = None
    predownload_version: str | None = None

    @property
    def is_downloading(self) -> bool:
        return (self.state or "").strip().lower() in {"downloading", "predownloading"}

    @property
    def is_predownloading(self) -> bool:
        return self.predownload is not None or (self.state or "").strip().lower() == "predownloading"


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
    platform: PlatformName
    host: str
    taken_at: datetime
    site: str | None = None
    software_version: str | None = None
    # The version exactly as printed, kept when it is not a release the bot can read
    # (an experimental build label): shown as "unknown software", never mapped to a train.
    software_raw: str | None = None
    apsps: list[str] = field(default_factory=list)
    clock: ClockReading | None = None
    ntp_servers: list[NtpServer] = field(default_factory=list)
    certificate: CertificateWindow | None = None
    aps: list[AccessPoint] = field(default_factory=list)
    # The AP count the controller printed itself (`Number of APs`), None when it printed none.
    declared_ap_count: int | None = None
    # Which facts this poll actually read, so an unread fact is shown as absent, never as
    # "no NTP server" or "0 APs". Drivers set them when the command's output was parsed.
    aps_read: bool = False
    ntp_read: bool = False
    errors: list[SnapshotError] = field(default_factory=list)

    @property
    def reachable(self) -> bool:
        connected = not any(e.kind in CONNECTION_ERROR_KINDS for e in self.errors)
        return connected or self.software_version is not None or self.software_raw is not None

    @property
    def incomplete_reasons(self) -> list[str]:
        """Why the AP list is not the whole list (`read 37 of 4,135 APs`); empty when it is."""
        return [e.message for e in self.errors if e.kind is ErrorKind.INCOMPLETE]

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
