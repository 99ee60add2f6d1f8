"""Every YAML file the bot reads has a schema, and every mistake is reported at its `file:line`.

One table per file kind: a wrong type, a missing key, an unknown key and a bad
value, each with the line it must point at. Then the shipped files, which must
all validate (a broken one would stop the bot at start, or a test here first).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.controllers.platforms import PlatformDataError, parse_platform_definition, registry
from bot.datafile import DataFileError, Strict, load, parse_yaml
from bot.domain.advisory_file import AdvisoryDataError, load_advisory
from bot.domain.models import Platform
from bot.inventory import InventoryError
from bot.inventory_file import load_inventory, parse_inventory
from bot.remediation.commands import ChangesDataError, parse_catalog_text
from bot.remediation.platform_ops import catalog_for
from bot.remediation.playbook_loader import PlaybookError, load_playbook, parse_playbook
from bot.simulator.scenario import Scenario, builtin_defaults
from bot.syslog.signatures import SignatureError, default_signatures, load_signatures

ROOT = Path(__file__).resolve().parents[1]
PLATFORMS = (Platform.AIREOS, Platform.IOSXE)
ADVISORY = ROOT / "bot" / "domain" / "data" / "advisory.yaml"


def _lines(error: Exception) -> list[str]:
    return str(error).splitlines()


# ---------------------------------------------------------------------------
# The loader itself
# ---------------------------------------------------------------------------


class _Pair(Strict):
    name: str
    port: int = 22


def test_errors_point_at_the_key_or_value_they_are_about() -> None:
    doc = parse_yaml("name: a\nport:\n  - 1\ncolour: red\n", "f.yaml")
    with pytest.raises(DataFileError) as caught:
        load(_Pair, doc)
    assert _lines(caught.value) == [
        "f.yaml:2: port must be a whole number (not a list)",
        "f.yaml:4: the file: unknown key 'colour' (expected one of: name, port)",
    ]


def test_a_missing_key_points_at_the_entry_that_lacks_it() -> None:
    doc = parse_yaml("items:\n  - port: 1\n", "f.yaml")

    class _Items(Strict):
        items: list[_Pair]

    with pytest.raises(DataFileError) as caught:
        load(_Items, doc)
    assert _lines(caught.value) == ["f.yaml:2: items[0]: missing `name`"]


def test_a_key_written_twice_is_a_problem_not_a_silent_overwrite() -> None:
    doc = parse_yaml("name: a\nname: b\n", "f.yaml")
    with pytest.raises(DataFileError) as caught:
        load(_Pair, doc)
    assert _lines(caught.value) == ["f.yaml:2: the file: 'name' is defined twice"]


def test_the_safe_loader_semantics_are_kept() -> None:
    with pytest.raises(DataFileError) as caught:
        parse_yaml("name: !!python/object/apply:os.system ['true']\n", "f.yaml")
    (problem,) = caught.value.problems
    assert problem.line == 1 and problem.message.startswith("not valid YAML")
    merged = parse_yaml("base: &b {port: 2}\nother:\n  <<: *b\n  name: x\n", "f.yaml")
    assert merged.data["other"] == {"port": 2, "name": "x"}


def test_text_scalars_keep_what_was_written() -> None:
    doc = parse_yaml("version: 8.10\nport: 022\nempty:\n", "f.yaml", scalars_as_text=True)
    assert doc.data == {"version": "8.10", "port": "022", "empty": None}


# ---------------------------------------------------------------------------
# One table per file kind: wrong type, missing key, unknown key, bad value
# ---------------------------------------------------------------------------

INVENTORY = """\
sites:
  site-a:
    channel: C0123456789
    controllers:
      - name: wlc-a1
        host: 10.0.0.1
        platform: aireos
        credentials: default
credentials:
  default:
    username_env: CCERT_SSH_USERNAME
    password_env: CCERT_SSH_PASSWORD
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("host: 10.0.0.1", "host: [10.0.0.1]", "inv.yaml:6: controller host must be a single value"),
        ("        credentials: default\n", "", "inv.yaml:5: site 'site-a' controller: missing `credentials`"),
        (
            "    channel: C0123456789\n",
            "    channel: C0123456789\n    colour: red\n",
            "inv.yaml:4: site 'site-a': unknown key 'colour' (expected one of: channel, controllers)",
        ),
        ("platform: aireos", "platform: nxos", "inv.yaml:7: controller 'wlc-a1': platform 'nxos' is not one of"),
    ],
)
def test_inventory_problems_name_their_line(old: str, new: str, expected: str) -> None:
    with pytest.raises(InventoryError) as caught:
        parse_inventory(INVENTORY.replace(old, new), "inv.yaml")
    assert any(line.startswith(expected) for line in _lines(caught.value)), _lines(caught.value)


PLAYBOOK = """\
name: p
description: d
platform: aireos
parameters:
  wait: {type: number, min: 1, max: 100, default: 10}
steps:
  - id: record
    action: capture_time_config
  - id: verify
    action: verify_clock_current
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("description: d", "description: [d]", "p.yaml:2: description must be a single value"),
        ("description: d\n", "", "p.yaml:1: missing `description:`"),
        ("    action: capture_time_config\n", "    action: capture_time_config\n    when: now\n", "p.yaml:9: step:"),
        ("default: 10}", "default: 500}", "p.yaml:5: parameter 'wait': default 500 is above the maximum 100"),
    ],
)
def test_playbook_problems_name_their_line(old: str, new: str, expected: str) -> None:
    with pytest.raises(PlaybookError) as caught:
        parse_playbook(PLAYBOOK.replace(old, new), "p.yaml")
    assert any(line.startswith(expected) for line in _lines(caught.value)), _lines(caught.value)
    if "when" in new:
        assert "unknown key 'when'" in str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            '  serial: "4E78A210000000000007"',
            '  serial: ["4E78A210000000000007"]',
            ":20: image_certificate.serial must be a single value",
        ),
        ("  ap_reboot_wait_minutes: 30\n  margin", "  margin", None),
        ("margin_after_certificate_start_hours: 24", "margin_after_cert_start_hours: 24", ":35: timeback: unknown key"),
        ('default_target: "2022-12-02T00:00:00Z"', 'default_target: "Dec 2"', ":31: timeback.default_target:"),
    ],
)
def test_advisory_problems_name_their_line(tmp_path: Path, old: str, new: str, expected: str | None) -> None:
    text = ADVISORY.read_text(encoding="utf-8")
    assert old in text or expected is None
    path = tmp_path / "advisory.yaml"
    if expected is None:  # the missing key: drop a required one
        text = text.replace("  min_window_before_expiry_hours: 2\n", "")
        expected = ":29: timeback: missing `min_window_before_expiry_hours`"
    else:
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AdvisoryDataError) as caught:
        load_advisory(path)
    assert any(line.startswith(f"{path}{expected}") for line in _lines(caught.value)), _lines(caught.value)


COMMANDS = """\
scrapli_platform: cisco_iosxe
prompt: '^\\S+#$'
identity: show_version
poll:
  - {key: show_version, command: show version}
  - {key: show_clock, command: show clock, required: false}
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("required: false", "required: maybe", "c.yaml:6: poll[1].required must be true or false"),
        ("prompt: '^\\S+#$'\n", "", "c.yaml:1: the file: missing `prompt`"),
        ("command: show clock,", "command: show clock, cli: reload,", "c.yaml:6: poll[1]: unknown key 'cli'"),
        ("identity: show_version", "identity: show_uptime", "c.yaml:3: identity: 'show_uptime' is not a poll key"),
    ],
)
def test_platform_commands_problems_name_their_line(old: str, new: str, expected: str) -> None:
    assert old in COMMANDS
    with pytest.raises(PlatformDataError) as caught:
        parse_platform_definition("iosxe", COMMANDS.replace(old, new), "c.yaml")
    assert any(line.startswith(expected) for line in _lines(caught.value)), _lines(caught.value)


def test_a_poll_version_must_be_a_version() -> None:
    text = COMMANDS.replace("required: false}", 'required: false, min_version: "eight"}')
    with pytest.raises(PlatformDataError, match=r"c\.yaml:6: poll\[1\]\.min_version: 'eight' is not a software"):
        parse_platform_definition("iosxe", text, "c.yaml")


CHANGES = """\
reads:
  version: [show_version]
changes:
  clock_set:
    template: "clock set {time}"
    fields:
      time: {kind: time_hh_mm_ss}
  save:
    template: "write memory"
    timeout_seconds: 120
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("timeout_seconds: 120", "timeout_seconds: [120]", "ch.yaml:10: change 'save' timeout_seconds must be"),
        ('    template: "write memory"\n', "", "ch.yaml:8: change 'save': missing `template`"),
        (
            "timeout_seconds: 120",
            "timeout_seconds: 120\n    retries: 2",
            "ch.yaml:11: change 'save': unknown key 'retries'",
        ),
        (
            "kind: time_hh_mm_ss",
            "kind: free_text",
            "ch.yaml:7: change 'clock_set' field 'time' kind: 'free_text' is not one of",
        ),
    ],
)
def test_change_templates_problems_name_their_line(old: str, new: str, expected: str) -> None:
    assert old in CHANGES
    with pytest.raises(ChangesDataError) as caught:
        parse_catalog_text(Platform.IOSXE, CHANGES.replace(old, new), "ch.yaml")
    assert any(line.startswith(expected) for line in _lines(caught.value)), _lines(caught.value)


def test_a_template_field_must_be_declared() -> None:
    text = CHANGES.replace('"clock set {time}"', '"clock set {time} {zone}"')
    with pytest.raises(ChangesDataError, match=r"ch\.yaml:4: change 'clock_set': template fields"):
        parse_catalog_text(Platform.IOSXE, text, "ch.yaml")


SIGNATURES = """\
version: 1
signatures:
  - id: a
    kind: failure
    severity: critical
    pattern: 'IMAGE FAIL'
    meaning: m
    ignore_case: true
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("ignore_case: true", "ignore_case: [true]", ":8: signature 'a' ignore_case must be true or false"),
        ("    meaning: m\n", "", ":3: signature 'a': 'meaning' is required"),
        ("meaning: m", "meaning: m\n    colour: red", ":8: signature 'a': unknown key 'colour'"),
        ("severity: critical", "severity: loud", ":5: signature 'a': severity 'loud' is not one of"),
    ],
)
def test_signature_problems_name_their_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    path = tmp_path / "sigs.yaml"
    path.write_text(SIGNATURES.replace(old, new))
    with pytest.raises(SignatureError) as caught:
        load_signatures(path)
    assert any(line.startswith(f"{path}{expected}") for line in _lines(caught.value)), _lines(caught.value)


SCENARIO = """\
sites:
  - name: site-a
    controllers:
      - name: wlc-a1
        platform: iosxe
        port: 0
        aps:
          - {name: AP1, model: AIR-CAP3702I-E-K9}
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("port: 0", "port: [0]", ":6: controller 'wlc-a1' port must be a whole number"),
        ("{name: AP1, model", "{model", ":8: controller 'wlc-a1' aps[0]: missing `name`"),
        ("port: 0", "port: 0\n        colour: red", ":7: controller 'wlc-a1': unknown key 'colour'"),
        ("platform: iosxe", "platform: nexus", ":5: controller 'wlc-a1' platform: must be one of aireos, iosxe"),
    ],
)
def test_scenario_problems_name_their_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.replace(old, new))
    with pytest.raises(ValueError) as caught:
        Scenario.load(path)
    assert any(line.startswith(f"{path}{expected}") for line in _lines(caught.value)), _lines(caught.value)


# ---------------------------------------------------------------------------
# The shipped files
# ---------------------------------------------------------------------------

SHIPPED: list[tuple[str, Callable[[], object]]] = [
    ("inventory.example.yaml", lambda: load_inventory(ROOT / "inventory.example.yaml")),
    ("bot/domain/data/advisory.yaml", lambda: load_advisory(ADVISORY)),
    ("bot/syslog/signatures.yaml", default_signatures),
    ("bot/simulator/defaults.yaml", builtin_defaults),
    ("bot/simulator/scenarios/demo.yaml", Scenario.demo),
    *[(f"playbooks/{p.name}", lambda p=p: load_playbook(p)) for p in sorted((ROOT / "playbooks").glob("*.yaml"))],
    *[(f"platforms/{p}/commands.yaml", lambda p=p: registry.get(p).definition) for p in PLATFORMS],
    *[
        (f"platforms/{p}/changes.yaml", lambda p=p: catalog_for(registry.get(p)))
        for p in (Platform.AIREOS, Platform.IOSXE)
    ],
]


@pytest.mark.parametrize(("name", "load_it"), SHIPPED, ids=[name for name, _ in SHIPPED])
def test_every_shipped_data_file_validates(name: str, load_it: Callable[[], object]) -> None:
    assert load_it() is not None, name


def test_every_playbook_is_covered() -> None:
    assert len([n for n, _ in SHIPPED if n.startswith("playbooks/")]) == len(list((ROOT / "playbooks").glob("*.yaml")))
    assert len([n for n, _ in SHIPPED if n.startswith("playbooks/")]) >= 2


def test_an_inventory_file_problem_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(textwrap.dedent(INVENTORY).replace("host: 10.0.0.1", "host: '10.0.0.1 '"))
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert [(p.file, p.line) for p in caught.value.problems] == [(str(path), 6)]


def test_poll_keys_are_unique() -> None:
    text = COMMANDS.replace("key: show_clock,", "key: show_version,")
    with pytest.raises(PlatformDataError, match=r"c\.yaml:4: poll: poll keys must be unique: show_version"):
        parse_platform_definition("iosxe", text, "c.yaml")
