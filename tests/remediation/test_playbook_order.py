"""The playbook's order rules are the actions' own (`ActionSpec.order`, `records`).

Each rule refuses the playbook that breaks it, at the offending step, with its reason;
a rule that binds only when both actions are present (or `when` another is) stays
silent otherwise; and an action added to `ACTIONS` brings its rules with it: the
loader knows no action by name.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import pytest

from bot.remediation import playbook_loader
from bot.remediation.actions import ACTIONS
from bot.remediation.playbook_loader import PlaybookError, parse_playbook
from bot.remediation.steps import SELF, ActionSpec, Order, PlanContext, PlannedCommand, StepContext, StepResult

HEAD = """\
name: test
description: order rules
platform: aireos
parameters:
  target: {type: datetime, default: auto}
  wait: {type: number, min: 1, max: 100, default: 10}
  poll: {type: number, min: 0.05, max: 10, default: 1}
steps:
"""
STEPS = {
    "record": "  - id: record\n    action: capture_time_config\n",
    "check": "  - id: check\n    action: check_clock_target_safe\n    args: {target: $target}\n",
    "delete": "  - id: delete\n    action: delete_ntp_servers\n    undo: restore_ntp_servers\n",
    "clock": "  - id: clock\n    action: set_clock\n    undo: restore_clock\n",
    "verify_clock": "  - id: verify_clock\n    action: verify_clock\n",
    "wait": "  - id: wait\n    action: wait_for_aps\n    args: {timeout_seconds: $wait, poll_seconds: $poll}\n",
    "restore": "  - id: restore\n    action: restore_ntp_servers\n    undo: restore_ntp_servers\n",
    "save": "  - id: save\n    action: save_config\n    undo: save_config\n",
    "verify": "  - id: verify\n    action: verify_clock_current\n",
}
GOOD_ORDER = ["record", "check", "delete", "clock", "verify_clock", "wait", "restore", "save", "verify"]


def _playbook(order: list[str], extra: Mapping[str, str] | None = None) -> str:
    blocks = {**STEPS, **(extra or {})}
    return HEAD + "".join(blocks[name] for name in order)


def _messages(text: str) -> list[str]:
    try:
        parse_playbook(text, "order.yaml")
    except PlaybookError as error:
        return [p.message for p in error.problems]
    return []


def _without(*names: str) -> list[str]:
    return [n for n in GOOD_ORDER if n not in names]


def _moved(name: str, before: str) -> list[str]:
    order = [n for n in GOOD_ORDER if n != name]
    order.insert(order.index(before), name)
    return order


def test_the_good_order_passes_every_rule() -> None:
    assert _messages(_playbook(GOOD_ORDER)) == []


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (_without("delete", "restore"), "step 'clock': sets the clock while NTP is still configured"),
        (_moved("check", "save"), "step 'clock': sets the clock without checking the target"),
        (_without("verify"), "step 'clock': sets the clock back but no later verify_clock_current step"),
        (_without("verify"), "step 'delete': deletes NTP but no verify_clock_current step after the restore"),
        (_without("restore"), "step 'delete': deletes NTP but no later restore_ntp_servers step puts it back"),
        (_moved("restore", "wait"), "step 'restore': restores NTP before wait_for_aps"),
        (_moved("restore", "clock"), "step 'restore': restores NTP before set_clock"),
        (_moved("save", "restore"), "step 'save': saves the configuration while NTP is deleted"),
        (_moved("wait", "clock"), "step 'wait': waits for APs before the clock is set back"),
        (_moved("verify_clock", "clock"), "step 'verify_clock': verifies the set-back clock before it is set"),
        (_moved("record", "save"), "step 'delete': changes the device before the NTP configuration and clock"),
    ],
)
def test_each_rule_refuses_the_playbook_that_breaks_it(order: list[str], expected: str) -> None:
    messages = _messages(_playbook(order))
    assert any(m.startswith(expected) for m in messages), messages


def test_a_rule_binds_only_when_its_actions_are_there() -> None:
    # No wait step: restore's rule about wait_for_aps has nothing to order.
    messages = _messages(_playbook(_without("wait")))
    assert not any("wait_for_aps" in m for m in messages), messages
    # No NTP deleted: saving "while NTP is deleted" cannot happen (set_clock still wants the delete).
    messages = _messages(_playbook(["record", "check", "save", "clock", "verify"]))
    assert not any("saves the configuration" in m for m in messages), messages
    assert any("sets the clock while NTP is still configured" in m for m in messages), messages


async def _noop(ctx: StepContext, args: Mapping[str, Any]) -> StepResult:
    return StepResult("nothing")


def _no_plan(ctx: PlanContext, args: Mapping[str, Any]) -> list[PlannedCommand]:
    return []


def test_a_new_action_brings_its_own_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """A step added to ACTIONS with an order rule: the loader enforces it, unchanged."""
    spec = ActionSpec(
        "announce_restore",
        "Tell the NOC NTP is back",
        False,
        _noop,
        _no_plan,
        order=(Order("restore_ntp_servers", SELF, "announces the restore before NTP is restored"),),
    )
    monkeypatch.setitem(ACTIONS, spec.name, spec)
    extra = {"announce": "  - id: announce\n    action: announce_restore\n"}
    after = _playbook([*GOOD_ORDER[:7], "announce", *GOOD_ORDER[7:]], extra)
    assert _messages(after) == []
    early = _playbook([*GOOD_ORDER[:5], "announce", *GOOD_ORDER[5:]], extra)
    assert _messages(early) == ["step 'announce': announces the restore before NTP is restored"]


def test_the_loader_names_no_action() -> None:
    source = inspect.getsource(playbook_loader)
    named = [name for name in ACTIONS if f'"{name}"' in source or f"'{name}'" in source]
    assert named == []


def test_every_rule_names_a_real_action_and_one_action_is_the_final_check() -> None:
    """A misspelt name in an optional rule would switch it off silently; the engine's check
    after an undo must be exactly one action."""
    names = set(ACTIONS)
    for spec in ACTIONS.values():
        for rule in spec.order:
            assert {rule.first, rule.then, rule.when} - {SELF, None} <= names, (spec.name, rule)
    assert [s.name for s in ACTIONS.values() if s.verifies_original] == ["verify_clock_current"]
    assert [s.name for s in ACTIONS.values() if s.records] == ["capture_time_config"]
