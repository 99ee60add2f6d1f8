"""Read many controllers at once, each into one ControllerSnapshot.

Bounded concurrency (`CCERT_MAX_CONCURRENCY`) so a 500-controller fleet does
not open 500 sessions at once, and a per-controller deadline so one hung box
cannot hold up a site's answer. A controller that fails is reported with what
was read before the failure; it never takes the others down with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.controllers.drivers import driver_for
from bot.controllers.parsers import PARSERS, ParseError
from bot.controllers.platforms import platform_definition
from bot.controllers.session import ControllerSession, SessionError, SessionOptions
from bot.domain.models import ControllerSnapshot, ErrorKind, SnapshotError
from bot.inventory import Controller, InventoryError

SessionFactory = Callable[..., ControllerSession]


@dataclass(frozen=True)
class PollOptions:
    session: SessionOptions
    max_concurrency: int = 50

    @property
    def deadline_seconds(self) -> float:
        """How long one controller may take in all: login plus every command, generously."""
        return self.session.timeout_seconds * 4


async def poll_controller(
    controller: Controller,
    options: PollOptions,
    environ: Mapping[str, str] | None = None,
    session_factory: SessionFactory = ControllerSession,
) -> ControllerSnapshot:
    snapshot = ControllerSnapshot(
        name=controller.name,
        platform=controller.platform,
        host=controller.host,
        taken_at=datetime.now(UTC),
        site=controller.site,
    )
    try:
        username, password = controller.credentials.resolve(environ)
    except InventoryError as exc:
        snapshot.errors.append(SnapshotError(ErrorKind.AUTH_FAILED, exc.problems[0].message))
        return snapshot
    definition = platform_definition(controller.platform)
    driver = driver_for(controller.platform)
    session = session_factory(
        name=controller.name,
        host=controller.host,
        port=controller.port,
        platform=definition,
        username=username,
        password=password,
        options=options.session,
    )
    context: dict[str, str] = {}
    try:
        async with asyncio.timeout(options.deadline_seconds):
            async with session:
                for item in definition.poll:
                    if not item.applies_to(snapshot.software_version):
                        continue
                    command = item.render(context)
                    if command is None:
                        continue
                    output = await session.send(command)
                    if output.failed:
                        if item.required:
                            snapshot.errors.append(
                                SnapshotError(ErrorKind.COMMAND_FAILED, f"'{command}' was refused", command)
                            )
                        continue
                    try:
                        parsed = PARSERS[(definition.name, item.key)](output.text)
                    except ParseError as exc:
                        snapshot.errors.append(SnapshotError(ErrorKind.UNPARSABLE, str(exc), command))
                        continue
                    driver.apply(snapshot, item.key, parsed, context)
    except SessionError as exc:
        snapshot.errors.append(SnapshotError(exc.kind, exc.message, exc.command))
    except TimeoutError:
        snapshot.errors.append(
            SnapshotError(
                ErrorKind.TIMEOUT,
                f"{controller.name} ({controller.host}:{controller.port}): did not finish within "
                f"{options.deadline_seconds:g}s",
            )
        )
    driver.finish(snapshot)
    return snapshot


async def poll_fleet(
    controllers: Iterable[Controller],
    options: PollOptions,
    environ: Mapping[str, str] | None = None,
    on_result: Callable[[ControllerSnapshot], Awaitable[None] | None] | None = None,
    session_factory: SessionFactory = ControllerSession,
) -> list[ControllerSnapshot]:
    """Poll every controller, at most `max_concurrency` at once; results in input order."""
    semaphore = asyncio.Semaphore(options.max_concurrency)

    async def one(controller: Controller) -> ControllerSnapshot:
        async with semaphore:
            snapshot = await poll_controller(controller, options, environ, session_factory)
        if on_result is not None:
            maybe = on_result(snapshot)
            if maybe is not None:
                await maybe
        return snapshot

    return list(await asyncio.gather(*(one(c) for c in controllers)))

