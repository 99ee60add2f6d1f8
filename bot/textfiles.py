"""Reading the operator's text files (inventory, `.env`, playbooks): UTF-8, or a line to fix.

Python's own `UnicodeDecodeError` names a byte offset and a codec, which means
nothing to someone who saved the inventory from a Windows editor; this says
which line holds the bad byte and what to do about it, in the same words for
every file the bot reads.
"""

from __future__ import annotations

from pathlib import Path


class NotUTF8Error(ValueError):
    """A file that is not UTF-8 text; `line` is where the first bad byte is (1-based)."""

    def __init__(self, line: int, byte: int) -> None:
        super().__init__(f"not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8")
        self.line = line
        self.byte = byte


def read_utf8(path: Path) -> str:
    """The text of `path`; OSError as from `open`, NotUTF8Error naming the line of a bad byte."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotUTF8Error(raw[: exc.start].count(b"\n") + 1, raw[exc.start]) from None
