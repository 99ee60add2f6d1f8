"""The console twin's `Notifier`: what Slack would show, printed as text.

Beside the console's renderer because it is the terminal's front door for messages
the bot sends unasked (alerts, the digest, request progress); the chat layer owns
only the `Notifier` interface it implements.
"""

from __future__ import annotations

import itertools
import sys
from datetime import datetime
from typing import TextIO

from bot.chat.notifier import MessageMetadata, Posted
from bot.chat.reply import Reply
from bot.console.render import render_text


class ConsoleNotifier:
    """Prints what Slack would show, with made-up message ids so threads still make sense."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self._ids = itertools.count(1)

    async def post(
        self, channel: str, reply: Reply, thread_ts: str | None = None, *, metadata: MessageMetadata | None = None
    ) -> Posted:
        ts = f"{next(self._ids)}.000000"
        where = f"[{channel} thread {thread_ts}]" if thread_ts else f"[{channel} #{ts}]"
        self.out.write(f"\n{where}\n{render_text(reply)}\n")
        self.out.flush()
        return Posted(channel, ts)

    async def update(self, posted: Posted, reply: Reply, *, metadata: MessageMetadata | None = None) -> None:
        """A terminal has no message metadata: `metadata` is ignored, as it is by `post`."""
        self.out.write(f"\n[{posted.channel} #{posted.ts} updated]\n{render_text(reply)}\n")
        self.out.flush()

    async def find(
        self, channel: str, metadata: MessageMetadata, *, since: datetime, thread_ts: str | None = None
    ) -> Posted | None:
        """A terminal keeps no messages to search: what was printed stays printed."""
        return None
