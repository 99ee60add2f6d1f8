"""Plain snapshots, verdicts and checks for the store tests.

Verdicts come from the real `evaluate_controller`, so what the store keeps
is what the bot would keep. Versions used: IOS-XE 17.3.4 (not fixed: an
affected AP in Downloading is stuck) and AireOS 8.10.183.0 (fixed).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from bot.domain.models import (
    AccessPoint,
    ControllerSnapshot,
    ErrorKind,
    NtpServer,
    Platform,
    SnapshotError,
)
from bot.domain.verdict import DownloadWatch, VerdictStatus, evaluate_controller, worst_status
from bot.store import CheckRun, CheckTrigger, SnapshotRecord
from bot.store import checks as checks_store
from bot.store import remediation as q
from bot.store import snapshots as snapshots_store
from bot.store.sql import Db, is_postgres

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
AFFECTED = "AIR-CAP3702I-E-K9"
NOT_AFFECTED = "C9120AXI-E"
UNFIXED_IOSXE = "17.3.4"
FIXED_AIREOS = "8.10.183.0"
NTP = [NtpServer(address="10.0.0.123", config_line="ntp server 10.0.0.123")]
# The store keeps what the verdict says; here an affected AP seen Downloading counts as stuck at
# once (the threshold itself is the verdict's business, tested in tests/domain).
AT_ONCE = DownloadWatch(stuck_after=timedelta(0))


def ap(name: str, model: str | None = AFFECTED, state: str | None = "Registered", **extra: Any) -> AccessPoint:
    return AccessPoint(name=name, model=model, state=state, **extra)


def snap(
    name: str = "wlc-1",
    *,
    at: datetime = T0,
    site: str | None = "hq",
    aps: Sequence[AccessPoint] = (),
    version: str | None = UNFIXED_IOSXE,
    platform: Platform = Platform.IOSXE,
    **extra: Any,
) -> ControllerSnapshot:
    values: dict[str, Any] = {"ntp_servers": list(NTP)}
    values.update(extra)
    return ControllerSnapshot(
        name=name,
        platform=platform,
        host=f"192.0.2.{sum(map(ord, name)) % 250}",
        taken_at=at,
        site=site,
        software_version=version,
        aps=list(aps),
        **values,
    )


def unreachable(name: str = "wlc-1", *, at: datetime = T0, site: str | None = "hq") -> ControllerSnapshot:
    return ControllerSnapshot(
        name=name,
        platform=Platform.IOSXE,
        host="192.0.2.99",
        taken_at=at,
        site=site,
        errors=[SnapshotError(ErrorKind.TIMEOUT, "connect timed out after 30 s")],
    )


def record(
    db: Database,
    snapshots: Sequence[ControllerSnapshot],
    *,
    at: datetime | None = None,
    trigger: CheckTrigger = CheckTrigger.SCHEDULED,
) -> int:
    """Record one check of these snapshots (started at `at` or the first snapshot's time)."""
    start = at or min(s.taken_at for s in snapshots)
    run = CheckRun(trigger=trigger, started_at=start, finished_at=start + timedelta(seconds=40))
    return checks_store.record_check(db, run, snapshots, [evaluate_controller(s, watch=AT_ONCE) for s in snapshots])


# --- a six-day story for retention tests ----------------------------------------------------------

H6 = timedelta(hours=6)
CHECKS = 24  # every 6 hours for 6 days, from 2024-05-01 09:00 UTC: 09, 15, 21 and 03 o'clock


def wlc1_aps(n: int) -> list[AccessPoint]:
    if n == 5:
        return [ap("a1", state="Downloading"), ap("a2", model=NOT_AFFECTED)]  # stuck at once (AT_ONCE)
    return [ap("a1"), ap("a2", model=NOT_AFFECTED)]


def six_days_checks() -> list[list[ControllerSnapshot]]:
    """Two controllers of `hq`: wlc-1 with a stuck AP once and an incomplete read once,
    wlc-2 unreachable twice in a row across midnight."""
    checks = []
    for n in range(CHECKS):
        at = T0 + n * H6
        if n == 9:
            wlc1 = snap(
                "wlc-1",
                at=at,
                aps=[ap("a1", state="Downloading")],
                errors=[SnapshotError(ErrorKind.INCOMPLETE, "read 1 of 2 APs", "show ap summary")],
            )
        else:
            wlc1 = snap("wlc-1", at=at, aps=wlc1_aps(n))
        if n in (7, 8):
            wlc2 = unreachable("wlc-2", at=at)
        else:
            wlc2 = snap("wlc-2", at=at, platform=Platform.AIREOS, version=FIXED_AIREOS, aps=[ap("c1"), ap("c2")])
        checks.append([wlc1, wlc2])
    return checks


def six_days(db: Database) -> list[SnapshotRecord]:
    """`six_days_checks` recorded; returns every snapshot as the store keeps it."""
    return [s for check in six_days_checks() for s in snapshots_store.check_snapshots(db, record(db, check))]


def expected_days(snapshots: list[SnapshotRecord]) -> dict[tuple[str, date], dict[str, Any]]:
    """The daily summaries, worked out independently from the snapshots: numbers as recorded."""
    groups: dict[tuple[str, date], list[SnapshotRecord]] = defaultdict(list)
    for s in snapshots:
        groups[(s.controller, s.taken_at.astimezone(UTC).date())].append(s)
    days = {}
    for key, snaps in groups.items():
        snaps.sort(key=lambda s: s.taken_at)
        reads = [s for s in snaps if s.aps_read]
        last_read = reads[-1] if reads else None
        days[key] = {
            "checks": len(snaps),
            "reads": len(reads),
            "unreachable_checks": sum(1 for s in snaps if s.status is VerdictStatus.UNREACHABLE),
            "incomplete_checks": sum(1 for s in snaps if s.incomplete),
            "first_at": snaps[0].taken_at,
            "last_at": snaps[-1].taken_at,
            "status": worst_status(s.status for s in snaps),
            "last_status": snaps[-1].status,
            "stuck_aps": max(s.stuck_count for s in snaps),
            "downloading_aps": max(s.downloading_count for s in snaps),
            "read_at": last_read.taken_at if last_read else None,
            "total_aps": last_read.total_aps if last_read else None,
            "affected_aps": last_read.affected_aps if last_read else None,
            "at_risk_aps": last_read.at_risk_count if last_read else None,
            "aps_incomplete": last_read.incomplete if last_read else (),
        }
    return days


def summary_values(day: Any) -> dict[str, Any]:
    values = dataclasses.asdict(day)
    for key in ("controller", "day", "site", "pruned"):
        values.pop(key)
    return values


def broken_references(db: Db) -> list[Any]:
    """Rows whose foreign keys point nowhere: SQLite checks on demand; PostgreSQL refuses them at write."""
    if is_postgres(db):
        return []
    return list(db.execute("PRAGMA foreign_key_check").fetchall())


def make_run(
    db: Db,
    plan: dict[str, Any],
    *,
    controller: str = "wlc-1",
    request_id: int | None = None,
    claimed_by: str | None = None,
) -> int:
    """A pending run of `plan` on an AireOS controller, as the engine creates one."""
    return q.create_run(
        db,
        request_id=request_id,
        controller=controller,
        site="s",
        platform="aireos",
        host="h",
        port=22,
        credentials={"username_env": "U", "password_env": "P"},
        playbook="pb",
        plan=plan,
        params={},
        created_at=T0,
        claimed_by=claimed_by,
    )
