"""Re-joining AP tables that a narrow terminal cut into pieces.

A session whose terminal is W columns wide (an 80-column console, a 9800
session that never sent `terminal width 0`) receives every output line longer
than W as pieces of exactly W characters, one per line, with no regard for
words (see `bot/simulator/wrapping.py`). `normalise()` then strips the
trailing blanks of every piece, so a piece no longer says how long it was.
Read naively, such a table has a header of unknown columns, and the second
half of every row looks like a row of its own: an AP that does not exist.

This module puts the logical lines back together before any row is read:

- the header (a line starting `AP Name`) is wrapped when the lines after it,
  up to the `----` rule, are its continuation pieces; the rule itself may be
  several dash lines; AireOS' label prefix line above a two-line header may
  be several pieces too;
- every non-final piece is padded back to W with blanks, then the pieces are
  concatenated: column positions are what the controller printed again;
- row boundaries come from the table's structure, not from piece lengths
  alone (a continuation may start with a non-blank: a word cut in the
  middle). A row starts at column 0 with the AP name, so a piece starting
  with a blank continues the row; otherwise the table's own row check
  (`Judge`: does this text fit the header's columns, does it validate, does
  it fill every column a row always has) decides whether the piece starts a
  row or completes the one before.

W itself is not printed anywhere. Every line of a wrapped output is at most
W long, and a piece cut inside a word is exactly W long, so the longest line
L is W whenever any word was cut; when none was (every cut fell on blanks)
any width above L re-joins the same words at consistent positions. So L and
L + 1 are tried and the caller keeps the better parse (`candidate_widths`).

Unwrapped output is read as before: `looks_wrapped` is a cheap check (in
every real capture the header is directly followed by its rule). Rows cut
under an intact header (a long name on a terminal just wider than the
header) are only looked for when the plain reading left lines unread, in a
weak mode that only ever completes a row missing columns, so a complete row
never swallows the line after it (a footer stays an unread line).

What cannot be re-joined is never guessed into an AP: the caller counts it
in `unparsed_lines`, and the table reports itself incomplete.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum


class Fit(IntEnum):
    """How well a text fits as one row of the current table."""

    NONE = 0  # fits no row: not an AP on its own
    PARTIAL = 1  # a row (it validates) but some always-printed column is missing, or the fit is doubtful
    COMPLETE = 2  # a confident row with every always-printed column


@dataclass(frozen=True, order=True)
class Verdict:
    """The row check's answer: how well a text fits, and how many cells it fills."""

    fit: Fit
    filled: int = 0
    # Every column of the layout has a cell: no further piece can add one.
    full: bool = field(default=False, compare=False)


NO_ROW = Verdict(Fit.NONE)
Judge = Callable[[str], Verdict]


def _never(_line: str) -> bool:
    return False


@dataclass(frozen=True)
class TableShape:
    """What the un-wrapper needs to know about one table family.

    `judge_for(header, upper)` builds the row check for a (joined) header and
    its label-prefix line above it, if any; `is_structure` marks lines that
    are never part of a row (counts, legends, dotted preamble, rules);
    `is_upper` marks a label-prefix line printed above the header (AireOS
    `show ap image all`), `is_label_piece` any later piece of it once cut
    (label words only, maybe not indented any more).
    """

    header: re.Pattern[str]
    judge_for: Callable[[str, str | None], Judge]
    is_structure: Callable[[str], bool]
    is_upper: Callable[[str], bool] = _never
    is_label_piece: Callable[[str], bool] = _never
    # How a header's first piece starts: on a very narrow terminal `header`
    # matches only once the pieces are joined.
    header_start: re.Pattern[str] = re.compile(r"^\s*AP\s+Name\b", re.IGNORECASE)


# The rule under a header, and a piece of it once cut: dashes and blanks only.
_RULE_START_RE = re.compile(r"^\s*-{3,}[-\s]*$")
_RULE_PIECE_RE = re.compile(r"^[-\s]*-[-\s]*$")
# A header longer than this many pieces is not a header (W would be tiny).
_MAX_HEADER_PIECES = 40


def join_pieces(pieces: Sequence[str], width: int) -> str:
    """The logical line: each non-final piece padded back to `width`, concatenated."""
    if len(pieces) == 1:
        return pieces[0]
    return "".join(piece.ljust(width) for piece in pieces[:-1]) + pieces[-1]


def _header_span(lines: Sequence[str], index: int, shape: TableShape) -> tuple[int, int] | None:
    """For the header at `index`: (first rule line, line after the last rule piece).

    Lines between the header and the rule are the header's continuation
    pieces. None when no rule follows within a header's reach, or another
    structure line comes first (then this header is not wrapped).
    """
    j = index + 1
    while j < len(lines) and j - index <= _MAX_HEADER_PIECES:
        line = lines[j]
        if _RULE_START_RE.match(line):
            break
        if shape.header_start.match(line) or (line.strip() and shape.is_structure(line)):
            return None
        j += 1
    else:
        return None
    k = j + 1
    while k < len(lines) and lines[k] and _RULE_PIECE_RE.match(lines[k]):
        k += 1
    return j, k


def _is_header(lines: Sequence[str], index: int, shape: TableShape, width: int) -> bool:
    """Is `lines[index]` a header (or the first piece of one, once joined at `width`)?"""
    line = lines[index]
    if not shape.header_start.match(line):
        return False
    if shape.header.match(line):
        return True
    span = _header_span(lines, index, shape)
    return span is not None and bool(shape.header.match(join_pieces(lines[index : span[0]], width)))


def _upper_run(lines: Sequence[str], index: int, shape: TableShape) -> int:
    """How many label-prefix pieces stand directly above the header at `index`.

    The pieces are label words only; the first of them is the indented
    start of the label-prefix line (later pieces start wherever the cut fell).
    """
    count = 0
    while index - count - 1 >= 0:
        line = lines[index - count - 1]
        if not (shape.is_upper(line) or shape.is_label_piece(line)):
            break
        count += 1
    while count and not shape.is_upper(lines[index - count]):
        count -= 1
    return count


def looks_wrapped(lines: Sequence[str], shape: TableShape) -> bool:
    """Cheap, strong evidence that the table was printed on a narrow terminal.

    True when some header is not directly followed by its rule, when a rule
    is followed by further dash pieces, or when the label-prefix line above
    a header came in several pieces. Real unwrapped captures show none of
    these, so ordinary output keeps its ordinary (fast) reading.
    """
    width = _table_width(lines, shape)
    for index, line in enumerate(lines):
        if not shape.header_start.match(line) or not _is_header(lines, index, shape, width):
            continue
        span = _header_span(lines, index, shape)
        if span is not None and (span[0] > index + 1 or span[1] > span[0] + 1):
            return True
        if _upper_run(lines, index, shape) > 1:
            return True
    return False


def _table_width(lines: Sequence[str], shape: TableShape) -> int:
    """The longest line from the first header on (0 without one).

    Lines before the first header are left out: AireOS counters carry tabs,
    which `normalise()` expands past the terminal width.
    """
    start = next((i for i, line in enumerate(lines) if shape.header_start.match(line)), None)
    if start is None:
        return 0
    start -= _upper_run(lines, start, shape)
    return max(len(line) for line in lines[start:])


def candidate_widths(lines: Sequence[str], shape: TableShape) -> list[int]:
    """Terminal widths worth trying: the longest table line L, then L + 1 (see module docstring)."""
    longest = _table_width(lines, shape)
    return [longest, longest + 1] if longest else []


def unwrap(lines: Sequence[str], shape: TableShape, width: int, *, strong: bool = True) -> list[str]:
    """The logical lines of a table printed `width` columns wide.

    `strong` (the header or rule was seen wrapped): see `_Unwrapper.continues`.
    Weak (the header is intact, some rows look cut): a piece is joined only
    to a row that lacks an always-printed column, and only when that
    completes it, so a complete row never takes the line after it.
    """
    return _Unwrapper(lines, shape, width, strong).run()


def unwrap_uniform(lines: Sequence[str], shape: TableShape, width: int) -> list[str] | None:
    """The logical lines when every row was cut into as many pieces as its header, else None.

    The common wrapped table (every row about as long as the header, cut at the same
    places) is re-joined by counting alone, with no row checks: the cheap first guess.
    It is only a guess: the caller keeps it only when its reading is perfect (every
    label known, every line read as a complete row, the controller's own AP count met);
    a row printed in fewer pieces than its header shifts every later group, so such a
    table never reads perfectly and goes to `unwrap`. None (`unwrap` decides) for
    anything else: no wrapped header, a label-prefix line above one, a repeated header,
    a group cut short by a blank or structure line, a group not starting at column 0,
    rows after a blank line (it may have been a piece of blanks: the end of a row).
    """
    out: list[str] = []
    i = 0
    pieces = 0
    after_blank = False
    while i < len(lines):
        line = lines[i]
        if shape.header_start.match(line):
            if pieces or not _is_header(lines, i, shape, width) or _upper_run(lines, i, shape):
                return None  # a second header (a repeated block), or one `unwrap` must read
            span = _header_span(lines, i, shape)
            if span is None or span[0] - i < 2:
                return None  # the header is whole: nothing here is cut the same way
            rule_start, end = span
            pieces = rule_start - i
            out.append(join_pieces(lines[i:rule_start], width))
            out.append(join_pieces(lines[rule_start:end], width))
            i = end
        elif not pieces or not line.strip() or shape.is_structure(line):
            # A blank line inside the table may be a piece of blanks (a row's end that was all
            # padding, emptied by normalise()): counting past it would shift every later group.
            after_blank = after_blank or (pieces > 0 and not line.strip())
            out.append(line)
            i += 1
        else:
            group = lines[i : i + pieces]
            if after_blank or len(group) < pieces or line[:1].isspace():
                return None
            if any(_breaks_group(piece, shape) for piece in group):
                return None
            out.append(join_pieces(group, width))
            i += pieces
    return out if pieces else None


def _breaks_group(piece: str, shape: TableShape) -> bool:
    return not piece.strip() or shape.is_structure(piece) or bool(shape.header_start.match(piece))


_LOOKAHEAD_PIECES = 8
_LOOKAHEAD_DEPTH = 3


class _Unwrapper:
    """One pass over the lines; see `unwrap`."""

    def __init__(self, lines: Sequence[str], shape: TableShape, width: int, strong: bool) -> None:
        self.lines = lines
        self.shape = shape
        self.width = width
        self.strong = strong
        self.out: list[str] = []
        self.judges: dict[tuple[str, str | None], Judge] = {}
        self.judge: Judge | None = None
        self.cur: list[str] = []
        self.cur_fit = NO_ROW
        self.row_starts: dict[int, bool] = {}
        self.verdicts: dict[str, Verdict] = {}

    # ------------------------------------------------------------ helpers

    def fit(self, pieces: Sequence[str]) -> Verdict:
        """The row check of the joined pieces (memoised: look-ahead asks again)."""
        assert self.judge is not None
        text = join_pieces(pieces, self.width)
        verdict = self.verdicts.get(text)
        if verdict is None:
            verdict = self.verdicts[text] = self.judge(text)
        return verdict

    def gap(self, piece: str) -> int:
        """Blanks lost at the end of `piece` if it was a non-final piece (0: cut inside a word)."""
        return max(0, self.width - len(piece))

    def boundary(self, line: str) -> bool:
        """Never part of a row: empty, a header, a structure line."""
        return not line.strip() or bool(self.shape.header_start.match(line)) or self.shape.is_structure(line)

    def upper_before_header(self, i: int) -> int:
        """Index of the header that label-prefix pieces starting at `i` stand over, or -1."""
        lines, shape = self.lines, self.shape
        if not shape.is_upper(lines[i]):
            return -1
        j = i + 1
        while (
            j < len(lines)
            and not shape.header_start.match(lines[j])
            and (shape.is_upper(lines[j]) or shape.is_label_piece(lines[j]))
        ):
            j += 1
        return j if j < len(lines) and _is_header(lines, j, shape, self.width) else -1

    def starts_row(self, i: int, depth: int = 0) -> bool:
        """Does `lines[i]`, with the pieces that plainly continue it, make a complete row?

        Used where a piece could either continue the row before or start the
        next one: a row start grows into a complete row on its own, the tail
        of a row never does. The question recurses into later pieces (is
        that one a row start itself?); past `_LOOKAHEAD_DEPTH` levels only a
        piece's own fit answers, which keeps a long table from recursing
        through all its rows.
        """
        known = self.row_starts.get(i)
        if known is not None:
            return known
        if depth >= _LOOKAHEAD_DEPTH:
            return self.fit([self.lines[i]]).fit == Fit.COMPLETE
        known = self.row_starts[i] = self.grows([self.lines[i]], i + 1, depth + 1)
        return known

    def grows(self, pieces: list[str], j: int, depth: int = 0) -> bool:
        """Do `pieces`, continued by the plain continuations from `lines[j]` on, complete a row?

        A later piece is taken when it starts with a blank, when it carries
        on a word or a single-spaced cell cut at the edge, or when it adds to
        the fit and does not start a row itself (so the tail of one row never
        borrows the next row's cells).
        """
        fit = self.fit(pieces)
        start = j
        while fit.fit < Fit.COMPLETE and j < len(self.lines) and j - start < _LOOKAHEAD_PIECES:
            nxt = self.lines[j]
            if self.boundary(nxt) or (self.shape.is_upper(nxt) and self.upper_before_header(j) >= 0):
                break
            joined = self.fit([*pieces, nxt])
            if not (
                nxt[:1].isspace()
                or (self.gap(pieces[-1]) <= 1 and (self.name_fragment(pieces) or not self.starts_row(j, depth)))
                or (joined.fit > fit.fit and not self.starts_row(j, depth))
            ):
                break
            pieces = [*pieces, nxt]
            fit = joined
            j += 1
        return fit.fit == Fit.COMPLETE

    def stands_alone(self, i: int) -> bool:
        """Nothing plainly continues `lines[i]`: the next line ends the table
        or starts at column 0 while this piece ended well before the edge."""
        if i + 1 >= len(self.lines):
            return True
        nxt = self.lines[i + 1]
        return self.boundary(nxt) or (not nxt[:1].isspace() and self.gap(self.lines[i]) > 1)

    def name_fragment(self, pieces: Sequence[str]) -> bool:
        """Is this text one single-spaced cell, like the start of an AP name cut at the edge?

        The tail of a row has cells apart by two blanks or more; a name does not.
        """
        return self.fit(pieces).fit == Fit.NONE and "  " not in join_pieces(pieces, self.width).strip()

    def flush(self) -> None:
        if self.cur:
            self.out.append(join_pieces(self.cur, self.width))
            self.cur = []
            self.cur_fit = NO_ROW

    def start_row(self, line: str) -> None:
        self.flush()
        self.cur = [line]
        self.cur_fit = self.fit(self.cur)

    # ------------------------------------------------------------ decisions

    def continues(self, i: int) -> bool:
        """Does `lines[i]` (non-blank, not structure) continue the current row?

        Rows start at column 0 with the AP name, so a leading blank means a
        continuation. Otherwise the blanks the current piece lost (`gap`) and
        the row check decide:
        - a complete row takes a piece that is no row start, either to finish
          a word or single-spaced cell cut at the edge (`Regis` + `tered`,
          `default ` + `location`) or to fill a column it left empty (a last
          Location column starting right at the cut); never the start of the
          next row, and never by stretching its last text cell over a gap;
        - an incomplete row takes a piece that completes it, or at least
          fills more of its cells, across a cut inside a word or at a single
          blank (the common case: a MAC or a name cut at the edge); a text
          that is no row yet must look like a name fragment for that;
        - a name fragment (no row at all, one single-spaced cell) cut inside
          a word or at a single blank takes a piece that starts a row of its
          own when the two grow into a complete row together (an AP name
          longer than the terminal: its second piece alone looks like a row
          with a shorter name); a row's tail that merely ends at the edge
          does not take the next row's head;
        - otherwise an incomplete row takes a piece that does not start a
          row of its own and makes it read better (a cut at a cell boundary:
          the piece fills cells the row lacked); a stray fragment before a
          real row does not swallow it, nor does a doubtful row the next one.
        """
        piece = self.lines[i]
        gap = self.gap(self.cur[-1])
        cur = self.cur_fit
        if self.strong and not piece[:1].isspace() and cur.fit == Fit.COMPLETE and cur.full and gap > 1:
            return False  # a row with every cell, ended at a cell boundary: the piece is the next row
        joined = self.fit([*self.cur, piece])
        if not self.strong:
            if cur.fit == Fit.COMPLETE or joined.fit != Fit.COMPLETE:
                return False
            return piece[:1].isspace() or gap <= 1 or not self.starts_row(i)
        if piece[:1].isspace():
            return True
        if cur.fit == Fit.COMPLETE:
            if joined.fit != Fit.COMPLETE or not (gap <= 1 or joined.filled > cur.filled):
                return False
            if self.fit([piece]).fit == Fit.NONE and self.stands_alone(i):
                return True  # a tail that nothing continues: no row start (the common case, cheap)
            return not self.starts_row(i)
        if gap <= 1 and joined.fit == Fit.COMPLETE:
            return True
        grows_cells = gap <= 1 and joined.fit >= cur.fit and joined.filled > cur.filled
        if grows_cells and (cur.fit != Fit.NONE or self.name_fragment(self.cur)):
            return True
        if self.starts_row(i):
            return gap <= 1 and self.name_fragment(self.cur) and self.grows([*self.cur, piece], i + 1)
        if gap <= 1:
            return joined.fit >= cur.fit  # a word or single-spaced cell cut at the edge goes on
        # Across a wide gap, only a piece that reads better joined is taken: filling no new cell,
        # it could only be glued on as text, which is how a doubtful row (a location longer than
        # its column) would swallow the next AP's whole row as its own name.
        return joined.fit > cur.fit or (joined.fit == cur.fit and joined.filled > cur.filled)

    # ------------------------------------------------------------ pass

    def header(self, i: int) -> int:
        """Emit the (joined) label-prefix line, header and rule at `i`; the index after them."""
        lines, shape, out = self.lines, self.shape, self.out
        self.flush()
        upper_count = _upper_run(lines, i, shape)
        upper: str | None = None
        if upper_count and out[-upper_count:] == list(lines[i - upper_count : i]):
            upper = join_pieces(lines[i - upper_count : i], self.width)
            del out[-upper_count:]
            out.append(upper)
        span = _header_span(lines, i, shape)
        if span is None:
            header, end = lines[i], i + 1
            out.append(header)
        else:
            rule_start, end = span
            header = join_pieces(lines[i:rule_start], self.width)
            out.append(header)
            out.append(join_pieces(lines[rule_start:end], self.width))
        key = (header, upper)
        if key not in self.judges:
            self.judges[key] = shape.judge_for(header, upper)
        self.judge = self.judges[key]
        self.row_starts.clear()  # they depend on the header's columns
        self.verdicts.clear()
        return end

    def blanks(self, i: int) -> int:
        """Empty lines at `i`: separators, or (strong mode) pieces of >= W blanks inside a row."""
        lines = self.lines
        j = i
        while j < len(lines) and not lines[j].strip():
            j += 1
        incomplete = self.cur_fit.fit < Fit.COMPLETE
        if self.cur and self.strong and incomplete and j < len(lines) and not self.boundary(lines[j]):
            candidate = [*self.cur, *lines[i:j], lines[j]]
            joined = self.fit(candidate)
            if joined.fit >= self.cur_fit.fit and not self.starts_row(j):
                self.cur = candidate
                self.cur_fit = joined
                return j + 1
        self.flush()
        self.out.extend(lines[i:j])
        return j

    def run(self) -> list[str]:
        lines, shape = self.lines, self.shape
        i = 0
        while i < len(lines):
            line = lines[i]
            if shape.header_start.match(line) and _is_header(lines, i, shape, self.width):
                i = self.header(i)
            elif self.judge is None:
                self.out.append(line)
                i += 1
            elif not line.strip():
                i = self.blanks(i)
            elif shape.is_upper(line) and (stop := self.upper_before_header(i)) >= 0:
                self.flush()
                self.out.extend(lines[i:stop])
                i = stop
            elif shape.is_structure(line):
                self.flush()
                self.out.append(line)
                i += 1
            elif not self.cur:
                self.start_row(line)
                i += 1
            else:
                if self.continues(i):
                    self.cur_fit = self.fit([*self.cur, line])  # memoised by `continues`
                    self.cur.append(line)
                else:
                    self.start_row(line)
                i += 1
        self.flush()
        return self.out


# ------------------------------------------------------------------ AireOS `show time`

_NTP_HEADER_RE = re.compile(r"^\s*Index\s+NTP\s+Key", re.IGNORECASE)
_NTP_ROW_START_RE = re.compile(r"^\s*\d+\s+\d+(?:\s|$)")


_DOTTED_RE = re.compile(r"^\s*\S[^.]*?\.{3,}")
_SECTION_RE = re.compile(r"^\s*NTP\s+Servers\s*$", re.IGNORECASE)


def _starts_pre_table_line(line: str) -> bool:
    return not line.strip() or bool(_DOTTED_RE.match(line) or _SECTION_RE.match(line) or _NTP_HEADER_RE.match(line))


def show_time_wrapped(lines: Sequence[str]) -> bool:
    """AireOS `show time` was cut by a narrow terminal: the NTP table's header is not followed by
    its rule, or a dotted `Key.....value` line is followed by a bare piece of its value."""
    for i, line in enumerate(lines):
        if _NTP_HEADER_RE.match(line):
            following = next((ln for ln in lines[i + 1 :] if ln.strip()), "")
            return not _RULE_PIECE_RE.match(following)
        if _DOTTED_RE.match(line) and i + 1 < len(lines) and not _starts_pre_table_line(lines[i + 1]):
            return True
    return False


def unwrap_show_time(lines: Sequence[str], width: int) -> list[str]:
    """`show time` re-joined at `width`.

    Before the NTP table every logical line is a dotted `Key.....value`, a
    section title or blank, so any other piece continues the line before it.
    From the table header on: header pieces run up to the first dash piece,
    dash pieces form one rule, and a row starts at `<index> <key index>`
    (the server may be on the next piece); any other piece continues the line before it (a piece cut in a
    word starts with its second half, never with two numbers).
    """
    out: list[str] = []
    pieces: list[str] = []
    kind = "pre"

    def flush() -> None:
        if pieces:
            out.append(join_pieces(pieces, width))
            pieces.clear()

    for line in lines:
        if kind == "pre":
            if _NTP_HEADER_RE.match(line):
                flush()
                pieces.append(line)
                kind = "header"
            elif _starts_pre_table_line(line) or not pieces:
                flush()
                if line.strip():
                    pieces.append(line)
                else:
                    out.append(line)
            else:
                pieces.append(line)
            continue
        if not line.strip():
            continue
        if kind == "header" and _RULE_PIECE_RE.match(line):
            flush()
            pieces.append(line)
            kind = "rule"
        elif kind == "rule" and _RULE_PIECE_RE.match(line):
            pieces.append(line)
        elif _NTP_ROW_START_RE.match(line) and kind != "header":
            flush()
            pieces.append(line)
            kind = "row"
        else:
            pieces.append(line)
    flush()
    return out
