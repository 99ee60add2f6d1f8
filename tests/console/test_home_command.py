"""The console twin of the App Home: `/ccert home` answers the same Reply the Home tab publishes."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.chat.dispatch import build_dispatcher
from bot.chat.home import home_reply
from bot.chat.reply import Caller
from bot.console.render import render_text
from bot.domain.models import Platform
from bot.inventory import Inventory
from bot.inventory_file import parse_inventory
from bot.remediation.models import StuckAPView, TargetView
from bot.remediation.service import RemediationConfig, RemediationService
from bot.runtime import run_console_bot
from bot.settings import load_settings
from bot.store import Store, open_db
from bot.store import remediation as q
from tests.store.store_factories import FIXED_AIREOS, ap, record, snap

INVENTORY = """\
sites:
  site-a:
    controllers:
      - {name: wlc-a1, host: 192.0.2.11, platform: iosxe, credentials: lab}
  site-b:
    controllers:
      - {name: wlc-b1, host: 192.0.2.21, platform: aireos, credentials: lab}
  site-c:
    controllers:
      - {name: wlc-c1, host: 192.0.2.31, platform: aireos, credentials: lab}
credentials:
  lab: {username_env: LAB_USER, password_env: LAB_PASS}
"""
ENV = {"LAB_USER": "admin", "LAB_PASS": "not-a-secret"}


def inventory() -> Inventory:
    return parse_inventory(INVENTORY, "<console home>", environ=ENV)


def _target() -> TargetView:
    return TargetView(
        controller="wlc-a1",
        platform="iosxe",
        playbook="timeback-iosxe",
        playbook_digest="d",
        current_clock=None,
        current_clock_source="ntp",
        proposed_clock=None,
        proposed_local=None,
        utc_offset_seconds=None,
        ntp_servers=(),
        stuck_aps=(StuckAPView("a1", "AIR-CAP3702I-E-K9", "Downloading"),),
        commands=(),
    )


def _prepare(db_path: Path) -> None:
    """A check of two of the three sites, and one pending request by U0CARLA."""
    now = datetime.now(UTC)
    db = open_db(db_path)
    try:
        record(
            db,
            [
                snap("wlc-a1", site="site-a", at=now - timedelta(minutes=7), aps=[ap("a1", state="Downloading")]),
                snap(
                    "wlc-b1",
                    site="site-b",
                    at=now - timedelta(minutes=7),
                    platform=Platform.AIREOS,
                    version=FIXED_AIREOS,
                    aps=[ap("b1")],
                ),
            ],
        )
        q.insert_request(
            db,
            site="site-a",
            requester="U0CARLA",
            created_at=now - timedelta(minutes=2),
            expires_at=now + timedelta(minutes=58),
            required_approvals=2,
            channel="C0SITEA",
            view={"targets": [_target().to_dict()]},
            targets=[{"controller": "wlc-a1", "platform": "iosxe", "playbook": "timeback-iosxe", "params": {}}],
        )
    finally:
        db.close()


async def test_ccert_home_in_the_console(tmp_path: Path) -> None:
    _prepare(tmp_path / "ccert.db")
    settings = load_settings(_env_file=None, db=tmp_path / "ccert.db", approvers="U0ALICE,U0BOB")
    out = io.StringIO()
    lines = "/ccert home\n/as U0ALICE\n/ccert home\n/ccert approve 1\n/ccert home\n/as U0CARLA\n/ccert home\n"
    assert await run_console_bot(inventory(), settings, ENV, stdin=io.StringIO(lines), out=out) == 0
    homes = out.getvalue().split("ccert-bot — CSCwd80290 at a glance")[1:]
    assert len(homes) == 4, out.getvalue()
    console, alice, alice_after, carla = homes
    for home in homes:
        assert "site-a" in home and "🛑 stuck" in home and "7 min ago" in home
        assert "site-c" in home and "no check yet" in home
    assert "You are not an approver" in console and "[Approve]" not in console
    assert "Waiting for you (1)" in alice and "type: /ccert approve 1" in alice and "type: /ccert reject 1" in alice
    assert "Your approval is counted. Still needed: 1." in out.getvalue()
    assert "Nothing is waiting for your approval." in alice_after
    assert "#1 site-a (wlc-a1), for 1 AP in Downloading: ⏳ waiting for approval" in carla and "[Approve]" not in carla


async def test_the_console_and_the_home_tab_answer_the_same(tmp_path: Path) -> None:
    """`/ccert home` is the Reply the Home tab renders: same sections, same buttons."""
    _prepare(tmp_path / "ccert.db")
    settings = load_settings(_env_file=None, db=tmp_path / "ccert.db", approvers="U0ALICE,U0BOB")
    inv = inventory()
    async with await Store.open(settings.db) as store:
        service = RemediationService(store, inv, RemediationConfig.from_settings(settings), ENV)
        caller = Caller("U0ALICE", None)
        now = datetime.now(UTC)
        reply = await home_reply(store, inv, service, caller, zone=ZoneInfo("UTC"), now=now)
        dispatcher = build_dispatcher(inv, settings, ENV, store=store, remediation=service)
        result = await dispatcher.dispatch("home", caller)
    assert result.follow_up is None, "the home answers at once: it reads the store, never a controller"
    assert [s.title for s in result.ack.sections] == [s.title for s in reply.sections]
    assert [b for s in result.ack.sections for b in s.buttons] == [b for s in reply.sections for b in s.buttons]
    assert render_text(result.ack).splitlines()[2:] == render_text(reply).splitlines()[2:]
