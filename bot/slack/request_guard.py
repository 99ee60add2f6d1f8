"""The gate in front of Bolt on the HTTP events path: verify first, parse after.

slack-bolt's aiohttp adapter builds an `AsyncBoltRequest` (which parses the
body as JSON or as a form with a JSON `payload` field) before Bolt's signature
middleware runs. So anyone who can reach `/slack/events` can make Bolt parse
whatever they send, and every malformed body became an HTTP 500 with a
traceback in the log. Slack also sends no nonce, so a captured signed request
could be replayed for five minutes and run its command again.

`SlackRequestGuard` is the aiohttp handler for POST on the events path. In
this order, and stopping at the first refusal:

1. size, from the headers alone: a Content-Length over `MAX_BODY_BYTES`, or a
   compressed body (Slack never compresses; a small compressed body could
   inflate past the cap), is refused before a byte of it is read → 413 / 415;
2. `X-Slack-Request-Timestamp` must be digits within five minutes of now and
   `X-Slack-Signature` must look like `v0=<64 hex>` → else 401;
3. the body is read, at most `MAX_BODY_BYTES + 1` bytes (so a chunked body is
   bounded too, → 413) within a time limit (→ 408);
4. the HMAC-SHA256 of `v0:{timestamp}:{body}` is compared in constant time → 401;
5. a signature already accepted within the window is a replay → 409;
6. only now is the body parsed, the way Bolt will parse it; a payload that is
   not a JSON object → 400;
7. Bolt gets the request (its own verification stays on: defense in depth, and
   a request verified here passes it); anything Bolt raises → 400 / 500.

Every refusal answers with a short plain-text body and logs at most one line
per source address per minute (`LogLimiter`), without traceback, body,
headers or secret. Socket Mode has no signed requests and does not use this.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import hmac
import json
import logging
import re
import time
from collections.abc import Callable
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.client_exceptions import ClientError
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import SecretStr
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.loglimit import LogLimiter
from bot.store import Store, signatures

log = logging.getLogger(__name__)

# Slack's own limits put real requests far below this: a slash command is a
# short form (text ≤ 4,000 characters), an event envelope a few KiB, and the
# largest, a block_actions payload, carries the whole message the button was on
# (≤ 50 blocks of ≤ 3,000 characters of text each, JSON-escaped and then
# form-encoded, which can roughly double it): a few hundred KiB in the worst
# case. 512 KiB leaves room for that and refuses anything that is not Slack.
MAX_BODY_BYTES = 512 * 1024
# Slack's replay window, which Bolt enforces too: a timestamp more than five
# minutes from now (either way) is refused, so a signature need only be
# remembered until its timestamp leaves the window.
REPLAY_WINDOW_SECONDS = 300
# 50,000 signatures in five minutes is ~166 verified requests a second, far
# beyond a single-workspace chat-ops bot; only verified requests are
# remembered, so nobody without the signing secret can fill (or flush) it.
MAX_REMEMBERED_SIGNATURES = 50_000
# Slack expects an answer within 3 s; a body still arriving after this is not
# Slack, and must not hold a handler (a slow-loris) forever.
BODY_READ_TIMEOUT_SECONDS = 10.0

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
_TIMESTAMP = re.compile(r"[0-9]{1,15}")  # ASCII digits only; short enough that int() cannot be slow
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")  # what Slack sends: lowercase hex of HMAC-SHA256

# Friendly, fixed answers: never an exception text, never an echo of the request.
_ANSWERS = {
    400: "Bad request: this is not a Slack payload this app understands.",
    401: "Unauthorized: this endpoint accepts only requests signed by Slack.",
    408: "Request body not received in time.",
    # 409 Conflict for a replay: the request is authentic (so not 401) and well
    # formed (so not 400), but it was already handled, and running it again would
    # conflict with that. A distinct code also tells a replay apart in access logs.
    409: "Already handled: this request was received before.",
    413: "Request body too large.",
    415: "Compressed request bodies are not accepted.",
    500: "Internal error while handling the Slack request.",
}


class ReplayMemory:
    """Signatures of accepted requests, kept until their timestamp leaves the replay window.

    Bounded: past `capacity`, the entry whose timestamp is oldest (the nearest to
    expiring anyway) is forgotten first. Time is passed in, so tests need no clock.
    """

    def __init__(self, *, window: float = REPLAY_WINDOW_SECONDS, capacity: int = MAX_REMEMBERED_SIGNATURES) -> None:
        self._window = window
        self._capacity = capacity
        self._expiry: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []  # (expiry, signature), the same entries as _expiry

    def __len__(self) -> int:
        return len(self._expiry)

    def remember(self, signature: str, timestamp: int, now: float) -> bool:
        """True the first time `signature` is seen within the window; False for a replay."""
        self._forget(lambda expiry: expiry < now)
        if signature in self._expiry:
            return False
        expiry = timestamp + self._window
        self._expiry[signature] = expiry
        heapq.heappush(self._heap, (expiry, signature))
        self._forget(lambda _: len(self._expiry) > self._capacity)
        return True

    def _forget(self, should: Callable[[float], bool]) -> None:
        """Drop entries oldest-first while `should(oldest expiry)` holds."""
        while self._heap and should(self._heap[0][0]):
            _, signature = heapq.heappop(self._heap)
            del self._expiry[signature]


class SharedReplays:
    """The replay memory of every instance sharing one store (PostgreSQL, active/standby).

    This instance's own `ReplayMemory` answers first (a replay it saw itself costs no write);
    a signature new to it is then recorded in the store (`signatures.remember_signature`),
    which refuses it if another instance accepted it. If the store cannot be written, the
    local answer stands and the failure is logged: Slack must be acknowledged within 3 s,
    and a replay across instances during a database outage is the smaller risk.
    """

    def __init__(self, store: Store, local: ReplayMemory | None = None) -> None:
        self._store = store
        self._local = local or ReplayMemory()

    async def first_time(self, signature: str, timestamp: int, now: float) -> bool:
        if not self._local.remember(signature, timestamp, now):
            return False
        try:
            return await self._store.write(
                signatures.remember_signature, signature, timestamp + REPLAY_WINDOW_SECONDS, now
            )
        except Exception as error:
            log.warning("could not share a Slack signature with the other instances (%s)", type(error).__name__)
            return True


class _Refusal(Exception):
    """Why a request is refused: the HTTP status, and a reason for the log (never request data)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(status, reason)
        self.status = status
        self.reason = reason


class SlackRequestGuard:
    """The aiohttp handler for Slack's POSTs: verify, then parse, then hand over to Bolt.

    `clock` (seconds since the epoch) is injectable for tests; the replay memory
    and log limiter are per guard, i.e. per front door.
    """

    def __init__(
        self,
        app: AsyncApp,
        signing_secret: SecretStr,
        *,
        clock: Callable[[], float] = time.time,
        max_body_bytes: int = MAX_BODY_BYTES,
        read_timeout: float = BODY_READ_TIMEOUT_SECONDS,
        replays: ReplayMemory | SharedReplays | None = None,
        log_limiter: LogLimiter | None = None,
    ) -> None:
        if not signing_secret.get_secret_value():
            raise ValueError("a signing secret is required to verify Slack requests")
        self._app = app
        self._secret = signing_secret
        self._clock = clock
        self._max_body_bytes = max_body_bytes
        self._read_timeout = read_timeout
        self._replays = replays if replays is not None else ReplayMemory()
        self._log_limiter = log_limiter if log_limiter is not None else LogLimiter()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The aiohttp handler (a bound coroutine method, as aiohttp wants)."""
        try:
            text = await self._verified_body(request)
            _check_payload(text, _content_type(request))
            try:
                # Bolt reads the first value of each header, as the checks above did.
                bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=dict(request.headers))
            except Exception as error:  # a JSON object Bolt cannot make sense of (e.g. odd field types)
                raise _Refusal(400, f"Bolt could not read the payload ({type(error).__name__})") from None
        except _Refusal as refusal:
            return self._answer(request, refusal.status, refusal.reason)
        try:
            return await to_aiohttp_response(await self._app.async_dispatch(bolt_request))
        except Exception as error:
            return self._answer(request, 500, f"Bolt failed on a verified request ({type(error).__name__})")

    async def _verified_body(self, request: web.Request) -> str:
        """Steps 1-5 of the module docstring: the body as text, once it is known to be Slack's."""
        self._check_size_headers(request)
        timestamp = _single_header(request, TIMESTAMP_HEADER)
        signature = _single_header(request, SIGNATURE_HEADER)
        if timestamp is None or not _TIMESTAMP.fullmatch(timestamp):
            raise _Refusal(401, "timestamp header missing or not a number")
        if abs(self._clock() - int(timestamp)) > REPLAY_WINDOW_SECONDS:
            raise _Refusal(401, "timestamp outside the 5-minute window")
        if signature is None or not _SIGNATURE.fullmatch(signature):
            raise _Refusal(401, "signature header missing or malformed")
        body = await self._read_body(request)
        base = b"v0:" + timestamp.encode("ascii") + b":" + body
        expected = "v0=" + hmac.new(self._secret.get_secret_value().encode(), base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise _Refusal(401, "signature does not match")
        if not await self._first_time(signature, int(timestamp)):
            raise _Refusal(409, "replay of an already accepted signature")
        try:
            # Slack sends UTF-8; strict, so that Bolt's own check (which re-encodes
            # this text) sees exactly the bytes verified here.
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise _Refusal(400, "body is not UTF-8") from None

    async def _first_time(self, signature: str, timestamp: int) -> bool:
        if isinstance(self._replays, SharedReplays):
            return await self._replays.first_time(signature, timestamp, self._clock())
        return self._replays.remember(signature, timestamp, self._clock())

    def _check_size_headers(self, request: web.Request) -> None:
        """Refuse from the headers alone, before a byte of the body is read."""
        if request.content_length is not None and request.content_length > self._max_body_bytes:
            raise _Refusal(413, f"Content-Length over {self._max_body_bytes} bytes")
        if request.headers.get("Content-Encoding", "").strip().lower() not in ("", "identity"):
            raise _Refusal(415, "compressed body")

    async def _read_body(self, request: web.Request) -> bytes:
        """At most `max_body_bytes` (one more proves a chunked body too big), within the time limit."""
        limit = self._max_body_bytes
        body = bytearray()
        try:
            async with asyncio.timeout(self._read_timeout):
                while len(body) <= limit:
                    chunk = await request.content.read(limit + 1 - len(body))
                    if not chunk:
                        break
                    body += chunk
        except TimeoutError:
            raise _Refusal(408, "body not received in time") from None
        except (ConnectionError, ClientError, HttpProcessingError) as error:
            raise _Refusal(400, f"body unreadable ({type(error).__name__})") from None
        if len(body) > limit:
            raise _Refusal(413, f"body over {limit} bytes")
        return bytes(body)

    def _answer(self, request: web.Request, status: int, reason: str) -> web.Response:
        """The short answer for `status`, and one log line per source per minute at most."""
        source = request.remote or "unknown"
        if self._log_limiter.allow(source, self._clock()):
            level = logging.ERROR if status >= 500 else logging.WARNING
            log.log(level, "Slack request from %s answered %d: %s", source, status, reason)
        response = web.Response(status=status, text=_ANSWERS[status])
        # Do not keep the connection: the body may be unread, and a refused
        # client gets no cheap reuse of it.
        response.force_close()
        return response


def _single_header(request: web.Request, name: str) -> str | None:
    """The header's value; None when absent or repeated (Slack sends each exactly once)."""
    values = request.headers.getall(name, [])
    return values[0] if len(values) == 1 else None


def _content_type(request: web.Request) -> str:
    """The media type the way Bolt extracts it (first header, before any `;`), so both agree on JSON."""
    return request.headers.get("Content-Type", "").split(";")[0]


def _check_payload(text: str, content_type: str) -> None:
    """Refuse (400) a body Bolt could not parse into a JSON object.

    Mirrors Bolt's rule: JSON when the media type is `application/json` or the
    body starts with `{`; otherwise a form, whose `payload` field (interactions)
    holds JSON. Slack always sends an object; a list, string or number is not Slack.
    """
    if not text:
        raise _Refusal(400, "empty body")
    if content_type == "application/json" or text.startswith("{"):
        document, what = text, "JSON body"
    else:
        form = dict(parse_qsl(text, keep_blank_values=True))
        if "payload" not in form:
            return  # a slash command or ssl_check: plain form fields
        document, what = form["payload"], "payload field"
    try:
        parsed = json.loads(document)
    except (ValueError, RecursionError):
        raise _Refusal(400, f"{what} is not JSON") from None
    if not isinstance(parsed, dict):
        raise _Refusal(400, f"{what} is not a JSON object")
