"""The poll's own SSH session (asyncssh alone) reads what scrapli's session reads, over real SSH.

Polls moved off scrapli for speed; what must not move is what they read and how
they fail. Each test here holds the lean session to the scrapli one, or to the
words a user is shown, against the simulator (and, for the privilege step, a
small SSH server of its own on loopback).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from scrapli.driver.core.cisco_iosxe.base_driver import PRIVS as IOSXE_PRIVS
from scrapli_community.cisco.aireos.cisco_aireos import DEFAULT_PRIVILEGE_LEVELS as AIREOS_PRIVS

from bot.controllers.platforms import registry
from bot.controllers.polling import PollOptions, poll_fleet
from bot.controllers.read_session import ReadSession, _Screen, clean_output
from bot.controllers.session import ControllerSession, SessionError, SessionOptions
from bot.domain.models import ErrorKind
from tests.support.simulated_site import aireos, iosxe, session_to, simulated_site

PASSWORD = "admin"


def _options(**overrides: Any) -> SessionOptions:
    """Options for a session to the small test server below (its key is not in any file)."""
    return SessionOptions(**{"timeout_seconds": 5, "strict_host_keys": False, **overrides})


def _shape(text: str) -> list[str]:
    """The output with its numbers masked: clocks and uptimes move between two reads."""
    return [re.sub(r"\d+", "0", line) for line in text.splitlines()]


@pytest.mark.parametrize("factory", [aireos, iosxe], ids=["aireos", "iosxe"])
async def test_every_poll_command_reads_as_the_scrapli_session_reads_it(tmp_path: Path, factory: Any) -> None:
    async with simulated_site(tmp_path, factory("wlc-1")) as site:
        definition = registry.get(site.inventory.controller("wlc-1").platform).definition  # type: ignore[union-attr]
        commands = [item.command for item in definition.poll if "{" not in item.command]
        async with session_to(ControllerSession, site, "wlc-1") as scrapli_session:
            want = [(await scrapli_session.send(c)) for c in commands]
        async with session_to(ReadSession, site, "wlc-1") as lean:
            got = [(await lean.send(c)) for c in commands]
        # The simulated APs move on with time (a download cycles): on a loaded machine a state
        # may change between the two reads, so the lean read must equal scrapli's read of the
        # same moment: the one before it or the one after it.
        async with session_to(ControllerSession, site, "wlc-1") as scrapli_session:
            again = [(await scrapli_session.send(c)) for c in commands]
    assert len(commands) >= 5
    for command, before, after, later in zip(commands, want, got, again, strict=True):
        assert after.failed == before.failed, command
        assert _shape(after.text) in (_shape(before.text), _shape(later.text)), command
        assert after.text and command not in after.text.splitlines()[0]  # the echo is not output


@pytest.mark.parametrize(
    ("factory", "first", "second"),
    [
        (aireos, "show sysinfo", "show ap summary"),
        (iosxe, "show version", "show ap summary"),
    ],
    ids=["aireos", "iosxe"],
)
async def test_stale_prompts_before_a_command_do_not_shift_the_outputs(
    tmp_path: Path, factory: Any, first: str, second: str
) -> None:
    async with simulated_site(tmp_path, factory("wlc-1")) as site, session_to(ReadSession, site, "wlc-1") as lean:
        want_first, want_second = (await lean.send(first)).text, (await lean.send(second)).text
        for _ in range(3):  # three bare returns nobody reads: three stale prompts on the screen
            lean._channel.write(b"\n")
        await asyncio.sleep(0.2)
        got_first, got_second = (await lean.send(first)).text, (await lean.send(second)).text
    assert _shape(got_first) == _shape(want_first)
    assert got_second == want_second


async def test_a_refused_command_is_failed_and_the_session_goes_on(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, iosxe("wlc-1")) as site, session_to(ReadSession, site, "wlc-1") as lean:
        refused = await lean.send("show no-such-thing")
        after = await lean.send("show clock")
    assert refused.failed and "% Invalid input" in refused.text
    assert not after.failed and "UTC" in after.text


@pytest.mark.parametrize("factory", [aireos, iosxe], ids=["aireos", "iosxe"])
async def test_a_rejected_password_is_auth_failed_and_never_shown(
    tmp_path: Path, factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "Wr0ng-S3cret-Value"
    async with simulated_site(tmp_path, factory("wlc-1")) as site:
        site.sim.controllers["wlc-1"].faults.reject_password = True
        with pytest.raises(SessionError) as caught:
            async with session_to(ReadSession, site, "wlc-1", password=secret):
                pass
    assert caught.value.kind is ErrorKind.AUTH_FAILED
    assert caught.value.message.endswith(": authentication failed")
    assert secret not in caught.value.message and secret not in caplog.text


async def test_refused_hung_and_dropped_sessions_fail_in_plain_words(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, iosxe("wlc-1"), iosxe("wlc-2"), iosxe("wlc-3")) as site:
        faults = {name: site.sim.controllers[name].faults for name in ("wlc-1", "wlc-2", "wlc-3")}
        faults["wlc-1"].refuse_connections = True
        faults["wlc-2"].hang_on_connect = True
        faults["wlc-3"].drop_after_commands = 3  # the two set-up commands and one more
        failures: dict[str, SessionError] = {}
        for name in faults:
            try:
                async with session_to(ReadSession, site, name, timeout_seconds=1) as lean:
                    await lean.send("show clock")
                    await lean.send("show version")
            except SessionError as exc:
                failures[name] = exc
    assert failures["wlc-1"].kind is ErrorKind.UNREACHABLE and "connection refused" in failures["wlc-1"].message
    assert failures["wlc-2"].kind is ErrorKind.TIMEOUT and "while logging in" in failures["wlc-2"].message
    assert failures["wlc-3"].kind is ErrorKind.DISCONNECTED
    assert failures["wlc-3"].message.endswith("connection lost during 'show version'")


async def test_host_keys_are_checked_when_strict(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, aireos("wlc-1")) as site:
        async with session_to(ReadSession, site, "wlc-1") as trusted:  # the simulator's key is in the file
            assert not (await trusted.send("show time")).failed
        stranger = tmp_path / "other_known_hosts"
        stranger.write_text(
            f"[127.0.0.1]:{site.inventory.controller('wlc-1').port} "  # type: ignore[union-attr]
            f"{asyncssh.generate_private_key('ssh-ed25519').export_public_key().decode()}"
        )
        with pytest.raises(SessionError) as wrong:
            async with session_to(ReadSession, site, "wlc-1", known_hosts=stranger):
                pass
        with pytest.raises(SessionError) as missing:
            async with session_to(ReadSession, site, "wlc-1", known_hosts=tmp_path / "absent"):
                pass
    assert wrong.value.kind is ErrorKind.HOST_KEY and "host key not trusted" in wrong.value.message
    assert missing.value.kind is ErrorKind.HOST_KEY and "does not exist" in missing.value.message


async def test_polls_read_through_the_lean_session_by_default(tmp_path: Path, monkeypatch: Any) -> None:
    opened: list[str] = []
    original = ReadSession.open

    async def counting_open(self: ReadSession) -> None:
        opened.append(self.name)
        await original(self)

    monkeypatch.setattr(ReadSession, "open", counting_open)
    async with simulated_site(tmp_path, aireos("wlc-1"), iosxe("wlc-2")) as site:
        options = PollOptions(SessionOptions(timeout_seconds=5, known_hosts=site.known_hosts))
        snapshots = await poll_fleet(site.inventory.controllers(), options, site.environ)
    assert sorted(opened) == ["wlc-1", "wlc-2"]
    assert [s.errors for s in snapshots] == [[], []]
    assert [len(s.aps) for s in snapshots] == [3, 3]


# ------------------------------------------------------------------ the privilege step


class _UserExecShell(asyncssh.SSHServerSession[str]):
    """A 9800 where the user lands at privilege 1 (`wlc>`): `enable` asks for a password,
    then `wlc#` (any answer taken) or, with `secret`, asks again for anything else (as
    IOS does three times before `% Bad secrets`); `show privilege` says where the session is."""

    def __init__(self, secret: str | None = None) -> None:
        self._chan: Any = None
        self._level = 1
        self._asking = False
        self._line = ""
        self._secret = secret

    def connection_made(self, chan: Any) -> None:
        self._chan = chan

    def pty_requested(self, term_type: str, term_size: Any, term_modes: Any) -> bool:
        return True

    def shell_requested(self) -> bool:
        return True

    def session_started(self) -> None:
        self._prompt()

    def _prompt(self) -> None:
        self._chan.write("wlc#" if self._level == 15 else "wlc>")

    def data_received(self, data: str, datatype: Any) -> None:
        self._line += data
        while "\n" in self._line:
            line, self._line = self._line.split("\n", 1)
            self._answer(line.strip())

    def _answer(self, line: str) -> None:
        if self._asking and self._secret is not None and line != self._secret:
            self._chan.write("\r\nPassword: ")
            return
        if self._asking:
            self._asking, self._level = False, 15
            self._chan.write("\r\n")
        elif line == "enable" and self._level == 1:
            self._chan.write("enable\r\nPassword: ")
            self._asking = True
            return
        else:
            self._chan.write(f"{line}\r\n")
            if line == "show privilege":
                self._chan.write(f"Current privilege level is {self._level}\r\n")
        self._prompt()


class _Server(asyncssh.SSHServer):
    secret: str | None = None

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return password == PASSWORD

    def session_requested(self) -> _UserExecShell:
        return _UserExecShell(self.secret)


@asynccontextmanager
async def _user_exec_server(secret: str | None = None) -> AsyncIterator[int]:
    server_class = type("_SecretServer", (_Server,), {"secret": secret})
    server = await asyncssh.create_server(
        server_class,
        "127.0.0.1",
        0,
        server_host_keys=[asyncssh.generate_private_key("ssh-ed25519")],
        line_editor=False,
    )
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def test_a_user_landing_at_privilege_1_is_taken_to_enable_first() -> None:
    async with _user_exec_server() as port:
        session = ReadSession(
            name="wlc",
            host="127.0.0.1",
            port=port,
            platform=registry.get("iosxe").definition,
            username="admin",
            password=PASSWORD,
            options=_options(),
        )
        async with session:
            privilege = await session.send("show privilege")
    assert privilege.text == "Current privilege level is 15"


async def test_an_enable_secret_the_inventory_lacks_fails_the_login_at_once() -> None:
    async with _user_exec_server(secret="n0t-in-the-inventory") as port:
        session = ReadSession(
            name="wlc",
            host="127.0.0.1",
            port=port,
            platform=registry.get("iosxe").definition,
            username="admin",
            password=PASSWORD,
            options=_options(),
        )
        started = asyncio.get_running_loop().time()
        with pytest.raises(SessionError) as caught:
            async with session:
                pass
        took = asyncio.get_running_loop().time() - started
    assert caught.value.kind is ErrorKind.AUTH_FAILED
    assert took < 5  # said when the device asks again, not after the timeout


# ------------------------------------------------------------------ data and cleaning


def _scrapli_prompt(privileges: dict[str, Any]) -> re.Pattern[str]:
    return re.compile("|".join(p.pattern for p in privileges.values()), re.M | re.I)


@pytest.mark.parametrize(
    ("platform", "privileges", "prompts", "not_prompts"),
    [
        (
            "aireos",
            AIREOS_PRIVS,
            ["(Cisco Controller) >", "(wlc-a1) config>", "(WLC 5520-1) >"],
            ["(Cisco Controller) show ap summary", "User:", "AP Name  Slots", "Number of APs.... 3"],
        ),
        (
            "iosxe",
            IOSXE_PRIVS,
            ["wlc-b1#", "wlc-b1>", "WLC9800(config)#", "c9800-1(config-line)#"],
            ["wlc-b1# show clock", "AP Name  Slots", "Password:", "% Invalid input detected at '^' marker."],
        ),
    ],
    ids=["aireos", "iosxe"],
)
def test_the_platform_prompt_agrees_with_scrapli_s_driver(
    platform: str, privileges: dict[str, Any], prompts: list[str], not_prompts: list[str]
) -> None:
    ours = re.compile(registry.get(platform).definition.prompt, re.M | re.I)
    theirs = _scrapli_prompt(privileges)
    for line in prompts:
        assert ours.search(line) and theirs.search(line), line
    for line in not_prompts:
        assert not ours.search(line) and not theirs.search(line), line


def test_escapes_are_dropped_as_scrapli_drops_them() -> None:
    from scrapli.channel.base_channel import ANSI_ESCAPE_PATTERN

    samples = [b"\x1b[1mbold\x1b[0m", b"\x1b7saved\x1b8", b"\x1b]0;title\x07text", b"a\x1bMb", b"\x1b[2;37;41mx"]
    screen = _Screen()
    for sample in samples:
        screen.buf.clear()
        screen.data_received(sample, None)
        assert bytes(screen.buf) == ANSI_ESCAPE_PATTERN.sub(b"", sample), sample


def test_a_prompt_line_mid_output_takes_only_itself_away() -> None:
    prompt = re.compile(registry.get("aireos").definition.prompt.encode(), re.M | re.I)
    assert clean_output(b"line1\n(Cisco Controller) >\n\nline2", prompt) == "line1\n\n\nline2"


def test_clean_output_reads_as_scrapli_leaves_it() -> None:
    prompt = re.compile(registry.get("iosxe").definition.prompt.encode(), re.M | re.I)
    raw = b"\n\nAP Name   State   \n\x1b[1mAP-1\x1b[0m      Registered\n\nwlc#"
    assert clean_output(raw, prompt) == "AP Name   State\nAP-1      Registered"
