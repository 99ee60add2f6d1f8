"""Every setting is documented twice, and nowhere else: `.env.example` and the README's table.

A setting added to bot/settings.py without a line in `.env.example` is one a
copied `.env` silently lacks (that is how CCERT_APPROVERS went missing), and
one missing from the README is one nobody knows about. The other direction
catches documentation for a setting that no longer exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import AliasChoices
from pydantic.fields import FieldInfo

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
ENV_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")


def env_names(field: FieldInfo) -> list[str]:
    """The variable names a field reads: its alias, or its alias choices (the first is the
    current name, the others older names still honoured)."""
    if field.alias:
        return [field.alias]
    if isinstance(field.validation_alias, AliasChoices):
        return [str(choice) for choice in field.validation_alias.choices]
    return []


def setting_names() -> set[str]:
    """Current names: what `.env.example` lists."""
    return {names[0] for f in Settings.model_fields.values() if (names := env_names(f))}


def all_setting_names() -> set[str]:
    """Current and older names: the README's table names both."""
    return {name for f in Settings.model_fields.values() for name in env_names(f)}


def credential_names() -> set[str]:
    """Variables the example inventory names for controller credentials (not settings, but listed)."""
    inventory = yaml.safe_load((ROOT / "inventory.example.yaml").read_text(encoding="utf-8"))
    return {v for entry in inventory["credentials"].values() for v in entry.values()}


def env_example() -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        match = ENV_LINE.match(line)
        if match:
            assert match.group(1) not in entries, f"{match.group(1)} is listed twice in .env.example"
            entries[match.group(1)] = match.group(2)
    return entries


def readme_table_names() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
    return names


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    listed = set(env_example()) - credential_names()
    assert setting_names() - listed == set(), "settings missing from .env.example"
    assert listed - setting_names() == set(), ".env.example lists variables that are not settings"


def test_env_example_shows_each_default() -> None:
    """A commented-out `# NAME=value` line is the default: reading it must give the default."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    commented = {m.group(1): m.group(2) for line in text if (m := ENV_LINE.match(line)) and line.startswith("#")}
    fields = {env_names(f)[0]: f for f in Settings.model_fields.values() if env_names(f)}
    for name, value in commented.items():
        field = fields[name]
        if field.default is None:
            assert value == "", f"{name} has no default but .env.example shows '{value}'"
            continue
        parsed = Settings(_env_file=None, **{name: value})  # type: ignore[call-arg]
        attribute = next(k for k, f in Settings.model_fields.items() if env_names(f)[:1] == [name])
        assert getattr(parsed, attribute) == field.default, f"{name}: .env.example shows '{value}'"


def test_env_example_gives_each_setting_a_meaning() -> None:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        match = ENV_LINE.match(line)
        if not match or match.group(1) in credential_names():
            continue
        above = lines[number - 1] if number else ""
        assert above.startswith("#") and not ENV_LINE.match(above), f"{match.group(1)}: no comment line above it"


def test_readme_table_lists_every_setting_and_nothing_else() -> None:
    documented = readme_table_names()
    assert all_setting_names() - documented == set(), "settings missing from the README's Configuration table"
    assert documented - all_setting_names() == set(), "README documents variables that are not settings"
