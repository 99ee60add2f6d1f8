"""The reply model: what a command answers, before any chat renders it.

Handlers return these; `bot/slack/render.py` turns them into Block Kit and
`bot/console/render.py` into text, so Slack and the console twin cannot
drift apart: they share everything but the last step.

A Reply may carry files (`ReplyFile`: an export's CSV, already written to a
temporary file). The front door delivers them and then deletes the temporary
file, whatever happened: Slack uploads each into the thread of the reply's
message (`bot.slack.delivery.Messenger`), the console moves it to
`CCERT_EXPORT_DIR` and prints its path (`bot.console.repl`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Level(StrEnum):
    INFO = "info"
    OK = "ok"
    WARNING = "warning"
    DANGER = "danger"


@dataclass(frozen=True)
class Choice:
    """One entry of a menu button: what it says and the value the click carries."""

    label: str
    value: str


@dataclass(frozen=True)
class Button:
    """A button. `console_command` is what a console user types instead of clicking.

    With `choices` it is a menu (Slack: a static select, `label` its placeholder): the click
    carries the chosen entry's value, and `value` is unused.
    """

    label: str
    action_id: str
    value: str
    console_command: str
    style: str | None = None  # "primary" | "danger" | None
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class Table:
    """Rows of plain text cells; renderers decide how to lay them out and split them.

    `whole` names columns whose cells are never shortened (a command an approver
    must read entirely: `ntp server vrf Mgmt-intf 203.0.113.1 key 1 prefer`); the
    renderer widens them instead of cutting at its usual cell width.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    whole: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    title: str | None = None
    text: str | None = None
    fields: tuple[Field, ...] = ()
    table: Table | None = None
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class ReplyFile:
    """A file a reply attaches: `path` is a temporary file the command wrote (and owns no more:
    the front door that delivers it deletes it); `filename` the name people see, `title` its
    caption, `rows` how many data rows it holds (the header not counted)."""

    filename: str
    title: str
    path: Path
    rows: int

    def discard(self) -> None:
        """Delete the temporary file (nothing when it is gone already: delivered or discarded)."""
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Reply:
    """What a command answers. `files` are shared where the reply is posted, so a reply
    with files is never ephemeral: Slack has no private file in a channel."""

    title: str
    text: str = ""
    level: Level = Level.INFO
    sections: tuple[Section, ...] = ()
    buttons: tuple[Button, ...] = ()
    footer: str | None = None
    ephemeral: bool = False
    files: tuple[ReplyFile, ...] = ()

    def __post_init__(self) -> None:
        if self.files and self.ephemeral:
            raise ValueError("a Reply with files is posted in the channel: it cannot be ephemeral")

    def discard_files(self) -> None:
        """Delete every temporary file the reply carries (after delivery, or when it fails)."""
        for f in self.files:
            f.discard()


@dataclass(frozen=True)
class CommandResult:
    """What a dispatched command gives back at once, and what it will give later.

    `ack` must be ready within Slack's 3-second window, so it never waits on a
    device; `follow_up`, when present, is awaited after the ack was sent and
    its Reply is posted (in the channel, or ephemerally when the Reply says so).
    """

    ack: Reply
    follow_up: Callable[[], Awaitable[Reply]] | None = None


@dataclass(frozen=True)
class Caller:
    """Who typed the command, as the chat knows them."""

    user_id: str
    channel_id: str | None = None
    user_name: str | None = None
    groups: tuple[str, ...] = field(default_factory=tuple)
