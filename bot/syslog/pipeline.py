"""One message through the pipeline: parse → match → correlate. Synchronous and pure
apart from the correlator's state, so the benchmark and tests can drive it
without sockets, and the listener only adds I/O, queueing and hooks around it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from bot.domain.models import AccessPoint
from bot.syslog.correlate import Correlator, Resolution
from bot.syslog.messages import DEFAULT_MAX_BYTES, SyslogMessage, parse_message
from bot.syslog.signatures import SignatureKind, SignatureMatch, SignatureSet, default_signatures

DEFAULT_NOTIFY_COOLDOWN = timedelta(minutes=10)
MAX_NOTIFY_KEYS = 1024


@dataclass
class SyslogCounters:
    """Everything the listener counts, for `/ccert` and the logs.

    - `received`: datagrams and TCP frames that arrived (dropped ones included)
    - `parsed`: messages parsed (not malformed)
    - `matched`: messages a signature matched (any kind)
    - `correlated`: matched messages whose sender mapped to a known AP
    - `dropped_queue_full`: dropped because the queue to the worker was full
    - `dropped_rate_limited`: dropped because their sender exceeded its rate
    - `malformed`: empty, binary, or a broken PRI (dropped)
    - `oversized`: longer than the size bound (dropped, never buffered)
    - `unknown_sender`: matched messages from senders no snapshot names
    - `connections_rejected`: TCP connections refused at the connection cap
    - `hook_errors` / `hooks_dropped`: hooks that raised / were not run at the task cap
    - `internal_errors`: bugs caught so one message cannot stop the worker
    """

    received: int = 0
    parsed: int = 0
    matched: int = 0
    correlated: int = 0
    dropped_queue_full: int = 0
    dropped_rate_limited: int = 0
    malformed: int = 0
    oversized: int = 0
    unknown_sender: int = 0
    connections_rejected: int = 0
    hook_errors: int = 0
    hooks_dropped: int = 0
    internal_errors: int = 0

    def snapshot(self) -> SyslogCounters:
        return SyslogCounters(**asdict(self))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class SyslogEvent:
    """A matched line and who sent it; what the hooks receive.

    `newly_confirmed`: this failure started the AP's failure episode (the
    `on_failure` hook fires on those). `notify`: a not-yet-valid line outside
    its sender's cooldown (the `on_not_yet_valid` hook fires on those).
    """

    received_at: datetime
    source: str
    transport: str
    message: SyslogMessage
    match: SignatureMatch
    resolution: Resolution | None = None
    newly_confirmed: bool = False
    notify: bool = False

    @property
    def controller(self) -> str | None:
        return self.resolution.controller if self.resolution else None

    @property
    def ap(self) -> AccessPoint | None:
        return self.resolution.ap if self.resolution else None

    @property
    def ap_name(self) -> str | None:
        """The AP's name as the controller knows it, else the hostname it sent."""
        return self.resolution.ap.name if self.resolution else self.message.hostname

    @property
    def text(self) -> str:
        return self.message.text


def utcnow() -> datetime:
    return datetime.now(UTC)


class SyslogProcessor:
    """Parse, match and correlate one message at a time, counting as it goes."""

    def __init__(
        self,
        signatures: SignatureSet | None = None,
        correlator: Correlator | None = None,
        counters: SyslogCounters | None = None,
        *,
        max_message_bytes: int = DEFAULT_MAX_BYTES,
        notify_cooldown: timedelta = DEFAULT_NOTIFY_COOLDOWN,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.signatures = signatures or default_signatures()
        self.correlator = correlator or Correlator(clock=clock)
        self.counters = counters or SyslogCounters()
        self.max_message_bytes = max_message_bytes
        self.notify_cooldown = notify_cooldown
        self.clock = clock
        self._last_notified: dict[tuple[str | None, str | None], datetime] = {}

    def handle(
        self, data: bytes, source: str, transport: str = "udp", received_at: datetime | None = None
    ) -> SyslogEvent | None:
        """One datagram or frame. Returns an event for a matched line, None otherwise.

        Does not count `received` (the listener does, before any drop), so
        the counters stay consistent however the bytes arrived.
        """
        counters = self.counters
        if len(data) > self.max_message_bytes:
            counters.oversized += 1
            return None
        message = parse_message(data, max_bytes=self.max_message_bytes)
        if message.malformed is not None:
            counters.malformed += 1
            return None
        counters.parsed += 1
        match = self.signatures.match(message.text)
        if match is None:
            return None
        counters.matched += 1
        at = received_at or self.clock()
        observation = self.correlator.observe(
            match, source_ip=source, hostname=message.hostname, at=at, text=message.text
        )
        if observation.resolution is None:
            counters.unknown_sender += 1
        else:
            counters.correlated += 1
        notify = match.kind is SignatureKind.NOT_YET_VALID and self._due(observation.resolution, source, message, at)
        return SyslogEvent(
            received_at=at,
            source=source,
            transport=transport,
            message=message,
            match=match,
            resolution=observation.resolution,
            newly_confirmed=observation.newly_confirmed,
            notify=notify,
        )

    def _due(self, resolution: Resolution | None, source: str, message: SyslogMessage, at: datetime) -> bool:
        """Per-sender cooldown: an AP repeats the line every download cycle, the
        remediation thread needs it once per cooldown."""
        key = (resolution.controller, resolution.ap.name) if resolution else (source, message.hostname)
        last = self._last_notified.get(key)
        if last is not None and at - last < self.notify_cooldown:
            return False
        if len(self._last_notified) >= MAX_NOTIFY_KEYS:
            cutoff = at - self.notify_cooldown
            self._last_notified = {k: v for k, v in self._last_notified.items() if v > cutoff}
            if len(self._last_notified) >= MAX_NOTIFY_KEYS:
                self._last_notified.clear()
        self._last_notified[key] = at
        return True


__all__ = ["DEFAULT_NOTIFY_COOLDOWN", "SyslogCounters", "SyslogEvent", "SyslogProcessor"]
