"""Chat-agnostic answers: verdicts and inventory in, `Reply` out.

Nothing here knows Slack or the terminal; both render these replies. The
words are written for a network engineer in a change window: what is wrong,
on which box, and the one next step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from bot.chat.arguments import Invalid
from bot.chat.failures import failure_words
from bot.chat.registry import REGISTRY, Registry
from bot.chat.reply import Button, Field, Level, Reply, Section, Table
from bot.controllers.platforms import registry
from bot.domain.ap_models import classify_model
from bot.domain.digest import HistoryRow
from bot.domain.models import ClockReading, ControllerSnapshot, NtpServer
from bot.domain.software_fix import FixState
from bot.domain.verdict import RISK_CODES, ActionKind, ControllerVerdict, Severity, VerdictStatus, worst_status
from bot.fleet.service import SiteReport
from bot.inventory import Inventory

STATUS_ICON = {
    VerdictStatus.OK: "✅",
    VerdictStatus.AT_RISK: "⚠️",
    VerdictStatus.DOWNLOADING: "⏳",
    VerdictStatus.STUCK: "🛑",
    VerdictStatus.UNREACHABLE: "🔌",
    VerdictStatus.ERROR: "❗",
}
STATUS_LEVEL = {
    VerdictStatus.OK: Level.OK,
    VerdictStatus.AT_RISK: Level.WARNING,
    VerdictStatus.DOWNLOADING: Level.WARNING,
    VerdictStatus.STUCK: Level.DANGER,
    VerdictStatus.UNREACHABLE: Level.DANGER,
    VerdictStatus.ERROR: Level.WARNING,
}


def platform_label(name: object) -> str:
    """How people see a platform ("Catalyst 9800"), from its package; an unknown name as it is."""
    try:
        return registry.get(str(name)).label
    except registry.UnknownPlatform:
        return str(name or "unknown platform")


FIX_LABEL = {
    FixState.FIXED: "has the fix",
    FixState.PARTIAL: "fixed for some models only",
    FixState.NOT_FIXED: "not fixed",
    FixState.UNKNOWN: "fix status unknown",
}
READ_ONLY_FOOTER = "Read-only check: nothing was changed on any controller."


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def help_reply(problem: Invalid | None = None, registry: Registry | None = None) -> Reply:
    """`/ccert help`, or a refusal followed by the help; the lines are the registry's
    (the bot's own commands, which `bot.chat.commands` registers, unless told otherwise)."""
    text = "\n".join((REGISTRY if registry is None else registry).help_lines())
    if problem is None:
        return Reply(
            title="ccert-bot — CSCwd80290 (IOS APs stuck Downloading)",
            text=text,
            ephemeral=True,
            footer="I only read controllers for these commands; changes need a playbook and two approvals.",
        )
    head = problem.message + (f" {problem.suggestion}" if problem.suggestion else "")
    return Reply(title=head, text=text, level=Level.WARNING, ephemeral=True)


def invalid_reply(problem: Invalid, registry: Registry | None = None) -> Reply:
    if problem.show_help:
        return help_reply(problem, registry)
    text = problem.suggestion or ""
    return Reply(title=problem.message, text=text, level=Level.WARNING, ephemeral=True)


def denied_reply(command: str, registry: Registry | None = None) -> Reply:
    """Says who decides, so the refused user knows whom to ask and which setting it is
    (a command's own `denied` words when it has them)."""
    spec = (REGISTRY if registry is None else registry).get(command)
    text = (
        spec.denied
        if spec is not None and spec.denied
        else "Ask a ccert-bot admin to add you (CCERT_ACCESS) if you need it."
    )
    return Reply(
        title=f"Sorry, you're not allowed to run `/ccert {command}`.",
        text=text,
        level=Level.WARNING,
        ephemeral=True,
    )


def sites_reply(inventory: Inventory) -> Reply:
    rows = []
    for site in inventory.sites.values():
        for c in site.controllers:
            rows.append((site.name, c.name, platform_label(c.platform), f"{c.host}:{c.port}"))
    return Reply(
        title=f"{plural(len(inventory.sites), 'site')}, {plural(len(rows), 'controller')}",
        sections=(Section(table=Table(("Site", "Controller", "Platform", "Address"), tuple(rows))),),
        ephemeral=True,
    )


def checking_reply(site_names: Sequence[str], controller_count: int, what: str = "checking") -> Reply:
    where = site_names[0] if len(site_names) == 1 else f"{len(site_names)} sites"
    return Reply(
        title=f"{what} {where}: {plural(controller_count, 'controller')}…",
        text="I'll post the answer here as soon as every controller has answered or timed out.",
        ephemeral=True,
    )


def fmt_time(value: datetime) -> str:
    if value.tzinfo is None:
        return value.strftime("%Y-%m-%d %H:%M:%S") + " (controller local time)"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _clock_text(clock: ClockReading | None) -> str:
    if clock is None:
        return "not read"
    source = {"ntp": "NTP", "manual": "set by hand", "unknown": "source unknown"}[clock.source.value]
    text = f"{fmt_time(clock.time)} ({source})"
    if clock.looks_hand_set and clock.source.value != "manual":
        text += " — looks set by hand"
    return text


def _ntp_server_text(server: NtpServer) -> str:
    if server.config_line:
        return server.config_line
    parts = [server.address]
    if server.index is not None:
        parts.insert(0, f"#{server.index}")
    if server.key_index:
        parts.append(f"key {server.key_index}")
    if server.status:
        parts.append(f"({server.status})")
    return " ".join(parts)


def _ntp_text(servers: Sequence[NtpServer]) -> str:
    if not servers:
        return "no NTP server configured"
    return "; ".join(_ntp_server_text(s) for s in servers)


def _software_text(v: ControllerVerdict) -> str:
    if v.software_version is None and v.software_raw:
        return f"unknown software (the controller printed '{v.software_raw}')"
    version = v.software_version or "unknown"
    if v.apsps:
        version += " + " + ", ".join(v.apsps)
    if v.fix is None:
        return version
    return f"{version} — {FIX_LABEL[v.fix.state]}"


def _ap_counts_text(v: ControllerVerdict) -> str:
    if not v.aps_read:
        return "not read"
    states = ", ".join(f"{state} {count}" for state, count in sorted(v.state_counts.items()))
    read = plural(v.total_aps, "AP")
    if v.declared_ap_count is not None and v.declared_ap_count != v.total_aps:
        read = f"{v.total_aps:,} of the {v.declared_ap_count:,} APs the controller counts"
    parts = [read + (f" ({states})" if states else "")]
    if v.incomplete:
        parts.append("incomplete read")
    affected = v.affected_count + v.likely_affected_count
    parts.append(f"{affected} IOS-based (affected)")
    parts.append(f"{v.not_affected_count} AP-COS (not affected)")
    if v.unknown_model_count:
        parts.append(f"{v.unknown_model_count} unknown model")
    return " · ".join(parts)


def timeback_button(site: str, controller: str) -> Button:
    return Button(
        label="Request time-back",
        action_id="timeback_request",
        value=f"{site}/{controller}",
        console_command=f"/ccert remediate {site} {controller}",
        style="primary",
    )


def dry_run_button(site: str, controller: str) -> Button:
    """Shows every command the time-back would send, changing nothing."""
    return Button(
        label="Dry run",
        action_id="timeback_dry_run",
        value=f"{site}/{controller}",
        console_command=f"/ccert remediate {site} {controller} --dry-run",
    )


def status_label(v: ControllerVerdict) -> tuple[str, str]:
    """(emoji, words) for a controller: the failure kind when it was not read fully
    (`🔑 auth failed`, `🧩 incomplete`), else its status."""
    if v.status in (VerdictStatus.UNREACHABLE, VerdictStatus.ERROR):
        words = failure_words(v.failure)
        if words is not None:
            return words.icon, words.label
    return STATUS_ICON[v.status], v.status.value


def _downloading_table(v: ControllerVerdict) -> Table:
    """Every affected AP in Downloading: how long, and whether it counts as stuck yet."""
    rows = []
    for f in v.downloading_aps:
        minutes = f.downloading_minutes(v.taken_at)
        if f.confirmed_at is not None:
            stuck = "stuck (confirmed by its AP log)"
        elif f.stuck:
            stuck = "stuck"
        else:
            stuck = "not yet"
        rows.append(
            (
                f.ap.name,
                f.ap.model or "?",
                f.ap.ip or "",
                f.ap.image_version or "",
                "" if f.ap.retry_count is None else str(f.ap.retry_count),
                "first seen now" if not minutes else f"{minutes} min",
                stuck,
            )
        )
    return Table(("Downloading AP", "Model", "IP", "Image", "Retries", "Downloading for", "Stuck"), tuple(rows))


def _unread_section(v: ControllerVerdict, title: str) -> Section:
    """A controller that could not be read at all: what failed and the next step, no invented facts."""
    words = failure_words(v.failure)
    lines = [f"• {e.message}" for e in v.errors]
    if words is not None:
        lines.append(f"➡️ {words.next_step}")
    read = "nothing: " + (words.label if words else "no answer")
    return Section(title=title, text="\n".join(lines) or None, fields=(Field("Read", read),))


def _controller_section(v: ControllerVerdict, snapshot: ControllerSnapshot | None) -> Section:
    platform = platform_label(v.platform)
    icon, label = status_label(v)
    if v.software_version is None and v.software_raw:
        label += " · unknown software"
    title = f"{icon} {v.controller} ({platform}) — {label}"
    if v.status is VerdictStatus.UNREACHABLE:
        return _unread_section(v, title)
    fields = [Field("Software", _software_text(v))]
    if v.recommendation is not None and v.fix is not None and v.fix.state is not FixState.FIXED:
        fields.append(Field("Fixed release", v.recommendation.text))
    if snapshot is not None:
        fields.append(Field("Clock", _clock_text(snapshot.clock)))
        ntp_known = snapshot.ntp_read or bool(snapshot.ntp_servers)
        fields.append(Field("NTP", _ntp_text(snapshot.ntp_servers) if ntp_known else "not read"))
    fields.append(Field("APs", _ap_counts_text(v)))
    lines: list[str] = []
    for error in v.errors:
        lines.append(f"• {error.message}")
    for warning in v.warnings:
        if warning.severity is not Severity.INFO:
            mark = "🚨" if warning.severity is Severity.CRITICAL else "⚠️"
            lines.append(f"{mark} {warning.text}")
    for action in v.actions:
        lines.append(f"➡️ {action.text}")
    table = _downloading_table(v) if v.downloading_aps else None
    buttons: tuple[Button, ...] = ()
    if v.site and any(a.kind is ActionKind.TIMEBACK_PLAYBOOK for a in v.actions):
        buttons = (timeback_button(v.site, v.controller), dry_run_button(v.site, v.controller))
    return Section(title=title, text="\n".join(lines) or None, fields=tuple(fields), table=table, buttons=buttons)


def status_reply(reports: Sequence[SiteReport]) -> Reply:
    """The verdict message: one section per controller, stuck APs as a table."""
    sections: list[Section] = []
    worst = VerdictStatus.OK
    total_controllers = stuck = downloading = aps = incomplete = unreachable = 0
    for report in reports:
        verdict = report.verdict
        if verdict.status.severity > worst.severity:
            worst = verdict.status
        stuck += verdict.stuck_count
        downloading += verdict.downloading_count
        incomplete += verdict.incomplete_count
        unreachable += verdict.status_counts.get(VerdictStatus.UNREACHABLE.value, 0)
        aps += verdict.total_aps
        total_controllers += len(verdict.controllers)
        snapshots = {s.name: s for s in report.snapshots}
        if len(reports) > 1:
            sections.append(
                Section(title=f"{STATUS_ICON[verdict.status]} Site {report.site.name} — {verdict.status.value}")
            )
        for v in verdict.controllers:
            sections.append(_controller_section(v, snapshots.get(v.controller)))
    where = reports[0].site.name if len(reports) == 1 else f"{len(reports)} sites"
    waiting = downloading - stuck
    more = f", {waiting} more downloading" if waiting else ""
    partly = "a controller was read incompletely" if incomplete else "a controller was read only partly"
    headline = {
        VerdictStatus.STUCK: f"{plural(stuck, 'AP')} stuck downloading{more} (CSCwd80290)",
        VerdictStatus.DOWNLOADING: f"{plural(waiting, 'affected AP')} downloading, none stuck yet (CSCwd80290)",
        VerdictStatus.UNREACHABLE: f"{plural(unreachable, 'controller')} could not be read",
        VerdictStatus.ERROR: partly,
        VerdictStatus.AT_RISK: "affected APs on unfixed software (none downloading now)",
        VerdictStatus.OK: "nothing to do for CSCwd80290",
    }[worst]
    icon, label = STATUS_ICON[worst], worst.value
    if worst in (VerdictStatus.UNREACHABLE, VerdictStatus.ERROR):
        # One failure kind across the unread controllers names the reply: `🔑 site-a: auth failed`.
        unread = {status_label(v) for r in reports for v in r.verdict.controllers if v.status is worst}
        if len(unread) == 1:
            icon, label = unread.pop()
    taken = max((s.taken_at for r in reports for s in r.snapshots), default=datetime.now(UTC))
    counted = plural(aps, "AP") + (" read (incomplete)" if incomplete else " read")
    return Reply(
        title=f"{icon} {where}: {label} — {headline}",
        text=f"{plural(total_controllers, 'controller')} · {counted} · read {fmt_time(taken)}",
        level=STATUS_LEVEL[worst],
        sections=tuple(sections),
        footer=READ_ONLY_FOOTER,
    )


def aps_reply(reports: Sequence[SiteReport], state: str | None) -> Reply:
    rows = []
    for report in reports:
        for snapshot in report.snapshots:
            for ap in snapshot.aps:
                if state and (ap.state or "").lower() != state.lower():
                    continue
                category = classify_model(ap.model).category.value.replace("_", " ")
                rows.append(
                    (
                        snapshot.name,
                        ap.name,
                        ap.model or "?",
                        ap.ip or "",
                        ap.image_version or "",
                        ap.state or "?",
                        category,
                    )
                )
    where = reports[0].site.name if len(reports) == 1 else f"{len(reports)} sites"
    filtered = f" in state {state}" if state else ""
    errors = [e.message for r in reports for s in r.snapshots for e in s.errors]
    return Reply(
        title=f"{where}: {plural(len(rows), 'AP')}{filtered}",
        text="\n".join(f"• {e}" for e in errors),
        level=Level.WARNING if errors else Level.INFO,
        sections=(
            Section(table=Table(("Controller", "AP", "Model", "IP", "Image", "State", "CSCwd80290"), tuple(rows))),
        ),
        footer=READ_ONLY_FOOTER,
    )


def advise_reply(reports: Sequence[SiteReport]) -> Reply:
    rows = []
    notes: list[str] = []
    for report in reports:
        for v in report.verdict.controllers:
            fix = v.fix.state.value.replace("_", " ") if v.fix else "unknown"
            recommendation = v.recommendation.text if v.recommendation else "unknown (not read)"
            if v.timeback is None:
                timeback = "unknown"
            elif v.timeback.possible and v.timeback.target is not None:
                timeback = f"safe: {v.timeback.target.strftime('%Y-%m-%d %H:%M UTC')}"
            else:
                timeback = "impossible: use a staging controller"
            software = v.software_version or (f"unknown software ({v.software_raw})" if v.software_raw else "?")
            rows.append((v.controller, software, fix, recommendation, timeback))
            if v.timeback is not None:
                notes.extend(f"{v.controller}: {w}" for w in v.timeback.warnings)
            notes.extend(f"⚠️ {v.controller}: {w.text}" for w in v.warnings if w.code in RISK_CODES)
    where = reports[0].site.name if len(reports) == 1 else f"{len(reports)} sites"
    return Reply(
        title=f"{where}: fixed software and time-back advice",
        text="\n".join(notes),
        sections=(
            Section(table=Table(("Controller", "Software", "Fix", "Recommended", "Time-back"), tuple(rows))),
            Section(
                text="Source: Cisco's CSCwd80290 tech note / FN72524 (the table lives in "
                "bot/domain/data/advisory.yaml). The bot advises; it never installs software."
            ),
        ),
        footer=READ_ONLY_FOOTER,
    )


def not_enabled_reply(what: str, steps: Iterable[str] = ()) -> Reply:
    return Reply(
        title=f"{what} is not enabled in this version of ccert-bot.",
        text="\n".join(steps),
        level=Level.INFO,
        ephemeral=True,
    )


# --------------------------------------------------------------------------- /ccert history: pruned days

DAILY_HISTORY_COLUMNS = ("Day (UTC)", "Controller", "Stuck (most)", "Downloading (most)", "APs", "Worst")


def _daily_section(days: Sequence[HistoryRow], limit: int) -> Section:
    """One row per controller and day, newest day first: the worst verdict of the day, the most
    APs stuck and downloading (stuck included) at one check, the APs of the day's last read."""
    ordered = sorted(days, key=lambda r: (-r.checked_at.timestamp(), r.controller))[:limit]
    rows = []
    previous_day = None
    for row in ordered:
        day = row.checked_at.astimezone(UTC).date().isoformat()
        rows.append(
            (
                day if day != previous_day else "",
                row.controller,
                f"{row.stuck_aps:,}",
                f"{row.downloading_aps:,}",
                "–" if row.aps_total is None else f"{row.aps_total:,}" + ("*" if row.incomplete else ""),
                f"{STATUS_ICON[row.status]} {row.status.value}",
            )
        )
        previous_day = day
    text = (
        "Daily summaries, not single checks: these days' checks are past `CCERT_RETENTION_DAYS` and were pruned; "
        "one summary per controller per day is kept. Stuck and downloading are the most seen at one check that "
        "day, APs the day's last read, the status the worst of the day."
    )
    if any(r.incomplete for r in ordered):
        text += " * incomplete read: the controller counted more APs than it listed."
    if len(days) > len(ordered):
        text += f" Showing the newest {len(ordered)} of {len(days)} daily rows."
    return Section(
        title="📅 Daily summaries (older checks pruned)", text=text, table=Table(DAILY_HISTORY_COLUMNS, tuple(rows))
    )


def history_with_daily_summaries(
    site: str, checks: Reply | None, days: Sequence[HistoryRow], *, limit: int = 60
) -> Reply:
    """`/ccert history` once some of the site's checks were pruned: the kept checks (`checks`, the
    usual history reply, or None when none is kept), then the pruned days as daily summaries,
    marked as such so a day is never read as one check."""
    section = _daily_section(days, limit)
    if checks is not None:
        return replace(checks, sections=(*checks.sections, section))
    worst = worst_status(r.status for r in days)
    return Reply(
        title=f"{STATUS_ICON[worst]} {site}: daily summaries only",
        text="No single check of this site is kept any more (only days older than the retention).",
        level=STATUS_LEVEL[worst],
        sections=(section,),
    )
