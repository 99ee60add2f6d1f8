"""What the daily jobs record and report: a digest sent, and what a prune removed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class DigestRecord:
    id: int
    day: date
    sent_at: datetime
    channel: str
    ts: str | None
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PruneResult:
    """What a prune deleted, and the file pages it handed back (`pages_freed`)."""

    ap_rows: int = 0
    snapshots: int = 0
    check_runs: int = 0
    events: int = 0
    alerts: int = 0
    daily_summaries: int = 0
    pages_freed: int = 0
