"""The simulator's state file: what each controller has saved, across restarts.

A time-back must never lose the saved NTP configuration, and the only way to
test that end to end is to restart the simulator and look. With
`--state-file`, the server writes this JSON on every configuration change or
save, and on start boots each controller from its `saved` section (running =
saved, as after a reload). The other sections (`running`, clock, APs) are for
people and tests to read; they are not loaded back.

    {"version": 1, "written_at": "...Z",
     "controllers": {"wlc-a1": {"platform": "aireos", "saved": {...}, "running": {...},
                                "unsaved_changes": false, "clock": "...Z",
                                "clock_source": "ntp", "aps": {...}}}}
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.simulator.config import ControllerConfig
from bot.simulator.dates import iso
from bot.simulator.model import Controller

STATE_VERSION = 1


def read_saved(path: Path) -> dict[str, ControllerConfig]:
    """Saved configuration per controller name; empty when there is no file yet."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("version") != STATE_VERSION:
        raise ValueError(f"{path}: unsupported state file version {data.get('version')!r}")
    return {
        name: ControllerConfig.from_dict(entry["saved"])
        for name, entry in (data.get("controllers") or {}).items()
        if "saved" in entry
    }


def write_state(path: Path, controllers: list[Controller]) -> None:
    """Write atomically (temp file + rename), so a crash never leaves half a file."""
    data: dict[str, Any] = {
        "version": STATE_VERSION,
        "written_at": iso(datetime.now(UTC)),
        "controllers": {c.name: c.state_dict() for c in controllers},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
