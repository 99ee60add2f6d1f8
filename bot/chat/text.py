"""User text at the edge: how long it may be, how it splits into words, what may be echoed.

Everything a person types reaches the bot as one string (a slash command's
text, a button's value, a console line). Three things are decided here, once,
so that no handler or renderer has to remember them:

* **Length.** Slack itself never sends slash-command text over 4,000
  characters, nor button values over 2,000; anything longer did not come from
  Slack's UI and is refused before any work is done on it.
* **Words.** `split_words` splits like `shlex.split` (POSIX quotes and
  backslashes, whitespace is space, tab, CR and LF) but in time linear in the
  length: `shlex` grows a long word one character at a time with `token +=
  char`, which copies the word on every character and so takes time quadratic
  in a word's length (a 900 KB word held the event loop for seconds).
* **Echo.** `printable` removes the characters a terminal or a chat client
  acts on instead of showing: C0 and C1 controls (ESC starts terminal escape
  sequences, BEL, NEL U+0085), DEL, Unicode format characters (bidi overrides
  such as U+202E that reorder what is shown, zero-width characters, BOM), the
  line and paragraph separators U+2028/U+2029, and lone surrogates (which
  cannot even be encoded for a terminal or JSON as UTF-8).
"""

from __future__ import annotations

import re

#: Slack's own limit for slash-command text; longer text is refused unread.
MAX_COMMAND_CHARS = 4000
#: Slack's own limit for a button's value.
MAX_ACTION_VALUE_CHARS = 2000

# Unicode categories Cc (controls), Cf (format), Cs (surrogates), Zl and Zp, as of Unicode
# 15.1 (Python 3.13); on an older Python the extra code points are unassigned there.
# tests/chat/test_text.py checks this list against the running Python's unicodedata.
_OTHER_INVISIBLE = (
    r"\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
    r"\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    r"\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    r"\U000e0001\U000e0020-\U000e007f"
)
_INVISIBLE = re.compile(r"[\x00-\x1f" + _OTHER_INVISIBLE + "]")
_INVISIBLE_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f" + _OTHER_INVISIBLE + "]")

# The separators and quotes `shlex.split` knows (posix=True, whitespace_split=True).
_CHUNK = re.compile(
    r"""(?P<space>[ \t\r\n]+)"""
    r"""|'(?P<single>[^']*)'"""
    r'''|"(?P<double>(?:[^"\\]|\\.)*)"'''
    r"""|\\(?P<escaped>.)"""
    r"""|(?P<bare>[^ \t\r\n'"\\]+)"""
    r"""|(?P<unclosed>.)""",  # a quote never closed, or a backslash with nothing after it
    re.DOTALL,
)
_DOUBLE_QUOTED_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """`text` without control, format and separator characters (see the module docstring).

    `keep_newlines` keeps LF, for renderers whose lines are joined with it; a tab
    or CR is never kept (a renderer that wants tabs expands them first).
    """
    pattern = _INVISIBLE_BUT_NEWLINE if keep_newlines else _INVISIBLE
    return pattern.sub("", text)


def _unescape_double(match: re.Match[str]) -> str:
    """Inside double quotes a backslash escapes only `"` and `\\`; elsewhere it stays (as in sh)."""
    char = match.group(1)
    return char if char in '"\\' else match.group(0)


def split_words(text: str) -> list[str]:
    """`shlex.split(text)`, in linear time. Raises ValueError for an unclosed quote or a
    trailing backslash, as shlex does.

    Words are gathered as lists of pieces and joined once, never grown a
    character at a time; each regex piece is a maximal run, so a long word is
    one piece.
    """
    words: list[str] = []
    word: list[str] | None = None  # None: between words (an empty quoted word is [""])
    for match in _CHUNK.finditer(text):  # the pieces cover `text` end to end
        kind = match.lastgroup
        if kind == "space":
            if word is not None:
                words.append("".join(word))
                word = None
            continue
        if kind == "unclosed":
            raise ValueError("No escaped character" if match.group() == "\\" else "No closing quotation")
        piece = match.group(kind or "bare")
        if kind == "double":
            piece = _DOUBLE_QUOTED_ESCAPE.sub(_unescape_double, piece)
        if word is None:
            word = []
        word.append(piece)
    if word is not None:
        words.append("".join(word))
    return words
