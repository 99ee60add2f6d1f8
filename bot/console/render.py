"""Reply → plain text for a terminal (and for logs and tests)."""

from __future__ import annotations

from bot.chat.reply import Button, Reply, Section, Table


def render_table(table: Table, indent: str = "  ") -> list[str]:
    if not table.rows:
        return [f"{indent}(none)"]
    widths = [len(c) for c in table.columns]
    for row in table.rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: tuple[str, ...]) -> str:
        return (indent + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells))).rstrip()

    out = [line(table.columns), indent + "  ".join("-" * w for w in widths)]
    out.extend(line(row) for row in table.rows)
    return out


def _buttons(buttons: tuple[Button, ...], indent: str) -> list[str]:
    return [f"{indent}[{b.label}]  type: {b.console_command}" for b in buttons]


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
    return "\n".join(lines)
