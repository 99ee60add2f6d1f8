"""Catalyst 9800 (IOS-XE) command output, copied from real captures.

Every layout here reproduces a capture in /work/shared/corpus (named in each
function) column for column; layouts without a public capture are marked
*invented* and listed in FORMATS.md. Renderers are pure functions of a
`Controller` returning `\\n`-separated text.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import zlib
from datetime import UTC, datetime, timedelta

from bot.simulator.columns import cell
from bot.simulator.config import NtpServer
from bot.simulator.dates import ios_cert_date, ios_clock, ios_log_time
from bot.simulator.model import DOWNLOADING, AccessPoint, Controller, version_tuple

NEW_AP_SUMMARY_FROM = (17, 9, 4)  # legend `CC = Country Code` and State before Location
FULL_MODEL_NAMES_FROM = (17, 4)  # older releases print short models (`3702I`)


def dotted_mac(mac: str) -> str:
    return f"{mac[0:4]}.{mac[4:8]}.{mac[8:12]}".lower()


def padded_version(version: str) -> str:
    """`17.3.4` -> `17.03.04` (the first line of `show version`)."""
    parts = version.split(".")
    out = [parts[0]] + [
        p.zfill(2) if p.isdigit() else (p[:-1].zfill(2) + p[-1] if p[:-1].isdigit() else p) for p in parts[1:]
    ]
    return ".".join(out)


def release_name(version: str) -> str:
    major, minor = version_tuple(version, 2)
    if major == 16:
        return "Gibraltar"
    if major == 17 and minor <= 3:
        return "Amsterdam"
    if major == 17 and minor <= 6:
        return "Bengaluru"
    if major == 17 and minor <= 9:
        return "Cupertino"
    if major == 17 and minor <= 12:
        return "Dublin"
    return "IOSXE"


def _uptime(c: Controller, extra_minutes: int = 0) -> str:
    """`4 weeks, 6 days, 21 hours, 48 minutes` (the corpus capture's uptime at start), counting on
    from the controller's (re)start, so a reload shows as a short uptime."""
    start = 4 * 7 * 86400 + 6 * 86400 + 21 * 3600 + (48 + extra_minutes) * 60
    seconds = int(c.timebase.sim_now() - c.started_at) + start
    weeks, rest = divmod(seconds, 7 * 86400)
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    return f"{weeks} weeks, {days} days, {hours} hours, {minutes} minutes"


def show_clock(c: Controller, *, detail: bool = False) -> str:
    """`show clock [detail]` (corpus ios_iosxe/show_clock/*.raw).

    Prefix: none when NTP-synced, `*` when set by hand or never set (not
    authoritative), `.` when NTP is configured but not (yet) in sync.
    """
    if c.clock_source == "ntp":
        prefix = ""
    elif c.clock_source == "manual" or not c.running.ntp_servers:
        prefix = "*"
    else:
        prefix = "."
    text = f"{prefix}{ios_clock(c.now())}"
    if detail:
        source = {"ntp": "NTP", "manual": "user configuration"}.get(c.clock_source, "hardware calendar")
        text += f"\nTime source is {source}"
    return text


def ntp_association_line(
    mark: str,
    address: str,
    ref: str,
    stratum: int,
    when: str,
    poll: int,
    reach: str,
    delay: str,
    offset: str,
    disp: str,
) -> str:
    """One row of `show ntp associations` (`~` = configured)."""
    return f"{mark}~{address:<16}{ref:<16}{stratum:>2}{when:>7}{poll:>7}{reach:>6}{delay:>7}{offset:>8}{disp:>7}"


def _ntp_row(c: Controller, server: NtpServer, peer: NtpServer | None) -> str:
    """Plausible, stable figures: reachable servers answer (stratum 1), the
    others are `.INIT.` with reach 0; `*` marks the sync peer, `+` candidates."""
    seed = zlib.crc32(server.address.encode())
    if not c.ntp_reachable(server):
        return ntp_association_line(" ", server.address, ".INIT.", 16, "-", 1024, "0", "0.000", "0.000", "15937.")
    mark = "*" if server is peer else ("+" if peer is not None else " ")
    return ntp_association_line(
        mark,
        server.address,
        ".GNSS.",
        1,
        str(seed % 60 + 5),
        64,
        "377",
        f"{(seed % 900) / 1000 + 0.1:.3f}",
        f"{(seed % 400) / 100 - 2:.3f}",
        "1.090",
    )


def show_ntp_associations(c: Controller) -> str:
    """`show ntp associations` (corpus ios_iosxe/show_ntp_associations/..._3.raw)."""
    servers = c.running.ntp_servers
    if not servers:
        return "%NTP is not enabled."
    peer = c.sync_peer()
    lines = ["  address         ref clock       st   when   poll reach  delay  offset   disp"]
    lines += [_ntp_row(c, s, peer) for s in servers]
    lines.append(" * sys.peer, # selected, + candidate, - outlyer, x falseticker, ~ configured")
    return "\n".join(lines)


def show_ntp_status(c: Controller) -> str:
    """`show ntp status` (first line as IOS prints it; the rest trimmed, invented)."""
    if not c.running.ntp_servers:
        return "%NTP is not enabled."
    peer = c.sync_peer()
    if peer is None:
        return "Clock is unsynchronized, stratum 16, no reference clock"
    return (
        f"Clock is synchronized, stratum 2, reference is {peer.address}\n"
        "nominal freq is 250.0000 Hz, actual freq is 250.0000 Hz, precision is 2**10"
    )


def _config_body(c: Controller, ntp_lines: list[str]) -> list[str]:
    major, minor = version_tuple(c.version, 2)
    return [
        "!",
        f"version {major}.{minor}",
        "service timestamps debug datetime msec",
        "service timestamps log datetime msec",
        "service call-home",
        "platform qfp utilization monitor load 80",
        "platform punt-keepalive disable-kernel-core",
        "!",
        f"hostname {c.name}",
        "!",
        "boot-start-marker",
        "boot-end-marker",
        "!",
        "!",
        "no aaa new-model",
        "!",
        f"username {c.username} privilege 15 secret 9 $9$simulated$hash",
        "!",
        "interface GigabitEthernet1",
        f" ip address {c.mgmt_ip} 255.255.255.0",
        " negotiation auto",
        "!",
        "ip ssh version 2",
        "!",
        "line con 0",
        " stopbits 1",
        "line vty 0 4",
        " login local",
        " transport input ssh",
        "!",
        *ntp_lines,
        f"wireless management trustpoint {c.certificate.trustpoint}",
        "end",
    ]


def show_running_config(c: Controller) -> str:
    """`show running-config` (invented around the real `ntp ...` lines)."""
    body = _config_body(c, c.running.ios_ntp_lines())
    size = sum(len(line) + 1 for line in body)
    return "\n".join(["Building configuration...", "", f"Current configuration : {size} bytes", *body])


def show_startup_config(c: Controller) -> str:
    """`show startup-config`: the saved configuration (invented wrapper)."""
    body = _config_body(c, c.saved.ios_ntp_lines())
    size = sum(len(line) + 1 for line in body)
    return "\n".join([f"Using {size} out of 33554432 bytes", *body])


def image_build_number(c: Controller) -> int:
    """A stable 4-digit build number for the controller's image (invented).

    Shared by `show install summary` (`17.03.04.0.<build>`) and the
    engineering form of `show version`, so both name the same build.
    """
    return zlib.crc32(c.version.encode()) % 9000 + 1000


#: A build label's leading part up to its `_<yyyymmdd>_<hhmmss>` stamp.
BUILD_LABEL_STAMP = re.compile(r"^(?P<label>.*?_(?P<date>\d{8})_(?P<time>\d{6}))")


def _train_year(version: str) -> int:
    """Roughly the year a train was built in (16.12: 2019, 17.3: 2020, 17.9: 2022)."""
    major, minor = version_tuple(version, 2)
    if major == 16:
        return 2016 + max(minor - 3, 0) // 3
    if major == 17:
        return 2019 + minor // 3
    return 2020


def experimental_build(c: Controller) -> tuple[str, datetime, str]:
    """(label, build instant, bracketed build path) of an experimental image.

    The label is the scenario's `version_string` or
    `BLD_POLARIS_DEV_LATEST_<yyyymmdd>_<hhmmss>` with a date derived stably
    from the version within its train's year (invented: any date a real
    build could have). A `version_string` that carries a
    `..._<yyyymmdd>_<hhmmss>` stamp dates the build, as real labels do.
    """
    seed = zlib.crc32(c.version.encode())
    derived = datetime(_train_year(c.version), 1, 1, tzinfo=UTC) + timedelta(
        days=seed % 365, seconds=(seed // 365) % 86400
    )
    stamp, base = derived, f"BLD_POLARIS_DEV_LATEST_{derived:%Y%m%d_%H%M%S}"
    if c.version_string is not None:
        m = BUILD_LABEL_STAMP.match(c.version_string)
        if m is not None:
            with contextlib.suppress(ValueError):
                stamp = datetime.strptime(m["date"] + m["time"], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
                base = m["label"]
    label = c.version_string if c.version_string is not None else base
    return label, stamp, f"[polaris_dev-/nobackup/mcpre/BLD-{base} {seed % 200 + 100}]"


def version_header(c: Controller) -> list[str]:
    """The lines of `show version` down to `Compiled ...`, per `version_form`.

    - `release` (the 9800-CL capture): `Version 17.03.04` (or the scenario's
      `version_string`, as special builds print a name there), then
      `Version 17.3.4, RELEASE SOFTWARE (fc3)`.
    - `experimental` (shape of public 9800-CL / Cat9k experimental captures,
      which have no `Technical Support` line): the build label on the XE
      line, then `Experimental Version <major.minor>.<yyyymmdd>:<hhmmss>
      [<build path> <n>]`, the date a few minutes after the label's.
    - `engineering` (invented, no public capture): `Version
      17.03.04.0.<build>` on both lines (the release padded plus two build
      fields; the XE line can still be `version_string`).
    """
    virtual = "CL" in c.hardware.upper()
    platform = "C9800-CL" if virtual else "C9800"
    image = "C9800-CL-K9_IOSXE" if virtual else "C9800_IOSXE-K9"
    software = f"Cisco IOS Software [{release_name(c.version)}], {platform} Software ({image}), "
    if c.version_form == "experimental":
        label, stamp, path = experimental_build(c)
        major, minor = version_tuple(c.version, 2)
        seed = zlib.crc32(c.version.encode())
        built = stamp + timedelta(minutes=seed % 25 + 3, seconds=seed % 60)
        return [
            f"Cisco IOS XE Software, Version {label}",
            f"{software}Experimental Version {major}.{minor}.{built:%Y%m%d:%H%M%S} {path}",
            f"Copyright (c) 1986-{stamp.year} by Cisco Systems, Inc.",
            f"Compiled {stamp:%a %d-%b-%y %H:%M} by mcpre",
        ]
    if c.version_form == "engineering":
        full = f"{padded_version(c.version)}.0.{image_build_number(c)}"
        xe, ios = full, full
    else:
        xe, ios = padded_version(c.version), c.version
    if c.version_string is not None:
        xe = c.version_string
    return [
        f"Cisco IOS XE Software, Version {xe}",
        f"{software}Version {ios}, RELEASE SOFTWARE (fc3)",
        "Technical Support: http://www.cisco.com/techsupport",
        "Copyright (c) 1986-2021 by Cisco Systems, Inc.",
        "Compiled Tue 29-Jun-21 10:34 by mcpre",
    ]


def show_version(c: Controller) -> str:
    """`show version` (corpus c9800/show_version/genieparser_ShowVersion_golden_output_c9800.raw);
    the first lines follow the scenario's `version_form` (see `version_header`)."""
    cpu = "VXE" if "CL" in c.hardware.upper() else "KATAR"
    return "\n".join(
        [
            *version_header(c),
            "",
            "",
            "Cisco IOS-XE software, Copyright (c) 2005-2021 by cisco Systems, Inc.",
            "All rights reserved.  Certain components of Cisco IOS-XE software are",
            'licensed under the GNU General Public License ("GPL") Version 2.0.  The',
            "software code licensed under GPL Version 2.0 is free software that comes",
            "with ABSOLUTELY NO WARRANTY.  You can redistribute and/or modify such",
            "GPL code under the terms of GPL Version 2.0.  For more details, see the",
            'documentation or "License Notice" file accompanying the IOS-XE software,',
            "or the applicable URL provided on the flyer accompanying the IOS-XE",
            "software.",
            "",
            "",
            "ROM: IOS-XE ROMMON",
            "",
            f"{c.name} uptime is {_uptime(c)}",
            f"Uptime for this control processor is {_uptime(c, extra_minutes=4)}",
            "System returned to ROM by reload",
            "System restarted at 08:02:28 UTC Wed Jan 12 2022",
            'System image file is "bootflash:packages.conf"',
            "Last reload reason: Reload Command",
            "",
            "",
            "",
            "AIR License Level: AIR DNA Advantage",
            "Next reload AIR license Level: AIR DNA Advantage",
            "",
            "Smart Licensing Status: Registration Not Applicable/Not Applicable",
            "",
            f"cisco {c.hardware} ({cpu}) processor (revision {cpu}) with 12293240K/3075K bytes of memory.",
            f"Processor board ID {c.serial_number}",
            "Router operating mode: Autonomous",
            "3 Gigabit Ethernet interfaces",
            "32768K bytes of non-volatile configuration memory.",
            "16332124K bytes of physical memory.",
            "6201343K bytes of virtual hard disk at bootflash:.",
            "Installation mode is INSTALL",
            "",
            "",
            "Configuration register is 0x102",
        ]
    )


INSTALL_RULE = "-" * 80


def show_install_summary(c: Controller) -> str:
    """`show install summary` (corpus ios_iosxe/show_install_summary/*.raw), APSP rows
    from the scenario (type `APSP` is our guess; no public 9800 capture)."""
    rows = [f"{'IMG':<6}{'C':<5}{padded_version(c.version)}.0.{image_build_number(c)}"]
    rows += [f"{p['type']:<6}{p['state']:<5}bootflash:{p['file']}" for p in c.apsps]
    return "\n".join(
        [
            "[ R0 ] Installed Package(s) Information:",
            "State (St): I - Inactive, U - Activated & Uncommitted,",
            "            C - Activated & Committed, D - Deactivated & Uncommitted",
            INSTALL_RULE,
            "Type  St   Filename/Version",
            INSTALL_RULE,
            *rows,
            "",
            INSTALL_RULE,
            "Auto abort timer: inactive",
            INSTALL_RULE,
        ]
    )


def ap_summary_layout(version: str) -> str:
    """`short`, `long` (State last) or `new` (legend, State before Location)."""
    v = version_tuple(version)
    if v >= NEW_AP_SUMMARY_FROM:
        return "new"
    if v >= FULL_MODEL_NAMES_FROM:
        return "long"
    return "short"


def _ap_summary_old(aps: list[AccessPoint], *, short: bool) -> tuple[list[str], list[str]]:
    model_width = 10 if short else 22
    header = (
        f"{'AP Name':<35}{'Slots':<9}{'AP Model':<{model_width}}{'Ethernet MAC':<16}{'Radio MAC':<16}"
        f"{'Location':<34}{'Country':<12}{'IP Address':<43}{'State':<14}"
    )
    rule = "-" * (len(header) - 2)
    rows = [
        cell(ap.name, 37)
        + cell(ap.slots, 7)
        + cell(ap.short_model if short else ap.model, model_width)
        + cell(dotted_mac(ap.mac), 16)
        + cell(dotted_mac(ap.radio_mac), 16)
        + cell(ap.location, 34)
        + cell(ap.country, 12)
        + cell(ap.ip, 43)
        + f"{ap.state:<14}"
        for ap in aps
    ]
    return [header, rule], rows


def _ap_summary_new(aps: list[AccessPoint]) -> tuple[list[str], list[str]]:
    header = (
        f"{'AP Name':<33}{'Slots':<6}{'AP Model':<21}{'Ethernet MAC':<15}{'Radio MAC':<15}{'CC':<5}{'RD':<5}"
        f"{'IP Address':<42}{'State':<13}Location"
    )
    rule = "-" * (len(header) + 2)
    rows = [
        cell(ap.name, 33)
        + cell(ap.slots, 6)
        + cell(ap.model, 21)
        + cell(dotted_mac(ap.mac), 15)
        + cell(dotted_mac(ap.radio_mac), 15)
        + cell(ap.country, 5)
        + cell(ap.regulatory_domain, 5)
        + cell(ap.ip, 42)
        + cell(ap.state, 13)
        + f"{ap.location:<32}"
        for ap in aps
    ]
    return [header, rule], rows


def show_ap_summary(c: Controller) -> str:
    """`show ap summary` in the layout of the controller's release.

    - before 17.4: short models, model column 10 wide, State last
      (technote/c9800_show_ap_summary_downloading.raw);
    - 17.4 up to 17.9.3: full PIDs, model column 22 wide, State last
      (c9800/show_ap_summary/genieparser_ShowApSummary_golden_output2.raw);
    - from 17.9.4: `CC`/`RD` legend, State before Location
      (c9800/show_ap_summary/genieparser_ShowApSummary_golden_output_4.raw).

    With `ap_summary_header_every: N` the count and header repeat every N
    rows, as some real captures show. With `ap_summary_truncate: N` the
    count stays the true number of APs but only the first N rows print.
    """
    all_aps = list(c.aps.values())
    aps = all_aps if c.ap_summary_truncate is None else all_aps[: c.ap_summary_truncate]
    layout = ap_summary_layout(c.version)
    if layout == "new":
        head, rows = _ap_summary_new(aps)
        preamble = [f"Number of APs: {len(all_aps)}", "", "CC = Country Code", "RD = Regulatory Domain", ""]
    else:
        head, rows = _ap_summary_old(aps, short=layout == "short")
        preamble = [f"Number of APs: {len(all_aps)}", ""]
    every = c.ap_summary_header_every or len(rows) or 1
    lines: list[str] = []
    for start in range(0, max(len(rows), 1), every):
        if start:
            lines.append("")
        lines += preamble + head + rows[start : start + every]
    return "\n".join(lines)


def _predownload_count(aps: list[AccessPoint], status: str) -> int:
    want = status.replace(" ", "").lower()
    return sum(1 for ap in aps if ap.predownload_status.replace(" ", "").lower() == want)


def show_ap_image(c: Controller) -> str:
    """`show ap image` (corpus c9800/show_ap_image/genieparser_ShowApImage_golden_output.raw),
    the 17.x counters; per-AP retry count from the model, predownload status
    and version from the AP's predownload (`None` / `0.0.0.0` without one,
    as in the capture). `Predownload in progress` is `Yes` while any AP is
    `Initiated` or `Predownloading` (invented: the capture only shows `No`)."""
    aps = list(c.aps.values())
    in_progress = _predownload_count(aps, "Initiated") + _predownload_count(aps, "Predownloading")
    counters = [
        ("Initiated", _predownload_count(aps, "Initiated")),
        ("Downloading", sum(1 for ap in aps if ap.state == DOWNLOADING)),
        ("Predownloading", _predownload_count(aps, "Predownloading")),
        ("Completed downloading", sum(1 for ap in aps if ap.download_status == "Complete")),
        ("Completed predownloading", _predownload_count(aps, "Complete")),
        ("Not Supported", _predownload_count(aps, "Not Supported")),
        ("Failed to Predownload", _predownload_count(aps, "Failed")),
        ("Predownload in progress", "Yes" if in_progress else "No"),
    ]
    lines = [f"Total number of APs  : {len(aps)}", "", "", "Number of APs "]
    lines += [f"        {label:<27}: {value}" for label, value in counters]
    lines += [
        "AP Name                           Primary Image          Backup Image            Predownload Status   "
        "Predownload Version  Next Retry Time   Retry Count   Method",
        "-" * 162,
    ]
    lines += [
        cell(ap.name, 34)
        + cell(ap.image, 23)
        + cell(ap.backup_image, 27)
        + cell(ap.predownload_status, 22)
        + cell(ap.predownload_version or "0.0.0.0", 20)
        + f"{'N/A':<20}{ap.retry_count:<12}N/A"
        for ap in aps
    ]
    return "\n".join(lines)


def show_wireless_management_trustpoint(c: Controller) -> str:
    """`show wireless management trustpoint`
    (corpus c9800/show_wireless_management_trustpoint/genieparser_..._output1.raw)."""
    cert = c.certificate
    digest = hashlib.sha1(f"{cert.subject}/{cert.serial}".encode()).hexdigest()
    return "\n".join(
        [
            f"Trustpoint Name : {cert.trustpoint}",
            "Certificate Info : Available",
            f"Certificate Type : {cert.cert_type}",
            f"Certificate Hash : {digest} ",
            "Private key Info : Available",
            "FIPS suitability : Not Applicable",
        ]
    )


def _dn_lines(dn: str) -> list[str]:
    return [f"    {part.strip()}" for part in dn.split(",") if part.strip()]


def show_crypto_pki_certificates(c: Controller, trustpoint: str | None = None) -> str:
    """`show crypto pki certificates [<tp>]`
    (corpus ios_iosxe/show_crypto_pki_certificates/genieparser_..._c3850.raw):
    the management certificate, then its issuing CA. `Status: Available`
    is printed even when the clock makes the certificate not yet valid, as
    IOS does; the validity dates tell."""
    cert = c.certificate
    if trustpoint is not None and trustpoint != cert.trustpoint:
        return ""
    ca_cn = cert.issuer
    name = next((p.split("=", 1)[1] for p in cert.subject.split(",") if p.startswith("cn=")), c.name)
    serial_no = c.serial_number
    device = [
        "Certificate",
        "  Status: Available",
        f"  Certificate Serial Number (hex): {cert.serial}",
        "  Certificate Usage: General Purpose",
        "  Issuer: ",
        *_dn_lines(ca_cn),
        "  Subject:",
        f"    Name: {name}",
        f"    Serial Number: {serial_no}",
        *_dn_lines(cert.subject),
        "  Validity Date: ",
        f"    start date: {ios_cert_date(cert.not_before)}",
        f"    end   date: {ios_cert_date(cert.not_after)}",
        f"  Associated Trustpoints: {cert.trustpoint} ",
        f"  Storage: nvram:{cert.trustpoint[:12]}#{cert.serial}.cer",
    ]
    ca = [
        "CA Certificate",
        "  Status: Available",
        "  Certificate Serial Number (hex): 01",
        "  Certificate Usage: Signature",
        "  Issuer: ",
        *_dn_lines(ca_cn),
        "  Subject: ",
        *_dn_lines(ca_cn),
        "  Validity Date: ",
        f"    start date: {ios_cert_date(cert.not_before)}",
        f"    end   date: {ios_cert_date(cert.not_after)}",
        f"  Associated Trustpoints: {cert.trustpoint} ",
        f"  Storage: nvram:{cert.trustpoint[:12]}#1CA.cer",
    ]
    return "\n".join(["", *device, "", *ca, ""])


def show_logging(c: Controller) -> str:
    """`show logging` (invented, short header): the buffer, oldest first."""
    lines = [
        "Syslog logging: enabled (0 messages dropped, 0 messages rate-limited, 0 flushes, 0 overruns, "
        "xml disabled, filtering disabled)",
        "",
        f"    Buffer logging:  level debugging, {len(c.log)} messages logged, xml disabled,",
        "                     filtering disabled",
        "",
        "Log Buffer (102400 bytes):",
        "",
    ]
    lines += [f"*{ios_log_time(e.when)}: %{e.mnemonic}: {e.text}" for e in c.log]
    return "\n".join(lines)
