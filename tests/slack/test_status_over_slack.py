"""The Slack acceptance story against simulated controllers, over signed HTTP."""

from __future__ import annotations

from pathlib import Path

from tests.support.simulated_site import aireos, iosxe
from tests.support.slack_bot import CHANNEL, slack_bot


async def test_status_acks_then_posts_the_stuck_aps(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), iosxe("wlc-2")) as h:
        status, body, elapsed = await h.command("status site-t")
        assert status == 200 and elapsed < 3
        assert "checking site-t: 2 controllers" in str(body)
        (post,) = await h.slack.wait_for("chat.postMessage", 1, timeout=15)
    assert post.body["channel"] == CHANNEL
    blocks = str(post.body["blocks"])
    for name in ("CAP3702I.4CD4", "AP2702-1", "AP3702-1", "AP2702-2"):
        assert name in blocks
    assert "stuck" in post.body["text"]
    buttons = [e for b in post.body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert sorted((b["action_id"], b["value"]) for b in buttons) == [
        ("timeback_dry_run", "site-t/wlc-1"),
        ("timeback_dry_run", "site-t/wlc-2"),
        ("timeback_request", "site-t/wlc-1"),
        ("timeback_request", "site-t/wlc-2"),
    ]
    assert "admin" not in str(post.body)


async def test_bad_input_touches_no_controller(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1")) as h:
        unknown_site = await h.command("status site-x")
        unknown_command = await h.command("stauts site-t")
        injection = await h.command("aps site-t --state 'x; config time ntp delete 1'")
        assert h.site.sim.connections_accepted == {"wlc-1": 0}
        assert h.slack.calls_to("chat.postMessage") == []
    assert "site-x" in str(unknown_site[1]) and "site-t" in str(unknown_site[1])
    assert "Did you mean `/ccert status`?" in str(unknown_command[1])
    assert "not an AP state" in str(injection[1])
    for status, body, _ in (unknown_site, unknown_command, injection):
        assert status == 200 and body.get("response_type", "ephemeral") == "ephemeral"


async def test_denied_user_gets_an_ephemeral_refusal(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), access="status=U0BOSS") as h:
        status, body, _ = await h.command("status site-t", user="U0INTERN")
        assert h.site.sim.connections_accepted == {"wlc-1": 0}
        allowed = await h.command("status site-t", user="U0BOSS")
        await h.slack.wait_for("chat.postMessage", 1, timeout=15)
    assert status == 200 and "not allowed" in str(body) and body.get("response_type", "ephemeral") == "ephemeral"
    assert allowed[0] == 200


async def test_a_6000_ap_site_stays_within_block_kit_limits(tmp_path: Path) -> None:
    aps = [{"name": f"AP3702-{i:05d}", "model": "AIR-CAP3702I-E-K9", "image": "17.3.3.26"} for i in range(6000)]
    async with slack_bot(tmp_path, iosxe("wlc-big", aps=aps), ssh_timeout_seconds=30) as h:
        await h.command("status site-t")
        await h.slack.wait_for("chat.postMessage", 1, timeout=60)
        assert await h.bot.tasks.wait_idle(timeout=60)
        status_posts = list(h.slack.calls_to("chat.postMessage"))
        await h.command("aps site-t --state Downloading")
        await h.slack.wait_for("chat.postMessage", len(status_posts) + 1, timeout=60)
        assert await h.bot.tasks.wait_idle(timeout=60)
        calls = h.slack.calls_to("chat.postMessage")
    # the fake Slack refuses any message over Block Kit limits, as Slack does
    assert all(c.response.get("ok") for c in calls)
    assert all(len(c.blocks) <= 50 for c in calls)
    for answer in (status_posts, calls[len(status_posts) :]):
        text = " ".join(str(c.body["blocks"]) for c in answer)
        assert all(f"AP3702-{i:05d}" in text for i in range(0, 6000, 499)) and "AP3702-05999" in text
        roots = [c for c in answer if not c.body.get("thread_ts")]
        assert len(roots) == 1, "one message per answer; the rest of its table goes into its thread"
