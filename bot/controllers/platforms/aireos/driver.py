"""AireOS: version from `show sysinfo`, clock and NTP from `show time`, AP
state from `show ap image status|all` (the summary has no state column)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timezone
from typing import Any

from bot.controllers.drivers.completeness import apply_summary, note_image_gaps
from bot.controllers.drivers.merge import merge_image_report
from bot.controllers.parsers.results import (
    AireosCertificateReport,
    AireosSysInfo,
    AireosTime,
    ApImageReport,
    ApSummary,
)
from bot.controllers.platforms.aireos.parsers import device_certificate_window
from bot.controllers.static_facts import Identity
from bot.domain.models import ClockReading, ControllerSnapshot
from bot.domain.versions import parse_version


def _clock_in_utc(reading: AireosTime) -> ClockReading:
    """AireOS prints local time; with the offset known, store UTC like the 9800."""
    clock = reading.clock
    if clock.time.tzinfo is None and reading.utc_offset is not None:
        local = clock.time.replace(tzinfo=timezone(reading.utc_offset))
        return replace(clock, time=local.astimezone(UTC))
    return clock


class AireosDriver:
    def identity(self, key: str, parsed: Any) -> Identity | None:
        if key != "show_sysinfo":
            return None
        info: AireosSysInfo = parsed
        return Identity(info.product_version, info.uptime)

    def apply(self, snapshot: ControllerSnapshot, key: str, parsed: Any, context: dict[str, str]) -> None:
        if key == "show_sysinfo":
            info: AireosSysInfo = parsed
            snapshot.software_raw = info.product_version
            # Only a release the advisory can place; anything else stays raw ("unknown software").
            known = parse_version(info.product_version, "aireos") is not None
            snapshot.software_version = info.product_version if known else None
        elif key == "show_time":
            reading: AireosTime = parsed
            snapshot.clock = _clock_in_utc(reading)
            snapshot.ntp_servers = list(reading.ntp_servers)
            snapshot.ntp_read = True
        elif key in {"show_certificate_all", "show_certificate_summary"}:
            report: AireosCertificateReport = parsed
            snapshot.certificate = device_certificate_window(report) or snapshot.certificate
        elif key == "show_ap_summary":
            summary: ApSummary = parsed
            apply_summary(snapshot, summary, "show ap summary")
        elif key in {"show_ap_image_status", "show_ap_image_all"}:
            image: ApImageReport = parsed
            merge_image_report(snapshot, image, state_from_image=True)
            note_image_gaps(snapshot, image, key.replace("_", " "))

    def finish(self, snapshot: ControllerSnapshot) -> None:
        # `show ap summary` lists joined APs only: with no download going on, joined means Registered.
        snapshot.aps = [ap if ap.state else replace(ap, state="Registered") for ap in snapshot.aps]
