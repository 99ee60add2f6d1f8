"""What an AP's own log said about its image check: the line that began its failure episode.

The alert rules take `confirmed` (AP name → since when its log confirms the certificate
failure); an operator reading the alert's thread wants more: which AP logged what, and when.
This is that fact, produced by the AP syslog receiver and shown by the alert's thread notes,
in the domain so that neither has to know the other. `at` is the bot's clock when the line
arrived, never the AP's: the AP takes its time from the controller, which a time-back sets to 2022.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# An AP line is shown, never kept whole: a syslog line may be up to the receiver's size bound.
MAX_LINE_CHARS = 300


@dataclass(frozen=True)
class APLogEntry:
    """One AP's confirmed image-certificate failure, as its log said it.

    - `ap`: the AP's name as the controller lists it
    - `at`: when the first failure line of this episode arrived (bot's clock, UTC)
    - `signature`: the id of the signature the line matched (`signatures.yaml`)
    - `meaning`: what that signature means, in an operator's words
    - `line`: the line's text, cut to `MAX_LINE_CHARS`
    - `lines`: failure lines heard from it since `at`
    """

    ap: str
    at: datetime
    signature: str
    meaning: str
    line: str
    lines: int = 1


def shown_line(text: str) -> str:
    """An AP's line as a thread note shows it: one line, at most `MAX_LINE_CHARS`."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_LINE_CHARS else flat[: MAX_LINE_CHARS - 1] + "…"


__all__ = ["MAX_LINE_CHARS", "APLogEntry", "shown_line"]
