"""The CSCwd80290 advisory as data: the parsed form of `bot/domain/data/advisory.yaml`.

Plain frozen dataclasses and nothing else: which AP model families exist and what the notice
says of them, which releases carry the fix, the image certificate's expiry and the time-back
settings, and each controller family's release numbering. Reading and validating the file is
`bot.domain.advisory_file`; the verdicts drawn from it are `ap_models`, `software_fix` and
`timeback`. Kept apart so that every one of those can name the types without importing the
loader's schema (pydantic) or each other.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.models import PlatformName
from bot.domain.versions import Apsp, Version, VersionScheme


class ModelCategory(StrEnum):
    AFFECTED = "affected"
    LIKELY_AFFECTED = "likely_affected"
    NOT_AFFECTED = "not_affected"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ModelFamily:
    """One row of the model table: a regex on the model key and its verdict."""

    id: str
    label: str
    category: ModelCategory
    pattern: re.Pattern[str]
    generation: str | None = None
    reason: str | None = None
    source: str = "domain-reference"


@dataclass(frozen=True)
class TrainMatch:
    """Which versions a fixed-release row speaks for.

    `prefix` is a dotted numeric prefix (`8.10`, `17.3`); `build_below` /
    `build_at_least` split AireOS 8.5 mainline from IRCM on the 4th number.
    """

    prefix: tuple[int, ...]
    build_below: int | None = None
    build_at_least: int | None = None

    def matches(self, version: Version) -> bool:
        if not version.startswith(self.prefix):
            return False
        build = version.parts[3] if len(version.parts) > 3 else 0
        if self.build_below is not None and build >= self.build_below:
            return False
        return not (self.build_at_least is not None and build < self.build_at_least)


@dataclass(frozen=True)
class ApspRule:
    """Which APSPs on the row's release carry the fix (cumulative)."""

    min_number: int | None
    recommended_number: int | None
    csc_ids: tuple[str, ...]

    def accepts(self, apsp: Apsp, release: tuple[int, int, int]) -> bool:
        if apsp.release is not None and apsp.release != release:
            return False  # an APSP built for another release does nothing here
        if any(c in self.csc_ids for c in apsp.csc_ids):
            return True
        return apsp.number is not None and self.min_number is not None and apsp.number >= self.min_number

    @property
    def label(self) -> str:
        number = f"APSP{self.recommended_number}" if self.recommended_number else "an APSP"
        return f"{number} ({' / '.join(self.csc_ids)})" if self.csc_ids else number


@dataclass(frozen=True)
class FixRow:
    """One row of the fixed-software table (see the data file for the two kinds)."""

    id: str
    platform: PlatformName
    train_label: str
    train: TrainMatch
    recommend: str
    fixed_from: Version | None = None
    release: Version | None = None
    apsp: ApspRule | None = None
    fixes_all: bool = True
    fixed_families: tuple[str, ...] = ()
    note: str | None = None
    source: str = "domain-reference"


@dataclass(frozen=True)
class TimebackSettings:
    default_target: datetime
    margin_after_certificate_start: timedelta
    fallback_after_certificate_start: timedelta
    min_window_before_expiry: timedelta
    ap_reboot_wait: timedelta


@dataclass(frozen=True)
class PlatformFacts:
    """What the advisory knows of one controller family (one `platforms:` entry).

    Cisco's facts, not how to talk to the device (that is the platform's package):
    how its releases are numbered, and what the verdict says differently for it.
    """

    name: PlatformName
    scheme: VersionScheme
    # The clock command also lists the NTP servers (AireOS `show time`): no clock, no NTP read.
    ntp_listed_with_clock: bool = False
    # Added to the upgrade advice while APs are in Downloading (None: nothing to add).
    upgrade_advice_when_downloading: str | None = None


@dataclass(frozen=True)
class Advisory:
    """The whole parsed data file."""

    image_cert_serial: str
    image_cert_expiries: Mapping[str, datetime]
    timeback: TimebackSettings
    model_key_pattern: re.Pattern[str]
    families: tuple[ModelFamily, ...]
    category_reasons: Mapping[str, str]
    fixed_releases: tuple[FixRow, ...]
    no_fix_listed: Mapping[PlatformName, str]
    sources: Mapping[str, str]
    platforms: Mapping[PlatformName, PlatformFacts] = dataclasses.field(default_factory=dict)

    @property
    def version_schemes(self) -> tuple[VersionScheme, ...]:
        """How each family numbers its releases, for `parse_version` / `infer_platform`."""
        return tuple(p.scheme for p in self.platforms.values())

    def platform(self, name: str | None) -> PlatformFacts | None:
        """The facts of family `name`; None for a family the advisory does not cover."""
        return self.platforms.get(name) if name is not None else None

    @property
    def image_cert_expiry(self) -> datetime:
        """The earliest expiry (SHA-1, 21:37:36 UTC): the only bound safe for every AP."""
        return min(self.image_cert_expiries.values())

    def family(self, family_id: str) -> ModelFamily | None:
        return next((f for f in self.families if f.id == family_id), None)


__all__ = [
    "Advisory",
    "ApspRule",
    "FixRow",
    "ModelCategory",
    "ModelFamily",
    "PlatformFacts",
    "TimebackSettings",
    "TrainMatch",
]
