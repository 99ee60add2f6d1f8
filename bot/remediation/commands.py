"""The only way a remediation builds a command that changes a controller.

Templates live in data (`bot/controllers/platforms/<platform>/changes.yaml`);
each `{field}` names a *kind*, and every value is checked against its kind
here before the template is filled. A playbook can therefore never send
free-form CLI: it picks actions, actions pick templates, and values that are
not an IP address, an integer in range, a strict name or a date this code
formatted itself are refused with `CommandValueError` before anything is sent.
"""

from __future__ import annotations

import ipaddress
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from bot.datafile import (
    DataFileError,
    Document,
    Issue,
    Strict,
    Text,
    default_message,
    default_where,
    parse_yaml,
    plain_path,
    refuse,
    schema_issues,
    to_problems,
)
from bot.domain.models import PlatformName

# VRF and interface names: letters, digits and the punctuation IOS uses in
# them (`Mgmt-intf`, `GigabitEthernet0/0/1.100`, `Vlan10`); no spaces, no `|`.
VRF_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,31}$")
INTERFACE_NAME = re.compile(r"^[A-Za-z][A-Za-z-]{1,40}[0-9][0-9/.:]{0,20}$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# IOS `ntp server` options we can put back: value options with their range, and flags.
IOS_NTP_VALUE_RANGES: dict[str, tuple[int, int]] = {
    "version": (1, 4),
    "key": (1, 4294967295),
    "minpoll": (4, 17),
    "maxpoll": (4, 17),
}
IOS_NTP_FLAGS = frozenset({"prefer", "burst", "iburst"})


class CommandValueError(ValueError):
    """A value that may not go into a command (the message says which and why)."""


class ChangesDataError(DataFileError):
    """`changes.yaml` itself is malformed (a packaging bug, caught by the tests); every problem at its line."""


@dataclass(frozen=True)
class Command:
    """One line to send. `confirm` is (prompt, answer) for commands that ask."""

    text: str
    changes: bool = True
    confirm: tuple[str, str] | None = None
    timeout_seconds: float | None = None
    purpose: str = ""
    expect: str | None = None


@dataclass(frozen=True)
class FieldSpec:
    kind: str
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class Template:
    name: str
    text: str
    fields: Mapping[str, FieldSpec]
    confirm: tuple[str, str] | None = None
    timeout_seconds: float | None = None
    expect: str | None = None


@dataclass(frozen=True)
class ChangeCatalog:
    """One platform's templates and read keys, as loaded from `changes.yaml`."""

    platform: PlatformName
    templates: Mapping[str, Template]
    reads: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def render(self, name: str, purpose: str = "", **values: Any) -> Command:
        """Fill template `name` with validated values; raise CommandValueError otherwise."""
        template = self.templates.get(name)
        if template is None:
            raise CommandValueError(f"{self.platform}: no change template '{name}'")
        missing = set(template.fields) - set(values)
        extra = set(values) - set(template.fields)
        if missing or extra:
            raise CommandValueError(
                f"{self.platform} '{name}': expected values {sorted(template.fields)}, got {sorted(values)}"
            )
        text_values = {key: validate(spec, values[key], f"{name}.{key}") for key, spec in template.fields.items()}
        return Command(
            text=template.text.format(**text_values),
            confirm=template.confirm,
            timeout_seconds=template.timeout_seconds,
            purpose=purpose,
            expect=template.expect,
        )


def _int_value(value: Any, where: str, low: int | None, high: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        else:
            raise CommandValueError(f"{where}: {value!r} is not an integer")
    if (low is not None and value < low) or (high is not None and value > high):
        raise CommandValueError(f"{where}: {value} is outside {low}..{high}")
    return value


def ip_address_text(value: Any, where: str) -> str:
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        raise CommandValueError(f"{where}: {value!r} is not an IP address") from None


def ntp_address_text(value: Any, where: str) -> str:
    """An IP address, or a strict DNS host name (IOS accepts names for NTP servers)."""
    text = str(value)
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    if HOSTNAME.match(text) and not text.replace(".", "").isdigit():
        return text
    raise CommandValueError(f"{where}: {value!r} is neither an IP address nor a host name")


def ios_ntp_server_line(value: Any, where: str) -> str:
    """Check a recorded `ntp server ...` line word by word; return it unchanged.

    Restoring the exact line is the point (vrf, key, prefer, source must come
    back), so the line is not rebuilt, but every word must be one IOS defines
    for `ntp server` with a value of the right shape: a line that was tampered
    with in the database, or holds anything unexpected, is refused.
    """
    text = str(value)
    if text != text.strip() or "  " in text or any(c in text for c in "\r\n\t|;!#"):
        raise CommandValueError(f"{where}: unexpected characters in {text!r}")
    words = text.split(" ")
    if words[:2] != ["ntp", "server"] or len(words) < 3:
        raise CommandValueError(f"{where}: {text!r} is not an `ntp server` line")
    i = 2
    if words[i] == "vrf":
        if i + 1 >= len(words) or not VRF_NAME.match(words[i + 1]):
            raise CommandValueError(f"{where}: bad VRF name in {text!r}")
        i += 2
    if i < len(words) and words[i] in {"ip", "ipv6"}:
        i += 1
    if i >= len(words):
        raise CommandValueError(f"{where}: no address in {text!r}")
    ntp_address_text(words[i], where)
    i += 1
    while i < len(words):
        word = words[i]
        if word in IOS_NTP_FLAGS:
            i += 1
            continue
        if word in IOS_NTP_VALUE_RANGES:
            low, high = IOS_NTP_VALUE_RANGES[word]
            if i + 1 >= len(words):
                raise CommandValueError(f"{where}: `{word}` without a value in {text!r}")
            _int_value(words[i + 1], f"{where} {word}", low, high)
            i += 2
            continue
        if word == "source":
            if i + 1 >= len(words) or not INTERFACE_NAME.match(words[i + 1]):
                raise CommandValueError(f"{where}: bad source interface in {text!r}")
            i += 2
            continue
        raise CommandValueError(f"{where}: unknown word {word!r} in {text!r}")
    return text


def validate(spec: FieldSpec, value: Any, where: str) -> str:
    """The text of `value` for a field of `spec.kind`, or CommandValueError."""
    kind = spec.kind
    if kind == "integer":
        return str(_int_value(value, where, spec.minimum, spec.maximum))
    if kind == "ip_address":
        return ip_address_text(value, where)
    if kind == "ntp_address":
        return ntp_address_text(value, where)
    if kind == "vrf_name":
        if not isinstance(value, str) or not VRF_NAME.match(value):
            raise CommandValueError(f"{where}: {value!r} is not a VRF name")
        return value
    if kind == "ios_ntp_server_line":
        return ios_ntp_server_line(value, where)
    # Dates and times: only datetimes this code chose; formatted here, never parsed from text.
    if kind in {"date_mm_dd_yy", "time_hh_mm_ss"}:
        if not isinstance(value, datetime):
            raise CommandValueError(f"{where}: expected a datetime, got {type(value).__name__}")
        return value.strftime("%m/%d/%y") if kind == "date_mm_dd_yy" else value.strftime("%H:%M:%S")
    if kind == "month_abbrev":
        if value not in MONTHS:
            raise CommandValueError(f"{where}: {value!r} is not a month abbreviation")
        return str(value)
    raise CommandValueError(f"{where}: unknown field kind {kind!r}")


KNOWN_KINDS = frozenset(
    {
        "integer",
        "ip_address",
        "ntp_address",
        "vrf_name",
        "ios_ntp_server_line",
        "date_mm_dd_yy",
        "time_hh_mm_ss",
        "month_abbrev",
    }
)


def _kind(value: str) -> str:
    if value not in KNOWN_KINDS:
        raise refuse(f"'{value}' is not one of {', '.join(sorted(KNOWN_KINDS))}")
    return value


class FieldEntry(Strict):
    kind: Annotated[str, AfterValidator(_kind)]
    min: int | None = None
    max: int | None = None


class ConfirmEntry(Strict):
    prompt: Text
    answer: Text


class ChangeEntry(Strict):
    """One template: its `{fields}` must be exactly the declared ones, each with a known kind."""

    template: str
    fields: dict[str, FieldEntry] = Field(default_factory=dict)
    confirm: ConfirmEntry | None = None
    timeout_seconds: Annotated[float, Field(gt=0)] | None = None
    expect: Text | None = None

    @model_validator(mode="after")
    def _placeholders(self) -> ChangeEntry:
        try:
            found = {f for _, f, _, _ in string.Formatter().parse(self.template) if f is not None}
        except ValueError as exc:
            raise refuse(f"template {self.template!r} is not a format string ({exc})") from None
        if found != set(self.fields):
            raise refuse(f"template fields {sorted(found)} != declared {sorted(self.fields)}")
        return self


class ChangesFile(Strict):
    """`<platform>/changes.yaml`: the read keys each purpose uses, and every change template."""

    reads: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    changes: dict[str, ChangeEntry]


def _describe(issue: Issue) -> str:
    loc = issue.loc
    if len(loc) >= 2 and loc[0] == "changes":
        where = f"change '{loc[1]}'"
        if len(loc) >= 4 and loc[2] == "fields":
            where += f" field '{loc[3]}'"
            rest = loc[4:]
        else:
            rest = loc[2:]
        if issue.kind in {"missing", "extra_forbidden"}:
            return default_message(issue, where)
        return default_message(issue, f"{where} {plain_path(rest)}".strip())
    if loc == ("changes",) and issue.kind == "missing":
        return "needs a `changes:` mapping"
    return default_message(issue, default_where(issue))


def parse_catalog(platform: PlatformName, data: Any, origin: str, doc: Document | None = None) -> ChangeCatalog:
    """Build a catalog from parsed YAML, refusing unknown kinds or placeholders (`doc` gives lines)."""
    parsed, issues = schema_issues(ChangesFile, data, doc)
    if parsed is None or issues:
        raise ChangesDataError(to_problems(issues, origin, _describe))
    templates = {
        name: Template(
            name=name,
            text=entry.template,
            fields={key: FieldSpec(spec.kind, spec.min, spec.max) for key, spec in entry.fields.items()},
            confirm=(entry.confirm.prompt, entry.confirm.answer) if entry.confirm else None,
            timeout_seconds=entry.timeout_seconds,
            expect=entry.expect or None,
        )
        for name, entry in parsed.changes.items()
    }
    return ChangeCatalog(platform=platform, templates=templates, reads=dict(parsed.reads))


def parse_catalog_text(platform: PlatformName, text: str, origin: str) -> ChangeCatalog:
    """A catalog from the text of a `changes.yaml`; ChangesDataError names each problem's line."""
    try:
        doc = parse_yaml(text, origin)
    except DataFileError as exc:
        raise ChangesDataError(exc.problems) from None
    if doc.issues:
        raise ChangesDataError(to_problems(doc.issues, origin, _describe))
    return parse_catalog(platform, doc.data, origin, doc)
