"""Catalyst 9800 remediation operations: NTP servers as running-config lines, config mode for changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.controllers.platforms.remediation_ops import Link, OpsBase, Reading, TimeConfig
from bot.domain.models import ClockReading, NtpServer
from bot.domain.utc_offset import to_utc

# The month names IOS `clock set` takes (the change template's `month_abbrev` kind checks them).
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class IosxeOps(OpsBase):
    """Catalyst 9800: NTP servers are running-config lines, restored verbatim in their order."""

    platform = "iosxe"  # this package's name
    ntp_order_matters = True

    def time_config(self, read: Reading, now: datetime, known_offset: timedelta | None) -> TimeConfig:
        clock: ClockReading = read.parsed["show_clock"]
        servers = tuple(read.parsed.get("show_running_config_ntp") or ())
        printed = clock.time.utcoffset() if clock.time.tzinfo is not None else None
        local = clock.time.replace(tzinfo=None)
        synced = bool(clock.synced)
        offset, how = self._offset(local, synced, now, printed, known_offset, "the zone `show clock` prints")
        return TimeConfig(
            local_time=local,
            clock_utc=to_utc(local, offset),
            utc_offset=offset,
            offset_source=how,
            synced=synced,
            source=clock.source,
            ntp_servers=servers,
            raw=dict(read.raw),
        )

    def identity(self, server: NtpServer) -> tuple[Any, ...]:
        return (" ".join((server.config_line or "").split()),)

    def describe(self, server: NtpServer) -> str:
        return server.config_line or server.address

    def delete_commands(self, current: Sequence[NtpServer]) -> list[Any]:
        # Last line first: if the session breaks half-way, what is left is a prefix of the
        # recorded list, and re-adding the rest in order reproduces the exact running-config.
        commands = []
        for server in reversed(list(current)):
            if server.vrf:
                commands.append(
                    self.catalog.render(
                        "ntp_server_delete_vrf",
                        purpose=f"delete `{self.describe(server)}`",
                        vrf=server.vrf,
                        address=server.address,
                    )
                )
            else:
                commands.append(
                    self.catalog.render(
                        "ntp_server_delete", purpose=f"delete `{self.describe(server)}`", address=server.address
                    )
                )
        return commands

    def restore_commands(self, record: Sequence[NtpServer], current: Sequence[NtpServer]) -> list[Any]:
        present = {self.identity(s) for s in current}
        return [
            self.catalog.render("ntp_server_restore", purpose="restore the recorded line", line=server.config_line)
            for server in record
            if self.identity(server) not in present
        ]

    def clock_command(self, local: datetime) -> Any:
        return self.catalog.render(
            "clock_set",
            purpose=f"set the clock to {local:%Y-%m-%d %H:%M:%S} local time",
            time=local,
            day=local.day,
            month=MONTHS[local.month - 1],
            year=local.year,
        )

    def wrap_config(self, commands: Sequence[Any]) -> list[Any]:
        if not commands:
            return []
        return [
            self.catalog.render("config_enter", purpose="enter configuration mode"),
            *commands,
            self.catalog.render("config_exit", purpose="leave configuration mode"),
        ]

    async def apply(self, link: Link, commands: Sequence[Any], config: bool) -> None:
        if not config:
            for command in commands:
                await link.send(command)
            return
        if not commands:
            return
        enter, *body, leave = self.wrap_config(commands)
        await link.send(enter)
        try:
            for command in body:
                await link.send(command)
        finally:
            # Leave configuration mode even when a line was refused, so later reads work.
            if link.is_open:
                await link.send(leave)
