"""Playbooks are checked data: refused at load with file, line and reason; commands only from templates.

No SSH here: the loader, parameter validation, the command catalog with its
value validation, the dry-run from a snapshot, and redaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.controllers.platforms import registry
from bot.domain.models import ClockReading, ClockSource, ControllerSnapshot, NtpServer, Platform
from bot.remediation.actions import ACTIONS
from bot.remediation.commands import CommandValueError, ios_ntp_server_line
from bot.remediation.dryrun import dry_run, snapshot_offset
from bot.remediation.platform_ops import catalog_for
from bot.remediation.playbook_loader import (
    ParameterError,
    PlaybookError,
    load_playbook,
    parse_playbook,
    playbook_for,
)
from bot.remediation.redact import redact

GOOD = """\
name: test
description: a minimal valid playbook
platform: aireos
parameters:
  target: {type: datetime, default: auto}
  wait: {type: number, min: 1, max: 100, default: 10}
  poll: {type: number, min: 0.05, max: 10, default: 1}
steps:
  - id: record
    action: capture_time_config
  - id: check
    action: check_clock_target_safe
    args: {target: $target}
  - id: delete
    action: delete_ntp_servers
    undo: restore_ntp_servers
  - id: clock
    action: set_clock
    undo: restore_clock
  - id: wait
    action: wait_for_aps
    args: {timeout_seconds: $wait, poll_seconds: $poll}
  - id: restore
    action: restore_ntp_servers
    undo: restore_ntp_servers
  - id: save
    action: save_config
    undo: save_config
  - id: verify
    action: verify_clock_current
"""


def _problems(text: str, tmp_path: Path, name: str = "bad.yaml") -> list[tuple[int | None, str]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    assert all(p.file == str(path) for p in info.value.problems)
    return [(p.line, p.message) for p in info.value.problems]


def _swap(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize("platform", ["aireos", "iosxe"])
def test_shipped_playbooks_load_and_follow_the_tech_note(platform: str) -> None:
    playbook = playbook_for(platform)
    assert playbook.platform == platform
    assert [s.action for s in playbook.steps] == [
        "capture_time_config",
        "check_clock_target_safe",
        "delete_ntp_servers",
        "set_clock",
        "verify_clock",
        "wait_for_aps",
        "restore_ntp_servers",
        "save_config",
        "verify_clock_current",
    ]
    assert all(s.undo is not None for s in playbook.steps if s.changes_device)
    values = playbook.resolve_params({}, {"playbook_wait_seconds": 3600.0, "playbook_poll_seconds": 120.0})
    assert values["wait_timeout_seconds"] == 3600 and values["poll_interval_seconds"] == 120
    assert values["target"] == "auto"
    # settings defaults flow into parameters; explicit values win
    assert playbook.resolve_params({}, {"playbook_wait_seconds": 5.0})["wait_timeout_seconds"] == 5
    assert (
        playbook.resolve_params({"wait_timeout_seconds": 7}, {"playbook_wait_seconds": 5.0})["wait_timeout_seconds"]
        == 7
    )


def test_a_minimal_valid_playbook_loads(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    playbook = load_playbook(path)
    assert [s.id for s in playbook.steps][-1] == "verify"
    assert playbook.to_plan()["parameters"] == {"target": "datetime", "wait": "number", "poll": "number"}


def test_setting_the_clock_before_deleting_ntp_is_refused(tmp_path: Path) -> None:
    text = _swap(
        GOOD,
        """  - id: delete
    action: delete_ntp_servers
    undo: restore_ntp_servers
  - id: clock
    action: set_clock
    undo: restore_clock
""",
        """  - id: clock
    action: set_clock
    undo: restore_clock
  - id: delete
    action: delete_ntp_servers
    undo: restore_ntp_servers
""",
    )
    problems = _problems(text, tmp_path)
    assert any(line == 14 and "sets the clock while NTP is still configured" in msg for line, msg in problems), problems


def test_a_changing_step_without_undo_is_refused(tmp_path: Path) -> None:
    text = _swap(
        GOOD, "    action: delete_ntp_servers\n    undo: restore_ntp_servers\n", "    action: delete_ntp_servers\n"
    )
    problems = _problems(text, tmp_path)
    assert problems == [
        (14, "step 'delete' (delete_ntp_servers) changes the device but has no `undo` (allowed: restore_ntp_servers)")
    ]


def test_an_undo_that_cannot_undo_the_step_is_refused(tmp_path: Path) -> None:
    problems = _problems(_swap(GOOD, "undo: restore_clock", "undo: save_config"), tmp_path)
    assert problems == [(19, "step 'clock' undo: 'save_config' cannot undo this step (allowed: restore_clock)")]


def test_unknown_action_is_refused_with_its_line(tmp_path: Path) -> None:
    problems = _problems(_swap(GOOD, "action: verify_clock_current", "action: reboot_aps"), tmp_path)
    assert len(problems) == 1 and problems[0][0] == 30 and "unknown action 'reboot_aps'" in problems[0][1]


def test_free_form_cli_has_no_way_in(tmp_path: Path) -> None:
    text = _swap(GOOD, "    action: save_config\n", "    action: save_config\n    command: reload\n")
    problems = _problems(text, tmp_path)
    assert problems[0][0] == 28 and "unknown key 'command'" in problems[0][1]
    text = _swap(GOOD, "args: {target: $target}", "args: {target: $target, cli: 'reload'}")
    assert any("unknown key 'cli'" in m for _, m in _problems(text, tmp_path))


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        ("default: 10}", "default: ten}", 6, "default 'ten' is not a number"),
        ("default: 10}", "default: 500}", 6, "above the maximum 100"),
        ("min: 0.05", "min: fast", 7, "`min` must be a number"),
        ("{type: number, min: 1", "{type: duration, min: 1", 6, "type 'duration' is not one of"),
        ("default: auto}", "default: 2022-12-02T00:00:00}", 5, "has no time zone"),
        ("timeout_seconds: $wait", "timeout_seconds: 0", 22, "below the minimum 1"),
        ("timeout_seconds: $wait", "timeout_seconds: $nope", 22, "unknown parameter 'nope'"),
        ("args: {target: $target}", "args: {target: $wait}", 13, "needs a datetime, parameter 'wait' is a number"),
    ],
)
def test_bad_parameter_types_and_ranges_are_refused_with_line(
    tmp_path: Path, old: str, new: str, line: int, fragment: str
) -> None:
    problems = _problems(_swap(GOOD, old, new), tmp_path)
    assert any(p_line == line and fragment in msg for p_line, msg in problems), problems


def test_order_rules_name_the_offending_step(tmp_path: Path) -> None:
    save_first = _swap(
        GOOD,
        """  - id: save
    action: save_config
    undo: save_config
""",
        "",
    )
    save_first = _swap(
        save_first,
        """  - id: wait
""",
        """  - id: save
    action: save_config
    undo: save_config
  - id: wait
""",
    )
    problems = _problems(save_first, tmp_path)
    assert any("saves the configuration while NTP is deleted" in m for _, m in problems)
    no_restore = _swap(
        GOOD,
        """  - id: restore
    action: restore_ntp_servers
    undo: restore_ntp_servers
""",
        "",
    )
    assert any("no later restore_ntp_servers" in m for _, m in _problems(no_restore, tmp_path))
    record_late = _swap(
        GOOD,
        """  - id: record
    action: capture_time_config
""",
        "",
    )
    problems = _problems(record_late, tmp_path)
    assert any(line == 12 and "before the NTP configuration and clock are recorded" in m for line, m in problems)
    twice = GOOD + "  - id: again\n    action: verify_clock_current\n"
    assert any(line == 31 and "already runs in step 'verify'" in m for line, m in _problems(twice, tmp_path))


def test_malformed_yaml_and_missing_keys(tmp_path: Path) -> None:
    assert _problems("name: [unclosed\n", tmp_path)[0][1].startswith("not valid YAML")
    problems = _problems("name: x\nplatform: nx-os\nsteps: []\n", tmp_path)
    messages = " | ".join(m for _, m in problems)
    assert "missing `description:`" in messages and "platform 'nx-os'" in messages and "non-empty list" in messages


def test_parameters_are_validated_before_anything_runs() -> None:
    playbook = parse_playbook(GOOD, "good.yaml")
    with pytest.raises(ParameterError) as info:
        playbook.resolve_params({"wait": "60", "poll": 0, "target": "yesterday", "reboot": True})
    text = str(info.value)
    assert "unknown parameter 'reboot'" in text and "'60' is not a number" in text
    assert "below the minimum" in text and "not an ISO-8601" in text
    ok = playbook.resolve_params({"target": "2022-12-02T09:00:00+09:00"})
    assert ok["target"] == datetime(2022, 12, 2, 0, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------- commands


def test_change_templates_validate_every_value() -> None:
    aireos = catalog_for(registry.get("aireos"))
    assert aireos.render("ntp_server", index=1, address="192.0.2.1").text == "config time ntp server 1 192.0.2.1"
    for bad in (
        {"index": 4, "address": "192.0.2.1"},
        {"index": 1, "address": "192.0.2.1; reload"},
        {"index": "1 2", "address": "192.0.2.1"},
        {"index": True, "address": "192.0.2.1"},
    ):
        with pytest.raises(CommandValueError):
            aireos.render("ntp_server", **bad)
    with pytest.raises(CommandValueError):
        aireos.render("clock_set", date="12/02/22", time="00:00:00")  # dates only as datetimes, formatted by code
    ios = catalog_for(registry.get("iosxe"))
    assert (
        ios.render("ntp_server_delete_vrf", vrf="Mgmt-intf", address="2001:db8::1").text
        == "no ntp server vrf Mgmt-intf 2001:db8::1"
    )
    with pytest.raises(CommandValueError):
        ios.render("ntp_server_delete_vrf", vrf="Mgmt intf", address="192.0.2.1")
    with pytest.raises(CommandValueError):
        ios.render("no_such_template")


@pytest.mark.parametrize(
    "line",
    [
        "ntp server 192.0.2.1",
        "ntp server vrf Mgmt-intf 203.0.113.123 source GigabitEthernet0",
        "ntp server 198.51.100.123 key 1 prefer",
        "ntp server vrf Mgmt 10.0.0.1 key 1 prefer source Vlan10",
        "ntp server ip time.example.net version 4 minpoll 6 maxpoll 10 iburst",
        "ntp server 2001:db8::123 source GigabitEthernet0/0/1.100",
    ],
)
def test_recorded_ios_lines_that_are_restored_verbatim(line: str) -> None:
    assert ios_ntp_server_line(line, "t") == line


@pytest.mark.parametrize(
    "line",
    [
        "ntp server 192.0.2.1\nreload",
        "ntp server 192.0.2.1 | include x",
        "ntp peer 192.0.2.1",
        "ntp server 192.0.2.1 key 1 password x",
        "ntp server vrf bad;vrf 192.0.2.1",
        "ntp server 192.0.2.1 version 9",
        "ntp server  192.0.2.1",
        "ntp server -1.2.3",
    ],
)
def test_suspicious_recorded_lines_are_refused(line: str) -> None:
    with pytest.raises(CommandValueError):
        ios_ntp_server_line(line, "t")


def test_every_action_has_a_planner_and_changing_actions_have_undos() -> None:
    for spec in ACTIONS.values():
        assert callable(spec.run) and callable(spec.plan)
        if spec.changes_device and not spec.undo_only:
            assert spec.undo_actions and spec.undo_actions <= set(ACTIONS)


# ---------------------------------------------------------------------------------------------- time zones


def test_ios_offset_inferred_from_a_synced_clock_in_an_unknown_zone() -> None:
    now = datetime(2026, 6, 1, 12, 0, 5, tzinfo=UTC)
    clock = ClockReading(datetime(2026, 6, 1, 14, 0, 0), ClockSource.NTP, True, True, "CEST", "14:00:00 CEST")
    assert snapshot_offset(clock, Platform.IOSXE, now) == (timedelta(hours=2), "inferred from the NTP-synced clock")
    hand_set = ClockReading(datetime(2026, 6, 1, 14, 0, 0), ClockSource.MANUAL, False, False, "CEST", "")
    assert snapshot_offset(hand_set, Platform.IOSXE, now)[0] is None


def test_dry_run_lists_every_command_with_current_and_proposed() -> None:
    playbook = playbook_for("iosxe")
    snapshot = ControllerSnapshot("wlc-x", Platform.IOSXE, "h", datetime.now(UTC), software_version="17.3.4")
    snapshot.clock = ClockReading(datetime(2026, 1, 1, 9, 0, tzinfo=UTC), ClockSource.NTP, True, True, "UTC")
    snapshot.ntp_servers = [
        NtpServer("192.0.2.1", config_line="ntp server 192.0.2.1 prefer"),
        NtpServer("192.0.2.2", vrf="Mgmt-intf", config_line="ntp server vrf Mgmt-intf 192.0.2.2"),
    ]
    params = playbook.resolve_params({"target": "2022-12-02T00:00:00Z"})
    result = dry_run(playbook, snapshot, params)
    assert result.changes == [
        "configure terminal",
        "no ntp server vrf Mgmt-intf 192.0.2.2",
        "no ntp server 192.0.2.1",
        "end",
        "clock set 00:00:00 2 Dec 2022",
        "configure terminal",
        "ntp server 192.0.2.1 prefer",
        "ntp server vrf Mgmt-intf 192.0.2.2",
        "end",
        "write memory",
    ]
    assert result.lines[0] == "show version" and "show crypto pki certificates <trustpoint>" in result.lines
    assert result.current_ntp == ("ntp server 192.0.2.1 prefer", "ntp server vrf Mgmt-intf 192.0.2.2")
    assert result.proposed_clock == datetime(2022, 12, 2, tzinfo=UTC) and result.utc_offset == timedelta(0)


# ---------------------------------------------------------------------------------------------- redaction


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("ntp authentication-key 1 md5 0822455D0A16 7", "0822455D0A16"),
        ("config time ntp key-auth add 1 md5 ascii s3cret", "s3cret"),
        ("username admin privilege 15 secret 9 $9$abcdef", "$9$abcdef"),
        ("enable password 7 070C285F4D06", "070C285F4D06"),
        ("radius-server host 10.0.0.1 key 7 1234ABCD", "1234ABCD"),
        ("snmp-server community public RO", "public"),
    ],
)
def test_redaction_removes_secrets(text: str, secret: str) -> None:
    assert secret not in redact(text) and "<redacted>" in redact(text)


def test_redaction_keeps_what_is_not_secret() -> None:
    line = "ntp server 198.51.100.123 key 1 prefer"
    assert redact(line) == line


@given(text=st.text(max_size=60))
def test_property_no_value_smuggles_cli_into_a_template(text: str) -> None:
    """Whatever text reaches a template, either it is refused or the command is one line of the template's shape."""
    catalog = catalog_for(registry.get("iosxe"))
    for name, values in (
        ("ntp_server_delete", {"address": text}),
        ("ntp_server_delete_vrf", {"vrf": text, "address": "192.0.2.1"}),
        ("ntp_server_restore", {"line": text}),
    ):
        try:
            command = catalog.render(name, **values)
        except CommandValueError:
            continue
        assert not any(c in command.text for c in "\r\n|;!#\t")
        assert command.text.startswith(("no ntp server ", "ntp server "))
