"""Signature matching: which AP log lines mean what, kept as data in `signatures.yaml`.

Why data: the exact wording of AP messages differs across IOS releases and
the tech note redacts parts of them (`SN: XX`). When a site shows a variant,
the fix is a line of YAML with a test line next to it, not a code change.

The first signature that matches wins (file order), so the specific
"image-signing certificate expired" comes before the generic "some
certificate expired". A literal `contains` pre-check runs before each regex,
which keeps a flood of unrelated lines cheap (see benchmarks/syslog_flood.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationInfo, field_validator

from bot.datafile import (
    CUSTOM,
    DataFileError,
    Document,
    Issue,
    Strict,
    default_message,
    default_where,
    parse_yaml,
    plain_path,
    refuse,
    schema_issues,
    to_problems,
)

DEFAULT_SIGNATURES = Path(__file__).with_name("signatures.yaml")
MAX_FIELD = 200


class SignatureKind(StrEnum):
    FAILURE = "failure"
    SUCCESS = "success"
    NOT_YET_VALID = "not_yet_valid"
    CONTEXT = "context"


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class SignatureError(ValueError):
    """The signature file is wrong; the message names the entry and the fix."""


@dataclass(frozen=True)
class Signature:
    id: str
    kind: SignatureKind
    severity: Severity
    meaning: str
    pattern: re.Pattern[str]
    contains: str | None = None
    ignore_case: bool = False
    extract: tuple[tuple[str, re.Pattern[str]], ...] = ()

    def match(self, text: str, folded: str | None = None) -> SignatureMatch | None:
        """This signature on one message text; `folded` is `text.lower()` when the caller has it."""
        if self.contains is not None:
            if self.ignore_case:
                haystack = folded if folded is not None else text.lower()
                if self.contains.lower() not in haystack:
                    return None
            elif self.contains not in text:
                return None
        m = self.pattern.search(text)
        if m is None:
            return None
        fields = {k: v[:MAX_FIELD] for k, v in m.groupdict().items() if v is not None}
        for name, regex in self.extract:
            found = regex.search(text)
            if found is None:
                continue
            groups = found.groupdict()
            value = groups.get(name) if name in groups else (found.group(1) if regex.groups else found.group(0))
            if value is not None:
                fields[name] = value[:MAX_FIELD]
        return SignatureMatch(self, fields)


@dataclass(frozen=True)
class SignatureMatch:
    """A signature that matched, with the fields its groups and extracts found."""

    signature: Signature
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.signature.id

    @property
    def kind(self) -> SignatureKind:
        return self.signature.kind

    @property
    def severity(self) -> Severity:
        return self.signature.severity

    @property
    def meaning(self) -> str:
        return self.signature.meaning


@dataclass(frozen=True)
class SignatureSet:
    """The loaded signatures, in file order."""

    signatures: tuple[Signature, ...]
    version: int = 1

    def match(self, text: str) -> SignatureMatch | None:
        """The first signature matching `text`, or None. Never raises on any str."""
        folded: str | None = None
        for signature in self.signatures:
            if signature.ignore_case and folded is None:
                folded = text.lower()
            found = signature.match(text, folded)
            if found is not None:
                return found
        return None

    def by_id(self, signature_id: str) -> Signature:
        for signature in self.signatures:
            if signature.id == signature_id:
                return signature
        raise KeyError(signature_id)

    def __iter__(self) -> Any:
        return iter(self.signatures)

    def __len__(self) -> int:
        return len(self.signatures)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, doc: Document | None = None) -> SignatureSet:
        """Validate the file's data (`doc` gives the lines when it was read from a file)."""
        origin = doc.file if doc is not None else "signature data"
        if not isinstance(data, Mapping) or not isinstance(data.get("signatures"), list):
            raise SignatureError(f"{origin}: the signature file needs a top-level 'signatures:' list")
        parsed, issues = schema_issues(SignatureFile, data, doc)
        problems = to_problems(issues, origin, _describe(data))
        if parsed is None or problems:
            raise SignatureError("\n".join(str(p) for p in problems))
        seen: dict[str, int] = {}
        out = []
        for index, entry in enumerate(parsed.signatures):
            if entry.id in seen:
                line = doc.line(("signatures", index, "id")) if doc is not None else None
                where = f"{origin}:{line}" if line is not None else origin
                raise SignatureError(f"{where}: signature id '{entry.id}' is used twice; ids must be unique")
            seen[entry.id] = index
            out.append(entry.build())
        return cls(tuple(out), parsed.version)


# ---------------------------------------------------------------------------
# The schema of `signatures.yaml`
# ---------------------------------------------------------------------------


def _required_text(value: object, info: ValidationInfo) -> object:
    if not isinstance(value, str) or not value.strip():
        raise refuse(f"'{info.field_name}' is required (a non-empty string)")
    return value


def _regex(value: str, info: ValidationInfo) -> str:
    flags = re.IGNORECASE if info.data.get("ignore_case") else 0
    try:
        re.compile(value, flags)
    except re.error as exc:
        raise refuse(f"{info.field_name} is not a valid regular expression ({exc})") from None
    return value


def _choice(enum: type[StrEnum]) -> Any:
    def check(value: object, info: ValidationInfo) -> object:
        text = _required_text(value, info)
        try:
            return enum(str(text).strip().lower())
        except ValueError:
            allowed = ", ".join(e.value for e in enum)  # type: ignore[attr-defined]
            raise refuse(f"{info.field_name} '{text}' is not one of {allowed}") from None

    return BeforeValidator(check)


RequiredText = Annotated[str, BeforeValidator(_required_text)]


class SignatureEntry(Strict):
    """One signature as written; field order matters (`ignore_case` before the regexes it flags)."""

    id: RequiredText
    kind: Annotated[SignatureKind, _choice(SignatureKind)]
    severity: Annotated[Severity, _choice(Severity)]
    ignore_case: bool = False
    pattern: Annotated[RequiredText, AfterValidator(_regex)]
    meaning: RequiredText
    contains: str | None = None
    extract: dict[str, str] | None = None

    @field_validator("contains", mode="before")
    @classmethod
    def _contains(cls, value: object) -> object:
        if value is not None and (not isinstance(value, str) or not value):
            raise refuse("'contains' must be a non-empty string when given")
        return value

    @field_validator("extract", mode="before")
    @classmethod
    def _extract(cls, value: object, info: ValidationInfo) -> object:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise refuse("'extract' must map field names to regular expressions")
        flags = re.IGNORECASE if info.data.get("ignore_case") else 0
        for name, regex in value.items():
            try:
                re.compile(str(regex), flags)
            except re.error as exc:
                raise refuse(f"extract.{name} is not a valid regular expression ({exc})") from None
        return {str(name): str(regex) for name, regex in value.items()}

    def build(self) -> Signature:
        flags = re.IGNORECASE if self.ignore_case else 0
        return Signature(
            id=self.id.strip(),
            kind=self.kind,
            severity=self.severity,
            meaning=" ".join(self.meaning.split()),
            pattern=re.compile(self.pattern, flags),
            contains=self.contains,
            ignore_case=self.ignore_case,
            extract=tuple((name, re.compile(rx, flags)) for name, rx in (self.extract or {}).items()),
        )


class SignatureFile(BaseModel):
    """The whole file; keys beside `version` and `signatures` were never read, and still are not."""

    model_config = ConfigDict(frozen=True)

    version: int = 1
    signatures: list[SignatureEntry]

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: object) -> object:
        if value != 1:
            raise refuse(f"signature file version {value!r} is not supported (expected 1)")
        return value


def _describe(data: Any) -> Callable[[Issue], str]:
    def describe(issue: Issue) -> str:
        loc = issue.loc
        if len(loc) < 2 or loc[0] != "signatures":
            return issue.message if issue.kind == CUSTOM else default_message(issue, default_where(issue))
        index = int(loc[1])
        entry = data["signatures"][index]
        where = (
            f"signature '{entry['id']}'"
            if isinstance(entry, Mapping) and isinstance(entry.get("id"), str)
            else (f"signature #{index + 1}")
        )
        if len(loc) == 2:
            return f"{where} must be a mapping with id, kind, severity, pattern, meaning"
        if issue.kind == "missing" and loc[2] in {"id", "kind", "severity", "pattern", "meaning"}:
            return f"{where}: '{loc[2]}' is required (a non-empty string)"
        if issue.kind in {"missing", "extra_forbidden", CUSTOM}:
            return default_message(issue, where)
        return default_message(issue, f"{where} {plain_path(loc[2:])}")

    return describe


def load_signatures(path: Path | str | None = None) -> SignatureSet:
    """Load and validate a signature file (the packaged one by default)."""
    source = Path(path) if path is not None else DEFAULT_SIGNATURES
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise SignatureError(f"cannot read signature file {source}: {exc.strerror or exc}") from None
    try:
        doc = parse_yaml(text, str(source))
    except DataFileError as exc:
        raise SignatureError(str(exc)) from None  # "<file>:<line>: not valid YAML: <why>"
    if doc.issues:
        raise SignatureError("\n".join(str(p) for p in to_problems(doc.issues, str(source))))
    return SignatureSet.from_dict(doc.data, doc=doc)


_default: SignatureSet | None = None


def default_signatures() -> SignatureSet:
    """The packaged signatures, loaded once."""
    global _default
    if _default is None:
        _default = load_signatures()
    return _default


__all__ = [
    "DEFAULT_SIGNATURES",
    "Severity",
    "Signature",
    "SignatureError",
    "SignatureKind",
    "SignatureMatch",
    "SignatureSet",
    "default_signatures",
    "load_signatures",
]
