"""The character level of one simulated CLI session.

asyncssh's line editor is off (`line_editor=False`), so the simulator does
what a real controller's CLI does itself: echoes characters as it reads them,
treats CR, LF and CRLF each as one Enter, handles backspace, and writes CRLF
line endings. Input that arrives while a command runs (type-ahead) stays in
the buffer and is read, and echoed, after the next prompt, as a real CLI does.

Output is coalesced: everything written during one turn of the event loop
goes out as one SSH packet (`flush` forces it), instead of one packet per
echoed character.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

CR = 0x0D
LF = 0x0A
NUL = 0x00
BACKSPACES = (0x08, 0x7F)


class Terminal:
    """Input buffer and output writer of one session."""

    def __init__(self, write: Callable[[bytes], None]) -> None:
        self._write = write
        self._out: list[bytes] = []
        self._flush_scheduled = False
        self._buf = bytearray()
        self._pos = 0
        self._data = asyncio.Event()
        self._eof = False
        self._after_cr = False

    # -------------------------------------------------------------- input side

    def feed(self, data: bytes) -> None:
        """Bytes from the client (called by the SSH session)."""
        self._buf += data
        self._data.set()

    def feed_eof(self) -> None:
        self._eof = True
        self._data.set()

    async def _next_byte(self) -> int | None:
        while self._pos >= len(self._buf):
            if self._eof:
                return None
            del self._buf[: self._pos]
            self._pos = 0
            self._data.clear()
            await self._data.wait()
        byte = self._buf[self._pos]
        self._pos += 1
        return byte

    async def read_line(self, *, echo: bool = True) -> str | None:
        """One line of input, echoed (unless `echo` is False, for passwords).

        Returns None at end of input (client closed).
        """
        chars = bytearray()
        while True:
            byte = await self._next_byte()
            if byte is None:
                return None
            if self._after_cr and byte in (LF, NUL):
                self._after_cr = False
                continue
            self._after_cr = byte == CR
            if byte in (CR, LF):
                self.write_raw(b"\r\n")
                return chars.decode("utf-8", "replace")
            if byte in BACKSPACES:
                if chars:
                    chars.pop()
                    if echo:
                        self.write_raw(b"\b \b")
                continue
            if byte < 0x20:
                continue  # other control characters are ignored, as on the devices
            chars.append(byte)
            if echo:
                self.write_raw(bytes([byte]))

    async def read_key(self) -> str | None:
        """One key press (for `--More--`); Enter comes back as `\\n`."""
        while True:
            byte = await self._next_byte()
            if byte is None:
                return None
            if self._after_cr and byte in (LF, NUL):
                self._after_cr = False
                continue
            self._after_cr = byte == CR
            if byte in (CR, LF):
                return "\n"
            return chr(byte)

    # ------------------------------------------------------------- output side

    def write(self, text: str) -> None:
        """Write text with CRLF line endings whatever the source used."""
        if text:
            self.write_raw(text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8", "replace"))

    def write_raw(self, data: bytes) -> None:
        """Write bytes exactly (replayed captures, echo)."""
        if not data:
            return
        self._out.append(data)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Send what was written so far (called before the session closes)."""
        self._flush_scheduled = False
        if self._out:
            data = b"".join(self._out)
            self._out.clear()
            self._write(data)
