"""Typed values the store takes and returns.

Everything a query returns is one of these frozen dataclasses (never a raw
row), with bot timestamps as tz-aware UTC datetimes and JSON columns decoded.
Device times (controller clock, certificate window) keep the naivety they
were recorded with; see `bot.store.codec`.

In modules by what they describe: `checks`, `history`, `alerts`, `housekeeping`, and the
store's `errors`; this namespace names each once.
"""

from bot.domain.alerts import AlertKind
from bot.store.records.alerts import AlertRecord, AlertStatus, Delivery, EventKind, EventRecord
from bot.store.records.checks import (
    APRecord,
    APState,
    CheckRun,
    CheckRunRecord,
    CheckTrigger,
    CriticalFinding,
    SnapshotRecord,
    StuckAP,
)
from bot.store.records.errors import FencedOut, NotFoundError, StateError
from bot.store.records.history import ControllerDay, FleetSummary, SiteCheck, SiteDay, SiteSummary, UnfixedController
from bot.store.records.housekeeping import DigestRecord, PruneResult

__all__ = [
    "APRecord",
    "APState",
    "AlertKind",
    "AlertRecord",
    "AlertStatus",
    "CheckRun",
    "CheckRunRecord",
    "CheckTrigger",
    "ControllerDay",
    "CriticalFinding",
    "Delivery",
    "DigestRecord",
    "EventKind",
    "EventRecord",
    "FencedOut",
    "FleetSummary",
    "NotFoundError",
    "PruneResult",
    "SiteCheck",
    "SiteDay",
    "SiteSummary",
    "SnapshotRecord",
    "StateError",
    "StuckAP",
    "UnfixedController",
]
