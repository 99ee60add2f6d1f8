"""The CSCwd80290 advisory: which APs are affected, which software fixes
them, and when a controller clock may safely be set back.

Everything Cisco might revise (model families, fixed releases, the image
certificate expiry, the default time-back target) lives in
`bot/domain/data/advisory.yaml`; this module only interprets it. That keeps
a revision of the notice a data change that the tests re-check, not a code
change. The module is pure (stdlib, and PyYAML + pydantic through
`bot.datafile` to read its table): no device, chat or storage.

Public API:
- `load_advisory()` -> `Advisory` (parsed and validated once, cached)
- `classify_model(model)` -> `ModelClass`
- `software_fix(platform, version, apsps)` -> `FixStatus`
- `is_fixed(controller_software, apsps, ap_model)` -> bool | None
- `recommended_release(platform, version, apsps)` -> `Recommendation`
- `timeback_target(certificate, preferred)` -> `TimebackPlan`
- `to_jsonable(value)` for `to_dict()` methods
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum, StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from bot.datafile import DataFileError, Document, Problem, Strict, Text, parse_yaml, refuse, schema_issues, to_problems
from bot.domain.models import CertificateWindow, PlatformName
from bot.domain.versions import (
    Apsp,
    Version,
    VersionScheme,
    infer_platform,
    normalise_csc,
    parse_apsp,
    parse_version,
)

DATA_PACKAGE = "bot.domain.data"
DATA_FILE = "advisory.yaml"


class AdvisoryDataError(DataFileError):
    """The advisory data file is malformed; raised at load time, never later (every problem, file:line)."""


# ---------------------------------------------------------------------------
# Data model of the advisory file
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def _read_default() -> tuple[str, str]:
    """(text, origin) of the packaged data file, via importlib.resources so it
    works from a checkout, an installed wheel or a zip."""
    resource = resources.files(DATA_PACKAGE).joinpath(DATA_FILE)
    return resource.read_text(encoding="utf-8"), f"{DATA_PACKAGE}/{DATA_FILE}"


@cache
def _load_cached(path: Path | None) -> Advisory:
    origin = f"{DATA_PACKAGE}/{DATA_FILE}" if path is None else str(path)
    try:
        text, origin = _read_default() if path is None else (path.read_text(encoding="utf-8"), str(path))
        doc = parse_yaml(text, origin)
    except OSError as exc:
        raise AdvisoryDataError([Problem(origin, None, f"cannot read advisory data: {exc}")]) from exc
    except DataFileError as exc:
        raise AdvisoryDataError(exc.problems) from None
    if doc.issues:
        raise AdvisoryDataError(to_problems(doc.issues, origin))
    return parse_advisory(doc.data, origin=origin, doc=doc)


def load_advisory(path: str | Path | None = None) -> Advisory:
    """Load and validate the advisory data once per path (cached).

    No path: the packaged `bot/domain/data/advisory.yaml`. A path is for
    tests and for trying a revised table before shipping it.
    """
    return _load_cached(Path(path) if path is not None else None)


# ---------------------------------------------------------------------------
# The schema of the data file (bot.datafile maps its errors to file:line)
# ---------------------------------------------------------------------------


def _utc(value: object) -> datetime:
    """An ISO instant (a YAML timestamp or a string); one without a zone is taken as UTC."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise refuse(f"not an ISO date-time: {value!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _pattern(value: object) -> re.Pattern[str]:
    try:
        return re.compile(str(value), re.IGNORECASE)
    except re.error as exc:
        raise refuse(f"not a valid regular expression ({exc})") from None


def _prefix(value: object) -> tuple[int, ...]:
    if isinstance(value, float):
        raise refuse(f'write the prefix in quotes: YAML reads {value!r} as a number ("8.10" is not 8.1)')
    text = str(value)
    if not re.fullmatch(r"\d+(\.\d+)*", text):
        raise refuse(f'\'{text}\' is not a dotted numeric prefix (like "8.10" or "17.3")')
    return tuple(int(p) for p in text.split("."))


def _csc_ids(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else [] if value is None else [value]
    ids = tuple(normalise_csc(str(c)) or "" for c in items)
    if "" in ids:
        raise refuse("apsp.csc_ids holds something that is not a CSC id")
    return ids


UtcTime = Annotated[datetime, BeforeValidator(_utc)]
CaseFreePattern = Annotated[re.Pattern[str], BeforeValidator(_pattern)]


class ImageCertificateEntry(Strict):
    serial: Text = ""
    issued: Text | None = None
    expiry: Annotated[dict[str, UtcTime], Field(min_length=1)]


class TimebackEntry(Strict):
    default_target: UtcTime
    margin_after_certificate_start_hours: float
    fallback_after_certificate_start_hours: float
    min_window_before_expiry_hours: float
    ap_reboot_wait_minutes: float = 30


class FamilyEntry(Strict):
    id: Text
    label: Text
    category: ModelCategory
    match: CaseFreePattern
    generation: Text | None = None
    reason: Text | None = None
    source: Text | None = None


class TrainEntry(Strict):
    prefix: Annotated[tuple[int, ...], BeforeValidator(_prefix)]
    build_below: int | None = None
    build_at_least: int | None = None


class ApspEntry(Strict):
    min_number: int | None = None
    recommended_number: int | None = None
    csc_ids: Annotated[tuple[str, ...], BeforeValidator(_csc_ids)] = ()


class FixRowEntry(Strict):
    """One fixed-software row: `fixed_from`, or `release` + `apsp`, inside its own train."""

    id: Text
    platform: Text
    train_label: Text | None = None
    train: TrainEntry
    fixed_from: Text | None = None
    release: Text | None = None
    apsp: ApspEntry | None = None
    fixes: Literal["all"] | list[Text] = "all"
    note: Text | None = None
    recommend: Text
    source: Text | None = None

    def versions(self, schemes: Sequence[VersionScheme]) -> tuple[Version | None, Version | None]:
        """(fixed_from, release), parsed for the row's platform by the file's own `schemes`."""
        return (
            None if self.fixed_from is None else parse_version(self.fixed_from, self.platform, schemes),
            None if self.release is None else parse_version(self.release, self.platform, schemes),
        )

    def match(self) -> TrainMatch:
        return TrainMatch(self.train.prefix, self.train.build_below, self.train.build_at_least)

    @model_validator(mode="after")
    def _rule(self) -> FixRowEntry:
        # The versions themselves are checked by `problems`, from `_cross_checks`: parsing
        # them needs the file's `platforms:` schemes, which one row cannot see.
        if (self.fixed_from is None) == (self.release is None) or (self.release is not None and self.apsp is None):
            raise refuse("needs either fixed_from, or release + apsp")
        return self

    def problems(self, schemes: Sequence[VersionScheme]) -> list[str]:
        """What is wrong with this row's versions: unparsable, or outside its own train."""
        fixed_from, release = self.versions(schemes)
        for text, parsed in ((self.fixed_from, fixed_from), (self.release, release)):
            if text is not None and parsed is None:
                return [f"unparsable version {text!r}"]
        return [
            f"{version} is outside its own train {self.match()}"
            for version in (fixed_from, release)
            if version is not None and not self.match().matches(version)
        ][:1]


class MajorsEntry(Strict):
    first: Annotated[int, Field(ge=0)]
    last: Annotated[int | None, Field(ge=0)] = None


class PlatformEntry(Strict):
    """One `platforms:` entry: a controller family's release numbering and verdict facts."""

    majors: MajorsEntry
    significant_parts: Annotated[int, Field(ge=1, le=6)]
    ntp_listed_with_clock: bool = False
    upgrade_advice_when_downloading: Text | None = None

    def facts(self, name: str) -> PlatformFacts:
        scheme = VersionScheme(name, self.majors.first, self.majors.last, self.significant_parts)
        advice = self.upgrade_advice_when_downloading
        return PlatformFacts(name, scheme, self.ntp_listed_with_clock, " ".join(advice.split()) if advice else None)


def _key_pattern(value: object) -> re.Pattern[str]:
    pattern = _pattern(value)
    if not {"series", "number"} <= set(pattern.groupindex):
        raise refuse("model_key_pattern needs named groups 'series' and 'number'")
    return pattern


class AdvisoryFile(Strict):
    """The whole data file; rules across sections are checked by `_cross_checks`."""

    schema_version: int = Field(1, alias="schema")
    source_default: Text = "domain-reference"
    sources: dict[str, Text] = Field(default_factory=dict)
    image_certificate: ImageCertificateEntry
    timeback: TimebackEntry
    model_key_pattern: Annotated[re.Pattern[str], BeforeValidator(_key_pattern)]
    categories: dict[str, Text] = Field(default_factory=dict)
    families: list[FamilyEntry]
    fixed_releases: list[FixRowEntry]
    platforms: dict[Text, PlatformEntry]
    no_fix_listed: dict[Text, Text]


def _cross_checks(data: AdvisoryFile, origin: str, doc: Document | None) -> list[Problem]:
    """What no single entry can know: unique family ids, known families and platforms, a target before expiry."""

    def problem(loc: tuple[str | int, ...], message: str) -> Problem:
        return Problem(origin, doc.line(loc) if doc is not None else None, message)

    problems: list[Problem] = []
    family_ids = [f.id for f in data.families]
    for i, family in enumerate(data.families):
        if family_ids.index(family.id) != i:
            problems.append(problem(("families", i, "id"), f"duplicate family ids: '{family.id}' is used twice"))
    known = sorted(data.platforms)
    schemes = [entry.facts(name).scheme for name, entry in data.platforms.items()]
    for i, scheme in enumerate(schemes):
        if scheme.last_major is not None and scheme.last_major < scheme.first_major:
            problems.append(
                problem(
                    ("platforms", scheme.platform, "majors"),
                    f"platforms.{scheme.platform}.majors: last is before first",
                )
            )
        for other in schemes[:i]:
            if scheme.owns(other.first_major) or other.owns(scheme.first_major):  # two ranges meet
                message = (
                    f"platforms.{scheme.platform}.majors overlap {other.platform}'s: a version must tell its family"
                )
                problems.append(problem(("platforms", scheme.platform, "majors"), message))
    for i, row in enumerate(data.fixed_releases):
        if row.platform not in data.platforms:
            message = f"fixed_releases[{i}]: platform '{row.platform}' is not one of {', '.join(known)}"
            problems.append(problem(("fixed_releases", i, "platform"), message))
            continue
        problems.extend(problem(("fixed_releases", i), f"fixed_releases[{i}]: {m}") for m in row.problems(schemes))
        unknown = [] if row.fixes == "all" else [f for f in row.fixes if f not in family_ids]
        if unknown:
            problems.append(
                problem(("fixed_releases", i, "fixes"), f"fixed_releases[{i}]: fixes names unknown families {unknown}")
            )
    missing = [name for name in known if name not in data.no_fix_listed]
    if missing:
        problems.append(problem(("no_fix_listed",), f"no_fix_listed lacks {missing}"))
    for name in data.no_fix_listed:
        if name not in data.platforms:
            message = f"no_fix_listed: platform '{name}' is not one of {', '.join(known)}"
            problems.append(problem(("no_fix_listed", name), message))
    if data.timeback.default_target >= min(data.image_certificate.expiry.values()):
        problems.append(
            problem(("timeback", "default_target"), "timeback.default_target is not before the image cert expiry")
        )
    return problems


def parse_advisory(raw: Any, origin: str = "<data>", doc: Document | None = None) -> Advisory:
    """Turn the YAML structure into an `Advisory`, failing loudly on any error.

    Validation happens here so that a bad edit of the data file breaks the
    tests and startup, not a verdict in the middle of an incident. `doc`
    (when the data was read from a file) gives each problem its line.
    """
    if not isinstance(raw, Mapping):
        raise AdvisoryDataError([Problem(origin, None, "top level must be a mapping")])
    data, issues = schema_issues(AdvisoryFile, raw, doc)
    problems = to_problems(issues, origin) if issues else _cross_checks(data, origin, doc)
    if problems:
        raise AdvisoryDataError(problems)
    default_source = data.source_default
    families = tuple(
        ModelFamily(
            id=f.id,
            label=f.label,
            category=f.category,
            pattern=f.match,
            generation=f.generation,
            reason=f.reason,
            source=f.source or default_source,
        )
        for f in data.families
    )
    platforms = {name: entry.facts(name) for name, entry in data.platforms.items()}
    schemes = [p.scheme for p in platforms.values()]
    rows = []
    for row in data.fixed_releases:
        fixed_from, release = row.versions(schemes)
        apsp = (
            None if row.apsp is None else ApspRule(row.apsp.min_number, row.apsp.recommended_number, row.apsp.csc_ids)
        )
        rows.append(
            FixRow(
                id=row.id,
                platform=row.platform,
                train_label=row.train_label or ".".join(map(str, row.train.prefix)),
                train=row.match(),
                recommend=row.recommend,
                fixed_from=fixed_from,
                release=release,
                apsp=apsp,
                fixes_all=row.fixes == "all",
                fixed_families=() if row.fixes == "all" else tuple(row.fixes),
                note=row.note,
                source=row.source or default_source,
            )
        )
    tb = data.timeback
    return Advisory(
        image_cert_serial=data.image_certificate.serial,
        image_cert_expiries=dict(data.image_certificate.expiry),
        timeback=TimebackSettings(
            default_target=tb.default_target,
            margin_after_certificate_start=timedelta(hours=tb.margin_after_certificate_start_hours),
            fallback_after_certificate_start=timedelta(hours=tb.fallback_after_certificate_start_hours),
            min_window_before_expiry=timedelta(hours=tb.min_window_before_expiry_hours),
            ap_reboot_wait=timedelta(minutes=tb.ap_reboot_wait_minutes),
        ),
        model_key_pattern=data.model_key_pattern,
        families=families,
        category_reasons=dict(data.categories),
        fixed_releases=tuple(rows),
        no_fix_listed={p: " ".join(v.split()) for p, v in data.no_fix_listed.items()},
        sources=dict(data.sources),
        platforms=platforms,
    )


# ---------------------------------------------------------------------------
# AP model classification
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelClass:
    """What the advisory says about one AP model string, and why."""

    model: str | None
    category: ModelCategory
    reason: str
    family_id: str | None = None
    family_label: str | None = None
    key: str | None = None
    source: str | None = None

    @property
    def at_risk(self) -> bool:
        """Affected or likely affected: an IOS image that can loop in Downloading."""
        return self.category in (ModelCategory.AFFECTED, ModelCategory.LIKELY_AFFECTED)

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


def model_key(model: str | None, advisory: Advisory | None = None) -> str | None:
    """Reduce a model string to the key the family table matches (`3702`, `C9120`, `IW3702`)."""
    if not model or not model.strip():
        return None
    adv = advisory or load_advisory()
    match = adv.model_key_pattern.match(model.strip().upper())
    if match is None:
        return None
    return f"{match.group('series') or ''}{match.group('number')}"


def classify_model(model: str | None, advisory: Advisory | None = None) -> ModelClass:
    """Classify an AP model (full PID or short 9800 name) from the data table.

    Never guesses: a model that matches no family is `unknown`, with the
    string kept so the report can show it.
    """
    adv = advisory or load_advisory()
    if not model or not model.strip():
        return ModelClass(model, ModelCategory.UNKNOWN, "the controller did not report a model")
    key = model_key(model, adv)
    if key is None:
        return ModelClass(
            model,
            ModelCategory.UNKNOWN,
            f"{model!r} does not look like an AP model the advisory table knows; check it by hand",
        )
    for family in adv.families:
        if family.pattern.fullmatch(key):
            generic = adv.category_reasons.get(family.category.value, family.category.value)
            detail = family.reason or generic
            generation = f", {family.generation}" if family.generation else ""
            return ModelClass(
                model=model,
                category=family.category,
                reason=f"{family.label}{generation}: {detail}",
                family_id=family.id,
                family_label=family.label,
                key=key,
                source=family.source,
            )
    return ModelClass(
        model,
        ModelCategory.UNKNOWN,
        f"{model!r} (family {key}) is not in the advisory table; cannot tell whether it is affected",
        key=key,
    )


# ---------------------------------------------------------------------------
# Fixed software
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Time-back
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, datetimes, timedeltas and patterns to JSON-safe values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, re.Pattern):
        return value.pattern
    if isinstance(value, Mapping):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return value


__all__ = [
    "Advisory",
    "AdvisoryDataError",
    "FixRow",
    "FixState",
    "FixStatus",
    "ModelCategory",
    "ModelClass",
    "ModelFamily",
    "Recommendation",
    "TimebackPlan",
    "classify_model",
    "is_fixed",
    "load_advisory",
    "model_key",
    "parse_advisory",
    "recommended_release",
    "software_fix",
    "timeback_target",
    "to_jsonable",
]
