"""The HTTP front door end to end at the Slack edge: real Bolt app, real aiohttp
server on 127.0.0.1, real signed requests, fake Slack Web API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging

import pytest
from slack_harness import BOT_TOKEN, SIGNING_SECRET, Front, quick

from bot.chat.reply import Button, Caller, CommandResult, Level, Reply, Section, Table
from bot.slack.render import render_messages
from tests.support import slack_signing

pytestmark = pytest.mark.asyncio

ACK_LIMIT = 3.0


def _ap_table(n: int) -> Table:
    return Table(
        columns=("AP", "Model", "Controller", "State"),
        rows=tuple((f"ap-{i:05d}", "AIR-AP2802I-B-K9", f"wlc-{i % 3}", "Downloading") for i in range(n)),
    )


async def test_health_endpoint_answers(front: Front) -> None:
    async with front.session.get(front.url.replace("/slack/events", "/healthz")) as response:
        assert response.status == 200
        assert await response.text() == "ok"


async def test_slash_command_acks_then_posts_follow_up_in_channel(front: Front) -> None:
    final = Reply(
        title="site-a: 2 APs stuck",
        text="Two IOS APs are stuck *Downloading*.",
        level=Level.WARNING,
        buttons=(Button("Fix site-a", "fix", "site-a", "fix site-a", style="danger"),),
    )

    async def script(text: str, caller: Caller) -> CommandResult:
        return quick(Reply(title="", text="Checking site-a…", ephemeral=True), final)

    front.dispatcher.on_dispatch = script
    status, body, elapsed = await front.command("status site-a", user_id="U42", user_name="bob", channel_id="C9")

    assert status == 200 and elapsed < ACK_LIMIT
    assert isinstance(body, dict)
    assert body["response_type"] == "ephemeral"
    assert "Checking site-a" in body["blocks"][0]["text"]["text"]
    # The dispatcher saw the text and who asked.
    ((text, caller),) = front.dispatcher.commands
    assert text == "status site-a"
    assert (caller.user_id, caller.channel_id, caller.user_name) == ("U42", "C9", "bob")

    (post,) = await front.fake.wait_for("chat.postMessage", 1)
    assert post.body["channel"] == "C9"
    assert "thread_ts" not in post.body
    assert post.blocks == render_messages(final)[0]["blocks"]
    button = post.blocks[-1]["elements"][0]
    assert (button["action_id"], button["value"], button["style"]) == ("fix", "site-a", "danger")
    # Authenticated with the bot token, which the fake never records in clear.
    assert post.token == BOT_TOKEN
    assert BOT_TOKEN not in str(post.headers)


async def test_public_ack_is_in_channel(front: Front) -> None:
    async def script(text: str, caller: Caller) -> CommandResult:
        return CommandResult(ack=Reply(title="Help", text="`/ccert status <site>`"))

    front.dispatcher.on_dispatch = script
    status, body, _ = await front.command("help")
    assert status == 200 and isinstance(body, dict)
    assert body["response_type"] == "in_channel"
    assert body["blocks"][0]["type"] == "header"


async def test_ack_is_fast_even_when_follow_up_takes_ten_seconds(front: Front) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def slow() -> Reply:
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return Reply(title="never")

    async def script(text: str, caller: Caller) -> CommandResult:
        return CommandResult(ack=Reply(title="", text="Polling 40 controllers…", ephemeral=True), follow_up=slow)

    front.dispatcher.on_dispatch = script
    status, body, elapsed = await front.command("status all")
    assert status == 200
    assert elapsed < ACK_LIMIT, f"ack took {elapsed:.2f}s"
    assert isinstance(body, dict) and "Polling" in body["text"]
    async with asyncio.timeout(2):
        await started.wait()  # the follow-up really runs in the background
    assert len(front.bot.tasks) == 1
    assert front.fake.calls_to("chat.postMessage") == []
    # Shutdown cancels it rather than leaving it dangling.
    await front.server.stop()
    assert cancelled.is_set()
    assert len(front.bot.tasks) == 0


async def test_ephemeral_follow_up_goes_to_the_user_only(front: Front) -> None:
    async def script(text: str, caller: Caller) -> CommandResult:
        return quick(
            Reply(title="", text="Checking…", ephemeral=True),
            Reply(title="Not allowed", text="You are not in the approvers group.", level=Level.DANGER, ephemeral=True),
        )

    front.dispatcher.on_dispatch = script
    await front.command("fix site-a", user_id="U7", channel_id="C1")
    (call,) = await front.fake.wait_for("chat.postEphemeral", 1)
    assert (call.body["channel"], call.body["user"]) == ("C1", "U7")
    assert "approvers" in str(call.blocks)
    assert front.fake.calls_to("chat.postMessage") == []


async def test_split_follow_up_threads_under_the_first_message(front: Front) -> None:
    final = Reply(
        title="site-b: 6,000 APs",
        text="Every AP on site-b.",
        sections=(Section(title="Stuck APs", table=_ap_table(6000)),),
        buttons=(Button("Fix", "fix", "site-b", "fix site-b", style="danger"),),
    )
    expected = render_messages(final)
    assert len(expected) > 2

    async def script(text: str, caller: Caller) -> CommandResult:
        return quick(Reply(title="", text="Listing…", ephemeral=True), final)

    front.dispatcher.on_dispatch = script
    await front.command("aps site-b", channel_id="C2")
    posts = await front.fake.wait_for("chat.postMessage", len(expected), timeout=15)
    first, *rest = posts
    assert "thread_ts" not in first.body
    assert first.blocks == expected[0]["blocks"]
    assert any(b["type"] == "actions" for b in first.blocks)
    assert all(p.body["thread_ts"] == first.response["ts"] for p in rest)
    assert [p.blocks for p in rest] == [m["blocks"] for m in expected[1:]]
    everything = "".join(str(p.blocks) for p in posts)
    assert all(everything.count(f"ap-{i:05d}") == 1 for i in range(0, 6000, 97))


async def test_follow_up_failure_posts_a_friendly_note_without_details(
    front: Front, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom() -> Reply:
        raise RuntimeError("ssh password hunter2 rejected by wlc-1")

    async def script(text: str, caller: Caller) -> CommandResult:
        return CommandResult(ack=Reply(title="", text="Checking…", ephemeral=True), follow_up=boom)

    front.dispatcher.on_dispatch = script
    with caplog.at_level(logging.ERROR):
        await front.command("status site-a", user_id="U5", channel_id="C5")
        (note,) = await front.fake.wait_for("chat.postEphemeral", 1)
    assert "hunter2" not in str(note.body)
    assert "went wrong" in str(note.blocks)
    assert "hunter2" in caplog.text  # the operator still gets the details


async def test_dispatch_crash_still_acks_with_a_note(front: Front) -> None:
    async def script(text: str, caller: Caller) -> CommandResult:
        raise ValueError("token xoxb-leak in a message")

    front.dispatcher.on_dispatch = script
    status, body, elapsed = await front.command("status site-a")
    assert status == 200 and elapsed < ACK_LIMIT
    assert isinstance(body, dict) and body["response_type"] == "ephemeral"
    assert "xoxb" not in str(body)
    assert "went wrong" in str(body)


@pytest.mark.parametrize("front_options", [{"ack_budget": 0.3}])
async def test_slow_dispatch_gets_a_placeholder_ack_then_the_answer(front: Front) -> None:
    async def script(text: str, caller: Caller) -> CommandResult:
        await asyncio.sleep(1.0)
        return quick(Reply(title="Late ack", text="sorry I was slow"), Reply(title="Late result", text="done"))

    front.dispatcher.on_dispatch = script
    status, body, elapsed = await front.command("status site-a")
    assert status == 200 and elapsed < 1.0
    assert isinstance(body, dict) and "Working on it" in body["text"]
    posts = await front.fake.wait_for("chat.postMessage", 2, timeout=5)
    assert "Late ack" in posts[0].body["text"] and "Late result" in posts[1].body["text"]


async def test_rate_limited_post_is_retried_after_retry_after(front: Front) -> None:
    front.fake.fail_next("chat.postMessage", times=1, status=429, retry_after=1)
    await front.command("status site-a")
    first, second = await front.fake.wait_for("chat.postMessage", 2, timeout=8)
    assert second.at - first.at >= 1.0, "Retry-After: 1 was not honoured"
    assert first.body["blocks"] == second.body["blocks"]


async def test_retries_are_bounded(front: Front, caplog: pytest.LogCaptureFixture) -> None:
    front.fake.fail_next("chat.postMessage", times=10, status=429, retry_after=0)
    with caplog.at_level(logging.ERROR):
        await front.command("status site-a")
        await front.fake.wait_for("chat.postMessage", 4, timeout=10)
        assert await front.bot.tasks.wait_idle(10)
    assert len(front.fake.calls_to("chat.postMessage")) == 4  # one try + 3 retries
    assert "ratelimited" in caplog.text
    # The user is told (ephemerally) that posting failed.
    (note,) = front.fake.calls_to("chat.postEphemeral")
    assert "went wrong" in str(note.blocks)


async def test_channel_the_bot_cannot_post_in_falls_back_to_response_url(front: Front) -> None:
    front.fake.unknown_channels.add("D123")
    await front.command("status site-a", channel_id="D123")
    (answer,) = await front.fake.wait_for("response_url", 1)
    assert answer.body["response_type"] == "in_channel"
    assert "Result of status site-a" in answer.body["text"]


@pytest.mark.parametrize("variant", ["bad", "stale", "unsigned"])
async def test_bad_or_stale_signature_is_refused_and_nothing_dispatched(front: Front, variant: str) -> None:
    good_command = slack_signing.slash_command(SIGNING_SECRET, "fix site-a")
    good_click = slack_signing.block_actions(SIGNING_SECRET, "approve", "req-1")
    for good in (good_command, good_click):
        if variant == "bad":
            request = slack_signing.bad_signature(good)
        elif variant == "stale":
            request = slack_signing.stale(good, SIGNING_SECRET)
        else:
            request = slack_signing.unsigned(good)
        status, _, _ = await front.send(request)
        assert status == 401
    await asyncio.sleep(0.1)
    assert front.dispatcher.commands == [] and front.dispatcher.actions == []
    assert front.fake.calls == []


async def test_button_click_acks_and_answers_in_the_thread(front: Front) -> None:
    status, body, elapsed = await front.click(
        "approve", "req-17", user_id="U9", channel_id="C3", message_ts="1700000000.000100"
    )
    assert status == 200 and elapsed < ACK_LIMIT
    assert body == ""
    (ack_post,) = await front.fake.wait_for("chat.postMessage", 1)
    assert ack_post.body["thread_ts"] == "1700000000.000100"
    assert "Recording your click" in ack_post.body["text"]
    (update,) = await front.fake.wait_for("chat.update", 1)
    assert update.body["channel"] == "C3"
    assert update.body["ts"] == ack_post.response["ts"]
    assert "approve done" in update.body["text"]
    ((action_id, value, caller),) = front.dispatcher.actions
    assert (action_id, value, caller.user_id, caller.channel_id) == ("approve", "req-17", "U9", "C3")


async def test_button_refusal_is_ephemeral_and_outside_the_thread(front: Front) -> None:
    async def refuse(key: str, caller: Caller) -> CommandResult:
        return CommandResult(
            ack=Reply(title="Not allowed", text="Only approvers can approve.", level=Level.DANGER, ephemeral=True)
        )

    front.dispatcher.on_action = refuse
    await front.click("approve", "req-3", user_id="U8", channel_id="C4", message_ts="1700000000.000200")
    (note,) = await front.fake.wait_for("chat.postEphemeral", 1)
    assert (note.body["user"], note.body["channel"]) == ("U8", "C4")
    assert "thread_ts" not in note.body
    assert front.fake.calls_to("chat.postMessage") == []


async def test_button_in_a_thread_answers_in_that_thread(front: Front) -> None:
    await front.click("approve", "req-4", message_ts="1700000000.000300", thread_ts="1700000000.000001")
    (post,) = await front.fake.wait_for("chat.postMessage", 1)
    assert post.body["thread_ts"] == "1700000000.000001"


async def test_app_mention_gets_a_help_pointer_in_thread(front: Front) -> None:
    event = {
        "type": "app_mention",
        "user": "U1",
        "text": "<@UBOT> hi",
        "ts": "1700000001.000100",
        "channel": "C6",
        "event_ts": "1700000001.000100",
    }
    status, _, _ = await front.send(slack_signing.event_callback(SIGNING_SECRET, event))
    assert status == 200
    (post,) = await front.fake.wait_for("chat.postMessage", 1)
    assert post.body["thread_ts"] == "1700000001.000100"
    assert "/ccert help" in post.body["text"]
    assert front.dispatcher.commands == []


async def test_home_tab_is_published(front: Front) -> None:
    event = {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home", "event_ts": "1700000001.000200"}
    status, _, _ = await front.send(slack_signing.event_callback(SIGNING_SECRET, event))
    assert status == 200
    (call,) = await front.fake.wait_for("views.publish", 1)
    assert call.body["user_id"] == "U1" and call.body["view"]["type"] == "home"


@pytest.mark.parametrize("front_options", [{"access": "status=*; remediate=S0APPROVE,U0BOSS"}])
async def test_caller_carries_the_user_groups_named_in_access_rules(front: Front) -> None:
    front.fake.usergroups["S0APPROVE"] = ["U0USER", "U0OTHER"]
    await front.command("fix site-a", user_id="U0USER")
    await front.command("fix site-a", user_id="U0NOBODY")
    (_, alice), (_, nobody) = front.dispatcher.commands
    assert alice.groups == ("S0APPROVE",)
    assert nobody.groups == ()
    assert len(front.fake.calls_to("usergroups.users.list")) == 1  # cached


async def test_secrets_never_reach_the_logs(front: Front, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        front.fake.fail_next("chat.postMessage", times=1, status=429, retry_after=0)
        await front.command("status site-a")
        await front.click("approve", "req-1")
        await front.fake.wait_for("chat.update", 1)
        await front.bot.tasks.wait_idle(5)
        await front.send(slack_signing.bad_signature(slack_signing.slash_command(SIGNING_SECRET, "x")))
    assert caplog.records, "expected some logging to inspect"
    assert BOT_TOKEN not in caplog.text
    assert SIGNING_SECRET not in caplog.text
