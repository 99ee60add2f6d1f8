"""The NTP actions: delete the servers, restore exactly the recorded ones, save the configuration.

Each reads the device first and sends only what is still needed, so a retried
or resumed step is safe; restore and save refuse to act on NTP that differs
from the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.remediation.platform_ops import ntp_differences
from bot.remediation.steps import (
    SELF,
    ActionFailed,
    ActionSpec,
    AfterCrash,
    Order,
    PlanContext,
    PlannedCommand,
    StepContext,
    StepResult,
)


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
    out = ctx.planned_reads("delete_ntp_servers", "time_config")
    cmds = ctx.ops.wrap_config(ctx.ops.delete_commands(ctx.ntp_servers))
    out += [PlannedCommand("delete_ntp_servers", c.text, True, c.purpose) for c in cmds]
    out += ctx.planned_reads("delete_ntp_servers", "time_config", "check that no server is left")
    return out


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
    out = ctx.planned_reads("restore_ntp_servers", "time_config")
    cmds = ctx.ops.wrap_config(ctx.ops.restore_commands(ctx.ntp_servers, ()))
    out += [PlannedCommand("restore_ntp_servers", c.text, True, c.purpose) for c in cmds]
    out += ctx.planned_reads("restore_ntp_servers", "time_config", "compare with the record")
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
    return [*ctx.planned_reads("save_config", "time_config"), PlannedCommand("save_config", command.text, True, note)]


DELETE_NTP_SERVERS = ActionSpec(
    "delete_ntp_servers",
    "Delete the NTP servers",
    True,
    delete_ntp_servers,
    _plan_delete,
    undo_actions=frozenset({"restore_ntp_servers"}),
    order=(
        Order(SELF, "restore_ntp_servers", "deletes NTP but no later restore_ntp_servers step puts it back"),
        Order(
            "restore_ntp_servers",
            "verify_clock_current",
            "deletes NTP but no verify_clock_current step after the restore checks it",
        ),
    ),
)


RESTORE_NTP_SERVERS = ActionSpec(
    "restore_ntp_servers",
    "Restore the NTP servers exactly as recorded",
    True,
    restore_ntp_servers,
    _plan_restore,
    undo_actions=frozenset({"restore_ntp_servers"}),
    order=tuple(
        Order(
            earlier,
            SELF,
            f"restores NTP before {earlier}: NTP would pull the clock back while APs download",
            required=False,
        )
        for earlier in ("set_clock", "wait_for_aps")
    ),
    after_crash=AfterCrash.FINISH,
)


SAVE_CONFIG = ActionSpec(
    "save_config",
    "Save the configuration",
    True,
    save_config,
    _plan_save,
    undo_actions=frozenset({"save_config"}),
    order=(
        Order(
            "restore_ntp_servers",
            SELF,
            "saves the configuration while NTP is deleted: the deletion would survive a reload",
            when="delete_ntp_servers",
        ),
    ),
    after_crash=AfterCrash.FINISH,
)
