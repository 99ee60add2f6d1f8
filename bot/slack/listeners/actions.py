"""Button clicks (`block_actions`): ack at once, then let the dispatcher decide.

A block_actions ack carries no message, so it is sent before anything else;
the dispatcher's answer is posted afterwards: privately when the Reply is
ephemeral (a refusal, say), otherwise in the thread of the message the button
was on, where the conversation about that request already lives. When the
action has a follow-up, its Reply replaces the acknowledgement message
(`chat.update`) so the thread does not fill with "working on it" notes.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.chat.dispatch import Dispatcher
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
    user_id, channel_id, user_name = action_identity(body)
    try:
        caller = await build_caller(rt.groups, user_id, channel_id, user_name)
        result = await dispatcher.handle_action(action_id, action_value(action), caller)
    except Exception:
        reference = error_reference()
        log.exception("%s failed (reference %s)", what, reference)
        await rt.post_safely(friendly_error(reference), dest, what=what)
        return
    posted = await rt.post_safely(result.ack, dest, what=what)
    await rt.run_follow_up(result, dest, what=what, replace=posted)
