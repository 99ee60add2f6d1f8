"""Reading and validating the advisory data file, `bot/domain/data/advisory.yaml`.

Everything Cisco might revise (model families, fixed releases, the image certificate expiry,
the default time-back target) lives in that file, so a revision of the notice is a data change
that the tests re-check, not a code change. This module is the file's schema (pydantic entry
models, mapped to `file:line` by `bot.datafile`), the rules across its sections
(`_cross_checks`) and its loader; it builds the dataclasses of `bot.domain.advisory_data`. It is
the only domain module that imports `bot.datafile`: no device, chat or storage.

Public API:
- `load_advisory()` -> `Advisory` (parsed and validated once, cached)
- `parse_advisory(raw)` -> `Advisory` (the same checks on a YAML structure)
- `AdvisoryDataError` (every problem, file:line)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from bot.datafile import DataFileError, Document, Problem, Strict, Text, parse_yaml, refuse, schema_issues, to_problems
from bot.domain.advisory_data import (
    Advisory,
    ApspRule,
    FixRow,
    ModelCategory,
    ModelFamily,
    PlatformFacts,
    TimebackSettings,
    TrainMatch,
)
from bot.domain.versions import Version, VersionScheme, normalise_csc, parse_version

DATA_PACKAGE = "bot.domain.data"
DATA_FILE = "advisory.yaml"


class AdvisoryDataError(DataFileError):
    """The advisory data file is malformed; raised at load time, never later (every problem, file:line)."""


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


__all__ = ["DATA_FILE", "DATA_PACKAGE", "AdvisoryDataError", "load_advisory", "parse_advisory"]
