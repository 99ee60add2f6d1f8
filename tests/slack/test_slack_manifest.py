"""The app manifest grants what the listeners need, and nothing surprising."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from bot.chat.request_announcer import REQUEST_EVENT_TYPE, REQUEST_RUN_EVENT_TYPE
from bot.jobs.checks import ALERT_EVENT_TYPE, ALERT_NOTE_EVENT_TYPE
from bot.jobs.digest import DIGEST_EVENT_TYPE
from bot.slack.manifest import BOT_EVENTS, BOT_SCOPES, app_manifest, dump_manifest

README = Path(__file__).resolve().parents[2] / "README.md"


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


def test_manifest_grants_the_slack_native_features() -> None:
    """Issue 15: CSV exports upload files, the Home tab is published when opened, and modals
    (`views.open`, no scope) submit over the interactivity URL, in both modes."""
    for socket_mode in (True, False):
        manifest = app_manifest(socket_mode=socket_mode)
        assert "files:write" in manifest["oauth_config"]["scopes"]["bot"]
        assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]
        assert manifest["features"]["app_home"]["home_tab_enabled"] is True
        assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert len(BOT_SCOPES) == len(set(BOT_SCOPES))


def test_every_scope_says_why_in_the_code_and_the_readme() -> None:
    source = (Path(__file__).resolve().parents[2] / "bot" / "slack" / "manifest.py").read_text(encoding="utf-8")
    text = README.read_text(encoding="utf-8")
    rows = text.split("| scope | why |", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    named = {scope for row in rows for scope in re.findall(r"`([^`]+)`", row.split("|")[1])}
    missing = [scope for scope in BOT_SCOPES if scope not in named]
    assert not missing, f"README.md's scope table (Going to production, step 6) lacks {missing}"
    for scope in BOT_SCOPES:
        line = next(line for line in source.splitlines() if f'"{scope}",' in line)
        index = source.splitlines().index(line)
        assert "#" in line or source.splitlines()[index - 1].strip().startswith("#"), f"{scope}: say why"


def test_readme_documents_every_message_metadata_event_type() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Message metadata", 1)[1].split("\n## ", 1)[0]
    for event_type in (
        ALERT_EVENT_TYPE,
        ALERT_NOTE_EVENT_TYPE,
        REQUEST_EVENT_TYPE,
        REQUEST_RUN_EVENT_TYPE,
        DIGEST_EVENT_TYPE,
    ):
        assert f"| `{event_type}` |" in section, event_type


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
