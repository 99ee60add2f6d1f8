"""The AireOS CLI of a simulated controller.

Session shape (as on a real WLC): after SSH authentication, which is either
none or a password (scenario `ssh_auth`), the controller asks again inside the
session for `User:` and `Password:`; then the `(<name>) >` prompt; `config`
enters `(<name>) config>` where the `config` prefix is implied; output pages
at `--More-- or (q)uit` until `config paging disable`; `save config` and
`logout` ask their questions; anything unknown prints
`Incorrect usage. Use the '?' or <TAB> key to list commands.`
A wrong user or password at the login prints `User: ` again; the third
failure closes the connection. There is no command to change the terminal
width, so a scenario `terminal_width` wraps every session's output for good
(the wrapping itself is in `shell.Shell.page`).
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

from bot.simulator import render_aireos as render
from bot.simulator.grammar import Failure, Grammar, split_words
from bot.simulator.model import version_tuple
from bot.simulator.shell import Shell

INCORRECT_USAGE = "Incorrect usage. Use the '?' or <TAB> key to list commands."
MAX_LOGIN_ATTEMPTS = 3
MAX_NTP_INDEX = 3
MAX_NTP_KEY = 65535


class AireOSShell(Shell):
    """One AireOS CLI session."""

    more_prompt = "--More-- or (q)uit"
    more_erase = "\n"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mode = "exec"
        self.paging = True

    # ------------------------------------------------------------------ login

    async def login(self) -> bool:
        c = self.controller
        self.terminal.write(f"\n({c.name})\n")
        for _ in range(MAX_LOGIN_ATTEMPTS):
            self.terminal.write("User: ")
            user = await self.terminal.read_line()
            if user is None:
                return False
            self.terminal.write("Password:")
            password = await self.terminal.read_line(echo=False)
            if password is None:
                return False
            if c.accepts(user.strip(), password):
                self.username = user.strip()
                return True
        return False

    def prompt(self) -> str:
        name = self.controller.name
        return f"({name}) config>" if self.mode == "config" else f"({name}) >"

    # --------------------------------------------------------------- dispatch

    async def execute(self, line: str) -> bool:
        if self.replay(line):
            return True
        words = split_words(line)
        result = EXEC.match(words)
        if isinstance(result, Failure) and self.mode == "config":
            result = EXEC.match(split_words("config " + line))
        if isinstance(result, Failure):
            self.terminal.write(f"\n{INCORRECT_USAGE}\n\n")
            return True
        if self.replay(result.canonical):
            return True
        keep: bool | None = await result.handler(self, **result.args)
        return keep is not False

    async def out(self, text: str) -> None:
        """Write command output: AireOS leaves a blank line before the prompt."""
        await self.page(text + "\n\n", enabled=self.paging)

    def incorrect_input(self, detail: str) -> None:
        self.terminal.write(f"\nIncorrect input! {detail}\n\n")

    # ----------------------------------------------------------------- shows

    async def show_sysinfo(self) -> None:
        await self.out(render.show_sysinfo(self.controller))

    async def show_time(self) -> None:
        await self.out(render.show_time(self.controller))

    async def show_ap_summary(self) -> None:
        await self.out(render.show_ap_summary(self.controller))

    async def show_ap_image_status(self) -> None:
        if version_tuple(self.controller.version) < (8, 10):
            self.terminal.write(f"\n{INCORRECT_USAGE}\n\n")
            return
        await self.out(render.show_ap_image_status(self.controller))

    async def show_ap_image_all(self) -> None:
        await self.out(render.show_ap_image_all(self.controller))

    async def show_ap_config_general(self, ap: str) -> None:
        found = self.controller.aps.get(ap)
        if found is None:
            self.terminal.write(f"\nCisco AP {ap} is not found.\n\n")
            return
        await self.out(render.show_ap_config_general(self.controller, found))

    async def show_certificate_summary(self) -> None:
        await self.out(render.show_certificate_summary(self.controller))

    async def show_certificate_all(self) -> None:
        await self.out(render.show_certificate_all(self.controller))

    async def show_logging(self) -> None:
        await self.out(render.show_logging(self.controller))

    # ---------------------------------------------------------------- config

    async def paging_enable(self) -> None:
        self.paging = True
        self.terminal.write("\n")

    async def paging_disable(self) -> None:
        self.paging = False
        self.terminal.write("\n")

    async def ntp_delete(self, index: str) -> None:
        if not index.isdigit() or not 1 <= int(index) <= MAX_NTP_INDEX:
            self.incorrect_input(f"NTP server index must be between 1 and {MAX_NTP_INDEX}.")
            return
        if not self.controller.delete_aireos_ntp_server(int(index)):
            self.incorrect_input(f"No NTP server is configured at index {index}.")
            return
        self.terminal.write("\n")

    async def ntp_server(self, index: str, address: str) -> None:
        if not index.isdigit() or not 1 <= int(index) <= MAX_NTP_INDEX:
            self.incorrect_input(f"NTP server index must be between 1 and {MAX_NTP_INDEX}.")
            return
        try:
            ipaddress.ip_address(address)
        except ValueError:
            self.incorrect_input("Invalid NTP server IP address.")
            return
        self.controller.set_aireos_ntp_server(int(index), address)
        self.terminal.write("\n")

    async def ntp_key_add(self, key: str, algorithm: str, key_format: str, value: str) -> None:
        if (
            not key.isdigit()
            or not 1 <= int(key) <= MAX_NTP_KEY
            or algorithm.lower() != "md5"
            or key_format.lower() not in ("ascii", "hex")
        ):
            self.terminal.write(f"\n{INCORRECT_USAGE}\n\n")
            return
        self.controller.set_ntp_key(int(key), f"md5 {key_format.lower()} {value}")
        self.terminal.write("\n")

    async def ntp_key_delete(self, key: str) -> None:
        if not key.isdigit() or int(key) not in self.controller.running.ntp_keys:
            self.incorrect_input(f"NTP key {key} is not configured.")
            return
        self.controller.set_ntp_key(int(key), None)
        self.terminal.write("\n")

    async def ntp_auth_enable(self, index: str, key: str) -> None:
        if not (index.isdigit() and key.isdigit()) or int(key) not in self.controller.running.ntp_keys:
            self.incorrect_input(f"NTP key {key} is not configured.")
            return
        if not self.controller.bind_aireos_ntp_key(int(index), int(key)):
            self.incorrect_input(f"No NTP server is configured at index {index}.")
            return
        self.terminal.write("\n")

    async def ntp_auth_disable(self, index: str) -> None:
        if not index.isdigit() or not self.controller.bind_aireos_ntp_key(int(index), None):
            self.incorrect_input(f"No NTP server is configured at index {index}.")
            return
        self.terminal.write("\n")

    async def time_manual(self, date: str, time: str) -> None:
        """`config time manual MM/DD/YY HH:MM:SS`."""
        try:
            value = datetime.strptime(f"{date} {time}", "%m/%d/%y %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            self.incorrect_input("Use MM/DD/YY HH:MM:SS.")
            return
        self.controller.set_clock(value, by=self.username, peer=self.peer)
        self.terminal.write("\n")

    async def enter_config(self) -> None:
        self.mode = "config"

    async def exit(self) -> bool:
        if self.mode == "config":
            self.mode = "exec"
            return True
        return await self.logout()

    async def end(self) -> None:
        if self.mode != "config":
            self.terminal.write(f"\n{INCORRECT_USAGE}\n\n")
        self.mode = "exec"

    async def save_config(self) -> None:
        self.terminal.write("\n\nAre you sure you want to save? (y/n) ")
        answer = await self.terminal.read_line()
        if answer is not None and answer.strip().lower().startswith("y"):
            self.controller.save()
            self.terminal.write("\n\nConfiguration Saved!\n\n")
        else:
            self.terminal.write("\n\nConfiguration not saved!\n\n")

    async def logout(self) -> bool:
        if self.controller.unsaved_changes:
            self.terminal.write("\nThe system has unsaved changes. Would you like to save them now? (y/N) ")
            answer = await self.terminal.read_line()
            if answer is not None and answer.strip().lower().startswith("y"):
                self.controller.save()
                self.terminal.write("\nConfiguration Saved!\n")
        return False


EXEC = Grammar(
    [
        ("show sysinfo", AireOSShell.show_sysinfo),
        ("show time", AireOSShell.show_time),
        ("show ap summary", AireOSShell.show_ap_summary),
        ("show ap image status", AireOSShell.show_ap_image_status),
        ("show ap image all", AireOSShell.show_ap_image_all),
        ("show ap config general <ap>", AireOSShell.show_ap_config_general),
        ("show certificate summary", AireOSShell.show_certificate_summary),
        ("show certificate all", AireOSShell.show_certificate_all),
        ("show logging", AireOSShell.show_logging),
        ("show msglog", AireOSShell.show_logging),
        ("config paging enable", AireOSShell.paging_enable),
        ("config paging disable", AireOSShell.paging_disable),
        ("config time ntp delete <index>", AireOSShell.ntp_delete),
        ("config time ntp server <index> <address>", AireOSShell.ntp_server),
        ("config time ntp key-auth add <key> <algorithm> <key_format> <value>", AireOSShell.ntp_key_add),
        ("config time ntp key-auth delete <key>", AireOSShell.ntp_key_delete),
        ("config time ntp auth enable <index> <key>", AireOSShell.ntp_auth_enable),
        ("config time ntp auth disable <index>", AireOSShell.ntp_auth_disable),
        ("config time manual <date> <time>", AireOSShell.time_manual),
        ("config", AireOSShell.enter_config),
        ("save config", AireOSShell.save_config),
        ("logout", AireOSShell.logout),
        ("exit", AireOSShell.exit),
        ("end", AireOSShell.end),
    ]
)
