"""Read many controllers at once, each into one ControllerSnapshot.

Bounded concurrency (`CCERT_MAX_CONCURRENCY`) so a 500-controller fleet does
not open 500 sessions at once, and a per-controller deadline so one hung box
cannot hold up a site's answer. A controller that fails is reported with what
was read before the failure; it never takes the others down with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from bot.controllers.parsers import ParseError
from bot.controllers.platforms import PollCommand, registry
from bot.controllers.read_session import ReadSession
from bot.controllers.session_api import CommandOutput, Session, SessionError, SessionOptions
from bot.controllers.static_facts import Identity, StaticFacts, StaticRead
from bot.domain.models import ControllerSnapshot, ErrorKind, SnapshotError
from bot.inventory import Controller, InventoryError

# Polls read through `ReadSession`; tests pass a `ControllerSession` (scrapli) subclass to inject faults.
SessionFactory = Callable[..., Session]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollOptions:
    """`facts` remembers the static reads (see `static_facts.py`); with `routine` a poll
    replays them instead of asking again while the controller is unchanged. Without
    `routine` (a person asking) every command is sent, and `facts` is refreshed."""

    session: SessionOptions
    max_concurrency: int = 50
    facts: StaticFacts | None = None
    routine: bool = False

    @property
    def deadline_seconds(self) -> float:
        """How long one controller may take in all: login plus every command, generously."""
        return self.session.timeout_seconds * 4


class _Remembered(Enum):
    # Remembered for an optional static command the controller refused (`show certificate all`
    # on a release without it): replayed as "nothing to add" rather than asked every check.
    # An Enum member, so it is still itself after a trip to a worker process and back.
    REFUSED = "refused"


REFUSED = _Remembered.REFUSED


@dataclass
class _StaticPlan:
    """One poll's dealings with the remembered static facts."""

    facts: StaticFacts | None
    routine: bool
    name: str
    last: StaticRead | None = None
    identity: Identity | None = None
    identity_read: bool = False
    reason: str | None = "not a routine check"
    fresh: dict[str, Any] = field(default_factory=dict)

    def decide(self, identity: Identity | None, now: datetime) -> None:
        """After the identity command (or without it): replay or read the static commands."""
        self.identity, self.identity_read = identity, True
        if self.facts is not None and self.routine:
            self.reason = self.facts.why_read(self.name, identity, now)
            self.last = self.facts.recall(self.name) if self.reason is None else None
            if self.reason is not None:
                log.debug("%s: reading the static facts again (%s)", self.name, self.reason)

    def replay(self, key: str) -> Any | None:
        """The remembered answer to a static command, when a routine check may use it."""
        if self.last is None or not self.identity_read:
            return None
        return self.last.parsed.get(key)

    def keep(self, snapshot: ControllerSnapshot, complete: bool) -> None:
        """Remember what this poll read, once it read the static commands it was meant to."""
        if self.facts is None or self.identity is None:
            return
        if self.last is not None:
            # the same read, with what the controller said of itself now (and when)
            self.facts.remember(self.name, replace(self.last, identity=self.identity, seen_at=snapshot.taken_at))
        elif complete:
            self.facts.remember(self.name, StaticRead(snapshot.taken_at, self.identity, dict(self.fresh)))


async def poll_controller(
    controller: Controller,
    options: PollOptions,
    environ: Mapping[str, str] | None = None,
    session_factory: SessionFactory = ReadSession,
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
    family = registry.get(controller.platform)
    definition = family.definition
    driver = family.driver()
    session = session_factory(
        name=controller.name,
        host=controller.host,
        port=controller.port,
        platform=definition,
        username=username,
        password=password,
        options=replace(options.session, typed_ahead=True),  # a poll only reads
    )
    context: dict[str, str] = {}
    plan = _StaticPlan(options.facts, options.routine, controller.name)
    static_complete = True
    try:
        async with asyncio.timeout(options.deadline_seconds):
            async with session:
                for item in definition.poll:
                    if not item.applies_to(snapshot.software_version):
                        continue
                    if item.static:
                        remembered = plan.replay(item.key)
                        if remembered is REFUSED:
                            continue  # an optional command this controller refuses: nothing to add
                        if remembered is not None:
                            driver.apply(snapshot, item.key, remembered, context)
                            continue
                    command = item.render(context)
                    if command is None:
                        continue
                    output = await session.send(command)
                    parsed = _parsed(snapshot, definition.name, item, command, output)
                    if item.key == definition.identity:
                        plan.decide(None if parsed is None else driver.identity(item.key, parsed), snapshot.taken_at)
                    if parsed is None:
                        if item.static and output.failed and not item.required:
                            plan.fresh[item.key] = REFUSED
                        elif item.static:
                            static_complete = False  # nothing trustworthy to replay: read it next time
                        continue
                    if item.static:
                        plan.fresh[item.key] = parsed
                    driver.apply(snapshot, item.key, parsed, context)
                plan.keep(snapshot, static_complete)
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


def _parsed(
    snapshot: ControllerSnapshot, platform: str, item: PollCommand, command: str, output: CommandOutput
) -> Any | None:
    """The command's parsed output, or None with the failure noted on the snapshot."""
    if output.failed:
        if item.required:
            snapshot.errors.append(SnapshotError(ErrorKind.COMMAND_FAILED, f"'{command}' was refused", command))
        return None
    try:
        return registry.get(platform).parser(item.key)(output.text)
    except ParseError as exc:
        snapshot.errors.append(SnapshotError(ErrorKind.UNPARSABLE, str(exc), command))
        return None


async def poll_fleet(
    controllers: Iterable[Controller],
    options: PollOptions,
    environ: Mapping[str, str] | None = None,
    on_result: Callable[[ControllerSnapshot], Awaitable[None] | None] | None = None,
    session_factory: SessionFactory = ReadSession,
    limit: asyncio.Semaphore | None = None,
) -> list[ControllerSnapshot]:
    """Poll every controller, at most `max_concurrency` at once; results in input order.

    `limit`, when given, is the bound instead: a semaphore shared with other reads
    (`bot.fleet.reader.FleetReader`), so concurrent polls together stay under it."""
    semaphore = limit if limit is not None else asyncio.Semaphore(options.max_concurrency)

    async def one(controller: Controller) -> ControllerSnapshot:
        async with semaphore:
            snapshot = await poll_controller(controller, options, environ, session_factory)
        if on_result is not None:
            maybe = on_result(snapshot)
            if maybe is not None:
                await maybe
        return snapshot

    return list(await asyncio.gather(*(one(c) for c in controllers)))
