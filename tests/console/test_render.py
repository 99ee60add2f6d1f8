"""The console rendering shows everything a Slack message would, as text."""

from __future__ import annotations

from bot.chat.reply import Button, Field, Reply, Section, Table
from bot.console.render import render_table, render_text


def test_table_columns_align_and_keep_every_row() -> None:
    table = Table(("AP", "Model"), (("CAP3702E.4CD4", "AIR-CAP3702I-E-K9"), ("ap2", "C9120AXI-E")))
    lines = render_table(table, indent="")
    assert lines[0].index("Model") == lines[2].index("AIR-CAP3702I-E-K9") == lines[3].index("C9120AXI-E")
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert len(lines) == 4


def test_reply_renders_fields_text_table_and_buttons_as_typed_commands() -> None:
    reply = Reply(
        title="site-a: stuck",
        text="2 controllers",
        sections=(
            Section(
                title="wlc-a1",
                fields=(Field("Software", "8.10.162.0"), Field("NTP", "none")),
                text="➡️ run the time-back playbook",
                table=Table(("Stuck AP",), (("ap1",),)),
                buttons=(
                    Button("Request time-back", "timeback_request", "site-a/wlc-a1", "/ccert remediate site-a wlc-a1"),
                ),
            ),
        ),
        footer="Read-only check",
    )
    text = render_text(reply)
    for expected in (
        "site-a: stuck",
        "Software  8.10.162.0",
        "NTP       none",
        "➡️ run the time-back playbook",
        "Stuck AP",
        "ap1",
        "[Request time-back]  type: /ccert remediate site-a wlc-a1",
        "Read-only check",
    ):
        assert expected in text
    assert text.index("wlc-a1") < text.index("ap1") < text.index("Read-only check")


def test_the_console_never_writes_a_control_character_but_the_newline() -> None:
    """Controller output and inventory names reach the terminal too: an ESC or BEL in them
    must not retitle the window or clear the screen, whoever put it there."""
    reply = Reply(
        title="site-a\x1b]0;owned\x07: stuck",
        text="line one\r\nline\ttwo\x1b[2J",
        sections=(
            Section(
                title="wlc-\u202ea1",
                fields=(Field("Soft\x00ware", "8.10\x9b31m"),),
                table=Table(("AP", "Model"), (("ap\x1b[31m1", "C9120\tAXI"), ("ap2", "AIR\nCAP"))),
            ),
        ),
        footer="end\x7f\u0085",
    )
    text = render_text(reply)
    controls = [c for c in text if c != "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u202e\u0085")]
    assert controls == []
    assert "site-a]0;owned: stuck" in text and "line    two[2J" in text and "wlc-a1" in text
    table = text.splitlines()[-6:-2]
    assert table[0].index("Model") == table[2].index("C9120 AXI"), "cleaned cells still line up"
    assert "AIR CAP" in text


def test_plain_replies_render_unchanged() -> None:
    reply = Reply(title="✅ site-a: ok — nothing to do", text="2 controllers · 40 APs read\n⚠️ check NTP")
    assert render_text(reply) == "✅ site-a: ok — nothing to do\n2 controllers · 40 APs read\n⚠️ check NTP"
