"""The one place that knows how we talk SSH to a controller (classic scrapli).

Keeping scrapli behind this adapter means moving to another client (scrapli
v2, or anything else) touches this file only. Everything above it sees
`ControllerSession.send(command)` and `SessionError(kind, message)`: error
messages are built here from what failed, never from exception text that
could carry a password.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh
from scrapli import AsyncScrapli
from scrapli.driver import AsyncNetworkDriver
from scrapli.exceptions import (
    ScrapliAuthenticationFailed,
    ScrapliConnectionNotOpened,
    ScrapliException,
    ScrapliTimeout,
)

from bot.controllers.platforms import PlatformDefinition
from bot.domain.models import ErrorKind

log = logging.getLogger(__name__)


def _last_lines(buf: bytearray, start: int, depth: int) -> bytes:
    """Where a prompt is looked for in `buf[start:]`: its last `depth` bytes, from the first line
    that starts in them (scrapli's rule: a cut line could look like a prompt), or that cut
    line itself when nothing follows it (scrapli does the same). Copies only the tail, so a
    megabyte AP table read in chunks is not copied once per chunk."""
    tail = bytes(buf[max(start, len(buf) - depth) :])
    if len(buf) - start <= depth:
        return tail
    before, _, rest = tail.partition(b"\n")
    return rest or before


def known_hosts_file(configured: Path | None) -> Path:
    """The known_hosts file sessions check host keys against: CCERT_SSH_KNOWN_HOSTS, else OpenSSH's own."""
    return configured or Path("~/.ssh/known_hosts").expanduser()


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


class _LoginRejected(Exception):
    """AireOS asked for `User:` again after the password: the login was refused."""


class SessionError(Exception):
    """A failure talking to a controller, already in words safe to show a user."""

    def __init__(self, kind: ErrorKind, message: str, command: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.command = command


@dataclass(frozen=True)
class SessionOptions:
    """`typed_ahead`: send each command with its return in one write and read the echo
    and the output in one go (see `ControllerSession._typed_ahead`). Polls use it: their
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


async def _aireos_on_open(conn: AsyncNetworkDriver) -> None:
    """AireOS asks for User:/Password: again inside the SSH session.

    scrapli-community's version sleeps with `time.sleep`, blocking the whole
    event loop (103 s instead of 4 s for 200 controllers): here we read until
    each prompt instead, so hundreds of logins interleave.
    """
    # scrapli treats a pattern as a regex only when it is anchored with ^ and $.
    user_prompt = r"^\s*user(name)?:\s*$"
    password_prompt = r"^\s*password:\s*$"
    exec_prompt = r"^\([\w. -]{1,31}\) >\s*$"
    buffer = await conn.channel._read_until_explicit_prompt([user_prompt, exec_prompt])
    if re.search(user_prompt, buffer.decode(errors="replace"), re.M | re.I):
        conn.channel.write(conn.auth_username)
        conn.channel.send_return()
        await conn.channel._read_until_explicit_prompt([password_prompt])
        conn.channel.write(conn.auth_password, redacted=True)
        conn.channel.send_return()
        after = await conn.channel._read_until_explicit_prompt([user_prompt, exec_prompt])
        if re.search(user_prompt, after.decode(errors="replace"), re.M | re.I):
            raise _LoginRejected
    await conn.acquire_priv(desired_priv=conn.default_desired_privilege_level)


async def _aireos_on_close(conn: AsyncNetworkDriver) -> None:
    conn.channel.write(channel_input="logout")
    conn.channel.send_return()


async def _iosxe_on_open(conn: AsyncNetworkDriver) -> None:
    await conn.acquire_priv(desired_priv=conn.default_desired_privilege_level)


async def _iosxe_on_close(conn: AsyncNetworkDriver) -> None:
    conn.channel.write(channel_input="exit")
    conn.channel.send_return()


_HOOKS = {
    "aireos": (_aireos_on_open, _aireos_on_close),
    "iosxe": (_iosxe_on_open, _iosxe_on_close),
}


class ControllerSession:
    """One SSH session to one controller, opened with `async with`."""

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
        on_open, on_close = _HOOKS[platform.name]
        asyncssh_options: dict[str, Any] = {"known_hosts": None, "encryption_algs": ENCRYPTION_PREFERENCE}
        self._known_hosts: Path | None = None
        if options.strict_host_keys:
            # asyncssh checks `[host]:port` entries properly; scrapli's own check
            # only matches plain host names, so we let asyncssh do it.
            self._known_hosts = known_hosts_file(options.known_hosts)
            asyncssh_options["known_hosts"] = str(self._known_hosts)
        self._conn = AsyncScrapli(
            host=host,
            port=port,
            auth_username=username,
            auth_password=password,
            auth_strict_key=False,
            platform=platform.scrapli_platform,
            transport="asyncssh",
            timeout_socket=options.timeout_seconds,
            timeout_transport=options.timeout_seconds,
            timeout_ops=options.timeout_seconds,
            on_open=on_open,
            on_close=on_close,
            failed_when_contains=list(platform.failed_when_contains),
            transport_options={"asyncssh": asyncssh_options},
        )
        self._open = False

    async def __aenter__(self) -> ControllerSession:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        if self._known_hosts is not None and not self._known_hosts.is_file():
            raise SessionError(
                ErrorKind.HOST_KEY,
                f"{self.name}: the known_hosts file {self._known_hosts} does not exist, so no host key can be "
                "trusted (set CCERT_SSH_KNOWN_HOSTS, or CCERT_SSH_STRICT_HOST_KEYS=false if you accept the risk)",
            )
        try:
            await asyncio.wait_for(self._conn.open(), timeout=self.options.timeout_seconds * 2)
        except BaseException as exc:
            await self._abort()
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise self._translate(exc, None) from None
        self._open = True
        for command in self.platform.session_setup:
            await self.send(command)

    async def send(self, command: str, timeout: float | None = None) -> CommandOutput:
        """Send one command from our own command tables (never user text)."""
        if not self._open:
            raise SessionError(ErrorKind.DISCONNECTED, f"{self.name}: session is not open", command)
        limit = timeout or self.options.timeout_seconds
        started = time.monotonic()
        try:
            if self.options.typed_ahead:
                text, failed = await asyncio.wait_for(self._typed_ahead(command), timeout=limit)
                return CommandOutput(command, text, failed, time.monotonic() - started)
            response = await asyncio.wait_for(self._conn.send_command(command, timeout_ops=limit), timeout=limit + 5)
        except BaseException as exc:
            self._open = False
            await self._abort()
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise self._translate(exc, command) from None
        return CommandOutput(command, response.result, response.failed, response.elapsed_time or 0.0)

    async def _typed_ahead(self, command: str) -> tuple[str, bool]:
        """One command, one write, one round trip: (output, failed).

        scrapli writes a command, waits for its echo, then writes the return: two writes and
        two round trips per command, most of a poll's wall time once the parsing was fast.
        Here the command and its return go in one write, and the echo is still what the
        output is read from: everything before the echoed command is dropped, because a
        stale prompt left there (a login prompt printed twice) would otherwise end the read
        at once and put every later output on the wrong command (scrapli's own
        `eager_input` does exactly that under load). The prompt is then looked for, as
        scrapli does, in the last lines after the echo.
        """
        channel = self._conn.channel
        settings = channel._base_channel_args
        prompt = channel._get_prompt_pattern(class_pattern=settings.comms_prompt_pattern)
        echo = command.encode()
        squished = b"".join(echo.lower().split())
        buf = bytearray()
        start = -1
        async with channel._channel_lock():
            channel.write(channel_input=command + settings.comms_return_char)
            while True:
                buf += await channel.read()
                if start < 0:
                    at = buf.find(echo)
                    if at >= 0:
                        start = at + len(echo)
                    elif squished in b"".join(bytes(buf).lower().split()):
                        start = 0  # echoed with extra blanks: read from the top, as scrapli's eager mode
                    else:
                        continue
                if prompt.search(_last_lines(buf, start, settings.comms_prompt_search_depth)):
                    break
        output = channel._process_output(buf=bytes(buf[start:]), strip_prompt=True).decode(errors="replace")
        return output, any(marker in output for marker in self.platform.failed_when_contains)

    async def send_confirmed(
        self, command: str, prompt: str, answer: str, timeout: float | None = None
    ) -> CommandOutput:
        """A command that asks a question (AireOS `save config`'s y/n)."""
        if not self._open:
            raise SessionError(ErrorKind.DISCONNECTED, f"{self.name}: session is not open", command)
        limit = timeout or self.options.timeout_seconds
        try:
            response = await asyncio.wait_for(
                self._conn.send_interactive([(command, prompt), (answer, "")], timeout_ops=limit),
                timeout=limit + 5,
            )
        except BaseException as exc:
            self._open = False
            await self._abort()
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise self._translate(exc, command) from None
        return CommandOutput(command, response.result, response.failed, response.elapsed_time or 0.0)

    async def close(self) -> None:
        if self._open:
            self._open = False
            try:
                await asyncio.wait_for(self._conn.close(), timeout=5)
            except BaseException as exc:
                if isinstance(exc, asyncio.CancelledError):
                    await self._abort()
                    raise
                log.debug("%s: close failed (%s); dropping the transport", self.name, type(exc).__name__)
        await self._abort()

    async def _abort(self) -> None:
        """Drop the transport without talking to the device; never raises."""
        transport = getattr(self._conn, "transport", None)
        session = getattr(transport, "session", None)
        if session is not None:
            try:
                session.close()
                await asyncio.wait_for(session.wait_closed(), timeout=2)
            except Exception:  # already gone is fine
                pass

    def _translate(self, exc: BaseException, command: str | None) -> SessionError:
        where = f"{self.name} ({self.host}:{self.port})"
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
        if isinstance(exc, asyncssh.PermissionDenied | _LoginRejected):
            return SessionError(ErrorKind.AUTH_FAILED, f"{where}: authentication failed", command)
        if isinstance(exc, ScrapliAuthenticationFailed):
            cause = exc.__cause__
            if isinstance(cause, asyncssh.PermissionDenied):
                return SessionError(ErrorKind.AUTH_FAILED, f"{where}: authentication failed", command)
            if "timed out" in str(exc):
                return SessionError(ErrorKind.TIMEOUT, f"{where}: timed out connecting", command)
            return SessionError(ErrorKind.AUTH_FAILED, f"{where}: login failed", command)
        if isinstance(exc, TimeoutError | asyncio.TimeoutError | ScrapliTimeout):
            if command is None:
                return SessionError(
                    ErrorKind.TIMEOUT,
                    f"{where}: no answer within {self.options.timeout_seconds:g}s while logging in",
                    command,
                )
            return SessionError(ErrorKind.TIMEOUT, f"{where}: no answer{doing}", command)
        if isinstance(exc, asyncssh.DisconnectError | ScrapliConnectionNotOpened | EOFError | BrokenPipeError):
            return SessionError(ErrorKind.DISCONNECTED, f"{where}: connection lost{doing}", command)
        if isinstance(exc, OSError):
            reason = exc.strerror or type(exc).__name__
            return SessionError(ErrorKind.UNREACHABLE, f"{where}: {reason}", command)
        if isinstance(exc, ScrapliException):
            failure = f"{where}: session failed{doing} ({type(exc).__name__})"
            return SessionError(ErrorKind.DISCONNECTED, failure, command)
        return SessionError(ErrorKind.DISCONNECTED, f"{where}: unexpected {type(exc).__name__}{doing}", command)
