"""Alert messages and their thread notes, from the payloads the alert rules make.

`alert_reply(payload, state)` is the top-level alert message (posted on
`OpenAlert`, updated in place on `UpdateAlert`, `ReopenAlert` and
`ResolveAlert`); `thread_note_text(decision)` is the short line that goes in
its thread. Both read only the decision / stored payload (see
`bot.domain.alerts`), so a message can be re-rendered from the store at any
time, e.g. after a restart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.chat.failures import failure_words
from bot.chat.handlers import (
    FIX_LABEL,
    STATUS_ICON,
    fmt_time,
    platform_label,
    plural,
    timeback_button,
)
from bot.chat.reply import Button, Field, Level, Reply, Section, Table
from bot.domain.alerts import (
    AlertDecision,
    AlertKind,
    AlertState,
    ClearedAP,
    OpenAlert,
    ReopenAlert,
    ResolveAlert,
    UpdateAlert,
)
from bot.domain.ap_log import APLogEntry
from bot.domain.software_fix import FixState
from bot.domain.verdict import VerdictStatus

RESOLVED_ICON = "✅"
BUG = "CSCwd80290"
# Names listed in one thread line before "and N more".
MAX_NAMES = 25
# APs whose own log line a thread note quotes; the others are named after them.
MAX_LOGGED = 10


# --------------------------------------------------------------------------- small formatting helpers


def fmt_duration(value: timedelta | None) -> str:
    """`45 min`, `1 h 20 min`, `2 d 3 h`; under a minute `less than a minute`."""
    if value is None:
        return "an unknown time"
    minutes = int(value.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def parse_time(value: str | datetime | None) -> datetime | None:
    """A payload timestamp (ISO text) as a datetime; None stays None."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def fmt_since(since: datetime | None, at: datetime | None) -> str:
    """`2026-11-27 05:10 UTC (45 min)`: the time, and how long until `at`."""
    if since is None:
        return "?"
    if at is None:
        return fmt_time(since)
    return f"{fmt_time(since)} ({fmt_duration(at - since)})"


def names_text(names: Sequence[str], limit: int = MAX_NAMES) -> str:
    """`AP1, AP2, AP3` — or the first `limit` names `and N more`."""
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def _where(payload: Mapping[str, Any]) -> str:
    controller = payload.get("controller", "?")
    site = payload.get("site")
    return f"{controller} ({site})" if site else str(controller)


def _platform(payload: Mapping[str, Any]) -> str:
    return platform_label(payload.get("platform"))


def _software(payload: Mapping[str, Any]) -> str:
    version = payload.get("software_version") or "unknown"
    apsps = payload.get("apsps") or []
    if apsps:
        version += " + " + ", ".join(apsps)
    label = FIX_LABEL.get(payload.get("fix_state") or "")  # type: ignore[arg-type]  # a stored str: a StrEnum key matches it
    return f"{version} — {label}" if label else version


def _timeback(payload: Mapping[str, Any]) -> str:
    possible = payload.get("timeback_possible")
    target = parse_time(payload.get("timeback_target"))
    if possible is True:
        return f"possible: set the clock to {fmt_time(target)}" if target else "possible"
    if possible is False:
        return "impossible on this controller: use a staging controller (see below)"
    return "unknown"


def _episode_start(payload: Mapping[str, Any]) -> datetime | None:
    """When this episode of the alert began: the last re-opening, else the opening."""
    return parse_time(payload.get("reopened_at") or payload.get("opened_at"))


def _state_of(payload: Mapping[str, Any], state: AlertState | str | None) -> AlertState:
    if state is not None:
        return AlertState(state)
    return AlertState.RESOLVED if payload.get("resolved_at") else AlertState.OPEN


def _footer(payload: Mapping[str, Any], state: AlertState) -> str:
    opened = parse_time(payload.get("opened_at"))
    parts = [f"Alert opened {fmt_time(opened)}" if opened else "Alert"]
    updated = parse_time(payload.get("updated_at"))
    if state is AlertState.OPEN and updated and updated != opened:
        parts.append(f"last change {fmt_time(updated)}")
    reopened = int(payload.get("reopened") or 0)
    if reopened:
        parts.append(f"re-opened {plural(reopened, 'time')} (it came back soon after being resolved)")
    if state is AlertState.OPEN:
        parts.append("changes are posted in this thread")
    return " · ".join(parts) + "."


# --------------------------------------------------------------------------- the alert message


def alert_reply(
    payload: Mapping[str, Any],
    state: AlertState | str | None = None,
    *,
    now: datetime | None = None,
) -> Reply:
    """The alert message for a stored payload.

    `state` open/resolved (default: resolved when the payload has a
    `resolved_at`). Durations ("45 min") run to `now` when given, else to the
    check the payload was made from (`checked_at`): the message is only
    updated on a change, so it says when it was last true.
    """
    resolved = _state_of(payload, state)
    if payload.get("kind") == AlertKind.UNREACHABLE.value:
        return _unreachable_reply(payload, resolved, now)
    return _stuck_reply(payload, resolved, now)


def _stuck_table(payload: Mapping[str, Any], at: datetime | None) -> Table:
    rows = []
    for ap in sorted(payload.get("stuck_aps", ()), key=lambda a: a.get("name", "")):
        rows.append(
            (
                ap.get("name", "?"),
                ap.get("model") or "?",
                fmt_since(parse_time(ap.get("since")), at),
                "confirmed by AP log" if ap.get("confirmed") else "—",
            )
        )
    return Table(("Stuck AP", "Model", "Downloading since", "AP log"), tuple(rows))


def _recovered_table(payload: Mapping[str, Any]) -> Table:
    rows = []
    for ap in payload.get("recovered", ()):
        since = parse_time(ap.get("since"))
        cleared = parse_time(ap.get("at"))
        rows.append(
            (
                ap.get("name", "?"),
                ap.get("model") or "?",
                fmt_time(since) if since else "?",
                fmt_time(cleared) if cleared else "?",
                ap.get("state") or "no longer Downloading",
            )
        )
    return Table(("AP", "Model", "Downloading since", "Cleared", "State then"), tuple(rows))


def _recovered_text(payload: Mapping[str, Any]) -> str | None:
    stuck = set(_stuck_names(payload))
    recovered = [r for r in payload.get("recovered", ()) if r.get("name") not in stuck]
    if not recovered:
        return None
    names = [f"{r['name']} ({r['state']})" if r.get("state") else r["name"] for r in recovered]
    return "No longer stuck: " + names_text(names)


def _stuck_reply(payload: Mapping[str, Any], state: AlertState, now: datetime | None) -> Reply:
    where = _where(payload)
    checked = parse_time(payload.get("checked_at"))
    fields = [
        Field("Controller", f"{payload.get('controller', '?')} ({_platform(payload)}, {payload.get('host', '?')})"),
        Field("Software", _software(payload)),
    ]
    if payload.get("fix_state") != FixState.FIXED.value and payload.get("recommendation"):
        fields.append(Field("Fixed release", payload["recommendation"]))

    if state is AlertState.RESOLVED:
        resolved_at = parse_time(payload.get("resolved_at"))
        opened = _episode_start(payload)
        when = fmt_time(resolved_at) if resolved_at else "?"
        count = len(payload.get("recovered", ()))
        text = f"No AP is stuck downloading any more ({plural(count, 'AP')} cleared)."
        if opened and resolved_at:
            text += f" The alert was open for {fmt_duration(resolved_at - opened)}."
        if payload.get("fix_state") != FixState.FIXED.value:
            text += " The software still lacks the fix: plan the upgrade, or the next AP download will loop again."
        return Reply(
            title=f"{RESOLVED_ICON} {where}: resolved at {when} — no AP stuck downloading ({BUG})",
            text=text,
            level=Level.OK,
            sections=(
                Section(fields=tuple(fields)),
                Section(title="APs that were stuck", table=_recovered_table(payload)),
            ),
            footer=_footer(payload, state),
        )

    stuck = list(payload.get("stuck_aps", ()))
    at = now or checked
    fields.append(Field("Time-back", _timeback(payload)))
    if checked:
        fields.append(Field("Last checked", fmt_time(checked)))
    confirmed = sum(1 for ap in stuck if ap.get("confirmed"))
    text = (
        "These affected IOS APs keep looping in Downloading: the image-signing certificate in their image "
        "expired on 2022-12-04 and they check it against the controller's clock. They will not join until "
        "the controller clock is set back (time-back) or the controller runs fixed software."
    )
    if confirmed:
        whose = "its" if confirmed == 1 else "their"
        text += f" {plural(confirmed, 'AP')} confirmed the certificate failure in {whose} own log."
    lines = [f"➡️ {a['text']}" for a in payload.get("actions", ()) if a.get("text")]
    incomplete = [str(r) for r in payload.get("incomplete") or ()]
    if incomplete:
        lines.insert(0, "🧩 incomplete read: " + "; ".join(incomplete) + " — more APs may be stuck than listed")
    recovered = _recovered_text(payload)
    if recovered:
        lines.append(recovered)
    sections = [
        Section(fields=tuple(fields)),
        Section(title=f"{plural(len(stuck), 'AP')} stuck", table=_stuck_table(payload, at)),
    ]
    if lines:
        sections.append(Section(title="What to do", text="\n".join(lines)))
    buttons: tuple[Button, ...] = ()
    site = payload.get("site")
    if site and payload.get("timeback_possible") is not False:
        buttons = (timeback_button(site, payload.get("controller", "")),)
    return Reply(
        title=f"{STATUS_ICON[VerdictStatus.STUCK]} {where}: {plural(len(stuck), 'AP')} stuck downloading — {BUG}",
        text=text,
        level=Level.DANGER,
        sections=tuple(sections),
        buttons=buttons,
        footer=_footer(payload, state),
    )


def _unreachable_reply(payload: Mapping[str, Any], state: AlertState, now: datetime | None) -> Reply:
    where = _where(payload)
    checked = parse_time(payload.get("checked_at"))
    opened = _episode_start(payload)
    fields = [
        Field("Controller", f"{payload.get('controller', '?')} ({_platform(payload)}, {payload.get('host', '?')})")
    ]
    if state is AlertState.RESOLVED:
        resolved_at = parse_time(payload.get("resolved_at"))
        when = fmt_time(resolved_at) if resolved_at else "?"
        text = "The controller can be read again; its AP checks are back to normal."
        if opened and resolved_at:
            text += f" The alert was open for {fmt_duration(resolved_at - opened)}."
        return Reply(
            title=f"{RESOLVED_ICON} {where}: reachable again — resolved at {when}",
            text=text,
            level=Level.OK,
            sections=(Section(fields=tuple(fields)),),
            footer=_footer(payload, state),
        )
    checks = int(payload.get("failed_checks") or 0)
    if checked:
        fields.append(Field("Last failed check", fmt_time(checked)))
    if opened and now:
        fields.append(Field("Unreachable for", f"at least {fmt_duration(now - opened)}"))
    errors = [f"• {e}" for e in payload.get("errors", ())]
    text = (
        f"I could not read this controller for {plural(checks, 'check')} in a row, so I cannot tell whether "
        "APs are stuck on it. Any stuck-AP alert for it stays as it was until I can read it again."
    )
    words = failure_words(payload.get("failure"))
    step = words.next_step if words else "check reachability, credentials and the SSH host key"
    lines = [*errors, f"➡️ {step}"]
    icon, label = (words.icon, words.label) if words else (STATUS_ICON[VerdictStatus.UNREACHABLE], "unreachable")
    return Reply(
        title=f"{icon} {where}: {label} for {plural(checks, 'check')} — {BUG} status unknown",
        text=text,
        level=Level.DANGER,
        sections=(Section(fields=tuple(fields)), Section(text="\n".join(lines))),
        footer=_footer(payload, state),
    )


# --------------------------------------------------------------------------- thread notes


def _cleared_lines(cleared: Iterable[ClearedAP]) -> list[str]:
    """`AP3 is no longer stuck (Registered)`; APs in the same state share a line."""
    by_state: dict[str | None, list[str]] = {}
    for c in cleared:
        by_state.setdefault(c.state, []).append(c.name)
    lines = []
    for state, names in by_state.items():
        verb = "is" if len(names) == 1 else "are"
        tail = f" ({state})" if state else ""
        lines.append(f"{names_text(names)} {verb} no longer stuck{tail}")
    return lines


def _stuck_names(payload: Mapping[str, Any]) -> list[str]:
    return [ap["name"] for ap in payload.get("stuck_aps", ())]


def thread_note_text(decision: AlertDecision) -> str:
    """The short note for the alert's thread, e.g. `2 more APs stuck: AP1, AP2`,
    `AP3 is no longer stuck (Registered)`, `Resolved: no AP stuck any more after 1 h 20 min`."""
    payload = decision.payload
    controller = decision.controller
    if decision.kind is AlertKind.UNREACHABLE:
        if isinstance(decision, ResolveAlert):
            return f"Resolved: {controller} can be read again after {fmt_duration(decision.open_for)}"
        checks = plural(int(payload.get("failed_checks") or 0), "check")
        errors = "; ".join(payload.get("errors", ()))
        detail = f": {errors}" if errors else ""
        if isinstance(decision, ReopenAlert):
            return (
                f"Unreachable again ({checks} in a row), {fmt_duration(decision.quiet_for)} after this alert was "
                f"resolved: re-opened it rather than posting a new alert{detail}"
            )
        return f"{controller} unreachable for {checks} in a row{detail}"

    stuck = _stuck_names(payload)
    if isinstance(decision, OpenAlert):
        confirmed = [ap["name"] for ap in payload.get("stuck_aps", ()) if ap.get("confirmed")]
        text = f"{plural(len(stuck), 'AP')} stuck downloading: {names_text(stuck)}"
        if confirmed:
            text += f" ({names_text(confirmed)} confirmed by AP log)"
        return text
    if isinstance(decision, ReopenAlert):
        return (
            f"Stuck again, {fmt_duration(decision.quiet_for)} after this alert was resolved: "
            f"{plural(len(stuck), 'AP')} stuck downloading: {names_text(stuck)}"
        )
    if isinstance(decision, ResolveAlert):
        lines = [f"Resolved: no AP stuck any more after {fmt_duration(decision.open_for)}"]
        return "\n".join(lines + _cleared_lines(decision.removed))
    assert isinstance(decision, UpdateAlert)
    lines = []
    if decision.added:
        lines.append(f"{plural(len(decision.added), 'more AP')} stuck: {names_text(list(decision.added))}")
    lines += _cleared_lines(decision.removed)
    if decision.confirmed:
        lines.append(f"{names_text(list(decision.confirmed))}: certificate failure confirmed by AP log")
    lines.append(f"{plural(len(stuck), 'AP')} stuck now.")
    return "\n".join(lines)


def ap_log_note_text(entries: Sequence[APLogEntry], limit: int = MAX_LOGGED) -> str:
    """Which AP logged what, when, for the alert's thread (empty for no entries), e.g.

    `What the APs logged (times on the bot's clock)`
    `• CAP3702I.4CD4 at 2026-12-03 08:41:02 UTC, AP2702-1 at 2026-12-03 08:41:03 UTC logged`
    `  `%PKI-3-CERTIFICATE_INVALID_EXPIRED: Certificate chain validation has failed. ...``
    `  The AP checked the image it downloaded with the image-signing certificate ...`

    APs that logged the same line are one item (earliest first, the first `limit` by name and
    time, then how many more); so are at most `limit` distinct lines. An AP's line arrives
    unauthenticated, so it can mention nobody: `<` and `>` are shown as `‹` and `›` (Slack
    would read `<@U…>` or `<#C…>` in it as a mention; the renderer escapes the rest).
    """
    if not entries:
        return ""
    groups: dict[tuple[str, str], list[APLogEntry]] = {}
    for entry in sorted(entries, key=lambda e: (e.at, e.ap)):
        groups.setdefault((entry.line, entry.meaning), []).append(entry)
    lines = ["What the APs logged (times on the bot's clock)"]
    for (line, meaning), group in list(groups.items())[:limit]:
        shown = ", ".join(f"{e.ap} at {_clock(e.at)}" for e in group[:limit])
        more = f" and {plural(len(group) - limit, 'more AP')}" if len(group) > limit else ""
        lines.append(f"• {shown}{more} logged")
        if line:
            lines.append(f"  `{_unmentionable(line)}`")
        lines.append(f"  {meaning}")
    rest = [e.ap for group in list(groups.values())[limit:] for e in group]
    if rest:
        lines.append(f"• and {plural(len(rest), 'more AP')} logged other failure lines: {names_text(rest)}")
    return "\n".join(lines)


def _clock(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _unmentionable(text: str) -> str:
    """Also no backquote, which would end the code span the line is shown in."""
    return text.replace("<", "‹").replace(">", "›").replace("`", "'")


__all__ = [
    "alert_reply",
    "ap_log_note_text",
    "fmt_duration",
    "fmt_since",
    "names_text",
    "parse_time",
    "thread_note_text",
]
