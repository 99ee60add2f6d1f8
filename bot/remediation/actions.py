"""The fixed registry of remediation actions, and the two that open every run.

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

Here: `capture_time_config` (the `RecordedConfig` written before the first
change) and `check_clock_target_safe` (with `target_plan`, which the request
check shares). The NTP actions are in `ntp_actions`, the clock ones in
`clock_actions`; specs and contexts in `steps`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.domain.advisory_data import Advisory
from bot.domain.models import CertificateWindow, NtpServer
from bot.domain.timeback import TimebackPlan, timeback_target
from bot.domain.utc_offset import fmt_instant, to_local
from bot.remediation.clock_actions import RESTORE_CLOCK, SET_CLOCK, VERIFY_CLOCK, VERIFY_CLOCK_CURRENT, WAIT_FOR_APS
from bot.remediation.ntp_actions import DELETE_NTP_SERVERS, RESTORE_NTP_SERVERS, SAVE_CONFIG
from bot.remediation.recorded_config import RecordedConfig
from bot.remediation.redact import redact
from bot.remediation.steps import (
    ActionFailed,
    ActionSpec,
    ArgSpec,
    PlanContext,
    PlannedCommand,
    StepContext,
    StepResult,
)


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
                    f"the target {fmt_instant(target)} is before the controller certificate's start date "
                    f"{fmt_instant(nb)}: the certificate would become not yet valid. Choose a later target, or use a "
                    "staging controller running the same code (e.g. 9800-CL or vWLC)"
                )
            return plan, f"the target {fmt_instant(target)} is not safe: " + "; ".join(plan.warnings or (plan.reason,))
        return plan, None
    plan = timeback_target(certificate, advisory=advisory)
    if not plan.possible:
        return plan, plan.reason
    return plan, None


async def capture_time_config(ctx: StepContext, args: Mapping[str, Any]) -> StepResult:
    """Read and store the exact NTP configuration and clock; nothing changes before this is saved."""
    if ctx.record is not None:
        # Retried or resumed: the first capture is the truth (a later read may already show changes).
        return StepResult(
            f"already recorded at {fmt_instant(ctx.record.captured_at)}: {len(ctx.record.ntp_servers)} NTP server(s)",
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
            f"the clock already reads {fmt_instant(time.clock_utc)} (before the image certificate expiry): an earlier "
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
        f"recorded {len(servers)} NTP server(s) and the clock {fmt_instant(time.clock_utc)} "
        f"(UTC offset {time.utc_offset}, {time.offset_source})",
        {"ntp_servers": servers, "clock_utc": fmt_instant(time.clock_utc), "software_version": version},
        tuple(warnings),
    )


def _plan_capture(ctx: PlanContext, args: Mapping[str, Any]) -> list[PlannedCommand]:
    out = []
    for purpose in ("version", "time_config", "certificate"):
        out += ctx.planned_reads("capture_time_config", purpose)
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
        f"target {fmt_instant(plan.target)} ({local:%Y-%m-%d %H:%M:%S} controller local time) is safe: {plan.reason}",
        {"target": plan.target.isoformat(), "local": local.isoformat()},
        tuple(plan.warnings),
    )


def _plan_check(ctx: PlanContext, args: Mapping[str, Any]) -> list[PlannedCommand]:
    return []


_TARGET = ArgSpec("datetime", default="auto", description="UTC instant, or auto (the advisory picks)")


CAPTURE_TIME_CONFIG = ActionSpec(
    "capture_time_config",
    "Record the NTP configuration and clock",
    False,
    capture_time_config,
    _plan_capture,
    records="the NTP configuration and clock",
)


CHECK_CLOCK_TARGET_SAFE = ActionSpec(
    "check_clock_target_safe",
    "Check the clock target against the controller certificate",
    False,
    check_clock_target_safe,
    _plan_check,
    args={"target": _TARGET, "allow_unknown_certificate": ArgSpec("boolean", default=False)},
)


# In the order a playbook runs them (help and error messages list them so).
ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        CAPTURE_TIME_CONFIG,
        CHECK_CLOCK_TARGET_SAFE,
        DELETE_NTP_SERVERS,
        SET_CLOCK,
        VERIFY_CLOCK,
        WAIT_FOR_APS,
        RESTORE_NTP_SERVERS,
        SAVE_CONFIG,
        VERIFY_CLOCK_CURRENT,
        RESTORE_CLOCK,
    )
}
