"""The fixed registry of remediation actions, implemented per platform.

Playbooks name these actions; nothing else can happen on a controller. Each
action says whether it changes the device and, if so, which undo actions may
reverse it (the loader insists on one). Every change command comes from the
platform's `changes.yaml` templates through `ChangeCatalog.render`, filled
with values validated there; reads reuse the poll commands and parsers.

Actions are written to be safe to run twice (after a lost session the
engine retries a step; after a crash recovery re-runs it): each one reads the
device first and only sends what is still needed. The undo actions are
idempotent re-assertions of the recorded state (NTP as recorded, the clock at
the current time), never deletions.

The recorded configuration (`RecordedConfig`) is the heart of the safety
story: it is written to the database by `capture_time_config` before the
first change, restored from it, and compared against the device at the end.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.controllers.parsers.results import AireosTime
from bot.domain.advisory import Advisory, TimebackPlan, timeback_target
from bot.domain.models import CertificateWindow, ClockReading, ClockSource, NtpServer, Platform
from bot.inventory import Controller
from bot.remediation.commands import MONTHS, ChangeCatalog, Command, change_catalog
from bot.remediation.device import DeviceLink, ReadResult, read_commands
from bot.remediation.redact import redact

# ---------------------------------------------------------------------------
# Results, failures, specs
# ---------------------------------------------------------------------------


class ActionFailed(Exception):
    """A step cannot complete; `reason` is written for the operator (no secrets)."""

    def __init__(self, reason: str, data: Mapping[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.data = dict(data or {})


@dataclass(frozen=True)
class StepResult:
    summary: str
    data: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArgSpec:
    type: str  # integer | number | boolean | string | datetime
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class PlannedCommand:
    """One line a dry-run says would be sent (`changes` marks device changes)."""

    step: str
    command: str
    changes: bool
    note: str = ""


ActionRun = Callable[["StepContext", Mapping[str, Any]], Awaitable[StepResult]]
ActionPlan = Callable[["PlanContext", Mapping[str, Any]], list[PlannedCommand]]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    title: str
    changes_device: bool
    run: ActionRun
    plan: ActionPlan
    undo_actions: frozenset[str] = frozenset()
    args: Mapping[str, ArgSpec] = field(default_factory=dict)
    undo_only: bool = False


# ---------------------------------------------------------------------------
# What a run knows about the controller's time configuration
# ---------------------------------------------------------------------------


def ntp_to_dict(server: NtpServer) -> dict[str, Any]:
    return {
        "address": server.address,
        "index": server.index,
        "key_index": server.key_index,
        "vrf": server.vrf,
        "options": list(server.options),
        "config_line": server.config_line,
    }


def ntp_from_dict(data: Mapping[str, Any]) -> NtpServer:
    return NtpServer(
        address=str(data["address"]),
        index=data.get("index"),
        key_index=data.get("key_index"),
        vrf=data.get("vrf"),
        options=tuple(data.get("options") or ()),
        config_line=data.get("config_line"),
    )


@dataclass(frozen=True)
class TimeConfig:
    """One read of the clock and NTP configuration.

    `local_time` is what the controller printed (its local time, naive);
    `clock_utc` the same instant in UTC once the offset is known.
    """

    local_time: datetime
    clock_utc: datetime | None
    utc_offset: timedelta | None
    offset_source: str
    synced: bool
    source: ClockSource
    ntp_servers: tuple[NtpServer, ...]
    raw: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordedConfig:
    """The exact NTP configuration and clock, captured before the first change.

    Stored in `remediation_recorded_config` and never deleted until a run has
    verified it on the device again. `utc_offset_seconds` is how the run
    converts UTC targets to the local time the clock commands take.
    """

    controller: str
    platform: Platform
    captured_at: datetime
    clock_local: datetime
    clock_utc: datetime | None
    clock_source: str
    utc_offset_seconds: int
    offset_source: str
    ntp_servers: tuple[NtpServer, ...]
    certificate: CertificateWindow | None = None
    software_version: str | None = None
    raw: Mapping[str, str] = field(default_factory=dict)

    @property
    def utc_offset(self) -> timedelta:
        return timedelta(seconds=self.utc_offset_seconds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "controller": self.controller,
            "platform": self.platform.value,
            "captured_at": self.captured_at.isoformat(),
            "clock_local": self.clock_local.isoformat(),
            "clock_utc": self.clock_utc.isoformat() if self.clock_utc else None,
            "clock_source": self.clock_source,
            "utc_offset_seconds": self.utc_offset_seconds,
            "offset_source": self.offset_source,
            "ntp_servers": [ntp_to_dict(s) for s in self.ntp_servers],
            "certificate": None
            if self.certificate is None
            else {
                "not_before": self.certificate.not_before.isoformat(),
                "not_after": self.certificate.not_after.isoformat(),
                "name": self.certificate.name,
                "subject": self.certificate.subject,
            },
            "software_version": self.software_version,
            "raw": dict(self.raw),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordedConfig:
        cert = data.get("certificate")
        return cls(
            controller=data["controller"],
            platform=Platform(data["platform"]),
            captured_at=datetime.fromisoformat(data["captured_at"]),
            clock_local=datetime.fromisoformat(data["clock_local"]),
            clock_utc=datetime.fromisoformat(data["clock_utc"]) if data.get("clock_utc") else None,
            clock_source=data["clock_source"],
            utc_offset_seconds=int(data["utc_offset_seconds"]),
            offset_source=data["offset_source"],
            ntp_servers=tuple(ntp_from_dict(s) for s in data["ntp_servers"]),
            certificate=None
            if not cert
            else CertificateWindow(
                not_before=datetime.fromisoformat(cert["not_before"]),
                not_after=datetime.fromisoformat(cert["not_after"]),
                name=cert.get("name"),
                subject=cert.get("subject"),
            ),
            software_version=data.get("software_version"),
            raw=dict(data.get("raw") or {}),
        )


def infer_offset(local: datetime, now_utc: datetime) -> timedelta:
    """The zone offset of an NTP-synced clock: its local reading minus UTC, to the quarter hour."""
    delta = local.replace(tzinfo=None) - now_utc.astimezone(UTC).replace(tzinfo=None)
    return timedelta(seconds=round(delta.total_seconds() / 900) * 900)


def to_utc(local: datetime, offset: timedelta | None) -> datetime | None:
    if offset is None:
        return None
    return (local.replace(tzinfo=None) - offset).replace(tzinfo=UTC)


def to_local(instant: datetime, offset: timedelta) -> datetime:
    """A UTC instant as the controller's local wall time (what `clock set` / `config time manual` take)."""
    return (instant.astimezone(UTC) + offset).replace(tzinfo=None)


# ---------------------------------------------------------------------------
# Platform operations
# ---------------------------------------------------------------------------


class PlatformOps(Protocol):
    platform: Platform
    catalog: ChangeCatalog

    def reads(self, purpose: str) -> tuple[str, ...]: ...

    def time_config(self, read: ReadResult, now: datetime, known_offset: timedelta | None) -> TimeConfig: ...

    def identity(self, server: NtpServer) -> tuple[Any, ...]: ...

    def describe(self, server: NtpServer) -> str: ...

    def delete_commands(self, current: Sequence[NtpServer]) -> list[Command]: ...

    def restore_commands(self, record: Sequence[NtpServer], current: Sequence[NtpServer]) -> list[Command]: ...

    def clock_command(self, local: datetime) -> Command: ...

    def save_command(self) -> Command: ...

    def wrap_config(self, commands: Sequence[Command]) -> list[Command]: ...

    async def apply(self, link: DeviceLink, commands: Sequence[Command], config: bool) -> None: ...


class _OpsBase:
    platform: Platform
    catalog: ChangeCatalog

    def reads(self, purpose: str) -> tuple[str, ...]:
        return self.catalog.reads.get(purpose, ())

    def save_command(self) -> Command:
        return self.catalog.render("save", purpose="save the configuration")

    def _offset(
        self, local: datetime, synced: bool, now: datetime, printed: timedelta | None, known: timedelta | None, how: str
    ) -> tuple[timedelta | None, str]:
        if printed is not None:
            return printed, how
        if known is not None:
            return known, "recorded"
        if synced:
            return infer_offset(local, now), "inferred from the NTP-synced clock"
        return None, "unknown"


class AireosOps(_OpsBase):
    """AireOS: NTP servers live in numbered slots (1..3) with an optional key binding."""

    platform = Platform.AIREOS

    def __init__(self) -> None:
        self.catalog = change_catalog(Platform.AIREOS)

    def time_config(self, read: ReadResult, now: datetime, known_offset: timedelta | None) -> TimeConfig:
        reading: AireosTime = read.parsed["show_time"]
        local = reading.clock.time.replace(tzinfo=None)
        synced = bool(reading.clock.synced)
        offset, how = self._offset(local, synced, now, reading.utc_offset, known_offset, "Timezone delta/location")
        servers = tuple(
            NtpServer(address=s.address, index=s.index, key_index=s.key_index or None, status=s.status)
            for s in reading.ntp_servers
        )
        return TimeConfig(
            local_time=local,
            clock_utc=to_utc(local, offset),
            utc_offset=offset,
            offset_source=how,
            synced=synced,
            source=reading.clock.source,
            ntp_servers=servers,
            raw=dict(read.raw),
        )

    def identity(self, server: NtpServer) -> tuple[Any, ...]:
        return (server.index, server.address.lower(), server.key_index or None)

    def describe(self, server: NtpServer) -> str:
        key = f" key {server.key_index}" if server.key_index else ""
        return f"#{server.index} {server.address}{key}"

    def delete_commands(self, current: Sequence[NtpServer]) -> list[Command]:
        ordered = sorted(current, key=lambda s: s.index or 0, reverse=True)
        return [
            self.catalog.render("ntp_delete", purpose=f"delete NTP server {self.describe(s)}", index=s.index)
            for s in ordered
        ]

    def restore_commands(self, record: Sequence[NtpServer], current: Sequence[NtpServer]) -> list[Command]:
        by_index = {s.index: s for s in current}
        commands: list[Command] = []
        for server in sorted(record, key=lambda s: s.index or 0):
            now = by_index.get(server.index)
            what = self.describe(server)
            if now is None or now.address.lower() != server.address.lower():
                commands.append(
                    self.catalog.render(
                        "ntp_server", purpose=f"restore NTP server {what}", index=server.index, address=server.address
                    )
                )
                now = None
            current_key = None if now is None else now.key_index
            if server.key_index and current_key != server.key_index:
                commands.append(
                    self.catalog.render(
                        "ntp_auth_enable",
                        purpose=f"restore the key binding of NTP server {what}",
                        index=server.index,
                        key_index=server.key_index,
                    )
                )
            elif not server.key_index and current_key:
                commands.append(
                    self.catalog.render("ntp_auth_disable", purpose=f"no key on NTP server {what}", index=server.index)
                )
        return commands

    def clock_command(self, local: datetime) -> Command:
        return self.catalog.render(
            "clock_set", purpose=f"set the clock to {local:%Y-%m-%d %H:%M:%S} local time", date=local, time=local
        )

    def wrap_config(self, commands: Sequence[Command]) -> list[Command]:
        return list(commands)

    async def apply(self, link: DeviceLink, commands: Sequence[Command], config: bool) -> None:
        for command in commands:
            await link.send(command)


class IosxeOps(_OpsBase):
    """Catalyst 9800: NTP servers are running-config lines, restored verbatim in their order."""

    platform = Platform.IOSXE

    def __init__(self) -> None:
        self.catalog = change_catalog(Platform.IOSXE)

    def time_config(self, read: ReadResult, now: datetime, known_offset: timedelta | None) -> TimeConfig:
        clock: ClockReading = read.parsed["show_clock"]
        servers = tuple(read.parsed.get("show_running_config_ntp") or ())
        printed = clock.time.utcoffset() if clock.time.tzinfo is not None else None
        local = clock.time.replace(tzinfo=None)
        synced = bool(clock.synced)
        offset, how = self._offset(local, synced, now, printed, known_offset, "the zone `show clock` prints")
        return TimeConfig(
            local_time=local,
            clock_utc=to_utc(local, offset),
            utc_offset=offset,
            offset_source=how,
            synced=synced,
            source=clock.source,
            ntp_servers=servers,
            raw=dict(read.raw),
        )

    def identity(self, server: NtpServer) -> tuple[Any, ...]:
        return (" ".join((server.config_line or "").split()),)

    def describe(self, server: NtpServer) -> str:
        return server.config_line or server.address

    def delete_commands(self, current: Sequence[NtpServer]) -> list[Command]:
        # Last line first: if the session breaks half-way, what is left is a prefix of the
        # recorded list, and re-adding the rest in order reproduces the exact running-config.
        commands = []
        for server in reversed(list(current)):
            if server.vrf:
                commands.append(
                    self.catalog.render(
                        "ntp_server_delete_vrf",
                        purpose=f"delete `{self.describe(server)}`",
                        vrf=server.vrf,
                        address=server.address,
                    )
                )
            else:
                commands.append(
                    self.catalog.render(
                        "ntp_server_delete", purpose=f"delete `{self.describe(server)}`", address=server.address
                    )
                )
        return commands

    def restore_commands(self, record: Sequence[NtpServer], current: Sequence[NtpServer]) -> list[Command]:
        present = {self.identity(s) for s in current}
        return [
            self.catalog.render("ntp_server_restore", purpose="restore the recorded line", line=server.config_line)
            for server in record
            if self.identity(server) not in present
        ]

    def clock_command(self, local: datetime) -> Command:
        return self.catalog.render(
            "clock_set",
            purpose=f"set the clock to {local:%Y-%m-%d %H:%M:%S} local time",
            time=local,
            day=local.day,
            month=MONTHS[local.month - 1],
            year=local.year,
        )

    def wrap_config(self, commands: Sequence[Command]) -> list[Command]:
        if not commands:
            return []
        return [
            self.catalog.render("config_enter", purpose="enter configuration mode"),
            *commands,
            self.catalog.render("config_exit", purpose="leave configuration mode"),
        ]

    async def apply(self, link: DeviceLink, commands: Sequence[Command], config: bool) -> None:
        if not config:
            for command in commands:
                await link.send(command)
            return
        if not commands:
            return
        enter, *body, leave = self.wrap_config(commands)
        await link.send(enter)
        try:
            for command in body:
                await link.send(command)
        finally:
            # Leave configuration mode even when a line was refused, so later reads work.
            if link.is_open:
                await link.send(leave)


def ops_for(platform: Platform | str) -> PlatformOps:
    plat = Platform(platform)
    return AireosOps() if plat is Platform.AIREOS else IosxeOps()


def ntp_differences(ops: PlatformOps, record: Sequence[NtpServer], current: Sequence[NtpServer]) -> list[str]:
    """What differs between the recorded NTP servers and the device's (empty when identical)."""
    want = [ops.identity(s) for s in record]
    have = [ops.identity(s) for s in current]
    problems = []
    for server in record:
        if ops.identity(server) not in have:
            problems.append(f"missing {ops.describe(server)}")
    for server in current:
        if ops.identity(server) not in want:
            problems.append(f"not in the record: {ops.describe(server)}")
    if not problems and want != have and sorted(want) == sorted(have) and ops.platform is Platform.IOSXE:
        problems.append("the NTP server lines are in a different order than recorded")
    return problems


# ---------------------------------------------------------------------------
# The context a step runs in (built by the engine)
# ---------------------------------------------------------------------------


@dataclass
class StepContext:
    """Everything an action may use. The engine persists what the callbacks receive."""

    run_id: int
    step_id: str
    controller: Controller
    ops: PlatformOps
    link: DeviceLink
    params: dict[str, Any]
    record: RecordedConfig | None
    advisory: Advisory
    step_started_at: datetime
    now: Callable[[], datetime]
    sleep: Callable[[float], Awaitable[None]]
    event: Callable[[str, str], Awaitable[None]]  # (level, text)
    save_record: Callable[[RecordedConfig], Awaitable[None]]
    save_params: Callable[[Mapping[str, Any]], Awaitable[None]]
    mark_verified: Callable[[str], Awaitable[None]]
    step_results: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def need_record(self) -> RecordedConfig:
        if self.record is None:
            raise ActionFailed("no recorded NTP configuration for this run: refusing to change anything")
        return self.record

    async def read_time(self) -> TimeConfig:
        record = self.record
        version = record.software_version if record else None
        read = await self.link.read(self.ops.reads("time_config"), version)
        return self.ops.time_config(read, self.now(), record.utc_offset if record else None)


@dataclass
class PlanContext:
    """What a dry-run knows: the current snapshot's NTP servers and clock offset."""

    platform: Platform
    ops: PlatformOps
    ntp_servers: tuple[NtpServer, ...]
    utc_offset: timedelta | None
    software_version: str | None
    params: Mapping[str, Any]
    now: datetime
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _fmt(value: datetime | None) -> str:
    if value is None:
        return "unknown"
    if value.tzinfo is None:
        return value.strftime("%Y-%m-%d %H:%M:%S") + " local"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _reads_plan(ctx: PlanContext, step: str, purpose: str, note: str = "") -> list[PlannedCommand]:
    commands = read_commands(ctx.platform, ctx.ops.reads(purpose), ctx.software_version)
    return [PlannedCommand(step, cmd, False, note) for _, cmd in commands]


def target_plan(
    certificate: CertificateWindow | None, target: datetime | str, advisory: Advisory
) -> tuple[TimebackPlan, str | None]:
    """(the advisory's plan, a refusal reason or None) for a requested target or `auto`."""
    if isinstance(target, datetime):
        plan = timeback_target(certificate, preferred=target, advisory=advisory)
        if not plan.possible:
            return plan, plan.reason
        if plan.chosen_by != "preferred":
            nb = certificate.not_before if certificate else None
            if nb is not None and target <= nb.astimezone(UTC):
                return plan, (
                    f"the target {_fmt(target)} is before the controller certificate's start date {_fmt(nb)}: "
                    "the certificate would become not yet valid. Choose a later target, or use a staging "
                    "controller running the same code (e.g. 9800-CL or vWLC)"
                )
            return plan, f"the target {_fmt(target)} is not safe: " + "; ".join(plan.warnings or (plan.reason,))
        return plan, None
    plan = timeback_target(certificate, advisory=advisory)
    if not plan.possible:
        return plan, plan.reason
    return plan, None


# ---------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------


async def capture_time_config(ctx: StepContext, args: Mapping[str, Any]) -> StepResult:
    """Read and store the exact NTP configuration and clock; nothing changes before this is saved."""
    if ctx.record is not None:
        # Retried or resumed: the first capture is the truth (a later read may already show changes).
        return StepResult(
            f"already recorded at {_fmt(ctx.record.captured_at)}: {len(ctx.record.ntp_servers)} NTP server(s)",
            {"ntp_servers": [ctx.ops.describe(s) for s in ctx.record.ntp_servers]},
        )
    version_read = await ctx.link.read(ctx.ops.reads("version"))
    version = version_read.snapshot.software_version
    read = await ctx.link.read(ctx.ops.reads("time_config"), version)
    time = ctx.ops.time_config(read, ctx.now(), None)
    cert_read = await ctx.link.read(ctx.ops.reads("certificate"), version, required=False)
    warnings: list[str] = []
    if time.utc_offset is None:
        raise ActionFailed(
            "cannot tell the controller's offset from UTC (no time zone printed and the clock is not NTP-synced), "
            "so the clock target cannot be converted to its local time safely"
        )
    if not time.ntp_servers:
        warnings.append(
            "no NTP server is configured on this controller: nothing to restore; the clock will be set to the "
            "current time by hand at the end"
        )
    if time.clock_utc is not None and time.clock_utc < ctx.advisory.image_cert_expiry:
        warnings.append(
            f"the clock already reads {_fmt(time.clock_utc)} (before the image certificate expiry): an earlier "
            "time-back may not have been undone; the NTP configuration recorded now is what will be restored"
        )
    record = RecordedConfig(
        controller=ctx.controller.name,
        platform=ctx.ops.platform,
        captured_at=ctx.now(),
        clock_local=time.local_time,
        clock_utc=time.clock_utc,
        clock_source=time.source.value,
        utc_offset_seconds=int(time.utc_offset.total_seconds()),
        offset_source=time.offset_source,
        ntp_servers=tuple(
            NtpServer(
                address=s.address,
                index=s.index,
                key_index=s.key_index,
                vrf=s.vrf,
                options=s.options,
                config_line=s.config_line,
            )
            for s in time.ntp_servers
        ),
        certificate=cert_read.snapshot.certificate,
        software_version=version,
        raw={key: redact(text) for key, text in read.raw.items()},  # `show run | i ntp` prints key material
    )
    await ctx.save_record(record)
    ctx.record = record
    servers = [ctx.ops.describe(s) for s in record.ntp_servers]
    return StepResult(
        f"recorded {len(servers)} NTP server(s) and the clock {_fmt(time.clock_utc)} "
        f"(UTC offset {time.utc_offset}, {time.offset_source})",
        {"ntp_servers": servers, "clock_utc": _fmt(time.clock_utc), "software_version": version},
        tuple(warnings),
    )


def _plan_capture(ctx: PlanContext, args: Mapping[str, Any]) -> list[PlannedCommand]:
    out = []
    for purpose in ("version", "time_config", "certificate"):
        out += _reads_plan(ctx, "capture_time_config", purpose)
    return out


async def check_clock_target_safe(ctx: StepContext, args: Mapping[str, Any]) -> StepResult:
    """Refuse a target before the controller certificate's start (staging controller advice)."""
    record = ctx.need_record()
    target = args.get("target", "auto")
    if record.certificate is None and not args.get("allow_unknown_certificate", False):
        raise ActionFailed(
            "the controller certificate's start date could not be read, so a clock target cannot be shown to be "
            "safe (AireOS `show certificate summary`, 9800 `show crypto pki certificates <trustpoint>`); check it "
            "by hand and re-run with allow_unknown_certificate, or use a staging controller"
        )
    plan, refusal = target_plan(record.certificate, target, ctx.advisory)
    if refusal is not None:
        raise ActionFailed(refusal, {"needs_staging_controller": plan.needs_staging_controller})
    assert plan.target is not None
    if isinstance(target, str):
        await ctx.save_params({"target": plan.target})
    local = to_local(plan.target, record.utc_offset)
    return StepResult(
        f"target {_fmt(plan.target)} ({local:%Y-%m-%d %H:%M:%S} controller local time) is safe: {plan.reason}",
        {"target": plan.target.isoformat(), "local": local.isoformat()},
        tuple(plan.warnings),
    )


def _plan_check(ctx: PlanContext, args: Mapping[str, Any]) -> list[PlannedCommand]:
    return []


async def delete_ntp_servers(ctx: StepContext, args: Mapping[str, Any]) -> StepResult:
    """Delete every NTP server (step 1 of the tech note), only those that were recorded."""
    record = ctx.need_record()
    time = await ctx.read_time()
    known = {ctx.ops.identity(s) for s in record.ntp_servers}
    strangers = [ctx.ops.describe(s) for s in time.ntp_servers if ctx.ops.identity(s) not in known]
    if strangers:
        raise ActionFailed(
            "the NTP configuration changed since it was recorded (" + ", ".join(strangers) + "): refusing to delete "
            "servers that are not in the record"
        )
    commands = ctx.ops.delete_commands(time.ntp_servers)
    await ctx.ops.apply(ctx.link, commands, config=True)
    after = await ctx.read_time()
    if after.ntp_servers:
        left = ", ".join(ctx.ops.describe(s) for s in after.ntp_servers)
        raise ActionFailed(f"NTP servers still configured after the delete: {left}")
    return StepResult(
        f"deleted {len(commands)} NTP server(s)" if commands else "no NTP server was configured",
        {"deleted": [c.text for c in commands]},
    )


def _plan_delete(ctx: PlanContext, args: Mapping[str, Any]) -> list[PlannedCommand]:
    out = _reads_plan(ctx, "delete_ntp_servers", "time_config")
    cmds = ctx.ops.wrap_config(ctx.ops.delete_commands(ctx.ntp_servers))
    out += [PlannedCommand("delete_ntp_servers", c.text, True, c.purpose) for c in cmds]
    out += _reads_plan(ctx, "delete_ntp_servers", "time_config", "check that no server is left")
    return out


async def set_clock(ctx: StepContext, args: Mapping[str, Any]) -> StepResult:
    """Set the clock to the checked target, converted to the controller's local time."""
    record = ctx.need_record()
    target = ctx.params.get("target")
    if not isinstance(target, datetime):
        raise ActionFailed("no checked clock target: check_clock_target_safe must run first")
    local = to_local(target, record.utc_offset)
    await ctx.ops.apply(ctx.link, [ctx.ops.clock_command(local)], config=False)
    return StepResult(
        f"clock set to {_fmt(target)} ({local:%Y-%m-%d %H:%M:%S} local)",
        {"target": target.isoformat(), "local": local.isoformat(), "set_at": ctx.now().isoformat()},
    )


def _plan_set_clock(ctx: PlanContext, args: Mapping[str, Any]) -> list[PlannedCommand]:
    target = ctx.params.get("target")
    if not isinstance(target, datetime) or ctx.utc_offset is None:
        return [PlannedCommand("set_clock", "<clock command: target or UTC offset unknown>", True)]
    command = ctx.ops.clock_command(to_local(target, ctx.utc_offset))
    return [PlannedCommand("set_clock", command.text, True, f"{_fmt(target)}; {command.purpose}")]


async def verify_clock(ctx: StepContext, args: Mapping[str, Any]) -> StepResult:
    """Check the set-back clock: NTP gone, clock after the target and before the image certificate expiry."""
    target = ctx.params.get("target")
    time = await ctx.read_time()
    if time.ntp_servers:
        raise ActionFailed("NTP servers are configured again: NTP would pull the clock back")
    if time.clock_utc is None or not isinstance(target, datetime):
        raise ActionFailed("cannot read the clock in UTC")
    slack = timedelta(seconds=float(args.get("tolerance_seconds", 300)))
    if time.clock_utc < target - slack or time.clock_utc >= ctx.advisory.image_cert_expiry:
        raise ActionFailed(
            f"the clock reads {_fmt(time.clock_utc)}, not between the target {_fmt(target)} and the image "
            f"certificate expiry {_fmt(ctx.advisory.image_cert_expiry)}"
        )
    return StepResult(f"clock reads {_fmt(time.clock_utc)}; no NTP server configured", {"clock": _fmt(time.clock_utc)})


def _plan_verify_clock(ctx: PlanContext, args: Mapping[str, Any]) -> list[PlannedCommand]:
    return _reads_plan(ctx, "verify_clock", "time_config")


def _stuck_note(names: Sequence[str], set_at: str | None) -> str:
    since = f" (the clock was set back at {set_at})" if set_at else ""
    return (
        f"{len(names)} AP(s) still Downloading after the wait: {', '.join(names)}. The bot never reboots an AP. "
        "Some APs only join after a reboot, but reboot one only while the clock is set back and at least 30 "
        f"minutes after the clock change{since}: request another time-back for them and reboot them by hand "
        "30 minutes into it. NTP is being restored now: the clock is never left back."
    )


async def wait_for_aps(ctx: StepContext, args: Mapping[str, Any]) -> StepResult:
    """Poll the AP states until none is downloading, or until the (persisted) deadline."""
    record = ctx.need_record()
    timeout = float(args["timeout_seconds"])
    poll = float(args["poll_seconds"])
    deadline = ctx.step_started_at + timedelta(seconds=timeout)
    set_at = ctx.step_results.get("set_clock", {}).get("set_at")
    max_polls = int(timeout / poll) + 3
    downloading: list[str] = []
    reported: list[str] | None = None
    total = 0
    for _ in range(max_polls):
        read = await ctx.link.read(ctx.ops.reads("ap_states"), record.software_version)
        aps = read.snapshot.aps
        total = len(aps)
        downloading = sorted(ap.name for ap in aps if ap.is_downloading)
        if not downloading:
            return StepResult(f"all {total} AP(s) joined; none is downloading", {"aps": total, "downloading": []})
        time = await ctx.read_time()
        if time.ntp_servers:
            return StepResult(
                "NTP servers were configured again during the wait: stopped waiting",
                {"aps": total, "downloading": downloading},
                ("someone configured NTP during the wait; the clock may already be current again",),
            )
        if time.clock_utc is not None and time.clock_utc >= ctx.advisory.image_cert_expiry:
            return StepResult(
                "the set-back clock reached the image certificate expiry: stopped waiting",
                {"aps": total, "downloading": downloading},
                (_stuck_note(downloading, set_at),),
            )
        remaining = (deadline - ctx.now()).total_seconds()
        if remaining <= 0:
            break
        if downloading != reported:
            reported = downloading
            await ctx.event("info", f"{len(downloading)} of {total} AP(s) downloading: {', '.join(downloading)}")
        await ctx.sleep(min(poll, remaining))
    return StepResult(
        f"{len(downloading)} of {total} AP(s) still downloading after {timeout:g} s",
        {"aps": total, "downloading": downloading},
        (_stuck_note(downloading, set_at),),
    )


def _plan_wait(ctx: PlanContext, args: Mapping[str, Any]) -> list[PlannedCommand]:
    timeout = args.get("timeout_seconds")
    poll = args.get("poll_seconds")
    note = f"every {poll:g} s for up to {timeout:g} s, until no AP is downloading" if timeout and poll else ""
    return _reads_plan(ctx, "wait_for_aps", "ap_states", note) + _reads_plan(ctx, "wait_for_aps", "time_config", note)


async def restore_ntp_servers(ctx: StepContext, args: Mapping[str, Any]) -> StepResult:
    """Put back exactly the recorded NTP servers (only what is missing), then compare."""
    record = ctx.need_record()
    time = await ctx.read_time()
    commands = ctx.ops.restore_commands(record.ntp_servers, time.ntp_servers)
    await ctx.ops.apply(ctx.link, commands, config=True)
    after = await ctx.read_time()
    problems = ntp_differences(ctx.ops, record.ntp_servers, after.ntp_servers)
    if problems:
        raise ActionFailed("NTP is not as recorded after the restore: " + "; ".join(problems))
    return StepResult(
        f"restored {len(record.ntp_servers)} NTP server(s) as recorded"
        + ("" if commands else " (nothing was missing)"),
        {"sent": [c.text for c in commands], "ntp_servers": [ctx.ops.describe(s) for s in record.ntp_servers]},
    )


def _plan_restore(ctx: PlanContext, args: Mapping[str, Any]) -> list[PlannedCommand]:
    out = _reads_plan(ctx, "restore_ntp_servers", "time_config")
    cmds = ctx.ops.wrap_config(ctx.ops.restore_commands(ctx.ntp_servers, ()))
    out += [PlannedCommand("restore_ntp_servers", c.text, True, c.purpose) for c in cmds]
    out += _reads_plan(ctx, "restore_ntp_servers", "time_config", "compare with the record")
    return out


async def save_config(ctx: StepContext, args: Mapping[str, Any]) -> StepResult:
    """Save (AireOS `save config` + y; IOS-XE `write memory`) once NTP is back as recorded."""
    record = ctx.need_record()
    time = await ctx.read_time()
    problems = ntp_differences(ctx.ops, record.ntp_servers, time.ntp_servers)
    if problems:
        raise ActionFailed("refusing to save: NTP is not as recorded (" + "; ".join(problems) + ")")
    command = ctx.ops.save_command()
    await ctx.ops.apply(ctx.link, [command], config=False)
    return StepResult("configuration saved", {"command": command.text})


def _plan_save(ctx: PlanContext, args: Mapping[str, Any]) -> list[PlannedCommand]:
    command = ctx.ops.save_command()
    note = f"answers '{command.confirm[1]}' to {command.confirm[0]}" if command.confirm else ""
    return [*_reads_plan(ctx, "save_config", "time_config"), PlannedCommand("save_config", command.text, True, note)]


async def _set_current(ctx: StepContext, record: RecordedConfig) -> str:
    local = to_local(ctx.now(), record.utc_offset)
    await ctx.ops.apply(ctx.link, [ctx.ops.clock_command(local)], config=False)
    return f"{local:%Y-%m-%d %H:%M:%S} local"


async def verify_clock_current(ctx: StepContext, args: Mapping[str, Any]) -> StepResult:
    """Wait for NTP to bring the clock back; compare NTP with the record; never leave the clock back.

    If NTP has not synchronised by the timeout (or nothing is configured to
    sync from), the clock is set to the current time by hand, so the
    controller is never left in 2022, and the step says so.
    """
    record = ctx.need_record()
    timeout = float(args.get("sync_timeout_seconds", 900))
    poll = float(args.get("poll_seconds", 10))
    tolerance = timedelta(seconds=float(args.get("tolerance_seconds", 60)))
    deadline = ctx.now() + timedelta(seconds=timeout)
    warnings: list[str] = []
    time: TimeConfig | None = None
    for _ in range(int(timeout / poll) + 3):
        time = await ctx.read_time()
        problems = ntp_differences(ctx.ops, record.ntp_servers, time.ntp_servers)
        if problems:
            raise ActionFailed("NTP is not as recorded: " + "; ".join(problems))
        current = time.clock_utc is not None and abs(time.clock_utc - ctx.now()) <= tolerance
        if current and (time.synced or not record.ntp_servers):
            break
        if not record.ntp_servers or ctx.now() >= deadline:
            break
        await ctx.sleep(max(0.0, min(poll, (deadline - ctx.now()).total_seconds())))
    assert time is not None
    current = time.clock_utc is not None and abs(time.clock_utc - ctx.now()) <= tolerance
    if not current:
        shown = _fmt(time.clock_utc)
        local = await _set_current(ctx, record)
        warnings.append(
            f"the clock read {shown}, not the current time"
            + (f", after {timeout:g} s waiting for NTP" if record.ntp_servers else " and no NTP is configured")
            + f": set it to the current time by hand ({local}). NTP is configured as recorded and takes over "
            "when it synchronises."
        )
        time = await ctx.read_time()
        if time.clock_utc is None or abs(time.clock_utc - ctx.now()) > tolerance:
            raise ActionFailed(f"the clock still reads {_fmt(time.clock_utc)} after setting it to the current time")
    elif not time.synced and record.ntp_servers:
        warnings.append("the clock is current but NTP has not reported synchronisation yet")
    peers = [f"{s.address}: {s.status}" for s in time.ntp_servers if s.status]
    status_keys = ctx.ops.reads("ntp_status")
    if status_keys and record.ntp_servers:
        # 9800: `show ntp associations` as the tech note's last check (informative; never fails the step).
        keys = (*ctx.ops.reads("time_config"), *status_keys)
        status = await ctx.link.read(keys, record.software_version, required=False)
        peers = [f"{s.address}: {s.status}" for s in status.snapshot.ntp_servers if s.status]
    await ctx.mark_verified(f"NTP as recorded ({len(record.ntp_servers)} server(s)); clock {_fmt(time.clock_utc)}")
    sync = "NTP synchronised" if time.synced else "NTP not yet synchronised"
    return StepResult(
        f"clock is current ({_fmt(time.clock_utc)}, {sync}); NTP configured exactly as recorded",
        {"clock": _fmt(time.clock_utc), "synced": time.synced, "ntp_status": peers},
        tuple(warnings),
    )


def _plan_verify_current(ctx: PlanContext, args: Mapping[str, Any]) -> list[PlannedCommand]:
    timeout = args.get("sync_timeout_seconds")
    note = f"until NTP has synchronised (up to {timeout:g} s), then compare NTP with the record" if timeout else ""
    out = _reads_plan(ctx, "verify_clock_current", "time_config", note)
    if ctx.ops.reads("ntp_status") and ctx.ntp_servers:
        out += _reads_plan(ctx, "verify_clock_current", "time_config", "NTP peer status")
        out += _reads_plan(ctx, "verify_clock_current", "ntp_status", "NTP peer status")
    return out


async def restore_clock(ctx: StepContext, args: Mapping[str, Any]) -> StepResult:
    """Undo of set_clock: bring the clock to the current time unless it already is."""
    record = ctx.need_record()
    tolerance = timedelta(seconds=float(args.get("tolerance_seconds", 120)))
    time = await ctx.read_time()
    if time.clock_utc is not None and abs(time.clock_utc - ctx.now()) <= tolerance:
        return StepResult(f"clock already current ({_fmt(time.clock_utc)})", {"clock": _fmt(time.clock_utc)})
    local = await _set_current(ctx, record)
    after = await ctx.read_time()
    if after.clock_utc is None or abs(after.clock_utc - ctx.now()) > tolerance:
        raise ActionFailed(f"the clock reads {_fmt(after.clock_utc)} after setting it to the current time")
    return StepResult(f"clock set back to the current time ({local})", {"clock": _fmt(after.clock_utc)})


def _plan_restore_clock(ctx: PlanContext, args: Mapping[str, Any]) -> list[PlannedCommand]:
    return [PlannedCommand("restore_clock", "<clock command with the current time>", True)]


_TARGET = ArgSpec("datetime", default="auto", description="UTC instant, or auto (the advisory picks)")
_TOLERANCE = ArgSpec("number", minimum=1, maximum=3600)

ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            "capture_time_config",
            "Record the NTP configuration and clock",
            False,
            capture_time_config,
            _plan_capture,
        ),
        ActionSpec(
            "check_clock_target_safe",
            "Check the clock target against the controller certificate",
            False,
            check_clock_target_safe,
            _plan_check,
            args={"target": _TARGET, "allow_unknown_certificate": ArgSpec("boolean", default=False)},
        ),
        ActionSpec(
            "delete_ntp_servers",
            "Delete the NTP servers",
            True,
            delete_ntp_servers,
            _plan_delete,
            undo_actions=frozenset({"restore_ntp_servers"}),
        ),
        ActionSpec(
            "set_clock",
            "Set the clock back",
            True,
            set_clock,
            _plan_set_clock,
            undo_actions=frozenset({"restore_clock"}),
        ),
        ActionSpec(
            "verify_clock",
            "Verify the clock",
            False,
            verify_clock,
            _plan_verify_clock,
            args={"tolerance_seconds": ArgSpec("number", minimum=1, maximum=3600, default=300)},
        ),
        ActionSpec(
            "wait_for_aps",
            "Wait for the APs to download and join",
            False,
            wait_for_aps,
            _plan_wait,
            args={
                "timeout_seconds": ArgSpec("number", minimum=1, maximum=86400, required=True),
                "poll_seconds": ArgSpec("number", minimum=0.05, maximum=3600, required=True),
            },
        ),
        ActionSpec(
            "restore_ntp_servers",
            "Restore the NTP servers exactly as recorded",
            True,
            restore_ntp_servers,
            _plan_restore,
            undo_actions=frozenset({"restore_ntp_servers"}),
        ),
        ActionSpec(
            "save_config",
            "Save the configuration",
            True,
            save_config,
            _plan_save,
            undo_actions=frozenset({"save_config"}),
        ),
        ActionSpec(
            "verify_clock_current",
            "Verify the clock is current and NTP is as recorded",
            False,
            verify_clock_current,
            _plan_verify_current,
            args={
                "sync_timeout_seconds": ArgSpec("number", minimum=1, maximum=7200, default=900),
                "poll_seconds": ArgSpec("number", minimum=0.05, maximum=600, default=10),
                "tolerance_seconds": ArgSpec("number", minimum=1, maximum=600, default=60),
            },
        ),
        ActionSpec(
            "restore_clock",
            "Set the clock to the current time",
            True,
            restore_clock,
            _plan_restore_clock,
            args={"tolerance_seconds": ArgSpec("number", minimum=1, maximum=600, default=120)},
            undo_only=True,
        ),
    )
}
