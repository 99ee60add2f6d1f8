"""Playbook messages: the same message, line and set of problems as the hand-written loader gave.

The loader was rewritten on pydantic (`bot.datafile`); operators, runbooks and
the chat quote these messages, so each case here was run through the loader as
it was before the rewrite (commit e2ec733) and its output pinned. The cases in
`test_one_message_per_mistake` differ on purpose: the old loader followed a
value of the wrong shape with messages restating it on the same line (`step id
'None'`, `missing name` for a file that is not a mapping); those are dropped.

Each case edits the shipped AireOS playbook, so the lines are its lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.remediation.playbook_loader import PlaybookError, parse_playbook

SHIPPED = (Path(__file__).resolve().parents[2] / "playbooks" / "timeback-aireos.yaml").read_text()


def _problems(old: str | None, new: str) -> list[str]:
    "Every problem the loader reports for the shipped playbook with `old` replaced by `new`"
    "(None: `new` is the file)."
    if old is None:
        text = new
    else:
        assert SHIPPED.count(old) == 1, f"the edit must match the shipped playbook once: {old!r}"
        text = SHIPPED.replace(old, new)
    with pytest.raises(PlaybookError) as caught:
        parse_playbook(text, "pb.yaml")
    return sorted(str(p) for p in caught.value.problems)


def test_the_shipped_playbook_still_loads() -> None:
    assert parse_playbook(SHIPPED, "pb.yaml").name == "timeback-aireos"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "    min: 1\n    max: 86400\n    default: 3600\n",
            "    min: 10\n    max: 1\n    default: 3600\n",
            [
                "pb.yaml:25: parameter 'wait_timeout_seconds': min is greater than max",
                "pb.yaml:29: parameter 'wait_timeout_seconds': default 3600 is above the maximum 1",
                "pb.yaml:75: step 'wait_aps': argument 'timeout_seconds' refers to unknown parameter "
                "'wait_timeout_seconds'",
            ],
            id="inverted_range_with_bad_default",
        ),
        pytest.param(
            "    min: 1\n    max: 86400\n",
            "    min: fast\n    max: 86400\n",
            [
                "pb.yaml:27: parameter 'wait_timeout_seconds': `min` must be a number",
                "pb.yaml:75: step 'wait_aps': parameter 'wait_timeout_seconds' must declare a minimum "
                "within the action's range (minimum 1)",
            ],
            id="bad_min_keeps_the_parameter",
        ),
        pytest.param(
            "    type: boolean\n    default: false\n",
            "    type: boolean\n    min: 1\n    default: false\n",
            [
                "pb.yaml:23: parameter 'allow_unknown_certificate': `min` only applies to integer and "
                "number parameters",
            ],
            id="min_on_a_boolean_keeps_the_parameter",
        ),
        pytest.param(
            "name: timeback-aireos",
            "name: [timeback-aireos]",
            [
                "pb.yaml:8: name must be a single value",
            ],
            id="name_is_a_list",
        ),
        pytest.param(
            "name: timeback-aireos",
            "name:",
            [
                "pb.yaml:8: name must be a single value",
            ],
            id="name_is_empty",
        ),
        pytest.param(
            "platform: aireos",
            "platform: [aireos]",
            [
                "pb.yaml:13: platform must be a single value",
            ],
            id="platform_is_a_list",
        ),
        pytest.param(
            "platform: aireos",
            "platform: 5",
            [
                "pb.yaml:13: platform '5' is not one of aireos, iosxe",
            ],
            id="platform_is_a_number",
        ),
        pytest.param(
            "    args:\n      timeout_seconds: $wait_timeout_seconds\n      poll_seconds: $poll_interval_seconds\n",
            "    args: 5\n",
            [
                "pb.yaml:74: step 'wait_aps' args must be a mapping",
                "pb.yaml:74: step 'wait_aps': missing argument 'poll_seconds'",
                "pb.yaml:74: step 'wait_aps': missing argument 'timeout_seconds'",
            ],
            id="args_not_a_mapping_name_the_step",
        ),
        pytest.param(
            "    args:\n      timeout_seconds: $wait_timeout_seconds\n      poll_seconds: $poll_interval_seconds\n",
            "    args:\n",
            [
                "pb.yaml:74: step 'wait_aps' args must be a mapping",
                "pb.yaml:74: step 'wait_aps': missing argument 'poll_seconds'",
                "pb.yaml:74: step 'wait_aps': missing argument 'timeout_seconds'",
            ],
            id="args_empty_names_the_step",
        ),
        pytest.param(
            '    title: "3. Verify the clock (show time)"',
            "    title:",
            [
                "pb.yaml:70: step title must be a single value",
            ],
            id="empty_title",
        ),
        pytest.param(
            '    title: "4. Wait until every AP is Registered"\n    args:\n      timeout_seconds: '
            "$wait_timeout_seconds",
            "    title: [a]\n    args:\n      timeout_seconds: $nope",
            [
                "pb.yaml:73: step title must be a single value",
                "pb.yaml:75: step 'wait_aps': argument 'timeout_seconds' refers to unknown parameter 'nope'",
            ],
            id="bad_title_still_checks_args",
        ),
        pytest.param(
            '    title: "3. Verify the clock (show time)"',
            '    title: "3"\n    undo: [a]',
            [
                "pb.yaml:71: step 'verify_clock' (verify_clock) changes nothing on the device: remove its `undo`",
            ],
            id="undo_on_a_step_that_changes_nothing",
        ),
        pytest.param(
            "    undo: restore_clock",
            "    undo:",
            [
                "pb.yaml:67: step 'set_clock' undo must be a single value",
            ],
            id="undo_empty",
        ),
        pytest.param(
            "    undo: restore_clock",
            "    undo: {action: restore_ntp_servers, bogus: 1}",
            [
                "pb.yaml:67: step 'set_clock' undo: 'restore_ntp_servers' cannot undo this step (allowed: "
                "restore_clock)",
                "pb.yaml:67: step 'set_clock' undo: unknown key 'bogus' (expected one of: action, args)",
            ],
            id="undo_wrong_action_and_unknown_key",
        ),
        pytest.param(
            "      tolerance_seconds: 60",
            "      tolerance_seconds:",
            [
                "pb.yaml:91: step 'verify_current': argument 'tolerance_seconds': None is not a number",
            ],
            id="empty_argument_fails_its_type",
        ),
        pytest.param(
            "  - id: set_clock\n",
            "  - id: set_clock\n    id: Other\n",
            [
                "pb.yaml:65: step: 'id' is defined twice",
            ],
            id="key_written_twice_keeps_the_first",
        ),
        pytest.param(
            "parameters:\n",
            "parameters:\n  [a]: 1\n",
            [
                "pb.yaml:15: parameters: keys must be plain names",
            ],
            id="list_as_a_key",
        ),
        pytest.param(
            "parameters:\n",
            "parameters:\n  5:\n    type: string\n    default: x\n",
            [
                "pb.yaml:15: parameter '5': names use lower-case letters, digits and '_'",
            ],
            id="parameter_named_by_a_number",
        ),
    ],
)
def test_messages_lines_and_problems_are_todays(old: str | None, new: str, expected: list[str]) -> None:
    assert _problems(old, new) == expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "  - id: record\n",
            "  - 5\n  - id: record\n",
            [
                "pb.yaml:51: step must be a mapping",
            ],
            id="step_not_a_mapping",
        ),
        pytest.param(
            None,
            "- a\n- b\n",
            [
                "pb.yaml:1: the playbook must be a mapping",
            ],
            id="root_is_a_list",
        ),
        pytest.param(
            "  - id: verify_clock\n",
            "  - id:\n",
            [
                "pb.yaml:68: step id must be a single value",
            ],
            id="empty_id",
        ),
        pytest.param(
            "    default_from: playbook_wait_seconds  # CCERT_PLAYBOOK_WAIT_MINUTES × 60",
            "    default_from:",
            [
                "pb.yaml:30: parameter 'wait_timeout_seconds' default_from must be a single value",
            ],
            id="empty_default_from",
        ),
        pytest.param(
            "    undo: restore_clock",
            "    undo: [restore_clock]",
            [
                "pb.yaml:67: step 'set_clock' undo must be a mapping",
            ],
            id="undo_a_list",
        ),
        pytest.param(
            "parameters:\n",
            "parameters:\n  p: 5\n",
            [
                "pb.yaml:15: parameter 'p' must be a mapping",
            ],
            id="parameter_not_a_mapping",
        ),
    ],
)
def test_one_message_per_mistake(old: str | None, new: str, expected: list[str]) -> None:
    """A value of the wrong shape is reported once, without follow-ons restating it on its line."""
    assert _problems(old, new) == expected
