"""AireOS command output, copied from real captures.

Every layout here reproduces a capture in /work/shared/corpus (named in each
function) column for column, because the bot's parsers are written against
those captures and are tested against this simulator. Layouts without a
public capture are marked *invented* and listed in FORMATS.md.

Renderers are pure: they read a `Controller` and return text with `\\n` line
ends (the terminal turns them into CRLF).
"""

from __future__ import annotations

import hashlib
import zlib

from bot.simulator.columns import cell
from bot.simulator.config import NtpServer
from bot.simulator.dates import aireos_time, ios_log_time, openssl_date
from bot.simulator.model import DOWNLOADING, REGISTERED, AccessPoint, Controller

LEADER_WIDTH = 49


def dotted(label: str, value: object = "", width: int = LEADER_WIDTH) -> str:
    """`Label............ value`: AireOS dotted leader, value at column width+1.

    With an empty value AireOS prints the dots and nothing after them.
    """
    text = str(value)
    leader = label.ljust(width, ".")
    return f"{leader} {text}" if text else leader


def colon_mac(mac: str) -> str:
    return ":".join(mac[i : i + 2] for i in range(0, 12, 2)).lower()


def _uptime(controller: Controller) -> str:
    seconds = int(controller.timebase.sim_now() - controller.started_at) + 12 * 86400 + 3 * 3600
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{days} days {hours} hrs {minutes} mins {secs} secs"


def show_sysinfo(c: Controller) -> str:
    """`show sysinfo` (corpus aireos/show_sysinfo/pyntc_show_sysinfo_full.raw).

    `Product Version` is the scenario's `version_string` when it has one (a
    build whose product version is not the plain release); every other
    field, RTOS Version included, keeps the release.
    """
    lines = [
        "",
        dotted("Manufacturer's Name", "Cisco Systems Inc."),
        dotted("Product Name", "Cisco Controller"),
        dotted("Product Version", c.version_string if c.version_string is not None else c.version),
        dotted("RTOS Version", c.version),
        dotted("Bootloader Version", "8.5.103.0"),
        dotted("Emergency Image Version", "8.5.103.0"),
        "",
        dotted("Build Type", "DATA + WPS"),
        "",
        dotted("System Name", c.name),
        dotted("System Location"),
        dotted("System Contact"),
        dotted("System ObjectID", "1.3.6.1.4.1.9.1.2170"),
        dotted("Redundancy Mode", "Disabled"),
        dotted("IP Address", c.mgmt_ip),
        dotted("IPv6 Address", "::"),
        dotted("System Up Time", _uptime(c)),
        dotted("System Timezone Location"),
        dotted("System Stats Realtime Interval", 5),
        dotted("System Stats Normal Interval", 180),
        "",
        dotted("Configured Country", "US  - United States"),
        dotted("Operating Environment", "Commercial (10 to 35 C)"),
        dotted("Internal Temp Alarm Limits", "10 to 38 C"),
        dotted("Internal Temperature", "+18 C"),
        dotted("Fan Status", "OK"),
        "",
        dotted("State of 802.11b Network", "Enabled"),
        dotted("State of 802.11a Network", "Enabled"),
        dotted("Number of WLANs", 1),
        dotted("Number of Active Clients", 0),
        "",
        dotted("Burned-in MAC Address", colon_mac(hashlib.md5(c.name.encode()).hexdigest()[:12]).upper()),
        dotted("Power Supply 1", "Present, OK"),
        dotted("Power Supply 2", "Present, OK"),
        dotted("Maximum number of APs supported", 1500),
        dotted("System Nas-Id"),
        dotted("WLC MIC Certificate Types", "SHA1/SHA2"),
        dotted("Licensing Type", "RTU"),
    ]
    return "\n".join(lines)


NTP_TABLE_HEADER = (
    "     Index     NTP Key Index                  NTP Server                Status          NTP Msg Auth Status"
)
NTP_TABLE_RULE = "    -------  ---------------------------------------------------------------------"


def ntp_status(c: Controller, server: NtpServer) -> tuple[str, str]:
    """(Status, NTP Msg Auth Status) of one AireOS NTP row (status words partly invented)."""
    peer = c.sync_peer()
    if not c.ntp_reachable(server):
        status = "Not Synched"
    elif peer is not None and peer is server:
        status = "In Sync"
    else:
        status = "Not Tried"
    if server.key is None:
        return status, "AUTH DISABLED"
    return status, "AUTH SUCCESS" if status == "In Sync" else "AUTH ENABLED"


def show_time(c: Controller) -> str:
    """`show time` (corpus aireos/show_time/ntc-templates_cisco_wlc_ssh_show_time.raw).

    The NTP server column is right-aligned to column 74, as on the capture's
    second row (its first row's address was anonymised). Without NTP servers
    the whole `NTP Servers` block is left out, like the tech note's capture
    after a time-back.
    """
    lines = [
        "",
        dotted("Time", aireos_time(c.now())),
        "",
        dotted("Timezone delta", "0:0"),
        dotted("Timezone location"),
    ]
    servers = sorted(c.running.ntp_servers, key=lambda s: s.index or 0)
    if servers:
        lines += [
            "",
            "NTP Servers",
            "    " + dotted("NTP Version", "    3", width=45),
            "    " + dotted("NTP Polling Interval", "    3600", width=45),
            "",
            NTP_TABLE_HEADER,
            NTP_TABLE_RULE,
        ]
        for server in servers:
            lines.append(ntp_row(server.index or 0, server.key or 0, server.address, *ntp_status(c, server)))
    return "\n".join(lines)


def ntp_row(index: int, key: int, address: str, status: str, auth: str) -> str:
    """One row of the `show time` NTP table."""
    return f"{index:>8}{key:>15}{address:>51}     {status:<21}{auth}"


AP_SUMMARY_HEADER = (
    "AP Name                         Slots  AP Model              Ethernet MAC       Location              "
    "Country     IP Address       Clients  DSE Location "
)
AP_SUMMARY_RULE = (
    "------------------------------  -----  --------------------  -----------------  --------------------  "
    "----------  ---------------  -------  --------------"
)


def ap_summary_row(ap: AccessPoint) -> str:
    return (
        cell(ap.name, 32)
        + cell(ap.slots, 7)
        + cell(ap.model, 23)
        + cell(colon_mac(ap.mac), 19)
        + cell(ap.location, 22)
        + cell(ap.country, 12)
        + cell(ap.ip, 17)
        + cell(0, 9)
        + "[0 ,0 ,0 ]"
    )


def show_ap_summary(c: Controller) -> str:
    """`show ap summary` (corpus aireos/show_ap_summary/ntc-templates_cisco_wlc_ssh_show_ap_summary.raw).

    No State column on AireOS. APs still downloading are listed unless the
    scenario sets `aireos_summary_lists_downloading: false`. With
    `ap_summary_truncate: N` the count stays true but only the first N rows
    are printed (a real capture's count said thousands, 37 rows came back).
    """
    aps = [ap for ap in c.aps.values() if ap.state == REGISTERED or c.aireos_summary_lists_downloading]
    lines = [
        "",
        dotted("Number of APs", len(aps)),
        " ",
        dotted("Global AP User Name", "admin"),
        dotted("Global AP Dot1x User Name", "Not Configured"),
        dotted("Global AP Dot1x EAP Method", "EAP-FAST"),
        " ",
        AP_SUMMARY_HEADER,
        AP_SUMMARY_RULE,
    ]
    shown = aps if c.ap_summary_truncate is None else aps[: c.ap_summary_truncate]
    lines += [ap_summary_row(ap) for ap in shown]
    return "\n".join(lines)


def show_ap_image_status(c: Controller) -> str:
    """`show ap image status`, AireOS 8.10 (corpus technote/aireos_8.10_show_ap_image_status.raw).

    The tech note shows three columns; that is all we know, so that is all we
    print. Status per AP: `Downloading`, `Complete` (took an image since the
    simulator started) or `None` (never needed one).
    """
    aps = list(c.aps.values())
    lines = [
        dotted("Total number of APs", len(aps)),
        dotted("Total AP's Downloading", sum(1 for ap in aps if ap.state == DOWNLOADING)),
        "AP Name            Primary Image  Download Status",
        "------------------ -------------- ----------------",
    ]
    lines += [cell(ap.name, 19) + cell(ap.image, 15) + ap.download_status for ap in aps]
    return "\n".join(lines)


IMAGE_ALL_HEADER = [
    "                                                 Predownload     Predownload                                  "
    "Flexconnect",
    "AP Name            Primary Image  Backup Image   Status          Version        Next Retry Time  Retry Count  "
    "Predownload",
    "------------------ -------------- -------------- --------------- -------------- ---------------- ------------ "
    "--------------",
]


def predownload_count(aps: list[AccessPoint], status: str) -> int:
    """APs whose predownload status is `status` (case and spacing ignored)."""
    want = status.replace(" ", "").lower()
    return sum(1 for ap in aps if ap.predownload_status.replace(" ", "").lower() == want)


def image_all_retry_count(ap: AccessPoint) -> str:
    """The `Retry Count` cell: the model's count while the AP downloads, else `NA`.

    A downloading AP that has not retried yet prints `NA` too: that is what
    the tech note's capture shows for an AP on its first download
    (technote/aireos_8.5_show_ap_image_all.raw), so the count only appears
    from the first failed attempt on.
    """
    if ap.state == DOWNLOADING and ap.retry_count > 0:
        return str(ap.retry_count)
    return "NA"


def show_ap_image_all(c: Controller) -> str:
    """`show ap image all`, AireOS 8.5 (corpus aireos/show_ap_image_all/ntc-templates_..._all.raw,
    technote/aireos_8.5_show_ap_image_all.raw): counters with a tab, then one row per AP.

    Predownload columns and counters come from each AP's predownload
    (pyntc_show_ap_image_all.raw shows `Complete` with a version); with none
    they are `None None` and 0, as in the captures.
    """
    aps = list(c.aps.values())
    downloading = sum(1 for ap in aps if ap.state == DOWNLOADING)
    lines = [
        "",
        dotted("Total number of APs", len(aps)),
        "Number of APs",
        "\t" + dotted("Initiated", predownload_count(aps, "Initiated"), width=48),
        "\t" + dotted("Downloading", downloading, width=48),
        "\t" + dotted("Predownloading", predownload_count(aps, "Predownloading"), width=48),
        "\t" + dotted("Completed predownloading", predownload_count(aps, "Complete"), width=48),
        "\t" + dotted("Not Supported", predownload_count(aps, "Not Supported"), width=48),
        "\t" + dotted("Failed to Predownload", predownload_count(aps, "Failed"), width=48),
        "",
        *IMAGE_ALL_HEADER,
    ]
    for ap in aps:
        lines.append(
            cell(ap.name, 19)
            + cell(ap.image, 15)
            + cell(ap.backup_image, 15)
            + cell(ap.predownload_status, 16)
            + cell(ap.predownload_version or "None", 15)
            + f"{'NA':<17}{image_all_retry_count(ap):<13}{'':<12}"
        )
    lines.append("")
    return "\n".join(lines)


def _country(code: str) -> str:
    return f"{code}  - United States" if code == "US" else code


def show_ap_config_general(c: Controller, ap: AccessPoint) -> str:
    """`show ap config general <ap>` (corpus aireos/show_ap_config_general/...raw), the
    fields up to the image and state; `Operation State` is `DOWNLOADING` while
    the AP loops (invented: no capture shows a downloading AP)."""
    lines = [
        dotted("Cisco AP Identifier", zlib.crc32(ap.name.encode()) % 200 + 1),
        dotted("Cisco AP Name", ap.name),
        dotted("Country code", _country(ap.country)),
        dotted(
            "Regulatory Domain allowed by Country",
            f"802.11bg:{ap.regulatory_domain}     802.11a:{ap.regulatory_domain}",
        ),
        dotted("AP Country code", _country(ap.country)),
        dotted("AP Regulatory Domain", ap.regulatory_domain),
        "Switch Port Number .............................. 1",
        dotted("MAC Address", colon_mac(ap.mac)),
        dotted("IP Address Configuration", "DHCP"),
        dotted("IP Address", ap.ip),
        dotted("IP NetMask", "255.255.255.0"),
        dotted("Gateway IP Addr", ap.ip.rsplit(".", 1)[0] + ".1"),
        dotted("CAPWAP Path MTU", 1485),
        dotted("Telnet State", "Globally Disabled"),
        dotted("Ssh State", "Globally Disabled"),
        dotted("Cisco AP Location", ap.location),
        dotted("Cisco AP Group Name", "default-group"),
        dotted("Primary Cisco Switch Name", c.name),
        dotted("Primary Cisco Switch IP Address", c.mgmt_ip),
        "Administrative State ............................ ADMIN_ENABLED",
        "Operation State ................................. "
        + ("REGISTERED" if ap.state == REGISTERED else "DOWNLOADING"),
        "AP Mode ......................................... Local",
        "S/W  Version .................................... " + ap.image,
        "Boot  Version ................................... 15.2.4.5",
        dotted("Number Of Slots", f"{ap.slots} "),
        dotted("AP Model", ap.model),
    ]
    if ap.ios_based:
        lines += [dotted("AP Image", "C3700-K9W8-M"), dotted("IOS Version", "15.3(3)JPJ9$")]
    lines += [
        dotted("Reset Button", "Enabled"),
        dotted("AP Serial Number", ap.serial),
        dotted("AP Certificate Type", "Manufacture Installed"),
        dotted(
            "Cisco AP system logging host",
            c.ap_syslog.host if c.ap_syslog is not None else "255.255.255.255",
        ),
    ]
    return "\n".join(lines)


def show_certificate_summary(c: Controller) -> str:
    """`show certificate summary` (invented from Cisco's command reference: no capture)."""
    return "\n".join(
        [
            dotted("Web Administration Certificate", "Locally Generated"),
            dotted("Web Authentication Certificate", "Locally Generated"),
            dotted("Certificate compatibility mode:", "off"),
            "Lifetime Check Ignore for MIC ................... Disable",
            "Lifetime Check Ignore for SSC ................... Disable",
        ]
    )


def _fingerprint(text: str, algo: str) -> str:
    digest = hashlib.new(algo, text.encode()).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def show_certificate_all(c: Controller) -> str:
    """`show certificate all` (invented layout, fields from a public forum quote of a
    real 2504: `Certificate Name:`, `Validity :` with `Start :`/`End :` in
    OpenSSL date form). The device certificate first, then its CA."""
    cert = c.certificate
    ca_start = cert.not_before.replace(year=2012, month=11, day=12)
    ca_end = ca_start.replace(year=2037)
    blocks = [
        (cert.name, cert.subject, cert.issuer, cert.serial, cert.not_before, cert.not_after),
        ("Cisco SHA2 root cert", cert.issuer, "O=Cisco, CN=Cisco Root CA M2", "02", ca_start, ca_end),
    ]
    lines: list[str] = []
    for name, subject, issuer, serial, start, end in blocks:
        lines += [
            f"Certificate Name: {name}",
            "   Subject Name :",
            f"      {subject}",
            "   Issuer Name :",
            f"      {issuer}",
            "   Serial Number (Hex):",
            f"      {serial}",
            "   Validity :",
            f"      Start : {openssl_date(start)}",
            f"      End : {openssl_date(end)}",
            "   Signature Algorithm :",
            "      sha256WithRSAEncryption",
            "   Hash key :",
            f"      SHA1 Fingerprint : {_fingerprint(subject + serial, 'sha1')}",
            f"      SHA256 Fingerprint : {_fingerprint(subject + serial, 'sha256')}",
            "",
        ]
    return "\n".join(lines)


def show_logging(c: Controller) -> str:
    """`show logging` (invented, minimal): header, then the buffer oldest first,
    one `*task: Mon dd hh:mm:ss.mmm: %MNEMONIC: text` line per entry."""
    lines = [
        "Logging to buffer :",
        "- Logging of system messages to buffer :",
        " - " + dotted("Logging filter level", "errors", width=44),
        " - " + dotted("Number of system messages logged", len(c.log), width=44),
        " - " + dotted("Number of system messages dropped", 0, width=44),
        "",
    ]
    lines += [f"*emWeb: {ios_log_time(e.when)}: %{e.mnemonic}: {e.text}" for e in c.log]
    return "\n".join(lines)
