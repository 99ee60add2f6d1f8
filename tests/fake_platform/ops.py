"""Acme's remediation operations: NTP servers by address, changes applied one line at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.controllers.platforms.remediation_ops import Link, OpsBase, Reading, TimeConfig
from bot.domain.models import ClockReading, NtpServer
from bot.domain.utc_offset import to_utc


class AcmeOps(OpsBase):
    platform = "acme"

    def time_config(self, read: Reading, now: datetime, known_offset: timedelta | None) -> TimeConfig:
        clock: ClockReading = read.parsed["show_clock"]
        local = clock.time.replace(tzinfo=None)
        offset, how = self._offset(local, bool(clock.synced), now, timedelta(0), known_offset, "UTC")
        return TimeConfig(
            local_time=local,
            clock_utc=to_utc(local, offset),
            utc_offset=offset,
            offset_source=how,
            synced=bool(clock.synced),
            source=clock.source,
            ntp_servers=tuple(read.parsed.get("show_ntp") or ()),
            raw=dict(read.raw),
        )

    def identity(self, server: NtpServer) -> tuple[Any, ...]:
        return (server.address,)

    def describe(self, server: NtpServer) -> str:
        return server.address

    def delete_commands(self, current: Sequence[NtpServer]) -> list[Any]:
        return [self.catalog.render("ntp_remove", purpose=f"remove {s.address}", address=s.address) for s in current]

    def restore_commands(self, record: Sequence[NtpServer], current: Sequence[NtpServer]) -> list[Any]:
        have = {s.address for s in current}
        return [
            self.catalog.render("ntp_add", purpose=f"add {s.address}", address=s.address)
            for s in record
            if s.address not in have
        ]

    def clock_command(self, local: datetime) -> Any:
        return self.catalog.render(
            "clock_set", purpose=f"set the clock to {local:%Y-%m-%d %H:%M:%S}", date=local, time=local
        )

    def wrap_config(self, commands: Sequence[Any]) -> list[Any]:
        return list(commands)

    async def apply(self, link: Link, commands: Sequence[Any], config: bool) -> None:
        for command in commands:
            await link.send(command)
