"""What every controller session shares: its options, its output, its errors.

Two sessions speak to controllers: `session.ControllerSession` (scrapli), which
changes devices and answers their questions, and `read_session.ReadSession`
(asyncssh alone), which polls. Everything above them sees this contract only:
`send(command) -> CommandOutput`, and `SessionError(kind, message)` whose
message is built here from what failed, never from exception text that could
carry a password.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

import asyncssh

from bot.controllers.platforms import PlatformDefinition
from bot.domain.models import ErrorKind

# asyncssh's own list, AES-GCM first: OpenSSL does AES-GCM in one call per packet, while
# asyncssh builds ChaCha20-Poly1305 from three cipher contexts per packet in Python (a fifth
# of a poll's CPU went there). Every algorithm stays on offer, so any controller still
# negotiates what it supports (AireOS: AES-CTR).
ENCRYPTION_PREFERENCE: tuple[str, ...] = (
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes256-ctr",
    "aes192-ctr",
    "aes128-ctr",
)

# How far back from the end of what was read a prompt is looked for (scrapli's default).
PROMPT_SEARCH_DEPTH = 1000


def known_hosts_file(configured: Path | None) -> Path:
    """The known_hosts file sessions check host keys against: CCERT_SSH_KNOWN_HOSTS, else OpenSSH's own."""
    return configured or Path("~/.ssh/known_hosts").expanduser()


def last_lines(buf: bytearray, start: int, depth: int) -> bytes:
    """Where a prompt is looked for in `buf[start:]`: its last `depth` bytes, from the first line
    that starts in them (scrapli's rule: a cut line could look like a prompt), or that cut
    line itself when nothing follows it (scrapli does the same). Copies only the tail, so a
    megabyte AP table read in chunks is not copied once per chunk."""
    tail = bytes(buf[max(start, len(buf) - depth) :])
    if len(buf) - start <= depth:
        return tail
    before, _, rest = tail.partition(b"\n")
    return rest or before


class CommandEnd:
    """Whether a command typed ahead has finished printing: `end(buffer)` once per read.

    The command and its return go in one write, and its output is read from its echo on:
    everything before the echoed command is dropped, because a stale prompt left there (a
    login prompt printed twice, a stray return) would otherwise end the read at once and
    put every later output on the wrong command (scrapli's own `eager_input` does exactly
    that under load). `start` is where the output begins; the prompt is looked for, as
    scrapli does, in the last lines after it.
    """

    def __init__(self, command: str, prompt: re.Pattern[bytes], depth: int = PROMPT_SEARCH_DEPTH) -> None:
        self.start = -1
        self._echo = command.encode()
        self._squished = b"".join(self._echo.lower().split())
        self._prompt = prompt
        self._depth = depth

    def __call__(self, buf: bytearray) -> bool:
        if self.start < 0:
            at = buf.find(self._echo)
            if at >= 0:
                self.start = at + len(self._echo)
            elif self._squished in b"".join(bytes(buf).lower().split()):
                self.start = 0  # echoed with extra blanks: read from the top, as scrapli's eager mode
            else:
                return False
        return self._prompt.search(last_lines(buf, self.start, self._depth)) is not None


@dataclass(frozen=True)
class SessionOptions:
    """`typed_ahead`: send each command with its return in one write and read the echo
    and the output in one go (`CommandEnd`). Polls do (`ReadSession` always does): their
    commands only read. A session that changes a device keeps scrapli's own exchange."""

    timeout_seconds: float = 30.0
    strict_host_keys: bool = True
    known_hosts: Path | None = None
    typed_ahead: bool = False


@dataclass(frozen=True)
class CommandOutput:
    command: str
    text: str
    failed: bool
    elapsed: float


class SessionError(Exception):
    """A failure talking to a controller, already in words safe to show a user."""

    def __init__(self, kind: ErrorKind, message: str, command: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.command = command


class LoginRejected(Exception):
    """AireOS asked for `User:` again after the password: the login was refused."""


class Session(Protocol):
    """One SSH session to one controller, opened with `async with` (both implementations)."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def send(self, command: str, timeout: float | None = None) -> CommandOutput: ...


class SessionBase:
    """What both sessions do alike: whom they talk to, `async with`, the known_hosts check
    before anything is sent, and how a failure ends them (`_failing`). Each says how to
    drop its transport (`_abort`) and what its own client's exceptions mean (`_translate`)."""

    def __init__(
        self,
        *,
        name: str,
        host: str,
        port: int,
        platform: PlatformDefinition,
        username: str,
        password: str,
        options: SessionOptions,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.platform = platform
        self.options = options
        self._username = username
        self._password = password
        # Checked by asyncssh, which matches `[host]:port` entries properly.
        self._known_hosts: Path | None = known_hosts_file(options.known_hosts) if options.strict_host_keys else None
        self._open = False
        self._prepare()

    def _prepare(self) -> None:
        """What the session builds once it knows whom it talks to (nothing is sent yet)."""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect and log in (within twice the timeout), then send the platform's set-up commands."""
        self._check_known_hosts()
        async with self._failing(None):
            await asyncio.wait_for(self._connect(), timeout=self.options.timeout_seconds * 2)
        self._open = True
        for command in self.platform.session_setup:
            await self.send(command)

    async def _connect(self) -> None:
        """Open the transport and log in, up to the first command prompt."""
        raise NotImplementedError

    async def send(self, command: str, timeout: float | None = None) -> CommandOutput:
        raise NotImplementedError

    def _refused(self, output: str) -> bool:
        """Did the controller refuse the command (its platform's failure marks in the output)?"""
        return any(marker in output for marker in self.platform.failed_when_contains)

    async def close(self) -> None:
        raise NotImplementedError

    async def _abort(self) -> None:
        """Drop the transport without talking to the device; never raises."""
        raise NotImplementedError

    def _translate(self, exc: BaseException, command: str | None) -> SessionError:
        raise NotImplementedError

    @property
    def where(self) -> str:
        return f"{self.name} ({self.host}:{self.port})"

    def _check_known_hosts(self) -> None:
        if self._known_hosts is not None and not self._known_hosts.is_file():
            raise missing_known_hosts(self.name, self._known_hosts)

    def _check_open(self, command: str) -> None:
        if not self._open:
            raise SessionError(ErrorKind.DISCONNECTED, f"{self.name}: session is not open", command)

    @contextlib.asynccontextmanager
    async def _failing(self, command: str | None) -> AsyncIterator[None]:
        """Any failure inside ends the session and comes out as a `SessionError` in safe words
        (a cancellation stays a cancellation, after the transport is dropped)."""
        try:
            yield
        except BaseException as exc:
            self._open = False
            await self._abort()
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise self._translate(exc, command) from None


def missing_known_hosts(name: str, path: Path) -> SessionError:
    """Strict host keys with no known_hosts file: nothing can be trusted, so nothing is tried."""
    return SessionError(
        ErrorKind.HOST_KEY,
        f"{name}: the known_hosts file {path} does not exist, so no host key can be "
        "trusted (set CCERT_SSH_KNOWN_HOSTS, or CCERT_SSH_STRICT_HOST_KEYS=false if you accept the risk)",
    )


def translate(exc: BaseException, where: str, command: str | None, timeout_seconds: float) -> SessionError | None:
    """`exc` (from asyncssh, the OS or a timeout) in words safe to show, or None when it is
    none of those (the caller knows its own client's exceptions). `where` is
    `name (host:port)`; the exception's own text is never used."""
    doing = f" during '{command}'" if command else ""
    if isinstance(exc, ConnectionRefusedError):
        return SessionError(ErrorKind.UNREACHABLE, f"{where}: connection refused", command)
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return SessionError(
            ErrorKind.HOST_KEY,
            f"{where}: host key not trusted (add it to CCERT_SSH_KNOWN_HOSTS, or set "
            "CCERT_SSH_STRICT_HOST_KEYS=false if you accept the risk)",
            command,
        )
    if isinstance(exc, asyncssh.PermissionDenied | LoginRejected):
        return SessionError(ErrorKind.AUTH_FAILED, f"{where}: authentication failed", command)
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        if command is None:
            return SessionError(
                ErrorKind.TIMEOUT, f"{where}: no answer within {timeout_seconds:g}s while logging in", command
            )
        return SessionError(ErrorKind.TIMEOUT, f"{where}: no answer{doing}", command)
    if isinstance(exc, asyncssh.DisconnectError | asyncssh.ConnectionLost | EOFError | BrokenPipeError):
        return SessionError(ErrorKind.DISCONNECTED, f"{where}: connection lost{doing}", command)
    if isinstance(exc, OSError):
        reason = exc.strerror or type(exc).__name__
        return SessionError(ErrorKind.UNREACHABLE, f"{where}: {reason}", command)
    return None


def unexpected(exc: BaseException, where: str, command: str | None) -> SessionError:
    """The last word on a failure nothing else recognised: its type, never its text."""
    doing = f" during '{command}'" if command else ""
    return SessionError(ErrorKind.DISCONNECTED, f"{where}: unexpected {type(exc).__name__}{doing}", command)
