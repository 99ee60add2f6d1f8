"""Build the slack-bolt `AsyncApp` from Settings and a Dispatcher.

`build_app` wires three things the rest of the bot should not have to know:

* the Web API client: `CCERT_SLACK_API_URL` points it at a fake in tests and
  the demo; rate-limit (HTTP 429 + Retry-After) and connection-error retry
  handlers make posting survive a busy Slack a bounded number of times;
* authorization without a network call on the request path: Bolt's default
  calls `auth.test` inside the first request, i.e. inside the 3-second ack
  window; ours runs it with a short timeout, caches the bot identity, and
  still answers if Slack's API is slow (only the bot's own user id is missing
  then, which only matters for ignoring its own events);
* request verification with the signing secret, always on.

Secrets are read from `SecretStr` only here and never logged.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.dispatch import Dispatcher
from bot.settings import Settings
from bot.slack.delivery import BackgroundTasks, Messenger
from bot.slack.home import HomePublisher
from bot.slack.identity import UserGroupDirectory, group_ids_in
from bot.slack.listeners import ListenerRuntime, register_all

log = logging.getLogger(__name__)

# Bounded retries: a post retried this many times after 429s / dropped connections,
# then given up (and logged), so one Slack outage cannot pile up tasks forever.
RATE_LIMIT_RETRIES = 3
CONNECTION_RETRIES = 2
AUTH_TEST_TIMEOUT_SECONDS = 1.0
# How long to wait before asking auth.test again after it failed.
AUTH_TEST_RETRY_SECONDS = 30.0


class SlackConfigError(ValueError):
    """Slack settings missing or unusable; the message names the environment variable."""


def _present(secret: SecretStr | None) -> bool:
    return secret is not None and bool(secret.get_secret_value().strip())


def api_base_url(url: str | None) -> str | None:
    """slack_sdk joins method names onto base_url, so it must end with '/'."""
    if not url:
        return None
    return url if url.endswith("/") else url + "/"


def retry_handlers() -> list[AsyncRetryHandler]:
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
    ]


def build_client(settings: Settings, *, token: str | None = None, with_retries: bool = True) -> AsyncWebClient:
    """A Web API client for the configured Slack (or fake)."""
    kwargs: dict[str, Any] = {"token": token, "timeout": 30}
    base_url = api_base_url(settings.slack_api_url)
    if base_url:
        kwargs["base_url"] = base_url
    kwargs["retry_handlers"] = retry_handlers() if with_retries else []
    return AsyncWebClient(**kwargs)


class BotTokenAuthorizer:
    """Single-workspace authorization that never blocks an ack on the network for long."""

    def __init__(self, client: AsyncWebClient, token: str, *, timeout: float = AUTH_TEST_TIMEOUT_SECONDS):
        self._client = client  # no retry handlers: a 429 must not sleep inside an ack
        self._token = token
        self._timeout = timeout
        self._identity: dict[str, Any] | None = None
        self._failed_at: float | None = None
        self._lock = asyncio.Lock()

    async def warm_up(self) -> bool:
        """Fetch the bot identity now (at start-up) rather than on the first request."""
        return await self._identify() is not None

    async def _identify(self) -> dict[str, Any] | None:
        if self._identity is not None:
            return self._identity
        loop = asyncio.get_running_loop()
        if self._failed_at is not None and loop.time() - self._failed_at < AUTH_TEST_RETRY_SECONDS:
            return None
        async with self._lock:
            if self._identity is not None:
                return self._identity
            try:
                response = await asyncio.wait_for(self._client.auth_test(), self._timeout)
                self._identity = dict(response.data) if isinstance(response.data, dict) else None
                self._failed_at = None
            except Exception as error:
                self._failed_at = loop.time()
                log.warning(
                    "auth.test failed (%s); answering without the bot's identity for now",
                    type(error).__name__,
                )
        return self._identity

    async def authorize(self, enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
        identity = await self._identify() or {}
        return AuthorizeResult(
            enterprise_id=identity.get("enterprise_id") or enterprise_id,
            team_id=identity.get("team_id") or team_id,
            team=identity.get("team"),
            url=identity.get("url"),
            bot_user_id=identity.get("user_id"),
            bot_id=identity.get("bot_id"),
            bot_token=self._token,
            user_id=user_id,
        )


@dataclass
class SlackBot:
    """The Slack front door: the Bolt app plus what its listeners share.

    `app` is the slack-bolt AsyncApp; `client` posts with the bot token;
    `runtime` owns the background tasks (follow-ups), which `aclose` cancels.
    `home` publishes the App Home tab; its `changed` is what the bot calls when what the
    home shows changed (`Runtime.on_change(slack.home.changed)`).
    `signing_secret` is what the HTTP front door verifies requests with before
    Bolt parses them (None in Socket Mode without one: nothing is signed there).
    """

    app: AsyncApp
    client: AsyncWebClient
    runtime: ListenerRuntime
    authorizer: BotTokenAuthorizer
    dispatcher: Dispatcher
    signing_secret: SecretStr | None = None

    @property
    def tasks(self) -> BackgroundTasks:
        return self.runtime.tasks

    @property
    def home(self) -> HomePublisher:
        assert self.runtime.home is not None
        return self.runtime.home

    async def warm_up(self) -> None:
        """Learn the bot's identity before traffic arrives (non-fatal when Slack is slow)."""
        if not await self.authorizer.warm_up():
            log.warning("could not verify the Slack bot token at start; will retry on demand")

    async def aclose(self, grace: float = 0.0) -> None:
        """Finish (up to `grace` seconds) or cancel follow-ups, then drop caches."""
        await self.runtime.aclose(grace)


def build_app(
    settings: Settings,
    dispatcher: Dispatcher,
    *,
    logger: logging.Logger | None = None,
    ack_budget: float | None = None,
) -> SlackBot:
    """The Slack front door for `dispatcher`, configured from `settings`.

    Needs SLACK_BOT_TOKEN; HTTP mode also SLACK_SIGNING_SECRET, which Socket
    Mode does not use (its events arrive over the app-token WebSocket, so there
    is no request to sign). Every missing one is named in one error.
    """
    socket_mode = _present(settings.slack_app_token)
    missing = [
        name
        for name, value in (
            ("SLACK_BOT_TOKEN", settings.slack_bot_token),
            ("SLACK_SIGNING_SECRET", settings.slack_signing_secret),
        )
        if not _present(value) and not (socket_mode and name == "SLACK_SIGNING_SECRET")
    ]
    if missing:
        raise SlackConfigError(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set")
    assert settings.slack_bot_token is not None
    token = settings.slack_bot_token.get_secret_value().strip()
    secret = settings.slack_signing_secret
    signing_secret = secret.get_secret_value() if secret is not None and _present(secret) else ""

    client = build_client(settings, token=token)
    authorizer = BotTokenAuthorizer(build_client(settings, token=token, with_retries=False), token)

    async def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
        # A plain function: Bolt passes arguments by the names it finds in the signature,
        # and a bound method's `self` would confuse it.
        return await authorizer.authorize(enterprise_id, team_id, user_id)

    app = AsyncApp(
        name="ccert-bot",
        logger=logger,
        # No token here: the authorizer supplies it per request, and Bolt then
        # copies base_url and retry handlers from this client for `say`/`client`.
        client=build_client(settings),
        authorize=authorize,
        signing_secret=signing_secret,
        # Always on over HTTP. In Socket Mode Bolt skips verification for socket
        # requests anyway; off only when there is no secret to verify with.
        request_verification_enabled=bool(signing_secret) or not socket_mode,
        process_before_response=False,
    )
    runtime = ListenerRuntime(
        messenger=Messenger(client, webhook_retry_handlers=retry_handlers()),
        tasks=BackgroundTasks("slack"),
        groups=UserGroupDirectory(client, group_ids_in(f"{settings.access};{settings.approvers}")),
    )
    if ack_budget is not None:
        runtime.ack_budget = ack_budget
    runtime.home = HomePublisher(client, dispatcher, runtime.groups)
    register_all(app, dispatcher, runtime)
    return SlackBot(
        app=app,
        client=client,
        runtime=runtime,
        authorizer=authorizer,
        dispatcher=dispatcher,
        signing_secret=settings.slack_signing_secret if signing_secret else None,
    )
