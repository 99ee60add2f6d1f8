"""The session polls use: asyncssh alone, one write and one wake-up per command.

Why not scrapli here: a poll only reads, and scrapli's channel costs as much
CPU per command as asyncssh's own packets (its reads copy and search the whole
buffer, every output is re-split and re-joined, and each open builds a driver
and a transport). Measured over a 1,000-controller check, that was the largest
share of the bot's CPU once the parsers were fast. Here the controller's bytes
land in one buffer (`_Screen.data_received`), and the waiting command is woken
once, when its prompt is there.

What it keeps from scrapli, so the outputs are the same byte for byte: carriage
returns and ANSI escapes dropped as they arrive, the prompt looked for in the
last `PROMPT_SEARCH_DEPTH` bytes, each output read from its own echoed command
on (a stale prompt before it cannot end the read early, see
`ControllerSession._typed_ahead`), right-stripped lines, prompt lines removed.
The prompts, AireOS's second login inside the session and the privilege step
are the platform's data (`prompt`, `shell_login`, `enable_from` in
`platforms/<name>/commands.yaml`).

Sessions that change a device keep `session.ControllerSession` (scrapli): they
answer questions (`save config`'s y/n), which this session never does.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from typing import Any

import asyncssh

from bot.controllers.session_api import (
    ENCRYPTION_PREFERENCE,
    PROMPT_SEARCH_DEPTH,
    CommandEnd,
    CommandOutput,
    LoginRejected,
    SessionBase,
    SessionError,
    last_lines,
    translate,
    unexpected,
)

_USER_PROMPT = re.compile(rb"^\s*user(name)?:\s*$", re.M | re.I)
_PASSWORD_PROMPT = re.compile(rb"^\s*(enable\s)?password:\s*$", re.M | re.I)
# scrapli's own `ANSI_ESCAPE_PATTERN` (scrapli/channel/base_channel.py), copied so both sessions
# drop exactly the same escapes: cursor saves and moves, BEL-ended OSC strings, CSI sequences.
_ANSI = re.compile(
    rb"[\x1B\x9B\x9D](\s)?"
    rb"("
    rb"([78ME])"
    rb"|"
    rb"((\]\d).*?[\x07])"
    rb"|"
    rb"(\[.*?[@-~])"
    rb"|"
    rb"(\[.*?[0-9;]m)"
    rb")",
)

Ready = Callable[[bytearray], bool]


def clean_output(raw: bytes, prompt: re.Pattern[bytes]) -> str:
    """A command's output as scrapli's `_process_output` leaves it: every line right-stripped,
    prompt lines removed, blank lines at the start and white space at the end dropped. The
    escapes are dropped once more over the whole output: one cut between two packets survives
    the per-packet pass (scrapli's too, which then hands it on)."""
    if b"\x1b" in raw:
        raw = _ANSI.sub(b"", raw)
    text = b"\n".join([line.rstrip() for line in raw.splitlines()])
    text = prompt.sub(b"", text)
    return text.lstrip(b"\n").rstrip().decode(errors="replace")


class _Screen(asyncssh.SSHClientSession[bytes]):
    """What the controller printed since the last line was typed, and the one reader waiting on it."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.lost = False
        self._ready: Ready | None = None
        self._waiter: asyncio.Future[None] | None = None

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if datatype is not None:
            return  # stderr: a CLI on a terminal prints everything on stdout (scrapli reads only that)
        if b"\r" in data:
            data = data.replace(b"\r", b"")
        if b"\x1b" in data:
            data = _ANSI.sub(b"", data)
        self.buf += data
        waiter, ready = self._waiter, self._ready
        if waiter is not None and ready is not None and not waiter.done() and ready(self.buf):
            waiter.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(EOFError())

    def eof_received(self) -> bool:
        self.connection_lost(None)
        return False

    async def until(self, ready: Ready) -> None:
        """Return once `ready(buffer)` holds; EOFError if the session ends first."""
        if ready(self.buf):
            return
        if self.lost:
            raise EOFError
        self._ready = ready
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = self._ready = None


class ReadSession(SessionBase):
    """One read-only SSH session to one controller, opened with `async with`.

    The same constructor and `send` as `ControllerSession`, so `poll_controller` takes
    either (tests inject faults through the scrapli one).
    """

    def _prepare(self) -> None:
        self._prompt = re.compile(self.platform.prompt.encode(), re.M | re.I)
        enable_from = self.platform.enable_from
        self._enable_from = re.compile(enable_from.encode(), re.M | re.I) if enable_from else None
        self._conn: asyncssh.SSHClientConnection | None = None
        self._channel: asyncssh.SSHClientChannel[bytes] | None = None
        self._screen = _Screen()

    async def _connect(self) -> None:
        options: dict[str, Any] = {
            "username": self._username,
            "password": self._password,
            "known_hosts": str(self._known_hosts) if self._known_hosts is not None else None,
            # Nothing of the bot host's own SSH set-up applies to a controller: no keys, no
            # agent, no ~/.ssh/config (scrapli's transport does the same); and none of those
            # files is read at every connection.
            "client_keys": None,
            "agent_path": None,
            "config": None,
            "preferred_auth": ("keyboard-interactive", "password"),
            "encryption_algs": ENCRYPTION_PREFERENCE,
            "connect_timeout": self.options.timeout_seconds,
        }
        self._conn = await asyncssh.connect(self.host, self.port, **options)
        self._channel, _ = await self._conn.create_session(lambda: self._screen, term_type="xterm", encoding=None)
        screen, prompt = self._screen, self._prompt
        if self.platform.shell_login:
            await screen.until(lambda buf: self._shows(buf, _USER_PROMPT) or self._shows(buf, prompt))
            if self._shows(screen.buf, _USER_PROMPT):
                self._type(self._username)
                await screen.until(lambda buf: self._shows(buf, _PASSWORD_PROMPT))
                self._type(self._password)
                await screen.until(lambda buf: self._shows(buf, _USER_PROMPT) or self._shows(buf, prompt))
                if self._shows(screen.buf, _USER_PROMPT):
                    raise LoginRejected
        else:
            await screen.until(lambda buf: self._shows(buf, prompt))
        if self._enable_from is not None and self._shows(screen.buf, self._enable_from):
            # As scrapli's driver escalates: `enable`, and an empty line for a password. A device
            # that asks again wants an enable secret the inventory does not give: a failed
            # login, said at once (scrapli's driver fails the same way, after its timeout).
            self._type("enable")
            await screen.until(lambda buf: self._shows(buf, _PASSWORD_PROMPT) or self._shows(buf, prompt))
            if self._shows(screen.buf, _PASSWORD_PROMPT):
                self._type("")
                await screen.until(lambda buf: self._shows(buf, _PASSWORD_PROMPT) or self._shows(buf, prompt))
                if self._shows(screen.buf, _PASSWORD_PROMPT):
                    raise LoginRejected

    @staticmethod
    def _shows(buf: bytearray, pattern: re.Pattern[bytes]) -> bool:
        return pattern.search(last_lines(buf, 0, PROMPT_SEARCH_DEPTH)) is not None

    def _type(self, line: str) -> None:
        """Type one line: what was on the screen before it is of no more use."""
        assert self._channel is not None
        self._screen.buf.clear()
        self._channel.write(line.encode() + b"\n")

    async def send(self, command: str, timeout: float | None = None) -> CommandOutput:
        """Send one command from our own command tables (never user text)."""
        self._check_open(command)
        started = time.monotonic()
        async with self._failing(command):
            text = await asyncio.wait_for(self._exchange(command), timeout=timeout or self.options.timeout_seconds)
        return CommandOutput(command, text, self._refused(text), time.monotonic() - started)

    async def _exchange(self, command: str) -> str:
        """The command and its return in one write; its output from its echo to the prompt."""
        end = CommandEnd(command, self._prompt)
        self._type(command)
        await self._screen.until(end)
        return clean_output(bytes(self._screen.buf[end.start :]), self._prompt)

    async def close(self) -> None:
        if self._open and self._channel is not None and self.platform.session_end:
            with contextlib.suppress(Exception):  # the session may be gone already: closing is all that is left
                self._type(self.platform.session_end)
        self._open = False
        await self._abort()

    async def _abort(self) -> None:
        """Drop the connection without waiting on the device for long; never raises."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        conn.close()
        with contextlib.suppress(Exception):  # already gone is fine
            await asyncio.wait_for(conn.wait_closed(), timeout=2)

    def _translate(self, exc: BaseException, command: str | None) -> SessionError:
        found = translate(exc, self.where, command, self.options.timeout_seconds)
        return found or unexpected(exc, self.where, command)
