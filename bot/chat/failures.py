"""How the bot names a controller it could not read (fully), in every view.

A refused login is not a dead network and a host-key mismatch is not a
timeout: each failure kind gets its own words, emoji and next step, so the
engineer knows which of the three teams to call before opening a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.models import ErrorKind


@dataclass(frozen=True)
class FailureWords:
    icon: str
    label: str
    next_step: str


FAILURES: dict[ErrorKind, FailureWords] = {
    ErrorKind.UNREACHABLE: FailureWords(
        "🔌", "unreachable", "check the address and port in the inventory, the route, and that SSH is enabled"
    ),
    ErrorKind.AUTH_FAILED: FailureWords(
        "🔑",
        "auth failed",
        "the controller refused the login: check the username and password variables of its credentials",
    ),
    ErrorKind.TIMEOUT: FailureWords(
        "⏱️",
        "timed out",
        "the controller did not answer in time: check its load, or raise CCERT_SSH_TIMEOUT_SECONDS",
    ),
    ErrorKind.HOST_KEY: FailureWords(
        "🔐",
        "host key not trusted",
        "the SSH host key is unknown or changed: compare it with the controller's, then `ccert-bot known-hosts`",
    ),
    ErrorKind.COMMAND_FAILED: FailureWords(
        "❗", "command failed", "a command was refused: check the account's privilege level on the controller"
    ),
    ErrorKind.UNPARSABLE: FailureWords(
        "❓", "output not understood", "some output could not be read: the verdict may miss APs"
    ),
    ErrorKind.DISCONNECTED: FailureWords(
        "✂️", "connection lost", "the session broke off before every command ran: try again"
    ),
    ErrorKind.INCOMPLETE: FailureWords(
        "🧩", "incomplete", "the controller listed fewer APs than it counts: the verdict may miss APs"
    ),
}


def failure_words(kind: ErrorKind | str | None) -> FailureWords | None:
    """The words for `kind` (an `ErrorKind` or its value); None for no failure or an unknown one."""
    if kind is None:
        return None
    try:
        return FAILURES[ErrorKind(kind)]
    except ValueError:
        return None
