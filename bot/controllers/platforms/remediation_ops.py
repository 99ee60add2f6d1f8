"""What a platform must do for a remediation run, and the little the platforms share.

Each platform package implements `PlatformOps` (how its NTP servers are named,
deleted and restored, how its clock is set and saved). The remediation layer
sits above the controllers, so the types it hands in (the change catalog, the
audited device link, a read's parsed output) are described here by the few
attributes the ops use, never imported from `bot.remediation`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.domain.models import ClockSource, NtpServer
from bot.domain.utc_offset import infer_offset


class ChangeCommand(Protocol):
    """One rendered change line (`bot.remediation.commands.Command`)."""

    @property
    def text(self) -> str: ...

    @property
    def purpose(self) -> str: ...

    @property
    def confirm(self) -> tuple[str, str] | None: ...


class Catalog(Protocol):
    """A platform's change templates and read keys (`bot.remediation.commands.ChangeCatalog`)."""

    @property
    def reads(self) -> Mapping[str, tuple[str, ...]]: ...

    def render(self, name: str, purpose: str = "", **values: Any) -> Any: ...


class Reading(Protocol):
    """The parsed and raw output of a group of reads (`bot.remediation.device.ReadResult`)."""

    @property
    def parsed(self) -> dict[str, Any]: ...

    @property
    def raw(self) -> dict[str, str]: ...


class Link(Protocol):
    """The audited session a run sends through (`bot.remediation.device.DeviceLink`)."""

    @property
    def is_open(self) -> bool: ...

    async def send(self, command: Any) -> Any: ...


@dataclass(frozen=True)
class TimeConfig:
    """One read of the clock and NTP configuration.

    `local_time` is what the controller printed (its local time, naive);
    `clock_utc` the same instant in UTC once the offset is known.
    """

    local_time: datetime
    clock_utc: datetime | None
    utc_offset: timedelta | None
    offset_source: str
    synced: bool
    source: ClockSource
    ntp_servers: tuple[NtpServer, ...]
    raw: Mapping[str, str] = field(default_factory=dict)


class PlatformOps(Protocol):
    """The ten things a remediation step asks of a platform."""

    catalog: Catalog
    # Whether the NTP servers' order is part of the configuration (IOS-XE running-config
    # lines are; AireOS slots are numbered, so their order means nothing).
    ntp_order_matters: bool

    @property
    def platform(self) -> str:
        """The registry name of the platform these ops belong to."""
        ...

    def reads(self, purpose: str) -> tuple[str, ...]: ...

    def time_config(self, read: Reading, now: datetime, known_offset: timedelta | None) -> TimeConfig: ...

    def identity(self, server: NtpServer) -> tuple[Any, ...]: ...

    def describe(self, server: NtpServer) -> str: ...

    def delete_commands(self, current: Sequence[NtpServer]) -> list[Any]: ...

    def restore_commands(self, record: Sequence[NtpServer], current: Sequence[NtpServer]) -> list[Any]: ...

    def clock_command(self, local: datetime) -> Any: ...

    def save_command(self) -> Any: ...

    def wrap_config(self, commands: Sequence[Any]) -> list[Any]: ...

    async def apply(self, link: Link, commands: Sequence[Any], config: bool) -> None: ...


class OpsBase:
    """What every platform's ops do alike: reads by purpose, the save template, the UTC offset."""

    platform: str
    ntp_order_matters = False

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def reads(self, purpose: str) -> tuple[str, ...]:
        return self.catalog.reads.get(purpose, ())

    def save_command(self) -> Any:
        return self.catalog.render("save", purpose="save the configuration")

    def _offset(
        self, local: datetime, synced: bool, now: datetime, printed: timedelta | None, known: timedelta | None, how: str
    ) -> tuple[timedelta | None, str]:
        if printed is not None:
            return printed, how
        if known is not None:
            return known, "recorded"
        if synced:
            return infer_offset(local, now), "inferred from the NTP-synced clock"
        return None, "unknown"
