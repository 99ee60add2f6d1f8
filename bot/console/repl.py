"""Read `/ccert ...` lines, print what the bot would post.

Interactive on a terminal (line editing and history, see `lines`); with
piped stdin it runs each line as a chat message and exits, so
`echo '/ccert status site-a' | ccert-bot demo` and the tests drive the very
same handlers as Slack.

A reply's files (an export's CSV) are moved from their temporary file to the
export folder (`CCERT_EXPORT_DIR`, default the working directory) and their path
printed after the reply; a file that cannot be written there is said, and its
temporary file deleted all the same.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from pathlib import Path
from typing import TextIO

from bot.chat.dispatch import Dispatcher
from bot.chat.reply import Caller, CommandResult, Reply, ReplyFile
from bot.console.lines import open_lines
from bot.console.render import render_text, terminal_safe

PROMPT = "ccert> "
BANNER = "ccert-bot console. Type /ccert help; /as USER to act as someone else (votes); 'quit' to leave."


AS_USER = re.compile(r"^/as\s+([A-Za-z0-9_.-]{1,40})$")


def _free_path(directory: Path, filename: str) -> Path:
    """`directory/filename`, or `name-2.csv`, `name-3.csv`… when that is taken (never overwritten)."""
    target = directory / filename
    stem, suffix = target.stem, target.suffix
    n = 2
    while target.exists():
        target = directory / f"{stem}-{n}{suffix}"
        n += 1
    return target


def save_file(file: ReplyFile, directory: Path) -> str:
    """Move one reply file into `directory`; the line to print (its path, or why not)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        target = _free_path(directory, Path(file.filename).name)
        shutil.move(file.path, target)
    except OSError as error:
        return f"❗ could not write {file.filename} to {directory}: {error.strerror or type(error).__name__}"
    finally:
        file.discard()
    return f"📎 {file.title}: {file.rows:,} rows written to {target.resolve()}"


def save_files(reply: Reply, directory: Path) -> list[str]:
    """Every file of `reply` into `directory`; the lines to print. No temporary file is left."""
    try:
        return [save_file(f, directory) for f in reply.files]
    finally:
        reply.discard_files()


def _write_reply(reply: Reply, out: TextIO, export_dir: Path | None) -> None:
    lines = [render_text(reply)]
    if reply.files:
        lines.append("")
        lines.extend(terminal_safe(line) for line in save_files(reply, export_dir or Path.cwd()))
    out.write("\n".join(lines) + "\n")


async def run_line(
    line: str, dispatcher: Dispatcher, caller: Caller, out: TextIO, export_dir: Path | None = None
) -> Caller:
    """Run one typed line; returns who types the next one (`/as U0BOB` switches, for votes).
    A reply's files go to `export_dir` (default: the working directory)."""
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
    _write_reply(result.ack, out, export_dir)
    out.flush()
    if result.follow_up is not None:
        reply = await result.follow_up()
        out.write("\n")
        _write_reply(reply, out, export_dir)
        out.flush()
    return caller


async def run_console(
    dispatcher: Dispatcher,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    user: str = "console",
    export_dir: Path | None = None,
) -> int:
    """Run typed lines until EOF (Ctrl-D), `quit`, or cancellation (Ctrl-C: asyncio.run cancels us).
    Exports are written to `export_dir` (`CCERT_EXPORT_DIR`; default the working directory).

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
                caller = await run_line(line, dispatcher, caller, out, export_dir)
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
