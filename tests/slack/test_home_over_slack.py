"""The App Home through Slack: signed events and clicks into the real Bolt app, `views.publish`
into the fake Web API (which refuses a view over Slack's limits), a simulated site, a real store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from slack_sdk.models.views import View

from tests.remediation.remediation_helpers import eventually
from tests.support import slack_signing
from tests.support.simulated_site import aireos
from tests.support.slack_bot import SlackBotHarness, slack_bot

REQUESTER, ALICE, BOB, MALLORY = "U0CARLA", "U0ALICE", "U0BOB", "U0MALLORY"


def _published(h: SlackBotHarness, user: str) -> list[dict[str, Any]]:
    """Every view published for `user` that Slack took, oldest first."""
    return [
        c.body["view"]
        for c in h.slack.calls_to("views.publish")
        if c.body.get("user_id") == user and c.response.get("ok")
    ]


def _text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def _buttons(view: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["action_id"], e["value"]) for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_opening_the_home_publishes_the_fleet_for_that_user(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), approvers=f"{ALICE},{BOB}") as h:
        status, _, elapsed = await h.open_home(MALLORY)
        assert status == 200 and elapsed < 3
        await eventually(lambda: bool(_published(h, MALLORY)), timeout=10)
        before = _published(h, MALLORY)[-1]
        assert "site-t" in _text(before) and "no check yet" in _text(before)

        # A finished check republishes the home of whoever has it open, without a new open.
        await h.runtime.checker.run_check()

        def checked() -> bool:
            views = _published(h, MALLORY)
            return len(views) >= 2 and "no check yet" not in _text(views[-1])

        await eventually(checked, timeout=10)
        view = _published(h, MALLORY)[-1]
        View(**view).validate_json()
        shown = _text(view)
        assert "site-t" in shown and "downloading" in shown and "just now" in shown
        assert "You are not an approver" in shown, "the home is the viewer's own"
        assert h.slack.home_views[MALLORY]["blocks"] == view["blocks"]
        assert all(c.response.get("ok") for c in h.slack.calls_to("views.publish")), "Slack took every view"


async def test_a_vote_republishes_the_home_of_whoever_has_it_open(tmp_path: Path) -> None:
    async with slack_bot(
        tmp_path, aireos("wlc-1"), approvers=f"{ALICE},{BOB}", required_approvals=2, access=f"remediate={REQUESTER}"
    ) as h:
        await h.command("remediate site-t wlc-1", user=REQUESTER)
        await eventually(lambda: h.request_message() is not None, timeout=15)
        found = h.request_message()
        assert found is not None
        request_id, _ = found

        await h.open_home(ALICE)
        await h.open_home(BOB)
        await h.open_home(REQUESTER)
        await eventually(lambda: all(_published(h, u) for u in (ALICE, BOB, REQUESTER)), timeout=10)
        vote = [("remediation_approve", str(request_id)), ("remediation_reject", str(request_id))]
        for approver in (ALICE, BOB):
            view = _published(h, approver)[-1]
            assert _buttons(view) == vote, "the thread's own buttons, the request's id"
            assert "Waiting for you (1)" in _text(view) and "0 of 2 approvals" in _text(view)
        assert _buttons(_published(h, REQUESTER)[-1]) == [], "nobody approves their own request"
        assert f"#{request_id} site-t (wlc-1)" in _text(_published(h, REQUESTER)[-1])
        seen = {u: len(_published(h, u)) for u in (ALICE, BOB, REQUESTER)}

        # Alice approves from her Home tab: no channel, no message, no response_url in the click;
        # the click opens the approval form, as in the thread, and she submits it.
        trigger = slack_signing.unique_trigger_id()
        status, _, elapsed = await h.click_in_home("remediation_approve", str(request_id), ALICE, trigger_id=trigger)
        assert status == 200 and elapsed < 3
        status, _, _ = await h.submit(await h.opened_form(trigger), "fine from home", ALICE)
        assert status == 200

        def bob_sees_the_vote() -> bool:
            views = _published(h, BOB)
            return len(views) > seen[BOB] and "1 of 2 approvals" in _text(views[-1])

        await eventually(bob_sees_the_vote, timeout=15)
        view = await h.runtime.remediation.request_view(request_id)
        assert [a.user_id for a in view.approvals] == [ALICE]

        def alice_sees_it_done() -> bool:
            views = _published(h, ALICE)
            return (
                len(views) > seen[ALICE]
                and _buttons(views[-1]) == []
                and "Your approval is counted" in _text(views[-1])
            )

        await eventually(alice_sees_it_done, timeout=15)
        assert "Nothing is waiting for your approval." in _text(_published(h, ALICE)[-1])
        await eventually(lambda: len(_published(h, REQUESTER)) > seen[REQUESTER], timeout=15)
        assert not h.slack.calls_to("chat.postEphemeral") or all(
            c.body.get("user") != ALICE for c in h.slack.calls_to("chat.postEphemeral")
        ), "a click in the Home tab is answered in the Home tab"
        for call in h.slack.calls_to("views.publish"):
            assert call.response.get("ok"), call.response
            View(**call.body["view"]).validate_json()


async def test_the_fake_refuses_a_view_over_slacks_limits_as_slack_does() -> None:
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    from tests.support.fake_slack import FakeSlack

    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    async with FakeSlack(token="xoxb-limits") as slack:
        client = AsyncWebClient(token="xoxb-limits", base_url=slack.api_url)
        await client.views_publish(user_id="U1", view={"type": "home", "blocks": [section] * 100})
        for blocks in (
            [section] * 101,
            [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
            [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        ):
            try:
                await client.views_publish(user_id="U2", view={"type": "home", "blocks": blocks})
            except SlackApiError as error:
                assert error.response["error"] == "invalid_arguments"
            else:
                raise AssertionError("an over-limit view was accepted")
    assert list(slack.home_views) == ["U1"] and len(slack.home_views["U1"]["blocks"]) == 100
