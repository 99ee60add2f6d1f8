"""The home from a real store past its caps: the right requests listed, every heading the real
total; and who sees what (the fleet is `status`'s, other people's requests the approvers')."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.chat.dispatch import build_dispatcher
from bot.chat.home_views import FLEET_NOT_ALLOWED, FOR_APPROVERS
from bot.chat.reply import Caller
from bot.console.render import render_text
from bot.inventory import Inventory
from bot.inventory_file import parse_inventory
from bot.remediation.models import StuckAPView, TargetView
from bot.remediation.service import RemediationConfig, RemediationService
from bot.settings import load_settings
from bot.store import Store, open_db
from bot.store import remediation as q
from tests.store.store_factories import ap, record, snap

ENV = {"LAB_USER": "admin", "LAB_PASS": "not-a-secret"}
CONTROLLERS = 120
NOW = datetime.now(UTC)
PENDING, RUNNING_DAVE, RUNNING_ERIN, SCHEDULED = 60, 5, 20, 22


def inventory() -> Inventory:
    lines = ["sites:", "  site-a:", "    controllers:"]
    lines += [
        f"      - {{name: wlc-{n:03d}, host: 10.0.0.{n + 1}, platform: iosxe, credentials: lab}}"
        for n in range(CONTROLLERS)
    ]
    lines += ["credentials:", "  lab: {username_env: LAB_USER, password_env: LAB_PASS}"]
    return parse_inventory("\n".join(lines) + "\n", "<home truthful>", environ=ENV)


def _target(controller: str) -> TargetView:
    return TargetView(
        controller=controller,
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


def _prepare(db_path: Path) -> dict[str, list[int]]:
    """More pending, running and scheduled requests than the home reads of each, in an order
    where the newest ids are not the ones to show: the oldest pending expire first, the oldest
    scheduled have the first windows."""
    db = open_db(db_path)
    ids: dict[str, list[int]] = {"pending": [], "dave": [], "erin": [], "scheduled": []}
    controllers = iter(f"wlc-{n:03d}" for n in range(CONTROLLERS))

    def add(kind: str, requester: str, status: str, expires: datetime, window: datetime | None = None) -> None:
        controller = next(controllers)
        request_id = q.insert_request(
            db,
            site="site-a",
            requester=requester,
            created_at=NOW - timedelta(minutes=30),
            expires_at=expires,
            required_approvals=2,
            channel="C0SITEA",
            view={"targets": [_target(controller).to_dict()]},
            targets=[{"controller": controller, "platform": "iosxe", "playbook": "timeback-iosxe", "params": {}}],
            scheduled_for=window,
        )
        if status != "pending":
            q.set_request_status(db, request_id, status, NOW)
        ids[kind].append(request_id)

    try:
        record(db, [snap("wlc-000", site="site-a", at=NOW - timedelta(minutes=7), aps=[ap("a1", state="Downloading")])])
        for n in range(PENDING):
            add("pending", "U0CARLA", "pending", NOW + timedelta(minutes=10 + n))
        for _ in range(RUNNING_DAVE):
            add("dave", "U0DAVE", "running", NOW + timedelta(hours=1))
        for _ in range(RUNNING_ERIN):
            add("erin", "U0ERIN", "running", NOW + timedelta(hours=1))
        for n in range(SCHEDULED):
            window = NOW + timedelta(hours=2 + n)
            add("scheduled", "U0ERIN", "scheduled", window + timedelta(hours=1), window)
    finally:
        db.close()
    return ids


async def _homes(tmp_path: Path, *users: str, access: str = "") -> dict[str, str]:
    settings = load_settings(
        _env_file=None, db=tmp_path / "ccert.db", approvers="U0ALICE,U0BOB", access=access, timezone="UTC"
    )
    inv = inventory()
    async with await Store.open(settings.db) as store:
        service = RemediationService(store, inv, RemediationConfig.from_settings(settings), ENV)
        dispatcher = build_dispatcher(inv, settings, ENV, store=store, remediation=service)
        return {u: render_text((await dispatcher.dispatch("home", Caller(u, None))).ack) for u in users}


async def test_capped_lists_show_the_right_requests_and_count_them_all(tmp_path: Path) -> None:
    ids = _prepare(tmp_path / "ccert.db")
    alice = (await _homes(tmp_path, "U0ALICE"))["U0ALICE"]
    assert f"Waiting for you ({PENDING})" in alice, "the real total, not the 50 read"
    first = ids["pending"][0]
    assert f"#{first} site-a" in alice, "the request closest to expiring is shown (it is the oldest id)"
    assert alice.index(f"#{first} site-a") < alice.index(f"#{ids['pending'][1]} site-a"), "closest to expiring first"
    assert f"and {PENDING - 10} more: `/ccert approve <id>`" in alice
    running = RUNNING_DAVE + RUNNING_ERIN
    assert f"In progress ({running})" in alice and f"and {running - 10} more runs" in alice
    assert f"Scheduled ({SCHEDULED})" in alice and f"and {SCHEDULED - 10} more scheduled" in alice
    scheduled = alice[alice.index(f"Scheduled ({SCHEDULED})") :]
    assert f"#{ids['scheduled'][0]} site-a" in scheduled, "the next window is shown (it is the oldest id)"
    shown = [i for i in ids["scheduled"] if f"#{i} site-a" in scheduled]
    assert shown == ids["scheduled"][:10], "the next ten windows, in order"


async def test_the_fleet_is_for_status_and_other_peoples_requests_for_approvers(tmp_path: Path) -> None:
    ids = _prepare(tmp_path / "ccert.db")
    homes = await _homes(tmp_path, "U0ALICE", "U0DAVE", "U0MALLORY", access="status,aps,export=U0ALICE,U0DAVE")
    alice, dave, mallory = homes["U0ALICE"], homes["U0DAVE"], homes["U0MALLORY"]
    assert "wlc" not in mallory and "site-a" not in mallory and "stuck" not in mallory
    assert FLEET_NOT_ALLOWED.split(";")[0] in " ".join(mallory.split())
    assert "site-a" in alice and "🛑 stuck" in alice and FLEET_NOT_ALLOWED.split(";")[0] not in alice
    assert "None of your requests is in progress." in mallory and "None of your requests is scheduled." in mallory
    assert "Other people's requests" in " ".join(mallory.split())
    for erin in ids["erin"] + ids["scheduled"]:
        assert f"#{erin} " not in mallory and f"#{erin} " not in dave, "Erin's requests are the approvers' business"
    assert f"In progress ({RUNNING_DAVE})" in dave and all(f"#{i} site-a" in dave for i in ids["dave"])
    assert "🛑 stuck" in dave, "Dave may run status: he sees the fleet"
    assert FOR_APPROVERS.split(";")[0] not in " ".join(alice.split()), "an approver sees every request"
    assert f"#{ids['erin'][-1]} site-a" in alice
