"""Fault injection for one simulated controller.

The faults are the ways a real controller fails the bot: it refuses the TCP
connection, accepts it and never speaks SSH, rejects the password, answers
every command slowly, or drops the session part-way. They come from the
scenario (`faults:` of a controller) and stay settable at runtime, so a test
can flip one between two polls:

    sim.controllers["wlc-a1"].faults.refuse_connections = True

`refuse_connections` changes what the listening socket does, so the server
subscribes to changes (`subscribe`) and closes or reopens the socket at once.
The other faults are read by each session when it needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

FAULT_KEYS = (
    "refuse_connections",
    "hang_on_connect",
    "reject_password",
    "command_delay_ms",
    "drop_after_commands",
)


@dataclass
class Faults:
    """What is wrong with one controller right now.

    - `refuse_connections`: the port is closed; clients get ECONNREFUSED.
    - `hang_on_connect`: TCP is accepted but no SSH banner is ever sent.
    - `reject_password`: SSH password auth fails (and, for AireOS, the
      in-session `User:`/`Password:` login too).
    - `command_delay_ms`: every command is answered this much later (real ms).
    - `drop_after_commands`: after this many commands in one session, the
      next command line makes the controller drop the TCP connection
      without answering.
    """

    refuse_connections: bool = False
    hang_on_connect: bool = False
    reject_password: bool = False
    command_delay_ms: int = 0
    drop_after_commands: int | None = None
    _listeners: list[Callable[[str], None]] = field(default_factory=list, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if not name.startswith("_"):
            for listener in getattr(self, "_listeners", ()):
                listener(name)

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """Call `listener(field_name)` after every change of a fault."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[str], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def clear(self) -> None:
        """Back to a healthy controller."""
        for f in fields(self):
            if not f.name.startswith("_"):
                setattr(self, f.name, f.default)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Faults:
        d = dict(d or {})
        unknown = set(d) - set(FAULT_KEYS)
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        faults = cls()
        for key, value in d.items():
            if key in ("refuse_connections", "hang_on_connect", "reject_password"):
                value = bool(value)
            elif key == "command_delay_ms":
                value = int(value or 0)
            elif key == "drop_after_commands":
                value = None if value is None else int(value)
            setattr(faults, key, value)
        return faults
