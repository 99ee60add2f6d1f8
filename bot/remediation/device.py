"""One controller, as a remediation run talks to it: an audited, re-openable session.

Every command a run sends goes through `DeviceLink.send` so that it is
audited (redacted) with its output, and so that a change the controller
refuses stops the step instead of being mistaken for success. Reads reuse
the poll commands and parsers of `bot.controllers` (the same data the status
check uses), so a run sees the controller exactly like `/ccert status` does.

A lost session is not handled here: the engine decides whether to reopen
(with backoff) or to undo. `drop()` forgets the session without talking to
the device so that the next `send` opens a fresh one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.controllers.parsers import ParseError
from bot.controllers.platforms import PollCommand, registry
from bot.controllers.session import CommandOutput, ControllerSession, SessionError, SessionOptions
from bot.domain.models import ControllerSnapshot, ErrorKind
from bot.inventory import Controller, InventoryError
from bot.remediation.commands import Command

#: Session failures worth reopening the connection for (the device may just have dropped us).
RETRYABLE_KINDS = frozenset({ErrorKind.DISCONNECTED, ErrorKind.TIMEOUT, ErrorKind.UNREACHABLE})


CommandHook = Callable[[Command, CommandOutput | None, str | None], Awaitable[None]]
SessionFactory = Callable[..., ControllerSession]


class ChangeRefused(Exception):
    """The controller answered a change with an error (or without its success marker)."""

    def __init__(self, command: str, output: str) -> None:
        super().__init__(f"the controller refused '{command}': {output.strip()[:300] or 'no output'}")
        self.command = command
        self.output = output


class ReadFailed(Exception):
    """A read the step depends on failed or could not be parsed."""


@dataclass
class ReadResult:
    """What a group of read commands returned: parsed output by poll key, and a scratch snapshot."""

    snapshot: ControllerSnapshot
    parsed: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def render_read(item: PollCommand, context: Mapping[str, str]) -> str | None:
    """A poll command with `{placeholders}` from earlier reads, or None when a value is missing or odd."""
    return item.render(context)


class DeviceLink:
    """The session a run uses for one controller, opened on demand."""

    def __init__(
        self,
        controller: Controller,
        environ: Mapping[str, str] | None,
        options: SessionOptions,
        on_command: CommandHook | None = None,
        session_factory: SessionFactory = ControllerSession,
    ) -> None:
        self.controller = controller
        self.environ = environ
        self.options = options
        self.on_command = on_command
        self.session_factory = session_factory
        self.platform = controller.platform
        self.family = registry.get(controller.platform)
        self._session: ControllerSession | None = None
        self.opened = 0

    @property
    def is_open(self) -> bool:
        return self._session is not None

    async def open(self) -> None:
        """Open a session unless one is open (credentials are read now, never stored)."""
        if self._session is not None:
            return
        try:
            username, password = self.controller.credentials.resolve(self.environ)
        except InventoryError as exc:
            raise SessionError(ErrorKind.AUTH_FAILED, exc.problems[0].message) from None
        session = self.session_factory(
            name=self.controller.name,
            host=self.controller.host,
            port=self.controller.port,
            platform=self.family.definition,
            username=username,
            password=password,
            options=self.options,
        )
        await session.open()
        self._session = session
        self.opened += 1

    async def drop(self) -> None:
        """Forget the session (closing it quietly); the next send opens a new one."""
        session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(SessionError):
                await session.close()

    async def close(self) -> None:
        await self.drop()

    async def send(self, command: Command) -> CommandOutput:
        """Send one command; audit it; raise ChangeRefused if a change was refused."""
        await self.open()
        assert self._session is not None
        session = self._session
        try:
            if command.confirm is not None:
                prompt, answer = command.confirm
                output = await session.send_confirmed(command.text, prompt, answer, timeout=command.timeout_seconds)
            else:
                output = await session.send(command.text, timeout=command.timeout_seconds)
        except SessionError as exc:
            self._session = None
            if self.on_command is not None:
                await self.on_command(command, None, exc.message)
            raise
        if self.on_command is not None:
            await self.on_command(command, output, None)
        if command.changes and (output.failed or (command.expect is not None and command.expect not in output.text)):
            raise ChangeRefused(command.text, output.text)
        return output

    async def read(self, keys: Sequence[str], version: str | None = None, required: bool = True) -> ReadResult:
        """Run the poll commands `keys` (in order), parse them, fold them into a scratch snapshot.

        A failed or unparsable command whose poll entry is `required` raises
        ReadFailed when `required` is true: a step must not act on a half read.
        """
        by_key = {p.key: p for p in self.family.definition.poll}
        driver = self.family.driver()
        snapshot = ControllerSnapshot(
            name=self.controller.name,
            platform=self.platform,
            host=self.controller.host,
            taken_at=datetime.now(UTC),
            site=self.controller.site,
            software_version=version,
        )
        result = ReadResult(snapshot)
        context: dict[str, str] = {}
        for key in keys:
            item = by_key[key]
            if not item.applies_to(snapshot.software_version):
                continue
            text = render_read(item, context)
            if text is None:
                continue
            output = await self.send(Command(text, changes=False, purpose=f"read {key}"))
            result.raw[key] = output.text
            if output.failed:
                result.errors.append(f"'{text}' was refused")
                if item.required and required:
                    raise ReadFailed(f"{self.controller.name}: '{text}' was refused: {output.text.strip()[:200]}")
                continue
            try:
                parsed = self.family.parser(key)(output.text)
            except ParseError as exc:
                result.errors.append(str(exc))
                if item.required and required:
                    raise ReadFailed(f"{self.controller.name}: {exc}") from None
                continue
            result.parsed[key] = parsed
            driver.apply(snapshot, key, parsed, context)
        driver.finish(snapshot)
        return result
