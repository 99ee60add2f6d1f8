"""Read `/ccert ...` lines, print what the bot would post.

Interactive on a terminal (line editing and history, see `lines`); with
piped stdin it runs each line as a chat message and exits, so
`echo '/ccert status site-a' | ccert-bot demo` and the tests drive the very
same handlers as Slack.
"""

from __future__ import annotations

import asyncio
import re
import sys
from typing import TextIO

from bot.chat.dispatch import Dispatcher
from bot.chat.reply import Caller, CommandResult
from bot.console.lines import open_lines
from bot.console.render import render_text

PROMPT = "ccert> "
BANNER = "ccert-bot console. Type /ccert help; /as USER to act as someone else (votes); 'quit' to leave."


AS_USER = re.compile(r"^/as\s+([A-Za-z0-9_.-]{1,40})$")


async def run_line(line: str, dispatcher: Dispatcher, caller: Caller, out: TextIO) -> Caller:
    """Run one typed line; returns who types the next one (`/as U0BOB` switches, for votes)."""
    text = line.strip()
    if not text or text.startswith("#"):
        return caller
    switch = AS_USER.match(text)
    if switch:
        out.write(f"(now acting as {switch.group(1)})\n")
        return Caller(user_id=switch.group(1), channel_id=caller.channel_id, user_name=switch.group(1))
    if text.startswith("/ccert"):
        text = text[len("/ccert") :]
    result: CommandResult = await dispatcher.dispatch(text, caller)
    out.write(render_text(result.ack) + "\n")
    out.flush()
    if result.follow_up is not None:
        reply = await result.follow_up()
        out.write("\n" + render_text(reply) + "\n")
        out.flush()
    return caller


async def run_console(
    dispatcher: Dispatcher,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    user: str = "console",
) -> int:
    """Run typed lines until EOF (Ctrl-D), `quit`, or cancellation (Ctrl-C: asyncio.run cancels us).

    Cancellation is let through, so the callers' `finally` blocks shut the
    jobs and the store down as on any other exit; on a terminal a newline is
    written first, so the shell's prompt starts on its own line.
    """
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    caller = Caller(user_id=user, channel_id="console", user_name=user)
    interactive = stdin.isatty()
    if interactive:
        out.write(BANNER + "\n")
    try:
        with open_lines(stdin, out, PROMPT if interactive else None) as lines:
            while (line := await lines.read()) is not None:
                if line.strip() in {"quit", "exit"}:
                    return 0
                caller = await run_line(line, dispatcher, caller, out)
                if interactive:
                    out.write("\n")
    except asyncio.CancelledError:
        if interactive:
            out.write("\n")
            out.flush()
        raise
    if interactive:  # Ctrl-D leaves the cursor after the prompt
        out.write("\n")
        out.flush()
    return 0
