"""The README's `/ccert` table is what the registry prints: a command added, renamed or
reworded without the README (or the other way round) fails here."""

from __future__ import annotations

from pathlib import Path

from bot.chat.commands import REGISTRY, readme_table

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "### In Slack (and the console)\n"


def _readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(HEADING) + len(HEADING) :]
    start = section.index("| `/ccert …` |")
    return section[start : section.index("\n\n", start)]


def test_the_readme_command_table_is_the_registrys() -> None:
    assert _readme_table() == readme_table(), (
        "README.md's /ccert table drifted from the registry; print the table with\n"
        '  python -c "from bot.chat.commands import readme_table; print(readme_table())"\n'
        "and paste it under '### In Slack (and the console)'"
    )


def test_every_command_has_one_row_and_one_help_line() -> None:
    rows = _readme_table().splitlines()[2:]
    assert [row.split("`")[1].split()[0] for row in rows] == list(REGISTRY)
    assert len(REGISTRY.help_lines()) == len(REGISTRY)
