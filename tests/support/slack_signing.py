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
    trigger_id: str | None = None,
    message_text: str = "…",
    home: bool = False,
) -> dict[str, Any]:
    """The JSON of a button click (what arrives in the `payload=` form field); a fresh
    `trigger_id` unless given. `home`: a click on the App Home tab, whose payload has a
    `view` container and neither channel, message nor response_url."""
    if home:
        return _home_click(action_id, value, user_id, user_name, team_id, trigger_id)
    container: dict[str, Any] = {"type": "message", "channel_id": channel_id, "is_ephemeral": ephemeral}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": "AFAKE",
        "token": "deprecated-verification-token",
        "container": container,
        "trigger_id": trigger_id if trigger_id is not None else unique_trigger_id(),
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
            message: dict[str, Any] = {"type": "message", "ts": message_ts, "text": message_text, "user": "UBOT"}
            if thread_ts:
                message["thread_ts"] = thread_ts
            payload["message"] = message
    return payload


def _user(user_id: str, user_name: str, team_id: str) -> dict[str, Any]:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def _button(action_id: str, value: str, block_id: str = "b1") -> dict[str, Any]:
    return {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": action_id, "emoji": True},
        "value": value,
        "type": "button",
        "action_ts": unique_action_ts(),
    }


def _home_click(
    action_id: str, value: str, user_id: str, user_name: str, team_id: str, trigger_id: str | None
) -> dict[str, Any]:
    view_id = f"VHOME{next(_serial):06d}"
    return {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": "AFAKE",
        "token": "deprecated-verification-token",
        "container": {"type": "view", "view_id": view_id},
        "trigger_id": trigger_id if trigger_id is not None else unique_trigger_id(),
        "team": {"id": team_id, "domain": "fake"},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {"id": view_id, "type": "home", "blocks": [], "private_metadata": "", "callback_id": ""},
        "actions": [_button(action_id, value)],
    }


def form_values(block_id: str, action_id: str, text: str | None) -> dict[str, Any]:
    """`view.state.values` of a form with one plain_text_input (None: left empty, as Slack sends it)."""
    return {block_id: {action_id: {"type": "plain_text_input", "value": text}}}


def view_submission_payload(
    view: dict[str, Any],
    values: dict[str, Any],
    *,
    user_id: str = "U0USER",
    user_name: str = "alice",
    team_id: str = "T0FAKE",
) -> dict[str, Any]:
    """The JSON of a modal's submission: `view` as it was opened (the fake's `views.open`
    answer, or the request's `view`), with what the user typed in `state.values`."""
    opened = {
        "id": view.get("id") or f"V{next(_serial):010d}",
        "team_id": team_id,
        "app_id": "AFAKE",
        "bot_id": "BBOT",
        "hash": view.get("hash") or hashlib.sha256(str(next(_serial)).encode()).hexdigest()[:16],
        "root_view_id": view.get("id"),
        "previous_view_id": None,
        **{k: v for k, v in view.items() if k not in {"state", "id", "hash"}},
        "state": {"values": values},
    }
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "fake"},
        "user": _user(user_id, user_name, team_id),
        "api_app_id": "AFAKE",
        "token": "deprecated-verification-token",
        "trigger_id": unique_trigger_id(),
        "view": opened,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_submission(
    secret: str, view: dict[str, Any], values: dict[str, Any], *, timestamp: int | None = None, **kwargs: Any
) -> SignedRequest:
    """A signed modal submission (form field `payload=<json>`, like a click)."""
    payload = view_submission_payload(view, values, **kwargs)
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return sign(secret, body, timestamp=timestamp)


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
    trigger_id: str | None = None,
) -> dict[str, Any]:
    """The JSON of a click on a view (the App Home): Slack sends no channel, no message
    and no response_url, only the view it came from (and a trigger_id, for a form)."""
    payload = block_actions_payload(
        action_id, value, user_id=user_id, user_name=user_name, team_id=team_id, trigger_id=trigger_id
    )
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
