"""Parsers for AireOS WLC command output.

Every function is pure (text in, result out), accepts output with echoed
command, prompts, any line endings and pager remnants, and raises
`ParseError` only for rejected commands or output without the expected
structure. Which engine parses what, and why:

- `show time`: own TextFSM template (ntc-templates' drops the clock when no
  NTP server is configured, i.e. right after a time-back).
- `show ap summary`, `show ap image all|status`: the header-driven table
  reader (`aptables`); ntc-templates' `show ap summary` template splits
  `default location` into location/port on the 2500 layout and cannot take
  names with spaces, and its `show ap image all` template silently drops the
  AP named `TEST 2`.
- `show boot`, `show redundancy summary`: ntc-templates (they pass every
  capture), with a plain fallback if a future release breaks the template.
- key/value outputs (`show sysinfo`, `show ap config general`, certificates):
  a generic dotted/colon key reader, which is release-proof by design.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.controllers.parsers.aptables import parse_ap_image, parse_ap_summary
from bot.controllers.parsers.dates import parse_ctime, parse_loose_datetime, parse_uptime
from bot.controllers.parsers.errors import ParseError
from bot.controllers.parsers.results import (
    AireosBoot,
    AireosCertificate,
    AireosCertificateReport,
    AireosSysInfo,
    AireosTime,
    ApImageReport,
    ApSummary,
    BootImage,
    RedundancySummary,
)
from bot.controllers.parsers.tables import is_ip
from bot.controllers.parsers.text import (
    dotted_pairs,
    equals_pairs,
    int_or_none,
    kv_dict,
    none_if_blank,
    norm_key,
    prepare,
)
from bot.controllers.parsers.textfsm_runner import TemplateError, run_ntc_template, run_own_template
from bot.controllers.parsers.wrapped import show_time_wrapped, unwrap_show_time
from bot.controllers.platforms.base import Parser
from bot.domain.models import AccessPoint, CertificateWindow, ClockReading, ClockSource, NtpServer


def parse_show_sysinfo(text: str) -> AireosSysInfo:
    """`show sysinfo` → product version, system name, model (when printed)."""
    command = "show sysinfo"
    clean = prepare(text, command)
    fields = kv_dict(dotted_pairs(clean.split("\n")))
    version = none_if_blank(fields.get("product_version"))
    if version is None:
        raise ParseError(command, "no 'Product Version' line")
    model = None
    for key in ("model", "model_number", "product_id", "pid", "system_model"):
        if none_if_blank(fields.get(key)):
            model = fields[key].strip()
            break
    return AireosSysInfo(
        product_version=version,
        system_name=none_if_blank(fields.get("system_name")),
        model=model,
        product_name=none_if_blank(fields.get("product_name")),
        ip_address=none_if_blank(fields.get("ip_address")),
        fields=fields,
        uptime=parse_uptime(fields.get("system_up_time")),
    )


_GMT_OFFSET_RE = re.compile(r"\(\s*(?:GMT|UTC)\s*(?P<sign>[+-])\s*(?P<h>\d{1,2}):(?P<m>\d{2})\s*\)")
_DELTA_RE = re.compile(r"^(?P<sign>[+-]?)(?P<h>\d{1,2}):(?P<m>\d{1,2})$")


def _utc_offset(location: str | None, delta: str | None) -> timedelta | None:
    """The offset the controller applies to UTC: zone location wins, else delta."""
    if location:
        m = _GMT_OFFSET_RE.search(location)
        if m:
            value = timedelta(hours=int(m.group("h")), minutes=int(m.group("m")))
            return -value if m.group("sign") == "-" else value
        if re.search(r"\(\s*(?:GMT|UTC)\s*\)", location):
            return timedelta(0)
    if delta:
        m = _DELTA_RE.match(delta.strip())
        if m:
            value = timedelta(hours=int(m.group("h")), minutes=int(m.group("m")))
            return -value if m.group("sign") == "-" else value
    return None


def parse_show_time(text: str) -> AireosTime:
    """`show time` → clock (naive local time) and the NTP servers to restore.

    Clock source: NTP when a server is `In Sync`; UNKNOWN when servers exist
    but none is in sync; MANUAL when no NTP server is configured (the clock
    can then only have been set by hand, e.g. by a time-back).
    """
    command = "show time"
    clean = prepare(text, command)
    if show_time_wrapped(clean.split("\n")):
        rows = _rejoined_time_rows(clean, command)
    else:
        try:
            rows = run_own_template("aireos", "show_time", clean)
        except TemplateError as exc:
            raise ParseError(command, str(exc)) from exc
    if not rows or not rows[0].get("time"):
        raise ParseError(command, "no 'Time....' line")
    head = rows[0]
    raw_time = str(head["time"])
    when = parse_ctime(raw_time)
    if when is None:
        raise ParseError(command, f"unreadable time {raw_time!r}")

    servers = tuple(
        NtpServer(
            address=str(row["server"]),
            index=int_or_none(str(row["index"])),
            key_index=int_or_none(str(row["key_index"])),
            status=none_if_blank(str(row["status"])),
        )
        for row in rows
        if row.get("index")
    )
    in_sync = any((s.status or "").lower().replace(" ", "") == "insync" for s in servers)
    if in_sync:
        source, synced = ClockSource.NTP, True
    elif servers:
        source, synced = ClockSource.UNKNOWN, False
    else:
        source, synced = ClockSource.MANUAL, False

    location = none_if_blank(str(head.get("tz_location") or ""))
    delta = none_if_blank(str(head.get("tz_delta") or ""))
    clock = ClockReading(
        time=when,
        source=source,
        authoritative=None,
        synced=synced,
        timezone=location,
        raw=raw_time,
    )
    return AireosTime(
        clock=clock,
        ntp_servers=servers,
        timezone_delta=delta,
        timezone_location=location,
        utc_offset=_utc_offset(location, delta),
        ntp_version=int_or_none(str(head.get("ntp_version") or "")),
        ntp_polling_interval=int_or_none(str(head.get("ntp_polling_interval") or "")),
    )


_NTP_STATUS_RE = re.compile(r"^(?:In Sync|Not Tried|Not Sync(?:hed)?|Unknown|Polling|Not Reachable)$", re.IGNORECASE)


def _rejoined_time_rows(clean: str, command: str) -> list[dict[str, str | list[str]]]:
    """The `show time` rows of a table a narrow terminal cut (80 columns), re-joined.

    These rows are what a time-back restores NTP from, so a re-join is used
    only when every row validates (index and key are numbers, the server is
    an IP address, the status a known word); the width is not printed, so the
    longest line and one more are tried. Otherwise the command is unreadable:
    refusing is safe, a wrong NTP server to restore is not.
    """
    lines = clean.split("\n")
    longest = max((len(ln) for ln in lines), default=0)
    for width in (longest, longest + 1):
        if width <= 0:
            continue
        joined = "\n".join(unwrap_show_time(lines, width))
        try:
            rows = run_own_template("aireos", "show_time", joined)
        except TemplateError:
            continue
        servers = [r for r in rows if r.get("index")]
        readable = bool(rows) and parse_ctime(str(rows[0].get("time") or "")) is not None
        if readable and all(is_ip(str(r["server"])) and _NTP_STATUS_RE.match(str(r["status"])) for r in servers):
            return rows
    raise ParseError(command, "the NTP server table was cut by a narrow terminal and could not be joined back")


def parse_show_ap_summary_table(text: str) -> ApSummary:
    """`show ap summary` with every column, the announced count and leftovers.

    This is the registered parser: the driver needs the count and the
    unreadable lines (`ApSummary.incomplete_reasons`), because AireOS lists
    exactly the joined APs it counts, so fewer rows than `Number of APs` is a
    truncated read, not a smaller fleet. Output wrapped by a narrow terminal
    is re-joined first.
    """
    command = "show ap summary"
    return parse_ap_summary(prepare(text, command), command)


def parse_show_ap_summary(text: str) -> list[AccessPoint]:
    """`show ap summary` → APs (name, model, MAC, IP, location; AireOS prints no state).

    Convenience for callers that only want the APs; it cannot say whether the
    list is complete, so the drivers use `parse_show_ap_summary_table`.
    """
    return parse_show_ap_summary_table(text).access_points


def parse_show_ap_image_status(text: str) -> ApImageReport:
    """8.10 `show ap image status` → per-AP primary image + download status, counters."""
    command = "show ap image status"
    return parse_ap_image(prepare(text, command), command)


def parse_show_ap_image_all(text: str) -> ApImageReport:
    """8.5 `show ap image all` → counters (incl. Downloading) and per-AP images,
    predownload status and retry count."""
    command = "show ap image all"
    return parse_ap_image(prepare(text, command), command)


def parse_show_ap_config_general(text: str) -> AccessPoint:
    """`show ap config general <ap>` → model, software version, operation state.

    `image_version` is the AP's `S/W Version` (what it must match with the
    controller); the IOS version and image name are not versions of that kind.
    """
    command = "show ap config general"
    clean = prepare(text, command)
    fields = kv_dict(dotted_pairs(clean.split("\n")))
    name = none_if_blank(fields.get("cisco_ap_name"))
    if name is None:
        reason = clean.strip().split("\n")[0][:120] if clean.strip() else "empty output"
        raise ParseError(command, f"no 'Cisco AP Name' line ({reason})")
    return AccessPoint(
        name=name,
        model=none_if_blank(fields.get("ap_model")),
        mac=none_if_blank(fields.get("mac_address")),
        ip=none_if_blank(fields.get("ip_address")),
        image_version=none_if_blank(fields.get("s_w_version") or fields.get("software_version")),
        state=none_if_blank(fields.get("operation_state")),
        location=none_if_blank(fields.get("cisco_ap_location")),
    )


# ------------------------------------------------------------ certificates

_CERT_KEYS = {
    "certificate_name",
    "subject_name",
    "issuer_name",
    "serial_number_hex",
    "serial_number",
    "validity",
    "start",
    "end",
    "signature_algorithm",
    "hash_key",
}
_CERT_KV_RE = re.compile(r"^\s*(?P<key>[A-Za-z][A-Za-z0-9 ()/_\-]*?)\s*:\s*(?P<value>.*?)\s*$")


def _certificate_blocks(lines: list[str]) -> list[dict[str, str]]:
    """Split `show certificate all` into blocks of normalised key → value.

    Values printed on the line after their key (`Subject Name :` then the DN)
    are attached to that key; a DN may itself contain colons (MACs), so a
    line is only taken as a new key when the key is a known one.
    """
    blocks: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    pending: str | None = None
    for line in lines:
        if not line.strip():
            continue
        m = _CERT_KV_RE.match(line)
        key = norm_key(m.group("key")) if m else None
        if m and key is not None and (key in _CERT_KEYS or key.endswith("fingerprint")):
            value = m.group("value")
            if key == "certificate_name":
                current = {"certificate_name": value}
                blocks.append(current)
                pending = None
                continue
            if current is None:
                current = {}
                blocks.append(current)
            if value:
                current.setdefault(key, value)
                pending = None
            else:
                pending = key
            continue
        if current is not None and pending is not None:
            current.setdefault(pending, line.strip())
            pending = None
    return blocks


def _parse_certificate_report(text: str, command: str) -> AireosCertificateReport:
    clean = prepare(text, command)
    lines = clean.split("\n")
    fields = kv_dict(dotted_pairs(lines))
    certificates: list[AireosCertificate] = []
    for block in _certificate_blocks(lines):
        raw_start = block.get("start")
        raw_end = block.get("end")
        certificates.append(
            AireosCertificate(
                name=block.get("certificate_name") or "certificate",
                not_before=parse_loose_datetime(raw_start) if raw_start else None,
                not_after=parse_loose_datetime(raw_end) if raw_end else None,
                subject=block.get("subject_name"),
                issuer=block.get("issuer_name"),
                serial=block.get("serial_number_hex") or block.get("serial_number"),
                signature_algorithm=block.get("signature_algorithm"),
                raw_start=raw_start,
                raw_end=raw_end,
            )
        )
    if not fields and not certificates:
        raise ParseError(command, "no certificate fields or certificate blocks")
    return AireosCertificateReport(fields=fields, certificates=tuple(certificates))


def parse_show_certificate_summary(text: str) -> AireosCertificateReport:
    """`show certificate summary` → its settings (web admin/auth cert type, MIC/SSC
    lifetime-check flags) and any validity blocks it prints.

    On the releases we know the summary carries no validity dates; the
    device certificate window comes from `show certificate all`.
    """
    return _parse_certificate_report(text, "show certificate summary")


def parse_show_certificate_all(text: str) -> AireosCertificateReport:
    """`show certificate all` → every certificate block with its validity."""
    return _parse_certificate_report(text, "show certificate all")


def pick_device_certificate(report: AireosCertificateReport) -> AireosCertificate | None:
    """The controller's own device certificate (not a CA, not the web cert).

    With both SHA1 and SHA2 device certificates present the one that starts
    *latest* is returned: a time-back target must lie after every device
    certificate's start, so the latest start is the binding constraint.
    """
    candidates = [c for c in report.certificates if c.is_device_certificate and c.window() is not None]
    if not candidates:
        return None
    return max(candidates, key=_start_key)


def _start_key(cert: AireosCertificate) -> datetime:
    """Comparable start: aware values in UTC, naive ones as printed (AireOS prints GMT)."""
    assert cert.not_before is not None
    value = cert.not_before
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def device_certificate_window(report: AireosCertificateReport) -> CertificateWindow | None:
    cert = pick_device_certificate(report)
    return cert.window() if cert else None


# ------------------------------------------------------------ optional


_BOOT_RE = re.compile(
    r"^\s*(?P<slot>Primary|Backup)\s+Boot\s+Image\s*\.{2,}\s*(?P<version>\S+)(?P<flags>.*)$", re.IGNORECASE
)


def parse_show_boot(text: str) -> AireosBoot:
    """`show boot` → primary/backup images and which is default/active.

    Uses ntc-templates' cisco_wlc_ssh_show_boot (passes all captures) and a
    direct regex if a future release trips the template.
    """
    command = "show boot"
    clean = prepare(text, command)
    images: list[BootImage] = []
    try:
        for row in run_ntc_template("cisco_wlc_ssh", "show boot", clean):
            slot = "primary" if "primary" in str(row.get("image_type", "")).lower() else "backup"
            flags = str(row.get("image_status", "")).lower()
            images.append(
                BootImage(
                    slot=slot,
                    version=str(row["image_version"]),
                    is_default="default" in flags,
                    is_active="active" in flags,
                )
            )
    except TemplateError:
        images = []
    if not images:
        for line in clean.split("\n"):
            m = _BOOT_RE.match(line)
            if m:
                flags = m.group("flags").lower()
                images.append(
                    BootImage(
                        slot=m.group("slot").lower(),
                        version=m.group("version"),
                        is_default="default" in flags,
                        is_active="active" in flags,
                    )
                )
    if not images:
        raise ParseError(command, "no 'Primary/Backup Boot Image' lines")
    return AireosBoot(images=tuple(images))


def parse_show_redundancy_summary(text: str) -> RedundancySummary:
    """`show redundancy summary` → mode and local/peer state (a standby WLC is not polled).

    ntc-templates' cisco_wlc_ssh_show_redundancy_summary passes every capture;
    the generic `key = value` reader backs it up and supplies all fields.
    """
    command = "show redundancy summary"
    clean = prepare(text, command)
    fields = kv_dict(equals_pairs(clean.split("\n")))
    try:
        rows = run_ntc_template("cisco_wlc_ssh", "show redundancy summary", clean)
    except TemplateError:
        rows = []
    row = {k: str(v) for k, v in rows[0].items()} if rows else {}

    def pick(ntc_key: str, field_key: str) -> str | None:
        return none_if_blank(row.get(ntc_key)) or none_if_blank(fields.get(field_key))

    mode = pick("redundancy_mode", "redundancy_mode")
    if mode is None and not fields:
        raise ParseError(command, "no 'Redundancy Mode = ...' line")
    return RedundancySummary(
        mode=mode,
        local_state=pick("local_state", "local_state"),
        peer_state=pick("peer_state", "peer_state"),
        unit=pick("unit", "unit"),
        redundancy_state=pick("redundancy_state", "redundancy_state"),
        fields=fields,
    )


#: poll key (commands.yaml `key`) -> parser
PARSERS: dict[str, Parser] = {
    "show_sysinfo": parse_show_sysinfo,
    "show_time": parse_show_time,
    "show_ap_summary": parse_show_ap_summary_table,
    "show_ap_image_status": parse_show_ap_image_status,
    "show_ap_image_all": parse_show_ap_image_all,
    "show_ap_config_general": parse_show_ap_config_general,
    "show_certificate_summary": parse_show_certificate_summary,
    "show_certificate_all": parse_show_certificate_all,
    "show_redundancy_summary": parse_show_redundancy_summary,
    "show_boot": parse_show_boot,
}
