"""The App Home (and `/ccert home`): the fleet at a glance and what waits for you, as one `Reply`.

Pure: plain data in (`HomeData`, gathered from the store by `bot.chat.home`), a `Reply`
out, which Slack publishes as the Home tab (`bot.slack.render.render_view`) and the
console prints (`bot.console.render`). Nothing here reads a device or the store.

What it promises, because people decide from it:

* every number is what a controller said at its last check, and the site says how old
  that is (the oldest of its controllers' last checks: every number is at least that
  fresh); a read that was incomplete or failed is said, and a site never checked says
  "no check yet" instead of showing zeros;
* sites come worst first (stuck, downloading, unreachable, error, no check yet, at-risk,
  ok), at most `MAX_SITES_SHOWN`; the rest are counted and pointed to `/ccert status all`,
  so a 500-controller fleet stays within a Home tab's 100 blocks;
* *waiting for you* lists only pending requests the viewer may approve now (an approver,
  not the requester, not yet voted, not past its deadline), with the thread's own
  Approve/Reject buttons (same action ids and values, so a click is the same vote);
* a heading or an "… and N more" counts every request there is (`HomeData.*_total`), not
  the capped list the store read;
* the fleet is shown only to a viewer allowed `/ccert status` (the home must not show
  what `CCERT_ACCESS` withholds), and runs in progress and scheduled are every request's
  only for an approver: anyone else sees their own, and a line saying the rest are the
  approvers'.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from bot.chat.handlers import STATUS_ICON, plural
from bot.chat.remediation_views import APPROVE_ACTION, REJECT_ACTION, STATUS_TITLE
from bot.chat.reply import Button, Level, Reply, Section, Table
from bot.domain.approvals import ApprovalPolicy, RequestStatus, Voter, is_approver
from bot.domain.verdict import VerdictStatus
from bot.remediation.models import RequestView

MAX_SITES_SHOWN = 25
MAX_WAITING_SHOWN = 10
MAX_IN_PROGRESS_SHOWN = 10
MAX_SCHEDULED_SHOWN = 10
MAX_MINE_SHOWN = 5

TITLE = "ccert-bot — CSCwd80290 at a glance"
NO_CHECK = "no check yet"
# Where "no check yet" ranks among the verdicts' severities: below error, above at-risk.
_NO_CHECK_SEVERITY = 1.5


@dataclass(frozen=True)
class SiteGlance:
    """One site from its controllers' last checks (`checked` of `controllers` have one).

    `status` None: no controller of the site was checked yet. `stuck_aps` / `downloading_aps`
    are the snapshots' own counts (APs stuck; affected APs Downloading, stuck ones
    included); `incomplete` counts controllers read only partly or whose AP list was not
    the whole list; `checked_at` is the oldest of the last checks, None without one.
    """

    site: str
    controllers: int
    checked: int = 0
    status: VerdictStatus | None = None
    stuck_aps: int = 0
    downloading_aps: int = 0
    total_aps: int = 0
    unreachable: int = 0
    incomplete: int = 0
    checked_at: datetime | None = None
    newest_at: datetime | None = None

    @property
    def downloading_not_stuck(self) -> int:
        return max(0, self.downloading_aps - self.stuck_aps)


@dataclass(frozen=True)
class HomeData:
    """Everything the home shows for one viewer at `now` (times shown in `zone`).

    `requests` False: the bot runs without remediation, the request sections say so.
    `waiting` must already be filtered for the viewer (`waiting_for`). The lists may be
    capped: `*_total` is how many there are in all (None: the list is all of them), so
    every heading and "… and N more" counts the real requests, not the capped list.
    `fleet` False: the viewer may not run `/ccert status`, so the sites are not shown.
    `approver` False: `in_progress` and `scheduled` hold only the viewer's own requests.
    """

    viewer: str
    now: datetime
    zone: tzinfo
    sites: tuple[SiteGlance, ...] = ()
    waiting: tuple[RequestView, ...] = ()
    in_progress: tuple[RequestView, ...] = ()
    scheduled: tuple[RequestView, ...] = ()
    mine: tuple[RequestView, ...] = ()
    requests: bool = True
    approver: bool = False
    fleet: bool = True
    waiting_total: int | None = None
    in_progress_total: int | None = None
    scheduled_total: int | None = None


def _total(views: Sequence[RequestView], total: int | None) -> int:
    return len(views) if total is None else max(total, len(views))


# --------------------------------------------------------------------------- rules


def waiting_for(
    viewer: Voter, policy: ApprovalPolicy, pending: Iterable[RequestView], now: datetime
) -> list[RequestView]:
    """The pending requests `viewer` may approve now: an approver (by id or group), not the
    requester, not yet among the approvals, and the request not past its deadline."""
    if not is_approver(viewer, policy):
        return []
    return [
        view
        for view in pending
        if view.status is RequestStatus.PENDING
        and view.requester != viewer.user_id
        and all(a.user_id != viewer.user_id for a in view.approvals)
        and now < view.expires_at
    ]


def site_rank(site: SiteGlance) -> tuple[object, ...]:
    """Worst first: verdict severity (no check yet between error and at-risk), then stuck,
    downloading and unreachable counts, then the name."""
    severity = _NO_CHECK_SEVERITY if site.status is None else site.status.severity
    return (-severity, -site.stuck_aps, -site.downloading_not_stuck, -site.unreachable, -site.incomplete, site.site)


def worst_first(sites: Iterable[SiteGlance]) -> list[SiteGlance]:
    return sorted(sites, key=site_rank)


# --------------------------------------------------------------------------- words


def age_text(then: datetime, now: datetime) -> str:
    """How long ago, in the words a person reads at a glance."""
    seconds = int((now - then).total_seconds())
    if seconds < 60:
        return "just now" if seconds >= -60 else "in the future (clock skew?)"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min ago"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min ago" if minutes else f"{hours} h ago"
    return f"{hours // 24} days ago"


def until_text(then: datetime, now: datetime) -> str:
    seconds = int((then - now).total_seconds())
    if seconds <= 0:
        return "now"
    minutes = max(1, seconds // 60)
    if minutes < 60:
        return f"in {minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"in {hours} h {minutes:02d} min" if minutes else f"in {hours} h"
    return f"in {hours // 24} days"


def local_time(value: datetime, zone: tzinfo) -> str:
    name = getattr(zone, "key", None) or value.astimezone(zone).tzname() or "UTC"
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M} {name}"


def _verdict_label(site: SiteGlance) -> str:
    if site.status is None:
        return f"❔ {NO_CHECK}"
    return f"{STATUS_ICON[site.status]} {site.status.value}"


def _controllers_cell(site: SiteGlance) -> str:
    parts = []
    if site.checked < site.controllers:
        parts.append(f"{site.controllers - site.checked} not checked yet")
    if site.unreachable:
        parts.append(f"{site.unreachable} unreachable")
    if site.incomplete:
        parts.append(f"{site.incomplete} read incomplete")
    detail = f" ({', '.join(parts)})" if parts else ""
    return f"{site.controllers}{detail}"


def _site_row(site: SiteGlance, now: datetime) -> tuple[str, ...]:
    if site.status is None:
        return (site.site, _verdict_label(site), "–", "–", _controllers_cell(site), NO_CHECK)
    checked = age_text(site.checked_at, now) if site.checked_at else NO_CHECK
    return (
        site.site,
        _verdict_label(site),
        str(site.stuck_aps),
        str(site.downloading_not_stuck),
        _controllers_cell(site),
        checked,
    )


def _fleet_text(sites: Sequence[SiteGlance], now: datetime, zone: tzinfo) -> str:
    if not sites:
        return "The inventory has no site."
    counts: dict[VerdictStatus | None, int] = {}
    for s in sites:
        counts[s.status] = counts.get(s.status, 0) + 1
    order = sorted(counts, key=lambda st: -(st.severity if st is not None else _NO_CHECK_SEVERITY))
    by_verdict = " · ".join(
        f"❔ {counts[st]} {NO_CHECK}" if st is None else f"{STATUS_ICON[st]} {counts[st]} {st.value}" for st in order
    )
    checked = [s for s in sites if s.status is not None]
    if not checked:
        return (
            f"{plural(len(sites), 'site')}: {by_verdict}.\n"
            "No controller has been checked yet: the scheduled checks fill this in "
            "(`/ccert status <site>` reads a site now)."
        )
    stuck = sum(s.stuck_aps for s in checked)
    downloading = sum(s.downloading_not_stuck for s in checked)
    oldest = min(s.checked_at for s in checked if s.checked_at is not None)
    newest = max(s.newest_at or s.checked_at for s in checked if s.checked_at is not None)
    incomplete = sum(s.incomplete for s in checked)
    lines = [
        f"{plural(len(sites), 'site')}: {by_verdict}.",
        f"At the last checks: {plural(stuck, 'AP')} stuck, {downloading} downloading (not stuck yet)"
        + (f"; 🧩 {plural(incomplete, 'controller')} read incomplete." if incomplete else "."),
        f"Last check {age_text(newest, now)} ({local_time(newest, zone)})"
        + (f"; the oldest shown is from {age_text(oldest, now)}." if oldest != newest else "."),
    ]
    return "\n".join(lines)


FLEET_NOT_ALLOWED = (
    "The fleet's verdicts are shown to those allowed `/ccert status` (`CCERT_ACCESS`); an operator can add you there."
)


def fleet_section(sites: Sequence[SiteGlance], now: datetime, zone: tzinfo) -> tuple[Section, ...]:
    """The fleet summary and its worst sites (a table), with how many more there are."""
    ordered = worst_first(sites)
    shown = ordered[:MAX_SITES_SHOWN]
    out = [
        Section(
            title="Fleet at a glance",
            text=_fleet_text(ordered, now, zone),
            table=Table(
                ("Site", "Verdict", "Stuck", "Downloading", "Controllers", "Last check"),
                tuple(_site_row(s, now) for s in shown),
            )
            if shown
            else None,
        )
    ]
    more = len(ordered) - len(shown)
    if more > 0:
        out.append(Section(text=f"… and {plural(more, 'more site')} (see `/ccert status all`)."))
    return tuple(out)


# --------------------------------------------------------------------------- requests


def _status_words(view: RequestView) -> str:
    known = STATUS_TITLE.get(view.status)
    if known is None:  # a status newer than this table
        return str(view.status).replace("_", " ")
    icon, label, _ = known
    return f"{icon} {label}"


def _what(view: RequestView) -> str:
    controllers = ", ".join(view.controllers) or "?"
    stuck = sum(len(t.stuck_aps) for t in view.targets)
    aps = f", for {plural(stuck, 'AP')} in Downloading" if stuck else ""
    return f"#{view.id} {view.site} ({controllers}){aps}"


def _waiting_section(view: RequestView, now: datetime, zone: tzinfo) -> Section:
    approvals = len(view.approvals)
    text = (
        f"{_what(view)}\n"
        f"Requested by <@{view.requester}> {age_text(view.created_at, now)} · "
        f"{approvals} of {view.required_approvals} approvals · expires {local_time(view.expires_at, zone)} "
        f"({until_text(view.expires_at, now)})"
    )
    buttons = (
        Button("Approve", APPROVE_ACTION, str(view.id), f"/ccert approve {view.id}", style="primary"),
        Button("Reject", REJECT_ACTION, str(view.id), f"/ccert reject {view.id}", style="danger"),
    )
    return Section(text=text, buttons=buttons)


def _current_step(view: RequestView) -> str:
    for run in reversed(view.runs):
        for step in run.steps:
            if step.state in {"running", "undoing"}:
                return f" — {run.controller}: {step.title}"
    return ""


def _more(count: int, shown: int, what: str) -> list[str]:
    return [f"… and {count - shown} more {what} (`/ccert audit <id>` shows one)."] if count > shown else []


def _lines(views: Sequence[RequestView], total: int, limit: int, line: Callable[[RequestView], str], what: str) -> str:
    shown = views[:limit]
    return "\n".join([*(line(v) for v in shown), *_more(total, len(shown), what)])


def _heading(title: str, total: int) -> str:
    return f"{title} ({total})" if total else title


FOR_APPROVERS = (
    "Other people's requests in progress and scheduled are shown to approvers (`CCERT_APPROVERS`); "
    "yours are listed here."
)


def request_sections(data: HomeData) -> tuple[Section, ...]:
    """Waiting for you, in progress, scheduled, and your recent requests."""
    if not data.requests:
        return (Section(title="Requests", text="Remediation is not enabled in this bot (it needs its database)."),)
    now, zone = data.now, data.zone
    sections: list[Section] = []
    waiting = _total(data.waiting, data.waiting_total)
    if data.waiting:
        shown = data.waiting[:MAX_WAITING_SHOWN]
        sections.append(Section(title=f"Waiting for you ({waiting})"))
        sections += [_waiting_section(v, now, zone) for v in shown]
        if waiting > len(shown):
            sections.append(Section(text=f"… and {waiting - len(shown)} more: `/ccert approve <id>` votes on one."))
    else:
        nothing = (
            "Nothing is waiting for your approval."
            if data.approver
            else "You are not an approver (`CCERT_APPROVERS`), so no request waits for you."
        )
        sections.append(Section(title="Waiting for you", text=nothing))

    def progress(v: RequestView) -> str:
        return f"{_status_words(v)}: {_what(v)}{_current_step(v)}"

    in_progress = _total(data.in_progress, data.in_progress_total)
    sections.append(
        Section(
            title=_heading("In progress", in_progress),
            text=_lines(data.in_progress, in_progress, MAX_IN_PROGRESS_SHOWN, progress, "runs")
            or ("No run is in progress." if data.approver else "None of your requests is in progress."),
        )
    )

    def scheduled(v: RequestView) -> str:
        start = v.scheduled_for
        when = f"window starts {local_time(start, zone)} ({until_text(start, now)})" if start else "window not set"
        return f"🗓️ {_what(v)}: {when}"

    scheduled_total = _total(data.scheduled, data.scheduled_total)
    sections.append(
        Section(
            title=_heading("Scheduled", scheduled_total),
            text=_lines(data.scheduled, scheduled_total, MAX_SCHEDULED_SHOWN, scheduled, "scheduled")
            or ("Nothing is scheduled." if data.approver else "None of your requests is scheduled."),
        )
    )
    if not data.approver:
        sections.append(Section(text=FOR_APPROVERS))

    def mine(v: RequestView) -> str:
        return f"{_what(v)}: {_status_words(v)} · asked {age_text(v.created_at, now)}"

    sections.append(
        Section(
            title="Your recent requests",
            text="\n".join(mine(v) for v in data.mine[:MAX_MINE_SHOWN])
            or "You have not requested a time-back (`/ccert remediate <site>`).",
        )
    )
    return tuple(sections)


# --------------------------------------------------------------------------- the reply


def home_level(sites: Sequence[SiteGlance]) -> Level:
    statuses = {s.status for s in sites}
    if VerdictStatus.STUCK in statuses or VerdictStatus.UNREACHABLE in statuses:
        return Level.DANGER
    if statuses & {VerdictStatus.DOWNLOADING, VerdictStatus.ERROR, VerdictStatus.AT_RISK, None}:
        return Level.WARNING
    return Level.OK


def home_reply(data: HomeData) -> Reply:
    """The whole home for `data.viewer`."""
    now = data.now.astimezone(UTC)
    fleet = (
        fleet_section(data.sites, now, data.zone)
        if data.fleet
        else (Section(title="Fleet at a glance", text=FLEET_NOT_ALLOWED),)
    )
    return Reply(
        title=TITLE,
        text=f"For <@{data.viewer}> · as of {local_time(now, data.zone)}",
        level=home_level(data.sites) if data.fleet and data.sites else Level.INFO,
        sections=(*fleet, *request_sections(data)),
        footer=(
            "Every number is what the controller said at its last check (the age is shown); "
            "`/ccert status <site>` reads it now. Nothing here changes a controller."
        ),
        ephemeral=True,
    )


__all__ = [
    "HomeData",
    "SiteGlance",
    "age_text",
    "home_reply",
    "site_rank",
    "waiting_for",
    "worst_first",
]
