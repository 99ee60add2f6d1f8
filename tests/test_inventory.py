"""The inventory is the contract other tools rely on: every problem, with its line."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.controllers.platforms import registry
from bot.domain.models import Platform
from bot.inventory import InventoryError
from bot.inventory_file import load_inventory, missing_environment, parse_inventory
from tests.fake_platform import PLATFORM as ACME

ROOT = Path(__file__).resolve().parents[1]


def test_example_inventory_is_valid_and_complete() -> None:
    inventory = load_inventory(ROOT / "inventory.example.yaml")
    site = inventory.site("site-a")
    assert site is not None
    assert site.channel == "C0123456789"
    assert [(c.name, c.port, c.platform) for c in site.controllers] == [
        ("wlc-a1", 2201, Platform.AIREOS),
        ("wlc-a2", 2202, Platform.IOSXE),
    ]
    assert site.controllers[0].credentials.username_env == "CCERT_SSH_USERNAME"


def test_port_defaults_to_22() -> None:
    inventory = parse_inventory(
        textwrap.dedent("""\
        sites:
          s1:
            channel: C0123456789
            controllers:
              - {name: w1, host: 10.1.1.10, platform: iosxe, credentials: d}
        credentials:
          d: {username_env: U, password_env: P}
        """)
    )
    assert inventory.controllers()[0].port == 22


def test_every_problem_is_reported_with_its_line() -> None:
    text = textwrap.dedent("""\
        sites:
          site-a:
            channel: not-a-channel
            controllers:
              - name: wlc-a1
                host: 10.1.1.10
                port: 70000
                platform: nxos
                credentials: missing
              - name: wlc-a1
                host: "bad host!"
                platform: aireos
                credentials: default
          All:
            controllers: []
        credentials:
          default:
            username_env: admin password
            password_env: CCERT_SSH_PASSWORD
        """)
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text, "inv.yaml")
    rendered = [str(p) for p in caught.value.problems]
    joined = "\n".join(rendered)
    assert "inv.yaml:3: site 'site-a': channel 'not-a-channel' is not a Slack channel ID" in joined
    assert "inv.yaml:7: controller 'wlc-a1': port must be a number from 1 to 65535" in joined
    assert "inv.yaml:8: controller 'wlc-a1': platform 'nxos' is not one of aireos, iosxe" in joined
    assert "inv.yaml:11: controller 'wlc-a1': host 'bad host!' is not an IP address or host name" in joined
    assert "inv.yaml:14: site 'All'" in joined
    assert "inv.yaml:15: site 'All': `controllers` must be a non-empty list" in joined
    assert "inv.yaml:18: credentials 'default' username_env: 'admin password' is not an environment variable" in joined
    assert len(rendered) >= 7


def test_duplicate_controller_names_and_endpoints_are_refused() -> None:
    text = textwrap.dedent("""\
        sites:
          a:
            controllers:
              - {name: w1, host: 10.0.0.1, platform: aireos, credentials: d}
          b:
            controllers:
              - {name: w1, host: 10.0.0.2, platform: aireos, credentials: d}
              - {name: w2, host: 10.0.0.1, port: 22, platform: aireos, credentials: d}
        credentials:
          d: {username_env: U, password_env: P}
        """)
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text, "inv.yaml")
    messages = [str(p) for p in caught.value.problems]
    assert messages == [
        "inv.yaml:7: controller 'w1' is already defined at line 4: names must be unique across sites",
        "inv.yaml:8: controller 'w2': 10.0.0.1:22 is already controller 'w1'",
    ]


def test_broken_yaml_names_the_line() -> None:
    with pytest.raises(InventoryError) as caught:
        parse_inventory("sites:\n  a: [\n", "inv.yaml")
    (problem,) = caught.value.problems
    assert problem.file == "inv.yaml" and problem.line is not None
    assert "not valid YAML" in problem.message


def test_missing_file_is_a_clear_problem(tmp_path: Path) -> None:
    with pytest.raises(InventoryError) as caught:
        load_inventory(tmp_path / "nope.yaml")
    assert "file not found" in str(caught.value)


def test_credentials_resolve_only_from_named_variables() -> None:
    inventory = load_inventory(ROOT / "inventory.example.yaml")
    creds = inventory.credentials["default"]
    assert creds.resolve({"CCERT_SSH_USERNAME": "u", "CCERT_SSH_PASSWORD": "p"}) == ("u", "p")
    with pytest.raises(InventoryError) as caught:
        creds.resolve({"CCERT_SSH_USERNAME": "u"})
    assert "CCERT_SSH_PASSWORD" in str(caught.value)
    (missing,) = missing_environment(inventory, {"CCERT_SSH_USERNAME": "u"})
    assert "CCERT_SSH_PASSWORD is not set" in missing.message
    # the line that names the variable, so the operator knows where it is used
    lines = (ROOT / "inventory.example.yaml").read_text().splitlines()
    assert missing.line is not None and "password_env: CCERT_SSH_PASSWORD" in lines[missing.line - 1]


def test_a_non_utf8_inventory_is_a_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_bytes(b"sites:\n  a:\n    channel: caf\xe9\n")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    (problem,) = caught.value.problems
    assert problem.line == 3 and "not UTF-8" in problem.message and "0xe9" in problem.message


# ---------------------------------------------------------------- platforms come from the registry

ONE_CONTROLLER = """\
sites:
  lab:
    controllers:
      - name: w1
        host: 192.0.2.10
        platform: {platform}
        credentials: d
credentials:
  d: {{username_env: U, password_env: P}}
"""


@pytest.fixture
def acme() -> Iterator[None]:
    """The made-up "acme" platform of `tests/fake_platform/`, registered for one test."""
    registry.register(ACME)
    yield
    registry.unregister(ACME.name)


def _inventory_file(tmp_path: Path, platform: str) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(ONE_CONTROLLER.format(platform=platform), encoding="utf-8")
    return path


def test_an_unknown_platform_fails_at_load_with_its_line_and_the_known_names(tmp_path: Path) -> None:
    path = _inventory_file(tmp_path, "nokia")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:6: controller 'w1': platform 'nokia' is not one of aireos, iosxe"
    ]
    # A platform package not registered is as unknown as a typo: never a fallback.
    with pytest.raises(InventoryError, match=r"inventory\.yaml:6: controller 'w1': platform 'acme' is not one of"):
        load_inventory(_inventory_file(tmp_path, "acme"))


def test_a_platform_registered_by_a_test_is_accepted_by_the_loader(acme: None, tmp_path: Path) -> None:
    inventory = load_inventory(_inventory_file(tmp_path, "acme"))
    controller = inventory.controller("w1")
    assert controller is not None and controller.platform == "acme"
    assert registry.get(controller.platform) is ACME
    # ...and the known names the message lists are the registry's, acme included.
    with pytest.raises(InventoryError) as caught:
        load_inventory(_inventory_file(tmp_path, "nokia"))
    assert str(caught.value).endswith(":6: controller 'w1': platform 'nokia' is not one of acme, aireos, iosxe")
