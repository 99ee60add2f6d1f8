"""Plain snapshots, verdicts and checks for the store tests.

Verdicts come from the real `evaluate_controller`, so what the store keeps
is what the bot would keep. Versions used: IOS-XE 17.3.4 (not fixed: an
affected AP in Downloading is stuck) and AireOS 8.10.183.0 (fixed).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
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
from bot.domain.verdict import DownloadWatch, evaluate_controller
from bot.store import CheckRun, CheckTrigger
from bot.store import checks as checks_store

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
