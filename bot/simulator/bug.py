"""CSCwd80290 as the simulator acts it out: which image validations fail, and
what the AP logs when they do.

An IOS-based AP checks the downloaded image with a signing certificate that
expired on 2022-12-04, using the controller's clock. The rules (the expiry, the
table of IOS-based models) are data from `defaults.yaml`, overridable per
scenario, so that a test can describe a variant without touching code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.simulator.dates import parse_datetime


@dataclass(frozen=True)
class ImageSigningRules:
    """The facts of the bug: certificate expiry and the affected model table."""

    not_after: datetime
    not_after_text: str
    serial: str
    image_file: str
    ios_based_patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImageSigningRules:
        cert = d["image_signing_cert"]
        return cls(
            not_after=parse_datetime(cert["not_after"]),
            not_after_text=str(cert["not_after_text"]),
            serial=str(cert["serial"]),
            image_file=str(cert["image_file"]),
            ios_based_patterns=tuple(re.compile(p, re.IGNORECASE) for p in d["ios_based_models"]),
        )

    def is_ios_based(self, model: str) -> bool:
        """True for IOS-based AP models (the ones whose image validation can fail)."""
        return any(p.search(model) for p in self.ios_based_patterns)

    def validation_fails(self, *, ios_based: bool, controller_fixed: bool, clock: datetime) -> bool:
        """Whether a freshly downloaded image is rejected by the AP.

        Fails only for an IOS-based AP, on a controller without the fix, when
        the controller clock is at or after the signing certificate's expiry.
        """
        return ios_based and not controller_fixed and clock >= self.not_after


def ap_console_time(when: datetime) -> str:
    """AP console timestamp, as in the tech note: `*Dec 6 21:35:24.259`."""
    return f"*{when:%b} {when.day} {when:%H:%M:%S}.{when.microsecond // 1000:03d}"


def failure_lines(rules: ImageSigningRules, when: datetime) -> list[tuple[int, str]]:
    """The AP's log for a rejected image: (severity, text) per line.

    Copies the SHA-2 sequence of the tech note (corpus/technote/
    ap_console_sha2_expired.log) with the real certificate serial number.
    """
    stamp = ap_console_time(when)
    return [
        (6, f"{stamp}: Using SHA-2 signed certificate for image signing validation."),
        (
            3,
            f"{stamp}: %PKI-3-CERTIFICATE_INVALID_EXPIRED: Certificate chain validation has failed. "
            f"The certificate (SN: {rules.serial}) has expired. "
            f"Validity period ended on {rules.not_after_text}",
        ),
        (3, f"{stamp}: Image signing certificate validation failed (1A)."),
        (3, f"{stamp}: Failed to validate signature"),
        (3, f"{stamp}: Digital Signature Failed Validation (flash:/update/{rules.image_file}/final_hash)"),
        (3, f"{stamp}: AP image integrity check FAILED"),
    ]


def success_lines(when: datetime, *, ios_based: bool) -> list[tuple[int, str]]:
    """The AP's log for an accepted image (IOS APs say so; AP-COS APs say nothing)."""
    if not ios_based:
        return []
    stamp = ap_console_time(when)
    return [
        (6, f"{stamp}: Using SHA-2 signed certificate for image signing validation."),
        (6, f"{stamp}: Image signing certificate validation succeeded."),
    ]
