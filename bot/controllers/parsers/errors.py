"""The one exception every parser raises.

Drivers turn it into a `SnapshotError(kind=UNPARSABLE or COMMAND_FAILED)`, so
it carries the command and a short human reason, never the whole output (the
output may hold secrets or thousands of lines).
"""

from __future__ import annotations


class ParseError(ValueError):
    """Output that cannot be trusted: a CLI error message or no structure at all.

    Parsers are tolerant by design (unknown lines, states and columns are kept
    or ignored); this is raised only when there is nothing usable, because a
    wrong guess about a controller is worse than an honest "could not read".
    """

    def __init__(self, command: str, reason: str, *, cli_error: bool = False) -> None:
        super().__init__(f"{command}: {reason}")
        self.command = command
        self.reason = reason
        # True when the device itself rejected the command (`% Invalid input`,
        # `Incorrect usage`), so callers can report COMMAND_FAILED rather than
        # UNPARSABLE.
        self.cli_error = cli_error
