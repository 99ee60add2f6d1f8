"""AireOS remediation operations: NTP servers in numbered slots, the clock set in local time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.controllers.parsers.results import AireosTime
from bot.controllers.platforms.remediation_ops import Link, OpsBase, Reading, TimeConfig
from bot.domain.models import NtpServer
from bot.domain.utc_offset import to_utc


class AireosOps(OpsBase):
    """AireOS: NTP servers live in numbered slots (1..3) with an optional key binding."""

    platform = "aireos"  # this package's name

    def time_config(self, read: Reading, now: datetime, known_offset: timedelta | None) -> TimeConfig:
        reading: AireosTime = read.parsed["show_time"]
        local = reading.clock.time.replace(tzinfo=None)
        synced = bool(reading.clock.synced)
        offset, how = self._offset(local, synced, now, reading.utc_offset, known_offset, "Timezone delta/location")
        servers = tuple(
            NtpServer(address=s.address, index=s.index, key_index=s.key_index or None, status=s.status)
            for s in reading.ntp_servers
        )
        return TimeConfig(
            local_time=local,
            clock_utc=to_utc(local, offset),
            utc_offset=offset,
            offset_source=how,
            synced=synced,
            source=reading.clock.source,
            ntp_servers=servers,
            raw=dict(read.raw),
        )

    def identity(self, server: NtpServer) -> tuple[Any, ...]:
        return (server.index, server.address.lower(), server.key_index or None)

    def describe(self, server: NtpServer) -> str:
        key = f" key {server.key_index}" if server.key_index else ""
        return f"#{server.index} {server.address}{key}"

    def delete_commands(self, current: Sequence[NtpServer]) -> list[Any]:
        ordered = sorted(current, key=lambda s: s.index or 0, reverse=True)
        return [
            self.catalog.render("ntp_delete", purpose=f"delete NTP server {self.describe(s)}", index=s.index)
            for s in ordered
        ]

    def restore_commands(self, record: Sequence[NtpServer], current: Sequence[NtpServer]) -> list[Any]:
        by_index = {s.index: s for s in current}
        commands: list[Any] = []
        for server in sorted(record, key=lambda s: s.index or 0):
            now = by_index.get(server.index)
            what = self.describe(server)
            if now is None or now.address.lower() != server.address.lower():
                commands.append(
                    self.catalog.render(
                        "ntp_server", purpose=f"restore NTP server {what}", index=server.index, address=server.address
                    )
                )
                now = None
            current_key = None if now is None else now.key_index
            if server.key_index and current_key != server.key_index:
                commands.append(
                    self.catalog.render(
                        "ntp_auth_enable",
                        purpose=f"restore the key binding of NTP server {what}",
                        index=server.index,
                        key_index=server.key_index,
                    )
                )
            elif not server.key_index and current_key:
                commands.append(
                    self.catalog.render("ntp_auth_disable", purpose=f"no key on NTP server {what}", index=server.index)
                )
        return commands

    def clock_command(self, local: datetime) -> Any:
        return self.catalog.render(
            "clock_set", purpose=f"set the clock to {local:%Y-%m-%d %H:%M:%S} local time", date=local, time=local
        )

    def wrap_config(self, commands: Sequence[Any]) -> list[Any]:
        return list(commands)

    async def apply(self, link: Link, commands: Sequence[Any], config: bool) -> None:
        for command in commands:
            await link.send(command)
