"""AireOS wireless controllers (AIR-CT5520, 3504, 8540, vWLC): the whole platform in one package.

Beside the data (`commands.yaml`, `changes.yaml`, `show_time.textfsm`): the
parsers, the driver that folds them into a snapshot, the change session's
login hooks and the remediation operations. `PLATFORM` is what the registry
hands out for `platform: aireos`.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import TYPE_CHECKING, ClassVar

from bot.controllers.parsers.dates import parse_ctime
from bot.controllers.platforms.aireos import session_hooks
from bot.controllers.platforms.aireos.driver import AireosDriver
from bot.controllers.platforms.aireos.ops import AireosOps
from bot.controllers.platforms.aireos.parsers import PARSERS
from bot.controllers.platforms.base import Driver, Parser, Platform
from bot.controllers.platforms.remediation_ops import Catalog, PlatformOps
from bot.domain.models import ClockReading

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scrapli.driver import AsyncNetworkDriver


class Aireos(Platform):
    name = "aireos"
    label = "AireOS"
    package = __name__
    parsers: ClassVar[Mapping[str, Parser]] = PARSERS

    def driver(self) -> Driver:
        return AireosDriver()

    def ops(self, catalog: Catalog) -> PlatformOps:
        return AireosOps(catalog)

    async def on_open(self, conn: AsyncNetworkDriver) -> None:
        await session_hooks.on_open(conn)

    async def on_close(self, conn: AsyncNetworkDriver) -> None:
        await session_hooks.on_close(conn)

    def printed_utc_offset(self, clock: ClockReading) -> timedelta | None:
        """AireOS prints local time; the poll kept it in `raw` and stored the instant in UTC."""
        local = parse_ctime(clock.raw) if clock.raw else None
        if local is not None and clock.time.tzinfo is not None:
            utc = clock.time.astimezone(UTC).replace(tzinfo=None)
            return timedelta(seconds=round((local - utc).total_seconds() / 60) * 60)
        return None


PLATFORM = Aireos()
