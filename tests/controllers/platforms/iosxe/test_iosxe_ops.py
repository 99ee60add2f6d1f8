"""Catalyst 9800 remediation ops: `clock set` in local time and exec-mode format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.controllers.platforms.iosxe.ops import IosxeOps
from bot.domain.utc_offset import to_local
from bot.remediation.platform_ops import ops_for


def test_ios_clock_command_uses_local_time_and_exec_mode_format() -> None:
    ops = ops_for("iosxe")
    assert isinstance(ops, IosxeOps)
    local = to_local(datetime(2022, 12, 2, 0, 0, tzinfo=UTC), timedelta(hours=9))
    assert ops.clock_command(local).text == "clock set 09:00:00 2 Dec 2022"
