"""A fake Slack Web API (and Socket Mode endpoint) on 127.0.0.1, for tests and benchmarks.

Why a real HTTP server instead of mocking `AsyncWebClient`: the retry
handlers, JSON vs form encoding, Retry-After parsing and base_url joining are
exactly the things that break in production, and they only run over HTTP.

* `POST|GET /api/<method>` answers like Slack for the methods the bot calls
  (`chat.postMessage`, `chat.postEphemeral`, `chat.update` (a message keeps its metadata unless
  the update replaces it), `auth.test`,
  `conversations.info`, `conversations.history` (with message metadata),
  `usergroups.users.list`, `users.info`, `views.publish`, `views.open`, `views.update`,
  `apps.connections.open`) and checks Block Kit limits the way Slack does (`invalid_blocks`,
  `msg_too_long`; a published Home view over 100 blocks or a block limit, and a modal's limits:
  `invalid_arguments`; a trigger_id used twice is `exchanged_trigger_id`), so a renderer bug
  fails a test loudly. The last Home tab view published for each user is in
  `home_views[user_id]`; opened modals are in `views` by id; `views.open`'s
  `fail_next(..., error="expired_trigger_id")` is how a click answered too late looks.
* File uploads as `files_upload_v2` makes them: `files.getUploadURLExternal` answers an
  `upload_url` on this server (`POST /upload/<file id>`, which records the bytes), then
  `files.completeUploadExternal` shares the uploaded files in `channel_id` (and `thread_ts`)
  with `initial_comment`. `uploaded_files()` lists them, `uploaded_bytes(filename)` gives
  one file's content; `fail_next("files.completeUploadExternal", error="missing_scope")`
  refuses one as Slack does without `files:write`.
* `POST /response/<key>` is a response_url: point slash-command payloads at
  `fake.response_url(...)` and `respond()` lands here, recorded as method
  "response_url".
* `GET /socket` is a Socket Mode WebSocket: `send_envelope(...)` pushes an
  event/command the way Slack does and `wait_for_socket_ack(...)` collects the ack.

Every call is recorded (method, parsed body, headers with the token value
redacted). Failures are programmable per method: `fail_next("chat.postMessage",
times=1, status=429, retry_after=1)` or `fail_next(..., error="channel_not_found")`.
`delays[method]` (or `delays["*"]`) makes answers late and `hang()` holds them until
`release()`; either way the call takes effect when it arrives, as a slow Slack's would.
`wait_for(method, count, timeout)` waits for calls without sleeping blindly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

REDACTED = "<redacted>"


@dataclass
class Call:
    """One request the fake received."""

    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float  # time.monotonic()
    token: str | None = field(default=None, repr=False)  # kept for assertions only, never printed
    response: dict[str, Any] = field(default_factory=dict)  # what the fake answered (JSON)

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.body.get("blocks") or [])


@dataclass
class UploadedFile:
    """One file uploaded through the fake: what `files.getUploadURLExternal` was told, the bytes
    POSTed to its upload URL, and (once completed) where `files.completeUploadExternal` shared it."""

    file_id: str
    filename: str
    length: int
    data: bytes | None = None
    completed: bool = False
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None


@dataclass
class _Failure:
    status: int = 429
    retry_after: int | None = 1
    error: str | None = None
    remaining: int = 1


def block_kit_problems(body: dict[str, Any], *, max_blocks: int = 50, char_budget: int | None = 13_000) -> list[str]:
    """What Slack would reject in a message body (the limits render.py promises to keep);
    a view's blocks with `max_blocks=100, char_budget=None` (see `home_view_problems`)."""
    problems: list[str] = []
    text = body.get("text")
    if isinstance(text, str) and len(text) > 40_000:
        problems.append("msg_too_long")
    blocks = body.get("blocks")
    if blocks is None:
        return problems
    if not isinstance(blocks, list) or len(blocks) > max_blocks:
        return [*problems, f"invalid_blocks: more than {max_blocks} blocks"]
    total = 0
    for i, block in enumerate(blocks):
        kind = block.get("type")
        where = f"block {i} ({kind})"
        if kind == "header":
            t = block.get("text", {}).get("text", "")
            total += len(t)
            if not t or len(t) > 150:
                problems.append(f"invalid_blocks: {where} header text length {len(t)}")
        elif kind == "section":
            t = (block.get("text") or {}).get("text")
            fields = block.get("fields") or []
            if t is None and not fields:
                problems.append(f"invalid_blocks: {where} has neither text nor fields")
            if t is not None:
                total += len(t)
                if not t or len(t) > 3000:
                    problems.append(f"invalid_blocks: {where} text length {len(t)}")
            if len(fields) > 10:
                problems.append(f"invalid_blocks: {where} has {len(fields)} fields")
            for f in fields:
                total += len(f.get("text", ""))
                if len(f.get("text", "")) > 2000:
                    problems.append(f"invalid_blocks: {where} field length {len(f.get('text', ''))}")
        elif kind == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > 10:
                problems.append(f"invalid_blocks: {where} has {len(elements)} elements")
            for e in elements:
                total += len(e.get("text", ""))
                if len(e.get("text", "")) > 3000:
                    problems.append(f"invalid_blocks: {where} element too long")
        elif kind == "actions":
            elements = block.get("elements") or []
            if not elements or len(elements) > 25:
                problems.append(f"invalid_blocks: {where} has {len(elements)} elements")
            ids = [e.get("action_id") for e in elements]
            if len(ids) != len(set(ids)):
                problems.append(f"invalid_blocks: {where} repeats an action_id")
            for e in elements:
                if e.get("type") == "static_select":
                    problems += _select_problems(e, where)
                    continue
                label = (e.get("text") or {}).get("text", "")
                if not label or len(label) > 75:
                    problems.append(f"invalid_blocks: {where} button text length {len(label)}")
                if len(str(e.get("value", ""))) > 2000:
                    problems.append(f"invalid_blocks: {where} button value too long")
                if e.get("style") not in (None, "primary", "danger"):
                    problems.append(f"invalid_blocks: {where} bad button style")
        elif kind == "divider":
            pass
        else:
            problems.append(f"invalid_blocks: {where} unexpected block type")
    if char_budget is not None and total > char_budget:
        problems.append(f"msg_blocks_too_long: {total} characters")
    return problems


def _select_problems(element: dict[str, Any], where: str) -> list[str]:
    """A static select as Slack checks it: a placeholder, 1-100 options, text ≤ 75, value ≤ 150."""
    problems: list[str] = []
    placeholder = (element.get("placeholder") or {}).get("text", "")
    if not placeholder or len(placeholder) > 150:
        problems.append(f"invalid_blocks: {where} select placeholder length {len(placeholder)}")
    options = element.get("options") or []
    if not 1 <= len(options) <= 100:
        problems.append(f"invalid_blocks: {where} select has {len(options)} options")
    for option in options:
        text = (option.get("text") or {}).get("text", "")
        value = str(option.get("value", ""))
        if not text or len(text) > 75 or not value or len(value) > 150:
            problems.append(f"invalid_blocks: {where} select option {text[:20]!r} out of limits")
    return problems


def home_view_problems(view: Any) -> list[str]:
    """What Slack would reject in a `views.publish` view: not a home view, more than 100
    blocks, or a block over its limits (Slack answers `invalid_arguments` for each)."""
    if not isinstance(view, dict):
        return ["view is not a JSON object"]
    problems = [] if view.get("type") == "home" else [f"view type {view.get('type')!r} is not 'home'"]
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return [*problems, "a view needs blocks"]
    return problems + block_kit_problems({"blocks": blocks}, max_blocks=100, char_budget=None)


MODAL_TEXT_LIMITS = {"title": 24, "submit": 24, "close": 24}


def view_problems(view: Any) -> list[str]:
    """What Slack would refuse in a modal given to `views.open` / `views.update` (all
    `invalid_arguments` there), per https://api.slack.com/reference/surfaces/views."""
    if not isinstance(view, dict):
        return ["invalid_arguments: view is not an object"]
    problems: list[str] = []
    if view.get("type") != "modal":
        problems.append(f"invalid_arguments: view type {view.get('type')!r}")
    for key, limit in MODAL_TEXT_LIMITS.items():
        text = view.get(key)
        if text is None and key != "title":
            continue
        if not isinstance(text, dict) or text.get("type") != "plain_text":
            problems.append(f"invalid_arguments: {key} must be plain_text")
        elif not 1 <= len(text.get("text", "")) <= limit:
            problems.append(f"invalid_arguments: {key} text length {len(text.get('text', ''))} (max {limit})")
    if len(str(view.get("private_metadata", ""))) > 3000:
        problems.append("invalid_arguments: private_metadata longer than 3000")
    if len(str(view.get("callback_id", ""))) > 255:
        problems.append("invalid_arguments: callback_id longer than 255")
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= 100:
        return [*problems, "invalid_arguments: a modal has 1 to 100 blocks"]
    inputs = [b for b in blocks if isinstance(b, dict) and b.get("type") == "input"]
    if inputs and "submit" not in view:
        problems.append("invalid_arguments: a modal with inputs needs a submit label")
    for i, block in enumerate(blocks):
        if block.get("type") != "input":
            problems += [
                p.replace("invalid_blocks", "invalid_arguments") for p in block_kit_problems({"blocks": [block]})
            ]
            continue
        label = (block.get("label") or {}).get("text", "")
        if not 1 <= len(label) <= 2000:
            problems.append(f"invalid_arguments: block {i} input label length {len(label)}")
        if len((block.get("hint") or {}).get("text", "")) > 2000:
            problems.append(f"invalid_arguments: block {i} input hint too long")
        element = block.get("element") or {}
        if element.get("type") != "plain_text_input":
            problems.append(f"invalid_arguments: block {i} unexpected input element {element.get('type')!r}")
            continue
        low, high = element.get("min_length", 0), element.get("max_length", 3000)
        if not (0 <= low <= 3000 and 1 <= high <= 3000 and low <= high):
            problems.append(f"invalid_arguments: block {i} input lengths {low}..{high}")
        if len((element.get("placeholder") or {}).get("text", "")) > 150:
            problems.append(f"invalid_arguments: block {i} placeholder longer than 150")
    return problems


class FakeSlack:
    """The fake. Use as `async with FakeSlack() as slack:`; `slack.api_url` goes in
    CCERT_SLACK_API_URL (Settings.slack_api_url)."""

    def __init__(
        self,
        *,
        token: str = "xoxb-fake-token",
        team_id: str = "T0FAKE",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        validate_blocks: bool = True,
    ) -> None:
        self.token = token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.validate_blocks = validate_blocks
        self.calls: list[Call] = []
        self.usergroups: dict[str, list[str]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.unknown_channels: set[str] = set()
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}  # user → the Home tab view last published for them
        self.views: dict[str, dict[str, Any]] = {}  # opened modals by view id (as last updated)
        self._used_triggers: set[str] = set()
        self.uploads: dict[str, UploadedFile] = {}  # by file id, in the order they were asked for
        # Seconds before the answer to a method ("*": every method). The call takes effect at once
        # (a message is in the channel) and only the answer is late, as when Slack is slow.
        self.delays: dict[str, float] = {}
        self._hung: set[str] = set()
        self._release = asyncio.Event()
        self.socket_received: list[dict[str, Any]] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._drops: dict[str, int] = {}
        self._last_ts = 0.0
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self._socket_connected = asyncio.Event()
        self.port: int = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        # A hung call must not hold the fake's shutdown for aiohttp's default 60 s.
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        self._release.set()
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, key: str | None = None) -> str:
        return f"{self.base_url}/response/{key or uuid.uuid4().hex[:12]}"

    # ------------------------------------------------------------------ programming

    def fail_next(
        self, method: str, times: int = 1, *, status: int = 429, retry_after: int | None = 1, error: str | None = None
    ) -> None:
        """The next `times` calls to `method` fail: HTTP `status` (429 with Retry-After by
        default), or HTTP 200 `{"ok": false, "error": error}` when `error` is given."""
        self._failures.setdefault(method, deque()).append(
            _Failure(status=status, retry_after=retry_after, error=error, remaining=times)
        )

    def drop_next(self, method: str, times: int = 1) -> None:
        """The next `times` calls to `method` take effect (a message is posted), then the
        connection is cut before the answer: what a proxy reset looks like to the client."""
        self._drops[method] = self._drops.get(method, 0) + times

    def hang(self, method: str = "*") -> None:
        """Calls to `method` ("*": every method) take effect but are never answered until
        `release()` (or `stop()`): a Slack that accepts the connection and says nothing."""
        self._hung.add(method)
        self._release.clear()

    def release(self) -> None:
        """Answer every hung call now and stop hanging."""
        self._hung.clear()
        self._release.set()

    def channel_history(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages in `channel`, oldest first (thread replies not included)."""
        return [
            m
            for (c, _), m in sorted(self.messages.items(), key=lambda kv: float(kv[0][1]))
            if c == channel and m.get("thread_ts") in (None, m["ts"])
        ]

    # ------------------------------------------------------------------ inspection

    def uploaded_files(self) -> list[UploadedFile]:
        """Files uploaded and shared (`files.completeUploadExternal` done), oldest first."""
        return [f for f in self.uploads.values() if f.completed]

    def uploaded_bytes(self, filename: str) -> bytes:
        """The content of the shared file named `filename` (the last one, if several)."""
        found = [f for f in self.uploaded_files() if f.filename == filename]
        if not found or found[-1].data is None:
            names = [f.filename for f in self.uploaded_files()]
            raise AssertionError(f"no shared upload named {filename!r}; shared: {names}")
        return found[-1].data

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def top_level_posts(self) -> list[dict[str, Any]]:
        """The bodies of `chat.postMessage` calls outside any thread, oldest first."""
        return [c.body for c in self.calls_to("chat.postMessage") if not c.body.get("thread_ts")]

    def thread_posts(self, ts: str) -> list[dict[str, Any]]:
        """The bodies of `chat.postMessage` calls in the thread of message `ts`, oldest first."""
        return [c.body for c in self.calls_to("chat.postMessage") if c.body.get("thread_ts") == ts]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until `method` was called at least `count` times; returns those calls."""

        async def reached() -> list[Call]:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.calls_to(method)) >= count)
            return self.calls_to(method)

        try:
            return await asyncio.wait_for(reached(), timeout)
        except TimeoutError:
            seen = [c.method for c in self.calls]
            raise AssertionError(
                f"expected {count} call(s) to {method} within {timeout}s; got "
                f"{len(self.calls_to(method))}. All calls: {seen}"
            ) from None

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    # ------------------------------------------------------------------ HTTP handlers

    @staticmethod
    async def _parse(request: web.Request) -> dict[str, Any]:
        body: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                data = await request.json()
                if isinstance(data, dict):
                    body.update(data)
            else:
                form = await request.post()
                body.update({k: v for k, v in form.items() if isinstance(v, str)})
        for key in ("blocks", "attachments", "view", "users", "files"):
            value = body.get(key)
            if isinstance(value, str) and value[:1] in "[{":
                with contextlib.suppress(ValueError):
                    body[key] = json.loads(value)
        return body

    @staticmethod
    def _headers(request: web.Request) -> tuple[dict[str, str], str | None]:
        headers: dict[str, str] = {}
        token = None
        for key, value in request.headers.items():
            if key.lower() == "authorization":
                scheme, _, credential = value.partition(" ")
                token = credential or None
                headers[key] = f"{scheme} {REDACTED}"
            else:
                headers[key] = value
        return headers, token

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await self._parse(request)
        headers, token = self._headers(request)
        if token is None and isinstance(body.get("token"), str):
            token = body.pop("token")
            body["token"] = REDACTED
        call = Call(method=method, body=body, headers=headers, at=time.monotonic(), token=token)
        await self._record(call)

        queue = self._failures.get(method)
        if queue:
            failure = queue[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.popleft()
            await self._late(method)
            if failure.error is not None:
                return web.json_response({"ok": False, "error": failure.error})
            extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            error = "ratelimited" if failure.status == 429 else "fatal_error"
            return web.json_response({"ok": False, "error": error}, status=failure.status, headers=extra)

        if method != "apps.connections.open" and token != self.token:
            answer: dict[str, Any] = {"ok": False, "error": "not_authed" if token is None else "invalid_auth"}
        else:
            handler = getattr(self, "_m_" + method.replace(".", "_"), None)
            answer = {"ok": False, "error": "unknown_method"} if handler is None else await handler(body, request)
        call.response = answer
        await self._late(method)
        if self._drops.get(method):
            self._drops[method] -= 1
            if request.transport is not None:
                request.transport.close()
            raise ConnectionResetError("fake Slack dropped the connection")
        return web.json_response(answer)

    async def _late(self, method: str) -> None:
        """Hold the answer as programmed: hung until released, or delayed."""
        if method in self._hung or "*" in self._hung:
            await self._release.wait()
        delay = self.delays.get(method, self.delays.get("*", 0.0))
        if delay:
            await asyncio.sleep(delay)

    def _next_ts(self) -> str:
        """Message timestamps as Slack makes them: wall-clock seconds, unique in the channel."""
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _message_problem(self, body: dict[str, Any]) -> str | None:
        channel = body.get("channel")
        if not channel:
            return "channel_not_found"
        if channel in self.unknown_channels:
            return "channel_not_found"
        if not body.get("text") and not body.get("blocks"):
            return "no_text"
        if self.validate_blocks:
            problems = block_kit_problems(body)
            if problems:
                return problems[0].split(":")[0]
        return None

    @staticmethod
    def _metadata(body: dict[str, Any]) -> dict[str, Any] | None:
        """A message's `metadata` argument (an object, or its JSON as a form field); None without one."""
        metadata = body.get("metadata")
        if isinstance(metadata, str):
            with contextlib.suppress(ValueError):
                metadata = json.loads(metadata)
        return metadata if isinstance(metadata, dict) else None

    async def _m_chat_postMessage(self, body: dict[str, Any], _: web.Request) -> dict[str, Any]:
        problem = self._message_problem(body)
        if problem:
            return {"ok": False, "error": problem}
        ts = self._next_ts()
        message = {
            "type": "message",
            "text": body.get("text", ""),
            "blocks": body.get("blocks", []),
            "ts": ts,
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
        }
        if body.get("thread_ts"):
            message["thread_ts"] = body["thread_ts"]
        metadata = self._metadata(body)
        if metadata:
            message["metadata"] = metadata
        self.messages[(body["channel"], ts)] = message
        return {"ok": True, "channel": body["channel"], "ts": ts, "message": message}

    async def _m_chat_postEphemeral(self, body: dict[str, Any], _: web.Request) -> dict[str, Any]:
        problem = self._message_problem(body)
        if problem:
            return {"ok": False, "error": problem}
        if not body.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        return {"ok": True, "message_ts": self._next_ts()}

    async def _m_chat_update(self, body: dict[str, Any], _: web.Request) -> dict[str, Any]:
        problem = self._message_problem(body)
        if problem:
            return {"ok": False, "error": problem}
        key = (body["channel"], str(body.get("ts")))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        self.messages[key].update(text=body.get("text", ""), blocks=body.get("blocks", []))
        # As Slack: an update with metadata replaces it, an empty object removes it, none keeps it.
        metadata = self._metadata(body)
        if metadata:
            self.messages[key]["metadata"] = metadata
        elif metadata == {}:
            self.messages[key].pop("metadata", None)
        return {"ok": True, "channel": key[0], "ts": key[1], "text": body.get("text", "")}

    async def _m_conversations_history(self, body: dict[str, Any], _: web.Request) -> dict[str, Any]:
        """Top-level messages newest first between `oldest` and `latest`; metadata only when
        `include_all_metadata` is true, as Slack does."""
        channel = str(body.get("channel", ""))
        if channel in self.unknown_channels or not channel:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(body.get("oldest") or 0)
        latest = float(body.get("latest") or "inf")
        inclusive = str(body.get("inclusive", "")).lower() in {"1", "true"}
        with_metadata = str(body.get("include_all_metadata", "")).lower() in {"1", "true"}

        def inside(ts: float) -> bool:
            return (oldest <= ts <= latest) if inclusive else (oldest < ts < latest)

        found = [m for m in reversed(self.channel_history(channel)) if inside(float(m["ts"]))]
        return self._page(found, body, with_metadata)

    async def _m_conversations_replies(self, body: dict[str, Any], _: web.Request) -> dict[str, Any]:
        """A thread, parent first, then replies oldest first (from `oldest` on)."""
        channel, parent = str(body.get("channel", "")), str(body.get("ts", ""))
        if (channel, parent) not in self.messages:
            return {"ok": False, "error": "thread_not_found"}
        oldest = float(body.get("oldest") or 0)
        with_metadata = str(body.get("include_all_metadata", "")).lower() in {"1", "true"}
        thread = sorted(
            (m for (c, ts), m in self.messages.items() if c == channel and parent in (ts, m.get("thread_ts"))),
            key=lambda m: float(m["ts"]),
        )
        return self._page([m for m in thread if m["ts"] == parent or float(m["ts"]) >= oldest], body, with_metadata)

    @staticmethod
    def _page(found: list[dict[str, Any]], body: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
        """One page of `found` at the cursor (an offset here; opaque to the client, as Slack's)."""
        limit = min(int(body.get("limit") or 100), 999)
        start = int(body.get("cursor") or 0)
        page = [{k: v for k, v in m.items() if k != "metadata" or with_metadata} for m in found[start : start + limit]]
        more = start + limit < len(found)
        answer: dict[str, Any] = {"ok": True, "messages": page, "has_more": more}
        if more:
            answer["response_metadata"] = {"next_cursor": str(start + limit)}
        return answer

    async def _m_files_getUploadURLExternal(self, body: dict[str, Any], _: web.Request) -> dict[str, Any]:
        filename = str(body.get("filename") or "")
        try:
            length = int(body.get("length") or 0)
        except ValueError:
            length = 0
        if not filename:
            return {"ok": False, "error": "invalid_arguments"}
        if length <= 0:
            return {"ok": False, "error": "invalid_length"}
        file_id = "F" + uuid.uuid4().hex[:10].upper()
        self.uploads[file_id] = UploadedFile(file_id, filename, length)
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL: the file's bytes as the request body (Slack answers `OK - <length>`)."""
        file_id = request.match_info["file_id"]
        data = await request.read()
        headers, _ = self._headers(request)
        await self._record(
            Call(
                method="file_upload",
                body={"file_id": file_id, "length": len(data)},
                headers=headers,
                at=time.monotonic(),
            )
        )
        upload = self.uploads.get(file_id)
        if upload is None:
            return web.Response(status=404, text="unknown upload")
        if len(data) != upload.length:
            return web.Response(status=400, text=f"length {len(data)} != {upload.length}")
        upload.data = data
        return web.Response(text=f"OK - {len(data)}")

    async def _m_files_completeUploadExternal(self, body: dict[str, Any], _: web.Request) -> dict[str, Any]:
        files = body.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        channel = body.get("channel_id") or None
        if channel is not None and channel in self.unknown_channels:
            return {"ok": False, "error": "channel_not_found"}
        found = []
        for item in files:
            upload = self.uploads.get(str(item.get("id"))) if isinstance(item, dict) else None
            if upload is None or upload.data is None:
                return {"ok": False, "error": "file_not_found"}
            found.append((upload, item.get("title")))
        thread = body.get("thread_ts") or None
        shared = []
        for upload, title in found:
            upload.completed = True
            upload.title = str(title) if title else upload.filename
            upload.channel, upload.thread_ts = channel, thread
            upload.initial_comment = body.get("initial_comment") or None
            shared.append({"id": upload.file_id, "name": upload.filename, "title": upload.title, "size": upload.length})
        if channel is not None:
            ts = self._next_ts()
            message: dict[str, Any] = {
                "type": "message",
                "text": body.get("initial_comment") or "",
                "files": shared,
                "ts": ts,
                "user": self.bot_user_id,
            }
            if thread:
                message["thread_ts"] = thread
            self.messages[(channel, ts)] = message
        return {"ok": True, "files": shared}

    async def _m_auth_test(self, _: dict[str, Any], __: web.Request) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.com/",
            "team": "Fake Team",
            "user": "ccert-bot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    async def _m_conversations_info(self, body: dict[str, Any], _: web.Request) -> dict[str, Any]:
        channel = str(body.get("channel", ""))
        if channel in self.unknown_channels or not channel:
            return {"ok": False, "error": "channel_not_found"}
        info = {
            "id": channel,
            "name": channel.lower(),
            "is_channel": True,
            "is_member": True,
            **self.channels.get(channel, {}),
        }
        return {"ok": True, "channel": info}

    async def _m_usergroups_users_list(self, body: dict[str, Any], _: web.Request) -> dict[str, Any]:
        group = str(body.get("usergroup", ""))
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.usergroups[group])}

    async def _m_users_info(self, body: dict[str, Any], _: web.Request) -> dict[str, Any]:
        user = str(body.get("user", ""))
        info = self.users.get(user) or {"id": user, "name": user.lower(), "real_name": f"User {user}"}
        return {"ok": True, "user": {"id": user, **info}}

    async def _m_views_publish(self, body: dict[str, Any], _: web.Request) -> dict[str, Any]:
        """Publish a Home tab view: refused like Slack (`invalid_arguments`) when over a limit,
        else kept in `home_views[user_id]` (the newest wins, as in Slack)."""
        user = str(body.get("user_id") or "")
        if not user:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": ["user_id"]}}
        view = body.get("view")
        if self.validate_blocks:
            problems = home_view_problems(view)
            if problems:
                return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": problems}}
        assert isinstance(view, dict)
        published = {"id": "V" + uuid.uuid4().hex[:8].upper(), **view}
        self.home_views[user] = published
        return {"ok": True, "view": published}

    async def _m_views_open(self, body: dict[str, Any], _: web.Request) -> dict[str, Any]:
        """Open a modal: the trigger_id is good once, the view must keep Slack's limits."""
        trigger = body.get("trigger_id")
        if not isinstance(trigger, str) or not trigger:
            return {"ok": False, "error": "invalid_trigger_id"}
        if trigger in self._used_triggers:
            return {"ok": False, "error": "exchanged_trigger_id"}
        view = body.get("view")
        problems = view_problems(view)
        if problems:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": problems}}
        self._used_triggers.add(trigger)
        assert isinstance(view, dict)
        view_id = "V" + uuid.uuid4().hex[:10].upper()
        opened = {
            "id": view_id,
            "team_id": self.team_id,
            "hash": uuid.uuid4().hex[:16],
            **view,
            "state": {"values": {}},
        }
        self.views[view_id] = opened
        return {"ok": True, "view": opened}

    async def _m_views_update(self, body: dict[str, Any], _: web.Request) -> dict[str, Any]:
        view_id = str(body.get("view_id") or "")
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        view = body.get("view")
        problems = view_problems(view)
        if problems:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": problems}}
        assert isinstance(view, dict)
        self.views[view_id] = {**self.views[view_id], **view, "hash": uuid.uuid4().hex[:16]}
        return {"ok": True, "view": self.views[view_id]}

    async def _m_apps_connections_open(self, _: dict[str, Any], __: web.Request) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await self._parse(request)
        headers, _ = self._headers(request)
        body["_key"] = request.match_info["key"]
        await self._record(Call(method="response_url", body=body, headers=headers, at=time.monotonic()))
        if self.delays.get("response_url"):
            await asyncio.sleep(self.delays["response_url"])
        queue = self._failures.get("response_url")
        if queue:
            failure = queue[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.popleft()
            return web.Response(
                status=failure.status if failure.error is None else 404, text=failure.error or "rate_limited"
            )
        return web.Response(text="ok")

    # ------------------------------------------------------------------ Socket Mode

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.add(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "connection_info": {"app_id": "AFAKE"},
                "debug_info": {"host": "fake"},
            }
        )
        self._socket_connected.set()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    data = json.loads(msg.data)
                    async with self._changed:
                        self.socket_received.append(data)
                        self._changed.notify_all()
        finally:
            self._sockets.discard(ws)
        return ws

    async def wait_for_socket(self, timeout: float = 5.0) -> None:
        await asyncio.wait_for(self._socket_connected.wait(), timeout)

    async def send_envelope(
        self, envelope_type: str, payload: dict[str, Any], *, accepts_response_payload: bool = True
    ) -> str:
        """Push one Socket Mode envelope (e.g. "slash_commands", "interactive", "events_api")."""
        envelope_id = str(uuid.uuid4())
        message = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        for ws in list(self._sockets):
            await ws.send_json(message)
        return envelope_id

    async def wait_for_socket_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((m for m in self.socket_received if m.get("envelope_id") == envelope_id), None)

        async def reached() -> dict[str, Any]:
            async with self._changed:
                await self._changed.wait_for(lambda: found() is not None)
            result = found()
            assert result is not None
            return result

        try:
            return await asyncio.wait_for(reached(), timeout)
        except TimeoutError:
            raise AssertionError(f"no Socket Mode ack for {envelope_id} within {timeout}s") from None
