"""Votes through forms: Approve and Reject open a modal; its submission is the vote.

A click on **Reject** or **Approve** (on the request message, in its thread, or on
the App Home tab) is acked and then, in the same listener and before anything
else, answered with `views.open` and the click's `trigger_id`: Slack lets a
trigger open a view only within 3 seconds of the click, so nothing slow (no
store, no dispatcher, no user-group lookup) may come first. The form is
`bot.slack.modals`: a required reason to reject, an optional comment to approve.

When the form cannot be opened (`expired_trigger_id`, `invalid_trigger_id`, any
other Slack error, a timeout) the voter is told privately what to type instead,
`/ccert reject 12 --reason "…"`; one line is logged. A click is never silently lost.

The submission (`view_submission`, callback ids `ccert_reject` / `ccert_approve`):

* a reject whose reason is empty or says nothing is refused with the field's
  error (`response_action: errors`): the form stays open and the request pending;
* a form whose `private_metadata` is not ours is refused the same way (no
  traceback, no 500), with a line in the log;
* otherwise the form is closed at once (ack) and the vote is dispatched as the
  typed command it stands for, `reject 12 --reason '<text>'`, so the dispatcher's
  filter chain (length, access, argument checks) and the service decide it like
  any other vote. Its answer goes to the voter privately where the click was
  (App Home clicks: the app's DM), exactly as a click's answer does in
  `bot.slack.listeners.actions`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shlex
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.chat.arguments import REQUEST_ID
from bot.chat.dispatch import Dispatcher
from bot.chat.remediation_views import APPROVE_ACTION, REJECT_ACTION
from bot.chat.reply import Level, Reply
from bot.chat.text import printable
from bot.slack.delivery import Destination, error_reference, friendly_error, reporting_failure
from bot.slack.identity import action_identity, build_caller
from bot.slack.listeners import ListenerRuntime, _describe
from bot.slack.listeners.actions import answer_in_home, destination_for, handle_action
from bot.slack.modals import (
    CALLBACK_IDS,
    TEXT_BLOCK,
    UNREADABLE_FORM,
    Origin,
    VoteKind,
    submitted_text,
    text_problem,
    typed_vote,
    vote_command,
    vote_modal,
)
from bot.slack.render import render_messages

log = logging.getLogger(__name__)

# A trigger is good for 3 s from the click; the ack and the network take some of it.
VIEWS_OPEN_TIMEOUT_SECONDS = 2.5
VOTE_ACTIONS = re.compile("^(?:" + "|".join(re.escape(a) for a in (APPROVE_ACTION, REJECT_ACTION)) + ")$")
VOTE_CALLBACKS = re.compile("^(?:" + "|".join(re.escape(c) for c in CALLBACK_IDS) + ")$")


def register(app: AsyncApp, dispatcher: Dispatcher, runtime: ListenerRuntime | None = None) -> None:
    """Register before `actions.register`: Bolt runs the first listener that matches a click."""
    rt = runtime or ListenerRuntime.for_app(app)

    @app.block_action(VOTE_ACTIONS)
    async def on_vote_click(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await open_vote_form(body, action, dispatcher, rt)

    @app.view_submission(VOTE_CALLBACKS)
    async def on_vote_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        await handle_submission(ack, body, view, dispatcher, rt)


def _request_id(value: str) -> int | None:
    number = value.strip().lstrip("#")
    return int(number) if REQUEST_ID.match(number) else None


def origin_of(body: dict[str, Any], request_id: int) -> Origin:
    """Where a click was: the request message (or its thread), or the App Home tab (nowhere)."""
    dest = destination_for(body)
    if (body.get("container") or {}).get("type") == "view" or dest.channel_id is None:
        return Origin(request_id)
    return Origin(request_id, dest.channel_id, dest.thread_ts, dest.ephemeral_thread_ts)


def _summary(body: dict[str, Any], request_id: int) -> str | None:
    """The clicked message's first line when it is the request's own (`… request #12 — …`)."""
    text = str((body.get("message") or {}).get("text") or "")
    first = printable(text.split("\n", 1)[0]).strip()
    return first if f"#{request_id} " in f"{first} " else None


async def open_vote_form(
    body: dict[str, Any], action: dict[str, Any], dispatcher: Dispatcher, rt: ListenerRuntime
) -> None:
    """views.open first, now; only when it fails, the typed command as a private note."""
    action_id = str(action.get("action_id", ""))
    kind = VoteKind.of_action(action_id)
    request_id = _request_id(str(action.get("value") or ""))
    if kind is None or request_id is None:  # not a request number: the dispatcher says why, as for any click
        rt.tasks.spawn(handle_action(body, action, dispatcher, rt), name=f"action {action_id[:40]}")
        return
    trigger_id = body.get("trigger_id")
    origin = origin_of(body, request_id)
    try:
        if not isinstance(trigger_id, str) or not trigger_id:
            raise ValueError("no trigger_id")
        with reporting_failure(rt.messenger.api_errors, "views.open"):
            await asyncio.wait_for(
                rt.messenger.client.views_open(
                    trigger_id=trigger_id, view=vote_modal(kind, origin, _summary(body, request_id))
                ),
                VIEWS_OPEN_TIMEOUT_SECONDS,
            )
    except asyncio.CancelledError:
        raise
    except Exception as error:
        log.warning(
            "could not open the %s form for request #%d (%s); told the voter what to type",
            kind.value,
            request_id,
            _describe(error),
        )
        rt.tasks.spawn(_offer_typed_vote(body, kind, request_id, rt), name=f"{kind.value} fallback")


def typed_vote_reply(kind: VoteKind, request_id: int) -> Reply:
    """The private note when no form could be opened: exactly what to type instead."""
    if kind is VoteKind.REJECT:
        text = (
            f"The reject form did not open (Slack lets a click open it only for a few seconds). "
            f"To reject request #{request_id}, type `{typed_vote(kind, request_id)}` with your reason in the quotes."
        )
    else:
        text = (
            f"The approval form did not open (Slack lets a click open it only for a few seconds). "
            f"To approve request #{request_id}, type `{typed_vote(kind, request_id)}` (the comment is optional)."
        )
    return Reply(title="", text=text, level=Level.WARNING, ephemeral=True)


def _answer_to(dest: Destination) -> Destination:
    """A click on the App Home tab has no channel: answer in the app's DM with the voter."""
    if dest.channel_id is None and dest.response_url is None:
        return Destination(user_id=dest.user_id, channel_id=dest.user_id)
    return dest


async def _deliver_private(reply: Reply, dest: Destination, rt: ListenerRuntime, *, what: str) -> None:
    """An ephemeral note where the voter looks; the app's DM when there is no channel."""
    if dest.channel_id is not None and dest.channel_id == dest.user_id:  # the DM: a plain message
        try:
            await rt.messenger.post_in_channel(render_messages(reply), dest)
        except Exception as error:
            log.error("could not answer %s in the app's DM: %s", what, _describe(error))
        return
    try:
        await rt.messenger.post(reply, dest)
        return
    except Exception as error:
        failure = _describe(error)
    if dest.response_url:
        try:
            await rt.messenger.respond(render_messages(reply), dest, response_type="ephemeral")
            return
        except Exception as error:
            failure = _describe(error)
    log.error("could not answer %s: %s", what, failure)


async def _offer_typed_vote(body: dict[str, Any], kind: VoteKind, request_id: int, rt: ListenerRuntime) -> None:
    dest = destination_for(body)
    if dest.channel_id is None and dest.response_url is None and rt.home is not None:
        # A Home-tab click: the answer shows in the home (the app's Messages tab is off, so a
        # DM would not be seen).
        rt.home.notice(dest.user_id, typed_vote_reply(kind, request_id))
        return
    await _deliver_private(
        typed_vote_reply(kind, request_id), _answer_to(destination_for(body)), rt, what=f"the {kind.value} click"
    )


async def handle_submission(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], dispatcher: Dispatcher, rt: ListenerRuntime
) -> None:
    """Refuse a form that cannot be a vote (the modal stays open); else close it and vote."""
    kind = CALLBACK_IDS.get(str(view.get("callback_id") or ""))
    origin = Origin.from_metadata(view.get("private_metadata"))
    if kind is None or origin is None:
        log.warning("refused a vote form with unreadable private_metadata")
        await ack(response_action="errors", errors={TEXT_BLOCK: UNREADABLE_FORM})
        return
    text = submitted_text(view)
    problem = text_problem(kind, text)
    if problem is not None:
        await ack(response_action="errors", errors={TEXT_BLOCK: problem})
        return
    await ack()
    rt.tasks.spawn(_vote(body, kind, origin, text, dispatcher, rt), name=f"{kind.value} form {origin.request_id}")


async def _vote(
    body: dict[str, Any], kind: VoteKind, origin: Origin, text: str, dispatcher: Dispatcher, rt: ListenerRuntime
) -> None:
    """The submitted form as the typed command, through the dispatcher; its answer to the voter."""
    user_id, _, user_name = action_identity(body)
    what = f"the {kind.value} form of request #{origin.request_id}"
    if origin.channel is None:
        dest = Destination(user_id=user_id, channel_id=user_id)  # App Home: the app's DM
    else:
        dest = Destination(
            user_id=user_id,
            channel_id=origin.channel,
            thread_ts=origin.thread_ts,
            ephemeral_thread_ts=origin.ephemeral_thread_ts,
        )
    try:
        caller = await build_caller(rt.groups, user_id, origin.channel, user_name)
        command = " ".join(shlex.quote(word) for word in vote_command(kind, origin.request_id, text))
        result = await dispatcher.dispatch(command, caller)
    except Exception:
        reference = error_reference()
        log.exception("%s failed (reference %s)", what, reference)
        await _deliver_private(friendly_error(reference), dest, rt, what=what)
        return
    if origin.channel is None and rt.home is not None:
        # Voted from the Home tab: answered in the home, which is republished with the vote.
        await answer_in_home(result, user_id, rt, what=what)
        return
    if dest.channel_id == user_id:
        await _deliver_private(result.ack, dest, rt, what=what)
        posted = None
    else:
        posted = await rt.post_safely(result.ack, dest, what=what)
    await rt.run_follow_up(result, dest, what=what, replace=posted)
