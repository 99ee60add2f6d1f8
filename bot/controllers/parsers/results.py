"""Parser results that the domain model has no type for.

The contract types (`AccessPoint`, `NtpServer`, `ClockReading`,
`CertificateWindow`) say what the bot *decides* with; commands print more than
that (counters, radio MACs, CA certificates, APSP file names) and drivers or
reports sometimes need it. Each result here keeps that extra detail and offers
a conversion to the contract type, so nothing a controller said is lost
between parsing and deciding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.models import AccessPoint, CertificateWindow, ClockReading, NtpServer

# ------------------------------------------------------------------ AP tables


@dataclass(frozen=True)
class ApSummaryRow:
    """One row of `show ap summary` / `show fabric ap summary`, all columns kept."""

    name: str
    slots: int | None = None
    model: str | None = None
    mac: str | None = None
    radio_mac: str | None = None
    location: str | None = None
    country: str | None = None
    regulatory_domain: str | None = None
    ip: str | None = None
    state: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    raw: str = ""

    def to_access_point(self) -> AccessPoint:
        return AccessPoint(
            name=self.name,
            model=self.model,
            mac=self.mac,
            ip=self.ip,
            state=self.state,
            location=self.location,
        )


def completeness_reasons(read: int, declared: int | None, unparsed: int) -> tuple[str, ...]:
    """Operator-readable reasons why an AP table read is not the whole table.

    A read of 37 rows where the controller counts 4,135 APs must never pass
    for a healthy 37-AP controller, and a line nobody could read may be an AP
    nobody checked; both are said in words an operator can act on (the
    wording is shared by every AP table so that alerts read the same).
    """
    reasons: list[str] = []
    if declared is not None and declared != read:
        if read < declared:
            reasons.append(f"read {read:,} of {declared:,} APs")
        else:
            reasons.append(f"read {read:,} APs but the controller counts {declared:,}")
    if unparsed:
        noun = "line" if unparsed == 1 else "lines"
        reasons.append(f"{unparsed:,} {noun} of the AP table could not be read")
    return tuple(reasons)


@dataclass(frozen=True)
class ApSummary:
    """A whole AP summary: rows, the count the controller announced, leftovers.

    `declared_count` is the first `Number of APs` printed (the header block may
    repeat every few rows; a repeat is not a second count). It can differ from
    `len(rows)` in real output (the 9800 counts APs it does not list; an AireOS
    summary lists only joined APs and counts exactly those, so a difference
    there is a truncated read). `unparsed_lines` holds lines that fitted no
    column layout, only a doubtful one, or left a column every row fills
    empty (no State, no IP). A line that fits no layout never becomes an AP:
    an AP the controller did not print would be checked, counted and reported
    as if it existed, which is worse than saying the read is incomplete. A
    row that is doubtful but carries the AP's MAC is kept and still listed.
    """

    rows: tuple[ApSummaryRow, ...]
    declared_count: int | None = None
    layout: str = "unknown"
    unparsed_lines: tuple[str, ...] = ()
    # Lines the layout's compiled pattern could not read, left to the general
    # fitter (slower, same answer): what the parse benchmark counts.
    fallback_rows: int = field(default=0, compare=False)

    @property
    def access_points(self) -> list[AccessPoint]:
        return [row.to_access_point() for row in self.rows]

    @property
    def count_mismatch(self) -> bool:
        return self.declared_count is not None and self.declared_count != len(self.rows)

    @property
    def incomplete_reasons(self) -> tuple[str, ...]:
        """Why these rows are not the controller's whole AP list; empty when they are.

        E.g. `("read 37 of 4,135 APs", "2 lines of the AP table could not be read")`.
        """
        return completeness_reasons(len(self.rows), self.declared_count, len(self.unparsed_lines))

    @property
    def is_complete(self) -> bool:
        return not self.incomplete_reasons


# Checked first: "Completed predownloading" and "Failed to Predownload" name
# the predownload but say it is over.
_PREDOWNLOAD_IDLE_RE = re.compile(r"^(?:none|n/?a|-+|unknown)$|complete|fail|abort|not\b|unsupported|success")
_PREDOWNLOAD_BUSY_RE = re.compile(r"predownloading|initiat|in[\s_-]*progress|downloading|pending|started")


@dataclass(frozen=True)
class ApImageEntry:
    """One AP of `show ap image` (9800) / `show ap image all|status` (AireOS)."""

    name: str
    primary_image: str | None = None
    backup_image: str | None = None
    download_status: str | None = None
    predownload_status: str | None = None
    predownload_version: str | None = None
    next_retry_time: str | None = None
    retry_count: int | None = None
    method: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    raw: str = ""

    @property
    def is_predownloading(self) -> bool:
        """True while a predownload is under way for this AP (`Predownloading`,
        `Initiated`, `In Progress`, any case).

        A predownload meets the same expired image certificate as a download,
        so an affected AP predownloading on unfixed software will loop once the
        upgrade starts: the verdict warns about it. Finished, failed,
        unsupported and placeholder statuses (`None`, `Complete`, `Failed`,
        `Not Supported`, `NA`) mean no predownload is running.
        """
        status = (self.predownload_status or "").strip().lower()
        if not status or _PREDOWNLOAD_IDLE_RE.search(status):
            return False
        return bool(_PREDOWNLOAD_BUSY_RE.search(status))

    def to_access_point(self) -> AccessPoint:
        """`state` is the *download* status when the table has one (AireOS
        8.10 `show ap image status`), else None: a predownload status is not
        the AP's state and is not passed off as one."""
        return AccessPoint(
            name=self.name,
            image_version=self.primary_image,
            state=self.download_status,
            retry_count=self.retry_count,
        )


@dataclass(frozen=True)
class ApImageReport:
    """Counters and per-AP rows of an AP image command.

    `counters` maps normalised labels (`downloading`, `initiated`,
    `completed_predownloading`, `total_aps_downloading`, ...) to the printed
    value; the set differs between releases, so it is a mapping, not fields.
    """

    total_aps: int | None
    counters: dict[str, str]
    entries: tuple[ApImageEntry, ...]
    unparsed_lines: tuple[str, ...] = ()
    fallback_rows: int = field(default=0, compare=False)  # as for `ApSummary`

    @property
    def count_mismatch(self) -> bool:
        """The controller's `Total number of APs` differs from the rows read."""
        return self.total_aps is not None and self.total_aps != len(self.entries)

    @property
    def incomplete_reasons(self) -> tuple[str, ...]:
        """Why these entries are not every AP the controller counts (same
        wording as `ApSummary.incomplete_reasons`); empty when complete.

        Only meaningful when the command printed a table: AireOS `show ap
        image status` may print a placeholder count (`X`), which is no count.
        """
        return completeness_reasons(len(self.entries), self.total_aps, len(self.unparsed_lines))

    def counter(self, key: str) -> int | None:
        value = self.counters.get(key)
        return int(value) if value is not None and value.strip().isdigit() else None

    @property
    def downloading(self) -> int | None:
        """APs the controller counts as downloading, from whichever counter it printed."""
        for key in ("downloading", "total_aps_downloading", "total_ap_downloading"):
            value = self.counter(key)
            if value is not None:
                return value
        return None

    @property
    def access_points(self) -> list[AccessPoint]:
        return [entry.to_access_point() for entry in self.entries]


# ------------------------------------------------------------------ AireOS


@dataclass(frozen=True)
class AireosSysInfo:
    product_version: str | None
    system_name: str | None = None
    model: str | None = None
    product_name: str | None = None
    ip_address: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    uptime: timedelta | None = None  # `System Up Time`: a reload between checks moves the boot time


@dataclass(frozen=True)
class AireosTime:
    """`show time`: the clock and the NTP table needed to restore NTP later.

    `utc_offset` is derived from `Timezone location` (`(GMT -5:00) ...`) when
    printed, else from `Timezone delta`; AireOS prints local time.
    """

    clock: ClockReading
    ntp_servers: tuple[NtpServer, ...] = ()
    timezone_delta: str | None = None
    timezone_location: str | None = None
    utc_offset: timedelta | None = None
    ntp_version: int | None = None
    ntp_polling_interval: int | None = None


@dataclass(frozen=True)
class AireosCertificate:
    """One block of AireOS `show certificate all`."""

    name: str
    not_before: datetime | None = None
    not_after: datetime | None = None
    subject: str | None = None
    issuer: str | None = None
    serial: str | None = None
    signature_algorithm: str | None = None
    raw_start: str | None = None
    raw_end: str | None = None

    @property
    def is_device_certificate(self) -> bool:
        name = self.name.lower()
        return "device" in name and " ca " not in f" {name} "

    def window(self) -> CertificateWindow | None:
        if self.not_before is None or self.not_after is None:
            return None
        return CertificateWindow(
            not_before=self.not_before, not_after=self.not_after, name=self.name, subject=self.subject
        )


@dataclass(frozen=True)
class AireosCertificateReport:
    """`show certificate summary|all`: key/value settings plus certificate blocks."""

    fields: dict[str, str]
    certificates: tuple[AireosCertificate, ...] = ()


@dataclass(frozen=True)
class BootImage:
    slot: str  # "primary" | "backup"
    version: str
    is_default: bool = False
    is_active: bool = False


@dataclass(frozen=True)
class AireosBoot:
    images: tuple[BootImage, ...]

    def _slot(self, slot: str) -> BootImage | None:
        return next((img for img in self.images if img.slot == slot), None)

    @property
    def primary(self) -> str | None:
        image = self._slot("primary")
        return image.version if image else None

    @property
    def backup(self) -> str | None:
        image = self._slot("backup")
        return image.version if image else None

    @property
    def active(self) -> str | None:
        image = next((img for img in self.images if img.is_active), None)
        return image.version if image else None

    @property
    def default(self) -> str | None:
        image = next((img for img in self.images if img.is_default), None)
        return image.version if image else None


@dataclass(frozen=True)
class RedundancySummary:
    mode: str | None
    local_state: str | None = None
    peer_state: str | None = None
    unit: str | None = None
    redundancy_state: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def is_standby(self) -> bool:
        """A standby WLC must not be polled for APs or changed: the active one owns them."""
        return (self.local_state or "").upper().startswith("STANDBY")


# ------------------------------------------------------------------ IOS-XE


_VERSION_SPLIT_RE = re.compile(r"^(?P<num>\d+(?:\.\d+)*)(?P<suffix>.*)$")


def normalise_version(raw: str) -> str:
    """`17.03.04` → `17.3.4`, `17.07.01prd16` → `17.7.1prd16`, `03.06.05E` → `3.6.5E`.

    Leading zeros are display padding on IOS-XE; the fixed-release table and
    the advisory use the plain dotted form.
    """
    raw = raw.strip()
    m = _VERSION_SPLIT_RE.match(raw)
    if not m:
        return raw
    number = ".".join(str(int(part)) for part in m.group("num").split("."))
    return number + m.group("suffix")


def version_tuple(raw: str) -> tuple[int, ...]:
    m = _VERSION_SPLIT_RE.match(raw.strip())
    if not m:
        return ()
    return tuple(int(part) for part in m.group("num").split("."))


@dataclass(frozen=True)
class IosxeVersion:
    """`show version`: the release the controller runs, and what it printed.

    `release` is the normalised release (`17.3.4`, `17.9.4a`, `17.7.1prd16`,
    `16.12` for an experimental build) or None when no release can be read
    with confidence (a build label such as `BLD_V1716_THROTTLE_LATEST_...`
    names a branch, not what is installed: guessing a train from it once made
    the bot treat a 16.12 controller as 17.16). `raw` is the version label as
    printed on the `Cisco IOS XE Software, Version ...` line (or the IOS line
    when there is no XE line), so callers can say "unknown software (raw: ...)".
    `version` is kept for older callers: the release when known, else `raw`.
    """

    version: str
    raw: str
    hostname: str | None = None
    model: str | None = None
    serial: str | None = None
    system_image: str | None = None
    release: str | None = None
    uptime: timedelta | None = None  # `<host> uptime is ...`: a reload between checks moves the boot time

    @property
    def numeric(self) -> tuple[int, ...]:
        return version_tuple(self.version)

    @property
    def base(self) -> str:
        return ".".join(str(part) for part in self.numeric) or self.version


@dataclass(frozen=True)
class InstallPackage:
    type: str
    state: str
    filename: str
    location: str | None = None

    @property
    def is_active(self) -> bool:
        """C = activated & committed, U = activated & uncommitted."""
        return self.state.upper() in {"C", "U"}


_CSC_RE = re.compile(r"CSC[a-z]{2}\d{5}", re.IGNORECASE)
_FILE_RELEASE_RE = re.compile(r"\.(\d{2}\.\d{2}\.\d{2})\.")


@dataclass(frozen=True)
class Apsp:
    """An AP Service Pack: a `.apsp.bin` package line of `show install summary`."""

    filename: str
    state: str
    csc_id: str | None = None
    release: str | None = None

    @property
    def is_active(self) -> bool:
        return self.state.upper() in {"C", "U"}


@dataclass(frozen=True)
class InstallSummary:
    packages: tuple[InstallPackage, ...]
    apsps: tuple[Apsp, ...] = ()
    auto_abort_timer: str | None = None

    @property
    def active_apsps(self) -> tuple[Apsp, ...]:
        return tuple(apsp for apsp in self.apsps if apsp.is_active)

    @property
    def csc_ids(self) -> tuple[str, ...]:
        """CSC ids of active APSPs, in order, without duplicates (stacks list them per member)."""
        seen: dict[str, None] = {}
        for apsp in self.active_apsps:
            if apsp.csc_id:
                seen.setdefault(apsp.csc_id, None)
        return tuple(seen)


def apsp_from_filename(filename: str, state: str) -> Apsp:
    csc = _CSC_RE.search(filename)
    release = _FILE_RELEASE_RE.search(filename)
    return Apsp(
        filename=filename,
        state=state,
        csc_id="CSC" + csc.group()[3:] if csc else None,
        release=normalise_version(release.group(1)) if release else None,
    )


@dataclass(frozen=True)
class NtpAssociation:
    """One row of `show ntp associations`, with its tally marks decoded."""

    address: str
    ref_clock: str | None = None
    stratum: int | None = None
    when: str | None = None
    poll: int | None = None
    reach: int | None = None  # as printed: the octal reach register, e.g. 377
    delay: float | None = None
    offset: float | None = None
    dispersion: float | None = None
    configured: bool = False
    marker: str = ""  # the tally character: * # + - x or ""

    @property
    def status(self) -> str | None:
        return {
            "*": "sys.peer",
            "#": "selected",
            "+": "candidate",
            "-": "outlyer",
            "x": "falseticker",
        }.get(self.marker)

    @property
    def is_sys_peer(self) -> bool:
        return self.marker == "*"

    @property
    def reachable(self) -> bool:
        return bool(self.reach)

    def to_ntp_server(self) -> NtpServer:
        return NtpServer(address=self.address, status=self.status or ("configured" if self.configured else None))


@dataclass(frozen=True)
class NtpConfigLine:
    """A non-server `ntp ...` running-config line, with any secret removed.

    `redacted` is True when key material was cut out; such a line must never
    be replayed to a device (the original secret is not in it).
    """

    text: str
    kind: str
    redacted: bool = False


@dataclass(frozen=True)
class NtpConfig:
    """`show running-config | include ntp`: servers to restore + everything else."""

    servers: tuple[NtpServer, ...]
    other_lines: tuple[NtpConfigLine, ...] = ()

    @property
    def authentication_enabled(self) -> bool:
        return any(line.kind == "authenticate" for line in self.other_lines)


@dataclass(frozen=True)
class WirelessTrustpoint:
    name: str | None
    certificate_info: str | None = None
    certificate_type: str | None = None
    certificate_hash: str | None = None
    private_key_info: str | None = None
    fips_suitability: str | None = None


@dataclass(frozen=True)
class PkiCertificate:
    """One block of `show crypto pki certificates`."""

    kind: str  # the block title: "Certificate", "CA Certificate", "Router Self-Signed Certificate", ...
    status: str | None = None
    serial: str | None = None
    usage: str | None = None
    issuer: tuple[str, ...] = ()
    subject: tuple[str, ...] = ()
    not_before: datetime | None = None
    not_after: datetime | None = None
    renew_date: datetime | None = None
    trustpoints: tuple[str, ...] = ()
    storage: str | None = None

    @property
    def is_ca(self) -> bool:
        return "ca certificate" in self.kind.lower()

    @property
    def subject_name(self) -> str | None:
        return _dn_value(self.subject, "name")

    @property
    def common_name(self) -> str | None:
        return _dn_value(self.subject, "cn")

    def window(self, name: str | None = None) -> CertificateWindow | None:
        if self.not_before is None or self.not_after is None:
            return None
        return CertificateWindow(
            not_before=self.not_before,
            not_after=self.not_after,
            name=name or (self.trustpoints[0] if self.trustpoints else self.kind),
            subject=", ".join(self.subject) or None,
        )


def _dn_value(lines: tuple[str, ...], key: str) -> str | None:
    for line in lines:
        m = re.match(rf"\s*{re.escape(key)}\s*[:=]\s*(.+)", line, re.IGNORECASE)
        if m:
            return m.group(1).strip()
    return None
