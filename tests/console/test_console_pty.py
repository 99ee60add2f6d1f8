"""The console on a real terminal: Ctrl-C and Ctrl-D leave at once and cleanly, arrow keys recall history.

Piped input cannot show any of this: the hang was a read blocking shutdown
on a terminal, the traceback came from the scheduled check a terminal
session starts, and `^[[A` is what a terminal echoes without readline. So
each test drives `python -m bot` through a pseudo-terminal, as an operator's
shell would, with every wait bounded. The last test is the contrast: the
same loop on a plain stream keeps running each line once and ending at EOF.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.chat.reply import Caller, CommandResult, Reply
from bot.console.repl import PROMPT, run_console

pexpect = pytest.importorskip("pexpect")
termios = pytest.importorskip("termios")  # POSIX terminals only

START_TIMEOUT = 60  # the demo is up in 1-2 s; the margin is for a loaded machine
EXIT_WITHIN = 5.0  # "at once": well under the 10 s SSH timeout and the 30 s shutdown waits
SITES_OUTPUT = "1 site, 2 controllers"


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No CCERT_*/SLACK_* from the developer's shell; temporary files go where the test can see them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCERT_", "SLACK_"))}
    scratch = tmp_path / "tmpdir"
    scratch.mkdir(exist_ok=True)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(TERM="xterm", TMPDIR=str(scratch), HOME=str(home), **extra)
    return env


class Session:
    """One `python -m bot ...` on a pseudo-terminal, with everything it printed kept."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.transcript = io.StringIO()
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "bot", *args],
            cwd=str(cwd),
            env=env,
            encoding="utf-8",
            timeout=START_TIMEOUT,
            dimensions=(50, 200),
        )
        self.child.logfile_read = self.transcript

    def prompt(self, timeout: float = START_TIMEOUT) -> None:
        self.child.expect_exact(PROMPT, timeout=timeout)

    def command(self, line: str, expect: str, timeout: float = 30) -> str:
        """Type `line` and Enter; `expect` must follow; returns what came after it, up to the next prompt."""
        self.child.send(line + "\r")
        self.child.expect_exact(expect, timeout=timeout)
        self.prompt(timeout=timeout)
        return str(self.child.before)

    def wait_for_exit(self) -> float:
        """Seconds until the process closed the terminal; fails past a generous bound."""
        began = time.monotonic()
        self.child.expect(pexpect.EOF, timeout=EXIT_WITHIN * 3)
        return time.monotonic() - began

    def terminal_flags(self) -> int:
        """The terminal's local modes now, as the shell would find them (read through the master side)."""
        return termios.tcgetattr(self.child.child_fd)[3]

    def output(self) -> str:
        return self.transcript.getvalue()

    def close(self) -> tuple[int | None, int | None]:
        self.child.close(force=True)
        return self.child.exitstatus, self.child.signalstatus


@pytest.fixture
def sessions() -> Iterator[list[Session]]:
    """Whatever a test spawned is ended even when the test fails half-way."""
    started: list[Session] = []
    try:
        yield started
    finally:
        for session in started:
            if session.child.isalive():
                session.child.terminate(force=True)
            session.close()


def demo(tmp_path: Path, sessions: list[Session]) -> Session:
    session = Session(["demo"], tmp_path, clean_env(tmp_path))
    sessions.append(session)
    session.prompt()
    return session


def assert_left_cleanly(session: Session, tmp_path: Path, took: float, *, demo: bool = True) -> str:
    """Exit 0, soon, no traceback, prompt-free last line, a usable terminal, and (for the demo)
    no temporary files left."""
    flags = session.terminal_flags()
    status, signal = session.close()
    out = session.output()
    assert took < EXIT_WITHIN, f"took {took:.1f} s to exit:\n{out}"
    assert (status, signal) == (0, None), out
    assert "Traceback" not in out and "CancelledError" not in out, out
    assert out.endswith("\n"), f"the shell prompt would start after ours: {out[-80:]!r}"
    assert flags & termios.ECHO and flags & termios.ICANON, "the terminal was left without echo/line mode"
    if demo:
        # The demo's TemporaryDirectory (database, known_hosts) goes only through its normal shutdown path.
        assert not list((tmp_path / "tmpdir").iterdir()), "the demo's shutdown did not run to the end"
    return out


def test_ctrl_c_at_the_prompt_leaves_at_once(tmp_path: Path, sessions: list[Session]) -> None:
    session = demo(tmp_path, sessions)
    for _ in range(40):  # let the start-up check finish, so only the prompt is waiting
        if "no checks recorded yet" not in session.command("/ccert history site-a", "reading the history"):
            break
        time.sleep(0.25)
    session.child.sendintr()
    assert_left_cleanly(session, tmp_path, session.wait_for_exit())


def test_ctrl_c_during_the_start_up_check_prints_no_traceback(tmp_path: Path, sessions: list[Session]) -> None:
    """On a terminal the first fleet check starts with the prompt and takes a few SSH round trips.

    The demo's check is quick, so this relies on Ctrl-C following the prompt at
    once; the silent-controller test below holds its start-up check for sure.
    """
    session = demo(tmp_path, sessions)
    session.child.sendintr()
    assert_left_cleanly(session, tmp_path, session.wait_for_exit())


def test_ctrl_d_leaves_at_once(tmp_path: Path, sessions: list[Session]) -> None:
    session = demo(tmp_path, sessions)
    session.child.sendeof()
    assert_left_cleanly(session, tmp_path, session.wait_for_exit())


def test_up_arrow_recalls_the_last_command(tmp_path: Path, sessions: list[Session]) -> None:
    session = demo(tmp_path, sessions)
    session.command("/ccert sites", SITES_OUTPUT)
    session.child.send("\x1b[A")
    session.command("", SITES_OUTPUT)
    session.child.sendeof()
    out = assert_left_cleanly(session, tmp_path, session.wait_for_exit())
    assert out.count(SITES_OUTPUT) == 2, out
    assert "^[[A" not in out and "\x1b[A" not in out, out
    assert not list((tmp_path / "home").iterdir()), "history stays in the session: nothing is written to HOME"


@pytest.fixture
def silent_controller() -> Iterator[int]:
    """A port that accepts TCP and never says a word: SSH waits for the server's banner until it times out."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def test_ctrl_c_while_a_command_waits_on_ssh_leaves_at_once(
    tmp_path: Path, sessions: list[Session], silent_controller: int
) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "sites:\n  site-x:\n    channel: C0SILENT01\n    controllers:\n"
        f"      - {{name: wlc-silent, host: 127.0.0.1, port: {silent_controller}, platform: iosxe,"
        " credentials: default}\n"
        "credentials:\n  default: {username_env: CCERT_SSH_USERNAME, password_env: CCERT_SSH_PASSWORD}\n",
        encoding="utf-8",
    )
    env = clean_env(
        tmp_path,
        CCERT_INVENTORY=str(inventory),
        CCERT_DB=str(tmp_path / "ccert.db"),
        CCERT_SSH_STRICT_HOST_KEYS="false",
        CCERT_SSH_TIMEOUT_SECONDS="120",
        CCERT_SSH_USERNAME="operator",
        CCERT_SSH_PASSWORD="not-a-secret",
    )
    session = Session(["console"], tmp_path, env)
    sessions.append(session)
    session.prompt()
    session.child.send("/ccert status site-x\r")
    session.child.expect_exact("I'll post the answer here", timeout=30)
    time.sleep(0.5)  # the command (and the start-up check) are now waiting for the silent controller
    session.child.sendintr()
    out = assert_left_cleanly(session, tmp_path, session.wait_for_exit(), demo=False)
    assert "wlc-silent" not in out.split("I'll post the answer here", 1)[1], "the command was cut short, not answered"
    assert (tmp_path / "ccert.db").exists()
    assert not (tmp_path / "ccert.db-wal").exists(), "the store was not closed through its normal path"


class RecordingDispatcher:
    """Says which command it ran, so the transcript shows what the loop dispatched and in which order."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    async def dispatch(self, text: str, caller: Caller) -> CommandResult:
        self.ran.append(text.strip())
        return CommandResult(ack=Reply(title=f"ran {text.strip()}"))

    async def handle_action(self, action_id: str, value: str, caller: Caller) -> CommandResult:
        raise AssertionError("the console types commands, it does not click")


async def test_piped_lines_run_once_each_without_prompt_or_editing() -> None:
    dispatcher = RecordingDispatcher()
    out = io.StringIO()
    script = io.StringIO("/ccert sites\n\n# a comment\n/ccert status site-a\nquit\n/ccert never\n")
    assert await asyncio.wait_for(run_console(dispatcher, script, out), timeout=10) == 0
    assert dispatcher.ran == ["sites", "status site-a"]
    assert PROMPT not in out.getvalue()
    assert await asyncio.wait_for(run_console(dispatcher, io.StringIO("/ccert help"), out), timeout=10) == 0
    assert dispatcher.ran[-1] == "help", "the last line runs even without a newline, then EOF ends the loop"
