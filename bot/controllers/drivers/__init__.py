"""Per-platform drivers: how parsed command output becomes one snapshot.

The command lists live in data (`platforms/<p>/commands.yaml`); what differs
in code is only how the pieces fit together (AireOS spreads an AP's state
over two commands, the 9800 reads its certificate through a trustpoint name).
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.controllers.static_facts import Identity
from bot.domain.models import ControllerSnapshot, Platform


class Driver(Protocol):
    def identity(self, key: str, parsed: Any) -> Identity | None:
        """The software and uptime, when `key` is the platform's identity command."""
        ...

    def apply(self, snapshot: ControllerSnapshot, key: str, parsed: Any, context: dict[str, str]) -> None:
        """Fold one parsed command into the snapshot (and `context` for later commands)."""
        ...

    def finish(self, snapshot: ControllerSnapshot) -> None:
        """Last touches once every command ran (or the session broke off)."""
        ...


def driver_for(platform: Platform | str) -> Driver:
    from bot.controllers.drivers.aireos import AireosDriver
    from bot.controllers.drivers.iosxe import IosxeDriver

    drivers: dict[Platform, type[Driver]] = {Platform.AIREOS: AireosDriver, Platform.IOSXE: IosxeDriver}
    return drivers[Platform(platform)]()
