"""The Slack app manifest: paste it at api.slack.com/apps → "Create New App → From a manifest".

Keeping it in code (and testing it) means the scopes, the slash command and
the events the listeners expect cannot drift from what the app is granted.
`ccert-bot manifest --mode socket|http [--url URL]` prints it. The mode
matters: an app created with `socket_mode_enabled: true` never sends a request
to an HTTP URL, and one created without it never opens a WebSocket. In Socket
Mode Slack ignores the request URLs, so the placeholder may stay.
"""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import urlsplit

import yaml

# The manifest is the source of truth for these; listeners and transport import
# them from here (and this module imports nothing heavy, so `ccert-bot manifest`
# stays instant).
COMMAND = "/ccert"
EVENTS_PATH = "/slack/events"
PLACEHOLDER_HOST = "YOUR-HOST"

# Every scope with why the bot needs it (the README's "Going to production" lists them too, and
# a test keeps the two in step). Not scopes: the Home tab (`views.publish`) and modals
# (`views.open`; their `view_submission` arrives on the interactivity URL) need none, nor does
# message metadata (posted with `chat:write`; another app reads it with its own
# `metadata.message:read`).
BOT_SCOPES: tuple[str, ...] = (
    "app_mentions:read",  # app_mention events → help pointer
    "commands",  # /ccert
    "chat:write",  # post answers, alerts, requests and the digest, with their message metadata
    "chat:write.public",  # post in public channels without being invited
    "files:write",  # upload exports (/ccert export, /ccert audit <id> --export) with files_upload_v2
    # Find an alert the bot posted but never heard back about (stopped or killed while Slack
    # was answering) by its message metadata, instead of posting it twice.
    "channels:history",
    "groups:history",  # the same in private channels
    "usergroups:read",  # resolve user groups named in access rules
    "users:read",  # user names for the audit trail
)

# app_home_opened: the Home tab (`home_tab_enabled`) is published when a person opens it.
BOT_EVENTS: tuple[str, ...] = ("app_mention", "app_home_opened")

USAGE_HINT = "help | status <site> | aps <site> | export <site> | remediate <site>"


MODES = ("socket", "http")


def request_url(text: str) -> str:
    """Check an operator's `--url`: https, a host, and `/slack/events` when no path is given.

    Slack only calls https URLs; the bot serves its events at EVENTS_PATH (a
    reverse proxy may map another path onto it, so another path is kept).
    """
    parts = urlsplit(text.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"'{text}' is not an https URL (Slack only sends requests to https://HOST/slack/events)")
    if parts.query or parts.fragment:
        raise ValueError(f"'{text}': the request URL takes no query or fragment")
    path = parts.path if parts.path not in ("", "/") else EVENTS_PATH
    return f"https://{parts.netloc}{path}"


def app_manifest(
    *,
    host: str = PLACEHOLDER_HOST,
    name: str = "ccert-bot",
    command: str = COMMAND,
    usage_hint: str = USAGE_HINT,
    socket_mode: bool = True,
    url: str | None = None,
) -> dict[str, Any]:
    """The manifest as a dict (Slack's manifest schema, `_metadata.major_version` 1).

    `url` (checked with `request_url`) wins over `host`; both only matter in HTTP mode.
    """
    url = request_url(url) if url else f"https://{host}{EVENTS_PATH}"
    manifest: dict[str, Any] = {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Finds and fixes Cisco CSCwd80290 (IOS APs stuck Downloading) on WLCs.",
            "background_color": "#1d3c5a",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": False,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": [
                {
                    "command": command,
                    "url": url,
                    "description": "Check and fix CSCwd80290 across the wireless controllers",
                    "usage_hint": usage_hint,
                    "should_escape": False,
                }
            ],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": {"request_url": url, "bot_events": list(BOT_EVENTS)},
            "interactivity": {"is_enabled": True, "request_url": url},
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }
    return copy.deepcopy(manifest)


def manifest_yaml(**kwargs: Any) -> str:
    """YAML, the format Slack's "From a manifest" dialog shows first."""
    return yaml.safe_dump(app_manifest(**kwargs), sort_keys=False, allow_unicode=True)


def manifest_json(**kwargs: Any) -> str:
    return json.dumps(app_manifest(**kwargs), indent=2)


def dump_manifest(fmt: str = "yaml", **kwargs: Any) -> str:
    """`fmt` is "yaml" or "json" (what `ccert-bot manifest --format` should pass through)."""
    if fmt == "yaml":
        return manifest_yaml(**kwargs)
    if fmt == "json":
        return manifest_json(**kwargs)
    raise ValueError(f"unknown manifest format {fmt!r} (yaml or json)")
