"""Time-zone maths for controllers that print local wall time.

A controller's clock commands take and print its local time, while the
advisory and the operator speak UTC. These conversions are pure and shared by
the platform operations (reading a clock) and the remediation (setting one),
so they live below both.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def infer_offset(local: datetime, now_utc: datetime) -> timedelta:
    """The zone offset of an NTP-synced clock: its local reading minus UTC, to the quarter hour."""
    delta = local.replace(tzinfo=None) - now_utc.astimezone(UTC).replace(tzinfo=None)
    return timedelta(seconds=round(delta.total_seconds() / 900) * 900)


def to_utc(local: datetime, offset: timedelta | None) -> datetime | None:
    """A local wall-clock reading as a UTC instant, when the offset is known."""
    if offset is None:
        return None
    return (local.replace(tzinfo=None) - offset).replace(tzinfo=UTC)


def to_local(instant: datetime, offset: timedelta) -> datetime:
    """A UTC instant as the controller's local wall time (what `clock set` / `config time manual` take)."""
    return (instant.astimezone(UTC) + offset).replace(tzinfo=None)


def fmt_instant(value: datetime | None) -> str:
    """How steps show a time: UTC when the instant is known, else the controller's local reading."""
    if value is None:
        return "unknown"
    if value.tzinfo is None:
        return value.strftime("%Y-%m-%d %H:%M:%S") + " local"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
