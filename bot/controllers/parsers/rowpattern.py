"""The fast path for AP table rows: one compiled regex per header layout.

The general fitter (`tables.fit_row`) weighs every way to assign a row's words
to the header's columns: right for the odd row, but about 0.3 ms a row, which
on a fleet of 6,000-AP controllers was most of a poll's CPU. Almost every real
row has nothing to decide, whatever its exact offsets: each free-text cell
(AP name, location, state) is one run of single-spaced words ended by at
least two spaces (or the line), each other cell is one word its validator
accepts, and no cell in the middle is empty. Such a row has exactly one such
assignment, and a regex built from the header's columns finds it in one
`re.match`.

Any other assignment of the same words needs an empty cell, a cell spanning
a wide gap or free text cut at a single space, which the fitter charges at
least `STRUCTURE_COST_MIN` for; so the match is the fitter's choice whenever
its own position cost (cells away from their headers, measured the fitter's
way, with the row's shift) stays below that. See `fast_fit` for the two
cases it also takes. Anything else (an empty cell mid-row, a name glued to
the next cell, a row far off its header) returns None and goes to the
general fitter, which keeps every odd capture reading as before. The parsers
count those rows (`fallback_rows`), and a property test checks that both
read every generated row the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.controllers.parsers.tables import (
    EMPTY_COST,
    Column,
    FittedRow,
    Validator,
    chars_early_for_max_cost,
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
    position_cost,
    structure_cost_min,
)

STRUCTURE_COST_MIN = structure_cost_min()

_WORD = r"\S+"
_CHUNK = r"\S+(?: \S+)*"  # single-spaced words: one free-text cell
_PLACEHOLDER = r"(?i:N/?A|None|NONE|-+|Unknown)"
_IPV4_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_RE = re.compile(rf"{_IPV4_OCTET}(?:\.{_IPV4_OCTET}){{3}}")


def _is_ip_fast(text: str) -> bool:
    """`is_ip`, with the common IPv4 case answered by a regex (no `ipaddress` object)."""
    return bool(_IPV4_RE.fullmatch(text)) or is_ip(text)


# Per validator: the cell's pattern and, when that pattern accepts more than the
# validator does, the check still to run on the matched text. Every pattern
# accepts only single words (or, for free text, single-spaced words), so a
# match can never take a cell the general fitter's tokens would split.
_WORD_PATTERNS: dict[Validator, tuple[str, Validator | None]] = {
    is_mac: (
        r"(?:[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}"
        r"|[0-9A-Fa-f]{2}(?:[:\-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{12})",
        None,
    ),
    is_int: (r"[0-9]+", None),
    is_country: (r"(?:[A-Z]{2}|--)", None),
    is_regdomain: (r"(?:-[-A-Z0-9]*|[A-Z]{1,2})", None),
    is_token: (_WORD, None),
    is_ip: (_WORD, _is_ip_fast),
    is_version_or_placeholder: (rf"(?:\d+(?:\.\d+)+[\w\-.()]*|{_PLACEHOLDER})", None),
    is_count_or_placeholder: (rf"(?:[0-9]+|{_PLACEHOLDER})", None),
    is_text: (_WORD, None),
}
_CHUNK_PATTERNS: dict[Validator, tuple[str, Validator | None]] = {
    is_text: (_CHUNK, None),
    # one chunk that opens with `[` and closes with `]` (`[0 ,0 ,0 ]`)
    is_bracketed: (r"(?=\[)\S+(?: \S+)*(?<=\])", None),
}


# Columns that may be empty mid-row only when their validator is this strict: a
# neighbour's word that could fill the empty cell sends the row to the fitter
# (see `fast_fit`), and for free text every word could.
_STRICT = frozenset({is_country, is_regdomain, is_mac, is_int, is_ip})


def register_word_pattern(validator: Validator, pattern: str) -> None:
    """Teach the fast path a validator's exact single-word pattern (the image
    tables' `is_image_version` lives with them). Without one, a column is
    matched as any word and its validator runs on the text."""
    _WORD_PATTERNS[validator] = (pattern, None)


def _cell(column: Column) -> tuple[str, Validator | None]:
    table = _CHUNK_PATTERNS if column.multi else _WORD_PATTERNS
    known = table.get(column.validator) if column.validator is not None else (_CHUNK if column.multi else _WORD, None)
    if known is not None:
        return known
    return (_CHUNK if column.multi else _WORD), column.validator


@dataclass(frozen=True)
class RowPattern:
    """A header layout's rows as one regex (group j+1 is column j), plus the
    validator checks the regex cannot express.

    Columns after the last required one may be missing at the end of a row
    (AireOS leaves `Flexconnect Predownload` blank; a cut row stops early),
    and the `optional` ones also in the middle (the tech note's 9800 row has
    no Country): their groups are then None.
    """

    columns: tuple[Column, ...]
    regex: re.Pattern[str]
    checks: tuple[tuple[int, Validator], ...]
    keys: tuple[str, ...]
    starts: tuple[int, ...]

    @classmethod
    def for_columns(cls, columns: Sequence[Column], optional: frozenset[str] = frozenset()) -> RowPattern:
        checks: list[tuple[int, Validator]] = []
        last_required = max((j for j, c in enumerate(columns) if c.required), default=0)
        tail = ""
        for j in range(len(columns) - 1, -1, -1):
            column = columns[j]
            pattern, check = _cell(column)
            if check is not None:
                checks.append((j + 1, check))
            cell = f"({pattern})"
            if j:
                # Two spaces at least after free text: ending it at a single space is a decision
                # (the fitter charges for it); before free text, the word ahead is its own cell.
                cell = (" {2,}" if columns[j - 1].multi else " +") + cell
            if j > last_required and column.key in optional and column.validator in _STRICT:
                cell = f"(?:{cell})?"
            tail = f"(?:{cell}{tail})?" if j > last_required else cell + tail
        regex = re.compile("^ *" + tail + " *$")
        keys = tuple(c.key for c in columns)
        return cls(tuple(columns), regex, tuple(reversed(checks)), keys, tuple(c.start for c in columns))

    def match(self, line: str) -> re.Match[str] | None:
        """The row's one assignment when every cell present fits its column, else None."""
        m = self.regex.match(line)
        if m is None:
            return None
        for group, check in self.checks:
            text = m.group(group)
            if text is not None and not check(text):
                return None
        return m


# Given the line and the match, the row's shift the way the general fitter
# would estimate it; None when that takes the general reading of the row.
ShiftOf = Callable[[str, re.Match[str]], int | None]

_COSTS = {delta: position_cost(delta) for delta in range(-400, 401)}


def _position_cost(delta: int) -> float:
    """`position_cost`, looked up (the same few offsets recur on every row)."""
    cost = _COSTS.get(delta)
    return position_cost(delta) if cost is None else cost


# A word moved into a column whose header starts this far right of it costs the
# fitter its largest position charge (a cell early of its header costs more).
_FAR_EARLY = chars_early_for_max_cost()


def _gap_is_clear(texts: Sequence[str | None], j: int, validator: Validator | None) -> bool:
    """Column j is empty mid-row: neither neighbouring word could be its cell."""
    if validator is None:
        return False
    before = next((t for t in reversed(texts[:j]) if t is not None), None) if texts[j - 1] is None else texts[j - 1]
    after = texts[j + 1] if texts[j + 1] is not None else next((t for t in texts[j + 2 :] if t is not None), None)
    if before is not None and validator(before[before.rfind(" ") + 1 :]):
        return False
    return after is None or not validator(after.split(" ", 1)[0])


def fast_fit(line: str, pattern: RowPattern, shift_of: ShiftOf) -> FittedRow | None:
    """The row fitted by `pattern`, or None when the general fitter must decide.

    Taken when it is the fitter's choice:
    - a row with every column filled, each cell one word or one run of
      single-spaced words: any other reading needs an empty cell, a join
      across a wide gap or free text cut at a single space. Its position
      cost is then below `STRUCTURE_COST_MIN` (provably the fitter's
      choice) or, for cells printed consistently off their header (the
      9800 prints `State` left of its label), still the only clean reading;
    - a row whose last columns are empty (a blank last column, the first
      piece of a row cut by a narrow terminal), only when the row's last
      word starts well before their headers (moving any word there would
      cost the fitter its largest position charge) and the position cost is
      below `STRUCTURE_COST_MIN`;
    - a row with an empty cell mid-row in a column with a strict validator
      (no Country), only when neither neighbouring word would pass that
      validator: no other reading could fill the cell. Here agreement with
      the fitter is what the property test checks, not a proof.
    The cost returned is what the fitter's search charges this assignment
    (position costs, one `EMPTY_COST` per empty cell), the measure
    `LOW_CONFIDENCE_COST` and the comparison of re-joined readings are made
    in. (The old aligned shortcut reported 0 for the rows it took.)
    """
    m = pattern.match(line)
    if m is None:
        return None
    shift = shift_of(line, m)
    if shift is None:
        return None
    texts = m.groups()
    spans = m.regs
    starts = pattern.starts
    delta = spans[1][0] - starts[0]
    cost = _position_cost(delta) if delta else 0.0
    if None not in texts:
        for j in range(1, len(starts)):
            delta = spans[j + 1][0] - starts[j] - shift
            if delta:
                cost += _position_cost(delta)
        return FittedRow(cells=dict(zip(pattern.keys, texts, strict=True)), line=line, cost=cost)
    last = 0
    for j in range(1, len(starts)):
        if texts[j] is not None:
            last = j
            delta = spans[j + 1][0] - starts[j] - shift
            if delta:
                cost += _position_cost(delta)
    columns = pattern.columns
    for j in range(last):
        if texts[j] is None and not _gap_is_clear(texts, j, columns[j].validator):
            return None
    if last < len(columns) - 1:
        last_word = line.rfind(" ") + 1  # the line is right-stripped: its last word starts here
        if cost >= STRUCTURE_COST_MIN or last_word + _FAR_EARLY > starts[last + 1] + shift:
            return None
    cost += EMPTY_COST * texts.count(None)
    cells = {key: text for key, text in zip(pattern.keys, texts, strict=True) if text is not None}
    return FittedRow(cells=cells, line=line, cost=cost)
