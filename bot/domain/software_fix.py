"""The software fix verdict: does a controller's release (plus APSPs) carry the CSCwd80290 fix?

Looks a version up in the advisory's fixed-release table and says fixed, partial (fixed for
some AP families only), not fixed, or unknown, with the reason in words; and which release to
aim for. The fix is per AP model, so `FixStatus.protects(model_class)` is asked per AP.

Public API:
- `software_fix(platform, version, apsps)` -> `FixStatus`
- `is_fixed(controller_software, apsps, ap_model)` -> bool | None
- `recommended_release(platform, version, apsps)` -> `Recommendation`
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.domain.advisory_data import Advisory, FixRow, ModelCategory
from bot.domain.advisory_file import load_advisory
from bot.domain.ap_models import ModelClass, classify_model
from bot.domain.jsonable import to_jsonable
from bot.domain.models import PlatformName
from bot.domain.versions import Version, infer_platform, parse_apsp, parse_version


class FixState(StrEnum):
    FIXED = "fixed"  # fixed for every affected model
    PARTIAL = "partial"  # fixed only for some models (the IW3702-only APSPs)
    NOT_FIXED = "not_fixed"
    UNKNOWN = "unknown"  # version missing or unparsable


@dataclass(frozen=True)
class FixStatus:
    """Whether a controller's software (plus APSPs) carries the CSCwd80290 fix.

    The fix is per AP model (the 17.6.4 / 17.9.2 APSPs fix IW3702 only), so
    ask `protects(model_class)` per AP rather than reading `state` alone.
    """

    state: FixState
    reason: str
    platform: PlatformName | None = None
    version: str | None = None
    row_id: str | None = None
    train_label: str | None = None
    fixed_families: tuple[str, ...] = ()
    matched_apsp: str | None = None
    unrecognized_apsps: tuple[str, ...] = ()
    source: str | None = None

    def protects(self, model: ModelClass) -> bool | None:
        """True if an AP of this model is safe from the bug on this software,
        False if it is at risk, None if we cannot tell."""
        if model.category is ModelCategory.NOT_AFFECTED:
            return True
        if self.state is FixState.FIXED:
            return True
        if model.category is ModelCategory.UNKNOWN or self.state is FixState.UNKNOWN:
            return None
        if self.state is FixState.PARTIAL:
            return model.family_id in self.fixed_families
        return False

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


def _resolve(
    platform: PlatformName | None, version: str | None, advisory: Advisory
) -> tuple[PlatformName | None, Version | None, FixRow | None]:
    schemes = advisory.version_schemes
    inferred = infer_platform(version, schemes)
    plat = str(platform) if platform else inferred
    if plat is not None and inferred is not None and inferred != plat:
        # an AireOS number on a 9800 (or the reverse) is a data error, not a version
        return plat, None, None
    if advisory.platform(plat) is None:
        # a family the advisory has no data for: its versions mean nothing to the fix table
        return plat, None, None
    parsed = parse_version(version, plat, schemes)
    if plat is None or parsed is None:
        return plat, None, None
    row = next((r for r in advisory.fixed_releases if r.platform == plat and r.train.matches(parsed)), None)
    return plat, parsed, row


def _train_text(version: Version) -> str:
    return ".".join(str(p) for p in version.parts[:2])


def software_fix(
    platform: PlatformName | None,
    version: str | None,
    apsps: Iterable[str] = (),
    advisory: Advisory | None = None,
) -> FixStatus:
    """Look the controller's version (and installed APSPs) up in the fix table."""
    adv = advisory or load_advisory()
    apsp_list = [a for a in apsps if a and a.strip()]
    plat, parsed, row = _resolve(platform, version, adv)
    if parsed is None:
        inferred = infer_platform(version, adv.version_schemes)
        if plat is not None and version and adv.platform(plat) is None:
            why = f"the advisory has no data for platform '{plat}'"
        elif plat is not None and inferred is not None and inferred != plat:
            why = f"software version {version!r} does not look like a {plat} version"
        else:
            why = f"software version {version!r} is unknown or unparsable"
        return FixStatus(
            FixState.UNKNOWN,
            f"{why}; cannot tell whether it has the fix",
            platform=plat,
            version=version,
            unrecognized_apsps=tuple(apsp_list),
        )
    assert plat is not None  # `_resolve` parses a version only for a known platform
    base: dict[str, Any] = {"platform": plat, "version": version}
    if row is None:
        return FixStatus(
            FixState.NOT_FIXED,
            f"no fixed release is listed for {plat} {_train_text(parsed)} in the advisory",
            unrecognized_apsps=tuple(apsp_list),
            **base,
        )
    base |= {"row_id": row.id, "train_label": row.train_label, "source": row.source}
    good = FixState.FIXED if row.fixes_all else FixState.PARTIAL
    families = row.fixed_families
    scope = "" if row.fixes_all else f" (fixes only {', '.join(families)})"

    if row.fixed_from is not None:
        if parsed >= row.fixed_from:
            return FixStatus(
                good,
                f"{parsed} is at or above {row.fixed_from}, the fixed release for {row.train_label}{scope}",
                fixed_families=families,
                unrecognized_apsps=tuple(apsp_list),
                **base,
            )
        return FixStatus(
            FixState.NOT_FIXED,
            f"{parsed} is below {row.fixed_from}, the fixed release for {row.train_label}",
            unrecognized_apsps=tuple(apsp_list),
            **base,
        )

    assert row.release is not None and row.apsp is not None  # guaranteed by parse_advisory
    if parsed.release != row.release.release:
        relation = "older than" if parsed.release < row.release.release else "later than"
        return FixStatus(
            FixState.NOT_FIXED,
            f"{parsed} is {relation} {row.release}, the only {row.train_label} release with a listed fix "
            f"({row.release} + {row.apsp.label})",
            unrecognized_apsps=tuple(apsp_list),
            **base,
        )
    target = row.release.release
    for text in apsp_list:
        if row.apsp.accepts(parse_apsp(text), target):
            others = tuple(a for a in apsp_list if a != text)
            return FixStatus(
                good,
                f"{parsed} with APSP {text!r} carries the fix{scope}",
                fixed_families=families,
                matched_apsp=text,
                unrecognized_apsps=others,
                **base,
            )
    if apsp_list:
        reason = (
            f"{parsed} has APSP(s) {', '.join(apsp_list)} but none is known to carry the fix "
            f"({row.apsp.label}); if one is a later cumulative APSP, add its CSC id to the advisory data"
        )
    else:
        reason = f"{parsed} without an APSP; the fix needs {row.apsp.label}"
    return FixStatus(FixState.NOT_FIXED, reason, unrecognized_apsps=tuple(apsp_list), **base)


def is_fixed(
    controller_software: str | None,
    apsps: Iterable[str],
    ap_model: str | None,
    platform: PlatformName | None = None,
    advisory: Advisory | None = None,
) -> bool | None:
    """Is an AP of `ap_model` safe from CSCwd80290 on this controller software?

    True: fixed for that model (or the model is not affected). False: at
    risk. None: unknown model or unknown version; never a guess.
    """
    adv = advisory or load_advisory()
    status = software_fix(platform, controller_software, apsps, adv)
    return status.protects(classify_model(ap_model, adv))


@dataclass(frozen=True)
class Recommendation:
    """The release to aim for, and why. `str()` gives the text."""

    text: str
    reason: str
    fix_state: FixState
    row_id: str | None = None
    source: str | None = None

    def __str__(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


def recommended_release(
    platform: PlatformName | None,
    version: str | None,
    apsps: Iterable[str] = (),
    advisory: Advisory | None = None,
) -> Recommendation:
    """The software to plan for this controller, honest about unlisted trains."""
    adv = advisory or load_advisory()
    apsp_list = list(apsps)
    fix = software_fix(platform, version, apsp_list, adv)
    plat, parsed, row = _resolve(platform, version, adv)
    if fix.state is FixState.UNKNOWN or plat is None or parsed is None:
        return Recommendation(
            "software version unknown: read it, then check the fixed-release table",
            fix.reason,
            fix.state,
        )
    if fix.state is FixState.FIXED:
        return Recommendation(
            f"no upgrade needed for CSCwd80290: {version} has the fix",
            fix.reason,
            fix.state,
            fix.row_id,
            fix.source,
        )
    if row is None:
        return Recommendation(adv.no_fix_listed[plat], fix.reason, fix.state, source="domain-reference")
    if fix.state is FixState.PARTIAL:
        return Recommendation(row.recommend, fix.reason, fix.state, row.id, row.source)
    if row.release is not None and parsed.release > row.release.release:
        return Recommendation(
            adv.no_fix_listed[plat],
            f"{fix.reason}; the advisory lists no fix for {parsed}: check Cisco's release notes for "
            "CSCwd80290 before relying on it",
            fix.state,
            row.id,
            row.source,
        )
    if row.release is not None and row.apsp is not None and parsed.release == row.release.release:
        return Recommendation(
            f"install {row.apsp.label} on {row.release} ({row.recommend})",
            fix.reason,
            fix.state,
            row.id,
            row.source,
        )
    return Recommendation(row.recommend, fix.reason, fix.state, row.id, row.source)


__all__ = ["FixState", "FixStatus", "Recommendation", "is_fixed", "recommended_release", "software_fix"]
