"""Syslog over TCP: cutting a byte stream into messages (RFC 6587).

Two framings exist in the wild and senders do not announce which they use:
octet counting (`123 <13>...`, RFC 5425/6587 §3.4.1) and a trailing newline
(§3.4.2, what most BSD-style senders do). Each frame is classified by its
first bytes: digits followed by a space are a length; anything else runs to
the next LF. (A newline-framed message without PRI that starts with
`<digits><space>` would be misread: no known AP sends that, every real
message starts with `<PRI>` or a console stamp.)

Memory is bounded per connection: a frame longer than `max_frame` is never
buffered. An octet-counted one is skipped by its length, a newline one is
discarded up to its LF; both are counted as `oversized`.
"""

from __future__ import annotations

MAX_COUNT_DIGITS = 10  # a length up to 9_999_999_999, enough to skip anything a sender claims


class StreamFramer:
    """Incremental framer for one TCP connection. Pure: bytes in, frames out."""

    __slots__ = ("_buf", "_discard_line", "_skip", "max_frame", "oversized")

    def __init__(self, max_frame: int) -> None:
        if max_frame < 1:
            raise ValueError("max_frame must be at least 1")
        self.max_frame = max_frame
        self.oversized = 0
        self._buf = bytearray()
        self._skip = 0
        self._discard_line = False

    @property
    def buffered(self) -> int:
        """Bytes held for an incomplete frame (never more than max_frame + a length prefix)."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every frame they complete (without delimiters)."""
        self._buf += data
        frames: list[bytes] = []
        while self._buf and self._step(frames):
            pass
        return frames

    def _step(self, frames: list[bytes]) -> bool:
        """Consume what the buffer start allows. True: progress made, call again."""
        buf = self._buf
        if self._skip:
            n = min(self._skip, len(buf))
            del buf[:n]
            self._skip -= n
            return True
        if self._discard_line:
            idx = buf.find(b"\n")
            if idx == -1:
                buf.clear()
                return False
            del buf[: idx + 1]
            self._discard_line = False
            return True
        if buf[0] in b"\r\n\x00 ":
            del buf[:1]  # stray delimiters between frames
            return True
        if 0x30 <= buf[0] <= 0x39:
            i = 0
            while i < len(buf) and i <= MAX_COUNT_DIGITS and 0x30 <= buf[i] <= 0x39:
                i += 1
            if i == len(buf) and i <= MAX_COUNT_DIGITS:
                return False  # only digits so far: cannot tell the framing yet
            if i <= MAX_COUNT_DIGITS and buf[i] == 0x20:
                return self._counted(i, frames)
        return self._line(frames)

    def _counted(self, digits: int, frames: list[bytes]) -> bool:
        """`LEN SP MSG` at the buffer start (octet counting)."""
        buf = self._buf
        length = int(buf[:digits])
        header = digits + 1
        if length > self.max_frame:
            self.oversized += 1
            del buf[:header]
            self._skip = length
            return True
        if len(buf) - header < length:
            return False
        frame = bytes(buf[header : header + length])
        del buf[: header + length]
        if frame.strip():
            frames.append(frame)
        return True

    def _line(self, frames: list[bytes]) -> bool:
        """One LF-terminated frame at the buffer start (non-transparent framing)."""
        buf = self._buf
        idx = buf.find(b"\n", 0, self.max_frame + 2)
        if idx == -1:
            if len(buf) <= self.max_frame + 1:
                return False  # wait for the rest of the line
            self.oversized += 1
            end = buf.find(b"\n", self.max_frame + 2)
            if end == -1:
                buf.clear()
                self._discard_line = True
                return False
            del buf[: end + 1]  # the long line ended in this chunk: keep what follows
            return True
        frame = bytes(buf[:idx])
        del buf[: idx + 1]
        if frame.endswith(b"\r"):
            frame = frame[:-1]
        if len(frame) > self.max_frame:
            self.oversized += 1
        elif frame.strip():
            frames.append(frame)
        return True

    def close(self) -> list[bytes]:
        """The connection ended: a last newline frame without its LF still counts."""
        if self._skip or self._discard_line or not self._buf:
            self._buf.clear()
            return []
        rest = bytes(self._buf)
        self._buf.clear()
        digits = len(rest) - len(rest.lstrip(b"0123456789"))
        if 0 < digits <= MAX_COUNT_DIGITS and rest[digits : digits + 1] == b" ":
            rest = rest[digits + 1 :]  # a counted frame cut short: keep what arrived
        if len(rest) > self.max_frame:
            self.oversized += 1
            return []
        return [rest] if rest.strip() else []
