"""Transports and the background-task registry: Socket Mode against the fake's
WebSocket endpoint, mode selection, and that every task is accounted for."""

from __future__ import annotations

import asyncio
import logging
import socket

import aiohttp
import pytest
from slack_harness import BOT_TOKEN, ScriptedDispatcher, make_settings

from bot.slack.app import SlackConfigError, api_base_url, build_app
from bot.slack.delivery import BackgroundTasks
from bot.slack.transport import HttpServerHandle, SocketModeHandle, serve, start, start_http_server
from tests.support.fake_slack import FakeSlack


async def test_socket_mode_round_trip(fake_slack: FakeSlack, dispatcher: ScriptedDispatcher) -> None:
    settings = make_settings(fake_slack, slack_app_token="xapp-1-test-app-token")
    bot = build_app(settings, dispatcher)
    handle = await start(bot, settings, host="127.0.0.1")
    try:
        assert isinstance(handle, SocketModeHandle)
        await fake_slack.wait_for_socket()
        payload = {
            "team_id": "T0FAKE",
            "channel_id": "C7",
            "user_id": "U7",
            "user_name": "carol",
            "command": "/ccert",
            "text": "status site-a",
            "api_app_id": "AFAKE",
            "response_url": fake_slack.response_url("sock"),
            "trigger_id": "1.2.3",
        }
        envelope_id = await fake_slack.send_envelope("slash_commands", payload)
        ack = await fake_slack.wait_for_socket_ack(envelope_id, timeout=3)
        assert ack["payload"]["response_type"] == "ephemeral"
        assert "Working on `status site-a`" in ack["payload"]["text"]
        (post,) = await fake_slack.wait_for("chat.postMessage", 1)
        assert post.body["channel"] == "C7"
        assert dispatcher.commands[0][1].user_id == "U7"
    finally:
        await handle.stop()


async def test_http_server_binds_an_ephemeral_port_and_stops_twice(
    fake_slack: FakeSlack, dispatcher: ScriptedDispatcher
) -> None:
    bot = build_app(make_settings(fake_slack), dispatcher)
    handle = await start_http_server(bot, host="127.0.0.1", port=0)
    try:
        assert isinstance(handle, HttpServerHandle) and handle.port > 0
        assert handle.url.endswith("/slack/events")
    finally:
        await handle.stop()
        await handle.stop()  # idempotent


def test_build_app_refuses_missing_secrets(fake_slack: FakeSlack, dispatcher: ScriptedDispatcher) -> None:
    with pytest.raises(SlackConfigError, match="SLACK_BOT_TOKEN"):
        build_app(make_settings(fake_slack, slack_bot_token=None), dispatcher)
    with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET") as info:
        build_app(make_settings(fake_slack, slack_signing_secret=""), dispatcher)
    assert BOT_TOKEN not in str(info.value)
    with pytest.raises(SlackConfigError, match="SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set"):
        build_app(make_settings(fake_slack, slack_bot_token=None, slack_signing_secret=None), dispatcher)


async def test_socket_mode_needs_no_signing_secret(fake_slack: FakeSlack, dispatcher: ScriptedDispatcher) -> None:
    """Socket Mode events come over the app-token WebSocket: nothing to sign, so nothing to demand."""
    bot = build_app(make_settings(fake_slack, slack_signing_secret=None, slack_app_token="xapp-1-test"), dispatcher)
    try:
        assert bot.app is not None
    finally:
        await bot.aclose()


def test_api_base_url_gets_its_trailing_slash() -> None:
    assert api_base_url("http://127.0.0.1:9/api") == "http://127.0.0.1:9/api/"
    assert api_base_url("http://127.0.0.1:9/api/") == "http://127.0.0.1:9/api/"
    assert api_base_url(None) is None and api_base_url("") is None


async def test_background_tasks_log_failures_and_cancel_on_close(caplog: pytest.LogCaptureFixture) -> None:
    tasks = BackgroundTasks("t")

    async def fail() -> None:
        raise RuntimeError("boom")

    async def forever() -> None:
        await asyncio.sleep(3600)

    with caplog.at_level(logging.ERROR):
        tasks.spawn(fail(), name="fail")
        hanging = tasks.spawn(forever(), name="forever")
        await asyncio.sleep(0.05)
    assert "background task t:fail failed" in caplog.text
    assert len(tasks) == 1
    assert not await tasks.wait_idle(0.05)
    await tasks.aclose()
    assert hanging.cancelled() and len(tasks) == 0
    coro = forever()
    with pytest.raises(RuntimeError):
        tasks.spawn(coro, name="late")


async def test_serve_runs_http_until_stopped(fake_slack: FakeSlack, dispatcher: ScriptedDispatcher) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    settings = make_settings(fake_slack, port=port)
    bot = build_app(settings, dispatcher)
    stop = asyncio.Event()
    running = asyncio.create_task(serve(bot, settings, host="127.0.0.1", stop=stop))
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(50):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        assert response.status == 200
                        break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("serve() never listened")
        assert fake_slack.calls_to("auth.test"), "serve() warms up the bot identity"
    finally:
        stop.set()
        async with asyncio.timeout(10):
            await running
    assert bot.tasks.closed
