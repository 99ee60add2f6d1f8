"""Reply → Block Kit, split to Slack's limits.

Handlers speak `Reply`; this module is the only place that knows Block Kit.
Slack rejects a whole message (`invalid_blocks`, `msg_blocks_too_long`) when a
single block is over a limit, so everything here is clamped or split *before*
it leaves the process: a 6,000-AP table becomes several messages rather than
one refused post.

`render_messages(reply)` returns a list of `{"text": fallback, "blocks": [...]}`
dicts. The first carries the summary (header, text, fields, buttons, footer);
the rest hold whatever did not fit (big AP tables, overflow) and are meant to be
posted as thread replies to the first.

Text from devices (AP names, site names) is escaped so a crafted AP name such
as `<!channel>` cannot ping a whole channel; no rendered string keeps a control
or format character (ESC, U+202E) but the newline.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bot.chat.reply import Button, Field, Level, Reply, Section, Table
from bot.chat.text import printable

# Slack limits (https://docs.slack.dev/reference/block-kit/blocks).
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_SELECT_OPTIONS = 100  # options in one static select
MAX_OPTION_TEXT = 75  # an option's text, and a placeholder's
MAX_OPTION_VALUE = 150  # an option's value
MAX_ACTION_ID = 255
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_FALLBACK_TEXT = 3000
# Undocumented, but observed: Slack answers `msg_blocks_too_long` once the
# blocks of one message hold ~13,200 characters in total (slackapi/bolt-js#2509).
# Stay well under it.
MESSAGE_CHAR_BUDGET = 12_000
# Ten 2000-character fields would be 20,000: cap a fields block well below the budget.
FIELDS_BLOCK_CHARS = 6_000
# Table layout: a cell wider than this is cut, a line longer than that too,
# so one pathological row cannot blow a code block.
MAX_CELL_WIDTH = 40
MAX_TABLE_LINE = 1000

ELLIPSIS = "…"
CODE_FENCE = "```"

LEVEL_EMOJI: dict[Level, str] = {
    Level.INFO: ":information_source:",
    Level.OK: ":white_check_mark:",
    Level.WARNING: ":warning:",
    Level.DANGER: ":rotating_light:",
}

BUTTON_STYLES = frozenset({"primary", "danger"})

log = logging.getLogger(__name__)

SlackMessage = dict[str, Any]
Block = dict[str, Any]

# Slack "special" tokens we let through: user and channel mentions, and links.
# Everything else in angle brackets (<!channel>, <!here>, <!subteam^…>) is escaped.
_ALLOWED_TOKEN = re.compile(r"<(?:@[UW][A-Z0-9]+|#C[A-Z0-9]+(?:\|[^<>]*)?|https?://[^<>|\s]+(?:\|[^<>]*)?)>")


# --------------------------------------------------------------------------- text helpers


def escape_mrkdwn(text: str, *, allow_mentions: bool = True) -> str:
    """Escape `&`, `<`, `>` as Slack requires, keeping user/channel mentions and links.

    Why: Slack treats `<!channel>` in any message text as a broadcast; device
    data must never be able to produce one.
    """
    if not allow_mentions:
        return _escape_all(text)
    out: list[str] = []
    pos = 0
    for match in _ALLOWED_TOKEN.finditer(text):
        out.append(_escape_all(text[pos : match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_escape_all(text[pos:]))
    return "".join(out)


def _escape_all(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _visible(value: Any) -> Any:
    """`value` (a message or a block) with no control or format character but the newline in
    any text a person reads (every `text` string): device output and AP syslog lines arrive
    unauthenticated, and a bidi override (U+202E) reorders what an operator reads in Slack as
    in a terminal. Done last, on the rendered message, so no path (header, button, fallback)
    is missed; it only shortens text, so every limit still holds. Button values and action ids
    are data the bot reads back, and are left exactly as they are."""
    if isinstance(value, dict):
        return {
            key: _visible_text(item) if key == "text" and isinstance(item, str) else _visible(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_visible(item) for item in value]
    return value


def _visible_text(text: str) -> str:
    shown = printable(text.expandtabs(4) if "\t" in text else text, keep_newlines=True)
    # Slack refuses an empty text object; text that was nothing but invisible characters shows a mark.
    return shown if shown or not text else "·"


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    return text[: limit - 1] + ELLIPSIS


def _truncate_escaped(text: str, limit: int) -> str:
    """Like `truncate`, for already-escaped text: never leaves half an entity or token."""
    if len(text) <= limit:
        return text
    cut = _safe_cut(text, limit - 1)
    return text[:cut] + ELLIPSIS


def _safe_cut(text: str, cut: int) -> int:
    """Move a cut point back so it does not split `&amp;`-style entities or `<...>` tokens."""
    cut = max(0, min(cut, len(text)))
    amp = text.rfind("&", max(0, cut - 5), cut)
    if amp != -1 and text.find(";", amp, cut) == -1:
        cut = amp
    lt = text.rfind("<", 0, cut)
    if lt != -1 and text.find(">", lt, cut) == -1 and cut - lt < 500:
        cut = lt
    return cut if cut > 0 else max(1, min(len(text), cut))


def split_text(text: str, limit: int) -> list[str]:
    """Split already-escaped text into chunks of at most `limit` characters.

    Prefers line boundaries, then spaces, then a hard cut that respects entities,
    so a long reply reads naturally across several section blocks.
    """
    if limit <= 0:
        raise ValueError("limit must be positive")
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = line if not current else current + "\n" + line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
            current = ""
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit + 1)
            if cut <= limit // 2:
                cut = _safe_cut(line, limit)
            chunks.append(line[:cut])
            line = line[cut:].lstrip(" ") if line[cut : cut + 1] == " " else line[cut:]
        current = line
    if current or not chunks:
        chunks.append(current)
    return [c for c in chunks if c.strip()] or [""]


def _block_chars(block: Any) -> int:
    """Characters of visible text in a block, for the per-message budget."""
    if isinstance(block, dict):
        total = 0
        for key, value in block.items():
            if key == "text" and isinstance(value, str):
                total += len(value)
            elif isinstance(value, (dict, list)):
                total += _block_chars(value)
        return total
    if isinstance(block, list):
        return sum(_block_chars(item) for item in block)
    return 0


# --------------------------------------------------------------------------- block builders


def header_block(title: str, level: Level) -> Block:
    text = truncate(f"{LEVEL_EMOJI[level]} {title}".strip(), MAX_HEADER_TEXT)
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def section_blocks(text: str) -> list[Block]:
    """Plain text (unescaped) as one or more mrkdwn section blocks."""
    escaped = escape_mrkdwn(text)
    return [_mrkdwn_section(chunk) for chunk in split_text(escaped, MAX_SECTION_TEXT) if chunk.strip()]


def _mrkdwn_section(escaped: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": escaped}}


def field_blocks(fields: Sequence[Field]) -> list[Block]:
    """Fields, at most ten to a section block (Slack's maximum), each clamped to 2000
    characters, and few enough characters per block that one block never eats a
    message's whole character budget."""
    blocks: list[Block] = []
    current: list[dict[str, str]] = []
    size = 0
    for field in fields:
        rendered = _field(field)
        if current and (len(current) >= MAX_FIELDS or size + len(rendered["text"]) > FIELDS_BLOCK_CHARS):
            blocks.append({"type": "section", "fields": current})
            current, size = [], 0
        current.append(rendered)
        size += len(rendered["text"])
    if current:
        blocks.append({"type": "section", "fields": current})
    return blocks


def _field(field: Field) -> dict[str, str]:
    label = escape_mrkdwn(field.label.replace("*", ""))
    value = escape_mrkdwn(field.value) if field.value else "–"
    text = _truncate_escaped(f"*{label}*\n{value}", MAX_FIELD_TEXT)
    return {"type": "mrkdwn", "text": text}


def button_element(button: Button) -> dict[str, Any] | None:
    """One button; None when its value cannot be sent intact (we never cut a value:
    a truncated action value would silently mean something else)."""
    if len(button.value) > MAX_BUTTON_VALUE or not button.action_id or len(button.action_id) > MAX_ACTION_ID:
        return None
    if button.choices:
        return _select_element(button)
    element: dict[str, Any] = {
        "type": "button",
        "text": {
            "type": "plain_text",
            "text": truncate(button.label or button.action_id, MAX_BUTTON_TEXT),
            "emoji": True,
        },
        "action_id": button.action_id,
        "value": button.value,
    }
    if button.style in BUTTON_STYLES:
        element["style"] = button.style
    return element


def _select_element(button: Button) -> dict[str, Any] | None:
    """A menu button as a static select: at most 100 options, each value intact (or the menu is
    left out, like a button whose value would be cut), labels shortened to Slack's 75."""
    options = [
        {"text": {"type": "plain_text", "text": truncate(c.label, MAX_OPTION_TEXT), "emoji": True}, "value": c.value}
        for c in button.choices[:MAX_SELECT_OPTIONS]
        if c.value and len(c.value) <= MAX_OPTION_VALUE
    ]
    if not options:
        return None
    return {
        "type": "static_select",
        "action_id": button.action_id,
        "placeholder": {"type": "plain_text", "text": truncate(button.label, MAX_OPTION_TEXT), "emoji": True},
        "options": options,
    }


def actions_blocks(buttons: Iterable[Button]) -> list[Block]:
    """Buttons as actions blocks: ≤ 25 per block, and a new block whenever an
    action_id repeats (Slack requires action_ids unique within a block; we keep
    ids intact so the dispatcher sees exactly what the handler chose)."""
    blocks: list[Block] = []
    current: list[dict[str, Any]] = []
    seen: set[str] = set()
    for button in buttons:
        element = button_element(button)
        if element is None:
            continue
        if len(current) >= MAX_ACTIONS_ELEMENTS or element["action_id"] in seen:
            blocks.append({"type": "actions", "elements": current})
            current, seen = [], set()
        current.append(element)
        seen.add(element["action_id"])
    if current:
        blocks.append({"type": "actions", "elements": current})
    return blocks


def dropped_buttons(buttons: Iterable[Button]) -> list[Button]:
    """Buttons `actions_blocks` leaves out (value too long, bad action id); for logging."""
    return [b for b in buttons if button_element(b) is None]


def context_block(text: str) -> Block:
    escaped = _truncate_escaped(escape_mrkdwn(text), MAX_SECTION_TEXT)
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": escaped}]}


def _table_cell(value: str) -> str:
    # Newlines would break the grid; backticks could close the code fence.
    return value.replace("\r", " ").replace("\n", " ").replace("`", "ˋ")


def table_lines(table: Table) -> tuple[str, list[str]]:
    """Lay a table out as fixed-width text: (header line incl. rule, row lines), escaped."""
    columns = [_table_cell(c) for c in table.columns]
    rows = [[_table_cell(cell) for cell in row] for row in table.rows]
    ncols = max([len(columns), *(len(r) for r in rows)]) if (columns or rows) else 0
    columns += [""] * (ncols - len(columns))
    widths = [len(c) for c in columns]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    whole = {i for i, name in enumerate(table.columns) if name in table.whole}
    widths = [w if i in whole else min(w, MAX_CELL_WIDTH) for i, w in enumerate(widths)]

    def line(cells: Sequence[str]) -> str:
        padded = [truncate(cells[i] if i < len(cells) else "", widths[i]).ljust(widths[i]) for i in range(ncols)]
        return _truncate_escaped(_escape_all("  ".join(padded).rstrip()), MAX_TABLE_LINE)

    header = line(columns)
    rule = _truncate_escaped("  ".join("-" * w for w in widths), MAX_TABLE_LINE)
    return f"{header}\n{rule}", [line(r) for r in rows]


def table_blocks(table: Table) -> list[Block]:
    """A table as monospace code-block sections, ≤ 3000 characters each, the
    column header repeated in every block so a thread reply reads on its own."""
    head, lines = table_lines(table)
    overhead = len(CODE_FENCE) * 2 + 2 + len(head) + 1  # fences, newlines, header
    budget = MAX_SECTION_TEXT - overhead
    if not lines:
        lines = ["(no rows)"]
    blocks: list[Block] = []
    chunk: list[str] = []
    size = 0
    for row in lines:
        row = _truncate_escaped(row, budget)
        extra = len(row) + (1 if chunk else 0)
        if chunk and size + extra > budget:
            blocks.append(_code_block(head, chunk))
            chunk, size, extra = [], 0, len(row)
        chunk.append(row)
        size += extra
    if chunk:
        blocks.append(_code_block(head, chunk))
    return blocks


def _code_block(head: str, rows: Sequence[str]) -> Block:
    body = "\n".join(rows)
    return _mrkdwn_section(f"{CODE_FENCE}\n{head}\n{body}\n{CODE_FENCE}")


# --------------------------------------------------------------------------- assembly


@dataclass
class _Piece:
    """A block plus what the splitter needs to know about it."""

    block: Block
    pinned: bool = False  # must stay in the first message (buttons, header, footer)
    thread_note: bool = False  # already tells the reader to look in the thread
    chars: int = 0

    def __post_init__(self) -> None:
        self.chars = _block_chars(self.block)


@dataclass
class _TablePart:
    title: str | None
    table: Table


def fallback_text(reply: Reply, *, part: int | None = None, parts: int | None = None) -> str:
    """The notification / screen-reader text that accompanies blocks."""
    emoji = LEVEL_EMOJI[reply.level]
    first_line = reply.text.strip().split("\n", 1)[0] if reply.text else ""
    if part is not None and parts:
        text = f"{emoji} {reply.title or first_line} (part {part}/{parts})"
    elif reply.title:
        text = f"{emoji} {reply.title}: {first_line}" if first_line else f"{emoji} {reply.title}"
    else:
        text = f"{emoji} {first_line}" if first_line else f"{emoji} ccert-bot"
    return _truncate_escaped(escape_mrkdwn(text), MAX_FALLBACK_TEXT)


def _section_pieces(section: Section, tables_inline: bool, deferred: list[_TablePart]) -> list[_Piece]:
    pieces: list[_Piece] = []
    # Title in bold above the text; only the user-supplied parts are escaped.
    title = f"*{escape_mrkdwn(section.title.replace('*', ''))}*" if section.title else ""
    body = escape_mrkdwn(section.text) if section.text else ""
    intro = "\n".join(part for part in (title, body) if part)
    if intro.strip():
        pieces += [_Piece(_mrkdwn_section(c)) for c in split_text(intro, MAX_SECTION_TEXT) if c.strip()]
    pieces += [_Piece(b) for b in field_blocks(section.fields)]
    if section.table is not None:
        if tables_inline:
            pieces += [_Piece(b) for b in table_blocks(section.table)]
        else:
            deferred.append(_TablePart(section.title, section.table))
            n = len(section.table.rows)
            note = f":thread: Table with {n:,} row{'s' if n != 1 else ''} posted in the thread below."
            pieces.append(_Piece(context_block(note), thread_note=True))
    pieces += [_Piece(b, pinned=True) for b in actions_blocks(section.buttons)]
    return pieces


def _summary_pieces(reply: Reply, tables_inline: bool, deferred: list[_TablePart]) -> list[_Piece]:
    pieces: list[_Piece] = []
    if reply.title:
        pieces.append(_Piece(header_block(reply.title, reply.level), pinned=True))
    if reply.text:
        # Without a header the level would not show; say it with the emoji up front
        # (plain INFO notes such as "Checking…" stay unadorned).
        text = reply.text if reply.title or reply.level is Level.INFO else f"{LEVEL_EMOJI[reply.level]} {reply.text}"
        pieces += [_Piece(b) for b in section_blocks(text)]
    for index, section in enumerate(reply.sections):
        if index or pieces:
            pieces.append(_Piece({"type": "divider"}))
        pieces += _section_pieces(section, tables_inline, deferred)
    pieces += [_Piece(b, pinned=True) for b in actions_blocks(reply.buttons)]
    if reply.footer:
        pieces.append(_Piece(context_block(reply.footer), pinned=True))
    if not pieces:
        # Slack refuses an empty blocks array; say *something*.
        pieces.append(_Piece(_mrkdwn_section(escape_mrkdwn(reply.title or "Done."))))
    return pieces


def _fits(pieces: Sequence[_Piece]) -> bool:
    return len(pieces) <= MAX_BLOCKS and sum(p.chars for p in pieces) <= MESSAGE_CHAR_BUDGET


def _pack(pieces: Iterable[_Piece]) -> Iterator[list[_Piece]]:
    """Greedy packing into messages within the block count and character budget."""
    current: list[_Piece] = []
    chars = 0
    for piece in pieces:
        if current and (len(current) + 1 > MAX_BLOCKS or chars + piece.chars > MESSAGE_CHAR_BUDGET):
            yield current
            current, chars = [], 0
        current.append(piece)
        chars += piece.chars
    if current:
        yield current


def _first_message(pieces: list[_Piece]) -> tuple[list[_Piece], list[_Piece]]:
    """Fill the first message in order, keeping every pinned piece (header, buttons,
    footer) in it; unpinned pieces that no longer fit go, in order, to the thread."""
    pinned_left_chars = sum(p.chars for p in pieces if p.pinned)
    pinned_left_count = sum(1 for p in pieces if p.pinned)
    first: list[_Piece] = []
    rest: list[_Piece] = []
    chars = 0
    spilling = False
    for piece in pieces:
        if piece.pinned:
            pinned_left_chars -= piece.chars
            pinned_left_count -= 1
            if len(first) < MAX_BLOCKS and chars + piece.chars <= MESSAGE_CHAR_BUDGET:
                first.append(piece)
                chars += piece.chars
            else:  # absurd numbers of buttons: they still work from the thread
                rest.append(piece)
            continue
        room_blocks = MAX_BLOCKS - len(first) - pinned_left_count - 1  # -1: "continued" note
        room_chars = MESSAGE_CHAR_BUDGET - chars - pinned_left_chars - 200
        if not spilling and room_blocks >= 1 and piece.chars <= room_chars:
            first.append(piece)
            chars += piece.chars
        else:
            spilling = True
            rest.append(piece)
    return first, rest


def render_messages(reply: Reply) -> list[SlackMessage]:
    """Render a Reply as one or more Slack messages (`{"text", "blocks"}` dicts).

    One message when it all fits. Otherwise the first message carries the summary
    and all buttons, and the rest (AP tables, overflow) follow, meant for its thread.
    Every message respects Slack's block, text, field, header and button limits.
    """
    dropped = dropped_buttons([*reply.buttons, *(b for s in reply.sections for b in s.buttons)])
    if dropped:
        # A handler bug, not a user error: say which, and render the rest.
        log.warning(
            "left out %d button(s) Slack would refuse: %s",
            len(dropped),
            ", ".join(repr(b.action_id[:40]) for b in dropped),
        )
    inline: list[_TablePart] = []
    pieces = _summary_pieces(reply, tables_inline=True, deferred=inline)
    if _fits(pieces):
        return [_visible({"text": fallback_text(reply), "blocks": [p.block for p in pieces]})]

    deferred: list[_TablePart] = []
    pieces = _summary_pieces(reply, tables_inline=False, deferred=deferred)
    first, overflow = _first_message(pieces)
    for part in deferred:
        blocks = table_blocks(part.table)
        total = len(part.table.rows)
        label = f"*{escape_mrkdwn(part.title.replace('*', ''))}*" if part.title else "*Table*"
        heading = f"{label} ({total:,} row{'s' if total != 1 else ''})"
        overflow.append(_Piece(_mrkdwn_section(_truncate_escaped(heading, MAX_SECTION_TEXT))))
        overflow += [_Piece(b) for b in blocks]
    if overflow and not any(p.thread_note for p in first):
        first.append(_Piece(context_block(":thread: Continued in the thread below.")))
    rest = list(_pack(overflow))
    parts = 1 + len(rest)
    messages = [{"text": fallback_text(reply), "blocks": [p.block for p in first]}]
    for index, chunk in enumerate(rest, start=2):
        text = fallback_text(reply, part=index, parts=parts)
        messages.append({"text": text, "blocks": [p.block for p in chunk]})
    return [_visible(message) for message in messages]


def render_text_message(text: str, level: Level = Level.INFO) -> SlackMessage:
    """A one-section message, for the listeners' own short notes (errors, help)."""
    body = f"{LEVEL_EMOJI[level]} {text}"
    fallback = _truncate_escaped(escape_mrkdwn(body), MAX_FALLBACK_TEXT)
    return _visible({"text": fallback, "blocks": section_blocks(body)[:1]})


def is_empty(reply: Reply) -> bool:
    """A Reply with nothing to show: listeners post nothing for it (e.g. a button
    whose handler only wants to answer later, in its follow-up)."""
    return not (reply.title or reply.text or reply.sections or reply.buttons or reply.footer or reply.files)
