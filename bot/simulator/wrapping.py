"""A narrow terminal: how a controller prints output lines wider than its screen.

A session whose terminal is `width` columns wide (an 80-column console, or a
9800 session that never sent `terminal width 0`) gets every output line longer
than `width` cut into pieces of exactly `width` characters, each piece on a
line of its own; the last piece is whatever is left. Nothing is re-flowed at
word boundaries, so a piece may end or start in the middle of a word or a run
of blanks. Shared by the simulator (to serve such output) and the parser tests
(to check that the bot joins it back).
"""

from __future__ import annotations


def wrap_line(line: str, width: int) -> list[str]:
    """`line` as the terminal prints it: pieces of `width` characters."""
    if width <= 0 or len(line) <= width:
        return [line]
    return [line[start : start + width] for start in range(0, len(line), width)]


def wrap(text: str, width: int | None) -> str:
    """Every line of `text` wrapped at `width` (None or 0: unchanged)."""
    if not width:
        return text
    return "\n".join(piece for line in text.split("\n") for piece in wrap_line(line, width))
