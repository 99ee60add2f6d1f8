"""Building live models from scenario entries.

A scenario entry is plain YAML data; here it becomes a `model.Controller` with
its APs, NTP configuration and certificate, filling in stable defaults (MACs,
addresses, serials derived from names) so that two runs of one scenario look
the same. Unknown keys are errors that name the controller or AP.
"""

from __future__ import annotations

import re
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.simulator.bug import ImageSigningRules
from bot.simulator.config import ControllerConfig, NtpServer
from bot.simulator.dates import parse_datetime
from bot.simulator.faults import Faults
from bot.simulator.model import (
    AIREOS,
    DOWNLOADING,
    PLATFORMS,
    REGISTERED,
    AccessPoint,
    Controller,
    SyslogTarget,
    default_ap_image,
    default_certificate,
    normalise_command,
    stable_mac,
)


def short_model_name(model: str) -> str:
    """The short AP model older 9800 releases print (`AIR-CAP3702I-E-K9` -> `3702I`)."""
    text = re.sub(r"^AIR-", "", model, flags=re.IGNORECASE)
    text = re.sub(r"^(CAP|LAP|AP|C(?=\d))", "", text, flags=re.IGNORECASE)
    return text.split("-", 1)[0] or model


def _normal_mac(value: object) -> str | None:
    """12 lower-case hex digits from any MAC notation (`c0:ff:ee:...`, `0081.c4fb.2e74`)."""
    if value is None:
        return None
    digits = re.sub(r"[^0-9a-fA-F]", "", str(value)).lower()
    if len(digits) != 12:
        raise ValueError(f"not a MAC address: {value!r}")
    return digits


def _ap_ip(controller_name: str, number: int) -> str:
    """A stable private address per controller and AP number."""
    subnet = zlib.crc32(controller_name.encode()) % 200 + 10
    return f"10.{subnet}.{number // 250}.{number % 250 + 2}"


PREDOWNLOADING = "Predownloading"


def parse_predownload(value: object, owner: str) -> tuple[str, str | None]:
    """(status, version) from a scenario `predownload:` value.

    `{status: Predownloading, version: 17.9.4.27}`; the status defaults to
    `Predownloading` (a predownload was started) and a bare version string
    means the same. `None`/`null`/empty means no predownload, as today.
    Status words are free text, so that a scenario can print what a capture
    shows; the counters of `show ap image [all]` know the usual ones.
    """
    if value is None or value == {} or value == "":
        return "None", None
    if isinstance(value, str):
        return PREDOWNLOADING, value
    if not isinstance(value, dict):
        raise ValueError(f"{owner}: predownload must be a version or {{status:, version:}}, not {value!r}")
    unknown = set(value) - {"status", "version"}
    if unknown:
        raise ValueError(f"{owner}: unknown predownload key(s) {', '.join(sorted(unknown))}")
    status = str(value.get("status") or PREDOWNLOADING)
    version = value.get("version")
    return status, (str(version) if version is not None else None)


def build_ap(
    d: dict[str, Any],
    number: int,
    *,
    controller_name: str,
    ap_image: str,
    rules: ImageSigningRules,
    predownload: object = None,
) -> AccessPoint:
    """An AP from a scenario entry; unspecified details are derived stably.

    `predownload` is the controller-level predownload, used when the AP
    entry has none of its own.
    """
    name = str(d["name"])
    model = str(d["model"])
    image = str(d.get("image") or ap_image)
    seed = f"{controller_name}/{name}"
    predownload_status, predownload_version = parse_predownload(d.get("predownload", predownload), f"AP {name!r}")
    return AccessPoint(
        name=name,
        model=model,
        image=image,
        state=REGISTERED if image == ap_image else DOWNLOADING,
        mac=_normal_mac(d.get("mac")) or stable_mac(seed),
        radio_mac=_normal_mac(d.get("radio_mac")) or stable_mac(seed, "a4"),
        ip=str(d.get("ip") or _ap_ip(controller_name, number)),
        ios_based=rules.is_ios_based(model),
        short_model=str(d.get("short_model") or short_model_name(model)),
        location=str(d.get("location", "default location")),
        country=str(d.get("country", "US")),
        regulatory_domain=str(d.get("regulatory_domain", "-E" if "-E" in model else "-A")),
        slots=int(d.get("slots", 2)),
        retry_count=int(d.get("retry_count", 0)),
        backup_image=str(d.get("backup_image", "0.0.0.0")),
        serial=str(d.get("serial") or f"FGL{zlib.crc32(seed.encode()) % 10**8:08d}"),
        predownload_status=predownload_status,
        predownload_version=predownload_version,
    )


def build_controller(
    d: dict[str, Any],
    *,
    defaults: dict[str, Any],
    rules: ImageSigningRules,
    base_dir: Path | None = None,
    site: str | None = None,
) -> tuple[Controller, datetime | None]:
    """Build a controller from one scenario entry.

    Returns the controller and the initial hand-set clock, if the entry has
    one (`clock:`), which `attach` applies. Its keys (and its APs' keys) were
    checked by the scenario schema (`scenario_schema.py`) when it was loaded.
    """
    merged = {**defaults, **d}
    if "image_signing_cert" in d or "ios_based_models" in d:
        rules = ImageSigningRules.from_dict(merged)
    name = str(merged["name"])
    platform = str(merged.get("platform", "")).lower()
    if platform not in PLATFORMS:
        raise ValueError(f"controller {name!r}: platform must be one of {PLATFORMS}")
    version = str(merged.get("version") or ("8.10.162.0" if platform == AIREOS else "17.3.4"))
    hardware = merged.get("hardware")
    serial_number = str(merged.get("serial_number") or f"FCW{zlib.crc32(name.encode()) % 10**8:08d}")

    ntp_entries = merged.get("ntp") or []
    servers = [NtpServer.from_dict(e) for e in ntp_entries]
    unreachable = {str(a) for a in merged.get("ntp_unreachable") or []}
    for entry, server in zip(ntp_entries, servers, strict=True):
        if isinstance(entry, dict) and entry.get("reachable") is False:
            unreachable.add(server.address)
    if platform == AIREOS:
        for i, server in enumerate(servers, start=1):
            if server.index is None:
                server.index = i
    config = ControllerConfig(
        ntp_servers=servers,
        ntp_keys={int(k): str(v) for k, v in (merged.get("ntp_keys") or {}).items()},
        ntp_authenticate=bool(merged.get("ntp_authenticate", False)),
        ntp_trusted_keys=[int(k) for k in merged.get("ntp_trusted_keys") or []],
    )

    cert = default_certificate(name, platform, hardware, serial_number)
    cert_d = merged.get("certificate") or {}
    for key in ("name", "subject", "issuer", "serial", "trustpoint", "cert_type"):
        if key in cert_d:
            setattr(cert, key, str(cert_d[key]))
    if "not_before" in cert_d:
        cert.not_before = parse_datetime(cert_d["not_before"])
    if "not_after" in cert_d:
        cert.not_after = parse_datetime(cert_d["not_after"])

    ap_image = str(merged.get("ap_image") or default_ap_image(platform, version))
    aps = [
        build_ap(ap_d, i, controller_name=name, ap_image=ap_image, rules=rules, predownload=merged.get("predownload"))
        for i, ap_d in enumerate(merged.get("aps") or [], start=1)
    ]

    apsps = []
    for entry in merged.get("apsps") or []:
        if isinstance(entry, str):
            entry = {"file": entry}
        apsps.append(
            {"type": str(entry.get("type", "APSP")), "state": str(entry.get("state", "C")), "file": str(entry["file"])}
        )

    syslog_d = merged.get("ap_syslog")
    ap_syslog = None
    if syslog_d:
        if isinstance(syslog_d, str):
            host, _, port = syslog_d.partition(":")
            syslog_d = {"host": host, "port": int(port or 514)}
        ap_syslog = SyslogTarget(host=str(syslog_d["host"]), port=int(syslog_d.get("port", 514)))

    replay: dict[str, Path] = {}
    for command, file_name in (merged.get("replay") or {}).items():
        path = Path(file_name)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            raise ValueError(f"controller {name!r}: replay file not found: {path}")
        replay[normalise_command(str(command))] = path

    controller = Controller(
        name=name,
        platform=platform,
        version=version,
        rules=rules,
        site=str(merged["site"]) if merged.get("site") else site,
        host=str(merged.get("host") or "127.0.0.1"),
        port=int(merged.get("port") or 0),
        username=str(merged.get("username", "admin")),
        password=str(merged.get("password", "admin")),
        accounts={str(k): str(v) for k, v in (merged.get("accounts") or {}).items()},
        ssh_auth=merged.get("ssh_auth"),
        fixed=bool(merged.get("fixed", False)),
        hardware=hardware,
        mgmt_ip=str(merged.get("mgmt_ip") or "192.0.2.10"),
        serial_number=serial_number,
        ap_image=ap_image,
        config=config,
        certificate=cert,
        aps=aps,
        apsps=apsps,
        faults=Faults.from_dict(merged.get("faults")),
        ap_syslog=ap_syslog,
        ntp_unreachable=unreachable,
        replay=replay,
        download_seconds=float(merged.get("download_seconds", 120)),
        ntp_sync_seconds=float(merged.get("ntp_sync_seconds", 300)),
        page_lines=int(merged.get("aireos_page_lines" if platform == AIREOS else "iosxe_terminal_length", 20)),
        ap_summary_header_every=int(merged.get("ap_summary_header_every", 0)),
        aireos_summary_lists_downloading=bool(merged.get("aireos_summary_lists_downloading", True)),
        terminal_width=int(merged.get("terminal_width") or 0),
        ap_summary_truncate=None if merged.get("ap_summary_truncate") is None else int(merged["ap_summary_truncate"]),
        version_string=None if merged.get("version_string") is None else str(merged["version_string"]),
        version_form=str(merged.get("version_form") or "release").lower(),
    )
    clock = merged.get("clock")
    return controller, (parse_datetime(clock) if clock else None)
