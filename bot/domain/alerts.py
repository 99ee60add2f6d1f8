"""Alert rules: when a controller's verdict becomes a page, an update, or nothing.

Pure: the caller passes the latest `ControllerVerdict`, what the store
remembers (first time each AP was seen Downloading, the open alerts and the
recently resolved ones, how many checks in a row failed to reach the
controller) and `now`; `evaluate_alerts` answers with plain decisions. The
store keeps each decision's `payload` (a JSON-able dict), the views render it.

Two kinds of alert, at most one open per controller and kind:

``stuck`` — affected APs that loop in Downloading (CSCwd80290)
    The verdict's `downloading_aps` are only *candidates* here: an affected AP
    Downloading on unprotected software is also what a normal image download
    looks like for a while. A candidate becomes *stuck* once it has been seen
    Downloading continuously for `policy.stuck_after` (measured from
    `downloading_since[name]` to the poll that saw it, `verdict.taken_at`, so a
    late evaluation never calls an AP stuck that nobody saw still Downloading;
    exactly at the threshold counts), or at once when its own syslog confirmed
    the certificate failure (`confirmed[name]`). Once in an alert, an AP stays
    in it while it is still a candidate (hysteresis: a store that lost its
    `downloading_since` cannot make it flap out and back in).

    - no open alert, some AP stuck → `OpenAlert`
    - open alert, the set of stuck APs changed, or an AP in it was newly
      confirmed by its AP log → `UpdateAlert` (added / removed / confirmed
      names for the thread; the message is updated in place)
    - open alert, no AP stuck any more → `ResolveAlert`
    - anything else → nothing: an unchanged alert is never re-posted (a growing
      "stuck for" duration is not a change).

    Missing data never resolves: while the controller is `unreachable`, or was
    only partly read without any stuck AP (`error`), the stuck alert stays open
    and unchanged. After a partial read that still found stuck APs, new stuck
    APs are added, but an AP leaves the alert only when the controller
    positively showed it elsewhere (a state in `ap_states`, or Downloading on
    software that now protects it).

``unreachable`` — the controller cannot be read
    Counted in checks, not time: `unreachable_checks` is the number of
    consecutive checks, including this one, whose verdict was `unreachable`
    (the caller resets it to 0 on any read, even a partial one). Checks are what
    the operator configures and sees; a count needs no clock arithmetic against
    a poll interval that can change, and "2 checks in a row" is what the alert
    says. The alert opens when the count reaches
    `policy.unreachable_after_checks` (default 2, so one dropped SSH session
    pages nobody) and resolves on the first check that reads the controller
    again (`error` counts as read: SSH answered).

    Flapping: if an unreachable alert for this controller was resolved less
    than `policy.dedupe_window` ago (strictly less; default 60 min) and the
    controller is unreachable again for the threshold number of checks, the
    decision is `ReopenAlert` for *that* alert (its `alert_id` is passed back):
    the store marks it open again, updates the original message in place and
    posts a thread note. No new top-level message, so a controller that drops
    every few checks produces one alert with a thread, not a channel full.
    After the window a new incident gets a new `OpenAlert`.
    `policy.dedupe_kinds` names the kinds this applies to; `stuck` is not in
    it by default, because APs stuck again after a fix must page loudly (the
    stuck threshold already debounces them).

Decisions come stuck first, then unreachable; at most one per kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.domain.verdict import ActionKind, APFinding, ControllerVerdict, VerdictStatus

PAYLOAD_VERSION = 1


class AlertKind(StrEnum):
    STUCK = "stuck"
    UNREACHABLE = "unreachable"


class AlertState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class AlertPolicy:
    """The knobs. `stuck_after` is `CCERT_STUCK_AFTER_MINUTES` (default 30)."""

    stuck_after: timedelta = timedelta(minutes=30)
    unreachable_after_checks: int = 2
    dedupe_window: timedelta = timedelta(minutes=60)
    dedupe_kinds: frozenset[AlertKind] = frozenset({AlertKind.UNREACHABLE})

    def __post_init__(self) -> None:
        if self.stuck_after < timedelta(0):
            raise ValueError("stuck_after must not be negative")
        if self.unreachable_after_checks < 1:
            raise ValueError("unreachable_after_checks must be at least 1")
        if self.dedupe_window < timedelta(0):
            raise ValueError("dedupe_window must not be negative")

    @classmethod
    def from_minutes(
        cls,
        stuck_after_minutes: float = 30,
        unreachable_after_checks: int = 2,
        dedupe_window_minutes: float = 60,
    ) -> AlertPolicy:
        """Build from the settings' plain numbers."""
        return cls(
            stuck_after=timedelta(minutes=stuck_after_minutes),
            unreachable_after_checks=unreachable_after_checks,
            dedupe_window=timedelta(minutes=dedupe_window_minutes),
        )


DEFAULT_POLICY = AlertPolicy()


@dataclass(frozen=True)
class OpenAlertState:
    """An open alert as the store remembers it.

    `stuck_aps` is the set of AP names the alert currently lists (empty for
    `unreachable`); `payload` the last payload stored; `alert_id` whatever the
    store uses to find it again (passed back in decisions, never interpreted).
    """

    kind: AlertKind
    opened_at: datetime
    stuck_aps: frozenset[str] = frozenset()
    payload: Mapping[str, Any] = field(default_factory=dict)
    alert_id: str | int | None = None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], alert_id: str | int | None = None) -> OpenAlertState:
        """Rebuild the state from a stored payload alone. `opened_at` is the
        last (re)opening, so a resolve note says how long *this* episode lasted."""
        return cls(
            kind=AlertKind(payload["kind"]),
            opened_at=datetime.fromisoformat(payload.get("reopened_at") or payload["opened_at"]),
            stuck_aps=frozenset(ap["name"] for ap in payload.get("stuck_aps", ())),
            payload=payload,
            alert_id=alert_id,
        )

    @property
    def confirmed_aps(self) -> frozenset[str]:
        return frozenset(ap["name"] for ap in self.payload.get("stuck_aps", ()) if ap.get("confirmed"))


@dataclass(frozen=True)
class ResolvedAlertState:
    """A recently resolved alert, for the dedupe window. A bare `datetime`
    (the resolve time) is accepted wherever this is."""

    resolved_at: datetime
    alert_id: str | int | None = None
    payload: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class StuckAP:
    """An affected AP Downloading on unprotected software, judged against the threshold."""

    name: str
    model: str | None
    since: datetime
    stuck: bool
    confirmed: bool = False
    confirmed_at: datetime | None = None
    image_version: str | None = None
    ip: str | None = None

    def duration(self, at: datetime) -> timedelta:
        return _utc(at) - self.since

    def to_payload(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model,
            "since": self.since.isoformat(),
            "confirmed": self.confirmed,
            "confirmed_at": self.confirmed_at.isoformat() if self.confirmed_at else None,
            "image_version": self.image_version,
            "ip": self.ip,
        }


@dataclass(frozen=True)
class ClearedAP:
    """An AP that left a stuck alert. `state` is what the controller says it is
    now (`Registered`, …), a phrase for the special cases, or None when unknown."""

    name: str
    state: str | None = None


NOT_LISTED = "not listed on the controller any more"
FIXED_NOW = "Downloading on software that fixes it"


@dataclass(frozen=True)
class OpenAlert:
    """Post a new top-level alert."""

    kind: AlertKind
    controller: str
    site: str | None
    at: datetime
    payload: dict[str, Any]
    stuck_aps: tuple[str, ...] = ()


@dataclass(frozen=True)
class UpdateAlert:
    """Update the alert message in place and say what changed in its thread."""

    kind: AlertKind
    controller: str
    site: str | None
    at: datetime
    payload: dict[str, Any]
    stuck_aps: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[ClearedAP, ...] = ()
    confirmed: tuple[str, ...] = ()
    alert_id: str | int | None = None


@dataclass(frozen=True)
class ResolveAlert:
    """Mark the alert resolved: update the message, short note in the thread."""

    kind: AlertKind
    controller: str
    site: str | None
    at: datetime
    payload: dict[str, Any]
    opened_at: datetime | None = None
    removed: tuple[ClearedAP, ...] = ()
    alert_id: str | int | None = None

    @property
    def open_for(self) -> timedelta | None:
        return None if self.opened_at is None else _utc(self.at) - _utc(self.opened_at)


@dataclass(frozen=True)
class ReopenAlert:
    """Re-open a recently resolved alert (flapping): update the original message
    in place and add a thread note; never a new top-level post."""

    kind: AlertKind
    controller: str
    site: str | None
    at: datetime
    payload: dict[str, Any]
    resolved_at: datetime
    stuck_aps: tuple[str, ...] = ()
    alert_id: str | int | None = None

    @property
    def quiet_for(self) -> timedelta:
        """How long the alert had been resolved."""
        return _utc(self.at) - _utc(self.resolved_at)


AlertDecision = OpenAlert | UpdateAlert | ResolveAlert | ReopenAlert


def newly_confirmed(decision: AlertDecision) -> tuple[str, ...]:
    """The APs `decision` newly shows as confirmed by their own log: every confirmed AP of an
    alert that opens or re-opens; of an update, the listed APs it confirms and the confirmed
    ones it adds. What the alert's thread says more about (which AP logged what, when)."""
    if decision.kind is not AlertKind.STUCK or isinstance(decision, ResolveAlert):
        return ()
    confirmed = {ap.get("name") for ap in decision.payload.get("stuck_aps", ()) if ap.get("confirmed")}
    if isinstance(decision, UpdateAlert):
        names = {*decision.confirmed, *(name for name in decision.added if name in confirmed)}
    else:
        names = {name for name in confirmed if isinstance(name, str)}
    return tuple(sorted(names))


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _utc(value: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken as UTC (the store writes UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else _utc(value).isoformat()


def _by_kind(mapping: Mapping[Any, Any] | None) -> dict[AlertKind, Any]:
    return {AlertKind(k): v for k, v in (mapping or {}).items()}


def _resolved(value: datetime | ResolvedAlertState) -> ResolvedAlertState:
    return ResolvedAlertState(resolved_at=value) if isinstance(value, datetime) else value


def ap_data_known(verdict: ControllerVerdict) -> bool:
    """Whether this verdict says anything about the APs (False: unreachable, or
    only partly read with nothing stuck; the stuck alert must then stay as it is)."""
    return verdict.status not in {VerdictStatus.UNREACHABLE, VerdictStatus.ERROR}


def downloading_names(verdict: ControllerVerdict) -> set[str]:
    """Every AP the verdict saw Downloading/Predownloading (stuck candidates or not)."""
    return {f.ap.name for f in (*verdict.downloading_aps, *verdict.downloading_normal, *verdict.downloading_unknown)}


def next_downloading_since(previous: Mapping[str, datetime], verdict: ControllerVerdict) -> dict[str, datetime]:
    """The `downloading_since` map to store after this check.

    APs still Downloading keep their first-seen time, new ones get the poll
    time, the others are dropped. A check that says nothing about the APs
    (unreachable, partial read) keeps the previous map: a gap in the data is
    not evidence that the AP left Downloading.
    """
    if not ap_data_known(verdict):
        return dict(previous)
    taken = _utc(verdict.taken_at)
    return {name: previous.get(name, taken) for name in sorted(downloading_names(verdict))}


def stuck_candidates(
    verdict: ControllerVerdict,
    downloading_since: Mapping[str, datetime],
    policy: AlertPolicy = DEFAULT_POLICY,
    confirmed: Mapping[str, datetime] | None = None,
    already_stuck: Iterable[str] = (),
) -> list[StuckAP]:
    """Judge each candidate (the verdict's `downloading_aps`) against the threshold.

    An AP without a `downloading_since` entry was first seen at this poll.
    `already_stuck` names APs an open alert lists: they stay stuck while they
    remain candidates. Sorted by name.
    """
    confirmed = confirmed or {}
    keep = set(already_stuck)
    taken = _utc(verdict.taken_at)
    out: list[StuckAP] = []
    for finding in sorted(verdict.downloading_aps, key=lambda f: f.ap.name):
        name = finding.ap.name
        since = _utc(downloading_since.get(name, taken))
        confirmed_at = confirmed.get(name)
        is_confirmed = confirmed_at is not None
        stuck = is_confirmed or taken - since >= policy.stuck_after or name in keep
        out.append(_stuck_ap(finding, since, stuck, confirmed_at))
    return out


def _stuck_ap(finding: APFinding, since: datetime, stuck: bool, confirmed_at: datetime | None) -> StuckAP:
    ap = finding.ap
    return StuckAP(
        name=ap.name,
        model=ap.model,
        since=since,
        stuck=stuck,
        confirmed=confirmed_at is not None,
        confirmed_at=_utc(confirmed_at) if confirmed_at is not None else None,
        image_version=ap.image_version,
        ip=ap.ip,
    )


def _listed_since(payload: Mapping[str, Any]) -> dict[str, datetime]:
    return {
        ap["name"]: _utc(datetime.fromisoformat(ap["since"])) for ap in payload.get("stuck_aps", ()) if ap.get("since")
    }


def _kept_from_payload(name: str, payload: Mapping[str, Any], default_since: datetime) -> StuckAP:
    """An AP the open alert lists, as it was listed (kept through a partial read)."""
    entry: Mapping[str, Any] = next((ap for ap in payload.get("stuck_aps", ()) if ap.get("name") == name), {})
    confirmed_at = entry.get("confirmed_at")
    return StuckAP(
        name=name,
        model=entry.get("model"),
        since=_utc(datetime.fromisoformat(entry["since"])) if entry.get("since") else _utc(default_since),
        stuck=True,
        confirmed=bool(entry.get("confirmed")),
        confirmed_at=_utc(datetime.fromisoformat(confirmed_at)) if confirmed_at else None,
        image_version=entry.get("image_version"),
        ip=entry.get("ip"),
    )


def _controller_payload(
    verdict: ControllerVerdict, kind: AlertKind, now: datetime, previous: Mapping[str, Any] | None
) -> dict[str, Any]:
    previous = previous or {}
    return {
        "v": PAYLOAD_VERSION,
        "kind": kind.value,
        "controller": verdict.controller,
        "site": verdict.site,
        "platform": verdict.platform,
        "host": verdict.host,
        "checked_at": _iso(verdict.taken_at),
        "opened_at": previous.get("opened_at") or _iso(now),
        "updated_at": _iso(now),
        "resolved_at": None,
        "reopened": int(previous.get("reopened", 0)),
        "reopened_at": previous.get("reopened_at"),
    }


_ACTION_KINDS = (ActionKind.TIMEBACK_PLAYBOOK, ActionKind.STAGING_CONTROLLER, ActionKind.UPGRADE)


def stuck_payload(
    verdict: ControllerVerdict,
    stuck: Iterable[StuckAP],
    now: datetime,
    previous: Mapping[str, Any] | None = None,
    cleared: Iterable[ClearedAP] = (),
) -> dict[str, Any]:
    """The JSON-able payload of a stuck alert.

    Keys: v, kind, controller, site, platform, host, checked_at, opened_at,
    updated_at, resolved_at, reopened, reopened_at, stuck_aps [{name, model, since, confirmed,
    confirmed_at, image_version, ip}], recovered [{name, model, since, state,
    at}] (APs that left the alert, oldest first),
    software_version, apsps, fix_state, fix_reason, recommendation,
    timeback_possible, timeback_target, timeback_reason, actions [{kind, text}],
    incomplete [reason] (why this check's AP list was not the whole list).
    `previous` (the open or re-opened alert's payload) keeps `opened_at`,
    `reopened` and `recovered`.
    """
    payload = _controller_payload(verdict, AlertKind.STUCK, now, previous)
    recovered = _recovered(previous or {}, cleared, now)
    plan = verdict.timeback
    payload |= {
        "stuck_aps": [s.to_payload() for s in stuck],
        "recovered": recovered,
        "software_version": verdict.software_version,
        "apsps": list(verdict.apsps),
        "fix_state": verdict.fix.state.value if verdict.fix else None,
        "fix_reason": verdict.fix.reason if verdict.fix else None,
        "recommendation": verdict.recommendation.text if verdict.recommendation else None,
        "timeback_possible": plan.possible if plan else None,
        "timeback_target": _iso(plan.target) if plan and plan.target else None,
        "timeback_reason": plan.reason if plan else None,
        "actions": [{"kind": a.kind.value, "text": a.text} for a in verdict.actions if a.kind in _ACTION_KINDS],
        "incomplete": list(verdict.incomplete),
    }
    return payload


def unreachable_payload(
    verdict: ControllerVerdict,
    failed_checks: int,
    now: datetime,
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON-able payload of an unreachable alert.

    Keys: v, kind, controller, site, platform, host, checked_at, opened_at,
    updated_at, resolved_at, reopened (how many times the alert was re-opened
    within the dedupe window), reopened_at (the last time), failed_checks,
    failure (the `ErrorKind` value: unreachable, auth_failed, timeout, host_key), errors [text].
    """
    payload = _controller_payload(verdict, AlertKind.UNREACHABLE, now, previous)
    payload |= {
        "failed_checks": failed_checks,
        "failure": verdict.failure.value if verdict.failure else None,
        "errors": [f"{e.kind.value}: {e.message}" for e in verdict.errors],
    }
    return payload


def resolved_payload(previous: Mapping[str, Any], now: datetime, cleared: Iterable[ClearedAP] = ()) -> dict[str, Any]:
    """The open payload marked resolved; a stuck alert's last APs move to
    `recovered` and `stuck_aps` becomes empty."""
    payload = dict(previous)
    payload["resolved_at"] = _iso(now)
    payload["updated_at"] = _iso(now)
    if payload.get("kind") == AlertKind.STUCK.value:
        payload["recovered"] = _recovered(previous, cleared, now)
        payload["stuck_aps"] = []
    return payload


def _recovered(previous: Mapping[str, Any], cleared: Iterable[ClearedAP], now: datetime) -> list[dict[str, Any]]:
    """The payload's `recovered` list plus the APs that just left the alert
    (with the model and since they were listed with)."""
    listed = {ap.get("name"): ap for ap in previous.get("stuck_aps", ())}
    out = [dict(r) for r in previous.get("recovered", ())]
    for c in cleared:
        entry = listed.get(c.name, {})
        out.append(
            {
                "name": c.name,
                "model": entry.get("model"),
                "since": entry.get("since"),
                "state": c.state,
                "at": _iso(now),
            }
        )
    return out


def _cleared_state(name: str, verdict: ControllerVerdict, ap_states: Mapping[str, str | None] | None) -> str | None:
    if name in {f.ap.name for f in verdict.downloading_normal}:
        return FIXED_NOW
    if ap_states is None:
        return None
    if name not in ap_states:
        return NOT_LISTED
    return ap_states[name] or None


# ---------------------------------------------------------------------------
# the rules
# ---------------------------------------------------------------------------


def _within_dedupe(kind: AlertKind, resolved: ResolvedAlertState, now: datetime, policy: AlertPolicy) -> bool:
    """Resolved less than `dedupe_window` ago (strictly), for a kind that dedupes."""
    return kind in policy.dedupe_kinds and now - _utc(resolved.resolved_at) < policy.dedupe_window


def _stuck_decision(
    verdict: ControllerVerdict,
    *,
    downloading_since: Mapping[str, datetime],
    open_alert: OpenAlertState | None,
    resolved: ResolvedAlertState | None,
    now: datetime,
    policy: AlertPolicy,
    confirmed: Mapping[str, datetime] | None,
    ap_states: Mapping[str, str | None] | None,
) -> AlertDecision | None:
    if not ap_data_known(verdict):
        return None
    old = open_alert.stuck_aps if open_alert else frozenset()
    # an AP the store lost the first-seen time of keeps the one the alert shows
    since_map = {**_listed_since(open_alert.payload if open_alert else {}), **downloading_since}
    judged = stuck_candidates(verdict, since_map, policy, confirmed, already_stuck=old)
    stuck = [s for s in judged if s.stuck]
    names = {s.name for s in stuck}

    # After a partial read an AP leaves the alert only if it was positively seen elsewhere.
    if verdict.errors and open_alert is not None:
        candidates = {s.name for s in judged}
        for gone in sorted(old - candidates):
            if _cleared_state(gone, verdict, ap_states) in {None, NOT_LISTED}:
                stuck.append(_kept_from_payload(gone, open_alert.payload, verdict.taken_at))
                names.add(gone)
        stuck.sort(key=lambda s: s.name)

    kind = AlertKind.STUCK
    if open_alert is None:
        if not stuck:
            return None
        if resolved is not None and _within_dedupe(kind, resolved, now, policy):
            payload = stuck_payload(verdict, stuck, now, previous=resolved.payload)
            return _reopen(kind, verdict, now, payload, resolved, tuple(sorted(names)))
        return OpenAlert(
            kind, verdict.controller, verdict.site, now, stuck_payload(verdict, stuck, now), tuple(sorted(names))
        )

    removed = tuple(ClearedAP(n, _cleared_state(n, verdict, ap_states)) for n in sorted(old - names))
    if not stuck:
        return ResolveAlert(
            kind,
            verdict.controller,
            verdict.site,
            now,
            resolved_payload(open_alert.payload, now, removed),
            _utc(open_alert.opened_at),
            removed,
            open_alert.alert_id,
        )
    added = tuple(sorted(names - old))
    newly_confirmed = tuple(s.name for s in stuck if s.confirmed and s.name in old - open_alert.confirmed_aps)
    if not added and not removed and not newly_confirmed:
        return None
    payload = stuck_payload(verdict, stuck, now, previous=open_alert.payload, cleared=removed)
    return UpdateAlert(
        kind,
        verdict.controller,
        verdict.site,
        now,
        payload,
        tuple(sorted(names)),
        added,
        removed,
        newly_confirmed,
        open_alert.alert_id,
    )


def _unreachable_decision(
    verdict: ControllerVerdict,
    *,
    open_alert: OpenAlertState | None,
    resolved: ResolvedAlertState | None,
    unreachable_checks: int,
    now: datetime,
    policy: AlertPolicy,
) -> AlertDecision | None:
    kind = AlertKind.UNREACHABLE
    if verdict.status is not VerdictStatus.UNREACHABLE:
        if open_alert is None:
            return None
        return ResolveAlert(
            kind,
            verdict.controller,
            verdict.site,
            now,
            resolved_payload(open_alert.payload, now),
            _utc(open_alert.opened_at),
            alert_id=open_alert.alert_id,
        )
    checks = max(unreachable_checks, 1)  # this check failed, whatever the caller counted
    if open_alert is not None or checks < policy.unreachable_after_checks:
        return None
    if resolved is not None and _within_dedupe(kind, resolved, now, policy):
        payload = unreachable_payload(verdict, checks, now, previous=resolved.payload)
        return _reopen(kind, verdict, now, payload, resolved)
    return OpenAlert(kind, verdict.controller, verdict.site, now, unreachable_payload(verdict, checks, now))


def evaluate_alerts(
    verdict: ControllerVerdict,
    *,
    downloading_since: Mapping[str, datetime],
    now: datetime,
    open_alerts: Mapping[AlertKind | str, OpenAlertState] | None = None,
    recently_resolved: Mapping[AlertKind | str, datetime | ResolvedAlertState] | None = None,
    unreachable_checks: int = 0,
    policy: AlertPolicy = DEFAULT_POLICY,
    confirmed: Mapping[str, datetime] | None = None,
    ap_states: Mapping[str, str | None] | None = None,
) -> list[AlertDecision]:
    """What to do about one controller's alerts after a check (see the module doc).

    - `downloading_since`: AP name → first time seen Downloading continuously
      (`next_downloading_since` computes the map to store).
    - `open_alerts`: this controller's open alerts by kind.
    - `recently_resolved`: this controller's last resolved alert per kind
      (older ones may be passed; the dedupe window is checked here).
    - `unreachable_checks`: consecutive checks, this one included, that found
      the controller unreachable (0 after any read).
    - `confirmed`: AP name → time its own log confirmed the certificate failure.
    - `ap_states`: optional AP name → state from the snapshot, so the thread
      can say what an AP that is no longer stuck is doing now.
    """
    now = _utc(now)
    opened = _by_kind(open_alerts)
    resolved = {k: _resolved(v) for k, v in _by_kind(recently_resolved).items()}
    decisions: list[AlertDecision] = []
    stuck = _stuck_decision(
        verdict,
        downloading_since=downloading_since,
        open_alert=opened.get(AlertKind.STUCK),
        resolved=resolved.get(AlertKind.STUCK),
        now=now,
        policy=policy,
        confirmed=confirmed,
        ap_states=ap_states,
    )
    if stuck is not None:
        decisions.append(stuck)
    unreachable = _unreachable_decision(
        verdict,
        open_alert=opened.get(AlertKind.UNREACHABLE),
        resolved=resolved.get(AlertKind.UNREACHABLE),
        unreachable_checks=unreachable_checks,
        now=now,
        policy=policy,
    )
    if unreachable is not None:
        decisions.append(unreachable)
    return decisions


__all__ = [
    "DEFAULT_POLICY",
    "FIXED_NOW",
    "NOT_LISTED",
    "PAYLOAD_VERSION",
    "AlertDecision",
    "AlertKind",
    "AlertPolicy",
    "AlertState",
    "ClearedAP",
    "OpenAlert",
    "OpenAlertState",
    "ReopenAlert",
    "ResolveAlert",
    "ResolvedAlertState",
    "StuckAP",
    "UpdateAlert",
    "ap_data_known",
    "downloading_names",
    "evaluate_alerts",
    "newly_confirmed",
    "next_downloading_since",
    "resolved_payload",
    "stuck_candidates",
    "stuck_payload",
    "unreachable_payload",
]


def _reopen(
    kind: AlertKind,
    verdict: ControllerVerdict,
    now: datetime,
    payload: dict[str, Any],
    resolved: ResolvedAlertState,
    stuck_aps: tuple[str, ...] = (),
) -> ReopenAlert:
    """The same incident back within the dedupe window: count it, keep its message and thread."""
    payload["reopened"] += 1
    payload["reopened_at"] = _iso(now)
    return ReopenAlert(
        kind, verdict.controller, verdict.site, now, payload, _utc(resolved.resolved_at), stuck_aps, resolved.alert_id
    )
