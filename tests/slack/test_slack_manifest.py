"""The app manifest grants what the listeners need, and nothing surprising."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from bot.slack.manifest import BOT_EVENTS, BOT_SCOPES, app_manifest, dump_manifest


def test_manifest_structure() -> None:
    manifest = app_manifest()
    assert manifest["_metadata"]["major_version"] == 1
    assert manifest["display_information"]["name"] == "ccert-bot"
    assert len(manifest["display_information"]["description"]) <= 140

    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/ccert"
    assert command["usage_hint"] and "status" in command["usage_hint"]
    assert command["url"] == "https://YOUR-HOST/slack/events"

    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "chat:write.public", "usergroups:read", "users:read"} <= scopes
    assert "app_mentions:read" in scopes  # needed for the app_mention event we subscribe to
    assert scopes == set(BOT_SCOPES)

    settings = manifest["settings"]
    assert settings["interactivity"] == {"is_enabled": True, "request_url": "https://YOUR-HOST/slack/events"}
    assert settings["socket_mode_enabled"] is True
    assert set(settings["event_subscriptions"]["bot_events"]) == set(BOT_EVENTS)
    assert manifest["features"]["bot_user"]["display_name"]


def test_manifest_dumps_round_trip() -> None:
    assert yaml.safe_load(dump_manifest("yaml")) == app_manifest()
    assert json.loads(dump_manifest("json")) == app_manifest()
    custom = app_manifest(host="bot.example.net", socket_mode=False)
    assert custom["settings"]["event_subscriptions"]["request_url"] == "https://bot.example.net/slack/events"
    assert custom["settings"]["socket_mode_enabled"] is False


def test_manifest_import_is_light() -> None:
    """`ccert-bot manifest` must not need slack-bolt or aiohttp loaded."""
    code = (
        "import sys; from bot.slack.manifest import dump_manifest; dump_manifest();"
        "heavy = [m for m in ('slack_bolt', 'aiohttp', 'slack_sdk') if m in sys.modules];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
