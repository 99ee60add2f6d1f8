"""Reply → Block Kit: every message within Slack's limits, nothing lost, nothing doubled.

The Block Kit checker used as the oracle (`block_kit_problems`) lives in the
fake Slack and is written independently of the renderer, from Slack's
documented limits.
"""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.chat.reply import Button, Field, Level, Reply, Section, Table
from bot.slack import render
from bot.slack.render import (
    LEVEL_EMOJI,
    MAX_BLOCKS,
    escape_mrkdwn,
    render_messages,
)
from tests.support.fake_slack import block_kit_problems

AP_NAME = re.compile(r"ap-\d{5}")


def _texts(block: dict) -> list[str]:
    out: list[str] = []
    if isinstance(block.get("text"), dict):
        out.append(block["text"]["text"])
    out += [f["text"] for f in block.get("fields", [])]
    out += [e["text"] for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    out += [e["text"]["text"] for e in block.get("elements", []) if isinstance(e.get("text"), dict)]
    return out


def _assert_within_limits(messages: list[dict]) -> None:
    assert messages, "at least one message"
    for message in messages:
        assert 1 <= len(message["blocks"]) <= MAX_BLOCKS
        assert 0 < len(message["text"]) <= 3000
        assert block_kit_problems(message) == [], block_kit_problems(message)
        for block in message["blocks"]:
            for text in _texts(block):
                assert len(text) <= 3000


def _big_reply(n: int) -> Reply:
    rows = tuple((f"ap-{i:05d}", "AIR-AP2802I-B-K9", f"wlc-{i % 9}", "Downloading", "17.9.4a") for i in range(n))
    return Reply(
        title="site-a: CSCwd80290 affects 6,000 APs",
        text="6,000 IOS APs are stuck *Downloading* on 9 controllers.",
        level=Level.DANGER,
        sections=(
            Section(title="Controllers", fields=tuple(Field(f"wlc-{i}", "17.9.4a, 667 APs") for i in range(9))),
            Section(title="Affected APs", table=Table(("AP", "Model", "Controller", "State", "Image"), rows)),
        ),
        buttons=(
            Button("Request time-back", "timeback_request", "site-a", "remediate site-a", style="danger"),
            Button("Refresh", "refresh", "site-a", "status site-a", style="primary"),
        ),
        footer="Read 9 controllers in 4.2 s",
    )


def test_six_thousand_ap_table_is_split_within_limits_and_complete() -> None:
    messages = render_messages(_big_reply(6000))
    assert len(messages) > 1
    _assert_within_limits(messages)
    names = [name for m in messages for b in m["blocks"] for t in _texts(b) for name in AP_NAME.findall(t)]
    assert len(names) == 6000
    assert set(names) == {f"ap-{i:05d}" for i in range(6000)}


def test_first_message_carries_summary_and_buttons_the_rest_the_table() -> None:
    first, *rest = render_messages(_big_reply(6000))
    kinds = [b["type"] for b in first["blocks"]]
    assert kinds[0] == "header"
    assert "actions" in kinds
    assert LEVEL_EMOJI[Level.DANGER] in first["blocks"][0]["text"]["text"]
    assert "6,000 IOS APs" in str(first["blocks"])
    assert not AP_NAME.search(str(first["blocks"])), "table rows belong in the thread"
    assert all(b["type"] != "actions" for m in rest for b in m["blocks"])
    assert all("(part " in m["text"] for m in rest)


def test_table_is_monospace_with_header_in_every_chunk() -> None:
    messages = render_messages(_big_reply(500))
    code = [t for m in messages for b in m["blocks"] for t in _texts(b) if t.startswith("```")]
    assert code
    for text in code:
        assert text.endswith("```")
        assert text.splitlines()[1].startswith("AP ")  # column header
        assert set(text.splitlines()[2]) <= {"-", " "}  # rule


def test_small_reply_is_one_message_with_the_table_inline() -> None:
    reply = Reply(
        title="site-b",
        sections=(Section(title="APs", table=Table(("AP", "State"), (("ap-00001", "Registered"),))),),
    )
    (message,) = render_messages(reply)
    _assert_within_limits([message])
    assert "```" in str(message["blocks"]) and "ap-00001" in str(message["blocks"])


def test_buttons_keep_ids_values_and_styles() -> None:
    reply = Reply(
        title="Request 17",
        buttons=(
            Button("Approve", "approve", "req-17", "approve 17", style="primary"),
            Button("Reject", "reject", "req-17", "reject 17", style="danger"),
            Button("Details", "details", "req-17", "show 17", style="fancy"),
        ),
    )
    (message,) = render_messages(reply)
    (actions,) = [b for b in message["blocks"] if b["type"] == "actions"]
    got = [(e["action_id"], e["value"], e.get("style"), e["text"]["text"]) for e in actions["elements"]]
    assert got == [
        ("approve", "req-17", "primary", "Approve"),
        ("reject", "req-17", "danger", "Reject"),
        ("details", "req-17", None, "Details"),  # unknown style dropped, not sent
    ]


def test_many_buttons_and_repeated_action_ids_make_valid_actions_blocks() -> None:
    buttons = tuple(Button(f"Approve {i}", "approve", f"req-{i}", f"approve {i}") for i in range(3))
    buttons += tuple(Button(f"B{i}", f"b{i}", str(i), f"b {i}") for i in range(60))
    (message,) = render_messages(Reply(title="Lots", buttons=buttons))
    _assert_within_limits([message])
    values = [e["value"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert values == [b.value for b in buttons]


def test_button_labels_are_truncated_but_values_never_are() -> None:
    long_value = "v" * 2001
    reply = Reply(
        title="t",
        buttons=(
            Button("L" * 200, "long_label", "ok", "x"),
            Button("too much", "long_value", long_value, "x"),
        ),
    )
    (message,) = render_messages(reply)
    elements = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [e["action_id"] for e in elements] == ["long_label"]
    assert len(elements[0]["text"]["text"]) == 75 and elements[0]["text"]["text"].endswith("…")
    assert render.dropped_buttons(reply.buttons) == [reply.buttons[1]]


def test_header_is_truncated_safely() -> None:
    (message,) = render_messages(Reply(title="É" * 400, level=Level.WARNING))
    header = message["blocks"][0]["text"]["text"]
    assert len(header) == 150 and header.endswith("…")
    assert header.startswith(LEVEL_EMOJI[Level.WARNING])


def test_long_text_and_many_fields_are_split() -> None:
    text = "\n".join(f"line {i} " + "x" * 90 for i in range(200))  # ~20k characters
    fields = tuple(Field(f"k{i}", "v" * 3000) for i in range(25))
    messages = render_messages(Reply(title="Long", text=text, sections=(Section(title="F", fields=fields),)))
    _assert_within_limits(messages)
    joined = "\n".join(
        b["text"]["text"] for m in messages for b in m["blocks"] if b["type"] == "section" and "text" in b
    )
    assert all(f"line {i} " in joined for i in range(200))
    field_counts = [len(b["fields"]) for m in messages for b in m["blocks"] if "fields" in b]
    assert sum(field_counts) == 25 and max(field_counts) <= 10


def test_device_text_cannot_broadcast_but_mentions_survive() -> None:
    reply = Reply(
        title="x",
        text="Approved by <@U0123ABC> & see <https://example.com|docs>",
        sections=(Section(table=Table(("AP",), (("<!channel>",), ("a&b",)))),),
    )
    body = str(render_messages(reply))
    assert "<!channel>" not in body and "&lt;!channel&gt;" in body
    assert "<@U0123ABC>" in body and "<https://example.com|docs>" in body
    assert "a&amp;b" in body
    assert escape_mrkdwn("<!here> <!subteam^S1>") == "&lt;!here&gt; &lt;!subteam^S1&gt;"


def test_backticks_in_cells_cannot_close_the_code_block() -> None:
    reply = Reply(title="x", sections=(Section(table=Table(("AP",), (("evil```name",),))),))
    code = [t for m in render_messages(reply) for b in m["blocks"] for t in _texts(b) if t.startswith("```")]
    assert all(t.count("```") == 2 for t in code)


def test_title_less_ack_shows_level_emoji_unless_info() -> None:
    (info,) = render_messages(Reply(title="", text="Checking…", ephemeral=True))
    assert info["blocks"][0]["text"]["text"] == "Checking…"
    (danger,) = render_messages(Reply(title="", text="Denied", level=Level.DANGER))
    assert danger["blocks"][0]["text"]["text"].startswith(LEVEL_EMOJI[Level.DANGER])


def test_empty_reply_still_renders_a_valid_message() -> None:
    messages = render_messages(Reply(title=""))
    _assert_within_limits(messages)


# ---------------------------------------------------------------- property test

_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=4000)
_short = st.text(min_size=1, max_size=300)


@st.composite
def _tables(draw: st.DrawFn) -> Table:
    ncols = draw(st.integers(1, 6))
    columns = tuple(draw(st.lists(_short, min_size=ncols, max_size=ncols)))
    nrows = draw(st.integers(0, 400))
    cell = st.text(max_size=80)
    rows = tuple(tuple(draw(st.lists(cell, min_size=ncols, max_size=ncols))) for _ in range(nrows))
    return Table(columns, rows)


_buttons = st.builds(
    Button,
    label=_short,
    action_id=st.sampled_from(["approve", "reject", "refresh", "x" * 255]),
    value=st.text(max_size=2100),
    console_command=st.just("x"),
    style=st.sampled_from([None, "primary", "danger", "other"]),
)

_sections = st.builds(
    Section,
    title=st.none() | _short,
    text=st.none() | _text,
    fields=st.lists(st.builds(Field, label=_short, value=_text), max_size=14).map(tuple),
    table=st.none() | _tables(),
    buttons=st.lists(_buttons, max_size=30).map(tuple),
)

_replies = st.builds(
    Reply,
    title=st.text(max_size=400),
    text=_text,
    level=st.sampled_from(list(Level)),
    sections=st.lists(_sections, max_size=6).map(tuple),
    buttons=st.lists(_buttons, max_size=30).map(tuple),
    footer=st.none() | _text,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_replies)
def test_any_reply_renders_within_slack_limits(reply: Reply) -> None:
    messages = render_messages(reply)
    _assert_within_limits(messages)
    # Every button that can be sent intact is sent, exactly once, in the first message.
    sendable = [b for s in reply.sections for b in s.buttons] + list(reply.buttons)
    sendable = [b for b in sendable if b not in render.dropped_buttons([b])]
    first_values = [e["value"] for b in messages[0]["blocks"] if b["type"] == "actions" for e in b["elements"]]
    all_values = [e["value"] for m in messages for b in m["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert all_values == [b.value for b in sendable]
    if sum(len(v) for v in first_values) == sum(len(v) for v in all_values):
        assert len(first_values) == len(sendable)


def test_device_and_syslog_text_loses_control_and_format_characters() -> None:
    from bot.chat.text import printable

    hostile = "CAP3702I\u202e.4CD4\x1b[2J\x07\tNOT YET VALID"
    reply = Reply(
        title=f"AP {hostile}",
        text=f"`{hostile}`\nsecond line",
        sections=(Section(title=hostile, table=Table(("AP",), ((hostile,),))),),
    )
    for message in render_messages(reply):
        flat = json.dumps(message, ensure_ascii=False)
        assert printable(flat) == flat, flat[:200]  # newlines are JSON-escaped here
        assert "CAP3702I.4CD4" in flat
