"""From "a datagram from 10.1.2.3 saying X" to "AP CAP3702I.4CD4 on wlc-1 failed its image check".

The sender is identified by two clues: the hostname in the message (an IOS
AP puts its AP name there, and a relay or NAT keeps it) and the source IP of
the datagram or connection (the AP's own address when it sends directly).
The hostname wins when it names a known AP, because a relay's source IP says
nothing about the AP; the IP is the fallback, because raw console lines
carry no hostname. Both maps come from the latest controller snapshots
(`update_inventory`), so they follow APs as the poller sees them.

Per AP, failures are counted with first/last seen, as *receive times* on
the bot's clock. Never the AP's clock: the AP takes its time from the
controller, and during a time-back that is deliberately 2022.

`confirmed(controller)` is what the alert rules take as `confirmed=`: AP name
→ the start of its current failure episode, for every AP whose image-cert
failure was seen within `window` (default 2 h) with no success after it;
`logged(controller, ap)` is what the alert's thread shows of such an AP: the line that
began its episode (shortened), what it means, and when it arrived.

Memory is bounded: per-AP state is an LRU of `max_aps`, unknown senders an
LRU of `max_unknown`. A failure from a sender the inventory does not know
yet (the listener usually starts before the first poll) is kept in the
unknown table and promoted to its AP when `update_inventory` learns it.
"""

from __future__ import annotations

import functools
import ipaddress
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.domain.ap_log import APLogEntry, shown_line
from bot.domain.models import AccessPoint, ControllerSnapshot
from bot.syslog.signatures import SignatureKind, SignatureMatch

DEFAULT_WINDOW = timedelta(hours=2)
DEFAULT_MAX_APS = 5000
DEFAULT_MAX_UNKNOWN = 256
# Lines of one validation attempt arrive within milliseconds; a failure line
# further than this from the previous one starts a new attempt (a "cycle").
CYCLE_GAP = timedelta(seconds=10)


def utcnow() -> datetime:
    return datetime.now(UTC)


def normalise_ip(value: str | None) -> str | None:
    """`::ffff:10.0.0.1` → `10.0.0.1`, `FE80::1` → `fe80::1`; None for anything not an IP.

    Cached (bounded): it runs for every matched line, and the same few senders repeat.
    """
    if not value or value[0] not in _IP_START:
        return None
    return _normalise_ip(value)


_IP_START = frozenset("0123456789abcdefABCDEF:")


@functools.lru_cache(maxsize=4096)
def _normalise_ip(value: str) -> str | None:
    try:
        addr = ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return str(addr)


def _name_key(value: str) -> str:
    return value.strip().casefold()


@dataclass
class FailureTrack:
    """What the AP's own log said, on the bot's clock.

    `episode_since` is the first failure since the AP last succeeded (or
    since its previous failures went stale): the time a confirmation dates from.
    """

    failure_lines: int = 0
    failure_cycles: int = 0
    first_failure: datetime | None = None
    last_failure: datetime | None = None
    episode_since: datetime | None = None
    last_success: datetime | None = None
    not_yet_valid: int = 0
    last_not_yet_valid: datetime | None = None
    last_signature: str | None = None
    last_seen: datetime | None = None
    image: str | None = None
    sha: str | None = None
    # The line that began the current episode, and the failure lines since: what the alert's
    # thread shows (`logged`).
    episode_signature: str | None = None
    episode_meaning: str | None = None
    episode_line: str | None = None
    episode_lines: int = 0

    def record(self, match: SignatureMatch, at: datetime, window: timedelta, text: str | None = None) -> bool:
        """Apply one matched line (`text`: the line itself, kept shortened while it begins the
        episode). Returns True when it starts a failure episode."""
        self.last_signature = match.id
        self.last_seen = at
        fields = match.fields
        if "image" in fields:
            self.image = fields["image"]
        if "sha" in fields:
            self.sha = "SHA-" + fields["sha"][-1:]
        kind = match.kind
        if kind is SignatureKind.FAILURE:
            starts = self.episode_since is None or self.last_failure is None or at - self.last_failure > window
            if self.last_failure is None or at - self.last_failure > CYCLE_GAP:
                self.failure_cycles += 1
            self.failure_lines += 1
            if self.first_failure is None:
                self.first_failure = at
            if starts:
                self.episode_since = at
                self.episode_signature, self.episode_meaning = match.id, match.meaning
                self.episode_line = shown_line(text) if text else None
                self.episode_lines = 0
            self.episode_lines += 1
            self.last_failure = at
            return starts
        if kind is SignatureKind.SUCCESS:
            self.last_success = at
            self.episode_since = None
        elif kind is SignatureKind.NOT_YET_VALID:
            self.not_yet_valid += 1
            self.last_not_yet_valid = at
        return False

    def confirmed_at(self, now: datetime, window: timedelta) -> datetime | None:
        """Episode start when a failure is within `window` of `now` and nothing succeeded since."""
        if self.last_failure is None or self.episode_since is None:
            return None
        if now - self.last_failure > window:
            return None
        if self.last_success is not None and self.last_success >= self.last_failure:
            return None
        return self.episode_since

    def merge(self, other: FailureTrack) -> None:
        """Fold in what was recorded before the sender was known (promotion)."""
        self.failure_lines += other.failure_lines
        self.failure_cycles += other.failure_cycles
        self.not_yet_valid += other.not_yet_valid
        self.first_failure = _earliest(self.first_failure, other.first_failure)
        if other.last_failure is not None and (self.last_failure is None or other.last_failure > self.last_failure):
            self.last_signature = other.last_signature or self.last_signature
        self.last_failure = _latest(self.last_failure, other.last_failure)
        self.last_success = _latest(self.last_success, other.last_success)
        self.last_not_yet_valid = _latest(self.last_not_yet_valid, other.last_not_yet_valid)
        self.last_seen = _latest(self.last_seen, other.last_seen)
        self.image = self.image or other.image
        self.sha = self.sha or other.sha
        if other.episode_since is not None and (self.episode_since is None or other.episode_since < self.episode_since):
            self.episode_signature, self.episode_meaning = other.episode_signature, other.episode_meaning
            self.episode_line = other.episode_line
        self.episode_lines += other.episode_lines
        if self.last_failure is None or (self.last_success is not None and self.last_success >= self.last_failure):
            self.episode_since = None
            return
        # The episode is the earliest one not ended by a success; failing that,
        # it started no later than the last failure.
        starts = [t for t in (self.episode_since, other.episode_since) if t is not None]
        if self.last_success is not None:
            starts = [t for t in starts if t > self.last_success]
        self.episode_since = min(starts) if starts else self.last_failure


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass
class APLogState:
    """One known AP's log history (an entry of the bounded per-AP LRU)."""

    controller: str
    ap: str
    sender: str | None = None
    track: FailureTrack = field(default_factory=FailureTrack)


@dataclass
class UnknownSender:
    """A sender no snapshot names; kept (bounded) so `/ccert` can say who is shouting."""

    ip: str | None
    hostname: str | None
    first_seen: datetime
    last_seen: datetime
    messages: int = 0
    track: FailureTrack = field(default_factory=FailureTrack)


@dataclass(frozen=True)
class Resolution:
    """Who sent a line: the controller and AP from the latest snapshots, and by which clue."""

    controller: str
    ap: AccessPoint
    by: str  # "hostname" | "ip"


@dataclass(frozen=True)
class Observation:
    """What recording one matched line did."""

    resolution: Resolution | None
    newly_confirmed: bool = False
    state: APLogState | None = None


@dataclass
class CorrelatorStats:
    """Bounded-memory evidence: entries evicted from the LRUs, senders promoted."""

    evicted_aps: int = 0
    evicted_unknown: int = 0
    promoted: int = 0


class Correlator:
    """Sender → (controller, AP) maps and per-AP failure tracking. Not thread-safe;
    lives on the event loop like everything else."""

    def __init__(
        self,
        *,
        window: timedelta = DEFAULT_WINDOW,
        max_aps: int = DEFAULT_MAX_APS,
        max_unknown: int = DEFAULT_MAX_UNKNOWN,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        if max_aps < 1 or max_unknown < 1:
            raise ValueError("max_aps and max_unknown must be at least 1")
        self.window = window
        self.max_aps = max_aps
        self.max_unknown = max_unknown
        self.clock = clock
        self.stats = CorrelatorStats()
        self._inventory: dict[str, tuple[datetime, list[AccessPoint]]] = {}
        self._by_ip: dict[str, list[tuple[str, AccessPoint]]] = {}
        self._by_name: dict[str, list[tuple[str, AccessPoint]]] = {}
        self._states: OrderedDict[tuple[str, str], APLogState] = OrderedDict()
        self._by_controller: dict[str, set[str]] = {}
        self._unknown: OrderedDict[tuple[str | None, str | None], UnknownSender] = OrderedDict()

    # ------------------------------------------------------------ inventory

    def update_inventory(self, snapshots: Iterable[ControllerSnapshot]) -> None:
        """Learn who is who from the latest snapshots.

        Merged per controller: a snapshot that read no APs because it failed
        (unreachable, partial) keeps that controller's previous AP list, since a
        gap in polling is not evidence the APs left. Then unknown senders
        that now resolve are promoted to their AP.
        """
        for snapshot in snapshots:
            if snapshot.aps or not snapshot.errors:
                self._inventory[snapshot.name] = (snapshot.taken_at, list(snapshot.aps))
        self._rebuild_maps()
        self._promote_unknown()

    def forget_controller(self, name: str) -> None:
        """Drop a controller that left the inventory (its AP states go too)."""
        self._inventory.pop(name, None)
        for ap in self._by_controller.pop(name, set()):
            self._states.pop((name, ap), None)
        self._rebuild_maps()

    def _rebuild_maps(self) -> None:
        by_ip: dict[str, list[tuple[str, AccessPoint]]] = {}
        by_name: dict[str, list[tuple[str, AccessPoint]]] = {}
        # Newest snapshot first, so ties resolve to what was seen last.
        ordered = sorted(self._inventory.items(), key=lambda kv: kv[1][0], reverse=True)
        for controller, (_, aps) in ordered:
            for ap in aps:
                entry = (controller, ap)
                ip = normalise_ip(ap.ip)
                if ip is not None and ip not in {"0.0.0.0", "::"}:
                    by_ip.setdefault(ip, []).append(entry)
                if ap.name:
                    by_name.setdefault(_name_key(ap.name), []).append(entry)
        self._by_ip, self._by_name = by_ip, by_name

    @property
    def known_aps(self) -> int:
        return sum(len(aps) for _, aps in self._inventory.values())

    def resolve(self, source_ip: str | None, hostname: str | None) -> Resolution | None:
        """The AP a line came from, or None. Hostname first, then source IP (see module doc)."""
        ip = normalise_ip(source_ip)
        if hostname:
            host_ip = normalise_ip(hostname)
            if host_ip is not None:
                found = self._pick(self._by_ip.get(host_ip), ip)
                if found is not None:
                    return Resolution(found[0], found[1], "hostname")
            key = _name_key(hostname)
            candidates = self._by_name.get(key)
            if candidates is None and "." in key:
                candidates = self._by_name.get(key.split(".", 1)[0])  # FQDN → AP name
            found = self._pick(candidates, ip)
            if found is not None:
                return Resolution(found[0], found[1], "hostname")
        if ip is not None:
            found = self._pick(self._by_ip.get(ip), ip)
            if found is not None:
                return Resolution(found[0], found[1], "ip")
        return None

    @staticmethod
    def _pick(candidates: list[tuple[str, AccessPoint]] | None, ip: str | None) -> tuple[str, AccessPoint] | None:
        """One of several APs with the same name (an AP listed by two controllers
        during a move): the one at the sender's IP, else one Downloading, else the newest."""
        if not candidates:
            return None
        if len(candidates) == 1:
            return candidates[0]
        for entry in candidates:
            if ip is not None and normalise_ip(entry[1].ip) == ip:
                return entry
        for entry in candidates:
            if entry[1].is_downloading:
                return entry
        return candidates[0]

    # ------------------------------------------------------------- recording

    def observe(
        self,
        match: SignatureMatch,
        *,
        source_ip: str | None,
        hostname: str | None,
        at: datetime | None = None,
        text: str | None = None,
    ) -> Observation:
        """Record one matched line (`text`) from a sender. Never raises on odd input."""
        at = at or self.clock()
        resolution = self.resolve(source_ip, hostname)
        if resolution is None:
            self._record_unknown(match, normalise_ip(source_ip) or source_ip, hostname, at, text)
            return Observation(None)
        state = self._state(resolution.controller, resolution.ap.name)
        state.sender = normalise_ip(source_ip) or source_ip
        started = state.track.record(match, at, self.window, text)
        return Observation(resolution, started, state)

    def _state(self, controller: str, ap: str) -> APLogState:
        key = (controller, ap)
        state = self._states.get(key)
        if state is not None:
            self._states.move_to_end(key)
            return state
        state = APLogState(controller, ap)
        self._states[key] = state
        self._by_controller.setdefault(controller, set()).add(ap)
        while len(self._states) > self.max_aps:
            (old_controller, old_ap), _ = self._states.popitem(last=False)
            names = self._by_controller.get(old_controller)
            if names is not None:
                names.discard(old_ap)
                if not names:
                    del self._by_controller[old_controller]
            self.stats.evicted_aps += 1
        return state

    def _record_unknown(
        self, match: SignatureMatch, ip: str | None, hostname: str | None, at: datetime, text: str | None = None
    ) -> UnknownSender:
        key = (ip, _name_key(hostname)[:255] if hostname else None)
        entry = self._unknown.get(key)
        if entry is None:
            entry = UnknownSender(ip, hostname[:255] if hostname else None, at, at)
            self._unknown[key] = entry
            while len(self._unknown) > self.max_unknown:
                self._unknown.popitem(last=False)
                self.stats.evicted_unknown += 1
        else:
            self._unknown.move_to_end(key)
        entry.messages += 1
        entry.last_seen = at
        entry.track.record(match, at, self.window, text)
        return entry

    def _promote_unknown(self) -> None:
        for key, entry in list(self._unknown.items()):
            resolution = self.resolve(entry.ip, entry.hostname)
            if resolution is None:
                continue
            del self._unknown[key]
            state = self._state(resolution.controller, resolution.ap.name)
            state.sender = state.sender or entry.ip
            state.track.merge(entry.track)
            self.stats.promoted += 1

    # --------------------------------------------------------------- reading

    def confirmed(self, controller: str, now: datetime | None = None) -> dict[str, datetime]:
        """AP name → start of its current failure episode, for the alert rules' `confirmed=`.

        Only APs of `controller` whose image-cert failure was seen within the
        window and not followed by a success.
        """
        now = now or self.clock()
        out: dict[str, datetime] = {}
        for ap in sorted(self._by_controller.get(controller, ())):
            state = self._states.get((controller, ap))
            if state is None:
                continue
            at = state.track.confirmed_at(now, self.window)
            if at is not None:
                out[ap] = at
        return out

    def logged(self, controller: str, ap: str, now: datetime | None = None) -> APLogEntry | None:
        """What `ap` of `controller` logged to begin its current failure episode, while its log
        confirms the failure (`confirmed`); None otherwise. For the alert's thread."""
        state = self._states.get((controller, ap))
        if state is None:
            return None
        track = state.track
        since = track.confirmed_at(now or self.clock(), self.window)
        if since is None:
            return None
        return APLogEntry(
            ap=ap,
            at=since,
            signature=track.episode_signature or track.last_signature or "?",
            meaning=track.episode_meaning or "the AP rejected the image's signing certificate",
            line=track.episode_line or "",
            lines=max(track.episode_lines, 1),
        )

    def states(self, controller: str | None = None) -> list[APLogState]:
        """Tracked APs (copies), most recently heard last."""
        return [
            replace(s, track=replace(s.track))
            for s in self._states.values()
            if controller is None or s.controller == controller
        ]

    def state(self, controller: str, ap: str) -> APLogState | None:
        return self._states.get((controller, ap))

    def unknown_senders(self) -> list[UnknownSender]:
        """Senders no snapshot names, most recently heard first (bounded by `max_unknown`)."""
        return [replace(u, track=replace(u.track)) for u in reversed(self._unknown.values())]

    @property
    def tracked_aps(self) -> int:
        return len(self._states)


__all__ = [
    "CYCLE_GAP",
    "DEFAULT_MAX_APS",
    "DEFAULT_MAX_UNKNOWN",
    "DEFAULT_WINDOW",
    "APLogState",
    "Correlator",
    "CorrelatorStats",
    "FailureTrack",
    "Observation",
    "Resolution",
    "UnknownSender",
    "normalise_ip",
]
