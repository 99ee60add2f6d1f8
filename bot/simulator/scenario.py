"""Scenarios: which controllers and APs a simulator run serves.

A scenario is YAML (or the same as a dict):

    defaults:                 # optional, over the built-in defaults.yaml
      download_seconds: 120
    host_key: keys/sim_ed25519   # optional, relative to the file
    sites:
      - name: site-a
        controllers:
          - name: wlc-a1
            platform: aireos            # or iosxe
            version: 8.10.162.0
            host: 127.0.0.1
            port: 2201                  # 0 = pick a free port
            username: admin
            password: admin
            accounts: {noc: n0c-pass}   # optional further logins (each typed line is logged by login)
            ssh_auth: none              # AireOS default; iosxe: password
            fixed: false                # on fixed software for CSCwd80290?
            ntp:                        # AireOS: index/address/key; 9800: config text or dict
              - {index: 1, address: 192.0.2.123, key: 1}
            ntp_keys: {1: "md5 ascii s3cret"}
            ntp_unreachable: [198.51.100.9]
            certificate: {not_before: 2019-05-14T08:31:07Z, not_after: 2029-05-14T08:41:07Z}
            ap_syslog: {host: 127.0.0.1, port: 5514}
            apsps: [C9800-universalk9_wlc.17.03.06.CSCwe10047.SPA.apsp.bin]
            replay: {"show ap summary": captures/summary.raw}
            faults: {command_delay_ms: 200}
            clock: 2022-12-02T00:00:00Z # optional hand-set clock at start
            terminal_width: 80          # optional narrow screen (see below)
            ap_summary_truncate: 37     # optional: `show ap summary` prints 37 rows at most
            version_string: "8.10.151.0"  # optional odd version text (see below)
            predownload: {status: Predownloading, version: 8.10.185.0}  # optional, every AP
            aps:
              - {name: AP3702-1, model: AIR-CAP3702I-E-K9, image: 8.5.182.0}
              - {name: AP1852-1, model: AIR-AP1852I-E-K9,
                 predownload: {status: Complete, version: 8.10.185.0}}

A flat top-level `controllers:` list (each with an optional `site:`) works too.
Every key a controller or AP may have is listed in `scenario_schema.py`
(a scenario file's mistakes are reported with their lines); each controller
key may also be set for all controllers in `defaults:`.

Options for awkward real-world output (none of them changes anything when
absent; FORMATS.md says which parts are copied from captures and which are
invented):

- `terminal_width: N` (default 0, no wrapping): each session's screen is N
  columns; every line of command output longer than that is hard-wrapped
  with `wrapping.wrap_line` (pieces of exactly N characters). The echo,
  prompts, questions, error messages and replayed captures are not wrapped.
  On IOS-XE the session starts at N and `terminal width W` changes it for
  that session (0: no wrapping; scrapli and netmiko send 512/511 at login).
  AireOS has no such command, so an AireOS controller with the option always
  wraps. Without the option `terminal width` is accepted and ignored.
- `ap_summary_truncate: N` (default: all rows): `show ap summary` prints the
  true `Number of APs` but only the first N rows (0: no rows), as a real
  capture whose count said 4,135 returned 37 rows. Both platforms.
- `version_string: TEXT`: 9800 `show version` prints TEXT on the
  `Cisco IOS XE Software, Version ...` line instead of the padded release
  (special builds print a name there); AireOS `show sysinfo` prints it as
  the `Product Version`. Quote it in YAML (`"8.10"` is not a float).
- `version_form: release | experimental | engineering` (9800 only, default
  `release`; AireOS ignores it): `experimental` prints a dated
  `BLD_POLARIS_DEV_LATEST_<yyyymmdd>_<hhmmss>` label on the XE line (or
  `version_string`) and `... Experimental Version <major.minor>.<yyyymmdd>:<hhmmss>
  [polaris_dev-/nobackup/mcpre/BLD-<label> <n>]` on the next line;
  `engineering` prints `Version 17.12.01.0.<build>` on both lines.
- `predownload:` on an AP, or on the controller for every AP without its
  own (`predownload: null` on an AP opts out): `{status: Predownloading,
  version: 17.9.4.27}`, or just the version (status `Predownloading`).
  AireOS `show ap image all` and 9800 `show ap image` print the status and
  version columns and count the statuses (`Initiated`, `Predownloading`,
  `Complete`, `Failed`, `Not Supported`). The status does not progress by
  itself: it stays what the scenario (or a test, through
  `AccessPoint.predownload_status`) says.
"""

from __future__ import annotations

import copy
import typing
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from bot.datafile import DataFileError, parse_yaml
from bot.simulator.bug import ImageSigningRules
from bot.simulator.build import build_controller
from bot.simulator.model import AIREOS, IOSXE, Controller
from bot.simulator.scenario_schema import ScenarioError, check_defaults, check_scenario

DEMO_SCENARIO = "demo.yaml"


@cache
def _builtin_defaults() -> dict[str, Any]:
    origin = "bot/simulator/defaults.yaml"
    text = resources.files("bot.simulator").joinpath("defaults.yaml").read_text(encoding="utf-8")
    try:
        data = parse_yaml(text, origin).data
    except DataFileError as exc:
        raise ScenarioError(exc.problems) from None
    check_defaults(data, origin)
    return typing.cast(dict[str, Any], data)


def builtin_defaults() -> dict[str, Any]:
    """The simulator's own defaults (`defaults.yaml` beside this module), a fresh copy each call."""
    return copy.deepcopy(_builtin_defaults())


def demo_path() -> Path:
    return Path(str(resources.files("bot.simulator").joinpath("scenarios", DEMO_SCENARIO)))


@dataclass
class Scenario:
    """Controllers (scenario entries, site filled in) plus defaults."""

    controllers: list[dict[str, Any]]
    defaults: dict[str, Any] = field(default_factory=builtin_defaults)
    base_dir: Path | None = None
    host_key: Path | None = None

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """Read a scenario YAML file; relative paths in it are relative to the file."""
        path = Path(path)
        try:
            doc = parse_yaml(path.read_text(encoding="utf-8"), str(path))
        except DataFileError as exc:
            raise ScenarioError(exc.problems) from None
        data = doc.data or {}
        check_scenario(data, doc, str(path))  # here with the file's lines; from_dict checks dicts again
        return cls.from_dict(data, base_dir=path.parent)

    @classmethod
    def demo(cls) -> Scenario:
        """The shipped demo: site-a with wlc-a1 (AireOS) and wlc-a2 (9800)."""
        return cls.load(demo_path())

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, base_dir: str | Path | None = None) -> Scenario:
        """Build and validate a scenario (errors name the controller and key)."""
        check_scenario(data)
        data = copy.deepcopy(data)
        defaults = builtin_defaults()
        defaults.update(data.get("defaults") or {})
        entries: list[dict[str, Any]] = []
        for site in data.get("sites") or []:
            for entry in site.get("controllers") or []:
                entries.append({"site": site.get("name"), **entry})
        entries += list(data.get("controllers") or [])
        base = Path(base_dir) if base_dir is not None else None
        host_key = data.get("host_key")
        key_path = None
        if host_key:
            key_path = Path(host_key)
            if not key_path.is_absolute() and base is not None:
                key_path = base / key_path
        scenario = cls(controllers=entries, defaults=defaults, base_dir=base, host_key=key_path)
        scenario.validate()
        return scenario

    def validate(self) -> None:
        names: set[str] = set()
        ports: set[tuple[str, int]] = set()
        if not self.controllers:
            raise ValueError("scenario has no controllers")
        for entry in self.controllers:
            name = entry.get("name")
            if not name:
                raise ValueError("scenario: a controller has no name")
            if name in names:
                raise ValueError(f"scenario: controller name {name!r} used twice")
            names.add(name)
            port = int(entry.get("port") or 0)
            host = str(entry.get("host") or "127.0.0.1")
            if port and (host, port) in ports:
                raise ValueError(f"scenario: {host}:{port} used twice")
            ports.add((host, port))
        self.build()  # every entry must also build into a model

    def rules(self) -> ImageSigningRules:
        return ImageSigningRules.from_dict(self.defaults)

    def build(self) -> list[tuple[Controller, datetime | None]]:
        """Fresh live models (and their initial hand-set clocks) for one run."""
        rules = self.rules()
        return [
            build_controller(entry, defaults=self.defaults, rules=rules, base_dir=self.base_dir)
            for entry in self.controllers
        ]

    @property
    def names(self) -> list[str]:
        return [str(entry["name"]) for entry in self.controllers]

    def to_dict(self) -> dict[str, Any]:
        """A dict `from_dict` reads back (defaults included, paths absolute)."""
        out: dict[str, Any] = {"defaults": copy.deepcopy(self.defaults), "controllers": []}
        for entry in self.controllers:
            entry = copy.deepcopy(entry)
            if entry.get("replay") and self.base_dir is not None:
                entry["replay"] = {k: str((self.base_dir / v).resolve()) for k, v in entry["replay"].items()}
            out["controllers"].append(entry)
        if self.host_key is not None:
            out["host_key"] = str(self.host_key.resolve())
        return out

    @classmethod
    def fleet(
        cls,
        controllers: int,
        aps_per_controller: int = 4,
        *,
        platform: str = "mixed",
        host: str = "127.0.0.1",
        site: str = "fleet",
        stuck_fraction: float = 0.5,
        username: str = "admin",
        password: str = "admin",
        **controller_options: Any,
    ) -> Scenario:
        """N controllers x M APs for benchmarks and load tests, all on free ports.

        `platform`: `aireos`, `iosxe` or `mixed` (alternating). About
        `stuck_fraction` of each controller's APs are IOS 3702s needing a new
        image (stuck Downloading); the rest are AP-COS 1852s, Registered.
        Extra keyword arguments go into every controller entry.
        """
        if platform not in (AIREOS, IOSXE, "mixed"):
            raise ValueError("platform must be aireos, iosxe or mixed")
        entries = []
        stuck = round(aps_per_controller * stuck_fraction)
        for i in range(1, controllers + 1):
            kind = platform if platform != "mixed" else (AIREOS if i % 2 else IOSXE)
            name = f"wlc-{i:04d}"
            version = "8.10.162.0" if kind == AIREOS else "17.3.4"
            old_image = "8.5.182.0" if kind == AIREOS else "17.3.3.26"
            aps = []
            for j in range(1, aps_per_controller + 1):
                if j <= stuck:
                    aps.append({"name": f"AP{i:04d}-{j:03d}", "model": "AIR-CAP3702I-E-K9", "image": old_image})
                else:
                    aps.append({"name": f"AP{i:04d}-{j:03d}", "model": "AIR-AP1852I-E-K9"})
            entry: dict[str, Any] = {
                "name": name,
                "site": site,
                "platform": kind,
                "version": version,
                "host": host,
                "port": 0,
                "username": username,
                "password": password,
                "ntp": [{"index": 1, "address": "192.0.2.123"}] if kind == AIREOS else ["192.0.2.123 prefer"],
                "aps": aps,
            }
            entry.update(copy.deepcopy(controller_options))
            entries.append(entry)
        return cls.from_dict({"controllers": entries})


def unserved_controller(platform: str, version: str, aps: list[dict[str, Any]], **extra: Any) -> Controller:
    """One controller model built from a scenario entry, not served: for renderers and parser
    tests and benchmarks that only read the model (`extra`: any other controller key)."""
    entry = {"name": "wlc", "platform": platform, "version": version, "port": 0, "aps": aps, **extra}
    built, _clock = Scenario.from_dict({"controllers": [entry]}).build()[0]
    return built
