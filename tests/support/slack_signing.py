"""Build requests the way Slack signs them, to drive the HTTP front door in tests.

Slack signs `v0:{timestamp}:{raw body}` with HMAC-SHA256 under the app's
signing secret and sends `X-Slack-Signature: v0=<hex>` plus
`X-Slack-Request-Timestamp`; Bolt refuses anything unsigned, mis-signed or
older than five minutes. The helpers here produce valid requests and the
stale / bad-signature variants a test needs to prove those refusals.

Like Slack's, every request they build is unique (its own `trigger_id`,
`event_id`, `action_ts`), so two requests signed in the same second never
share a signature: the front door refuses a signature it has already seen as
a replay, and only a test about replays should send the same bytes twice.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import aiohttp

FORM = "application/x-www-form-urlencoded"

_serial = itertools.count(1)
_last_action_ts = 0.0


def unique_trigger_id() -> str:
    """A fresh trigger id shaped like Slack's (`<digits>.<digits>.<hex>`)."""
    n = next(_serial)
    return f"{n}.{1_000_000 + n}.{hashlib.sha256(str(n).encode()).hexdigest()[:32]}"


def unique_event_id() -> str:
    """A fresh Events API id shaped like Slack's (`Ev` + uppercase alphanumerics)."""
    return f"Ev{int(time.time())}{next(_serial):06d}"


def unique_action_ts() -> str:
    """Now, as Slack's `action_ts` (seconds, microseconds), strictly later than the last one."""
    global _last_action_ts
    _last_action_ts = max(time.time(), _last_action_ts + 1e-6)
    return f"{_last_action_ts:.6f}"


@dataclass(frozen=True)
class SignedRequest:
    body: bytes
    headers: dict[str, str]

    async def post(self, session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
        """POST it; returns (status, body text)."""
        async with session.post(url, data=self.body, headers=self.headers) as response:
            return response.status, await response.text()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, content_type: str = FORM, timestamp: int | None = None) -> SignedRequest:
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(secret, ts, body),
    }
    return SignedRequest(body=body, headers=headers)


def stale(request: SignedRequest, secret: str, *, age_seconds: int = 600) -> SignedRequest:
    """Correctly signed, but older than Slack's (and Bolt's) five-minute window: a replay."""
    ts = int(time.time()) - age_seconds
    content_type = request.headers.get("Content-Type", FORM)
    return sign(secret, request.body, content_type=content_type, timestamp=ts)


def bad_signature(request: SignedRequest) -> SignedRequest:
    """Same body and timestamp, signature from the wrong secret."""
    ts = int(request.headers["X-Slack-Request-Timestamp"])
    headers = {**request.headers, "X-Slack-Signature": signature("not-the-secret", ts, request.body)}
    return replace(request, headers=headers)


def unsigned(request: SignedRequest) -> SignedRequest:
    headers = {k: v for k, v in request.headers.items() if not k.startswith("X-Slack-")}
    return replace(request, headers=headers)


def slash_command(
    secret: str,
    text: str,
    *,
    command: str = "/ccert",
    user_id: str = "U0USER",
    user_name: str = "alice",
    channel_id: str = "C0CHAN",
    team_id: str = "T0FAKE",
    response_url: str = "https://hooks.slack.invalid/commands/T0FAKE/1/abc",
    trigger_id: str | None = None,
    timestamp: int | None = None,
) -> SignedRequest:
    """A `/ccert <text>` slash command, form-encoded like Slack sends it (a fresh trigger_id unless given)."""
    form = {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "team_domain": "fake",
        "channel_id": channel_id,
        "channel_name": channel_id.lower(),
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": "AFAKE",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id if trigger_id is not None else unique_trigger_id(),
    }
    return sign(secret, urlencode(form).encode(), timestamp=timestamp)


def block_actions_payload(
    action_id: str,
    value: str,
    *,
    user_id: str = "U0USER",
    user_name: str = "alice",
    channel_id: str = "C0CHAN",
    team_id: str = "T0FAKE",
    message_ts: str | None = "1700000000.000100",
    thread_ts: str | None = None,
    ephemeral: bool = False,
    response_url: str = "https://hooks.slack.invalid/actions/T0FAKE/1/abc",
) -> dict[str, Any]:
    """The JSON of a button click (what arrives in the `payload=` form field)."""
    container: dict[str, Any] = {"type": "message", "channel_id": channel_id, "is_ephemeral": ephemeral}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": "AFAKE",
        "token": "deprecated-verification-token",
        "container": container,
        "trigger_id": unique_trigger_id(),
        "team": {"id": team_id, "domain": "fake"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_id.lower()},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b1",
                "text": {"type": "plain_text", "text": action_id, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": unique_action_ts(),
            }
        ],
    }
    if message_ts is not None:
        container["message_ts"] = message_ts
        if not ephemeral:
            message: dict[str, Any] = {"type": "message", "ts": message_ts, "text": "…", "user": "UBOT"}
            if thread_ts:
                message["thread_ts"] = thread_ts
            payload["message"] = message
    return payload


def block_actions(
    secret: str, action_id: str, value: str, *, timestamp: int | None = None, **kwargs: Any
) -> SignedRequest:
    """A signed button click (form field `payload=<json>`)."""
    payload = block_actions_payload(action_id, value, **kwargs)
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return sign(secret, body, timestamp=timestamp)


def view_block_actions_payload(
    action_id: str,
    value: str,
    *,
    user_id: str = "U0USER",
    user_name: str = "alice",
    team_id: str = "T0FAKE",
    view_id: str = "V0HOME",
) -> dict[str, Any]:
    """The JSON of a click on a view (the App Home): Slack sends no channel, no message
    and no response_url, only the view it came from."""
    payload = block_actions_payload(action_id, value, user_id=user_id, user_name=user_name, team_id=team_id)
    for key in ("channel", "message", "response_url"):
        payload.pop(key, None)
    payload["container"] = {"type": "view", "view_id": view_id}
    payload["view"] = {"id": view_id, "type": "home", "team_id": team_id, "blocks": []}
    return payload


def view_block_actions(
    secret: str, action_id: str, value: str, *, timestamp: int | None = None, **kwargs: Any
) -> SignedRequest:
    """A signed click on a view's button (the App Home)."""
    body = urlencode({"payload": json.dumps(view_block_actions_payload(action_id, value, **kwargs))}).encode()
    return sign(secret, body, timestamp=timestamp)


def app_home_opened(secret: str, user_id: str, *, tab: str = "home", timestamp: int | None = None) -> SignedRequest:
    """The `app_home_opened` event Slack sends when `user_id` opens the app's Home tab."""
    event = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": "D0" + user_id[-8:],
        "tab": tab,
        "event_ts": unique_action_ts(),
    }
    return event_callback(secret, event, timestamp=timestamp)


def event_callback(
    secret: str, event: dict[str, Any], *, team_id: str = "T0FAKE", timestamp: int | None = None
) -> SignedRequest:
    """An Events API delivery (JSON), e.g. `{"type": "app_mention", ...}`."""
    envelope = {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "api_app_id": "AFAKE",
        "event": event,
        "type": "event_callback",
        "event_id": unique_event_id(),
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team_id, "user_id": "UBOT", "is_bot": True}],
    }
    return sign(secret, json.dumps(envelope).encode(), content_type="application/json", timestamp=timestamp)
