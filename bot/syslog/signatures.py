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
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

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
    def from_dict(cls, data: Mapping[str, Any]) -> SignatureSet:
        if not isinstance(data, Mapping) or not isinstance(data.get("signatures"), list):
            raise SignatureError("the signature file needs a top-level 'signatures:' list")
        version = data.get("version", 1)
        if version != 1:
            raise SignatureError(f"signature file version {version!r} is not supported (expected 1)")
        seen: set[str] = set()
        out = []
        for index, entry in enumerate(data["signatures"], start=1):
            signature = _signature(entry, index)
            if signature.id in seen:
                raise SignatureError(f"signature id '{signature.id}' is used twice; ids must be unique")
            seen.add(signature.id)
            out.append(signature)
        return cls(tuple(out), int(version))


_KNOWN_KEYS = {"id", "kind", "severity", "meaning", "pattern", "contains", "ignore_case", "extract"}


def _signature(entry: Any, index: int) -> Signature:
    where = f"signature #{index}"
    if not isinstance(entry, Mapping):
        raise SignatureError(f"{where} must be a mapping with id, kind, severity, pattern, meaning")
    if isinstance(entry.get("id"), str):
        where = f"signature '{entry['id']}'"
    unknown = set(entry) - _KNOWN_KEYS
    if unknown:
        raise SignatureError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    for key in ("id", "kind", "severity", "pattern", "meaning"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise SignatureError(f"{where}: '{key}' is required (a non-empty string)")
    kind = _enum(SignatureKind, entry["kind"], where, "kind")
    severity = _enum(Severity, entry["severity"], where, "severity")
    ignore_case = bool(entry.get("ignore_case", False))
    flags = re.IGNORECASE if ignore_case else 0
    pattern = _compile(entry["pattern"], flags, where, "pattern")
    extract_d = entry.get("extract") or {}
    if not isinstance(extract_d, Mapping):
        raise SignatureError(f"{where}: 'extract' must map field names to regular expressions")
    extract = tuple((str(name), _compile(str(rx), flags, where, f"extract.{name}")) for name, rx in extract_d.items())
    contains = entry.get("contains")
    if contains is not None and (not isinstance(contains, str) or not contains):
        raise SignatureError(f"{where}: 'contains' must be a non-empty string when given")
    return Signature(
        id=entry["id"].strip(),
        kind=kind,
        severity=severity,
        meaning=" ".join(entry["meaning"].split()),
        pattern=pattern,
        contains=contains,
        ignore_case=ignore_case,
        extract=extract,
    )


def _enum(enum: type[StrEnum], value: str, where: str, key: str) -> Any:
    try:
        return enum(value.strip().lower())
    except ValueError:
        allowed = ", ".join(e.value for e in enum)  # type: ignore[attr-defined]
        raise SignatureError(f"{where}: {key} '{value}' is not one of {allowed}") from None


def _compile(text: str, flags: int, where: str, key: str) -> re.Pattern[str]:
    try:
        return re.compile(text, flags)
    except re.error as exc:
        raise SignatureError(f"{where}: {key} is not a valid regular expression ({exc})") from None


def load_signatures(path: Path | str | None = None) -> SignatureSet:
    """Load and validate a signature file (the packaged one by default)."""
    source = Path(path) if path is not None else DEFAULT_SIGNATURES
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SignatureError(f"cannot read signature file {source}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise SignatureError(f"signature file {source} is not valid YAML: {exc}") from None
    return SignatureSet.from_dict(data)


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
