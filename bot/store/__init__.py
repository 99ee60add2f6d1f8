"""The one store: a SQLite file or a PostgreSQL database (`CCERT_DB`) holding
checks, snapshots, AP state, alerts with their outbox, digests, remediation
requests and their audit, and one summary per controller per day that outlives
the retention (`CCERT_RETENTION_DAYS`).

The bot uses the async `Store` (`await Store.open(target)`); a CLI or a test
may use `open_db(target)` and the store functions (`bot.store.checks`, `alerts`,
`outbox`, `history`, ...) directly.
Schema changes are numbered migrations in `bot.store.migrations`.
"""

from bot.store.db import SchemaError, open_db, schema_version
from bot.store.records import (
    AlertKind,
    AlertRecord,
    AlertStatus,
    APRecord,
    APState,
    CheckRun,
    CheckRunRecord,
    CheckTrigger,
    ControllerDay,
    CriticalFinding,
    Delivery,
    DigestRecord,
    EventKind,
    EventRecord,
    FleetSummary,
    NotFoundError,
    PruneResult,
    SiteCheck,
    SiteDay,
    SiteSummary,
    SnapshotRecord,
    StateError,
    StuckAP,
    UnfixedController,
)
from bot.store.store import Store

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
    "FleetSummary",
    "NotFoundError",
    "PruneResult",
    "SchemaError",
    "SiteCheck",
    "SiteDay",
    "SiteSummary",
    "SnapshotRecord",
    "StateError",
    "Store",
    "StuckAP",
    "UnfixedController",
    "open_db",
    "schema_version",
]
