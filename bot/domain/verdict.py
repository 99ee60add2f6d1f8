"""Verdicts: what one poll means for CSCwd80290, per controller and per site.

A verdict turns a `ControllerSnapshot` into a status, the evidence behind
it (stuck APs with their classification, counts, fix status, time-back
plan), loud findings about the controller clock and NTP, and structured
recommended actions. The chat, the alert rules and the JSON output all
read the same verdict, so they cannot disagree about a controller.

Status severity, worst first (a site takes its worst controller's status):

    stuck > downloading > unreachable > error > at-risk > ok

One vocabulary for APs in Downloading, everywhere the bot speaks:

- *downloading (for N min)*: an affected or likely-affected AP is
  Downloading/Predownloading and the software does not protect its model.
  That is also what a normal image download looks like for a while, so the
  verdict says how long it has been seen so (`DownloadWatch.since`, from
  earlier checks; an AP seen for the first time has been downloading for 0
  minutes).
- *stuck*: such an AP seen Downloading for at least `stuck_after`
  (`CCERT_STUCK_AFTER_MINUTES`), or confirmed by its own log (the
  certificate failure in its syslog), or already listed in an open stuck
  alert. The alert rules, the digest and `status` all use this one test.

- `stuck`: at least one AP is stuck. Ranked first because APs are down now;
  it wins even over a partial read (what we did read is enough).
- `downloading`: affected APs are downloading on unprotected software, none
  stuck yet: they will loop unless the download is a normal one finishing.
- `unreachable`: a connection-level error (unreachable, timeout, auth, host
  key) and nothing read. Above `error` because we know nothing at all.
- `error`: something was read but a command failed or could not be parsed,
  or the read was *incomplete* (the controller counted more APs than it
  listed, or lines of its AP table could not be read), or nothing was read
  without a connection error. Above `at-risk` because a partial read may
  hide stuck APs; the at-risk evidence is kept. Never `ok`.
- `at-risk`: affected APs are present and the software does not protect
  them (or we cannot tell), none downloading; any AP image download will
  loop. Also when a failover peer runs other software its APs would have to
  download and that software does not protect them.
- `ok`: none of the above.

A hand-set or 2022 clock and a controller without NTP servers do not change
the status (they are not CSCwd80290 itself) but are findings of their own
with `critical` severity: a time-back that left NTP deleted or a 2022 clock
behind is the worst outcome the bot can cause, so it is never quiet.

Pure: no chat, device or storage imports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.domain.advisory_data import Advisory, ModelCategory
from bot.domain.advisory_file import load_advisory
from bot.domain.ap_models import ModelClass, classify_model
from bot.domain.jsonable import to_jsonable
from bot.domain.models import (
    CONNECTION_ERROR_KINDS,
    AccessPoint,
    ControllerSnapshot,
    ErrorKind,
    PlatformName,
    SnapshotError,
)
from bot.domain.software_fix import FixState, FixStatus, Recommendation, recommended_release, software_fix
from bot.domain.timeback import TimebackPlan, timeback_target
from bot.domain.versions import parse_version


class VerdictStatus(StrEnum):
    OK = "ok"
    AT_RISK = "at-risk"
    ERROR = "error"
    UNREACHABLE = "unreachable"
    DOWNLOADING = "downloading"
    STUCK = "stuck"

    @property
    def severity(self) -> int:
        """Higher is worse; see the module docstring for why this order."""
        return _SEVERITY[self]


_SEVERITY = {
    VerdictStatus.OK: 0,
    VerdictStatus.AT_RISK: 1,
    VerdictStatus.ERROR: 2,
    VerdictStatus.UNREACHABLE: 3,
    VerdictStatus.DOWNLOADING: 4,
    VerdictStatus.STUCK: 5,
}


def worst_status(statuses: Iterable[VerdictStatus]) -> VerdictStatus:
    """The most severe status; `ok` for an empty iterable."""
    return max(statuses, key=lambda s: s.severity, default=VerdictStatus.OK)


class ActionKind(StrEnum):
    TIMEBACK_PLAYBOOK = "timeback_playbook"
    UPGRADE = "upgrade"
    STAGING_CONTROLLER = "staging_controller"
    RESTORE_NTP = "restore_ntp"
    INVESTIGATE = "investigate"


@dataclass(frozen=True)
class Action:
    """A recommended next step. `kind` is what a button or playbook keys on;
    `text` is what a human reads; `ap_names` lists the APs it concerns."""

    kind: ActionKind
    text: str
    ap_names: tuple[str, ...] = ()


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """A warning or note beside the status. `code` is stable for alert rules."""

    code: str
    severity: Severity
    text: str


@dataclass(frozen=True)
class APFinding:
    """One AP with what the advisory says about it on this controller.

    `protected` is `FixStatus.protects()`: True safe, False at risk, None unknown.
    For an AP in Downloading: `since` is when it was first seen so, `stuck`
    whether it counts as stuck (see the module docstring), `confirmed_at` when
    its own log confirmed the certificate failure.
    """

    ap: AccessPoint
    classification: ModelClass
    protected: bool | None
    since: datetime | None = None
    stuck: bool = False
    confirmed_at: datetime | None = None

    def downloading_minutes(self, at: datetime) -> int | None:
        """Whole minutes seen Downloading up to `at` (the poll), None when not downloading."""
        if self.since is None:
            return None
        return max(0, int((_utc(at) - _utc(self.since)).total_seconds() // 60))

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


@dataclass(frozen=True)
class DownloadWatch:
    """What earlier checks know about a controller's APs in Downloading.

    `since`: AP name → first seen Downloading, continuously (the store's AP
    state tracking); an AP not in it is seen for the first time now.
    `confirmed`: AP name → when its own log confirmed the certificate failure.
    `already_stuck`: APs an open stuck alert lists (they stay stuck while
    still downloading, so a lost `since` cannot make them flap).
    """

    since: Mapping[str, datetime] = field(default_factory=dict)
    confirmed: Mapping[str, datetime] = field(default_factory=dict)
    stuck_after: timedelta = timedelta(minutes=30)
    already_stuck: frozenset[str] = frozenset()


NO_HISTORY = DownloadWatch()


@dataclass(frozen=True)
class FailoverRisk:
    """APs that would have to download if `controller` failed over to `peer`, and loop.

    `aps` counts the affected APs joined to `controller` that the peer's
    software does not protect; the versions are as each controller printed.
    """

    controller: str
    peer: str
    aps: int
    version: str
    peer_version: str

    @property
    def text(self) -> str:
        return (
            f"if {self.controller} fails, {self.aps} IOS AP{'s' if self.aps != 1 else ''} will download from "
            f"{self.peer} ({self.version} ≠ {self.peer_version}) and get stuck"
        )


# How an AP without a model is listed among the unknown models (it is not a model to classify).
NO_MODEL = "(no model reported)"

# Findings that warn before APs get stuck: kept with check history for the digest.
RISK_CODES = frozenset({"failover_risk", "predownload_risk"})

# States the bot understands; anything else is kept, counted and reported.
KNOWN_AP_STATES = frozenset({"registered", "downloading", "predownloading"})

_CONNECTION_KINDS = CONNECTION_ERROR_KINDS

# A clock this close after the image cert expiry (or earlier) is a time-back
# clock; a day covers AireOS printing local time without a zone.
_CLOCK_SLACK = timedelta(days=1)


@dataclass
class ControllerVerdict:
    """The CSCwd80290 verdict for one controller at one poll.

    Counts: `affected_count` (named by the notice), `likely_affected_count`
    (older IOS APs not named), `not_affected_count`, `unknown_model_count`;
    `at_risk_count` is affected + likely-affected APs the software does not
    protect (or cannot be shown to protect).
    """

    controller: str
    platform: PlatformName
    host: str
    taken_at: datetime
    status: VerdictStatus
    site: str | None = None
    reasons: list[str] = field(default_factory=list)
    software_version: str | None = None
    apsps: list[str] = field(default_factory=list)
    fix: FixStatus | None = None
    recommendation: Recommendation | None = None
    timeback: TimebackPlan | None = None
    downloading_aps: list[APFinding] = field(default_factory=list)
    stuck_aps: list[APFinding] = field(default_factory=list)
    predownloading_aps: list[APFinding] = field(default_factory=list)
    failover_risks: list[FailoverRisk] = field(default_factory=list)
    downloading_normal: list[APFinding] = field(default_factory=list)
    downloading_unknown: list[APFinding] = field(default_factory=list)
    total_aps: int = 0
    aps_read: bool = False
    declared_ap_count: int | None = None
    incomplete: list[str] = field(default_factory=list)
    failure: ErrorKind | None = None
    software_raw: str | None = None
    affected_count: int = 0
    likely_affected_count: int = 0
    not_affected_count: int = 0
    unknown_model_count: int = 0
    at_risk_count: int = 0
    unknown_models: list[str] = field(default_factory=list)
    state_counts: dict[str, int] = field(default_factory=dict)
    unrecognized_states: list[str] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    errors: list[SnapshotError] = field(default_factory=list)

    @property
    def severity(self) -> int:
        return self.status.severity

    @property
    def critical(self) -> bool:
        """True when a finding must be shouted about (NTP gone, 2022 clock)."""
        return any(w.severity is Severity.CRITICAL for w in self.warnings)

    @property
    def summary(self) -> str:
        parts = [f"{self.controller}: {self.status.value}"]
        if self.stuck_aps:
            parts.append(f"{len(self.stuck_aps)} AP(s) stuck downloading")
        waiting = len(self.downloading_aps) - len(self.stuck_aps)
        if waiting:
            parts.append(f"{waiting} affected AP(s) downloading, not stuck yet")
        if self.incomplete:
            parts.append("incomplete read: " + "; ".join(self.incomplete))
        if self.at_risk_count:
            parts.append(f"{self.at_risk_count} affected AP(s) not protected by the software")
        if self.critical:
            parts.append("CRITICAL: " + "; ".join(w.text for w in self.warnings if w.severity is Severity.CRITICAL))
        return " — ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        data = to_jsonable(self)
        data["severity"] = self.severity
        data["critical"] = self.critical
        data["summary"] = self.summary
        data["complete"] = not self.incomplete and self.aps_read
        for key, findings in (("downloading_aps", self.downloading_aps), ("stuck_aps", self.stuck_aps)):
            for item, finding in zip(data[key], findings, strict=True):
                item["downloading_minutes"] = finding.downloading_minutes(self.taken_at)
        for item, risk in zip(data["failover_risks"], self.failover_risks, strict=True):
            item["text"] = risk.text
        if not self.aps_read:
            # Facts not read are absent, not zero.
            for key in (
                "total_aps",
                "affected_count",
                "likely_affected_count",
                "not_affected_count",
                "unknown_model_count",
                "at_risk_count",
            ):
                data[key] = None
        return data


@dataclass
class SiteVerdict:
    """A site's controllers together: the worst status, with totals."""

    site: str
    status: VerdictStatus
    controllers: list[ControllerVerdict] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    status_counts: dict[str, int] = field(default_factory=dict)
    total_aps: int = 0
    stuck_count: int = 0
    downloading_count: int = 0
    incomplete_count: int = 0
    affected_count: int = 0
    likely_affected_count: int = 0
    not_affected_count: int = 0
    unknown_model_count: int = 0
    at_risk_count: int = 0
    critical_count: int = 0

    @property
    def critical(self) -> bool:
        return self.critical_count > 0

    @classmethod
    def from_verdicts(cls, site: str, verdicts: Sequence[ControllerVerdict]) -> SiteVerdict:
        """Aggregate controller verdicts; an empty site is `error` (nothing was checked)."""
        if not verdicts:
            return cls(site, VerdictStatus.ERROR, reasons=["no controller snapshots for this site"])
        status = worst_status(v.status for v in verdicts)
        reasons = [v.summary for v in verdicts if v.status is status or v.critical]
        return cls(
            site=site,
            status=status,
            controllers=list(verdicts),
            reasons=reasons,
            status_counts=dict(Counter(v.status.value for v in verdicts)),
            total_aps=sum(v.total_aps for v in verdicts),
            stuck_count=sum(len(v.stuck_aps) for v in verdicts),
            downloading_count=sum(len(v.downloading_aps) for v in verdicts),
            incomplete_count=sum(1 for v in verdicts if v.incomplete),
            affected_count=sum(v.affected_count for v in verdicts),
            likely_affected_count=sum(v.likely_affected_count for v in verdicts),
            not_affected_count=sum(v.not_affected_count for v in verdicts),
            unknown_model_count=sum(v.unknown_model_count for v in verdicts),
            at_risk_count=sum(v.at_risk_count for v in verdicts),
            critical_count=sum(1 for v in verdicts if v.critical),
        )

    def to_dict(self) -> dict[str, Any]:
        data = to_jsonable(self)
        data["controllers"] = [v.to_dict() for v in self.controllers]
        data["critical"] = self.critical
        return data


# ---------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _read_anything(s: ControllerSnapshot) -> bool:
    return bool(
        s.software_version
        or s.software_raw
        or s.aps
        or s.aps_read
        or s.clock
        or s.certificate
        or s.ntp_servers
        or s.ntp_read
        or s.apsps
    )


def _ntp_config_read(s: ControllerSnapshot, advisory: Advisory) -> bool:
    """Whether an empty `ntp_servers` really means "none configured".

    The snapshot has no explicit flag, so infer it: a family whose clock
    command also lists the NTP servers (the advisory's `ntp_listed_with_clock`:
    AireOS `show time`) must have read its clock; IOS-XE reads them from the
    running config. A failed command naming NTP / `show time`
    (other than the optional `show ntp associations`) means unknown.
    """
    if s.ntp_read:
        return True
    for error in s.errors:
        command = (error.command or "").lower()
        if "associations" in command:
            continue
        if "ntp" in command or "show time" in command:
            return False
    facts = advisory.platform(s.platform)
    if facts is not None and facts.ntp_listed_with_clock and s.clock is None:
        return False
    # a session that broke off may never have run the NTP command
    return not any(e.kind in _CONNECTION_KINDS or e.kind is ErrorKind.DISCONNECTED for e in s.errors)


def _fmt_time(value: datetime) -> str:
    return _utc(value).strftime("%Y-%m-%d %H:%M UTC")


_RESTORE_TEXT = (
    "put the clock back: restore the saved NTP servers exactly as before, save the configuration and "
    "check the clock is in sync (AireOS `show time`, 9800 `show clock` / `show ntp associations`)"
)
_RESYNC_TEXT = (
    "the clock is not synchronised although NTP servers are configured: check they are reachable and "
    "in sync (AireOS `show time`, 9800 `show ntp associations`) and that no hand-set clock is left"
)


def _clock_findings(
    s: ControllerSnapshot, advisory: Advisory, timeback_in_progress: bool
) -> tuple[list[Finding], str | None]:
    """Findings about the clock and NTP, and the restore_ntp action text if one is needed."""
    findings: list[Finding] = []
    restore: str | None = None
    ntp_read = _ntp_config_read(s, advisory)
    no_ntp = ntp_read and not s.ntp_servers
    in_run = " (expected while a time-back run is in progress; it must be put back)" if timeback_in_progress else ""
    clock_2022 = False

    if s.clock is not None:
        clock_time = _utc(s.clock.time)
        shown = s.clock.raw.strip() or _fmt_time(clock_time)
        if clock_time < advisory.image_cert_expiry + _CLOCK_SLACK:
            clock_2022 = True
            findings.append(
                Finding(
                    "clock_set_back",
                    Severity.INFO if timeback_in_progress else Severity.CRITICAL,
                    f"controller clock reads {shown}, before the image certificate expiry: a time-back clock"
                    f"{in_run or ' left behind? Restore NTP and the current time'}",
                )
            )
        elif _utc(s.taken_at) - clock_time > _CLOCK_SLACK:
            findings.append(
                Finding(
                    "clock_behind",
                    Severity.WARNING,
                    f"controller clock reads {shown}, {_utc(s.taken_at) - clock_time} behind the poll time",
                )
            )
        if s.clock.looks_hand_set:
            bad = (no_ntp or clock_2022) and not timeback_in_progress
            findings.append(
                Finding(
                    "clock_hand_set",
                    Severity.CRITICAL if bad else Severity.WARNING,
                    f"controller clock looks set by hand, not synchronised to NTP ({shown}){in_run}",
                )
            )
            if not timeback_in_progress:
                restore = _RESYNC_TEXT
    elif _read_anything(s):
        findings.append(Finding("clock_unread", Severity.WARNING, "the controller clock could not be read"))

    if no_ntp:
        findings.append(
            Finding(
                "no_ntp",
                Severity.INFO if timeback_in_progress else Severity.CRITICAL,
                "no NTP servers configured on the controller"
                + (in_run or ": if a time-back removed them, restore the saved NTP configuration now"),
            )
        )
    elif not ntp_read and _read_anything(s):
        findings.append(
            Finding("ntp_unread", Severity.WARNING, "the NTP configuration could not be read; check it by hand")
        )
    if not timeback_in_progress and (no_ntp or clock_2022):
        restore = _RESTORE_TEXT
    return findings, restore


def _failure(s: ControllerSnapshot) -> ErrorKind | None:
    """The kind of the problem that matters most: a connection failure first, then a failed or
    unreadable command, then an incomplete read."""
    kinds = [e.kind for e in s.errors]
    for kind in kinds:
        if kind in _CONNECTION_KINDS:
            return kind
    for kind in kinds:
        if kind is not ErrorKind.INCOMPLETE:
            return kind
    return ErrorKind.INCOMPLETE if kinds else None


def evaluate_controller(
    snapshot: ControllerSnapshot,
    *,
    timeback_in_progress: bool = False,
    advisory: Advisory | None = None,
    watch: DownloadWatch = NO_HISTORY,
    failover: Sequence[FailoverRisk] = (),
) -> ControllerVerdict:
    """The verdict for one controller snapshot.

    `timeback_in_progress` says a time-back run owns this controller right
    now: a 2022 clock and missing NTP are then expected (reported as info,
    not critical, and no restore action is proposed). `watch` is what earlier
    checks know about its APs in Downloading (default: nothing, so every
    download is seen for the first time and only an AP log makes it stuck).
    `failover` are the risks of failing over to its peers (`failover_risks`;
    they need the peers' snapshots, so `evaluate_controllers` passes them).
    """
    adv = advisory or load_advisory()
    s = snapshot
    fix = software_fix(s.platform, s.software_version, s.apsps, adv)
    recommendation = recommended_release(s.platform, s.software_version, s.apsps, adv)
    verdict = ControllerVerdict(
        controller=s.name,
        platform=s.platform,
        host=s.host,
        taken_at=s.taken_at,
        status=VerdictStatus.OK,
        site=s.site,
        software_version=s.software_version,
        apsps=list(s.apsps),
        fix=fix,
        recommendation=recommendation,
        total_aps=len(s.aps),
        aps_read=s.aps_read or bool(s.aps),
        declared_ap_count=s.declared_ap_count,
        incomplete=list(s.incomplete_reasons),
        failure=_failure(s),
        software_raw=s.software_raw,
        state_counts=s.state_counts,
        errors=list(s.errors),
    )
    taken = _utc(s.taken_at)

    # --- the APs -------------------------------------------------------------
    unknown_models: dict[str, None] = {}
    at_risk_names: list[str] = []
    for ap in s.aps:
        cls = classify_model(ap.model, adv)
        protected = fix.protects(cls)
        found = APFinding(ap, cls, protected)
        match cls.category:
            case ModelCategory.AFFECTED:
                verdict.affected_count += 1
            case ModelCategory.LIKELY_AFFECTED:
                verdict.likely_affected_count += 1
            case ModelCategory.NOT_AFFECTED:
                verdict.not_affected_count += 1
            case _:
                verdict.unknown_model_count += 1
                unknown_models[ap.model or NO_MODEL] = None
        if cls.at_risk and protected is not True:
            verdict.at_risk_count += 1
            at_risk_names.append(ap.name)
        if ap.is_downloading:
            if cls.at_risk and protected is not True:
                since = _utc(watch.since.get(ap.name, taken))
                confirmed_at = watch.confirmed.get(ap.name)
                stuck = confirmed_at is not None or taken - since >= watch.stuck_after or ap.name in watch.already_stuck
                found = APFinding(ap, cls, protected, since=since, stuck=stuck, confirmed_at=confirmed_at)
                verdict.downloading_aps.append(found)
                if stuck:
                    verdict.stuck_aps.append(found)
            elif cls.category is ModelCategory.UNKNOWN:
                verdict.downloading_unknown.append(found)
            else:
                verdict.downloading_normal.append(found)
        elif ap.is_predownloading and cls.at_risk and protected is not True:
            verdict.predownloading_aps.append(found)
        state = (ap.state or "").strip()
        if state and state.lower() not in KNOWN_AP_STATES and state not in verdict.unrecognized_states:
            verdict.unrecognized_states.append(state)
    verdict.unknown_models = list(unknown_models)

    # --- status --------------------------------------------------------------
    connection_errors = [e for e in s.errors if e.kind in _CONNECTION_KINDS]
    read_anything = _read_anything(s)
    verdict.failover_risks = list(failover)
    at_risk = verdict.at_risk_count > 0 or bool(verdict.downloading_unknown) or bool(failover)
    reasons = verdict.reasons
    waiting = [f for f in verdict.downloading_aps if not f.stuck]
    others = [e for e in s.errors if e.kind is not ErrorKind.INCOMPLETE]
    if verdict.stuck_aps:
        verdict.status = VerdictStatus.STUCK
        reasons.append(
            f"{len(verdict.stuck_aps)} affected AP(s) stuck in Downloading on software that does not fix them: "
            + ", ".join(f.ap.name for f in verdict.stuck_aps)
        )
    if waiting:
        if not verdict.stuck_aps:
            verdict.status = VerdictStatus.DOWNLOADING
        reasons.append(
            f"{len(waiting)} affected AP(s) downloading on software that does not fix them, not stuck yet: "
            + ", ".join(f"{f.ap.name} ({f.downloading_minutes(taken)} min)" for f in waiting)
        )
    if verdict.incomplete:
        reasons.append("incomplete read: " + "; ".join(verdict.incomplete))
    # APs (about to be) down outrank what could not be read: only without them does a read
    # failure, or the risk, set the status.
    if not verdict.downloading_aps:
        if connection_errors and not read_anything:
            verdict.status = VerdictStatus.UNREACHABLE
            reasons.append("could not read the controller: " + "; ".join(e.message for e in connection_errors))
        elif s.errors or not read_anything:
            verdict.status = VerdictStatus.ERROR
            if others:
                reasons.append(
                    "the controller was read only partly: " + "; ".join(f"{e.kind.value}: {e.message}" for e in others)
                )
            elif not verdict.incomplete:
                reasons.append("nothing was read from the controller")
        elif at_risk:
            verdict.status = VerdictStatus.AT_RISK
    if at_risk and verdict.status is not VerdictStatus.UNREACHABLE:
        if verdict.at_risk_count:
            reasons.append(
                f"{verdict.at_risk_count} affected AP(s) present and the software does not protect them "
                f"({fix.reason}); any AP image download will loop in Downloading"
            )
        if verdict.downloading_unknown:
            reasons.append(
                f"{len(verdict.downloading_unknown)} AP(s) of unknown model in Downloading: cannot tell "
                "whether they are stuck"
            )
        if failover:
            reasons.append("failover risk: " + "; ".join(r.text for r in failover))
    if verdict.status is VerdictStatus.OK:
        reasons.append(
            "no affected AP is at risk"
            + (f" ({fix.reason})" if verdict.affected_count or verdict.likely_affected_count else "")
        )

    if verdict.status is VerdictStatus.UNREACHABLE:
        verdict.actions.append(
            Action(
                ActionKind.INVESTIGATE,
                "check reachability, credentials and the SSH host key: "
                + "; ".join(f"{e.kind.value}: {e.message}" for e in connection_errors),
            )
        )
        return verdict

    # --- time-back plan, clock and NTP findings ------------------------------
    verdict.timeback = timeback_target(s.certificate, advisory=adv)
    clock_findings, restore_ntp = _clock_findings(s, adv, timeback_in_progress)
    verdict.warnings.extend(clock_findings)
    _add_findings(verdict, s, fix)
    _add_actions(verdict, s, restore_ntp, at_risk_names, adv)
    return verdict


def _add_findings(verdict: ControllerVerdict, s: ControllerSnapshot, fix: FixStatus) -> None:
    warn = verdict.warnings.append
    if s.software_version is None and s.software_raw:
        warn(
            Finding(
                "software_unknown",
                Severity.WARNING,
                f"unknown software: the controller printed '{s.software_raw}', which is not a release the "
                "advisory can place; check the fixed release by hand",
            )
        )
    elif fix.state is FixState.UNKNOWN:
        warn(Finding("version_unknown", Severity.WARNING, fix.reason))
    if verdict.incomplete:
        warn(
            Finding(
                "incomplete_read",
                Severity.WARNING,
                "incomplete read: " + "; ".join(verdict.incomplete) + " (the verdict may miss APs)",
            )
        )
    for risk in verdict.failover_risks:
        warn(Finding("failover_risk", Severity.WARNING, risk.text))
    if verdict.predownloading_aps:
        names = [f.ap.name for f in verdict.predownloading_aps]
        versions = sorted({f.ap.predownload_version for f in verdict.predownloading_aps if f.ap.predownload_version})
        warn(
            Finding(
                "predownload_risk",
                Severity.WARNING,
                f"{len(names)} affected AP(s) predownloading"
                + (f" {', '.join(versions)}" if versions else "")
                + " on software that does not fix them: a predownload meets the same expired certificate, so "
                "they will loop in Downloading when the upgrade starts unless the clock is set back first: "
                + ", ".join(names[:20])
                + (f" and {len(names) - 20} more" if len(names) > 20 else ""),
            )
        )
    if s.certificate is None and (verdict.downloading_aps or verdict.at_risk_count):
        warn(
            Finding(
                "certificate_unknown",
                Severity.WARNING,
                "the controller certificate start date could not be read; the time-back target is the "
                "default and must be checked against it by hand",
            )
        )
    if (
        verdict.timeback is not None
        and not verdict.timeback.possible
        and (verdict.downloading_aps or verdict.at_risk_count)
    ):
        warn(Finding("timeback_impossible", Severity.WARNING, verdict.timeback.reason))
    named = [m for m in verdict.unknown_models if m != NO_MODEL]
    unread = verdict.unknown_model_count - sum(1 for ap in s.aps if ap.model and ap.model in named)
    if named:
        warn(
            Finding(
                "unknown_models",
                Severity.WARNING,
                f"{verdict.unknown_model_count - unread} AP(s) of models the advisory does not know: "
                + ", ".join(named),
            )
        )
    if unread:
        why = (
            "they are missing from the incomplete AP summary"
            if verdict.incomplete
            else "the controller printed no model for them"
        )
        warn(Finding("model_unread", Severity.WARNING, f"{unread} AP(s) whose model was not read ({why})"))
    if verdict.downloading_unknown:
        warn(
            Finding(
                "downloading_unknown_model",
                Severity.WARNING,
                "AP(s) of unknown model in Downloading (may be stuck): "
                + ", ".join(f"{f.ap.name} ({f.ap.model or 'no model'})" for f in verdict.downloading_unknown),
            )
        )
    if verdict.downloading_normal:
        warn(
            Finding(
                "downloading_normal",
                Severity.INFO,
                "AP(s) downloading that this bug does not block (not affected, or fixed software): "
                + ", ".join(f"{f.ap.name} ({f.ap.model or 'no model'})" for f in verdict.downloading_normal),
            )
        )
    if verdict.unrecognized_states:
        warn(
            Finding(
                "unrecognized_state",
                Severity.INFO,
                "AP state(s) the bot does not know, kept as printed: " + ", ".join(verdict.unrecognized_states),
            )
        )
    others = [e for e in s.errors if e.kind is not ErrorKind.INCOMPLETE]
    if others:
        warn(
            Finding(
                "partial_read",
                Severity.WARNING,
                "; ".join(f"{e.command or 'poll'}: {e.kind.value}: {e.message}" for e in others),
            )
        )


def _add_actions(
    verdict: ControllerVerdict,
    s: ControllerSnapshot,
    restore_ntp: str | None,
    at_risk_names: list[str],
    adv: Advisory,
) -> None:
    act = verdict.actions.append
    plan = verdict.timeback
    rec = verdict.recommendation
    wait = int(adv.timeback.ap_reboot_wait.total_seconds() // 60)
    # The workaround is for every affected AP in Downloading, stuck or not yet: on unfixed
    # software the download cannot succeed.
    stuck_names = tuple(f.ap.name for f in verdict.downloading_aps)

    if restore_ntp:
        act(Action(ActionKind.RESTORE_NTP, restore_ntp))

    if verdict.downloading_aps and plan is not None:
        if plan.possible and plan.target is not None:
            act(
                Action(
                    ActionKind.TIMEBACK_PLAYBOOK,
                    f"run the time-back playbook: note the NTP servers, set the clock to "
                    f"{_fmt_time(plan.target)}, wait until the {len(stuck_names)} downloading AP(s) are "
                    f"Registered, restore NTP exactly as before and save; wait at least {wait} minutes "
                    "before rebooting an AP that does not rejoin",
                    stuck_names,
                )
            )
        else:
            act(
                Action(
                    ActionKind.STAGING_CONTROLLER,
                    f"{plan.reason}. If that is not possible either, keep the affected APs from joining "
                    "(shut the switch port or block CAPWAP with an ACL) until the controller runs fixed code",
                    stuck_names,
                )
            )

    if at_risk_names and rec is not None:
        text = f"plan the software: {rec.text}"
        facts = adv.platform(s.platform)
        advice = facts.upgrade_advice_when_downloading if facts is not None else None
        if verdict.downloading_aps and advice:
            text += f"; {advice}"
        elif not verdict.downloading_aps and plan is not None:
            text += (
                "; until then every AP image download (controller upgrade, failover or N+1 move, new or "
                "RMA AP, predownload) will loop in Downloading unless the clock is set back first"
                + (f" (time-back target {_fmt_time(plan.target)})" if plan.possible and plan.target else "")
            )
        act(Action(ActionKind.UPGRADE, text, tuple(at_risk_names)))
        if not verdict.downloading_aps and plan is not None and not plan.possible:
            act(Action(ActionKind.STAGING_CONTROLLER, plan.reason, tuple(at_risk_names)))

    if verdict.status is VerdictStatus.ERROR:
        act(
            Action(
                ActionKind.INVESTIGATE,
                "some commands failed or could not be parsed; the verdict may miss stuck APs: "
                + ("; ".join(e.message for e in s.errors) or "nothing was read"),
            )
        )
    if verdict.downloading_unknown:
        act(
            Action(
                ActionKind.INVESTIGATE,
                "check whether these APs of unknown model are stuck (AP console or syslog: "
                "`Image signing certificate validation failed`), and add their model to the advisory data",
                tuple(f.ap.name for f in verdict.downloading_unknown),
            )
        )
    elif any(m != NO_MODEL for m in verdict.unknown_models):
        act(
            Action(
                ActionKind.INVESTIGATE,
                "classify these AP models (IOS-based or AP-COS?) and add them to the advisory data: "
                + ", ".join(m for m in verdict.unknown_models if m != NO_MODEL),
            )
        )


def _same_software(a: ControllerSnapshot, b: ControllerSnapshot, advisory: Advisory) -> bool | None:
    """Whether two controllers hand out the same AP image; None when either version is unknown."""
    schemes = advisory.version_schemes
    va = parse_version(a.software_version, a.platform, schemes)
    vb = parse_version(b.software_version, b.platform, schemes)
    if va is None or vb is None:
        return None
    return a.platform == b.platform and va == vb and sorted(a.apsps) == sorted(b.apsps)


def failover_risks(
    snapshot: ControllerSnapshot,
    peers: Iterable[ControllerSnapshot],
    advisory: Advisory | None = None,
) -> list[FailoverRisk]:
    """What failing over from `snapshot`'s controller to each peer would do to its affected APs.

    An AP that joins a controller on other software downloads that controller's
    image; an IOS AP whose download the peer's software does not protect then
    loops in Downloading (the tech note's failover / N+1 case). Only APs joined
    now count (one already downloading is reported as such); a peer whose
    version is unknown is skipped here (its own verdict says "unknown software").
    """
    adv = advisory or load_advisory()
    joined = [ap for ap in snapshot.aps if not ap.is_downloading]
    risks: list[FailoverRisk] = []
    for peer in peers:
        if peer.name == snapshot.name or _same_software(snapshot, peer, adv) is not False:
            continue
        fix = software_fix(peer.platform, peer.software_version, peer.apsps, adv)
        count = 0
        for ap in joined:
            cls = classify_model(ap.model, adv)
            if cls.at_risk and fix.protects(cls) is not True:
                count += 1
        if count:
            mine, theirs = str(snapshot.software_version), str(peer.software_version)
            risks.append(FailoverRisk(snapshot.name, peer.name, count, mine, theirs))
    return risks


def evaluate_controllers(
    snapshots: Sequence[ControllerSnapshot],
    *,
    peers: Mapping[str, Iterable[str]] | None = None,
    watches: Mapping[str, DownloadWatch] | None = None,
    timeback_in_progress: Iterable[str] = (),
    advisory: Advisory | None = None,
    others: Iterable[ControllerSnapshot] = (),
    default_watch: DownloadWatch = NO_HISTORY,
) -> list[ControllerVerdict]:
    """Verdicts for `snapshots`, with the failover risks between them.

    A controller's failover peers are the other controllers of its site plus
    the ones `peers[name]` names (HA / N+1 backups from the inventory);
    `others` are snapshots of named peers outside `snapshots` (read for this
    purpose, no verdict of their own). `watches[name]` is the controller's
    `DownloadWatch` (`default_watch` for one not in it).
    """
    adv = advisory or load_advisory()
    running = set(timeback_in_progress)
    watches = watches or {}
    named = peers or {}
    by_name = {s.name: s for s in (*others, *snapshots)}
    verdicts: list[ControllerVerdict] = []
    for snap in snapshots:
        mates = [o for o in snapshots if o.site is not None and o.site == snap.site and o.name != snap.name]
        mates += [by_name[n] for n in named.get(snap.name, ()) if n in by_name and by_name[n] not in mates]
        verdicts.append(
            evaluate_controller(
                snap,
                timeback_in_progress=snap.name in running,
                advisory=adv,
                watch=watches.get(snap.name, default_watch),
                failover=failover_risks(snap, mates, adv),
            )
        )
    return verdicts


def evaluate_site(
    site: str,
    snapshots: Iterable[ControllerSnapshot],
    *,
    timeback_in_progress: Iterable[str] = (),
    advisory: Advisory | None = None,
    watch: DownloadWatch = NO_HISTORY,
) -> SiteVerdict:
    """Verdicts for every controller of a site, aggregated.

    `timeback_in_progress` names the controllers a time-back run owns now;
    `watch` is what earlier checks know of the downloads (see `evaluate_controller`).
    """
    verdicts = evaluate_controllers(
        list(snapshots), timeback_in_progress=timeback_in_progress, advisory=advisory, default_watch=watch
    )
    return SiteVerdict.from_verdicts(site, verdicts)


__all__ = [
    "KNOWN_AP_STATES",
    "RISK_CODES",
    "APFinding",
    "Action",
    "ActionKind",
    "ControllerVerdict",
    "DownloadWatch",
    "FailoverRisk",
    "Finding",
    "Severity",
    "SiteVerdict",
    "VerdictStatus",
    "evaluate_controller",
    "evaluate_controllers",
    "evaluate_site",
    "failover_risks",
    "worst_status",
]
