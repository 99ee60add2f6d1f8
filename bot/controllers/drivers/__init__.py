"""Drivers: how parsed command output becomes one snapshot.

The command lists live in data (`platforms/<p>/commands.yaml`); what differs
in code is only how the pieces fit together (AireOS spreads an AP's state
over two commands, the 9800 reads its certificate through a trustpoint name).
Each platform's driver lives in its package (`platforms/<p>/driver.py`);
this package keeps what drivers share (`completeness`, `merge`).
"""

from __future__ import annotations

from bot.controllers.platforms.base import Driver

__all__ = ["Driver"]
