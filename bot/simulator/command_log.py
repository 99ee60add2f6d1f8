"""What was typed at a simulated controller, by whom and when: the proof a test needs.

A failover test must show that an instance which lost the lead never sent a device command
after another took over; the bot's own logs cannot prove that (a process killed or cut off
may not have written them), the device can. So every command line a session runs is kept
here with its wall-clock time (`time.time()`, comparable with any process on the machine),
the login that typed it and the peer address. Bounded: the oldest lines go first, so a
simulator serving a fleet for hours does not grow without end.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

DEFAULT_MAX_LINES = 20_000


@dataclass(frozen=True)
class CommandRecord:
    """One command line as the controller received it (before it ran)."""

    at: float  # time.time() when the line arrived
    login: str
    peer: str
    line: str


class CommandLog:
    """The last `max_lines` command lines of one controller; `watch` is called with each one
    as it arrives (a test's hook: kill a process the moment a given command reaches the device)."""

    def __init__(self, max_lines: int = DEFAULT_MAX_LINES) -> None:
        self._lines: deque[CommandRecord] = deque(maxlen=max_lines)
        self.watch: Callable[[CommandRecord], None] | None = None

    def record(self, login: str, peer: str, line: str) -> CommandRecord:
        entry = CommandRecord(time.time(), login, peer, line.strip())
        self._lines.append(entry)
        if self.watch is not None:
            self.watch(entry)
        return entry

    def by(self, login: str) -> list[CommandRecord]:
        """Every kept line `login` typed, oldest first."""
        return [entry for entry in self._lines if entry.login == login]

    def __iter__(self) -> Iterator[CommandRecord]:
        return iter(list(self._lines))

    def __len__(self) -> int:
        return len(self._lines)
