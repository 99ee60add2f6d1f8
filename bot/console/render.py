"""Reply → plain text for a terminal (and for logs and tests).

What is written is never anything a terminal would act on: user text is
cleaned where it enters (`bot.chat.arguments`), but a reply also carries
controller output and inventory names, so the last step removes every control
and format character but the newline here too (tabs become spaces first).
"""

from __future__ import annotations

from bot.chat.reply import Button, Reply, Section, Table
from bot.chat.text import printable


def render_table(table: Table, indent: str = "  ") -> list[str]:
    if not table.rows:
        return [f"{indent}(none)"]
    # Cleaned before measuring, so a cell with an invisible character still lines up.
    columns = tuple(_cell(c) for c in table.columns)
    rows = [tuple(_cell(c) for c in row) for row in table.rows]
    widths = [len(c) for c in columns]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: tuple[str, ...]) -> str:
        return (indent + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells))).rstrip()

    out = [line(columns), indent + "  ".join("-" * w for w in widths)]
    out.extend(line(row) for row in rows)
    return out


def _cell(text: str) -> str:
    """One table cell on one line: a newline or tab inside it would break the columns."""
    return printable(text.replace("\t", " ").replace("\n", " "))


def _buttons(buttons: tuple[Button, ...], indent: str) -> list[str]:
    lines: list[str] = []
    for b in buttons:
        lines.append(f"{indent}[{b.label}]  type: {b.console_command}")
        if b.choices:
            lines.append(f"{indent}  e.g. " + " | ".join(c.label for c in b.choices[:6]))
    return lines


def _section(section: Section) -> list[str]:
    out: list[str] = []
    if section.title:
        out.append(section.title)
    width = max((len(f.label) for f in section.fields), default=0)
    for f in section.fields:
        out.append(f"  {f.label.ljust(width)}  {f.value}")
    if section.text:
        out.extend(f"  {line}" for line in section.text.splitlines())
    if section.table is not None:
        out.extend(render_table(section.table))
    out.extend(_buttons(section.buttons, "  "))
    return out


def render_text(reply: Reply) -> str:
    lines = [reply.title]
    if reply.text:
        lines.extend(reply.text.splitlines())
    for section in reply.sections:
        lines.append("")
        lines.extend(_section(section))
    if reply.buttons:
        lines.append("")
        lines.extend(_buttons(reply.buttons, ""))
    if reply.footer:
        lines.append("")
        lines.append(reply.footer)
    return terminal_safe("\n".join(lines))


def terminal_safe(text: str) -> str:
    """`text` as a terminal may show it: tabs expanded, CR and every other control or
    format character (ESC, BEL, U+202E…) removed; only newlines remain."""
    if "\t" in text:
        text = text.expandtabs(4)
    return printable(text, keep_newlines=True)
