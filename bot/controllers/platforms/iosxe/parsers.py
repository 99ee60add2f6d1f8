"""Parsers for Catalyst 9800 (IOS-XE) command output.

Every function is pure (text in, result out), accepts output with echoed
command, prompts, any line endings and pager remnants, and raises
`ParseError` only for rejected commands (`% Invalid input ...`) or output
without the expected structure. Which engine parses what, and why:

- `show version`: ntc-templates' cisco_ios_show_version (passes every
  capture) for hostname/model/serial/image, plus our own reading of the
  `Cisco IOS XE Software, Version` line, which is the one that matters.
- `show clock`, `show install summary`, `show ntp associations`: own TextFSM
  templates (ntc-templates has none for the last two, and its clock template
  throws away the `*` / `.` authority marker).
- `show ap summary`, `show fabric ap summary`, `show ap image`: the
  header-driven table reader (`aptables`); ntc-templates' cisco_ios
  `show ap summary` reads the tech note's `Downloading` row as location
  `default`, country `location`, and cannot take AP names with spaces.
- `show crypto pki certificates`: a block reader here; ntc-templates'
  template raises on the SUDI and self-signed captures.
- `show running-config | include ntp`: a token reader here, because every
  keyword order of `ntp server` must round-trip verbatim.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.controllers.parsers.aptables import parse_ap_image, parse_ap_summary
from bot.controllers.parsers.dates import parse_ios_datetime, parse_loose_datetime, parse_uptime
from bot.controllers.parsers.errors import ParseError
from bot.controllers.parsers.results import (
    ApImageReport,
    ApSummary,
    InstallPackage,
    InstallSummary,
    IosxeVersion,
    NtpAssociation,
    NtpConfig,
    NtpConfigLine,
    PkiCertificate,
    WirelessTrustpoint,
    apsp_from_filename,
)
from bot.controllers.parsers.text import (
    colon_pairs,
    int_or_none,
    kv_dict,
    none_if_blank,
    norm_key,
    prepare,
)
from bot.controllers.parsers.textfsm_runner import TemplateError, run_ntc_template, run_own_template
from bot.controllers.platforms.base import Parser
from bot.domain.models import AccessPoint, CertificateWindow, ClockReading, ClockSource, NtpServer

# ------------------------------------------------------------------ version

_XE_VERSION_RE = re.compile(r"Cisco IOS[ -]XE Software,\s*Version\s+(?P<v>[^\s,]+)", re.IGNORECASE)
# `Cisco IOS Software [Amsterdam], ... (C9800-CL-K9_IOSXE), Version 17.3.4, RELEASE ...`, also
# `..., Experimental Version 16.12.20200104:002126 [polaris_dev-...]` on lab builds.
_IOS_VERSION_RE = re.compile(
    r"Cisco IOS Software.*?,\s*(?:Experimental\s+|Engineering\s+)?Version\s+(?P<v>[^\s,]+)", re.IGNORECASE
)
_HOSTNAME_RE = re.compile(r"^\s*(?P<h>\S+)\s+uptime is\s", re.MULTILINE)
_MODEL_RE = re.compile(r"^\s*cisco\s+(?P<m>\S+)\s+\(", re.MULTILINE | re.IGNORECASE)
_SERIAL_RE = re.compile(r"Processor board ID\s+(?P<s>\S+)")
_IMAGE_RE = re.compile(r'System image file is\s+"(?P<i>[^"]+)"')
# A release as IOS-XE prints it: dotted numbers, maybe a suffix glued to the
# last one (`17.09.04a`, `16.12.01s`, `17.07.01prd16`, `03.06.05E`), then
# anything after a separator (`:002126` of an experimental build).
_RELEASE_TOKEN_RE = re.compile(r"(?P<num>\d+(?:\.\d+)*)(?P<suffix>[A-Za-z][A-Za-z0-9]*)?(?P<rest>.*)")
_DATE_FIELD_DIGITS = 6  # `16.12.20200104`: a field this long is a build date, never a patch number
_RELEASE_FIELDS = 3  # `17.12.01.0.1442`: fields after major.minor.maintenance are build numbers


def release_from_label(label: str | None) -> str | None:
    """The normalised release in a printed version label, or None if it holds none.

    `17.03.04` → `17.3.4`, `17.09.04a` → `17.9.4a`, `17.07.01prd16` →
    `17.7.1prd16`, `17.12.01.0.1442` → `17.12.1` (build numbers dropped),
    `16.12.20200104:002126` → `16.12` (a 6+ digit field is a build date).
    Build labels (`BLD_V1716_...`, `2020-01-04_00.18_mcpre`, `V169_5_SR...`)
    give None: the digits in them name a branch or a date, and a release
    guessed from them is worse than "unknown" (the advisory would be applied
    to the wrong train). Fields of release numbers have one or two digits.
    """
    if not label:
        return None
    m = _RELEASE_TOKEN_RE.fullmatch(label.strip())
    if m is None:
        return None
    fields = m.group("num").split(".")
    suffix = m.group("suffix") or ""
    rest = m.group("rest")
    date_at = next((i for i, f in enumerate(fields) if len(f) >= _DATE_FIELD_DIGITS), None)
    if date_at is not None:
        # Everything from the date on is build information, suffix and rest included.
        fields, suffix, rest = fields[:date_at], "", ""
    if len(fields) > _RELEASE_FIELDS:
        fields, suffix = fields[:_RELEASE_FIELDS], ""  # a suffix there belongs to the build number
    if rest or len(fields) < 2 or any(len(f) > 2 for f in fields):
        return None
    return ".".join(str(int(f)) for f in fields) + suffix


def _first_str(row: dict[str, str | list[str]], key: str) -> str | None:
    value = row.get(key)
    if isinstance(value, list):
        return none_if_blank(value[0]) if value else None
    return none_if_blank(value)


# `wlc-1 uptime is 4 weeks, 6 days, 21 hours, 48 minutes` (not "Uptime for this control processor").
_UPTIME_RE = re.compile(r"^\S+ uptime is (?P<u>.+)$", re.MULTILINE)


def parse_show_version(text: str) -> IosxeVersion:
    """`show version` → the release (`17.3.4`, or None when unreadable), the raw label, identity.

    The `Cisco IOS XE Software, Version X` line is the one that matters, and
    `raw` is its X as printed. When X is no release (special builds print a
    name, `V169_5_SR...`; experimental 9800-CL builds a dated build label),
    the release comes from the `Cisco IOS Software ..., [Experimental] Version
    Y` line instead, read by the same rules (`release_from_label`). When
    neither holds a release, `release` is None and `raw` still tells what the
    controller runs: an unknown release is reported, never guessed, and is no
    reason to fail the whole read. Only output without any version line
    raises `ParseError`.
    """
    command = "show version"
    clean = prepare(text, command)
    xe = _XE_VERSION_RE.search(clean)
    ios = _IOS_VERSION_RE.search(clean)
    xe_label = xe.group("v") if xe else None
    ios_label = ios.group("v") if ios else None
    template: list[dict[str, str | list[str]]] = []

    def ntc(key: str) -> str | None:
        """A field of ntc-templates' reading, run only when a line of ours is missing (it costs
        most of this parse, and the 9800 prints every line ours look for)."""
        if not template:
            try:
                template.append((run_ntc_template("cisco_ios", "show version", clean) or [{}])[0])
            except TemplateError:
                template.append({})
        return _first_str(template[0], key)

    raw = xe_label or ios_label or ntc("version")
    if raw is None:
        raise ParseError(command, "no 'Version' line")
    release = release_from_label(xe_label) or release_from_label(ios_label)
    if release is None and xe_label is None and ios_label is None:
        release = release_from_label(raw)

    def regex_value(regex: re.Pattern[str], group: str) -> str | None:
        m = regex.search(clean)
        return m.group(group) if m else None

    return IosxeVersion(
        version=release or raw,
        raw=raw,
        hostname=regex_value(_HOSTNAME_RE, "h") or ntc("hostname"),
        model=regex_value(_MODEL_RE, "m") or ntc("hardware"),
        serial=regex_value(_SERIAL_RE, "s") or ntc("serial"),
        system_image=regex_value(_IMAGE_RE, "i") or ntc("running_image"),
        release=release,
        uptime=parse_uptime(regex_value(_UPTIME_RE, "u")),
    )


# ------------------------------------------------------------------ install


def parse_show_install_summary(text: str) -> InstallSummary:
    """`show install summary` → packages per location and the APSPs among them.

    An APSP is any package whose file ends in `.apsp.bin`; its CSC id and
    release come from the file name
    (`C9800-universalk9_wlc.17.03.06.CSCwe10047.SPA.apsp.bin`).
    """
    command = "show install summary"
    clean = prepare(text, command)
    try:
        rows = run_own_template("iosxe", "show_install_summary", clean)
    except TemplateError as exc:
        raise ParseError(command, str(exc)) from exc
    packages = tuple(
        InstallPackage(
            type=str(row["type"]),
            state=str(row["state"]),
            filename=str(row["filename"]),
            location=none_if_blank(str(row.get("location") or "")),
        )
        for row in rows
        if row.get("filename")
    )
    if not packages:
        raise ParseError(command, "no package lines (Type / St / Filename)")
    apsps = tuple(
        apsp_from_filename(pkg.filename, pkg.state) for pkg in packages if pkg.filename.lower().endswith(".apsp.bin")
    )
    abort = next((str(row["auto_abort"]) for row in rows if row.get("auto_abort")), None)
    return InstallSummary(packages=packages, apsps=apsps, auto_abort_timer=abort)


# ------------------------------------------------------------------ clock


def parse_show_clock(text: str) -> ClockReading:
    """`show clock` → ClockReading.

    Marker: `*` not authoritative (hand-set or never set) → MANUAL;
    `.` authoritative but not NTP-synchronised → UNKNOWN; none → NTP synced.
    A `Time source is ...` line, when present, names the source explicitly
    and wins. The time is tz-aware when the zone name is one we know.
    """
    command = "show clock"
    clean = prepare(text, command)
    try:
        rows = run_own_template("iosxe", "show_clock", clean)
    except TemplateError as exc:
        raise ParseError(command, str(exc)) from exc
    time_row = next((row for row in rows if row.get("time")), None)
    source_text = next((str(row["source"]) for row in rows if row.get("source")), None)

    if time_row is not None:
        marker = str(time_row.get("marker") or "")
        raw = (
            f"{marker}{time_row['time']} {time_row['zone']} "
            + (f"{time_row['dow']} " if time_row.get("dow") else "")
            + f"{time_row['month']} {time_row['day']} {time_row['year']}"
        )
        parsed = parse_ios_datetime(raw.lstrip("*."))
    else:
        # Only a `Time source is NTP, <time>` line (exec timestamp style).
        marker = ""
        parsed = parse_ios_datetime(clean)
        raw = clean.strip().split("\n")[0] if parsed else ""
    if parsed is None:
        raise ParseError(command, "no clock line (HH:MM:SS ZONE Mon D YYYY)")
    when, zone = parsed

    if marker == "*":
        source, authoritative, synced = ClockSource.MANUAL, False, False
    elif marker == ".":
        source, authoritative, synced = ClockSource.UNKNOWN, True, False
    else:
        source, authoritative, synced = ClockSource.NTP, True, True
    if source_text:
        lowered = source_text.lower()
        if "ntp" in lowered:
            source = ClockSource.NTP
        elif any(word in lowered for word in ("user", "calendar", "manual", "hardware")):
            source, synced = ClockSource.MANUAL, False
        else:
            source, synced = ClockSource.UNKNOWN, False
    return ClockReading(
        time=when,
        source=source,
        authoritative=authoritative,
        synced=synced,
        timezone=zone,
        raw=raw,
    )


# ------------------------------------------------------------------ NTP


def _float_or_none(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "", "-") else None
    except ValueError:
        return None


def parse_show_ntp_associations(text: str) -> list[NtpAssociation]:
    """`show ntp associations` → one entry per peer, tally marks decoded.

    Duplicate rows for the same address (printed by some releases for the
    same configured peer) are collapsed, keeping the first. `%NTP is not
    enabled.` or an empty table gives an empty list, not an error.
    """
    command = "show ntp associations"
    clean = prepare(text, command)
    try:
        rows = run_own_template("iosxe", "show_ntp_associations", clean)
    except TemplateError as exc:
        raise ParseError(command, str(exc)) from exc
    if not rows and clean.strip() and not re.search(r"ntp|address\s+ref\s+clock", clean, re.IGNORECASE):
        raise ParseError(command, "no association table")
    seen: set[str] = set()
    out: list[NtpAssociation] = []
    for row in rows:
        address = str(row["address"])
        if address in seen:
            continue
        seen.add(address)
        out.append(
            NtpAssociation(
                address=address,
                ref_clock=none_if_blank(str(row["ref_clock"])),
                stratum=int_or_none(str(row["stratum"])),
                when=none_if_blank(str(row["when"])),
                poll=int_or_none(str(row["poll"])),
                reach=int_or_none(str(row["reach"])),
                delay=_float_or_none(str(row["delay"])),
                offset=_float_or_none(str(row["offset"])),
                dispersion=_float_or_none(str(row["disp"])),
                configured=row.get("configured") == "~",
                marker=str(row.get("marker") or ""),
            )
        )
    return out


_SERVER_ARG_OPTIONS = {"source", "version", "minpoll", "maxpoll"}
_SECRET_MARKERS = {
    "md5",
    "sha1",
    "sha2",
    "hmac-sha1",
    "hmac-sha2-256",
    "cmac-aes-128",
    "password",
    "secret",
    "key-string",
}
REDACTED = "<redacted>"


def _parse_server_line(line: str) -> NtpServer | None:
    """`ntp server [vrf V] [ip|ipv6] ADDR [key N] [prefer] [source IF] [version N] ...`."""
    tokens = line.split()
    i = 2
    vrf = None
    if i + 1 < len(tokens) and tokens[i] == "vrf":
        vrf = tokens[i + 1]
        i += 2
    if i < len(tokens) and tokens[i] in {"ip", "ipv6"}:
        i += 1
    if i >= len(tokens):
        return None
    address = tokens[i]
    i += 1
    key_index = None
    options: list[str] = []
    while i < len(tokens):
        token = tokens[i]
        if token == "key" and i + 1 < len(tokens):
            key_index = int_or_none(tokens[i + 1])
            if key_index is None:
                options.append(f"key {tokens[i + 1]}")
            i += 2
        elif token in _SERVER_ARG_OPTIONS and i + 1 < len(tokens):
            options.append(f"{token} {tokens[i + 1]}")
            i += 2
        else:
            options.append(token)
            i += 1
    return NtpServer(
        address=address,
        key_index=key_index,
        vrf=vrf,
        options=tuple(options),
        config_line=line,
    )


def _redact(tokens: list[str]) -> tuple[str, bool]:
    """Cut everything after a secret marker (`md5`, `hmac-sha2-256`, ...)."""
    for index, token in enumerate(tokens):
        if token.lower() in _SECRET_MARKERS:
            if index + 1 < len(tokens):
                return " ".join([*tokens[: index + 1], REDACTED]), True
            return " ".join(tokens), False
    return " ".join(tokens), False


def parse_ntp_config(text: str) -> NtpConfig:
    """`show running-config | include ntp` → servers (verbatim lines) + other ntp lines.

    Server lines are kept exactly as printed in `config_line`, because the
    time-back restores them verbatim. Other `ntp ...` lines are listed with
    key material removed (`ntp authentication-key 1 md5 <redacted>`), so
    they can be shown or logged but never replayed. Lines that do not start
    with `ntp` (an interface description that happens to contain "ntp") are
    ignored: they are not NTP configuration and may hold other secrets.
    """
    command = "show running-config | include ntp"
    clean = prepare(text, command)
    servers: list[NtpServer] = []
    others: list[NtpConfigLine] = []
    for raw_line in clean.split("\n"):
        line = raw_line.strip()
        tokens = line.split()
        if len(tokens) < 2 or tokens[0] != "ntp":
            continue
        if tokens[1] == "server":
            server = _parse_server_line(line)
            if server is not None:
                servers.append(server)
                continue
        redacted_text, redacted = _redact(tokens)
        if tokens[1] == "authentication-key" and not redacted and len(tokens) > 3:
            # Unknown algorithm keyword: still never keep the key material.
            redacted_text, redacted = " ".join([*tokens[:4], REDACTED]), True
        others.append(NtpConfigLine(text=redacted_text, kind=tokens[1], redacted=redacted))
    return NtpConfig(servers=tuple(servers), other_lines=tuple(others))


def parse_show_running_config_ntp(text: str) -> list[NtpServer]:
    """`show running-config | include ntp` → configured NTP servers (see `parse_ntp_config`)."""
    return list(parse_ntp_config(text).servers)


# ------------------------------------------------------------------ APs


def parse_show_ap_summary_table(text: str) -> ApSummary:
    """`show ap summary` (both 9800 layouts) with every column and the announced count."""
    command = "show ap summary"
    return parse_ap_summary(prepare(text, command), command)


def parse_show_ap_summary(text: str) -> list[AccessPoint]:
    """`show ap summary` → APs with their State verbatim (unknown states kept)."""
    return parse_show_ap_summary_table(text).access_points


def parse_show_fabric_ap_summary_table(text: str) -> ApSummary:
    command = "show fabric ap summary"
    return parse_ap_summary(prepare(text, command), command)


def parse_show_fabric_ap_summary(text: str) -> list[AccessPoint]:
    """`show fabric ap summary` → APs (same table family as `show ap summary`)."""
    return parse_show_fabric_ap_summary_table(text).access_points


def parse_show_ap_image(text: str) -> ApImageReport:
    """`show ap image` → counters (16.12 and 17.x sets) and per-AP images/predownload."""
    command = "show ap image"
    return parse_ap_image(prepare(text, command), command)


def parse_show_ap_config_general(text: str) -> list[AccessPoint]:
    """`show ap config general` / `show ap name X config general` → one AP per block.

    `image_version` is `Software Version`; `state` the `Operation State`.
    """
    command = "show ap config general"
    clean = prepare(text, command)
    blocks: list[list[str]] = []
    for line in clean.split("\n"):
        if re.match(r"^\s*Cisco AP Name\s*:", line):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    aps: list[AccessPoint] = []
    for block in blocks:
        fields = kv_dict(colon_pairs(block))
        name = none_if_blank(fields.get("cisco_ap_name"))
        if name is None:
            continue
        aps.append(
            AccessPoint(
                name=name,
                model=none_if_blank(fields.get("ap_model")),
                mac=none_if_blank(fields.get("mac_address")),
                ip=none_if_blank(fields.get("ip_address")),
                image_version=none_if_blank(fields.get("software_version")),
                state=none_if_blank(fields.get("operation_state")),
                location=none_if_blank(fields.get("cisco_ap_location")),
            )
        )
    if not aps:
        raise ParseError(command, "no 'Cisco AP Name :' block")
    return aps


# ------------------------------------------------------------------ PKI


def parse_show_wireless_management_trustpoint(text: str) -> WirelessTrustpoint:
    """`show wireless management trustpoint` → the trustpoint the APs validate.

    An empty `Trustpoint Name :` gives `name=None` (no trustpoint configured),
    which is a finding, not a parse failure.
    """
    command = "show wireless management trustpoint"
    clean = prepare(text, command)
    fields = kv_dict(colon_pairs(clean.split("\n")))
    if "trustpoint_name" not in fields:
        raise ParseError(command, "no 'Trustpoint Name' line")
    return WirelessTrustpoint(
        name=none_if_blank(fields.get("trustpoint_name")),
        certificate_info=none_if_blank(fields.get("certificate_info")),
        certificate_type=none_if_blank(fields.get("certificate_type")),
        certificate_hash=none_if_blank(fields.get("certificate_hash")),
        private_key_info=none_if_blank(fields.get("private_key_info")),
        fips_suitability=none_if_blank(fields.get("fips_suitability")),
    )


_CERT_TITLE_RE = re.compile(r"^\s*(?P<title>(?:[A-Za-z][\w\-]*\s+)*Certificate)\s*$", re.IGNORECASE)
_CERT_KV_RE = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z][A-Za-z0-9 ()\-/]*?)\s*:\s*(?P<value>.*?)\s*$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def parse_show_crypto_pki_certificates(text: str) -> list[PkiCertificate]:
    """`show crypto pki certificates [tp]` → every certificate block.

    Blocks start with a title line (`Certificate`, `CA Certificate`,
    `Router Self-Signed Certificate`, ...); keys one level in; Issuer,
    Subject, CRL and Validity sections one level deeper.
    """
    command = "show crypto pki certificates"
    clean = prepare(text, command)
    lines = clean.split("\n")
    # Titles sit at the outermost indentation; keys and sections are deeper.
    outer = min((_indent(ln) for ln in lines if ln.strip()), default=0)
    blocks: list[tuple[str, list[str]]] = []
    for line in lines:
        title = _CERT_TITLE_RE.match(line)
        if title and _indent(line) == outer:
            blocks.append((title.group("title").strip(), []))
            continue
        if blocks and line.strip():
            blocks[-1][1].append(line)
    certs = [_certificate_from_block(title, body) for title, body in blocks]
    if not certs:
        if not clean.strip():
            return []
        raise ParseError(command, "no certificate block")
    return certs


def _certificate_from_block(title: str, body: list[str]) -> PkiCertificate:
    key_indent = min((_indent(ln) for ln in body if _CERT_KV_RE.match(ln)), default=0)
    fields: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in body:
        m = _CERT_KV_RE.match(line)
        if m and _indent(line) <= key_indent:
            key = norm_key(m.group("key"))
            value = m.group("value")
            if value:
                fields.setdefault(key, value)
                current = None
            else:
                current = key
                sections.setdefault(key, [])
            continue
        if current is not None:
            sections[current].append(line.strip())
    validity = kv_dict(colon_pairs(sections.get("validity_date", [])))

    def when(key: str) -> datetime | None:
        value = validity.get(key)
        return parse_loose_datetime(value) if value else None

    trustpoints = tuple((fields.get("associated_trustpoints") or "").split())
    return PkiCertificate(
        kind=title,
        status=none_if_blank(fields.get("status")),
        serial=none_if_blank(fields.get("certificate_serial_number_hex") or fields.get("certificate_serial_number")),
        usage=none_if_blank(fields.get("certificate_usage")),
        issuer=tuple(sections.get("issuer", [])),
        subject=tuple(sections.get("subject", [])),
        not_before=when("start_date"),
        not_after=when("end_date"),
        renew_date=when("renew_date"),
        trustpoints=trustpoints,
        storage=none_if_blank(fields.get("storage")),
    )


def pick_device_certificate(certs: list[PkiCertificate], trustpoint: str | None = None) -> PkiCertificate | None:
    """The controller's own certificate (not a CA), preferably of `trustpoint`.

    Preference: belongs to the wireless management trustpoint, status
    Available, has a validity window; CA certificates are never chosen,
    because a time-back only has to respect the device certificate's start.
    """
    candidates = [c for c in certs if not c.is_ca and c.window() is not None]
    if not candidates:
        return None

    def rank(cert: PkiCertificate) -> tuple[int, int]:
        in_tp = 0
        if trustpoint:
            names = {t.casefold() for t in cert.trustpoints}
            in_tp = 0 if trustpoint.casefold() in names else 1
        available = 0 if (cert.status or "").lower() == "available" else 1
        return (in_tp, available)

    return min(candidates, key=rank)


def device_certificate_window(certs: list[PkiCertificate], trustpoint: str | None = None) -> CertificateWindow | None:
    cert = pick_device_certificate(certs, trustpoint)
    return cert.window(name=trustpoint) if cert else None


#: poll key (commands.yaml `key`) -> parser
PARSERS: dict[str, Parser] = {
    "show_version": parse_show_version,
    "show_install_summary": parse_show_install_summary,
    "show_clock": parse_show_clock,
    "show_ntp_associations": parse_show_ntp_associations,
    "show_running_config_ntp": parse_show_running_config_ntp,
    "ntp_config": parse_ntp_config,
    "show_ap_summary": parse_show_ap_summary_table,
    "show_ap_image": parse_show_ap_image,
    "show_wireless_management_trustpoint": parse_show_wireless_management_trustpoint,
    "show_crypto_pki_certificates": parse_show_crypto_pki_certificates,
    "show_ap_config_general": parse_show_ap_config_general,
    "show_fabric_ap_summary": parse_show_fabric_ap_summary,
}
