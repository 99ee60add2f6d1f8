"""CSV exports for change tickets and RMA planning: `/ccert export` and `/ccert audit <id> --export`.

Chat-agnostic like the other views: a command gets a `Reply` whose `files` hold
the CSV, already written to a temporary file; the front door delivers it (Slack
uploads it, the console moves it to `CCERT_EXPORT_DIR`) and deletes the
temporary file. A file is seen by the whole channel it is posted in, so the
audit's (every command and its output) goes only to the request's own channel
(`bot.chat.commands._audit_export_refusal`; the README's Exports says why).

**Streaming.** A fleet of 10,000 APs is written row by row: `csv.writer` over an
open file, fed by generators over the snapshots. No list of rows and no CSV
string is ever built, so the memory the export needs does not grow with the
fleet beyond what the read itself holds (tests/chat/test_exports.py measures it).
Writing runs in a worker thread (`asyncio.to_thread` in the command) so a large
file does not hold the event loop.

**Safety.** The cells are device text (AP names, models, images are whatever the
controller printed) and these files are opened in Excel. `csv_cell` removes
control and format characters (`bot.chat.text.printable`; the audit's command
output keeps its newlines) and prefixes a `'` to a cell that starts with `=`,
`+`, `-`, `@`, a tab or a CR, or with one of those signs (or its full-width
form, `＝＋－＠`) after leading spaces, so no cell is ever taken for a formula
(CSV injection). The files are UTF-8 with a byte-order mark, which is how Excel
knows they are UTF-8.

**Truthful.** Every row is what a controller said at `checked_at`. A controller
that could not be read has no rows, and the reply names it; one read partly
(fewer APs listed than it counts, a failed command) has the rows it listed,
each saying so in `controller_read`, and the reply says so too.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.chat.handlers import READ_ONLY_FOOTER, plural, status_label
from bot.chat.reply import Level, Reply, ReplyFile, Section, Table
from bot.chat.text import printable
from bot.domain.advisory_data import ModelCategory
from bot.domain.ap_models import classify_model
from bot.domain.models import ControllerSnapshot
from bot.domain.verdict import ControllerVerdict
from bot.fleet.service import SiteReport
from bot.store import APState
from bot.store.remediation import AuditEntry

#: The fleet export's columns, in order (README "Exports" explains each).
FLEET_COLUMNS = (
    "site",
    "controller",
    "ap_name",
    "model",
    "affected",
    "state",
    "state_since",
    "image",
    "controller_software",
    "fixed_release",
    "checked_at",
    "controller_read",
)
#: The audit export's columns, in order.
AUDIT_COLUMNS = (
    "id",
    "at",
    "request_id",
    "run_id",
    "kind",
    "actor",
    "controller",
    "step",
    "text",
    "output",
    "error",
    "data",
)

#: How the `affected` column says what CSCwd80290 means for an AP model (the advisory's categories).
AFFECTED_WORDS = {
    ModelCategory.AFFECTED: "affected",
    ModelCategory.LIKELY_AFFECTED: "likely affected",
    ModelCategory.NOT_AFFECTED: "not affected",
    ModelCategory.UNKNOWN: "unknown model",
}
COMPLETE = "complete"
#: Past this many controllers the export's message lists only those not read completely.
MAX_CONTROLLER_ROWS = 20

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: What starts a formula once leading spaces are stripped: the ASCII signs and their full-width
#: forms (`＝` U+FF1D, `＋` U+FF0B, `－` U+FF0D, `＠` U+FF20), which spreadsheets in East Asian
#: locales may take as the ASCII ones.
_FORMULA_SIGNS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def csv_cell(value: object, *, keep_newlines: bool = False) -> str:
    """One cell as Excel may open it: no control or format characters, never a formula.

    A cell starting with `=`, `+`, `-`, `@`, a tab or a CR gets a leading `'` (OWASP's
    advice against CSV injection); the tab or CR itself is then removed with the other
    control characters. So does one whose first sign after leading whitespace (spaces,
    no-break spaces) is one of those or its full-width form (`＝1+1`): some spreadsheets
    skip the spaces, or read the full-width sign as the ASCII one, and evaluate the rest.
    `keep_newlines` keeps LF (a command's output); the CSV quoting keeps such a cell one cell.
    """
    if value is None:
        return ""
    text = str(value)
    risky = text.startswith(_FORMULA_START) or _starts_formula(text)
    text = printable(text.replace("\r\n", "\n"), keep_newlines=keep_newlines)
    if risky or text.startswith(_FORMULA_START) or _starts_formula(text):
        text = "'" + text
    return text


def _starts_formula(text: str) -> bool:
    """Whether `text`, leading whitespace (`str.lstrip`: spaces, no-break spaces, tabs…) aside,
    starts with a formula sign, ASCII or full-width."""
    return text.lstrip().startswith(_FORMULA_SIGNS)


def utc_iso(value: datetime | None) -> str:
    """`2026-12-02T15:34:28+00:00`: UTC, to the second; blank for None. A naive time (a
    controller's local clock) is taken as it is, never guessed into UTC."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="seconds")


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[object]], *, name: str) -> tuple[Path, int]:
    """Write `columns` then each of `rows` (consumed one at a time) to a new temporary file.

    Returns its path and how many rows it holds. The file is the caller's: it is created
    readable by this user only (`mkstemp`), and deleted here only when writing fails.
    """
    fd, raw = tempfile.mkstemp(prefix=f"ccert-{name}-", suffix=".csv")
    path = Path(raw)
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(columns)
            for row in rows:
                writer.writerow(row)
                count += 1
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, count


def file_stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def safe_filename(*parts: str) -> str:
    """`ccert-export-site-a-20261202T153428Z.csv`: only letters, digits, `.`, `_` and `-`."""
    return "-".join(_UNSAFE_NAME.sub("_", p).strip("_") or "_" for p in parts) + ".csv"


# --------------------------------------------------------------------------- the fleet export


def same_state(stored: str | None, current: str | None) -> bool:
    """The store's rule for "still in the same state" (`bot.store.ap_state`): case and spaces aside."""
    return (stored or "").strip().lower() == (current or "").strip().lower()


def state_since(ap_state: str | None, known: APState | None) -> datetime | None:
    """When the bot's checks first saw the AP in the state the controller gives now, if they did.

    The store (`ap_state`) remembers, per AP, the state of the last scheduled check and the
    first check that saw it so, continuously. That time answers only while the AP is still in
    that state: an AP in another state now changed since the last check (when is not known),
    and an AP the store has no row for was never seen by a check. Both are blank, never a guess.
    """
    if known is None or not (ap_state or "").strip() or not same_state(known.state, ap_state):
        return None
    return known.state_since


def controller_software(s: ControllerSnapshot) -> str:
    """The software the controller said it runs: `17.3.4 + APSP7`, or its own words when no
    release could be read from them (blank when it was not read)."""
    if s.software_version is None:
        return s.software_raw or ""
    return " + ".join([s.software_version, *s.apsps])


def read_note(v: ControllerVerdict) -> str:
    """`complete`, or how the controller's read fell short, in the bot's usual words."""
    if not v.aps_read:
        return "not read: " + status_label(v)[1]
    if v.incomplete:
        return "incomplete: " + "; ".join(v.incomplete)
    if v.errors:
        return "partly read: " + "; ".join(e.message for e in v.errors)
    return COMPLETE


def fleet_rows(
    reports: Sequence[SiteReport],
    states: Mapping[str, Mapping[str, APState]],
    *,
    affected_only: bool = False,
) -> Iterator[tuple[str, ...]]:
    """One row per AP the controllers listed, in the order they listed them; a generator, so
    a 10,000-AP fleet is never a list. `states` is the store's `ap_state` by controller and
    AP name (empty without a database: `state_since` stays blank)."""
    for report in reports:
        verdicts = {v.controller: v for v in report.verdict.controllers}
        for s in report.snapshots:
            v = verdicts.get(s.name)
            fixed = v.recommendation.text if v is not None and v.recommendation is not None else ""
            note = read_note(v) if v is not None else COMPLETE
            software = controller_software(s)
            checked = utc_iso(s.taken_at)
            known = states.get(s.name, {})
            for ap in s.aps:
                model = classify_model(ap.model)
                if affected_only and not model.at_risk:
                    continue
                row = (
                    report.site.name,
                    s.name,
                    ap.name,
                    ap.model or "",
                    AFFECTED_WORDS[model.category],
                    ap.state or "",
                    utc_iso(state_since(ap.state, known.get(ap.name))),
                    ap.image_version or "",
                    software,
                    fixed,
                    checked,
                    note,
                )
                yield tuple(csv_cell(c) for c in row)


@dataclass(frozen=True)
class ControllerExport:
    """What the reply says of one controller: its read, and how many of its APs are in the file."""

    site: str
    controller: str
    note: str
    rows: int
    listed: int
    declared: int | None


def write_fleet_csv(
    reports: Sequence[SiteReport],
    states: Mapping[str, Mapping[str, APState]],
    *,
    affected_only: bool = False,
    now: datetime | None = None,
) -> ReplyFile:
    """The fleet export as a temporary CSV file (streamed: see the module docstring)."""
    at = now or datetime.now(UTC)
    where = reports[0].site.name if len(reports) == 1 else "all"
    path, count = write_csv(FLEET_COLUMNS, fleet_rows(reports, states, affected_only=affected_only), name="export")
    which = "affected APs" if affected_only else "APs"
    return ReplyFile(
        filename=safe_filename("ccert-export", where, *(["affected"] if affected_only else []), file_stamp(at)),
        title=f"CSCwd80290 {which} of {where}, read {at.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        path=path,
        rows=count,
    )


def controller_exports(reports: Sequence[SiteReport], *, affected_only: bool = False) -> list[ControllerExport]:
    """Per controller: its read and how many rows it gave the file (counted the way
    `fleet_rows` filters, without writing anything)."""
    out = []
    for report in reports:
        for v in report.verdict.controllers:
            snapshot = next((s for s in report.snapshots if s.name == v.controller), None)
            aps = snapshot.aps if snapshot is not None else []
            rows = sum(1 for ap in aps if not affected_only or classify_model(ap.model).at_risk)
            out.append(
                ControllerExport(report.site.name, v.controller, read_note(v), rows, len(aps), v.declared_ap_count)
            )
    return out


def in_file(c: ControllerExport, which: str) -> str:
    """What the file holds of a partly read controller, in numbers that are true of the file:
    `--affected` keeps only some of the APs the controller listed, so both are said then."""
    if c.rows == c.listed:
        return f"the file has the {c.listed:,} {'AP' if c.listed == 1 else 'APs'} it listed"
    return f"the file has {c.rows:,} {which if c.rows == 1 else which + 's'} of the {c.listed:,} it listed"


def fleet_export_reply(reports: Sequence[SiteReport], file: ReplyFile, *, affected_only: bool = False) -> Reply:
    """The message the CSV comes with: how many APs, and every controller whose read fell short."""
    where = reports[0].site.name if len(reports) == 1 else f"{len(reports)} sites"
    per_controller = controller_exports(reports, affected_only=affected_only)
    short = [c for c in per_controller if c.note != COMPLETE]
    which = "affected AP" if affected_only else "AP"
    lines = []
    for c in short:
        if c.note.startswith("not read"):
            lines.append(f"• {c.controller} ({c.site}): {c.note} — none of its APs are in the file")
        else:
            lines.append(f"• {c.controller} ({c.site}): {c.note} — {in_file(c, which)}")
    if affected_only:
        lines.append("Only AP models CSCwd80290 affects or likely affects (`--affected`).")
    # A site's controllers are a short table; a fleet's would be pages of "complete": then
    # only the ones that fell short are listed, and the rest counted.
    listed = per_controller if len(per_controller) <= MAX_CONTROLLER_ROWS else short
    if len(listed) < len(per_controller):
        lines.append(f"{plural(len(per_controller) - len(short), 'other controller')} read completely.")
    rows = tuple(
        (
            c.controller,
            c.note,
            f"{c.rows:,}",
            "" if c.declared is None else f"{c.declared:,}",
        )
        for c in listed
    )
    head = "⚠️" if short else "📄"
    gaps = f", {plural(len(short), 'controller')} not read completely" if short else ""
    return Reply(
        title=f"{head} {where}: {plural(file.rows, which)} exported to CSV{gaps}",
        text="\n".join(lines),
        level=Level.WARNING if short else Level.INFO,
        sections=(Section(table=Table(("Controller", "Read", "Rows in file", "APs it counts"), rows)),) if rows else (),
        footer=READ_ONLY_FOOTER,
        files=(file,),
    )


def fleet_export(
    reports: Sequence[SiteReport],
    states: Mapping[str, Mapping[str, APState]],
    *,
    affected_only: bool = False,
    now: datetime | None = None,
) -> Reply:
    """`/ccert export`'s answer: the CSV written and the message about it. Blocking (it writes
    the file and classifies every AP): the command runs it in a worker thread."""
    file = write_fleet_csv(reports, states, affected_only=affected_only, now=now)
    try:
        return fleet_export_reply(reports, file, affected_only=affected_only)
    except BaseException:
        file.discard()
        raise


# --------------------------------------------------------------------------- the audit export


def audit_rows(entries: Iterable[AuditEntry]) -> Iterator[tuple[str, ...]]:
    """One row per audit entry, oldest first; the command output keeps its lines."""
    for e in entries:
        data = dict(e.data)
        output = data.pop("output", None)
        error = data.pop("error", None)
        row = (
            str(e.id),
            utc_iso(e.at),
            "" if e.request_id is None else str(e.request_id),
            "" if e.run_id is None else str(e.run_id),
            csv_cell(e.kind),
            csv_cell(e.actor),
            csv_cell(e.controller),
            csv_cell(e.step),
            csv_cell(e.text, keep_newlines=True),
            csv_cell(output, keep_newlines=True),
            csv_cell(error, keep_newlines=True),
            csv_cell(json.dumps(data, sort_keys=True, default=str) if data else ""),
        )
        yield row


def write_audit_csv(request_id: int, entries: Iterable[AuditEntry], *, now: datetime | None = None) -> ReplyFile:
    at = now or datetime.now(UTC)
    path, count = write_csv(AUDIT_COLUMNS, audit_rows(entries), name="audit")
    return ReplyFile(
        filename=safe_filename("ccert-audit", str(request_id), file_stamp(at)),
        title=f"Audit of time-back request #{request_id}",
        path=path,
        rows=count,
    )


def audit_export_reply(request_id: int, file: ReplyFile) -> Reply:
    count = "1 entry" if file.rows == 1 else f"{file.rows:,} entries"
    return Reply(
        title=f"📄 Audit of time-back request #{request_id}: {count} exported to CSV",
        text="Every vote, step, command sent (secrets redacted) with its output, undo and end, oldest first.",
        files=(file,),
    )


def audit_export_elsewhere(request_id: int, channel: str) -> Reply:
    """The refusal of `audit --export` typed outside the request's channel: where to type it instead."""
    return Reply(
        title=f"I share the audit CSV of request #{request_id} only in <#{channel}>.",
        text=(
            "It holds every command sent with its output, and a file goes to everyone in the channel it is "
            f"posted in, so it goes only where the request, its votes and its run were posted. Type "
            f"`/ccert audit {request_id} --export` in <#{channel}>; `/ccert audit {request_id}` shows you the "
            "trail here, privately."
        ),
        level=Level.WARNING,
        ephemeral=True,
    )


def audit_export_not_theirs(request_id: int) -> Reply:
    """The refusal of `audit --export` of a request posted in no channel, by someone not in charge of it."""
    return Reply(
        title=f"Only the requester or an approver may share the audit CSV of request #{request_id}.",
        text=(
            "It holds every command sent with its output, and the request was posted in no channel, so sharing "
            f"it anywhere is their choice. `/ccert audit {request_id}` shows you the trail here, privately."
        ),
        level=Level.WARNING,
        ephemeral=True,
    )
