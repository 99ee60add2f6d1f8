"""Votes through Slack forms, over signed HTTP into the real Bolt app and the fake Web API:
Reject opens a modal that requires a reason, Approve one with an optional comment, an
expired trigger falls back to a private note saying what to type, and the forms keep
Slack's limits (checked with slack_sdk's own view models)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.views import View

from bot.chat.arguments import MAX_TEXT_CHARS
from bot.chat.commands import parse
from bot.chat.registry import Parsed
from bot.domain.approvals import RequestStatus
from bot.inventory_file import load_inventory
from bot.slack.modals import (
    MAX_PRIVATE_METADATA_CHARS,
    MAX_TITLE_CHARS,
    TEXT_ACTION,
    TEXT_BLOCK,
    Origin,
    VoteKind,
    submitted_text,
    text_problem,
    vote_command,
    vote_modal,
)
from tests.remediation.remediation_helpers import FAST_PARAMS, FAST_RETRY, eventually
from tests.support import slack_signing
from tests.support.fake_slack import view_problems
from tests.support.simulated_site import aireos
from tests.support.slack_bot import CHANNEL, TOKEN, SlackBotHarness, slack_bot

REQUESTER, ALICE, BOB = "U0CARLA", "U0ALICE", "U0BOB"
INVENTORY = load_inventory(Path(__file__).resolve().parents[2] / "inventory.example.yaml")
APPROVE, REJECT = "remediation_approve", "remediation_reject"


def _ephemerals_to(h: SlackBotHarness, user: str) -> list[str]:
    return [json.dumps(c.body) for c in h.slack.calls_to("chat.postEphemeral") if c.body.get("user") == user]


async def _request(h: SlackBotHarness) -> tuple[int, str]:
    await h.command("remediate site-t wlc-1", user=REQUESTER)
    await eventually(lambda: h.request_message() is not None, timeout=15)
    found = h.request_message()
    assert found is not None
    return found


async def _quiet(h: SlackBotHarness, for_seconds: float = 0.3) -> int:
    """Wait until the bot has made no Web API call for `for_seconds`; the number of calls so far."""
    while True:
        seen = len(h.slack.calls)
        await asyncio.sleep(for_seconds)
        if len(h.slack.calls) == seen:
            return seen


async def _status(h: SlackBotHarness, request_id: int) -> RequestStatus:
    return (await h.runtime.remediation.request_view(request_id)).status


def _everything_about(h: SlackBotHarness, ts: str) -> tuple[str, str]:
    """(the request message as posted and every update of it, every message in its thread)."""
    posts = [c.body for c in h.slack.calls_to("chat.postMessage") if c.response.get("ts") == ts]
    updates = [c.body for c in h.slack.calls_to("chat.update") if c.body.get("ts") == ts]
    message = json.dumps(posts + updates)
    thread = json.dumps([c.body for c in h.slack.calls_to("chat.postMessage") if c.body.get("thread_ts") == ts])
    return message, thread


async def test_reject_opens_a_form_that_requires_a_reason(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), approvers=f"{ALICE},{BOB}", access=f"remediate={REQUESTER}") as h:
        request_id, ts = await _request(h)
        before = await _quiet(h)
        trigger = slack_signing.unique_trigger_id()
        title = f"⏳ Time-back request #{request_id} — site-t (wlc-1) — waiting for approval"
        status, _, elapsed = await h.click(
            REJECT, str(request_id), BOB, message_ts=ts, trigger_id=trigger, message_text=title
        )
        assert status == 200 and elapsed < 3
        form = await h.opened_form(trigger)
        assert h.slack.calls[before].method == "views.open", "the form opens before anything else is done"
        assert form["callback_id"] == "ccert_reject" and f"#{request_id}" in json.dumps(form["blocks"])
        assert "site-t (wlc-1)" in json.dumps(form["blocks"]), "the form shows what is being rejected"
        assert json.loads(form["private_metadata"]) == {"r": request_id, "c": CHANNEL, "t": ts}
        assert h.slack.calls_to("views.open")[-1].response["ok"], "the fake accepted the view as Slack would"

        for empty in (None, "   \n\t ", "..."):
            status, answer, _ = await h.submit(form, empty, BOB)
            assert status == 200 and answer["response_action"] == "errors", answer
            assert "A reason is required" in answer["errors"][TEXT_BLOCK]
        assert await _status(h, request_id) is RequestStatus.PENDING, "a form without a reason is no vote"

        status, answer, _ = await h.submit(form, "Wrong controller:\nwlc-1 is the lab's", BOB)
        assert status == 200 and not answer, "a form with a reason is closed at once"
        await eventually(lambda: bool(_ephemerals_to(h, BOB)), timeout=10)

        async def rejected() -> bool:
            return await _status(h, request_id) is RequestStatus.REJECTED

        await eventually(rejected, timeout=10)
        reason = "Wrong controller: wlc-1 is the lab's"  # the line break is one space, as everywhere
        # The request message and its thread are refreshed by the run's own chat queue: soon, not at once.
        await eventually(lambda: all(reason in m for m in _everything_about(h, ts)), timeout=10)
        audit = json.dumps([dataclasses.asdict(e) for e in await h.runtime.remediation.audit(request_id)], default=str)
    assert reason in audit, "the reason is in the audit"
    assert h.site.sim.controllers["wlc-1"].running.ntp_servers, "nothing was changed"


async def test_approve_with_a_comment_counts_and_without_one_too(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), approvers=f"{REQUESTER},{ALICE},{BOB}") as h:
        h.runtime.remediation.config = dataclasses.replace(
            h.runtime.remediation.config, param_overrides=FAST_PARAMS, retry=FAST_RETRY
        )
        request_id, ts = await _request(h)
        status, answer, _ = await h.vote(APPROVE, request_id, ALICE, ts, "checked with the site team")
        assert status == 200 and "response_action" not in (answer or {})
        await eventually(lambda: any("counted" in e for e in _ephemerals_to(h, ALICE)), timeout=10)
        assert any("Still needed: 1" in e for e in _ephemerals_to(h, ALICE))
        view = await h.runtime.remediation.request_view(request_id)
        assert [a.user_id for a in view.approvals] == [ALICE]

        await h.vote(APPROVE, request_id, BOB, ts, None)  # the comment is optional

        async def finished() -> bool:
            return await _status(h, request_id) in {
                RequestStatus.SUCCEEDED,
                RequestStatus.FAILED,
                RequestStatus.NEEDS_ATTENTION,
            }

        await eventually(finished, timeout=60, interval=0.2)
        assert await _status(h, request_id) is RequestStatus.SUCCEEDED
        audit = json.dumps([dataclasses.asdict(e) for e in await h.runtime.remediation.audit(request_id)], default=str)
        comment = "checked with the site team"
        await eventually(lambda: all(comment in m for m in _everything_about(h, ts)), timeout=10)
    assert comment in audit


async def test_an_expired_trigger_tells_the_voter_what_to_type(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), approvers=f"{ALICE},{BOB}", access=f"remediate={REQUESTER}") as h:
        request_id, ts = await _request(h)
        h.slack.fail_next("views.open", error="expired_trigger_id")
        with caplog.at_level(logging.WARNING, logger="bot.slack.listeners.modals"):
            status, _, elapsed = await h.click(REJECT, str(request_id), BOB, message_ts=ts)
            assert status == 200 and elapsed < 3
            await eventually(lambda: bool(_ephemerals_to(h, BOB)), timeout=10)
        note = _ephemerals_to(h, BOB)[-1]
        assert f"/ccert reject {request_id} --reason" in note
        logged = [r.getMessage() for r in caplog.records if r.name == "bot.slack.listeners.modals"]
        assert len(logged) == 1 and "expired_trigger_id" in logged[0] and TOKEN not in logged[0], logged

        h.slack.fail_next("views.open", status=500, retry_after=None)  # any other failure too
        await h.click(APPROVE, str(request_id), ALICE, message_ts=ts)
        await eventually(lambda: bool(_ephemerals_to(h, ALICE)), timeout=10)
        assert f"/ccert approve {request_id} [--comment" in _ephemerals_to(h, ALICE)[-1]
        assert await _status(h, request_id) is RequestStatus.PENDING, "a click without a form is no vote"

        # What the note says works as typed: a reject without a reason says how, one with it rejects.
        _, refused, _ = await h.command(f"reject {request_id}", user=BOB)
        assert f'/ccert reject {request_id} --reason \\"' in json.dumps(refused), refused
        assert await _status(h, request_id) is RequestStatus.PENDING
        await h.command(f'reject {request_id} --reason "not during business hours"', user=BOB)

        async def rejected() -> bool:
            return await _status(h, request_id) is RequestStatus.REJECTED

        await eventually(rejected, timeout=10)


async def test_a_click_on_the_home_tab_opens_the_form_and_answers_in_the_home(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), approvers=f"{ALICE},{BOB}", access=f"remediate={REQUESTER}") as h:
        request_id, _ = await _request(h)
        trigger = slack_signing.unique_trigger_id()
        status, _, _ = await h.click(REJECT, str(request_id), BOB, trigger_id=trigger, home=True)
        assert status == 200
        form = await h.opened_form(trigger)
        assert json.loads(form["private_metadata"]) == {"r": request_id}
        await h.submit(form, "the site is closed this week", BOB)

        async def rejected() -> bool:
            return await _status(h, request_id) is RequestStatus.REJECTED

        await eventually(rejected, timeout=10)
        # The app's Messages tab is off, so no DM: the answer is at the top of Bob's home.
        await eventually(lambda: "rejected" in json.dumps(h.slack.home_views.get(BOB, {})).lower(), timeout=10)
        assert not any(c.body.get("channel") == BOB for c in h.slack.calls_to("chat.postMessage"))

        # A Home-tab click whose form cannot open says what to type, in the home too.
        h.slack.fail_next("views.open", error="expired_trigger_id")
        status, _, _ = await h.click(APPROVE, str(request_id), ALICE, home=True)
        assert status == 200
        await eventually(
            lambda: f"/ccert approve {request_id}" in json.dumps(h.slack.home_views.get(ALICE, {})), timeout=10
        )
        assert not any(c.body.get("channel") == ALICE for c in h.slack.calls_to("chat.postMessage"))


async def test_a_form_that_is_not_ours_is_refused_in_the_form(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, aireos("wlc-1"), approvers=f"{ALICE},{BOB}", access=f"remediate={REQUESTER}") as h:
        request_id, ts = await _request(h)
        form = vote_modal(VoteKind.REJECT, Origin(request_id, CHANNEL, ts))
        for metadata in ("", "{", '{"r": "1; reload"}', '{"r": 0}', json.dumps({"r": request_id, "c": "<!here>"})):
            status, answer, _ = await h.submit({**form, "private_metadata": metadata}, "a fine reason", BOB)
            assert status == 200 and answer["response_action"] == "errors", (metadata, answer)
            assert "could not tell which request" in answer["errors"][TEXT_BLOCK]
        assert await _status(h, request_id) is RequestStatus.PENDING


@pytest.mark.parametrize("kind", list(VoteKind))
@pytest.mark.parametrize("summary", [None, "⏳ Time-back request #123456789 — site-a (wlc-a1) — waiting " + "x" * 400])
def test_the_forms_keep_slacks_limits(kind: VoteKind, summary: str | None) -> None:
    origin = Origin(123456789, "C0123456789ABCDEFGHIJ", "1700000000.000100", "1700000000.000200")
    modal = vote_modal(kind, origin, summary)
    View(**modal).validate_json()  # slack_sdk's own model raises on a broken limit
    assert view_problems(modal) == []
    assert len(modal["title"]["text"]) <= MAX_TITLE_CHARS
    assert len(modal["private_metadata"]) <= MAX_PRIVATE_METADATA_CHARS
    assert Origin.from_metadata(modal["private_metadata"]) == origin
    inputs = [b for b in modal["blocks"] if b["type"] == "input"]
    assert len(inputs) == 1 and inputs[0]["optional"] is (kind is VoteKind.APPROVE)


def test_the_fake_refuses_a_view_slack_would() -> None:
    good: dict[str, Any] = vote_modal(VoteKind.REJECT, Origin(1))
    assert view_problems(good) == []
    assert view_problems({**good, "title": {"type": "plain_text", "text": "x" * 25}})
    assert view_problems({**good, "private_metadata": "x" * 3001})
    assert view_problems({**good, "blocks": []})
    with pytest.raises(SlackObjectFormationError):  # slack_sdk agrees
        View(**{**good, "title": {"type": "plain_text", "text": "x" * 25}}).validate_json()


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(VoteKind)), st.text(max_size=520))
@example(VoteKind.REJECT, "it's --comment x; reload' \"\n--reason")
@example(VoteKind.APPROVE, "--comment=\"a\" 'b'")
def test_a_submitted_form_is_the_typed_command_it_stands_for(kind: VoteKind, typed: str) -> None:
    """Whatever is typed in the form, the dispatched command parses back to exactly that text
    (quoted, it is one word: it cannot add an option or another request)."""
    view = {"state": {"values": slack_signing.form_values(TEXT_BLOCK, TEXT_ACTION, typed)}}
    text = submitted_text(view)
    if text_problem(kind, text) is not None:
        assert (kind is VoteKind.REJECT and not re.search(r"\w", text)) or len(text) > MAX_TEXT_CHARS
        return
    command = " ".join(shlex.quote(w) for w in vote_command(kind, 12, text))
    parsed = parse(command, INVENTORY)
    key = "reason" if kind is VoteKind.REJECT else "comment"
    assert parsed == Parsed(kind.value, {"request_id": 12, key: text or None}), command
