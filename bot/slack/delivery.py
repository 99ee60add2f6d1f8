"""Getting rendered replies into Slack, and keeping the background work honest.

Listeners must answer Slack inside 3 seconds, so everything slow (a command's
follow-up, posting a 25-message AP table) runs as a background task. Two
things go wrong with fire-and-forget asyncio tasks: the event loop only keeps
weak references (a task can vanish mid-flight), and an exception nobody awaits
is lost. `BackgroundTasks` fixes both and lets shutdown cancel what is left.

`Messenger` posts a Reply where it belongs: `chat.postMessage` in the channel
(split messages threaded under the first), `chat.postEphemeral` to the user
when the Reply is private, `chat.update` to replace a "working on it" message.
When the bot cannot post in a channel (a DM, a private channel it was not
invited to) it falls back to the command's `response_url`, which Slack allows
whatever the membership.

A Reply's files (`ReplyFile`, an export's CSV) are uploaded after its message,
into that message's thread, with `files_upload_v2` (`files.getUploadURLExternal`,
a POST of the bytes to the URL it gives, `files.completeUploadExternal`); the
temporary file is deleted afterwards, whether the upload worked or not. Note that
slack_sdk's `files_upload_v2` buffers: given a path it would read the whole file
into memory on the event loop (`internal_utils._to_v2_file_upload_item`:
`readable.read()`), a blocking read that holds every other chat and check for as
long as the disk takes. So the bytes are read here in a worker thread
(`asyncio.to_thread`, `read_upload`) and given to it as `file=bytes` (with the
file's name, since bytes have none). Either way an upload holds the finished file
once (about 1.5 MB for 10,000 APs), even though the command streamed it to disk
row by row. A failed upload
(`missing_scope` when the app lacks `files:write`, `not_in_channel`) is told to
the user in words, privately; never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.chat.reply import Level, Reply, ReplyFile
from bot.slack.render import SlackMessage, is_empty, render_messages, render_text_message

log = logging.getLogger(__name__)

# Errors after which posting to the channel is hopeless but the response_url may still work.
_CHANNEL_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
        "user_not_in_channel",
        "cannot_dm_bot",
    }
)


# Told the Web API method name ("chat.postMessage") of each call that failed after the client's
# retries: metrics count them by method. Never given the error, which may echo a token.
ApiErrorHook = Callable[[str], None]

# What a failed Web API call raises: Slack's answer, or the network under it.
API_FAILURES = (SlackApiError, aiohttp.ClientError, TimeoutError, OSError)


def ignore_api_error(method: str) -> None:
    """The default hook: nobody is counting."""


@contextlib.contextmanager
def reporting_failure(hook: ApiErrorHook, method: str) -> Iterator[None]:
    """Report a failed call of `method` to `hook`, then let the error go on unchanged."""
    try:
        yield
    except API_FAILURES:
        hook(method)
        raise


class BackgroundTasks:
    """A registry of background tasks: strong references, logged failures, cancel on close."""

    def __init__(self, name: str = "slack") -> None:
        self._name = name
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Start `coro` now; the registry holds it until it ends and logs if it fails."""
        if self._closed:
            coro.close()
            raise RuntimeError("background task registry is closed")
        task = asyncio.get_running_loop().create_task(coro, name=f"{self._name}:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.error("background task %s failed", task.get_name(), exc_info=error)

    def __len__(self) -> int:
        return len(self._tasks)

    @property
    def closed(self) -> bool:
        return self._closed

    async def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no task is running (tests, graceful shutdown). True when idle."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._tasks:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return True

    async def aclose(self, grace: float = 0.0) -> None:
        """Let running tasks finish for up to `grace` seconds, then cancel the rest."""
        self._closed = True
        if grace > 0:
            await self.wait_idle(grace)
        pending = set(self._tasks)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


@dataclass(frozen=True)
class Destination:
    """Where a Reply goes: a channel (optionally a thread) and the user who asked."""

    user_id: str
    channel_id: str | None = None
    thread_ts: str | None = None  # channel messages go in this thread
    response_url: str | None = None
    # Ephemeral messages go in this thread: usually none, because an ephemeral
    # note inside a thread the user is not looking at is as good as lost.
    ephemeral_thread_ts: str | None = None


@dataclass(frozen=True)
class Posted:
    """A message we posted in a channel (not ephemeral): enough to update it or thread under it."""

    channel_id: str
    ts: str
    thread_ts: str | None = None

    @property
    def thread_root(self) -> str:
        return self.thread_ts or self.ts


def error_reference() -> str:
    """A short id shown to the user and written to the log, so support can find the details
    without the message ever carrying exception text (which may hold secrets)."""
    return secrets.token_hex(4)


#: What a failed upload is told, by Slack's error code (`{name}` is the file's name).
UPLOAD_ERRORS = {
    "missing_scope": (
        "I could not attach `{name}`: this Slack app may not upload files (it lacks the `files:write` scope). "
        "A Slack admin adds `files:write` to the app's bot scopes (`ccert-bot manifest` has it) and reinstalls it."
    ),
    "not_in_channel": (
        "I could not attach `{name}`: I am not in this channel. Invite me (`/invite @ccert-bot`) and ask again."
    ),
    "channel_not_found": (
        "I could not attach `{name}`: I cannot see this channel. Invite me (`/invite @ccert-bot`) and ask again."
    ),
    "not_allowed_token_type": "I could not attach `{name}`: the bot token may not upload files (it must be `xoxb-`).",
}


def upload_failed_note(name: str, code: str | None, reference: str) -> str:
    """The words for a file that could not be uploaded: the fix when Slack's code names one."""
    known = UPLOAD_ERRORS.get(code or "")
    if known is not None:
        return known.format(name=name)
    said = f" (Slack said `{code}`)" if code else ""
    return f"I could not attach `{name}`{said}. The details are in the bot's log (reference `{reference}`)."


def friendly_error(reference: str) -> Reply:
    return Reply(
        title="Something went wrong",
        text=f"Sorry, that did not work. The details are in the bot's log (reference `{reference}`).",
        level=Level.DANGER,
        ephemeral=True,
    )


def read_upload(file: ReplyFile) -> bytes:
    """The bytes of a file to upload. Blocking: `Messenger.upload_files` runs it in a worker
    thread, so a large export is never read on the event loop."""
    return file.path.read_bytes()


class Messenger:
    """Posts rendered Replies with the Web API; retries are the client's retry handlers'."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        webhook_retry_handlers: list[AsyncRetryHandler] | None = None,
        api_errors: ApiErrorHook = ignore_api_error,
    ):
        self.client = client
        self._webhook_retry_handlers = webhook_retry_handlers
        self.api_errors = api_errors

    async def post(self, reply: Reply, dest: Destination) -> Posted | None:
        """Post a Reply: ephemerally when it says so, else in the channel with split
        messages threaded under the first, then its files in that thread. Returns the
        channel message, if any. The reply's temporary files are deleted, whatever happens."""
        try:
            if is_empty(reply):
                return None
            messages = render_messages(reply)
            if reply.ephemeral:
                await self.post_ephemeral(messages, dest)
                return None
            posted = await self.post_in_channel(messages, dest)
            await self.upload_files(reply.files, dest, posted)
            return posted
        finally:
            reply.discard_files()

    async def upload_files(self, files: Sequence[ReplyFile], dest: Destination, posted: Posted | None) -> None:
        """Upload each file into the thread of `posted` (the reply's message), or of the
        destination's thread when there is no message; a failure is told to the user."""
        for file in files:
            channel = posted.channel_id if posted is not None else dest.channel_id
            thread = posted.thread_root if posted is not None else dest.thread_ts
            if channel is None:  # no channel at all (a response_url only): nowhere to share a file
                await self._tell_upload_failed(file, dest, "channel_not_found")
                continue
            try:
                data = await asyncio.to_thread(read_upload, file)
                with reporting_failure(self.api_errors, "files.upload"):
                    await self.client.files_upload_v2(
                        channel=channel,
                        thread_ts=thread,
                        file=data,
                        filename=file.filename,
                        title=file.title,
                        initial_comment=f"{file.title} ({file.rows:,} rows)",
                    )
            except asyncio.CancelledError:
                raise
            except Exception as error:
                code = _error_code(error) if isinstance(error, SlackApiError) else None
                await self._tell_upload_failed(file, dest, code, error)

    async def _tell_upload_failed(
        self, file: ReplyFile, dest: Destination, code: str | None, error: BaseException | None = None
    ) -> None:
        reference = error_reference()
        log.error("uploading %s failed: %s (reference %s)", file.filename, code or type(error).__name__, reference)
        try:
            await self.post_note(upload_failed_note(file.filename, code, reference), dest, level=Level.WARNING)
        except Exception as second:  # Slack is down altogether: the log has it
            log.error("could not tell the user either: %s", type(second).__name__)

    async def post_in_channel(self, messages: Sequence[SlackMessage], dest: Destination) -> Posted | None:
        first, *rest = messages
        if dest.channel_id is None:
            await self._respond(messages, dest, response_type="in_channel")
            return None
        try:
            with reporting_failure(self.api_errors, "chat.postMessage"):
                response = await self.client.chat_postMessage(
                    channel=dest.channel_id, thread_ts=dest.thread_ts, **first
                )
        except SlackApiError as error:
            if _error_code(error) in _CHANNEL_ERRORS and dest.response_url:
                log.info("cannot post in %s (%s); answering via response_url", dest.channel_id, _error_code(error))
                await self._respond(messages, dest, response_type="in_channel")
                return None
            raise
        posted = Posted(
            channel_id=str(response.get("channel") or dest.channel_id),
            ts=str(response["ts"]),
            thread_ts=dest.thread_ts,
        )
        await self.post_thread(posted, rest)
        return posted

    async def post_thread(self, root: Posted, messages: Sequence[SlackMessage]) -> None:
        """Post continuation messages under `root`, in order (each waits for the last,
        so the thread reads top to bottom and rate limits apply one call at a time)."""
        for message in messages:
            with reporting_failure(self.api_errors, "chat.postMessage"):
                await self.client.chat_postMessage(channel=root.channel_id, thread_ts=root.thread_root, **message)

    async def post_ephemeral(self, messages: Sequence[SlackMessage], dest: Destination) -> None:
        if dest.channel_id is None:
            await self._respond(messages, dest, response_type="ephemeral")
            return
        try:
            for message in messages:
                with reporting_failure(self.api_errors, "chat.postEphemeral"):
                    await self.client.chat_postEphemeral(
                        channel=dest.channel_id, user=dest.user_id, thread_ts=dest.ephemeral_thread_ts, **message
                    )
        except SlackApiError as error:
            if _error_code(error) in _CHANNEL_ERRORS and dest.response_url:
                await self._respond(messages, dest, response_type="ephemeral")
                return
            raise

    async def update(self, posted: Posted, reply: Reply, dest: Destination) -> Posted | None:
        """Replace a message we posted with `reply` (rest of a split goes to its thread).
        An ephemeral Reply cannot replace a channel message, so it is posted privately."""
        try:
            if is_empty(reply):
                return posted
            if reply.ephemeral:
                await self.post_ephemeral(render_messages(reply), dest)
                return posted
            first, *rest = render_messages(reply)
            with reporting_failure(self.api_errors, "chat.update"):
                await self.client.chat_update(channel=posted.channel_id, ts=posted.ts, **first)
            await self.post_thread(posted, rest)
            await self.upload_files(reply.files, dest, posted)
            return posted
        finally:
            reply.discard_files()

    async def post_note(
        self, text: str, dest: Destination, *, level: Level = Level.INFO, ephemeral: bool = True
    ) -> None:
        """A short message of the listeners' own (errors, help pointers)."""
        message = render_text_message(text, level)
        if ephemeral:
            await self.post_ephemeral([message], dest)
        else:
            await self.post_in_channel([message], dest)

    async def respond(self, messages: Sequence[SlackMessage], dest: Destination, *, response_type: str) -> None:
        """Answer through the slash command's / action's response_url."""
        await self._respond(messages, dest, response_type=response_type)

    async def _respond(self, messages: Sequence[SlackMessage], dest: Destination, *, response_type: str) -> None:
        if not dest.response_url:
            raise RuntimeError("no channel and no response_url to answer on")
        hook = AsyncWebhookClient(url=dest.response_url, retry_handlers=self._webhook_retry_handlers)
        for message in messages:
            body = {**message, "response_type": response_type, "replace_original": False}
            response = await hook.send_dict(body)
            if response.status_code != 200:
                # Never log the URL itself: it is a bearer credential for 30 minutes.
                raise RuntimeError(f"response_url answered HTTP {response.status_code}")


def _error_code(error: SlackApiError) -> str:
    try:
        return str(error.response.get("error", ""))
    except Exception:  # pragma: no cover - defensive: odd response objects
        return ""
