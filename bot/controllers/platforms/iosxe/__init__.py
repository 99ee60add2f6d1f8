"""Catalyst 9800 controllers (IOS-XE): the whole platform in one package.

Beside the data (`commands.yaml`, `changes.yaml`, the `.textfsm` templates):
the parsers, the driver that folds them into a snapshot, the change session's
login hooks and the remediation operations. `PLATFORM` is what the registry
hands out for `platform: iosxe`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from bot.controllers.platforms.base import Driver, Parser, Platform
from bot.controllers.platforms.iosxe import session_hooks
from bot.controllers.platforms.iosxe.driver import IosxeDriver
from bot.controllers.platforms.iosxe.ops import IosxeOps
from bot.controllers.platforms.iosxe.parsers import PARSERS
from bot.controllers.platforms.remediation_ops import Catalog, PlatformOps
from bot.domain.models import ClockReading

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scrapli.driver import AsyncNetworkDriver


class Iosxe(Platform):
    name = "iosxe"
    label = "Catalyst 9800"
    package = __name__
    parsers: ClassVar[Mapping[str, Parser]] = PARSERS

    def driver(self) -> Driver:
        return IosxeDriver()

    def ops(self, catalog: Catalog) -> PlatformOps:
        return IosxeOps(catalog)

    async def on_open(self, conn: AsyncNetworkDriver) -> None:
        await session_hooks.on_open(conn)

    async def on_close(self, conn: AsyncNetworkDriver) -> None:
        await session_hooks.on_close(conn)

    def printed_utc_offset(self, clock: ClockReading) -> timedelta | None:
        """`show clock` prints the zone, so the parsed time carries its offset."""
        return clock.time.utcoffset() if clock.time.tzinfo is not None else None


PLATFORM = Iosxe()
