"""The schema of a simulator scenario (and of `defaults.yaml`): every key a controller or AP may have.

A scenario is hand-written YAML, so a misspelt key or a list where a number
belongs is reported at its line, every problem at once, before anything is
built (`bot.datafile` maps pydantic's errors to lines). The schema is a gate:
values keep their YAML form and `build.py` interprets them as it always has
(a MAC address, a fault name, a replay file: its own checks name those), so
the option list lives here and only here.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from bot.datafile import (
    DataFileError,
    Document,
    Issue,
    Strict,
    Text,
    default_message,
    plain_path,
    refuse,
    schema_issues,
)
from bot.datafile import to_problems as _to_problems

PLATFORM_NAMES = ("aireos", "iosxe")


class ScenarioError(DataFileError):
    """A scenario (or the simulator's defaults) that cannot be served; every problem with its place."""


class ApEntry(Strict):
    """One AP of a controller (`aps:`); what is not given is derived stably from the names."""

    name: Text
    model: Text
    image: Text | None = None
    mac: Text | None = None
    radio_mac: Text | None = None
    ip: Text | None = None
    location: Text | None = None
    country: Text | None = None
    regulatory_domain: Text | None = None
    slots: int | None = None
    retry_count: int | None = None
    backup_image: Text | None = None
    short_model: Text | None = None
    serial: Text | None = None
    predownload: Any = None


class ControllerSettings(Strict):
    """Every key a controller may have; all of them may also be set for all controllers in `defaults:`."""

    name: Text | None = None
    platform: Text | None = None
    version: Text | None = None
    site: Text | None = None
    host: Text | None = None
    port: int | None = Field(default=None, ge=0, le=65535)
    username: Text | None = None
    password: Text | None = None
    accounts: dict[Text, Text] | None = None
    ssh_auth: Text | None = None
    fixed: bool | None = None
    hardware: Text | None = None
    mgmt_ip: Text | None = None
    serial_number: Text | None = None
    ap_image: Text | None = None
    ntp: list[Any] | None = None
    ntp_keys: dict[Any, Any] | None = None
    ntp_authenticate: bool | None = None
    ntp_trusted_keys: list[int] | None = None
    certificate: dict[str, Any] | None = None
    aps: list[ApEntry] | None = None
    apsps: list[Any] | None = None
    faults: dict[str, Any] | None = None
    ap_syslog: Any = None
    ntp_unreachable: list[Any] | None = None
    replay: dict[str, Text] | None = None
    download_seconds: float | None = None
    ntp_sync_seconds: float | None = None
    aireos_page_lines: int | None = None
    iosxe_terminal_length: int | None = None
    ap_summary_header_every: int | None = None
    aireos_summary_lists_downloading: bool | None = None
    clock: Any = None
    image_signing_cert: dict[str, Any] | None = None
    ios_based_models: list[Text] | None = None
    terminal_width: int | None = None
    ap_summary_truncate: int | None = None
    version_string: Text | None = None
    version_form: Text | None = None
    predownload: Any = None

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in PLATFORM_NAMES:
            raise refuse(f"must be one of {', '.join(PLATFORM_NAMES)}, not {value!r}")
        return value


class ControllerEntry(ControllerSettings):
    """One controller of a scenario: it needs a name (the platform may come from `defaults:`)."""

    name: Text


class SiteEntry(Strict):
    name: Text | None = None
    controllers: list[ControllerEntry] = Field(default_factory=list)


class ScenarioFile(Strict):
    """A whole scenario: `defaults:`, `sites:` with their controllers, or a flat `controllers:` list."""

    defaults: ControllerSettings | None = None
    sites: list[SiteEntry] | None = None
    controllers: list[ControllerEntry] | None = None
    host_key: Text | None = None


def _where(issue: Issue, data: Any) -> str:
    """`controller 'wlc-a1' port` for a place inside a controller entry; the dotted path otherwise."""
    loc = issue.loc[:-1] if issue.kind in {"missing", "extra_forbidden"} else issue.loc
    base: tuple[str | int, ...] | None = None
    if len(loc) >= 2 and loc[0] == "controllers":
        base = loc[:2]
    elif len(loc) >= 4 and loc[0] == "sites" and loc[2] == "controllers":
        base = loc[:4]
    if base is None:
        return plain_path(loc) or "scenario"
    entry: Any = data
    for part in base:
        try:
            entry = entry[part]
        except (KeyError, IndexError, TypeError):
            entry = None
            break
    name = entry.get("name") if isinstance(entry, dict) else None
    rest = loc[len(base) :]
    head = f"controller {name!r}" if name is not None else f"scenario {plain_path(base)}"
    return f"{head} {plain_path(rest)}".strip()


def check_scenario(data: Any, doc: Document | None = None, origin: str = "scenario") -> None:
    """Raise ScenarioError naming every key or value the scenario schema refuses (with lines from `doc`)."""
    _, issues = schema_issues(ScenarioFile, data, doc)
    issues = (doc.issues if doc is not None else []) + issues
    if issues:
        raise ScenarioError(_to_problems(issues, origin, lambda issue: default_message(issue, _where(issue, data))))


def check_defaults(data: Any, origin: str) -> None:
    """Raise ScenarioError when the simulator's own `defaults.yaml` holds a key no controller has."""
    _, issues = schema_issues(ControllerSettings, data)
    if issues:
        raise ScenarioError(_to_problems(issues, origin))
