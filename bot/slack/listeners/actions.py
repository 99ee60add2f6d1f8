"""Button clicks (`block_actions`): ack at once, then let the dispatcher decide.

A block_actions ack carries no message, so it is sent before anything else;
the dispatcher's answer is posted afterwards: privately when the Reply is
ephemeral (a refusal, say), otherwise in the thread of the message the button
was on, where the conversation about that request already lives. When the
action has a follow-up, its Reply replaces the acknowledgement message
(`chat.update`) so the thread does not fill with "working on it" notes.

A click in the Home tab (container type `view`) has no message, channel or
response_url to answer in: its answer is shown at the top of the clicker's
home instead (`HomePublisher.notice`), see `answer_in_home`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.chat.dispatch import Dispatcher
from bot.chat.reply import CommandResult, Reply
from bot.slack.delivery import Destination, error_reference, friendly_error
from bot.slack.identity import action_identity, build_caller
from bot.slack.listeners import ListenerRuntime

log = logging.getLogger(__name__)

# Every action id: the dispatcher, not the listener, knows which ones exist.
ANY_ACTION = re.compile(r".+")


def register(app: AsyncApp, dispatcher: Dispatcher, runtime: ListenerRuntime | None = None) -> None:
    rt = runtime or ListenerRuntime.for_app(app)

    @app.block_action(ANY_ACTION)
    async def on_action(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        action_id = str(action.get("action_id", ""))
        rt.tasks.spawn(handle_action(body, action, dispatcher, rt), name=f"action {action_id[:40]}")


def action_value(action: dict[str, Any]) -> str:
    """The value a clicked element carries (buttons: `value`; selects: the chosen option)."""
    if "value" in action:
        return str(action.get("value") or "")
    option = action.get("selected_option") or {}
    return str(option.get("value") or "")


def destination_for(body: dict[str, Any]) -> Destination:
    """Reply in the thread of the clicked message; ephemeral notes stay where the user looks."""
    user_id, channel_id, _ = action_identity(body)
    message = body.get("message") or {}
    container = body.get("container") or {}
    in_thread = message.get("thread_ts")
    root = in_thread or message.get("ts")
    if root is None and not container.get("is_ephemeral"):
        root = container.get("message_ts")
    return Destination(
        user_id=user_id,
        channel_id=channel_id,
        thread_ts=root,
        response_url=body.get("response_url"),
        ephemeral_thread_ts=in_thread,
    )


async def handle_action(
    body: dict[str, Any], action: dict[str, Any], dispatcher: Dispatcher, rt: ListenerRuntime
) -> None:
    """Translate one click (runs in the background: the ack was already sent)."""
    action_id = str(action.get("action_id", ""))
    what = f"button {action_id[:40]}"
    dest = destination_for(body)
    in_view = is_view_click(body, dest)
    user_id, channel_id, user_name = action_identity(body)
    try:
        caller = await build_caller(rt.groups, user_id, channel_id, user_name)
        result = await dispatcher.handle_action(action_id, action_value(action), caller)
    except Exception:
        reference = error_reference()
        log.exception("%s failed (reference %s)", what, reference)
        if in_view:
            await answer_in_home(CommandResult(friendly_error(reference)), dest.user_id, rt, what=what)
            return
        await rt.post_safely(friendly_error(reference), dest, what=what)
        return
    if in_view:
        await answer_in_home(result, dest.user_id, rt, what=what)
        return
    posted = await rt.post_safely(result.ack, dest, what=what)
    await rt.run_follow_up(result, dest, what=what, replace=posted)


# --------------------------------------------------------------------------- clicks in a view (the Home tab)


def is_view_click(body: dict[str, Any], dest: Destination) -> bool:
    """A click on a view (the Home tab): nowhere to post an answer in chat."""
    container = body.get("container") or {}
    return container.get("type") == "view" or (dest.channel_id is None and not dest.response_url)


async def answer_in_home(result: CommandResult, user_id: str, rt: ListenerRuntime, *, what: str) -> None:
    """Show a Home-tab click's answer (and its follow-up's) in the clicker's home; without a
    home publisher, log it: there is no channel to say it in."""

    def show(reply: Reply) -> None:
        if rt.home is not None:
            rt.home.notice(user_id, reply)
        else:
            log.info("%s clicked in a view by %s: no channel to answer in (%s)", what, user_id, reply.title[:120])

    show(result.ack)
    if result.follow_up is None:
        return
    try:
        show(await result.follow_up())
    except Exception:
        reference = error_reference()
        log.exception("follow-up of %s failed (reference %s)", what, reference)
        show(friendly_error(reference))
