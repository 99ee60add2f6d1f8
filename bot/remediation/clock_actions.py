"""The clock actions: set it back, check it, wait for the APs, and bring it (and NTP) back to now.

The clock is never left in the past: `verify_clock_current` sets it to the
current time by hand when NTP does not, and `restore_clock` is the undo of
`set_clock`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.controllers.platforms.remediation_ops import TimeConfig
from bot.domain.utc_offset import fmt_instant, to_local
from bot.remediation.platform_ops import ntp_differences
from bot.remediation.recorded_config import RecordedConfig
from bot.remediation.steps import (
    SELF,
    ActionFailed,
    ActionSpec,
    AfterCrash,
    ArgSpec,
    Order,
    PlanContext,
    PlannedCommand,
    StepContext,
    StepResult,
)


async def set_clock(ctx: StepContext, args: Mapping[str, Any]) -> StepResult:
    """Set the clock to the checked target, converted to the controller's local time."""
    record = ctx.need_record()
    target = ctx.params.get("target")
    if not isinstance(target, datetime):
        raise ActionFailed("no checked clock target: check_clock_target_safe must run first")
    local = to_local(target, record.utc_offset)
    await ctx.ops.apply(ctx.link, [ctx.ops.clock_command(local)], config=False)
    return StepResult(
        f"clock set to {fmt_instant(target)} ({local:%Y-%m-%d %H:%M:%S} local)",
        {"target": target.isoformat(), "local": local.isoformat(), "set_at": ctx.now().isoformat()},
    )


def _plan_set_clock(ctx: PlanContext, args: Mapping[str, Any]) -> list[PlannedCommand]:
    target = ctx.params.get("target")
    if not isinstance(target, datetime) or ctx.utc_offset is None:
        return [PlannedCommand("set_clock", "<clock command: target or UTC offset unknown>", True)]
    command = ctx.ops.clock_command(to_local(target, ctx.utc_offset))
    return [PlannedCommand("set_clock", command.text, True, f"{fmt_instant(target)}; {command.purpose}")]


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
            f"the clock reads {fmt_instant(time.clock_utc)}, not between the target {fmt_instant(target)} and the "
            f"image certificate expiry {fmt_instant(ctx.advisory.image_cert_expiry)}"
        )
    return StepResult(
        f"clock reads {fmt_instant(time.clock_utc)}; no NTP server configured", {"clock": fmt_instant(time.clock_utc)}
    )


def _plan_verify_clock(ctx: PlanContext, args: Mapping[str, Any]) -> list[PlannedCommand]:
    return ctx.planned_reads("verify_clock", "time_config")


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
    return ctx.planned_reads("wait_for_aps", "ap_states", note) + ctx.planned_reads("wait_for_aps", "time_config", note)


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
        shown = fmt_instant(time.clock_utc)
        local = await _set_current(ctx, record)
        warnings.append(
            f"the clock read {shown}, not the current time"
            + (f", after {timeout:g} s waiting for NTP" if record.ntp_servers else " and no NTP is configured")
            + f": set it to the current time by hand ({local}). NTP is configured as recorded and takes over "
            "when it synchronises."
        )
        time = await ctx.read_time()
        if time.clock_utc is None or abs(time.clock_utc - ctx.now()) > tolerance:
            raise ActionFailed(
                f"the clock still reads {fmt_instant(time.clock_utc)} after setting it to the current time"
            )
    elif not time.synced and record.ntp_servers:
        warnings.append("the clock is current but NTP has not reported synchronisation yet")
    peers = [f"{s.address}: {s.status}" for s in time.ntp_servers if s.status]
    status_keys = ctx.ops.reads("ntp_status")
    if status_keys and record.ntp_servers:
        # 9800: `show ntp associations` as the tech note's last check (informative; never fails the step).
        keys = (*ctx.ops.reads("time_config"), *status_keys)
        status = await ctx.link.read(keys, record.software_version, required=False)
        peers = [f"{s.address}: {s.status}" for s in status.snapshot.ntp_servers if s.status]
    await ctx.mark_verified(
        f"NTP as recorded ({len(record.ntp_servers)} server(s)); clock {fmt_instant(time.clock_utc)}"
    )
    sync = "NTP synchronised" if time.synced else "NTP not yet synchronised"
    return StepResult(
        f"clock is current ({fmt_instant(time.clock_utc)}, {sync}); NTP configured exactly as recorded",
        {"clock": fmt_instant(time.clock_utc), "synced": time.synced, "ntp_status": peers},
        tuple(warnings),
    )


def _plan_verify_current(ctx: PlanContext, args: Mapping[str, Any]) -> list[PlannedCommand]:
    timeout = args.get("sync_timeout_seconds")
    note = f"until NTP has synchronised (up to {timeout:g} s), then compare NTP with the record" if timeout else ""
    out = ctx.planned_reads("verify_clock_current", "time_config", note)
    if ctx.ops.reads("ntp_status") and ctx.ntp_servers:
        out += ctx.planned_reads("verify_clock_current", "time_config", "NTP peer status")
        out += ctx.planned_reads("verify_clock_current", "ntp_status", "NTP peer status")
    return out


async def restore_clock(ctx: StepContext, args: Mapping[str, Any]) -> StepResult:
    """Undo of set_clock: bring the clock to the current time unless it already is."""
    record = ctx.need_record()
    tolerance = timedelta(seconds=float(args.get("tolerance_seconds", 120)))
    time = await ctx.read_time()
    if time.clock_utc is not None and abs(time.clock_utc - ctx.now()) <= tolerance:
        return StepResult(
            f"clock already current ({fmt_instant(time.clock_utc)})", {"clock": fmt_instant(time.clock_utc)}
        )
    local = await _set_current(ctx, record)
    after = await ctx.read_time()
    if after.clock_utc is None or abs(after.clock_utc - ctx.now()) > tolerance:
        raise ActionFailed(f"the clock reads {fmt_instant(after.clock_utc)} after setting it to the current time")
    return StepResult(f"clock set back to the current time ({local})", {"clock": fmt_instant(after.clock_utc)})


def _plan_restore_clock(ctx: PlanContext, args: Mapping[str, Any]) -> list[PlannedCommand]:
    return [PlannedCommand("restore_clock", "<clock command with the current time>", True)]


SET_CLOCK = ActionSpec(
    "set_clock",
    "Set the clock back",
    True,
    set_clock,
    _plan_set_clock,
    undo_actions=frozenset({"restore_clock"}),
    order=(
        Order(
            "delete_ntp_servers",
            SELF,
            "sets the clock while NTP is still configured: NTP would pull it straight back; "
            "delete_ntp_servers must come first",
        ),
        Order(
            "check_clock_target_safe",
            SELF,
            "sets the clock without checking the target against the controller certificate "
            "(check_clock_target_safe must come first)",
        ),
        Order(
            SELF,
            "verify_clock_current",
            "sets the clock back but no later verify_clock_current step brings it to the current time",
        ),
    ),
)


VERIFY_CLOCK = ActionSpec(
    "verify_clock",
    "Verify the clock",
    False,
    verify_clock,
    _plan_verify_clock,
    args={"tolerance_seconds": ArgSpec("number", minimum=1, maximum=3600, default=300)},
    order=(Order("set_clock", SELF, "verifies the set-back clock before it is set", required=False),),
)


WAIT_FOR_APS = ActionSpec(
    "wait_for_aps",
    "Wait for the APs to download and join",
    False,
    wait_for_aps,
    _plan_wait,
    args={
        "timeout_seconds": ArgSpec("number", minimum=1, maximum=86400, required=True),
        "poll_seconds": ArgSpec("number", minimum=0.05, maximum=3600, required=True),
    },
    order=(Order("set_clock", SELF, "waits for APs before the clock is set back", required=False),),
    after_crash=AfterCrash.WAIT_OUT,
    during="waiting for APs",
)


VERIFY_CLOCK_CURRENT = ActionSpec(
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
    after_crash=AfterCrash.FINISH,
    verifies_original=True,
)


RESTORE_CLOCK = ActionSpec(
    "restore_clock",
    "Set the clock to the current time",
    True,
    restore_clock,
    _plan_restore_clock,
    args={"tolerance_seconds": ArgSpec("number", minimum=1, maximum=600, default=120)},
    undo_only=True,
)
