"""AireOS remediation ops: the local clock and its offset from `show time`, the manual-time command."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta

from bot.controllers.platforms import registry
from bot.controllers.platforms.aireos.ops import AireosOps
from bot.domain.models import ControllerSnapshot, Platform
from bot.domain.utc_offset import to_local
from bot.remediation.device import ReadResult
from bot.remediation.platform_ops import ops_for

SHOW_TIME_EST = textwrap.dedent("""\
    Time............................................. Thu Dec  1 19:00:00 2022

    Timezone delta................................... -5:0
    Timezone location................................ (GMT -5:00) Eastern Time (US and Canada)

    NTP Servers
        NTP Version..................................     3
        NTP Polling Interval.........................     3600

         Index     NTP Key Index                  NTP Server                Status          NTP Msg Auth Status
        -------  ---------------------------------------------------------------------
            1              1                                       192.0.2.123     In Sync              AUTH SUCCESS
""")


def test_aireos_local_time_and_offset_from_show_time() -> None:
    ops = ops_for("aireos")
    assert isinstance(ops, AireosOps)
    snapshot = ControllerSnapshot("w", Platform.AIREOS, "h", datetime.now(UTC))
    read = ReadResult(snapshot, {"show_time": registry.get("aireos").parser("show_time")(SHOW_TIME_EST)})
    time = ops.time_config(read, datetime.now(UTC), None)
    assert time.utc_offset == timedelta(hours=-5)
    assert time.clock_utc == datetime(2022, 12, 2, 0, 0, tzinfo=UTC)
    assert [ops.describe(s) for s in time.ntp_servers] == ["#1 192.0.2.123 key 1"]
    local = to_local(datetime(2022, 12, 2, 0, 0, tzinfo=UTC), time.utc_offset)
    assert ops.clock_command(local).text == "config time manual 12/01/22 19:00:00"
