"""The request guard in front of Bolt, driven over real HTTP: malformed, oversized,
stale and replayed requests are refused with a 4xx before anything parses them,
log at most one line per source per minute, and never reach Bolt or the dispatcher.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict
from pydantic import SecretStr
from slack_harness import SIGNING_SECRET, Front, ScriptedDispatcher, make_settings

from bot.slack import request_guard
from bot.slack.app import SlackConfigError, build_app
from bot.slack.manifest import EVENTS_PATH
from bot.slack.request_guard import MAX_BODY_BYTES, ReplayMemory, SlackRequestGuard
from bot.slack.transport import build_web_app
from bot.webserver import start_runner
from tests.support import slack_signing
from tests.support.fake_slack import FakeSlack

FORM = slack_signing.FORM
JSON = "application/json"
GUARD_LOGGER = request_guard.log.name
ONE_MB = 1024 * 1024

# The malformed requests from the issue: (name, body, content type, extra headers).
MALFORMED: list[tuple[str, bytes, str, dict[str, str]]] = [
    ("payload not json", b"payload={not json", FORM, {}),
    ("payload a list", b"payload=[1,2,3]", FORM, {}),
    ("payload a string", b'payload="x"', FORM, {}),
    ("json a list", b"[1,2]", JSON, {}),
    ("json garbage", b"{{{", JSON, {}),
    ("1 MB payload", b"payload=" + b"a" * ONE_MB, FORM, {}),
    ("timestamp abc", b"payload={not json", FORM, {"X-Slack-Request-Timestamp": "abc"}),
]
# What each gets when unsigned: too big is refused on its size, everything else as unsigned.
UNSIGNED_STATUS = {"1 MB payload": 413}


@pytest.fixture
def bolt_calls(front: Front, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every request that reached Bolt's dispatch (which still runs for real)."""
    calls: list[Any] = []
    real = front.bot.app.async_dispatch

    async def recording(request: Any) -> Any:
        calls.append(request)
        return await real(request)

    monkeypatch.setattr(front.bot.app, "async_dispatch", recording)
    return calls


def _problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def _assert_nothing_ran(front: Front, bolt_calls: list[Any]) -> None:
    assert bolt_calls == []
    assert front.dispatcher.commands == [] and front.dispatcher.actions == []
    assert front.fake.calls == []


def _valid_looking_headers(content_type: str = FORM) -> dict[str, str]:
    """Headers that pass the format checks (fresh timestamp, v0= + 64 hex) with a wrong signature."""
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }


async def _raw_request(host: str, port: int, data: bytes, *, timeout: float = 3.0) -> tuple[int, float]:
    """Write `data` as-is on a fresh connection; the response status and how long it took."""
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        started = loop.time()
        writer.write(data)
        await writer.drain()
        async with asyncio.timeout(timeout):
            status_line = await reader.readline()
        return int(status_line.split()[1]), loop.time() - started
    finally:
        writer.close()
        await writer.wait_closed()


def _head(host: str, port: int, content_length: int, headers: dict[str, str]) -> bytes:
    lines = [f"POST {EVENTS_PATH} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {content_length}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.fixture
async def serve_guard() -> AsyncIterator[Callable[[SlackRequestGuard], Awaitable[str]]]:
    """Serve a hand-built guard (e.g. with an injected clock) on 127.0.0.1; yields a starter returning its URL."""
    runners: list[web.AppRunner] = []

    async def start(guard: SlackRequestGuard) -> str:
        app = web.Application()
        app.add_routes([web.post(EVENTS_PATH, guard.handle)])
        runner, host, port = await start_runner(app, "127.0.0.1", 0)
        runners.append(runner)
        return f"http://{host}:{port}{EVENTS_PATH}"

    try:
        yield start
    finally:
        for runner in runners:
            await runner.cleanup()


async def test_unsigned_malformed_requests_get_4xx_one_log_line_and_run_nothing(
    front: Front, bolt_calls: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        for name, body, content_type, extra in MALFORMED:
            async with front.session.post(
                front.url, data=body, headers={"Content-Type": content_type, **extra}
            ) as response:
                text = await response.text()
            assert response.status == UNSIGNED_STATUS.get(name, 401), name
            assert len(text) < 120 and "Traceback" not in text and "Error" not in text, name
        await asyncio.sleep(0.1)
    problems = _problems(caplog)
    assert len(problems) == 1, [r.getMessage() for r in problems]  # one source, one minute: one line
    assert problems[0].name == GUARD_LOGGER
    assert all(r.exc_info is None for r in caplog.records)
    assert "Traceback" not in caplog.text
    assert "not json" not in caplog.text and "aaaa" not in caplog.text and SIGNING_SECRET not in caplog.text
    _assert_nothing_ran(front, bolt_calls)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"payload={not json", FORM),
        (b"payload=[1,2,3]", FORM),
        (b'payload="x"', FORM),
        (b"[1,2]", JSON),
        (b"{{{", JSON),
        (b"{{{", FORM),  # Bolt parses anything starting with "{" as JSON, whatever the Content-Type
        (b"[" * 100_000, JSON),  # deeper than json.loads can recurse
        (b"", FORM),
        (b"\xff\xfe not utf-8", FORM),
    ],
)
async def test_malformed_bodies_signed_correctly_get_400_and_run_nothing(
    front: Front, bolt_calls: list[Any], caplog: pytest.LogCaptureFixture, body: bytes, content_type: str
) -> None:
    with caplog.at_level(logging.DEBUG):
        status, text, _ = await front.send(slack_signing.sign(SIGNING_SECRET, body, content_type=content_type))
        await asyncio.sleep(0.1)
    assert status == 400
    assert isinstance(text, str) and text.startswith("Bad request")
    assert [r.name for r in _problems(caplog)] == [GUARD_LOGGER]
    assert "Traceback" not in caplog.text
    _assert_nothing_ran(front, bolt_calls)


async def test_signed_oversized_body_is_refused_on_its_size(front: Front, bolt_calls: list[Any]) -> None:
    request = slack_signing.sign(SIGNING_SECRET, b"payload=" + b"a" * ONE_MB)
    status, _, _ = await front.send(request)
    assert status == 413
    _assert_nothing_ran(front, bolt_calls)


async def test_stale_or_future_timestamp_is_refused(front: Front, bolt_calls: list[Any]) -> None:
    good = slack_signing.slash_command(SIGNING_SECRET, "status site-a")
    for request in (
        slack_signing.stale(good, SIGNING_SECRET, age_seconds=301),
        slack_signing.stale(good, SIGNING_SECRET, age_seconds=-400),  # five minutes ahead and more
    ):
        status, _, _ = await front.send(request)
        assert status == 401
    _assert_nothing_ran(front, bolt_calls)


async def test_replayed_slash_command_is_refused_and_runs_once(front: Front, bolt_calls: list[Any]) -> None:
    request = slack_signing.slash_command(SIGNING_SECRET, "status site-a", response_url=front.fake.response_url())
    first, _, _ = await front.send(request)
    replayed, body, _ = await front.send(request)
    assert first == 200
    assert replayed == 409 and isinstance(body, str) and body.startswith("Already handled")
    await front.fake.wait_for("chat.postMessage", 1)
    assert await front.bot.tasks.wait_idle(5)
    assert len(bolt_calls) == 1
    assert [text for text, _ in front.dispatcher.commands] == ["status site-a"]
    assert len(front.fake.calls_to("chat.postMessage")) == 1


async def test_different_requests_signed_in_the_same_second_both_run(front: Front) -> None:
    now = int(time.time())
    for text in ("status site-a", "status site-b"):
        status, _, _ = await front.send(slack_signing.slash_command(SIGNING_SECRET, text, timestamp=now))
        assert status == 200
    assert [text for text, _ in front.dispatcher.commands] == ["status site-a", "status site-b"]


async def test_repeated_signature_header_is_refused(front: Front, bolt_calls: list[Any]) -> None:
    request = slack_signing.slash_command(SIGNING_SECRET, "status site-a")
    headers = CIMultiDict(request.headers)
    headers.add("X-Slack-Signature", request.headers["X-Slack-Signature"])
    async with front.session.post(front.url, data=request.body, headers=headers) as response:
        assert response.status == 401
    _assert_nothing_ran(front, bolt_calls)


async def test_compressed_body_is_refused_unread(front: Front, bolt_calls: list[Any]) -> None:
    headers = {**_valid_looking_headers(), "Content-Encoding": "gzip"}
    async with front.session.post(front.url, data=b"\x1f\x8b not really gzip", headers=headers) as response:
        assert response.status == 415
    _assert_nothing_ran(front, bolt_calls)


async def test_oversized_content_length_is_refused_without_reading_the_body(
    front: Front, bolt_calls: list[Any]
) -> None:
    host, port = front.server.host, front.server.port
    head = _head(host, port, 10 * ONE_MB, _valid_looking_headers())
    # Only a few bytes of the claimed 10 MB ever arrive: an answer proves nobody waited for the rest.
    status, elapsed = await _raw_request(host, port, head + b"payload=aaaa")
    assert status == 413 and elapsed < 2
    _assert_nothing_ran(front, bolt_calls)


async def test_chunked_body_over_the_cap_is_refused_while_reading(front: Front, bolt_calls: list[Any]) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b"payload="
        # Over the guard's cap, yet under aiohttp's default 1 MiB client_max_size.
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            sent += 65536
            yield b"a" * 65536

    async with front.session.post(front.url, data=chunks(), headers=_valid_looking_headers()) as response:
        assert response.status == 413
    assert sent > MAX_BODY_BYTES  # it really was over the cap, with no Content-Length to say so
    _assert_nothing_ran(front, bolt_calls)


async def test_a_legitimate_chunked_request_still_runs(front: Front) -> None:
    request = slack_signing.slash_command(SIGNING_SECRET, "status site-a")

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(request.body), 7):
            yield request.body[i : i + 7]

    async with front.session.post(front.url, data=chunks(), headers=request.headers) as response:
        assert response.status == 200
    assert [text for text, _ in front.dispatcher.commands] == ["status site-a"]


async def test_url_verification_json_is_answered_by_bolt(front: Front) -> None:
    body = b'{"token": "t", "challenge": "ch4ll3nge", "type": "url_verification"}'
    status, answer, _ = await front.send(slack_signing.sign(SIGNING_SECRET, body, content_type=JSON))
    assert status == 200 and "ch4ll3nge" in str(answer)


async def test_bolt_failure_is_a_short_500_and_one_line_without_traceback(
    front: Front, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(_: Any) -> Any:
        raise RuntimeError("detail from the body: hunter2")

    monkeypatch.setattr(front.bot.app, "async_dispatch", broken)
    with caplog.at_level(logging.DEBUG):
        status, body, _ = await front.send(slack_signing.slash_command(SIGNING_SECRET, "status site-a"))
    assert status == 500
    assert isinstance(body, str) and len(body) < 120 and "hunter2" not in body
    (record,) = _problems(caplog)
    assert record.name == GUARD_LOGGER and record.levelno == logging.ERROR and record.exc_info is None
    assert "RuntimeError" in record.getMessage() and "hunter2" not in caplog.text


async def test_the_guard_judges_timestamps_by_its_clock(
    fake_slack: FakeSlack, dispatcher: ScriptedDispatcher, serve_guard: Callable[[SlackRequestGuard], Awaitable[str]]
) -> None:
    bot = build_app(make_settings(fake_slack), dispatcher)
    secret = SecretStr(SIGNING_SECRET)
    try:
        late = await serve_guard(SlackRequestGuard(bot.app, secret, clock=lambda: time.time() + 400))
        on_time = await serve_guard(SlackRequestGuard(bot.app, secret, clock=time.time))
        async with aiohttp.ClientSession() as session:
            refused, _ = await slack_signing.slash_command(SIGNING_SECRET, "status a").post(session, late)
            accepted, _ = await slack_signing.slash_command(SIGNING_SECRET, "status b").post(session, on_time)
        assert (refused, accepted) == (401, 200)
        assert [text for text, _ in dispatcher.commands] == ["status b"]
    finally:
        await bot.aclose()


async def test_a_body_that_never_arrives_times_out(
    fake_slack: FakeSlack, dispatcher: ScriptedDispatcher, serve_guard: Callable[[SlackRequestGuard], Awaitable[str]]
) -> None:
    bot = build_app(make_settings(fake_slack), dispatcher)
    try:
        url = await serve_guard(SlackRequestGuard(bot.app, SecretStr(SIGNING_SECRET), read_timeout=0.3))
        host, port = url.split("//")[1].split("/")[0].split(":")
        head = _head(host, int(port), 100, _valid_looking_headers())
        status, elapsed = await _raw_request(host, int(port), head + b"payload=")
        assert status == 408 and elapsed < 2
        assert dispatcher.commands == []
    finally:
        await bot.aclose()


async def test_http_mode_without_a_signing_secret_refuses_to_start(
    fake_slack: FakeSlack, dispatcher: ScriptedDispatcher
) -> None:
    bot = build_app(make_settings(fake_slack, slack_signing_secret=None, slack_app_token="xapp-1-test"), dispatcher)
    try:
        with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET"):
            build_web_app(bot)
    finally:
        await bot.aclose()


def test_replay_memory_forgets_a_signature_once_its_timestamp_leaves_the_window() -> None:
    memory = ReplayMemory(window=300)
    assert memory.remember("sig-a", timestamp=1_000, now=1_000)
    assert not memory.remember("sig-a", timestamp=1_000, now=1_299)
    assert not memory.remember("sig-a", timestamp=1_000, now=1_300)  # still inside: Bolt accepts |now - ts| == 300
    assert memory.remember("sig-b", timestamp=1_200, now=1_301)  # time passing drops sig-a ...
    assert len(memory) == 1  # ... without anyone asking about it again
    assert memory.remember("sig-a", timestamp=1_000, now=1_301)


def test_replay_memory_is_bounded_and_forgets_the_oldest_first() -> None:
    memory = ReplayMemory(window=300, capacity=3)
    for i, timestamp in enumerate((1_003, 1_001, 1_002, 1_004)):
        assert memory.remember(f"sig-{i}", timestamp=timestamp, now=1_005)
    assert len(memory) == 3
    for kept, timestamp in (("sig-0", 1_003), ("sig-2", 1_002), ("sig-3", 1_004)):
        assert not memory.remember(kept, timestamp=timestamp, now=1_005)
    assert memory.remember("sig-1", timestamp=1_001, now=1_005)  # the oldest timestamp went first
    assert len(memory) == 3


async def test_requests_too_broken_for_http_get_400_and_one_line_without_traceback(
    front: Front, bolt_calls: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp answers these before any handler runs; its log goes through our filter."""
    host, port = front.url.split("//")[1].split("/")[0].split(":")
    broken = [
        f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".encode(),
        f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".encode(),
        f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".encode(),
    ]
    with caplog.at_level(logging.DEBUG):
        for data in broken:
            status, _ = await _raw_request(host, int(port), data)
            assert status == 400
        await asyncio.sleep(0.1)
    problems = _problems(caplog)
    assert len(problems) <= 1, [r.getMessage() for r in problems]
    assert all(r.exc_info is None for r in caplog.records)
    assert "Traceback" not in caplog.text
    _assert_nothing_ran(front, bolt_calls)
