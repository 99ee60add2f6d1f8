"""`/ccert <text>`: ack inside Slack's 3 seconds, always; the real answer follows.

The dispatcher returns a CommandResult at once: its `ack` Reply becomes the
HTTP answer to Slack (ephemeral, or `in_channel` when the Reply is public),
and its `follow_up()` runs as a background task whose Reply is posted to the
channel (or privately to the user) when it is ready. Even a dispatcher that
hangs or crashes gets a visible answer inside the window.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.chat.dispatch import Dispatcher
from bot.chat.reply import CommandResult, Level, Reply
from bot.slack.delivery import Destination, error_reference, friendly_error
from bot.slack.identity import build_caller, command_identity
from bot.slack.listeners import ListenerRuntime, verb_of
from bot.slack.manifest import COMMAND
from bot.slack.render import is_empty, render_messages

log = logging.getLogger(__name__)

WORKING = Reply(
    title="",
    text=":hourglass_flowing_sand: Working on it; the answer will follow here.",
    level=Level.INFO,
    ephemeral=True,
)


def register(
    app: AsyncApp, dispatcher: Dispatcher, runtime: ListenerRuntime | None = None, *, command: str = COMMAND
) -> None:
    """Listen for `command` (default `/ccert`; another name suits a staging app)."""
    rt = runtime or ListenerRuntime.for_app(app)

    @app.command(command)
    async def on_command(ack: AsyncAck, body: dict[str, Any]) -> None:
        await handle_command(ack, body, dispatcher, rt)


def _ack_kwargs(reply: Reply) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(arguments for ack(), messages that did not fit in it)."""
    if is_empty(reply):
        return {}, []
    first, *rest = render_messages(reply)
    kwargs = {
        "text": first["text"],
        "blocks": first["blocks"],
        "response_type": "ephemeral" if reply.ephemeral else "in_channel",
    }
    return kwargs, rest


async def handle_command(ack: AsyncAck, body: dict[str, Any], dispatcher: Dispatcher, rt: ListenerRuntime) -> None:
    """Translate one slash command: payload → Caller → dispatcher → ack now, follow-up later.

    Identity lookup and dispatch together get `rt.ack_budget` seconds; past that
    Slack gets a placeholder ack and the real answer is posted when it comes.
    """
    text = str(body.get("text") or "").strip()
    user_id, channel_id, user_name = command_identity(body)
    dest = Destination(user_id=user_id, channel_id=channel_id, response_url=body.get("response_url"))
    what = verb_of(text)

    async def dispatch() -> CommandResult:
        caller = await build_caller(rt.groups, user_id, channel_id, user_name)
        return await dispatcher.dispatch(text, caller)

    work = asyncio.ensure_future(dispatch())
    try:
        result = await asyncio.wait_for(asyncio.shield(work), rt.ack_budget)
    except asyncio.CancelledError:
        work.cancel()  # the server is shutting down; do not leave the dispatch orphaned
        raise
    except TimeoutError:
        log.warning("dispatch of %s took longer than %.1fs; acked with a placeholder", what, rt.ack_budget)
        await ack(**_ack_kwargs(WORKING)[0])
        rt.tasks.spawn(_finish_late(work, dest, rt, what), name=f"late {what}")
        return
    except Exception:
        reference = error_reference()
        log.exception("dispatch of %s failed (reference %s)", what, reference)
        await ack(**_ack_kwargs(friendly_error(reference))[0])
        return

    kwargs, rest = _ack_kwargs(result.ack)
    await ack(**kwargs)
    if rest:
        rt.tasks.spawn(_respond_rest(rest, dest, rt, ephemeral=result.ack.ephemeral), name=f"ack-rest {what}")
    if result.follow_up is not None:
        rt.tasks.spawn(rt.run_follow_up(result, dest, what=what), name=f"follow-up {what}")


async def _respond_rest(
    messages: list[dict[str, Any]], dest: Destination, rt: ListenerRuntime, *, ephemeral: bool
) -> None:
    """The part of an oversized ack that did not fit in the HTTP answer."""
    try:
        await rt.messenger.respond(messages, dest, response_type="ephemeral" if ephemeral else "in_channel")
    except Exception as error:
        log.error("could not send the rest of an ack: %s", type(error).__name__)


async def _finish_late(work: asyncio.Future[CommandResult], dest: Destination, rt: ListenerRuntime, what: str) -> None:
    """A dispatcher that missed the ack window still gets its answer posted."""
    try:
        result = await work
    except asyncio.CancelledError:
        work.cancel()
        raise
    except Exception:
        reference = error_reference()
        log.exception("dispatch of %s failed after the ack (reference %s)", what, reference)
        await rt.post_safely(friendly_error(reference), dest, what=what)
        return
    await rt.post_safely(result.ack, dest, what=what)
    await rt.run_follow_up(result, dest, what=what)
