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
                buttons=(Button("Request time-back", "timeback_request", "site-a/wlc-a1",
                                "/ccert remediate site-a wlc-a1"),),
            ),
        ),
        footer="Read-only check",
    )
    text = render_text(reply)
    for expected in ("site-a: stuck", "Software  8.10.162.0", "NTP       none", "➡️ run the time-back playbook",
                     "Stuck AP", "ap1", "[Request time-back]  type: /ccert remediate site-a wlc-a1",
                     "Read-only check"):
        assert expected in text
    assert text.index("wlc-a1") < text.index("ap1") < text.index("Read-only check")
