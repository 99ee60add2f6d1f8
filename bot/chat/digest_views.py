"""The daily digest and `/ccert history <site>`, as replies.

`digest_replies(digest)` returns the replies to post, in order: the FIRST is
the compact summary for the channel (fleet totals, the worst sites first, at
most `max_named_sites` of them by name, then "and N more"); the others go in
its thread: the sites that need attention, a few per reply, worst first, then
one reply listing the healthy sites by name. So a 500-controller fleet is one
channel message plus a handful of thread replies, and each reply stays well
inside Slack's limits (the Slack renderer still splits anything that would
not).

An empty fleet gets one friendly "no sites configured" reply; a fleet where
every site is healthy gets one short "all clear" reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.chat.alert_views import names_text
from bot.chat.handlers import STATUS_ICON, STATUS_LEVEL, fmt_time, plural
from bot.chat.reply import Field, Level, Reply, Section, Table
from bot.domain.digest import FleetDigest, FleetTotals, HistoryRow, SiteDigest, UnfixedController
from bot.domain.software_fix import FixState
from bot.domain.verdict import VerdictStatus, worst_status

DIGEST_ICON = "📋"
BUG = "CSCwd80290"
FIX_SHORT = {
    FixState.FIXED: "fixed",
    FixState.PARTIAL: "fixed for some models only",
    FixState.NOT_FIXED: "not fixed",
    FixState.UNKNOWN: "fix status unknown",
}


def fmt_change(change: int | None) -> str:
    """`+3`, `−2`, `no change`; `n/a` when yesterday is unknown."""
    if change is None:
        return "n/a"
    if change == 0:
        return "no change"
    return f"+{change}" if change > 0 else f"−{-change}"


def _change_suffix(change: int | None) -> str:
    if change is None:
        return ""
    return " (no change since yesterday)" if change == 0 else f" ({fmt_change(change)} since yesterday)"


def _n(value: int) -> str:
    return f"{value:,}"


def _status(status: VerdictStatus) -> str:
    return f"{STATUS_ICON[status]} {status.value}"


def _site_status(site: SiteDigest) -> str:
    """The status cell; a critical finding shows instead of a milder status."""
    if site.critical and site.status is not VerdictStatus.STUCK:
        return "🚨 critical"
    return _status(site.status)


def _title(digest: FleetDigest, headline: str, icon: str = DIGEST_ICON) -> str:
    return f"{icon} {BUG} daily digest — {digest.day.isoformat()}: {headline}"


def _fleet_lines(t: FleetTotals, sites: Sequence[SiteDigest]) -> list[str]:
    read = f"{_n(t.controllers_read)} read"
    if t.controllers_unreachable:
        read += f", {_n(t.controllers_unreachable)} unreachable"
    if t.controllers_incomplete:
        read += f", {_n(t.controllers_incomplete)} incomplete"
    lines = [
        f"Fleet: {plural(t.sites, 'site')} · {plural(t.controllers, 'controller')} ({read}) · "
        f"{_n(t.aps_total)} APs, {_n(t.affected_aps)} IOS-based (affected)",
        f"Stuck APs: {_n(t.stuck_aps)}{_change_suffix(t.stuck_change)}"
        + (f" · downloading, not stuck yet: {_n(t.downloading_aps)}" if t.downloading_aps else ""),
        f"Unfixed software: {plural(t.unfixed_controllers, 'controller')}"
        + (f", {_n(t.at_risk_aps)} affected APs not protected" if t.at_risk_aps else ""),
        f"Remediation: {plural(t.open_requests, 'open request')} · {plural(t.open_runs, 'run')} in progress",
    ]
    if t.critical:
        where = names_text([s.site for s in sites if s.critical], limit=10)
        lines.append(
            f"🚨 {plural(t.critical, 'critical finding')} (NTP deleted or a clock left set back) at {where}: "
            "details in the thread"
        )
    return lines


def _headline(t: FleetTotals, attention: Sequence[SiteDigest]) -> str:
    parts = []
    stuck_sites = sum(1 for s in attention if s.stuck_aps)
    if t.stuck_aps:
        parts.append(f"{plural(t.stuck_aps, 'AP')} stuck at {plural(stuck_sites, 'site')}")
    if t.downloading_aps:
        parts.append(f"{plural(t.downloading_aps, 'affected AP')} downloading")
    if t.controllers_unreachable:
        parts.append(f"{plural(t.controllers_unreachable, 'controller')} unreachable")
    if t.critical:
        parts.append(f"{plural(t.critical, 'critical finding')}")
    if not parts and t.unfixed_controllers:
        parts.append(f"{plural(t.unfixed_controllers, 'controller')} on unfixed software")
    if not parts:
        parts.append(f"{plural(len(attention), 'site')} need a look")
    return ", ".join(parts)


def _level(status: VerdictStatus, t: FleetTotals) -> Level:
    return Level.DANGER if t.critical else STATUS_LEVEL[status]


def _empty_reply(digest: FleetDigest) -> Reply:
    return Reply(
        title=_title(digest, "no sites configured", icon="👋"),
        text=(
            "There are no sites in the inventory yet, so there is nothing to check. Add your sites and "
            "controllers to the inventory file (CCERT_INVENTORY; `ccert-bot check-config` validates it) "
            "and tomorrow's digest will cover them."
        ),
        level=Level.INFO,
        footer=f"Generated {fmt_time(digest.generated_at)}.",
    )


def _all_clear_reply(digest: FleetDigest, t: FleetTotals, max_named_sites: int) -> Reply:
    lines = [
        f"{plural(t.sites, 'site')} · {plural(t.controllers, 'controller')}, all read · {_n(t.aps_total)} APs, "
        f"{_n(t.affected_aps)} IOS-based · no AP stuck{_change_suffix(t.stuck_change)} · every controller "
        "on fixed software · no open remediation",
    ]
    names = [s.site for s in digest.healthy_sites]
    if len(names) <= max_named_sites:
        lines.append("Sites: " + ", ".join(names))
    return Reply(
        title=_title(digest, "all clear", icon=STATUS_ICON[VerdictStatus.OK]),
        text="\n".join(lines),
        level=Level.OK,
        footer=f"Generated {fmt_time(digest.generated_at)}.",
    )


def _summary_reply(digest: FleetDigest, attention: list[SiteDigest], max_named_sites: int, threaded: bool) -> Reply:
    t = digest.totals
    status = digest.status
    named = attention[:max_named_sites]
    rows = tuple(
        (
            s.site,
            _n(s.stuck_aps),
            fmt_change(s.stuck_change),
            f"{s.controllers_unreachable}/{s.controllers_total}",
            _n(s.at_risk_aps),
            _n(len(s.unfixed)),
            _site_status(s),
        )
        for s in named
    )
    table = Table(("Site", "Stuck", "vs yday", "Unreach.", "At risk", "Unfixed", "Status"), rows)
    notes = []
    if len(attention) > len(named):
        notes.append(f"…and {plural(len(attention) - len(named), 'more site')} needing attention.")
    healthy = len(digest.sites) - len(attention)
    if healthy:
        notes.append(f"{STATUS_ICON[VerdictStatus.OK]} {plural(healthy, 'site')} all clear.")
    sections = [
        Section(title=f"Sites needing attention, worst first ({len(attention)})", table=table),
    ]
    if notes:
        sections.append(Section(text="\n".join(notes)))
    footer = f"Generated {fmt_time(digest.generated_at)}."
    if threaded:
        footer += " Details per site in the thread."
    return Reply(
        title=_title(digest, _headline(t, attention), icon=STATUS_ICON[status]),
        text="\n".join(_fleet_lines(t, attention)),
        level=_level(status, t),
        sections=tuple(sections),
        footer=footer,
    )


def _unfixed_lines(unfixed: Sequence[UnfixedController], limit: int) -> list[str]:
    """Controllers on unfixed software, grouped by (version, fix, recommendation)."""
    groups: dict[tuple[str, FixState, str], list[UnfixedController]] = {}
    for u in unfixed:
        groups.setdefault((u.version or "unknown version", u.fix_state, u.recommendation), []).append(u)
    ordered = sorted(groups.items(), key=lambda kv: (-sum(u.at_risk_aps for u in kv[1]), kv[0][0]))
    lines = []
    for (version, fix, recommendation), members in ordered[:limit]:
        at_risk = sum(u.at_risk_aps for u in members)
        risk = f", {_n(at_risk)} affected APs not protected" if at_risk else ""
        names = names_text(sorted(u.controller for u in members), limit=10)
        lines.append(f"• {names}: {version} ({FIX_SHORT.get(fix, fix)}{risk}) → {recommendation}")
    if len(ordered) > limit:
        rest = sum(len(m) for _, m in ordered[limit:])
        lines.append(f"• …and {plural(rest, 'more controller')} on other versions")
    return lines


def site_section(site: SiteDigest, max_unfixed_groups: int = 12) -> Section:
    """One site's details for the digest thread."""
    controllers = f"{site.controllers_read} read"
    if site.controllers_partial:
        controllers += f" ({site.controllers_partial} only partly)"
    if site.controllers_incomplete:
        controllers += f", {site.controllers_incomplete} incomplete (fewer APs listed than counted)"
    if site.controllers_unreachable:
        controllers += f", {site.controllers_unreachable} unreachable"
        if site.unreachable_controllers:
            controllers += f" ({names_text(list(site.unreachable_controllers), limit=10)})"
    aps = f"{_n(site.aps_total)}, {_n(site.affected_aps)} IOS-based (affected)"
    if site.at_risk_aps:
        aps += f", {_n(site.at_risk_aps)} not protected"
    fields = (
        Field("Controllers", controllers),
        Field("APs", aps),
        Field(
            "Stuck APs",
            f"{_n(site.stuck_aps)}{_change_suffix(site.stuck_change)}"
            + (f" · downloading, not stuck yet: {_n(site.downloading_aps)}" if site.downloading_aps else ""),
        ),
        Field("Remediation", f"{plural(site.open_requests, 'open request')}, {plural(site.open_runs, 'run')}"),
    )
    lines = [f"🚨 {c}" for c in site.critical]
    lines += [f"⚠️ {r}" for r in site.risks]
    if site.unfixed:
        lines.append(f"Unfixed software ({plural(len(site.unfixed), 'controller')}):")
        lines += _unfixed_lines(site.unfixed, max_unfixed_groups)
    status = site.status.value + (" + critical findings" if site.critical else "")
    return Section(
        title=f"{STATUS_ICON[site.status]} {site.site} — {status}",
        fields=fields,
        text="\n".join(lines) or None,
    )


def _weight(site: SiteDigest) -> int:
    """Rough size of a site section, in lines."""
    groups = len({(u.version, u.fix_state, u.recommendation) for u in site.unfixed})
    return 3 + len(site.critical) + min(groups, 13)


def _chunks(sites: Sequence[SiteDigest], per_reply: int, max_weight: int) -> list[list[SiteDigest]]:
    chunks: list[list[SiteDigest]] = []
    current: list[SiteDigest] = []
    weight = 0
    for site in sites:
        w = _weight(site)
        if current and (len(current) >= per_reply or weight + w > max_weight):
            chunks.append(current)
            current, weight = [], 0
        current.append(site)
        weight += w
    if current:
        chunks.append(current)
    return chunks


def digest_replies(
    digest: FleetDigest,
    *,
    max_named_sites: int = 15,
    sites_per_reply: int = 8,
    max_lines_per_reply: int = 60,
) -> list[Reply]:
    """The daily digest: the summary first (for the channel), then the thread replies."""
    if not digest.sites:
        return [_empty_reply(digest)]
    t = digest.totals
    if digest.all_clear:
        return [_all_clear_reply(digest, t, max_named_sites)]
    attention = digest.needing_attention
    replies = [_summary_reply(digest, attention, max_named_sites, threaded=True)]
    chunks = _chunks(attention, max(1, sites_per_reply), max_lines_per_reply)
    start = 1
    for chunk in chunks:
        end = start + len(chunk) - 1
        span = f"site {start}" if start == end else f"sites {start}–{end}"
        worst = worst_status(s.status for s in chunk)
        replies.append(
            Reply(
                title=f"{STATUS_ICON[worst]} {BUG} digest {digest.day.isoformat()} — {span} of {len(attention)} "
                "needing attention",
                level=STATUS_LEVEL[worst],
                sections=tuple(site_section(s) for s in chunk),
            )
        )
        start = end + 1
    healthy = digest.healthy_sites
    if healthy:
        names = [s.site + (f" (stuck {fmt_change(s.stuck_change)})" if s.stuck_change else "") for s in healthy]
        replies.append(
            Reply(
                title=f"{STATUS_ICON[VerdictStatus.OK]} {plural(len(healthy), 'site')} all clear",
                text=", ".join(names),
                level=Level.OK,
            )
        )
    return replies


# --------------------------------------------------------------------------- /ccert history <site>


def _short_time(value: datetime) -> str:
    return fmt_time(value).removesuffix(" UTC")


# A site's controllers are polled together but answer seconds apart: rows within
# this many seconds of a check's newest row belong to that check (unless the
# controller already appears in it).
CHECK_WINDOW_SECONDS = 90


def _checks(rows: Sequence[HistoryRow]) -> list[list[HistoryRow]]:
    """Rows grouped into checks, newest check first, controllers by name within one."""
    ordered = sorted(rows, key=lambda r: r.checked_at.timestamp(), reverse=True)
    groups: list[list[HistoryRow]] = []
    start = 0.0
    seen: set[str] = set()
    for row in ordered:
        stamp = row.checked_at.timestamp()
        if not groups or start - stamp > CHECK_WINDOW_SECONDS or row.controller in seen:
            groups.append([])
            start, seen = stamp, set()
        groups[-1].append(row)
        seen.add(row.controller)
    return [sorted(g, key=lambda r: r.controller) for g in groups]


HISTORY_COLUMNS = ("Time (UTC)", "Controller", "Stuck", "Downloading", "APs", "Status")


def history_reply(site: str, rows: Sequence[HistoryRow], *, limit: int = 60) -> Reply:
    """The last checks of a site, newest first: one row per controller and check,
    the time shown once per check, the status icon last so the columns stay
    aligned whatever width the terminal gives an emoji. At most `limit` rows."""
    if not rows:
        return Reply(
            title=f"{site}: no checks recorded yet",
            text=f"Scheduled checks are recorded as they run; `/ccert status {site}` checks it now.",
            level=Level.INFO,
        )
    checks = _checks(rows)
    latest: dict[str, HistoryRow] = {}
    for row in (r for check in checks for r in check):
        latest.setdefault(row.controller, row)
    now_status = worst_status(r.status for r in latest.values())
    stuck_now = sum(r.stuck_aps for r in latest.values())
    waiting_now = sum(max(0, r.downloading_aps - r.stuck_aps) for r in latest.values())

    table_rows: list[tuple[str, ...]] = []
    for check in checks:
        when = _short_time(max(r.checked_at for r in check))
        for index, row in enumerate(check):
            if len(table_rows) >= limit:
                break
            table_rows.append(
                (
                    when if index == 0 else "",
                    row.controller,
                    _n(row.stuck_aps),
                    _n(max(0, row.downloading_aps - row.stuck_aps)),
                    "–" if row.aps_total is None else _n(row.aps_total) + ("*" if row.incomplete else ""),
                    _status(row.status),
                )
            )
    text = (
        f"Latest ({fmt_time(checks[0][0].checked_at)}): {_status(now_status)} on "
        f"{plural(len(latest), 'controller')}"
        + (f", {plural(stuck_now, 'AP')} stuck" if stuck_now else "")
        + (f", {plural(waiting_now, 'affected AP')} downloading (not stuck yet)" if waiting_now else "")
        + "."
    )
    if any(r.incomplete for r in rows):
        text += " * incomplete read: the controller counted more APs than it listed."
    if len(rows) > len(table_rows):
        text += f" Showing the newest {len(table_rows)} of {len(rows)} records."
    return Reply(
        title=f"{STATUS_ICON[now_status]} {site}: check history",
        text=text,
        level=STATUS_LEVEL[now_status],
        sections=(Section(table=Table(HISTORY_COLUMNS, tuple(table_rows))),),
    )


__all__ = ["digest_replies", "fmt_change", "history_reply", "site_section"]
