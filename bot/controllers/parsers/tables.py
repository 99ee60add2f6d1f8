"""Reading the controllers' fixed-width tables when the columns do not stay put.

Real `show ap summary` / `show ap image` output breaks naive parsers in every
way at once: AP names longer than their column push the rest of the row to
the right, names and locations contain spaces, some cells are empty (no
country), the header repeats every few rows, and sometimes the rows are not
aligned with the header at all. Neither pure column slicing nor a
one-regex-per-row template survives all of that.

So a row is *fitted* to the header's columns: the row is cut into tokens
(runs of non-blanks, with their positions) and a small dynamic programme
assigns consecutive tokens to columns, in order. Each column has a validator
(a MAC must look like a MAC, Slots must be a number, an IP must be an IP);
free-text columns (AP Name, Location, State) may take several tokens or none.
Among the assignments that satisfy every validator it picks the cheapest,
where cost prefers: splitting at wide gaps rather than single spaces, filling
columns rather than leaving them empty, and cells starting near their header
(after correcting for the row's overall shift). A row that fits no
assignment is reported, never silently lost.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

Validator = Callable[[str], bool]

# Cost weights. Only their order matters much: validators decide almost every
# row; these break the remaining ties the way a human reader would.
_EMPTY_COST = 1.0
EMPTY_COST = _EMPTY_COST  # what an empty cell costs a row (rowpattern.py adds it the same way)
_JOIN_WIDE_COST = 1.0
_JOIN_WIDE_PER_CHAR = 0.05
_TIGHT_BOUNDARY_COST = 0.8
_POSITION_COST_PER_CHAR = 0.04
_EARLY_COST_PER_CHAR = 0.15
_POSITION_COST_MAX = 1.2
_OVERFLOW_COST = 0.6


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Column:
    """One header column: canonical key, printed label, start position, rules."""

    key: str
    label: str
    start: int
    validator: Validator | None = None
    multi: bool = False  # may take several tokens (free text)
    required: bool = False


@dataclass(frozen=True)
class ColumnSpec:
    """Vocabulary entry: how a header label maps to a typed column."""

    label: str
    key: str
    validator: Validator | None = None
    multi: bool = False
    required: bool = False


@dataclass
class FittedRow:
    cells: dict[str, str]
    line: str
    cost: float


def tokenize(line: str) -> list[Token]:
    return [Token(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", line)]


# ---------------------------------------------------------------- validators

_MAC_RE = re.compile(
    r"(?:[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}|[0-9A-Fa-f]{2}(?:[:\-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{12})"
)
_VERSION_RE = re.compile(r"\d+(?:\.\d+)+[\w\-.()]*")
_PLACEHOLDER_RE = re.compile(r"(?:N/?A|None|NONE|-+|Unknown)", re.IGNORECASE)


def is_mac(text: str) -> bool:
    return bool(_MAC_RE.fullmatch(text))


def is_ip(text: str) -> bool:
    candidate = text.split("%", 1)[0]
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def is_int(text: str) -> bool:
    return text.isdigit()


def is_token(text: str) -> bool:
    return " " not in text


_COUNTRY_RE = re.compile(r"[A-Z]{2}|--")
_REGDOMAIN_RE = re.compile(r"-[-A-Z0-9]*|[A-Z]{1,2}")


def is_country(text: str) -> bool:
    return bool(_COUNTRY_RE.fullmatch(text))


def is_regdomain(text: str) -> bool:
    return bool(_REGDOMAIN_RE.fullmatch(text))


def is_version_or_placeholder(text: str) -> bool:
    return bool(_VERSION_RE.fullmatch(text) or _PLACEHOLDER_RE.fullmatch(text))


def is_count_or_placeholder(text: str) -> bool:
    return text.isdigit() or bool(_PLACEHOLDER_RE.fullmatch(text))


def is_text(text: str) -> bool:
    return bool(text.strip())


def is_bracketed(text: str) -> bool:
    return text.startswith("[") and text.endswith("]")


# ---------------------------------------------------------------- headers


@lru_cache(maxsize=256)
def _label_regex(label: str) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(word) for word in label.split())
    return re.compile(words + r"(?=\s|$)", re.IGNORECASE)


def scan_header(line: str, vocabulary: Sequence[ColumnSpec]) -> list[Column]:
    """Split a header line into columns using known labels (longest first).

    Labels are matched as whole words anywhere a column may start, so headers
    whose labels are separated by a single space (`Slots AP Model`) work.
    Words that are no known label become generic free-text columns, so a
    future column never shifts the known ones.
    """
    specs = sorted(vocabulary, key=lambda s: len(s.label), reverse=True)
    columns: list[Column] = []
    pos = 0
    unknown: list[Token] = []

    def flush_unknown() -> None:
        if not unknown:
            return
        label = line[unknown[0].start : unknown[-1].end]
        key = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or "column"
        columns.append(Column(key=key, label=label, start=unknown[0].start, validator=is_text, multi=True))
        unknown.clear()

    while pos < len(line):
        if line[pos] == " ":
            pos += 1
            continue
        matched = None
        for spec in specs:
            m = _label_regex(spec.label).match(line, pos)
            if m:
                matched = (spec, m)
                break
        if matched is None:
            end = line.find(" ", pos)
            end = len(line) if end < 0 else end
            tok = Token(line[pos:end], pos, end)
            # A single space continues an unknown label; two start a new one.
            if unknown and pos - unknown[-1].end > 1:
                flush_unknown()
            unknown.append(tok)
            pos = end
            continue
        flush_unknown()
        spec, m = matched
        columns.append(
            Column(
                key=spec.key,
                label=spec.label,
                start=m.start(),
                validator=spec.validator,
                multi=spec.multi,
                required=spec.required,
            )
        )
        pos = m.end()
    flush_unknown()
    return columns


def scan_two_line_header(upper: str, lower: str, vocabulary: Sequence[ColumnSpec]) -> list[Column]:
    """Two-line headers (`Predownload` printed above `Status`) → one column each.

    AireOS `show ap image all` prints the first word of some labels on a line
    of its own. Each upper word is prefixed to the lower label it stands over,
    the combined label is looked up in the vocabulary, and the column keeps
    the lower label's position (which is where the cells start).
    """
    lower_groups = _label_groups(lower)
    prefixes: list[list[str]] = [[] for _ in lower_groups]
    for up in _label_groups(upper):
        owner = None
        for index, low in enumerate(lower_groups):
            if low.start <= up.start + 2:
                owner = index
        if owner is not None:
            prefixes[owner].append(up.text)
    columns: list[Column] = []
    for group, prefix in zip(lower_groups, prefixes, strict=True):
        label = " ".join([*prefix, group.text])
        offset = len(label) - len(group.text)
        for col in scan_header(label, vocabulary):
            start = group.start + max(0, col.start - offset)
            columns.append(
                Column(
                    key=col.key,
                    label=col.label,
                    start=start,
                    validator=col.validator,
                    multi=col.multi,
                    required=col.required,
                )
            )
    return columns


def _label_groups(line: str) -> list[Token]:
    """Words joined by single spaces form one label (`Retry Count`)."""
    groups: list[Token] = []
    for tok in tokenize(line):
        if groups and tok.start - groups[-1].end <= 1:
            last = groups[-1]
            groups[-1] = Token(line[last.start : tok.end], last.start, tok.end)
        else:
            groups.append(tok)
    return groups


# ---------------------------------------------------------------- fitting


def fit_row(line: str, columns: Sequence[Column], shift: int = 0) -> FittedRow | None:
    """Assign the row's tokens to `columns` (see module docstring); None if impossible.

    `shift` moves the expected start of every column but the first: the
    first column (the AP name) is the one whose overflow causes a shift.
    """
    toks = tokenize(line)
    n, m = len(toks), len(columns)
    if n == 0:
        return None
    aligned = _aligned_fit(line, toks, columns, shift)
    if aligned is not None:
        return aligned
    inf = float("inf")
    best = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int, int] | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    best[0][0] = 0.0

    def boundary(k: int) -> float:
        if 0 < k < n and toks[k].start - toks[k - 1].end <= 1:
            return _TIGHT_BOUNDARY_COST
        return 0.0

    for j, col in enumerate(columns):
        for i in range(n + 1):
            base = best[i][j]
            if base == inf:
                continue
            if not col.required and base + _EMPTY_COST < best[i][j + 1]:
                best[i][j + 1] = base + _EMPTY_COST
                back[i][j + 1] = (i, i, j)
            last = n if col.multi else min(n, i + 1)
            col_shift = shift if j >= 1 else 0
            next_start = columns[j + 1].start + shift if j + 1 < m else None
            join = 0.0
            for k in range(i + 1, last + 1):
                if k > i + 1:
                    gap = toks[k - 1].start - toks[k - 2].end
                    if gap > 1:
                        join += _JOIN_WIDE_COST + _JOIN_WIDE_PER_CHAR * gap
                    # A later word starting under the next column's header is
                    # more likely that column's cell than an overflow of this one.
                    if next_start is not None and toks[k - 1].start >= next_start:
                        join += _OVERFLOW_COST
                text = line[toks[i].start : toks[k - 1].end]
                if col.validator is not None and not col.validator(text):
                    continue
                pos = _position_cost(toks[i].start - (col.start + col_shift))
                # Splitting at a single space is only a choice (and so only
                # costs) when this cell is free text that could have taken
                # the next word too.
                cost = base + join + pos + (boundary(k) if col.multi else 0.0)
                if cost < best[k][j + 1]:
                    best[k][j + 1] = cost
                    back[k][j + 1] = (i, k, j)
    if best[n][m] == inf:
        return None
    cells: dict[str, str] = {}
    k, j = n, m
    while j > 0:
        step = back[k][j]
        assert step is not None
        i, k_end, col_index = step
        if k_end > i:
            cells[columns[col_index].key] = line[toks[i].start : toks[k_end - 1].end]
        k, j = i, col_index
    return FittedRow(cells=cells, line=line, cost=best[n][m])


def _aligned_fit(line: str, toks: Sequence[Token], columns: Sequence[Column], shift: int) -> FittedRow | None:
    """The fast path for the common row: every word sits under its own header.

    Accepted only when there is nothing to decide (each cell starts at or just
    after its column, no word crosses into the next column, multi-word cells
    are single-spaced, validators agree); anything else goes to the full fit.
    The full fit costs about 0.4 ms a row, which on a 10,000-AP fleet was half
    of a poll's CPU time.
    """
    bounds = [c.start + (shift if j >= 1 else 0) for j, c in enumerate(columns)]
    groups: list[list[Token]] = [[] for _ in columns]
    j = 0
    for tok in toks:
        while j + 1 < len(columns) and tok.start >= bounds[j + 1]:
            j += 1
        if j + 1 < len(columns) and tok.end > bounds[j + 1]:
            return None
        groups[j].append(tok)
    cells: dict[str, str] = {}
    for j, (col, group) in enumerate(zip(columns, groups, strict=True)):
        if not group:
            if col.required:
                return None
            continue
        if len(group) > 1 and (not col.multi or any(b.start - a.end > 1 for a, b in pairwise(group))):
            return None
        delta = group[0].start - bounds[j]
        if delta < 0 or _position_cost(delta) > 0.5:
            return None
        text = line[group[0].start : group[-1].end]
        if col.validator is not None and not col.validator(text):
            return None
        cells[col.key] = text
    return FittedRow(cells=cells, line=line, cost=0.0)


def structure_cost_min() -> float:
    """The least the fitter charges for a row that is not one clean cell per
    column: an empty cell, a join across a wide gap or free text cut at a
    single space. A clean assignment whose position cost stays below this is
    the fitter's choice (see `rowpattern.py`)."""
    return min(_EMPTY_COST, _JOIN_WIDE_COST, _TIGHT_BOUNDARY_COST)


def chars_early_for_max_cost() -> int:
    """How far before its column a cell must start to cost the largest position charge."""
    return math.ceil(_POSITION_COST_MAX / _EARLY_COST_PER_CHAR)


def position_cost(delta: int) -> float:
    """What the fitter charges a cell starting `delta` characters from its column."""
    return _position_cost(delta)


def _position_cost(delta: int) -> float:
    """Cells are left-justified: after shift correction one may start late
    (centred numbers, misaligned captures) but hardly ever before its header,
    so starting early costs more than starting late."""
    per_char = _EARLY_COST_PER_CHAR if delta < 0 else _POSITION_COST_PER_CHAR
    return min(abs(delta) * per_char, _POSITION_COST_MAX)


def estimate_shift(
    line: str,
    columns: Sequence[Column],
    anchor: str,
    anchor_check: Validator,
    context_check: Callable[[list[Token], int], bool] | None = None,
) -> int:
    """How far this row sits right of the header, judged by an anchor cell.

    A long AP name pushes every later cell right by the same amount; knowing
    that keeps the position tie-breaker meaningful for the shifted row.
    `context_check(tokens, index)` marks candidates in the right structural
    place; among those the *last* wins, because words that merely look like
    the anchor (a MAC-like word in an AP name) can only come before it.
    """
    anchor_col = next((c for c in columns if c.key == anchor), None)
    if anchor_col is None:
        return 0
    toks = tokenize(line)
    candidates = [i for i, tok in enumerate(toks) if i >= 1 and anchor_check(tok.text)]
    if not candidates:
        return 0
    if context_check is not None:
        preferred = [i for i in candidates if context_check(toks, i)]
        if preferred:
            return toks[preferred[-1]].start - anchor_col.start
    return toks[candidates[0]].start - anchor_col.start
