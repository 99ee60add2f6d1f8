"""What a routine check need not ask again: the controller's static facts.

The software release, the wireless management trustpoint and its
certificate change only with an upgrade, a reload or a deliberate
re-enrolment, yet they were a third of every poll's commands. (APSPs are
not among them: one installs without a reload, and it decides whether the
controller is fixed, so `show install summary` is read every check.) A routine (scheduled) check reads
them on its first run, then again only when the controller's identity command
(`show version`, `show sysinfo`: read every time, it is the change detector)
says the software or the uptime changed, or after `CCERT_STATIC_REFRESH_HOURS`.
In between, the parsed answers of the last read are replayed into the
snapshot: they are still what the controller said, only not asked twice.

A person asking (`/ccert status`) always reads everything; that read also
refreshes what is remembered here. Memory only: a restarted bot reads
everything on its first check, which is the safe default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# A reload moves the boot time (taken_at - uptime) later; uptimes are printed to the minute
# and the read takes a moment, so anything within this is the same boot.
BOOT_TOLERANCE = timedelta(minutes=10)


@dataclass(frozen=True)
class Identity:
    """What the identity command said: the software as printed and the uptime."""

    software: str | None
    uptime: timedelta | None

    def booted_at(self, taken_at: datetime) -> datetime | None:
        return None if self.uptime is None else taken_at - self.uptime


@dataclass(frozen=True)
class StaticRead:
    """The static commands' parsed answers from one read (`read_at`), and what the identity
    command said at the last check (`seen_at`, the read itself unless a later check replayed
    it): a reload is judged against the last sighting, the refresh against the read."""

    read_at: datetime
    identity: Identity
    parsed: Mapping[str, Any] = field(default_factory=dict)
    seen_at: datetime | None = None

    @property
    def identity_seen_at(self) -> datetime:
        return self.seen_at or self.read_at


class StaticFacts:
    """Per-controller memory of the last static read, shared by the checks and `/ccert status`."""

    def __init__(self, refresh: timedelta) -> None:
        self.refresh = refresh
        self._reads: dict[str, StaticRead] = {}

    def __len__(self) -> int:
        return len(self._reads)

    def recall(self, controller: str) -> StaticRead | None:
        return self._reads.get(controller)

    def remember(self, controller: str, read: StaticRead) -> None:
        self._reads[controller] = read

    def forget(self, controller: str) -> None:
        self._reads.pop(controller, None)

    def why_read(self, controller: str, identity: Identity | None, now: datetime) -> str | None:
        """Why a routine check must read the static facts now; None when the last read stands.

        `identity` is None when the identity command failed: nothing says the
        controller is unchanged, so everything is read.
        """
        last = self._reads.get(controller)
        if last is None:
            return "first check"
        if identity is None:
            return "the software and uptime could not be read"
        if now - last.read_at >= self.refresh:
            return "refresh due"
        if identity.software != last.identity.software:
            return "software changed"
        before, after = last.identity.uptime, identity.uptime
        if before is None or after is None:
            return "uptime unknown"
        if after < before:
            return "reloaded"
        booted_then = last.identity.booted_at(last.identity_seen_at)
        booted_now = identity.booted_at(now)
        if booted_then is not None and booted_now is not None and booted_now - booted_then > BOOT_TOLERANCE:
            return "reloaded"
        return None
