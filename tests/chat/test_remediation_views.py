"""The audit shows what each command got back from the controller, not only what was sent."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.chat.remediation_views import MAX_OUTPUT_LINES, audit_reply
from bot.console.render import render_text
from bot.store.remediation import AuditEntry

AT = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


def plain(reply: object) -> str:
    """The console rendering with its indentation removed, line by line."""
    return "\n".join(line.strip() for line in render_text(reply).splitlines())  # type: ignore[arg-type]


def command(n: int, text: str, **data: object) -> AuditEntry:
    return AuditEntry(n, AT, "command", text, request_id=1, controller="wlc-a2", step="delete_ntp", data=dict(data))


def test_each_command_is_followed_by_its_output() -> None:
    entries = [
        AuditEntry(1, AT, "vote", "approve by <@U0ALICE>", request_id=1, actor="U0ALICE"),
        command(
            2, "show running-config | include ntp", output="ntp server 192.0.2.123 prefer\nntp server 198.51.100.1"
        ),
        command(3, "configure terminal", output=""),
    ]
    reply = audit_reply(1, entries)
    text = plain(reply)
    assert "wlc-a2# show running-config | include ntp\nntp server 192.0.2.123 prefer\nntp server 198.51.100.1" in text
    assert "wlc-a2# configure terminal\n(no output)" in text
    assert len(reply.sections) == 3  # the timeline, then one block per command


def test_long_output_is_cut_and_says_so_and_errors_are_shown() -> None:
    long = "\n".join(f"AP{i:04d}  Registered" for i in range(500))
    reply = audit_reply(
        1, [command(1, "show ap summary", output=long), command(2, "no ntp server 192.0.2.1", error="session lost")]
    )
    text = plain(reply)
    assert f"AP{MAX_OUTPUT_LINES - 1:04d}" in text and "AP0499" not in text
    assert f"(output cut here: {500 - MAX_OUTPUT_LINES} more lines not shown)" in text
    assert "error: session lost" in text
    assert all(len(s.text or "") < 3000 for s in reply.sections)


def test_device_output_cannot_end_the_code_block() -> None:
    reply = audit_reply(1, [command(1, "show clock", output="```\n<!channel> 20:00:00 UTC")])
    block = reply.sections[1].text or ""
    assert block.startswith("```\n") and block.endswith("\n```") and block.count("```") == 2


def test_a_voters_words_never_ping_link_or_hide_and_a_long_reason_is_kept_whole() -> None:
    from bot.chat.remediation_views import note_reply
    from bot.remediation.service import clean_comment
    from bot.slack.render import render_messages

    cleaned = clean_comment("<!channel> see <https://evil.example|the CAB ticket> and ask <@U0BOSS>\x1b[31m")
    assert cleaned is not None and "<" not in cleaned and ">" not in cleaned and "\x1b" not in cleaned
    assert "the CAB ticket" in cleaned
    assert clean_comment("   \n\t ") is None and len(clean_comment("x" * 900) or "") == 500
    reason = "because " + "the maintenance window was moved by the CAB " * 10
    note = f"🚫 <@U0BOB> rejected the request: “{clean_comment(reason)}”. Nothing will run."
    rendered = str(render_messages(note_reply(note, "warning")))
    assert "<@U0BOB>" in rendered, "the voter is shown as a mention"
    assert (clean_comment(reason) or "")[-40:] in rendered, "the whole reason, not a header's 150 characters"
