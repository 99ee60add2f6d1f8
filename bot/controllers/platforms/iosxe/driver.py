"""Catalyst 9800: the AP state is in `show ap summary`; the certificate is
read through the wireless management trustpoint's name."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.controllers.drivers.completeness import apply_summary, note_image_gaps
from bot.controllers.drivers.merge import merge_image_report
from bot.controllers.parsers.results import (
    ApImageReport,
    ApSummary,
    InstallSummary,
    IosxeVersion,
    NtpAssociation,
    PkiCertificate,
    WirelessTrustpoint,
)
from bot.controllers.platforms.iosxe.parsers import device_certificate_window
from bot.controllers.static_facts import Identity
from bot.domain.models import ClockReading, ControllerSnapshot, NtpServer


class IosxeDriver:
    def identity(self, key: str, parsed: Any) -> Identity | None:
        if key != "show_version":
            return None
        version: IosxeVersion = parsed
        return Identity(version.raw, version.uptime)

    def apply(self, snapshot: ControllerSnapshot, key: str, parsed: Any, context: dict[str, str]) -> None:
        if key == "show_version":
            version: IosxeVersion = parsed
            snapshot.software_raw = version.raw
            # None for a build label the bot cannot read a release from: "unknown software".
            snapshot.software_version = version.release
        elif key == "show_install_summary":
            install: InstallSummary = parsed
            snapshot.apsps = list(dict.fromkeys(a.filename for a in install.active_apsps))
        elif key == "show_clock":
            clock: ClockReading = parsed
            snapshot.clock = clock
        elif key == "show_running_config_ntp":
            servers: list[NtpServer] = parsed
            snapshot.ntp_servers = list(servers)
            snapshot.ntp_read = True
        elif key == "show_ntp_associations":
            associations: list[NtpAssociation] = parsed
            status = {a.address: a.status or ("reachable" if a.reachable else "unreachable") for a in associations}
            snapshot.ntp_servers = [
                replace(s, status=status[s.address]) if s.address in status else s for s in snapshot.ntp_servers
            ]
        elif key == "show_wireless_management_trustpoint":
            trustpoint: WirelessTrustpoint = parsed
            if trustpoint.name:
                context["trustpoint"] = trustpoint.name
        elif key == "show_crypto_pki_certificates":
            certificates: list[PkiCertificate] = parsed
            snapshot.certificate = device_certificate_window(certificates, context.get("trustpoint"))
        elif key == "show_ap_summary":
            summary: ApSummary = parsed
            apply_summary(snapshot, summary, "show ap summary")
        elif key == "show_ap_image":
            image: ApImageReport = parsed
            merge_image_report(snapshot, image, state_from_image=False)
            note_image_gaps(snapshot, image, "show ap image")

    def finish(self, snapshot: ControllerSnapshot) -> None:
        return None
