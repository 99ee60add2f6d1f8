"""User text at the edge: `split_words` is shlex in linear time, `printable` removes what a
terminal or chat client would act on, and nothing else."""

from __future__ import annotations

import shlex
import sys
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chat.text import printable, split_words

INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def test_printable_removes_exactly_controls_format_characters_separators_and_surrogates() -> None:
    """Checked against the running Python's Unicode database, every code point. The list in
    bot/chat/text.py is as of Unicode 15.1: on an older Python its extra code points are
    unassigned (Cn); a newer Unicode adding a format character fails here, naming it."""
    missed, extra = [], []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        removed = printable(char) == ""
        if category in INVISIBLE_CATEGORIES and not removed:
            missed.append(f"U+{code:04X}")
        elif removed and category not in INVISIBLE_CATEGORIES and category != "Cn":
            extra.append(f"U+{code:04X} ({category})")
    assert missed == [], "add these to bot/chat/text.py"
    assert extra == []


def test_printable_keeps_newlines_only_when_asked() -> None:
    text = "a\nb\tc\rd\x1b[31me\x07\u202ef\u0085g\ud800h ✅ ⚠️"
    assert printable(text) == "abcd[31mefgh ✅ ⚠️"
    assert printable(text, keep_newlines=True) == "a\nbcd[31mefgh ✅ ⚠️"


WORD_PIECES = st.sampled_from(
    [
        " ",
        "  ",
        "\t",
        "\n",
        "\r",
        "a",
        "b-1",
        "'",
        '"',
        "\\",
        "\\\\",
        "\\'",
        '\\"',
        "''",
        '""',
        "\x00",
        "\x0b",
        "\u0085",
        "é",
        "#",
        ";",
        "=",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(WORD_PIECES, max_size=20).map("".join))
def test_split_words_is_shlex_split(text: str) -> None:
    try:
        expected: list[str] | str = shlex.split(text)
    except ValueError:
        expected = "ValueError"
    try:
        got: list[str] | str = split_words(text)
    except ValueError:
        got = "ValueError"
    assert got == expected


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_split_words_round_trips_shlex_quote(word: str) -> None:
    """The button path quotes each part of a value: it must come back as exactly one word."""
    assert split_words(f"remediate {shlex.quote(word)} --dry-run") == ["remediate", word, "--dry-run"]
