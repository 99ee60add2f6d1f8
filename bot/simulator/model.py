"""The live model of one simulated controller: clock, NTP, configuration, APs.

The SSH front ends (`aireos.py`, `iosxe.py`) only read and change this model,
and tests reach the same objects through `SimulatorServer.controllers`, so a
test can inspect exactly what a command did, or change the world under the
bot (an NTP server going unreachable, a fault, an AP with a new model).

Time: the model never sleeps. `Controller.step(sim_t)` advances it to the
simulated instant `sim_t` (see `timebase.py`); the server calls it from one
bounded tick loop for all controllers.

What is modelled, and why:
- the clock is real time while NTP is in sync; a hand-set clock runs on from
  the value set; while a reachable NTP server is configured, a hand-set clock
  is stepped back to real time `ntp_sync_seconds` later, like NTP would (so a
  time-back done before deleting NTP is undone);
- running vs saved configuration (NTP servers and keys), because losing the
  saved NTP configuration is the worst outcome of a time-back;
- each AP downloads when its image differs from the controller's AP image,
  then validates: CSCwd80290 makes IOS-based APs fail while the clock is past
  2022-12-04 21:43:46 UTC on unfixed controllers (rules in `bug.py`); a failed
  AP counts a retry, logs the tech note's lines to the AP syslog target and
  downloads again;
- the controller's own certificate becomes "not yet valid" when the clock is
  set before its start date (logged, and visible as `certificate_state`).
"""

from __future__ import annotations

import re
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.simulator.bug import ImageSigningRules, failure_lines, success_lines
from bot.simulator.command_log import CommandLog
from bot.simulator.config import ControllerConfig, NtpServer
from bot.simulator.dates import ios_cert_date, iso, parse_datetime
from bot.simulator.faults import Faults
from bot.simulator.syslog import format_rfc3164
from bot.simulator.timebase import TimeBase

AIREOS = "aireos"
IOSXE = "iosxe"
PLATFORMS = (AIREOS, IOSXE)

REGISTERED = "Registered"
DOWNLOADING = "Downloading"

#: `show version` forms of an IOS-XE build (scenario `version_form`).
VERSION_FORMS = ("release", "experimental", "engineering")

LOG_BUFFER_LINES = 1000


def version_tuple(version: str, length: int | None = None) -> tuple[int, ...]:
    """`17.3.4` / `17.03.04` / `8.10.162.0` as a tuple of ints, for comparisons;
    with `length`, cut or padded with zeros to that many parts."""
    parts = tuple(int(p) for p in re.findall(r"\d+", version))
    if length is None:
        return parts
    return (parts + (0,) * length)[:length]


@dataclass
class DeviceCertificate:
    """The controller's own device certificate (the one a time-back must not predate)."""

    not_before: datetime
    not_after: datetime
    name: str
    subject: str
    issuer: str
    serial: str
    trustpoint: str
    cert_type: str = "SSC"

    def state_at(self, when: datetime) -> str:
        """`valid`, `not yet valid` or `expired` at `when`."""
        if when < self.not_before:
            return "not yet valid"
        if when > self.not_after:
            return "expired"
        return "valid"


@dataclass
class AccessPoint:
    """One AP joined to (or downloading from) a simulated controller."""

    name: str
    model: str
    image: str
    state: str
    mac: str
    radio_mac: str
    ip: str
    ios_based: bool
    short_model: str
    location: str = "default location"
    country: str = "US"
    regulatory_domain: str = "-E"
    slots: int = 2
    retry_count: int = 0
    backup_image: str = "0.0.0.0"
    download_status: str = "None"
    download_due: float | None = None
    serial: str = ""
    # Predownload (staging the next image while the AP keeps running): the
    # status word both platforms print (`None`, `Initiated`, `Predownloading`,
    # `Complete`, `Failed`, `Not Supported`) and the image being staged; None
    # prints as the platform's empty value (AireOS `None`, 9800 `0.0.0.0`).
    predownload_status: str = "None"
    predownload_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model,
            "image": self.image,
            "state": self.state,
            "retry_count": self.retry_count,
        }


@dataclass
class LogEntry:
    """One controller log line: the controller clock when it happened, mnemonic, text."""

    when: datetime
    mnemonic: str
    text: str


@dataclass
class SyslogTarget:
    host: str
    port: int = 514


class Controller:
    """One simulated controller: its configuration, clock, APs and faults.

    Build it from a scenario entry with `build.build_controller`. All times are
    UTC. Public attributes are the inspection surface for tests; change the
    configuration through the methods so that listeners (the state file) hear
    about it.
    """

    def __init__(
        self,
        *,
        name: str,
        platform: str,
        version: str,
        rules: ImageSigningRules,
        timebase: TimeBase | None = None,
        site: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = "admin",
        password: str = "admin",
        accounts: dict[str, str] | None = None,
        ssh_auth: str | None = None,
        fixed: bool = False,
        hardware: str | None = None,
        mgmt_ip: str = "192.0.2.10",
        serial_number: str = "FCW2233L0AB",
        ap_image: str | None = None,
        config: ControllerConfig | None = None,
        certificate: DeviceCertificate | None = None,
        aps: list[AccessPoint] | None = None,
        apsps: list[dict[str, str]] | None = None,
        faults: Faults | None = None,
        ap_syslog: SyslogTarget | None = None,
        ntp_unreachable: set[str] | None = None,
        replay: dict[str, Path] | None = None,
        download_seconds: float = 120.0,
        ntp_sync_seconds: float = 300.0,
        page_lines: int = 20,
        ap_summary_header_every: int = 0,
        aireos_summary_lists_downloading: bool = True,
        terminal_width: int = 0,
        ap_summary_truncate: int | None = None,
        version_string: str | None = None,
        version_form: str = "release",
    ) -> None:
        if platform not in PLATFORMS:
            raise ValueError(f"{name}: platform must be one of {PLATFORMS}, not {platform!r}")
        self.name = name
        self.platform = platform
        self.version = version
        self.rules = rules
        self.timebase = timebase or TimeBase(1.0)
        self.site = site
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        # Further logins (name -> password) beside the main one: two bots on one controller,
        # told apart in `command_log` by who typed what.
        self.accounts = dict(accounts or {})
        self.command_log = CommandLog()
        self.ssh_auth = ssh_auth or ("none" if platform == AIREOS else "password")
        if self.ssh_auth not in ("none", "password"):
            raise ValueError(f"{name}: ssh_auth must be 'none' or 'password'")
        if version_form not in VERSION_FORMS:
            raise ValueError(f"{name}: version_form must be one of {VERSION_FORMS}, not {version_form!r}")
        if terminal_width < 0:
            raise ValueError(f"{name}: terminal_width must be 0 (no wrapping) or a column count")
        if ap_summary_truncate is not None and ap_summary_truncate < 0:
            raise ValueError(f"{name}: ap_summary_truncate must be a row count (0 or more)")
        self.fixed = fixed
        self.hardware = hardware or ("AIR-CT5520-K9" if platform == AIREOS else "C9800-CL-K9")
        self.mgmt_ip = mgmt_ip
        self.serial_number = serial_number
        self.ap_image = ap_image or default_ap_image(platform, version)
        self.running = config or ControllerConfig()
        self.saved = self.running.copy()
        self.certificate = certificate or default_certificate(name, platform, self.hardware, serial_number)
        self.aps: dict[str, AccessPoint] = {ap.name: ap for ap in aps or []}
        self.apsps = list(apsps or [])
        self.faults = faults or Faults()
        self.ap_syslog = ap_syslog
        self.ntp_unreachable = {a.lower() for a in ntp_unreachable or set()}
        self.replay = dict(replay or {})
        self.download_seconds = float(download_seconds)
        self.ntp_sync_seconds = float(ntp_sync_seconds)
        self.page_lines = page_lines
        self.ap_summary_header_every = ap_summary_header_every
        self.aireos_summary_lists_downloading = aireos_summary_lists_downloading
        # Screen width every new session starts with (0: lines are never
        # wrapped); a 9800 session can change its own copy (`terminal width`).
        self.terminal_width = terminal_width
        # Rows `show ap summary` prints at most, while its count stays true
        # (None: all rows), as a real capture with far fewer rows than APs.
        self.ap_summary_truncate = ap_summary_truncate
        # What `show version` (9800) / `show sysinfo` (AireOS) print instead
        # of the release, and the 9800 build form (release/experimental/engineering).
        self.version_string = version_string
        self.version_form = version_form
        self.log: deque[LogEntry] = deque(maxlen=LOG_BUFFER_LINES)
        self.syslog_sink: Callable[[str, int, bytes], None] | None = None
        self._change_listeners: list[Callable[[Controller], None]] = []
        # Clock state: a hand-set value and the simulated instant it was set;
        # whether NTP keeps the clock; when NTP will (re)synchronise it.
        self._manual: tuple[datetime, float] | None = None
        self._ntp_synced = False
        self._sync_due: float | None = None
        self._cert_state = "valid"
        self.started_at = 0.0

    # ----------------------------------------------------------------- wiring

    def attach(self, timebase: TimeBase, *, initial_clock: datetime | None = None) -> None:
        """Put the controller on `timebase` (done by the server at start).

        APs that need a new image start downloading, spread over one download
        period so that retries do not all land on the same tick.
        """
        self.timebase = timebase
        now = timebase.sim_now()
        self.started_at = now
        if initial_clock is not None:
            self._manual = (initial_clock, now)
        self._reset_sync(now)
        for ap in self.aps.values():
            if ap.image != self.ap_image:
                self._start_download(ap, now, phase=True)
        self._cert_state = self.certificate.state_at(self.now())

    def reload(self, version: str | None = None) -> None:
        """Restart the controller, on `version` when given (an upgrade): the uptime starts
        again, so the bot must notice and re-read what only changes with a reload."""
        if version is not None:
            self.version = version
            self.version_string = None
        self.started_at = self.timebase.sim_now()
        self._changed()

    def add_change_listener(self, listener: Callable[[Controller], None]) -> None:
        """Call `listener(controller)` after every configuration change or save."""
        self._change_listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._change_listeners:
            listener(self)

    # ------------------------------------------------------------------ clock

    def clock_at(self, sim_t: float) -> datetime:
        """The controller clock at simulated instant `sim_t`.

        Exact even between two ticks: a hand-set clock reads real time again
        from the instant NTP is due to step it back.
        """
        if self._manual is None or (self._sync_due is not None and sim_t >= self._sync_due):
            return self.timebase.wall_at(sim_t)
        value, set_at = self._manual
        return value + timedelta(seconds=sim_t - set_at)

    def now(self) -> datetime:
        """The controller clock now (what `show time` / `show clock` print)."""
        sim_t = self.timebase.sim_now()
        self._settle_ntp(sim_t)
        return self.clock_at(sim_t)

    @property
    def ntp_synced(self) -> bool:
        """True while NTP keeps the clock (a reachable server and the sync done)."""
        self._settle_ntp(self.timebase.sim_now())
        return self._ntp_synced

    @property
    def clock_offset(self) -> timedelta:
        """Controller clock minus real time (zero while NTP keeps it)."""
        sim = self.timebase.sim_now()
        return self.clock_at(sim) - self.timebase.wall_at(sim)

    @property
    def clock_source(self) -> str:
        """`ntp` (in sync), `manual` (set by hand, not yet corrected) or `none`."""
        if self.ntp_synced:
            return "ntp"
        if self._manual is not None:
            return "manual"
        return "none"

    def accepts(self, username: str, password: str) -> bool:
        """The login `username`/`password` is one this controller knows (and logins are not refused)."""
        if self.faults.reject_password:
            return False
        if username == self.username:
            return password == self.password
        return username in self.accounts and password == self.accounts[username]

    def set_clock(self, value: datetime, *, by: str = "admin", peer: str = "127.0.0.1") -> None:
        """Set the clock by hand (`config time manual` / `clock set`)."""
        old = self.now()
        sim_t = self.timebase.sim_now()
        self._manual = (value, sim_t)
        self._ntp_synced = False
        self._sync_due = None
        self._schedule_sync(sim_t)
        if self.platform == IOSXE:
            self.add_log(
                "SYS-6-CLOCKUPDATE",
                f"System clock has been updated from {ios_cert_date(old)} to {ios_cert_date(value)}, "
                f"configured from console by {by} on vty0 ({peer}).",
            )
        else:
            self.add_log("OSAPI-5-CLOCK_SET", f"System clock set from {iso(old)} to {iso(value)} by {by}")
        self._check_certificate()

    # -------------------------------------------------------------------- NTP

    def _reset_sync(self, sim_t: float) -> None:
        """At boot: in sync if NTP can be reached and nobody set the clock."""
        self._ntp_synced = self._manual is None and bool(self.reachable_ntp_servers())
        self._sync_due = None
        self._schedule_sync(sim_t)

    def _schedule_sync(self, sim_t: float) -> None:
        if not self._ntp_synced and self._sync_due is None and self.reachable_ntp_servers():
            self._sync_due = sim_t + self.ntp_sync_seconds

    def _settle_ntp(self, sim_t: float) -> None:
        """Apply what NTP did up to `sim_t`: lose sync without a reachable
        server, step a hand-set clock back to real time when the sync is due."""
        if not self.reachable_ntp_servers():
            self._ntp_synced = False
            self._sync_due = None
            return
        if self._ntp_synced:
            return
        if self._sync_due is None:
            self._schedule_sync(sim_t)
            return
        if sim_t < self._sync_due:
            return
        at = self._sync_due
        self._manual = None
        self._ntp_synced = True
        self._sync_due = None
        peer = self.sync_peer()
        address = peer.address if peer else "?"
        when = self.timebase.wall_at(at)
        if self.platform == IOSXE:
            self.add_log("NTP-5-PEERSYNC", f"NTP synced to peer {address}", when=when)
        else:
            self.add_log("OSAPI-6-NTP_SYNC", f"Clock synchronized with NTP server {address}", when=when)

    def ntp_reachable(self, server: NtpServer) -> bool:
        return server.address.lower() not in self.ntp_unreachable

    def reachable_ntp_servers(self) -> list[NtpServer]:
        return [s for s in self.running.ntp_servers if self.ntp_reachable(s)]

    def sync_peer(self) -> NtpServer | None:
        """The server the clock is synchronised to (a `prefer` one first)."""
        if not self._ntp_synced:
            return None
        reachable = self.reachable_ntp_servers()
        preferred = [s for s in reachable if s.prefer]
        candidates = preferred or reachable
        return candidates[0] if candidates else None

    def set_aireos_ntp_server(self, index: int, address: str) -> None:
        """`config time ntp server <index> <ip>`: add or replace the slot."""
        servers = [s for s in self.running.ntp_servers if s.index != index]
        servers.append(NtpServer(address=address, index=index))
        servers.sort(key=lambda s: s.index or 0)
        self.running.ntp_servers = servers
        self._ntp_config_changed()

    def delete_aireos_ntp_server(self, index: int) -> bool:
        """`config time ntp delete <index>`; False when the slot was empty."""
        before = len(self.running.ntp_servers)
        self.running.ntp_servers = [s for s in self.running.ntp_servers if s.index != index]
        if len(self.running.ntp_servers) == before:
            return False
        self._ntp_config_changed()
        return True

    def bind_aireos_ntp_key(self, index: int, key: int | None) -> bool:
        """`config time ntp auth enable|disable`; False when the slot is empty."""
        for server in self.running.ntp_servers:
            if server.index == index:
                server.key = key
                self._changed()
                return True
        return False

    def set_ntp_key(self, key: int, definition: str | None) -> None:
        """Define (or with None delete) NTP authentication key `key`."""
        if definition is None:
            self.running.ntp_keys.pop(key, None)
        else:
            self.running.ntp_keys[key] = definition
        self._changed()

    def set_ntp_authenticate(self, enabled: bool) -> None:
        self.running.ntp_authenticate = enabled
        self._changed()

    def set_ntp_trusted_key(self, key: int, trusted: bool) -> None:
        keys = [k for k in self.running.ntp_trusted_keys if k != key]
        if trusted:
            keys.append(key)
        self.running.ntp_trusted_keys = sorted(keys)
        self._changed()

    def set_ios_ntp_server(self, server: NtpServer) -> None:
        """`ntp server ...`: a server with the same address and VRF is replaced in place."""
        for i, existing in enumerate(self.running.ntp_servers):
            if existing.same_peer(server):
                self.running.ntp_servers[i] = server
                break
        else:
            self.running.ntp_servers.append(server)
        self._ntp_config_changed()

    def delete_ios_ntp_server(self, server: NtpServer) -> bool:
        """`no ntp server ...`: removes the server with that address and VRF."""
        before = len(self.running.ntp_servers)
        self.running.ntp_servers = [s for s in self.running.ntp_servers if not s.same_peer(server)]
        if len(self.running.ntp_servers) == before:
            return False
        self._ntp_config_changed()
        return True

    def _ntp_config_changed(self) -> None:
        self._settle_ntp(self.timebase.sim_now())
        self._changed()

    # ----------------------------------------------------------------- config

    @property
    def unsaved_changes(self) -> bool:
        return self.running != self.saved

    def save(self) -> None:
        """`save config` / `write memory`."""
        self.saved = self.running.copy()
        self._changed()

    def load_saved(self, saved: ControllerConfig) -> None:
        """Boot from a saved configuration (state file on restart)."""
        self.saved = saved.copy()
        self.running = saved.copy()
        self._reset_sync(self.timebase.sim_now())

    # ------------------------------------------------------------ certificate

    @property
    def certificate_state(self) -> str:
        """`valid`, `not yet valid` or `expired` against the controller clock now."""
        return self.certificate.state_at(self.now())

    def _check_certificate(self) -> None:
        state = self.certificate.state_at(self.now())
        if state == self._cert_state:
            return
        self._cert_state = state
        cert = self.certificate
        if state == "not yet valid":
            self.add_log(
                "PKI-3-CERTIFICATE_INVALID_NOT_YET_VALID",
                f"Certificate chain validation has failed. The certificate (SN: {cert.serial}) "
                f"is not yet valid. Validity period starts on {ios_cert_date(cert.not_before)}",
            )
        elif state == "expired":
            self.add_log(
                "PKI-3-CERTIFICATE_INVALID_EXPIRED",
                f"Certificate chain validation has failed. The certificate (SN: {cert.serial}) "
                f"has expired. Validity period ended on {ios_cert_date(cert.not_after)}",
            )
        else:
            self.add_log("PKI-6-CERTIFICATE_VALID", f"The certificate (SN: {cert.serial}) is valid again.")

    # -------------------------------------------------------------------- log

    def add_log(self, mnemonic: str, text: str, *, when: datetime | None = None) -> None:
        self.log.append(LogEntry(when or self.now(), mnemonic, text))

    # -------------------------------------------------------------------- APs

    def aps_in_state(self, state: str) -> list[AccessPoint]:
        return [ap for ap in self.aps.values() if ap.state == state]

    def add_ap(self, ap: AccessPoint) -> None:
        """Join a new AP at runtime (it downloads if its image differs)."""
        self.aps[ap.name] = ap
        if ap.image != self.ap_image:
            self._start_download(ap, self.timebase.sim_now(), phase=False)

    def _start_download(self, ap: AccessPoint, sim_t: float, *, phase: bool) -> None:
        offset = self.download_seconds
        if phase:
            # A stable spread in (0, 1] of a download period, from the AP name.
            offset *= ((zlib.crc32(ap.name.encode()) % 1000) + 1) / 1000
        ap.state = DOWNLOADING
        ap.download_status = DOWNLOADING
        ap.download_due = sim_t + offset

    # ------------------------------------------------------------------- step

    def step(self, sim_t: float, max_events: int = 64) -> None:
        """Advance the model to simulated instant `sim_t`.

        Bounded: at most `max_events` download completions per AP per call,
        so a huge time scale cannot turn one tick into an endless loop.
        """
        for ap in self.aps.values():
            events = 0
            while ap.download_due is not None and ap.download_due <= sim_t and events < max_events:
                self._finish_download(ap, ap.download_due)
                events += 1
            if ap.download_due is not None and ap.download_due <= sim_t:
                # Cycles beyond the bound still count as (failed) retries.
                missed = int((sim_t - ap.download_due) // self.download_seconds) + 1
                ap.retry_count += missed
                ap.download_due += missed * self.download_seconds
        # After the downloads: they read the clock of their own instant (clock_at).
        self._settle_ntp(sim_t)
        self._check_certificate()

    def _finish_download(self, ap: AccessPoint, at: float) -> None:
        clock = self.clock_at(at)
        if self.rules.validation_fails(ios_based=ap.ios_based, controller_fixed=self.fixed, clock=clock):
            ap.retry_count += 1
            ap.download_due = at + self.download_seconds
            self._send_ap_syslog(ap, clock, failure_lines(self.rules, clock))
            return
        ap.image = self.ap_image
        ap.state = REGISTERED
        ap.download_status = "Complete"
        ap.download_due = None
        self._send_ap_syslog(ap, clock, success_lines(clock, ios_based=ap.ios_based))

    def _send_ap_syslog(self, ap: AccessPoint, clock: datetime, lines: list[tuple[int, str]]) -> None:
        if self.ap_syslog is None or self.syslog_sink is None:
            return
        for severity, text in lines:
            payload = format_rfc3164(severity=severity, when=clock, hostname=ap.name, message=text)
            self.syslog_sink(self.ap_syslog.host, self.ap_syslog.port, payload)

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, Any]:
        """What the state file keeps for this controller."""
        return {
            "platform": self.platform,
            "saved": self.saved.to_dict(),
            "running": self.running.to_dict(),
            "unsaved_changes": self.unsaved_changes,
            "clock": iso(self.now()),
            "clock_source": self.clock_source,
            "aps": {ap.name: ap.to_dict() for ap in self.aps.values()},
        }

    def replay_file(self, *commands: str) -> Path | None:
        """The capture to print instead of model output for any of `commands`."""
        for command in commands:
            path = self.replay.get(normalise_command(command))
            if path is not None:
                return path
        return None

    def __repr__(self) -> str:
        return f"<Controller {self.name} {self.platform} {self.version} port={self.port}>"


def stable_mac(seed: str, prefix: str = "00") -> str:
    """12 hex digits derived from `seed`: the same AP gets the same MAC every run."""
    digest = zlib.crc32(seed.encode()) & 0xFFFFFFFF
    return f"{prefix}{(zlib.crc32(prefix.encode() + seed.encode()) & 0xFF):02x}{digest:08x}"


def normalise_command(command: str) -> str:
    """Case and spacing do not matter when matching a replayed command."""
    return " ".join(command.lower().split())


def default_ap_image(platform: str, version: str) -> str:
    """The AP image version a controller hands out (AireOS: its own version)."""
    if platform == AIREOS:
        return version
    major, minor, patch = version_tuple(version, 3)
    return f"{major}.{minor}.{patch}.0"


def default_certificate(name: str, platform: str, hardware: str | None, serial_number: str) -> DeviceCertificate:
    """A plausible device certificate valid 2019..2029 (safe for a 2022 time-back)."""
    start = parse_datetime("2019-05-14T08:31:07Z")
    end = parse_datetime("2029-05-14T08:41:07Z")
    serial = f"{zlib.crc32(name.encode()):08X}000000000{zlib.crc32(serial_number.encode()) % 1000:03d}"
    if platform == AIREOS:
        model = hardware or "AIR-CT5520-K9"
        return DeviceCertificate(
            not_before=start,
            not_after=end,
            name="Cisco SHA2 device cert",
            subject=f"C=US, ST=California, L=San Jose, O=Cisco Systems, CN={model}-{stable_mac(name)}, "
            "emailAddress=support@cisco.com",
            issuer="O=Cisco, CN=Cisco Manufacturing CA SHA2",
            serial=serial,
            trustpoint="",
            cert_type="MIC",
        )
    return DeviceCertificate(
        not_before=start,
        not_after=end,
        name="Certificate",
        subject=f"serialNumber={serial_number}+hostname={name},o=Cisco Virtual Wireless LAN Controller,"
        f"cn={name}_WLC_TP",
        issuer=f"o=Cisco Virtual Wireless LAN Controller,cn=CA-vWLC_{name}",
        serial="02",
        trustpoint=f"{name}_WLC_TP",
        cert_type="SSC",
    )
