"""The session that changes controllers: classic scrapli, behind `session_api`'s contract.

scrapli answers a device's questions (`send_interactive`: AireOS `save config`'s
y/n) and escalates privilege the way each platform wants, which a change needs.
Polls, which only read, use the leaner `read_session.ReadSession`. Keeping
scrapli behind this adapter means moving to another client touches this file
only; error messages are built from what failed (`session_api.translate`),
never from exception text that could carry a password.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import asyncssh
from scrapli import AsyncScrapli
from scrapli.exceptions import (
    ScrapliAuthenticationFailed,
    ScrapliConnectionNotOpened,
    ScrapliException,
    ScrapliTimeout,
)

from bot.controllers.platforms import registry
from bot.controllers.session_api import (
    ENCRYPTION_PREFERENCE,
    CommandEnd,
    CommandOutput,
    SessionBase,
    SessionError,
    SessionOptions,
    known_hosts_file,
    translate,
    unexpected,
)
from bot.domain.models import ErrorKind

# Kept importable from here: most callers knew the session contract by this module's name.
__all__ = [
    "ENCRYPTION_PREFERENCE",
    "CommandOutput",
    "ControllerSession",
    "SessionError",
    "SessionOptions",
    "known_hosts_file",
]

log = logging.getLogger(__name__)


class ControllerSession(SessionBase):
    """One SSH session to one controller, opened with `async with`."""

    def _prepare(self) -> None:
        platform, options = self.platform, self.options
        # Logging in is the platform's business (AireOS asks for the user again inside SSH).
        hooks = registry.get(platform.name)
        asyncssh_options: dict[str, Any] = {
            # asyncssh checks `[host]:port` entries properly; scrapli's own check only matches
            # plain host names, so we let asyncssh do it.
            "known_hosts": None if self._known_hosts is None else str(self._known_hosts),
            "encryption_algs": ENCRYPTION_PREFERENCE,
        }
        self._conn = AsyncScrapli(
            host=self.host,
            port=self.port,
            auth_username=self._username,
            auth_password=self._password,
            auth_strict_key=False,
            platform=platform.scrapli_platform,
            transport="asyncssh",
            timeout_socket=options.timeout_seconds,
            timeout_transport=options.timeout_seconds,
            timeout_ops=options.timeout_seconds,
            on_open=hooks.on_open,
            on_close=hooks.on_close,
            failed_when_contains=list(platform.failed_when_contains),
            transport_options={"asyncssh": asyncssh_options},
        )

    async def _connect(self) -> None:
        await self._conn.open()

    async def send(self, command: str, timeout: float | None = None) -> CommandOutput:
        """Send one command from our own command tables (never user text)."""
        self._check_open(command)
        limit = timeout or self.options.timeout_seconds
        started = time.monotonic()
        async with self._failing(command):
            if self.options.typed_ahead:
                text, failed = await asyncio.wait_for(self._typed_ahead(command), timeout=limit)
                return CommandOutput(command, text, failed, time.monotonic() - started)
            response = await asyncio.wait_for(self._conn.send_command(command, timeout_ops=limit), timeout=limit + 5)
        return CommandOutput(command, response.result, response.failed, response.elapsed_time or 0.0)

    async def _typed_ahead(self, command: str) -> tuple[str, bool]:
        """One command, one write, one round trip: (output, failed).

        scrapli writes a command, waits for its echo, then writes the return: two writes and
        two round trips per command. Here the command and its return go in one write, and
        the output is read from its echo on (`CommandEnd` says why that matters).
        """
        channel = self._conn.channel
        settings = channel._base_channel_args
        prompt = channel._get_prompt_pattern(class_pattern=settings.comms_prompt_pattern)
        end = CommandEnd(command, prompt, settings.comms_prompt_search_depth)
        buf = bytearray()
        async with channel._channel_lock():
            channel.write(channel_input=command + settings.comms_return_char)
            while True:
                buf += await channel.read()
                if end(buf):
                    break
        output = channel._process_output(buf=bytes(buf[end.start :]), strip_prompt=True).decode(errors="replace")
        return output, self._refused(output)

    async def send_confirmed(
        self, command: str, prompt: str, answer: str, timeout: float | None = None
    ) -> CommandOutput:
        """A command that asks a question (AireOS `save config`'s y/n)."""
        self._check_open(command)
        limit = timeout or self.options.timeout_seconds
        async with self._failing(command):
            response = await asyncio.wait_for(
                self._conn.send_interactive([(command, prompt), (answer, "")], timeout_ops=limit),
                timeout=limit + 5,
            )
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
        where = self.where
        doing = f" during '{command}'" if command else ""
        if isinstance(exc, ScrapliAuthenticationFailed):
            cause = exc.__cause__
            if isinstance(cause, asyncssh.PermissionDenied):
                return SessionError(ErrorKind.AUTH_FAILED, f"{where}: authentication failed", command)
            if "timed out" in str(exc):
                return SessionError(ErrorKind.TIMEOUT, f"{where}: timed out connecting", command)
            return SessionError(ErrorKind.AUTH_FAILED, f"{where}: login failed", command)
        if isinstance(exc, ScrapliTimeout):
            exc = TimeoutError()
        elif isinstance(exc, ScrapliConnectionNotOpened):
            exc = EOFError()
        found = translate(exc, where, command, self.options.timeout_seconds)
        if found is not None:
            return found
        if isinstance(exc, ScrapliException):
            failure = f"{where}: session failed{doing} ({type(exc).__name__})"
            return SessionError(ErrorKind.DISCONNECTED, failure, command)
        return unexpected(exc, where, command)
