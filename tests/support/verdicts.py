"""Verdicts built from plain values, for tests of what consumes them (alert rules, views)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.models import (
    AccessPoint,
    CertificateWindow,
    ClockReading,
    ClockSource,
    ControllerSnapshot,
    NtpServer,
    Platform,
    SnapshotError,
)
from bot.domain.verdict import ControllerVerdict, evaluate_controller

T0 = datetime(2026, 11, 27, 5, 10, tzinfo=UTC)
CERT = CertificateWindow(not_before=datetime(2019, 6, 3, tzinfo=UTC), not_after=datetime(2039, 6, 3, tzinfo=UTC))


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def verdict(
    downloading: tuple[str, ...] = (),
    *,
    at: datetime,
    registered: tuple[str, ...] = (),
    version: str = "17.3.6",
    apsps: tuple[str, ...] = (),
    errors: list[SnapshotError] | None = None,
    certificate: CertificateWindow | None = CERT,
    site: str | None = "site-a",
) -> ControllerVerdict:
    """A 9800 (unfixed 17.3.6 unless told) with affected 3702s in the given states."""
    aps = [AccessPoint(n, "AIR-CAP3702I-E-K9", state="Downloading") for n in downloading]
    aps += [AccessPoint(n, "AIR-CAP3702I-E-K9", state="Registered") for n in registered]
    snapshot = ControllerSnapshot(
        name="wlc-a1",
        platform=Platform.IOSXE,
        host="192.0.2.10",
        taken_at=at,
        site=site,
        software_version=version,
        apsps=list(apsps),
        clock=ClockReading(time=at, source=ClockSource.NTP, authoritative=True, synced=True),
        ntp_servers=[NtpServer("10.0.0.1", config_line="ntp server 10.0.0.1")],
        certificate=certificate,
        aps=aps,
        errors=errors or [],
    )
    return evaluate_controller(snapshot)
