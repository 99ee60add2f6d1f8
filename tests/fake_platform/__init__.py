"""A third controller family ("acme"), defined entirely in this package.

The registry test registers `PLATFORM` and polls and plans through it, to show
that adding a platform is adding a package: data files, parsers, a driver,
session hooks and ops here, and nothing changed anywhere else.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from bot.controllers.platforms.base import Driver, Parser, Platform
from bot.controllers.platforms.remediation_ops import Catalog, PlatformOps
from bot.controllers.static_facts import Identity
from bot.domain.models import ClockReading, ControllerSnapshot
from tests.fake_platform.ops import AcmeOps
from tests.fake_platform.parsers import PARSERS, AcmeVersion

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scrapli.driver import AsyncNetworkDriver


class AcmeDriver:
    def identity(self, key: str, parsed: Any) -> Identity | None:
        if key != "show_version":
            return None
        version: AcmeVersion = parsed
        return Identity(version.version, timedelta(seconds=version.uptime_seconds))

    def apply(self, snapshot: ControllerSnapshot, key: str, parsed: Any, context: dict[str, str]) -> None:
        if key == "show_version":
            snapshot.software_version = snapshot.software_raw = parsed.version
        elif key == "show_clock":
            snapshot.clock = parsed
        elif key == "show_ntp":
            snapshot.ntp_servers = list(parsed)
            snapshot.ntp_read = True

    def finish(self, snapshot: ControllerSnapshot) -> None:
        pass


class Acme(Platform):
    name = "acme"
    label = "Acme Wireless"
    package = __name__
    parsers: ClassVar[Mapping[str, Parser]] = PARSERS

    def driver(self) -> Driver:
        return AcmeDriver()

    def ops(self, catalog: Catalog) -> PlatformOps:
        return AcmeOps(catalog)

    async def on_open(self, conn: AsyncNetworkDriver) -> None:
        await conn.acquire_priv(desired_priv=conn.default_desired_privilege_level)

    async def on_close(self, conn: AsyncNetworkDriver) -> None:
        conn.channel.write(channel_input="exit")
        conn.channel.send_return()

    def printed_utc_offset(self, clock: ClockReading) -> timedelta | None:
        return timedelta(0)  # Acme prints UTC


PLATFORM = Acme()
