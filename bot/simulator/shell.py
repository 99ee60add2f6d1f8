"""What every simulated CLI session shares: the read-execute loop, faults that
act per command, replayed captures and the pager.

A platform shell (`aireos.AireOSShell`, `iosxe.IOSXEShell`) adds the login,
prompts, command table and error messages of its platform.

A narrow terminal (scenario `terminal_width`) is applied here, in `page`,
which all command output goes through: each output line longer than the
session's `width` is hard-wrapped with `wrapping.wrap_line` before paging,
so the pager counts the lines as the screen shows them. The echo, prompts,
questions, error messages and replayed captures are not wrapped (they are
short, or must stay byte-exact).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.simulator.model import Controller
from bot.simulator.terminal import Terminal
from bot.simulator.wrapping import wrap


class Shell:
    """One CLI session on one controller."""

    #: Text of the pager prompt and what erases it afterwards (per platform).
    more_prompt = "--More-- or (q)uit"
    more_erase = "\n"

    def __init__(
        self,
        controller: Controller,
        terminal: Terminal,
        *,
        username: str,
        peer: str,
        close: Callable[[], None],
        abort: Callable[[], None],
    ) -> None:
        self.controller = controller
        self.terminal = terminal
        self.username = username
        self.peer = peer
        self._close = close
        self._abort = abort
        self.commands_seen = 0
        self.page_lines = controller.page_lines
        # Columns output lines are wrapped at in this session (0: never).
        self.width = controller.terminal_width
        self.current_prompt = ""

    # ------------------------------------------------------------ platform API

    async def login(self) -> bool:
        """In-session login; True when the session may go on."""
        return True

    def prompt(self) -> str:
        raise NotImplementedError

    async def execute(self, line: str) -> bool:
        """Run one non-empty command line; False ends the session."""
        raise NotImplementedError

    # ------------------------------------------------------------------- loop

    async def run(self) -> None:
        """Login, then prompt / read / execute until logout or disconnect."""
        if not await self.login():
            self.terminal.flush()
            self._close()
            return
        while True:
            self.current_prompt = self.prompt()
            self.terminal.write(self.current_prompt)
            line = await self.terminal.read_line()
            if line is None:
                return
            if not line.strip():
                continue
            if not await self._run_command(line):
                return

    async def _run_command(self, line: str) -> bool:
        faults = self.controller.faults
        self.controller.command_log.record(self.username, self.peer, line)
        self.commands_seen += 1
        limit = faults.drop_after_commands
        if limit is not None and self.commands_seen > limit:
            self.terminal.flush()
            self._abort()
            return False
        if faults.command_delay_ms > 0:
            await asyncio.sleep(faults.command_delay_ms / 1000)
        keep = await self.execute(line)
        if not keep:
            self.terminal.flush()
            self._close()
        return keep

    # ---------------------------------------------------------------- helpers

    def replay(self, *commands: str) -> bool:
        """Print the scenario's capture for this command verbatim, if it has one."""
        path = self.controller.replay_file(*commands)
        if path is None:
            return False
        data = path.read_bytes()
        self.terminal.write_raw(data)
        if not data.endswith(b"\n"):
            self.terminal.write_raw(b"\r\n")
        return True

    async def page(self, text: str, *, enabled: bool) -> None:
        """Write `text`, pausing every page at the `--More--` prompt when enabled.

        A space (or any key but Enter) shows the next page, Enter one more
        line, `q` drops the rest of the output. Lines wider than the
        session's `width` are wrapped first.
        """
        text = wrap(text, self.width)
        lines = text.split("\n")
        size = self.page_lines
        if not enabled or size <= 1 or len(lines) <= size:
            self.terminal.write(text)
            return
        shown = 0
        step = size - 1
        while shown < len(lines):
            chunk = lines[shown : shown + step]
            shown += len(chunk)
            last = shown >= len(lines)
            self.terminal.write("\n".join(chunk) + ("" if last else "\n"))
            if last:
                return
            self.terminal.write(self.more_prompt)
            key = await self.terminal.read_key()
            self.terminal.write(self.more_erase)
            if key is None or key.lower() == "q":
                self.terminal.write("\n")
                return
            step = 1 if key == "\n" else size - 1
