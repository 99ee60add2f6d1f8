"""Where the console's typed lines come from, without ever blocking shutdown.

A blocking read has to run off the event loop, but not in the loop's default
executor: `asyncio.run` joins that executor on the way out, so a read waiting
for a key made Ctrl-C do nothing until Enter. Each read here runs in its own
daemon thread instead; when the read is abandoned (Ctrl-C cancels the task
awaiting it) the thread is left blocked and dies with the process.

On the process's own terminal the read is `input()`, which brings GNU
readline's line editing and history (arrow keys). readline switches the
terminal to its own mode while it reads and switches it back only when the
line ends, so an abandoned read would leave the shell without echo: the
terminal's settings are saved when reading starts and put back on close.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TextIO

try:  # POSIX only; without it there is nothing to restore
    import termios
except ImportError:  # pragma: no cover - Windows
    termios = None  # type: ignore[assignment]


class LineSource(Protocol):
    async def read(self) -> str | None:
        """The next line with its newline, or None once input has ended (EOF, Ctrl-D)."""
        ...


async def read_in_daemon_thread(read: Callable[[], str]) -> str:
    """`read()` off the loop, in a thread nobody joins, so cancelling the await returns at once.

    The thread's result is dropped if the awaiting task was cancelled or the
    loop has closed meanwhile: nobody is waiting for it any more.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def deliver(outcome: Callable[[Any], None], value: object) -> None:
        if not future.done():
            outcome(value)

    def work() -> None:
        try:
            line = read()
        except Exception as error:  # EOFError (Ctrl-D), OSError (terminal gone): the awaiting task raises it
            result: tuple[Callable[[Any], None], object] = (future.set_exception, error)
        else:
            result = (future.set_result, line)
        with contextlib.suppress(RuntimeError):  # the loop is closed: the process is on its way out
            loop.call_soon_threadsafe(deliver, *result)

    threading.Thread(target=work, name="ccert-console-input", daemon=True).start()
    return await future


class StreamLines:
    """Lines of any text stream (a pipe, a file, a StringIO in tests), read exactly as written."""

    def __init__(self, stream: TextIO, out: TextIO, prompt: str | None = None) -> None:
        self._stream = stream
        self._out = out
        self._prompt = prompt

    async def read(self) -> str | None:
        if self._prompt is not None:
            self._out.write(self._prompt)
            self._out.flush()
        line = await read_in_daemon_thread(self._stream.readline)
        return line or None


class TerminalLines:
    """The process's own terminal, through `input()` and GNU readline: editing and in-session history.

    Use it as a context manager: leaving restores the terminal's settings,
    which matters when a read was abandoned halfway (Ctrl-C at the prompt).
    """

    def __init__(self, prompt: str) -> None:
        self._prompt = prompt
        self._fd = sys.stdin.fileno()
        self._saved: list[Any] | None = None

    def __enter__(self) -> TerminalLines:
        if termios is not None:
            with contextlib.suppress(termios.error):
                self._saved = termios.tcgetattr(self._fd)
        enable_line_editing()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.restore_terminal()

    def restore_terminal(self) -> None:
        """Put back the settings readline may have left changed (no echo, no line mode)."""
        if termios is not None and self._saved is not None:
            # TCSANOW: waiting for output to drain could hang on a terminal nobody reads any more.
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self._fd, termios.TCSANOW, self._saved)

    async def read(self) -> str | None:
        try:
            return await read_in_daemon_thread(lambda: input(self._prompt)) + "\n"
        except EOFError:
            return None


def enable_line_editing() -> bool:
    """Load readline so `input()` edits lines and recalls earlier ones; False where there is none.

    Bracketed paste is turned off: readline enables it in the terminal at the
    start of a read and disables it at the end, so an abandoned read would
    leave the user's terminal wrapping every later paste in escape codes.
    """
    try:
        import readline
    except ImportError:  # pragma: no cover - Python built without it
        return False
    if "libedit" not in (readline.__doc__ or ""):  # libedit has another syntax and no bracketed paste
        readline.parse_and_bind("set enable-bracketed-paste off")
    return True


def is_own_terminal(stdin: TextIO, out: TextIO) -> bool:
    """`input()` reads sys.stdin and prompts on sys.stdout: only then can readline be used."""
    return stdin is sys.stdin and out is sys.stdout and stdin.isatty()


@contextlib.contextmanager
def open_lines(stdin: TextIO, out: TextIO, prompt: str | None) -> Iterator[LineSource]:
    """Terminal lines with editing when the console runs on the process's own terminal, else the stream as is."""
    if prompt is not None and is_own_terminal(stdin, out):
        with TerminalLines(prompt) as lines:
            yield lines
    else:
        yield StreamLines(stdin, out, prompt)
