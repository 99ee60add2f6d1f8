"""The Catalyst 9800 (IOS-XE) CLI of a simulated controller.

Session shape (as on a real 9800 with `login local` and privilege 15): SSH
password authentication, then straight to `name#`; `configure terminal` gives
`name(config)#`, `end`/`exit` go back. Keywords abbreviate (`sh run | i ntp`,
`conf t`, `wr mem`); output pages at ` --More-- ` until `terminal length 0`;
`show ... | include|exclude|begin|section|count <regex>` filters; errors print
the caret line and `% Invalid input detected at '^' marker.`
With a scenario `terminal_width`, `terminal width W` sets the session's
screen width (0: no wrapping); output is wrapped after the pipe filter.
"""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime
from typing import Any

from bot.simulator import render_iosxe as render
from bot.simulator.config import NtpServer, NtpSyntaxError
from bot.simulator.grammar import Failure, Grammar, Word, split_words
from bot.simulator.shell import Shell

PIPE_FILTERS = ("include", "exclude", "begin", "section", "count")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
MIN_YEAR, MAX_YEAR = 1993, 2035


class CommandError(Exception):
    """A command failed IOS-style: at `word` (index into the line's words) or incomplete."""

    def __init__(self, word: int | None) -> None:
        super().__init__(word)
        self.word = word


def parse_clock_set(words: list[str]) -> datetime:
    """`HH:MM:SS D Mon YYYY` or `HH:MM:SS Mon D YYYY` (IOS accepts both).

    Raises CommandError with the index of the first bad word (None: incomplete).
    """
    if not words:
        raise CommandError(None)
    match = re.fullmatch(r"(\d{1,2}):(\d{1,2}):(\d{1,2})", words[0])
    if not match or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3]) > 59:
        raise CommandError(0)
    hour, minute, second = (int(g) for g in match.groups())
    if len(words) < 2:
        raise CommandError(None)
    if words[1].isdigit():
        day_word, month_word = 1, 2
    else:
        month_word, day_word = 1, 2
    if len(words) <= max(day_word, month_word):
        raise CommandError(None)
    if not words[day_word].isdigit() or not 1 <= int(words[day_word]) <= 31:
        raise CommandError(day_word)
    month_text = words[month_word].lower()
    months = [i for i, m in enumerate(MONTHS, start=1) if m.startswith(month_text)]
    if len(month_text) < 3 or not months:
        raise CommandError(month_word)
    if len(words) < 4:
        raise CommandError(None)
    if not words[3].isdigit() or not MIN_YEAR <= int(words[3]) <= MAX_YEAR:
        raise CommandError(3)
    if len(words) > 4:
        raise CommandError(4)
    try:
        return datetime(int(words[3]), months[0], int(words[day_word]), hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise CommandError(day_word) from None


class IOSXEShell(Shell):
    """One IOS-XE CLI session."""

    more_prompt = " --More-- "
    more_erase = "\b" * 10 + " " * 10 + "\b" * 10

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mode = "exec"
        self._pipe: tuple[str, re.Pattern[str]] | None = None
        self._column_offset = 0

    def prompt(self) -> str:
        name = self.controller.name
        return f"{name}(config)#" if self.mode == "config" else f"{name}#"

    # --------------------------------------------------------------- dispatch

    async def execute(self, line: str) -> bool:
        if self.replay(line):
            return True
        grammar = CONFIG if self.mode == "config" else EXEC
        return await self._dispatch(grammar, line)

    async def _dispatch(self, grammar: Grammar, line: str, column_offset: int = 0) -> bool:
        self._column_offset = column_offset
        self._pipe = None
        if grammar is CONFIG:
            # `do <exec command>` runs an exec command from config mode, pipes included.
            head = split_words(line)
            if len(head) > 1 and head[0].text.lower() == "do":
                return await self._dispatch(EXEC, line[head[1].column :], column_offset + head[1].column)
        bar = line.find("|")
        command = line if bar < 0 else line[:bar]
        words = split_words(command)
        result = grammar.match(words)
        if isinstance(result, Failure):
            self._failure(result, words, line)
            return True
        if bar >= 0:
            pipe_words = [Word(w.text, w.column + bar + 1) for w in split_words(line[bar + 1 :])]
            if not result.canonical.startswith("show "):
                self._invalid_at(bar)
                return True
            if not self._parse_pipe(pipe_words):
                return True
        if self.replay(result.canonical):
            return True
        try:
            keep: bool | None = await result.handler(self, **result.args)
        except CommandError as exc:
            self._command_error(exc, words)
            return True
        return keep is not False

    def _parse_pipe(self, words: list[Word]) -> bool:
        if not words:
            self.terminal.write("% Incomplete command.\n\n")
            return False
        kinds = [k for k in PIPE_FILTERS if k.startswith(words[0].text.lower())]
        if len(kinds) != 1:
            self._invalid_at(words[0].column)
            return False
        if len(words) < 2:
            self.terminal.write("% Incomplete command.\n\n")
            return False
        pattern = " ".join(w.text for w in words[1:])
        try:
            regex = re.compile(pattern)
        except re.error:
            regex = re.compile(re.escape(pattern))
        self._pipe = (kinds[0], regex)
        return True

    def _failure(self, failure: Failure, words: list[Word], line: str) -> None:
        if failure.kind == "incomplete":
            self.terminal.write("% Incomplete command.\n\n")
        elif failure.kind == "ambiguous":
            self.terminal.write(f'% Ambiguous command:  "{line.strip()}"\n')
        else:
            self._invalid_at(words[failure.word_index].column)

    def _command_error(self, exc: CommandError, words: list[Word]) -> None:
        if exc.word is None or exc.word >= len(words):
            self.terminal.write("% Incomplete command.\n\n")
        else:
            self._invalid_at(words[exc.word].column)

    def _invalid_at(self, column: int) -> None:
        caret = " " * (len(self.current_prompt) + self._column_offset + column) + "^"
        self.terminal.write(f"{caret}\n% Invalid input detected at '^' marker.\n\n")

    async def out(self, text: str) -> None:
        """Write command output through the pipe filter and the pager."""
        if self._pipe is not None:
            text = apply_pipe(text, *self._pipe)
        if not text:
            return
        await self.page(text + "\n", enabled=self.page_lines > 0)

    # ----------------------------------------------------------------- shows

    async def show_version(self) -> None:
        await self.out(render.show_version(self.controller))

    async def show_install_summary(self) -> None:
        await self.out(render.show_install_summary(self.controller))

    async def show_clock(self) -> None:
        await self.out(render.show_clock(self.controller))

    async def show_clock_detail(self) -> None:
        await self.out(render.show_clock(self.controller, detail=True))

    async def show_ntp_associations(self) -> None:
        await self.out(render.show_ntp_associations(self.controller))

    async def show_ntp_status(self) -> None:
        await self.out(render.show_ntp_status(self.controller))

    async def show_running_config(self) -> None:
        await self.out(render.show_running_config(self.controller))

    async def show_startup_config(self) -> None:
        await self.out(render.show_startup_config(self.controller))

    async def show_ap_summary(self) -> None:
        await self.out(render.show_ap_summary(self.controller))

    async def show_ap_image(self) -> None:
        await self.out(render.show_ap_image(self.controller))

    async def show_trustpoint(self) -> None:
        await self.out(render.show_wireless_management_trustpoint(self.controller))

    async def show_certificates(self, trustpoint: str | None = None) -> None:
        await self.out(render.show_crypto_pki_certificates(self.controller, trustpoint))

    async def show_logging(self) -> None:
        await self.out(render.show_logging(self.controller))

    # ------------------------------------------------------------------- exec

    async def terminal_length(self, lines: str) -> None:
        if not lines.isdigit() or int(lines) > 512:
            raise CommandError(2)
        self.page_lines = int(lines)

    async def terminal_width(self, columns: str) -> None:
        """`terminal width W`: this session's screen width (0: no wrapping).

        Only a controller with a scenario `terminal_width` models a screen
        width at all; without it the command is accepted and changes
        nothing, so that clients which send `terminal width 512` (scrapli)
        or `511` (netmiko) see the same output as before the option existed.
        """
        if not columns.isdigit() or int(columns) > 512:
            raise CommandError(2)
        if self.controller.terminal_width:
            self.width = int(columns)

    async def nothing(self) -> None:
        """Commands accepted without effect (`enable` when already privileged)."""

    async def configure_terminal(self) -> None:
        self.mode = "config"
        self.terminal.write("Enter configuration commands, one per line.  End with CNTL/Z.\n")

    async def clock_set(self, rest: list[str]) -> None:
        try:
            value = parse_clock_set(rest)
        except CommandError as exc:
            raise CommandError(None if exc.word is None else exc.word + 2) from None
        self.controller.set_clock(value, by=self.username, peer=self.peer)

    async def write_memory(self) -> None:
        self.controller.save()
        self.terminal.write("Building configuration...\n[OK]\n")

    async def copy_run_start(self) -> None:
        self.terminal.write("Destination filename [startup-config]? ")
        answer = await self.terminal.read_line()
        if answer is None:
            return
        if answer.strip() and answer.strip() != "startup-config":
            self.terminal.write("%Error opening " + answer.strip() + " (No such file or directory)\n")
            return
        await self.write_memory()

    async def logout(self) -> bool:
        return False

    # ----------------------------------------------------------------- config

    async def end(self) -> None:
        self.mode = "exec"
        self.controller.add_log("SYS-5-CONFIG_I", f"Configured from console by {self.username} on vty0 ({self.peer})")

    async def ntp_server(self, rest: list[str]) -> None:
        self.controller.set_ios_ntp_server(self._parse_server(rest))

    async def no_ntp_server(self, rest: list[str]) -> None:
        self.controller.delete_ios_ntp_server(self._parse_server(rest, offset=3))

    @staticmethod
    def _parse_server(rest: list[str], offset: int = 2) -> NtpServer:
        try:
            return NtpServer.from_ios_words(rest)
        except NtpSyntaxError as exc:
            if exc.word_index >= len(rest):
                raise CommandError(None) from None
            raise CommandError(exc.word_index + offset) from None

    async def ntp_key(self, key: str, rest: list[str]) -> None:
        """`ntp authentication-key N md5 SECRET [7]`; stored type-7 encrypted, as IOS does."""
        if not key.isdigit() or not 1 <= int(key) <= 4294967295:
            raise CommandError(2)
        if len(rest) == 1:
            definition = f"md5 {zlib.crc32(rest[0].encode()):08X}{len(rest[0]):04X} 7"
        elif len(rest) == 2 and rest[1] == "7":
            definition = f"md5 {rest[0]} 7"
        else:
            raise CommandError(5 if len(rest) == 2 else 6)
        self.controller.set_ntp_key(int(key), definition)

    async def no_ntp_key(self, key: str) -> None:
        if not key.isdigit():
            raise CommandError(3)
        self.controller.set_ntp_key(int(key), None)

    async def ntp_authenticate(self) -> None:
        self.controller.set_ntp_authenticate(True)

    async def no_ntp_authenticate(self) -> None:
        self.controller.set_ntp_authenticate(False)

    async def ntp_trusted_key(self, key: str) -> None:
        if not key.isdigit():
            raise CommandError(2)
        self.controller.set_ntp_trusted_key(int(key), True)

    async def no_ntp_trusted_key(self, key: str) -> None:
        if not key.isdigit():
            raise CommandError(3)
        self.controller.set_ntp_trusted_key(int(key), False)


def apply_pipe(text: str, kind: str, regex: re.Pattern[str]) -> str:
    """IOS output modifiers on `text`."""
    lines = text.split("\n")
    if kind == "include":
        kept = [line for line in lines if regex.search(line)]
    elif kind == "exclude":
        kept = [line for line in lines if not regex.search(line)]
    elif kind == "begin":
        start = next((i for i, line in enumerate(lines) if regex.search(line)), len(lines))
        kept = lines[start:]
    elif kind == "section":
        kept = []
        inside = False
        for line in lines:
            if line and not line[0].isspace():
                inside = bool(regex.search(line))
            if inside:
                kept.append(line)
    else:
        return f"Number of lines which match regexp = {sum(1 for line in lines if regex.search(line))}"
    return "\n".join(kept)


EXEC = Grammar(
    [
        ("show version", IOSXEShell.show_version),
        ("show install summary", IOSXEShell.show_install_summary),
        ("show clock", IOSXEShell.show_clock),
        ("show clock detail", IOSXEShell.show_clock_detail),
        ("show ntp associations", IOSXEShell.show_ntp_associations),
        ("show ntp status", IOSXEShell.show_ntp_status),
        ("show running-config", IOSXEShell.show_running_config),
        ("show startup-config", IOSXEShell.show_startup_config),
        ("show ap summary", IOSXEShell.show_ap_summary),
        ("show ap image", IOSXEShell.show_ap_image),
        ("show wireless management trustpoint", IOSXEShell.show_trustpoint),
        ("show crypto pki certificates", IOSXEShell.show_certificates),
        ("show crypto pki certificates <trustpoint>", IOSXEShell.show_certificates),
        ("show logging", IOSXEShell.show_logging),
        ("terminal length <lines>", IOSXEShell.terminal_length),
        ("terminal width <columns>", IOSXEShell.terminal_width),
        ("enable", IOSXEShell.nothing),
        ("configure terminal", IOSXEShell.configure_terminal),
        ("clock set <rest...>", IOSXEShell.clock_set),
        ("write memory", IOSXEShell.write_memory),
        ("write", IOSXEShell.write_memory),
        ("copy running-config startup-config", IOSXEShell.copy_run_start),
        ("exit", IOSXEShell.logout),
        ("logout", IOSXEShell.logout),
        ("quit", IOSXEShell.logout),
    ]
)

CONFIG = Grammar(
    [
        ("ntp server <rest...>", IOSXEShell.ntp_server),
        ("no ntp server <rest...>", IOSXEShell.no_ntp_server),
        ("ntp authentication-key <key> md5 <rest...>", IOSXEShell.ntp_key),
        ("no ntp authentication-key <key>", IOSXEShell.no_ntp_key),
        ("ntp authenticate", IOSXEShell.ntp_authenticate),
        ("no ntp authenticate", IOSXEShell.no_ntp_authenticate),
        ("ntp trusted-key <key>", IOSXEShell.ntp_trusted_key),
        ("no ntp trusted-key <key>", IOSXEShell.no_ntp_trusted_key),
        ("end", IOSXEShell.end),
        ("exit", IOSXEShell.end),
    ]
)
