"""AP summary and AP image tables, shared by AireOS and IOS-XE.

Both platforms print the same families of tables with different column sets
(three `show ap summary` layouts on AireOS, two on the 9800, several image
tables). The layouts are told apart by their header, not by platform or
release, so one header-driven reader handles all of them and any future
variant with known column names (see `tables.py` for how rows are fitted).

Two rules keep the bot's picture honest:
- a line is an AP only when it fits the header's layout and carries the
  row's identity (the Ethernet MAC; the image version in image tables).
  Anything else is counted in `unparsed_lines`, never turned into an AP, and
  the result says it is incomplete (`incomplete_reasons`): an invented AP
  would be checked and reported as if it existed;
- output cut by a narrow terminal is re-joined first (`wrapped.py`), so its
  continuation pieces are read as the rest of their rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from bot.controllers.parsers.errors import ParseError
from bot.controllers.parsers.results import ApImageEntry, ApImageReport, ApSummary, ApSummaryRow
from bot.controllers.parsers.rowpattern import RowPattern, ShiftOf, fast_fit, register_word_pattern
from bot.controllers.parsers.tables import (
    Column,
    ColumnSpec,
    FittedRow,
    Token,
    estimate_shift,
    fit_row,
    is_bracketed,
    is_count_or_placeholder,
    is_country,
    is_int,
    is_ip,
    is_mac,
    is_regdomain,
    is_text,
    is_token,
    is_version_or_placeholder,
    scan_header,
    scan_two_line_header,
    tokenize,
)
from bot.controllers.parsers.text import colon_pairs, dotted_pairs, int_or_none, norm_key
from bot.controllers.parsers.wrapped import (
    NO_ROW,
    Fit,
    Judge,
    TableShape,
    Verdict,
    candidate_widths,
    looks_wrapped,
    unwrap,
    unwrap_uniform,
)

AP_SUMMARY_VOCABULARY: tuple[ColumnSpec, ...] = (
    ColumnSpec("AP Name", "name", is_text, multi=True, required=True),
    ColumnSpec("Slots", "slots", is_int),
    ColumnSpec("AP Model", "model", is_token),
    ColumnSpec("Ethernet MAC", "mac", is_mac),
    ColumnSpec("Radio MAC", "radio_mac", is_mac),
    ColumnSpec("DSE Location", "dse_location", is_bracketed, multi=True),
    ColumnSpec("Location", "location", is_text, multi=True),
    ColumnSpec("Country", "country", is_country),
    ColumnSpec("CC", "country", is_country),
    ColumnSpec("RD", "regulatory_domain", is_regdomain),
    ColumnSpec("IP Address", "ip", is_ip),
    ColumnSpec("Clients", "clients", is_int),
    ColumnSpec("Port", "port", is_token),
    ColumnSpec("Priority", "priority", is_int),
    # A state is kept verbatim, whatever it says, possibly several words.
    ColumnSpec("State", "state", is_text, multi=True),
)

_IMAGE_VERSION_RE = re.compile(r"\d+(?:\.\d+){2,}")


def is_image_version(text: str) -> bool:
    """An AP image version as the controllers print it: `8.5.182.0`, `17.13.0.44`.

    The image an AP runs is always a full dotted version, so the Primary
    Image cell accepts nothing else: neither a placeholder (the tail of a cut
    row, `None  None  NA`, is not an AP) nor a version-like word of an AP
    name (`AP 8.57x` pushed into the column by a long name).
    """
    return bool(_IMAGE_VERSION_RE.fullmatch(text))


register_word_pattern(is_image_version, _IMAGE_VERSION_RE.pattern)

AP_IMAGE_VOCABULARY: tuple[ColumnSpec, ...] = (
    ColumnSpec("AP Name", "name", is_text, multi=True, required=True),
    ColumnSpec("Primary Image", "primary_image", is_image_version),
    ColumnSpec("Backup Image", "backup_image", is_version_or_placeholder),
    ColumnSpec("Download Status", "download_status", is_text, multi=True),
    ColumnSpec("Predownload Status", "predownload_status", is_text, multi=True),
    ColumnSpec("Predownload Version", "predownload_version", is_version_or_placeholder),
    ColumnSpec("Next Retry Time", "next_retry_time", is_token),
    ColumnSpec("Retry Count", "retry_count", is_count_or_placeholder),
    ColumnSpec("Method", "method", is_token),
    ColumnSpec("Flexconnect Predownload", "flexconnect_predownload", is_text, multi=True),
)

_AP_SUMMARY_HEADER_RE = re.compile(r"^\s*AP\s+Name\s+Slots\b", re.IGNORECASE)
_AP_IMAGE_HEADER_RE = re.compile(r"^\s*AP\s+Name\s+Primary\s+Image\b", re.IGNORECASE)
_AP_COUNT_RE = re.compile(r"^\s*Number\s+of\s+(?:Fabric\s+)?APs?\b\s*(?:\.{2,}|:)\s*(?P<count>\d+)\s*$", re.IGNORECASE)
_RULE_RE = re.compile(r"^\s*-{3,}[-\s]*$")
_LEGEND_RE = re.compile(r"^\s*[A-Z]{1,4}\s+=\s+\S")
# Fits of real rows cost < 2 (about 3.5 with two empty cells and an overflowing
# name; see tables.py). A row needing many empty columns and misplaced cells
# to fit is doubtful: reported in `unparsed_lines` (see `_RowFit`).
LOW_CONFIDENCE_COST = 5.0
_DOTTED_KV_RE = re.compile(r"^\s*\S.*?\.{4,}(?:\s|$)")
# The start of any AP table header: a table whose header is not recognised is
# reported as unreadable, never skipped as if it were preamble.
_TABLE_START_RE = re.compile(r"^\s*AP\s+Name\b", re.IGNORECASE)
_IMAGE_COUNTER_RE = re.compile(r"^\s*(?:Total\s+number\s+of\s+APs?|Number\s+of\s+APs?)\b", re.IGNORECASE)

_SUMMARY_FIELDS = {
    "name",
    "slots",
    "model",
    "mac",
    "radio_mac",
    "location",
    "country",
    "regulatory_domain",
    "ip",
    "state",
}
_IMAGE_FIELDS = {
    "name",
    "primary_image",
    "backup_image",
    "download_status",
    "predownload_status",
    "predownload_version",
    "next_retry_time",
    "retry_count",
    "method",
}
# Columns every real row fills (when the layout has them). Name, location,
# country (empty in the tech note's 9800 row) and AireOS' Flexconnect
# Predownload may be blank; these never are. A row without one of them is
# incomplete: cut by a narrow terminal, or not a row at all.
_SUMMARY_KEYS = frozenset(spec.key for spec in AP_SUMMARY_VOCABULARY)
_IMAGE_KEYS = frozenset(spec.key for spec in AP_IMAGE_VOCABULARY)
_SUMMARY_ALWAYS = frozenset(
    {
        "slots",
        "model",
        "mac",
        "radio_mac",
        "regulatory_domain",
        "ip",
        "state",
        "clients",
        "dse_location",
        "port",
        "priority",
    }
)
_IMAGE_ALWAYS = frozenset(_IMAGE_FIELDS - {"name"})
# `NA` / `N/A` in a predownload cell means "nothing there", not a status or version.
_NA_RE = re.compile(r"N/?A", re.IGNORECASE)


def _layout_name(columns: list[Column]) -> str:
    keys = [c.key for c in columns]
    if "regulatory_domain" in keys and "state" in keys:
        return "iosxe-cc-rd"
    if "radio_mac" in keys and keys and keys[-1] == "state":
        return "iosxe-state-last"
    if "clients" in keys or "dse_location" in keys:
        return "aireos-ip-clients"
    if "priority" in keys or "port" in keys:
        return "aireos-port-priority"
    if "ip" in keys and "state" not in keys:
        return "aireos-ip"
    return "unknown"


def _after_slots(toks: list[Token], index: int) -> bool:
    """The Ethernet MAC follows `<slots> <model>`."""
    return index >= 2 and toks[index - 2].text.isdigit()


@dataclass(frozen=True)
class _RowFit:
    """A fitted line and what the parsers conclude from it."""

    fitted: FittedRow
    complete: bool  # every always-printed column of the layout is filled
    confident: bool  # cost within LOW_CONFIDENCE_COST
    fast: bool = False  # read by the layout's compiled pattern, not the general fitter
    columns: int = 0  # how many columns the layout has

    @property
    def verdict(self) -> Verdict:
        fit = Fit.COMPLETE if self.complete and self.confident else Fit.PARTIAL
        return Verdict(fit, len(self.fitted.cells), full=self.full)

    @property
    def full(self) -> bool:
        return len(self.fitted.cells) == self.columns

    @property
    def is_row(self) -> bool:
        """A confident fit is an AP row; a doubtful one only when complete.

        A doubtful but complete fit carries every column an AP row has,
        including its MAC, so it is an AP the controller printed: dropping it
        would hide a real AP. A doubtful and incomplete fit is not taken as
        an AP at all (it is usually a fragment of a cut or garbled row).
        """
        return self.confident or self.complete

    @property
    def read_in_full(self) -> bool:
        """Confident and complete. Any other row kept is also listed in
        `unparsed_lines`, so the table reports itself incomplete: a row
        without its State (or IP, or image) was not fully read, and the
        missing cell is exactly what the bot decides on."""
        return self.confident and self.complete


@dataclass(frozen=True)
class _Layout:
    """One header's columns with their compiled row pattern (the fast path)
    and the way the general fitter would estimate a matched row's shift."""

    columns: list[Column]
    pattern: RowPattern
    shift_of: ShiftOf
    always: frozenset[str]  # the layout's columns that every real row fills
    anchor: str | None  # the cell without which a line is no row (MAC or IP; the image version)

    def complete(self, fitted: FittedRow) -> bool:
        return self.always <= fitted.cells.keys()


def _summary_shift_of(columns: list[Column]) -> ShiftOf:
    """The general fitter's shift (`estimate_shift` on the Ethernet MAC) for a matched row.

    In every summary layout the MAC follows `<slots> <model>`, so the matched
    MAC is a preferred anchor; `estimate_shift` takes the *last* preferred
    one, so any MAC-like text after it (other than a Radio MAC after a
    non-numeric model) leaves the decision to the general reading.
    """
    keys = [c.key for c in columns]
    if "mac" not in keys:
        return lambda line, m: 0  # no anchor column: estimate_shift says 0
    j = keys.index("mac")
    mac_start = columns[j].start
    clean = j >= 2 and not columns[j - 1].multi and columns[j - 2].validator is is_int and not columns[j - 2].multi
    radio = j + 1 if j + 1 < len(keys) and keys[j + 1] == "radio_mac" else None

    def slow(line: str, m: re.Match[str]) -> int | None:
        return estimate_shift(line, columns, "mac", is_mac, _after_slots)

    if not clean:
        return slow

    # Later cells that could hold a MAC-like word (free text, any-word cells, the Radio MAC).
    suspects = tuple(
        k + 1 for k in range(j + 1, len(columns)) if columns[k].multi or columns[k].validator in _MAY_HOLD_MAC
    )

    def shift_of(line: str, m: re.Match[str]) -> int | None:
        for group in suspects:
            text = m.group(group)
            if group - 1 == radio:
                if text is not None and m.group(j).isdigit():
                    return slow(line, m)  # a Radio MAC after a numeric model is a preferred anchor too
                continue
            if text is not None and _has_mac_word(text):
                return slow(line, m)
        return m.start(j + 1) - mac_start

    return shift_of


_MAY_HOLD_MAC = frozenset({is_mac, is_token, is_text, None})


# Could `text` hold a MAC-like word? (12 hex digits, or hex pairs / quads with separators)
_MAC_HINT_RE = re.compile(r"[0-9A-Fa-f]{4}[.:\-]|[0-9A-Fa-f]{2}[:\-][0-9A-Fa-f]{2}[:\-]|[0-9A-Fa-f]{12}")


def _has_mac_word(text: str) -> bool:
    if len(text) < 12 or _MAC_HINT_RE.search(text) is None:
        return False  # the common cell ("default location", "Registered"): no MAC can be in it
    return any(len(word) >= 12 and is_mac(word) for word in text.split(" "))


@lru_cache(maxsize=64)
def _summary_layout(header: str) -> _Layout:
    columns = scan_header(header, AP_SUMMARY_VOCABULARY)
    keys = frozenset(c.key for c in columns)
    pattern = RowPattern.for_columns(columns, keys - _SUMMARY_ALWAYS)
    anchor = "mac" if "mac" in keys else "ip" if "ip" in keys else None  # why: see `_summary_fit`
    return _Layout(columns, pattern, _summary_shift_of(columns), keys & _SUMMARY_ALWAYS, anchor)


def _summary_fit(line: str, layout: _Layout) -> _RowFit | None:
    """Fit one summary line; None unless it fits and carries the row's identity.

    Every AP row has an Ethernet MAC, so a layout with a MAC column requires
    it (an IP alone is no proof: the second half of a cut row has one);
    layouts without one require the IP. The layout's compiled pattern reads
    the common row; the general fitter reads the rest.
    """
    columns = layout.columns
    anchor = layout.anchor
    if anchor is None:
        return None
    fitted = fast_fit(line, layout.pattern, layout.shift_of)
    fast = fitted is not None
    if fitted is None:
        fitted = fit_row(line, columns, estimate_shift(line, columns, "mac", is_mac, _after_slots))
    if fitted is None or anchor not in fitted.cells:
        return None
    complete = layout.complete(fitted)
    return _RowFit(fitted, complete, fitted.cost <= LOW_CONFIDENCE_COST, fast, len(columns))


def _judge(fitter: Callable[[str], _RowFit | None]) -> Judge:
    def judge(line: str) -> Verdict:
        result = fitter(line)
        return NO_ROW if result is None else result.verdict

    return judge


def _is_summary_structure(line: str) -> bool:
    return bool(
        _AP_COUNT_RE.match(line) or _RULE_RE.match(line) or _LEGEND_RE.match(line) or _DOTTED_KV_RE.search(line)
    )


def _summary_judge(header: str, _upper: str | None) -> Judge:
    layout = _summary_layout(header)
    return _judge(lambda line: _summary_fit(line, layout))


SUMMARY_SHAPE = TableShape(header=_AP_SUMMARY_HEADER_RE, judge_for=_summary_judge, is_structure=_is_summary_structure)


@dataclass(frozen=True)
class _Reading:
    """One reading of a table (of the text as printed, or re-joined at some width)."""

    result: ApSummary | ApImageReport
    cost: float
    unknown_labels: int = 0  # header words that are no known column label
    has_header: bool = True

    def score(self) -> tuple[int, int, int, int, float]:
        """Lower is better: a table header found at all, made of known labels
        (re-joining at the wrong width splits or glues labels: `C lients`,
        `MACLocation`), fewer unreadable lines, the controller's count met,
        cheaper fits."""
        result = self.result
        return (
            int(not self.has_header),
            self.unknown_labels,
            len(result.unparsed_lines),
            int(result.count_mismatch),
            self.cost,
        )


def _best_reading(lines: list[str], shape: TableShape, read: Callable[[list[str]], _Reading]) -> _Reading:
    """Read the table as printed, or re-joined if a narrow terminal cut its lines.

    Unwrapped output is read once (the common, fast path). Strong signs of
    wrapping (see `wrapped.looks_wrapped`) make the re-joined readings the
    only candidates; a plain reading with unreadable lines is also compared
    with a weak re-join (rows cut under an intact header) and replaced only
    when that reads strictly more lines.
    """
    if looks_wrapped(lines, shape):
        readings: list[_Reading] = []
        for width in candidate_widths(lines, shape):
            uniform = unwrap_uniform(lines, shape, width)
            if uniform is not None:
                reading = read(uniform)
                if reading.score()[:4] == (0, 0, 0, 0):
                    return reading  # the counted re-join read perfectly: the row checks need not run
            reading = read(unwrap(lines, shape, width))
            readings.append(reading)
            if reading.score()[:4] == (0, 0, 0, 0):
                break  # nothing to improve on: every label known, every line read, the count met
        return min(readings, key=_Reading.score)
    plain = read(lines)
    if not plain.result.unparsed_lines:
        return plain
    best = plain
    for width in candidate_widths(lines, shape):
        reading = read(unwrap(lines, shape, width, strong=False))
        if len(reading.result.unparsed_lines) < len(best.result.unparsed_lines):
            best = reading
    return best


def parse_ap_summary(text: str, command: str) -> ApSummary:
    """Read any `show ap summary`-like table (already normalised text).

    Lines that do not fit the header's layout are counted in
    `unparsed_lines` and never become APs (see `ApSummary`); output wrapped
    by a narrow terminal is re-joined first (`wrapped.py`).
    """
    lines = text.split("\n")
    reading = _best_reading(lines, SUMMARY_SHAPE, lambda ls: _read_summary(ls, command))
    assert isinstance(reading.result, ApSummary)
    return reading.result


def _read_summary(lines: list[str], command: str) -> _Reading:
    layout: _Layout | None = None
    layout_name = "unknown"
    declared: int | None = None
    rows: list[ApSummaryRow] = []
    unparsed: list[str] = []
    structure = False
    total_cost = 0.0
    unknown_labels = 0
    unknown_table = False
    fallback = 0

    for line in lines:
        if not line or line.isspace():
            continue
        if layout is not None and not _may_be_structure(line):
            pass  # the common row: none of the structure checks below can match it
        elif count := _AP_COUNT_RE.match(line):
            structure = True
            if declared is None:  # the block repeats every few rows: the first count is the count
                declared = int(count.group("count"))
            continue
        elif _AP_SUMMARY_HEADER_RE.match(line):
            structure = True
            layout = _summary_layout(line)
            unknown_labels += sum(c.key not in _SUMMARY_KEYS for c in layout.columns)
            if layout_name == "unknown":
                layout_name = _layout_name(layout.columns)
            continue
        elif _is_preamble(line):
            continue  # preamble/legend lines, also when a block repeats mid-table
        elif layout is None:
            unknown_table = unknown_table or bool(_TABLE_START_RE.match(line))
            if unknown_table:
                unparsed.append(line)  # a table whose header is not one we know
            continue
        row_fit = _summary_fit(line, layout)
        if row_fit is None or not row_fit.fast:
            fallback += 1
        if row_fit is None or not row_fit.is_row:
            unparsed.append(line)  # never an AP: the controller may not have printed one here
            continue
        if not row_fit.read_in_full:
            unparsed.append(line)  # kept (it is an AP) but flagged: doubtful fit, or a column it always has is empty
        total_cost += row_fit.fitted.cost
        cells = row_fit.fitted.cells
        rows.append(
            ApSummaryRow(
                name=cells["name"],
                slots=int_or_none(cells.get("slots")),
                model=cells.get("model"),
                mac=cells.get("mac"),
                radio_mac=cells.get("radio_mac"),
                location=cells.get("location"),
                country=cells.get("country"),
                regulatory_domain=cells.get("regulatory_domain"),
                ip=cells.get("ip"),
                state=cells.get("state"),
                extra={k: v for k, v in cells.items() if k not in _SUMMARY_FIELDS},
                raw=line,
            )
        )

    if not structure:
        raise ParseError(command, "no AP table header and no AP count in the output")
    summary = ApSummary(
        rows=tuple(rows),
        declared_count=declared,
        layout=layout_name,
        unparsed_lines=tuple(unparsed),
        fallback_rows=fallback,
    )
    return _Reading(summary, total_cost, unknown_labels, has_header=layout is not None)


def _may_be_structure(line: str) -> bool:
    """False only for a line no count, header, rule, legend or `Key.... value` check can match
    (each needs one of these marks), so a table row skips those five regexes."""
    start = line.lstrip()
    return (
        "=" in line
        or "...." in line
        or start.startswith("---")
        or start[:6].lower() in ("number", "total ")
        or (start[:2].lower() == "ap" and start[2:3].isspace())
    )


def _is_preamble(line: str) -> bool:
    """Rules, legends and `Key....... value` lines (the dotted search, the dearest, only
    when the line has the dots)."""
    return bool(_RULE_RE.match(line) or _LEGEND_RE.match(line) or ("...." in line and _DOTTED_KV_RE.search(line)))


def _image_layout_at(lines: list[str], index: int) -> _Layout:
    """The layout of the image table header at `lines[index]`, using the line above when it
    carries the first word of split labels (AireOS)."""
    upper = lines[index - 1] if index > 0 else ""
    return _image_layout(lines[index], upper if _is_upper_header(upper) else None)


@lru_cache(maxsize=64)
def _image_layout(header: str, upper: str | None) -> _Layout:
    if upper is not None:
        columns = scan_two_line_header(upper, header, AP_IMAGE_VOCABULARY)
    else:
        columns = scan_header(header, AP_IMAGE_VOCABULARY)
    always = frozenset(c.key for c in columns) & _IMAGE_ALWAYS
    return _Layout(columns, RowPattern.for_columns(columns), _image_shift_of(columns), always, _image_anchor(columns))


def _image_anchor(columns: list[Column]) -> str:
    return "primary_image" if any(c.key == "primary_image" for c in columns) else "backup_image"


def _image_shift_of(columns: list[Column]) -> ShiftOf:
    """`_image_shift` for a matched row, without tokenising it: the anchor cell
    decides, unless a word of the AP name (scanned first) could."""
    anchor = _image_anchor(columns)
    keys = [c.key for c in columns]
    j = keys.index(anchor) if anchor in keys else None

    def slow(line: str, m: re.Match[str]) -> int | None:
        return _image_shift(line, columns, anchor)

    if j != 1:
        return slow
    start = columns[1].start

    def shift_of(line: str, m: re.Match[str]) -> int | None:
        # The compiled pattern only takes an image version in the Primary Image column.
        name = m.group(1)
        if " " in name and any(is_image_version(word) for word in name.split(" ")[1:]):
            return slow(line, m)
        cell_start = m.start(2)
        if cell_start < start - 1 or (anchor != "primary_image" and not is_image_version(m.group(2))):
            return slow(line, m)
        return cell_start - start

    return shift_of


def _is_upper_header(line: str) -> bool:
    """The label-prefix line above a two-line header: deeply indented words only."""
    return bool(line.strip()) and len(line) - len(line.lstrip()) >= 10 and not re.search(r"[:.\d]", line)


def _image_shift(line: str, columns: list[Column], anchor: str) -> int:
    """How far the row sits right of the header, from its first image version.

    Only a version at or right of the image column counts: a long AP name
    pushes cells right, never left, so a version-like word inside a name
    (`jek 2.3.4`) that starts before the column is not the image.
    """
    column = next((c for c in columns if c.key == anchor), None)
    if column is None:
        return 0
    for tok in tokenize(line)[1:]:
        if tok.start >= column.start - 1 and is_image_version(tok.text):
            return tok.start - column.start
    return estimate_shift(line, columns, anchor, is_image_version)


def _is_label_piece(line: str) -> bool:
    """A later piece of a cut label-prefix line: words without digits, dots or colons."""
    return bool(line.strip()) and not re.search(r"[:.\d]", line)


def _image_fit(line: str, layout: _Layout) -> _RowFit | None:
    """Fit one image-table line; None unless it fits and names an image version.

    The AP's primary image is always a real version (the image it runs);
    `None`/`NA` placeholders there mean the text is not a row (the tail of a
    cut row: `.0.0  None  None  NA ...` would otherwise be an AP named `.0.0`).
    """
    columns = layout.columns
    anchor = layout.anchor or _image_anchor(columns)  # an image layout always has one
    fitted = fast_fit(line, layout.pattern, layout.shift_of)
    # The compiled pattern takes only image versions as the Primary Image; a Backup Image may be `None`.
    fast = fitted is not None and (anchor == "primary_image" or is_image_version(fitted.cells.get(anchor, "")))
    if not fast:
        fitted = fit_row(line, columns, _image_shift(line, columns, anchor))
    if fitted is None or not is_image_version(fitted.cells.get(anchor, "")):
        return None
    complete = layout.complete(fitted)
    return _RowFit(fitted, complete, fitted.cost <= LOW_CONFIDENCE_COST, fast, len(columns))


def _image_judge(header: str, upper: str | None) -> Judge:
    layout = _image_layout(header, upper if upper is not None and _is_upper_header(upper) else None)
    return _judge(lambda line: _image_fit(line, layout))


def _is_image_structure(line: str) -> bool:
    return bool(_RULE_RE.match(line) or _DOTTED_KV_RE.search(line) or _IMAGE_COUNTER_RE.match(line))


IMAGE_SHAPE = TableShape(
    header=_AP_IMAGE_HEADER_RE,
    judge_for=_image_judge,
    is_structure=_is_image_structure,
    is_upper=_is_upper_header,
    is_label_piece=_is_label_piece,
)


def _placeholder_none(value: str | None) -> str | None:
    """`NA` / `N/A` → None; other values (including the status `None`) verbatim."""
    if value is None or _NA_RE.fullmatch(value.strip()):
        return None
    return value


def parse_ap_image(text: str, command: str) -> ApImageReport:
    """Read AireOS `show ap image all|status` or 9800 `show ap image` (normalised text).

    As for the summary, a line that fits no row is only counted in
    `unparsed_lines`, and output wrapped by a narrow terminal is re-joined
    first.
    """
    lines = text.split("\n")
    reading = _best_reading(lines, IMAGE_SHAPE, lambda ls: _read_image(ls, command))
    assert isinstance(reading.result, ApImageReport)
    return reading.result


def _read_image(lines: list[str], command: str) -> _Reading:
    header_index = next((i for i, ln in enumerate(lines) if _AP_IMAGE_HEADER_RE.match(ln)), None)
    preamble = lines if header_index is None else lines[:header_index]

    counters: dict[str, str] = {}
    for key, value in [*dotted_pairs(preamble), *colon_pairs(preamble)]:
        if value and not key.startswith("-"):
            counters.setdefault(norm_key(key), value)
    total_raw = counters.get("total_number_of_aps")

    if header_index is None and not counters:
        raise ParseError(command, "no AP image counters and no AP image table in the output")

    entries: list[ApImageEntry] = []
    unparsed: list[str] = []
    total_cost = 0.0
    unknown_labels = 0
    fallback = 0
    if header_index is None:
        table = next((i for i, ln in enumerate(lines) if _TABLE_START_RE.match(ln)), None)
        if table is not None:  # a table whose header is not one we know: unreadable, not absent
            unparsed = [ln for ln in lines[table:] if ln.strip() and not _RULE_RE.match(ln)]
    else:
        layout = _image_layout_at(lines, header_index)
        unknown_labels += sum(c.key not in _IMAGE_KEYS for c in layout.columns)
        for i, line in enumerate(lines[header_index + 1 :], start=header_index + 1):
            if not line or line.isspace():
                continue
            if not _may_be_structure(line):
                pass  # neither a rule nor a repeated header
            elif _RULE_RE.match(line):
                continue
            elif _AP_IMAGE_HEADER_RE.match(line):  # repeated header
                layout = _image_layout_at(lines, i)
                unknown_labels += sum(c.key not in _IMAGE_KEYS for c in layout.columns)
                continue
            row_fit = _image_fit(line, layout)
            if row_fit is None or not row_fit.fast:
                if i + 1 < len(lines) and _AP_IMAGE_HEADER_RE.match(lines[i + 1]) and _is_upper_header(line):
                    continue  # upper half of a repeated two-line header
                fallback += 1
            if row_fit is None or not row_fit.is_row:
                unparsed.append(line)  # never an AP entry of its own
                continue
            if not row_fit.read_in_full:
                unparsed.append(line)
            total_cost += row_fit.fitted.cost
            cells = row_fit.fitted.cells
            entries.append(
                ApImageEntry(
                    name=cells["name"],
                    primary_image=cells.get("primary_image"),
                    backup_image=cells.get("backup_image"),
                    download_status=cells.get("download_status"),
                    predownload_status=_placeholder_none(cells.get("predownload_status")),
                    predownload_version=_placeholder_none(cells.get("predownload_version")),
                    next_retry_time=cells.get("next_retry_time"),
                    retry_count=int_or_none(cells.get("retry_count")),
                    method=cells.get("method"),
                    extra={k: v for k, v in cells.items() if k not in _IMAGE_FIELDS},
                    raw=line,
                )
            )
    report = ApImageReport(
        total_aps=int_or_none(total_raw),
        counters=counters,
        entries=tuple(entries),
        unparsed_lines=tuple(unparsed),
        fallback_rows=fallback,
    )
    return _Reading(report, total_cost, unknown_labels, has_header=header_index is not None)
