"""The recorded configuration: the exact NTP servers and clock captured before the first change.

It is the heart of the safety story: `capture_time_config` writes it to the
database before anything changes, the restore puts it back, and the end of a
run compares the device against it. Serialised to JSON for the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.domain.models import CertificateWindow, NtpServer


def ntp_to_dict(server: NtpServer) -> dict[str, Any]:
    return {
        "address": server.address,
        "index": server.index,
        "key_index": server.key_index,
        "vrf": server.vrf,
        "options": list(server.options),
        "config_line": server.config_line,
    }


def ntp_from_dict(data: Mapping[str, Any]) -> NtpServer:
    return NtpServer(
        address=str(data["address"]),
        index=data.get("index"),
        key_index=data.get("key_index"),
        vrf=data.get("vrf"),
        options=tuple(data.get("options") or ()),
        config_line=data.get("config_line"),
    )


@dataclass(frozen=True)
class RecordedConfig:
    """The exact NTP configuration and clock, captured before the first change.

    Stored in `remediation_recorded_config` and never deleted until a run has
    verified it on the device again. `utc_offset_seconds` is how the run
    converts UTC targets to the local time the clock commands take.
    """

    controller: str
    platform: str  # the registry name (`aireos`, `iosxe`)
    captured_at: datetime
    clock_local: datetime
    clock_utc: datetime | None
    clock_source: str
    utc_offset_seconds: int
    offset_source: str
    ntp_servers: tuple[NtpServer, ...]
    certificate: CertificateWindow | None = None
    software_version: str | None = None
    raw: Mapping[str, str] = field(default_factory=dict)

    @property
    def utc_offset(self) -> timedelta:
        return timedelta(seconds=self.utc_offset_seconds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "controller": self.controller,
            "platform": str(self.platform),
            "captured_at": self.captured_at.isoformat(),
            "clock_local": self.clock_local.isoformat(),
            "clock_utc": self.clock_utc.isoformat() if self.clock_utc else None,
            "clock_source": self.clock_source,
            "utc_offset_seconds": self.utc_offset_seconds,
            "offset_source": self.offset_source,
            "ntp_servers": [ntp_to_dict(s) for s in self.ntp_servers],
            "certificate": None
            if self.certificate is None
            else {
                "not_before": self.certificate.not_before.isoformat(),
                "not_after": self.certificate.not_after.isoformat(),
                "name": self.certificate.name,
                "subject": self.certificate.subject,
            },
            "software_version": self.software_version,
            "raw": dict(self.raw),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordedConfig:
        cert = data.get("certificate")
        return cls(
            controller=data["controller"],
            platform=str(data["platform"]),
            captured_at=datetime.fromisoformat(data["captured_at"]),
            clock_local=datetime.fromisoformat(data["clock_local"]),
            clock_utc=datetime.fromisoformat(data["clock_utc"]) if data.get("clock_utc") else None,
            clock_source=data["clock_source"],
            utc_offset_seconds=int(data["utc_offset_seconds"]),
            offset_source=data["offset_source"],
            ntp_servers=tuple(ntp_from_dict(s) for s in data["ntp_servers"]),
            certificate=None
            if not cert
            else CertificateWindow(
                not_before=datetime.fromisoformat(cert["not_before"]),
                not_after=datetime.fromisoformat(cert["not_after"]),
                name=cert.get("name"),
                subject=cert.get("subject"),
            ),
            software_version=data.get("software_version"),
            raw=dict(data.get("raw") or {}),
        )
