"""The time-back target: where to set a controller's clock so its APs can download, or why not.

Safe means after the controller certificate's start and early enough before the image
certificate expiry (both bounds and the margins come from the advisory data). When no instant
is safe the plan says so and asks for a staging controller.

Public API:
- `timeback_target(certificate, preferred)` -> `TimebackPlan`
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.advisory_data import Advisory
from bot.domain.advisory_file import load_advisory
from bot.domain.jsonable import to_jsonable
from bot.domain.models import CertificateWindow


@dataclass(frozen=True)
class TimebackPlan:
    """Where to set a controller's clock so APs can download, or why not.

    `target` is a UTC instant; the playbook converts it to the controller's
    local time (AireOS `config time manual` and IOS-XE `clock set` take
    local time). `window` is how long the APs have before the set clock
    runs into the image certificate expiry (seconds in `to_dict()`).
    """

    possible: bool
    target: datetime | None
    reason: str
    image_cert_expiry: datetime
    latest_safe: datetime
    certificate_known: bool
    certificate_not_before: datetime | None = None
    window: timedelta | None = None
    needs_staging_controller: bool = False
    chosen_by: str = "default"  # default | preferred | after_certificate | none
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


def _as_utc(value: datetime) -> tuple[datetime, bool]:
    """(aware UTC datetime, True if it was naive and had to be assumed UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC), True
    return value.astimezone(UTC), False


def _fmt(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def timeback_target(
    certificate: CertificateWindow | None,
    preferred: datetime | None = None,
    advisory: Advisory | None = None,
) -> TimebackPlan:
    """Pick a safe instant for the time-back on one controller.

    Safe means: after the controller certificate's not_before (so it does
    not become "not yet valid"), with a day's margin when it fits and an
    hour at least, and early enough that the APs have
    `min_window_before_expiry` to download before the set clock reaches
    the image certificate expiry (the SHA-1 time, the earlier one). The
    tech note's 2022-12-02 00:00 UTC is used whenever it is safe. If no
    instant is safe the plan says so and asks for a staging controller.
    """
    adv = advisory or load_advisory()
    s = adv.timeback
    expiry = adv.image_cert_expiry
    latest = expiry - s.min_window_before_expiry
    warnings: list[str] = []

    def plan(target: datetime, chosen_by: str, reason: str, not_before: datetime | None) -> TimebackPlan:
        window = expiry - target
        if not_before is not None and target - not_before < s.margin_after_certificate_start:
            warnings.append(
                f"only {target - not_before} after the controller certificate start: set the clock in UTC or "
                "convert carefully from the controller's time zone"
            )
        return TimebackPlan(
            possible=True,
            target=target,
            reason=reason,
            image_cert_expiry=expiry,
            latest_safe=latest,
            certificate_known=not_before is not None,
            certificate_not_before=not_before,
            window=window,
            chosen_by=chosen_by,
            warnings=tuple(warnings),
        )

    pref: datetime | None = None
    if preferred is not None:
        pref, assumed = _as_utc(preferred)
        if assumed:
            warnings.append("the preferred target had no time zone; read as UTC")

    if certificate is None:
        warnings.append(
            "the controller certificate start date could not be read: check it (AireOS `show certificate "
            "summary`, 9800 `show crypto pki certificates <trustpoint>`) before setting the clock back"
        )
        if pref is not None and pref <= latest:
            return plan(pref, "preferred", f"preferred target {_fmt(pref)} (certificate start unknown)", None)
        if pref is not None:
            warnings.append(f"preferred target {_fmt(pref)} is later than the latest safe {_fmt(latest)}; ignored")
        return plan(
            s.default_target,
            "default",
            f"default target {_fmt(s.default_target)} from the tech note (certificate start unknown)",
            None,
        )

    not_before, assumed = _as_utc(certificate.not_before)
    if assumed:
        warnings.append("the certificate dates had no time zone; read as UTC")
    not_after, _ = _as_utc(certificate.not_after)

    if pref is not None:
        if pref >= not_before + s.fallback_after_certificate_start and pref <= latest:
            return plan(pref, "preferred", f"preferred target {_fmt(pref)} is safe", not_before)
        warnings.append(
            f"preferred target {_fmt(pref)} is not safe (must be after {_fmt(not_before)} + "
            f"{s.fallback_after_certificate_start} and no later than {_fmt(latest)}); ignored"
        )

    if not_after <= s.default_target:
        warnings.append(
            f"the controller certificate expired {_fmt(not_after)}, before the target: it is expired now too"
        )

    if not_before + s.margin_after_certificate_start <= s.default_target <= latest:
        return plan(
            s.default_target,
            "default",
            f"default target {_fmt(s.default_target)}: after the controller certificate start "
            f"{_fmt(not_before)} and before the image certificate expiry {_fmt(expiry)}",
            not_before,
        )
    for margin in (s.margin_after_certificate_start, s.fallback_after_certificate_start):
        candidate = not_before + margin
        if candidate <= latest:
            return plan(
                candidate,
                "after_certificate",
                f"the controller certificate starts {_fmt(not_before)}, after the default target; "
                f"{_fmt(candidate)} is {margin} after it and leaves {expiry - candidate} before the image "
                f"certificate expiry {_fmt(expiry)}",
                not_before,
            )

    if not_before >= expiry:
        why = (
            f"the controller certificate starts {_fmt(not_before)}, at or after the image certificate "
            f"expiry {_fmt(expiry)}: no clock setting satisfies both"
        )
    else:
        why = (
            f"the controller certificate starts {_fmt(not_before)}: no instant at least "
            f"{s.fallback_after_certificate_start} after it leaves {s.min_window_before_expiry} for the APs "
            f"to download before the image certificate expiry {_fmt(expiry)}"
        )
    return TimebackPlan(
        possible=False,
        target=None,
        reason=f"time-back is impossible on this controller: {why}; use a staging controller running the "
        "same code (e.g. 9800-CL or vWLC), time it back, let the APs download there, then move them",
        image_cert_expiry=expiry,
        latest_safe=latest,
        certificate_known=True,
        certificate_not_before=not_before,
        needs_staging_controller=True,
        chosen_by="none",
        warnings=tuple(warnings),
    )


__all__ = ["TimebackPlan", "timeback_target"]
