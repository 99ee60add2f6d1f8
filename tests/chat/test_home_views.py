"""The App Home as a view: worst sites first, numbers as stored, honest ages, the right requests,
and within Slack's limits for a 500-controller fleet (checked with slack_sdk's own models)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.chat.home import site_glances
from bot.chat.home_views import (
    MAX_SITES_SHOWN,
    HomeData,
    SiteGlance,
    age_text,
    home_reply,
    waiting_for,
    worst_first,
)
from bot.chat.remediation_views import APPROVE_ACTION, REJECT_ACTION
from bot.chat.reply import Caller
from bot.console.render import render_text
from bot.domain.approvals import ApprovalPolicy, RequestStatus, Voter
from bot.domain.models import ErrorKind, Platform, SnapshotError
from bot.domain.verdict import VerdictStatus
from bot.inventory import Inventory
from bot.inventory_file import parse_inventory
from bot.remediation.models import ApprovalView, RequestView, StuckAPView, TargetView
from bot.slack.render import MAX_HEADER_TEXT, MAX_SECTION_TEXT, home_view, render_view
from bot.store import history, open_db
from tests.store.store_factories import FIXED_AIREOS, ap, record, snap, unreachable
from tests.support.fake_slack import home_view_problems

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Paris")
POLICY = ApprovalPolicy(required_approvals=2, approvers=frozenset({"U0ALICE", "U0BOB", "S0NETOPS"}))

INVENTORY = """\
sites:
  hq:
    controllers:
      - {name: wlc-1, host: 192.0.2.1, platform: iosxe, credentials: lab}
      - {name: wlc-2, host: 192.0.2.2, platform: iosxe, credentials: lab}
  branch:
    controllers:
      - {name: wlc-3, host: 192.0.2.3, platform: aireos, credentials: lab}
  lab:
    controllers:
      - {name: wlc-4, host: 192.0.2.4, platform: iosxe, credentials: lab}
  partial:
    controllers:
      - {name: wlc-5, host: 192.0.2.5, platform: aireos, credentials: lab}
credentials:
  lab: {username_env: U, password_env: P}
"""


def inventory(text: str = INVENTORY) -> Inventory:
    return parse_inventory(text, "<home test>", environ={"U": "u", "P": "p"})


def request(
    request_id: int,
    *,
    requester: str = "U0CARLA",
    status: RequestStatus = RequestStatus.PENDING,
    approvals: tuple[str, ...] = (),
    created: datetime = NOW - timedelta(minutes=10),
    ttl: timedelta = timedelta(hours=1),
    site: str = "hq",
) -> RequestView:
    target = TargetView(
        controller="wlc-1",
        platform="iosxe",
        playbook="timeback-iosxe",
        playbook_digest="d",
        current_clock=None,
        current_clock_source="ntp",
        proposed_clock=None,
        proposed_local=None,
        utc_offset_seconds=None,
        ntp_servers=(),
        stuck_aps=(StuckAPView("AP1", "AIR-CAP3702I-E-K9"),),
        commands=(),
    )
    return RequestView(
        id=request_id,
        site=site,
        requester=requester,
        status=status,
        created_at=created,
        expires_at=created + ttl,
        required_approvals=2,
        approvals=tuple(ApprovalView(u, created + timedelta(minutes=1)) for u in approvals),
        targets=(target,),
        channel="C0HQ",
    )


# --------------------------------------------------------------------------- from the store


def _stored_home(tmp_path: Path) -> tuple[list[SiteGlance], dict[str, list[object]]]:
    db = open_db(tmp_path / "home.db")
    try:
        # hq: one controller with an affected AP Downloading on unfixed software (stuck at once in
        # these factories) and one unreachable; branch: fixed and fine; partial: a read that was
        # incomplete; lab: never checked.
        record(
            db,
            [
                snap("wlc-1", site="hq", at=NOW - timedelta(minutes=20), aps=[ap("a1", state="Downloading")]),
                unreachable("wlc-2", site="hq", at=NOW - timedelta(minutes=20)),
                snap(
                    "wlc-3",
                    site="branch",
                    at=NOW - timedelta(minutes=20),
                    platform=Platform.AIREOS,
                    version=FIXED_AIREOS,
                    aps=[ap("c1")],
                ),
                snap(
                    "wlc-5",
                    site="partial",
                    at=NOW - timedelta(minutes=20),
                    platform=Platform.AIREOS,
                    version=FIXED_AIREOS,
                    aps=[ap("d1")],
                    errors=[SnapshotError(ErrorKind.INCOMPLETE, "read 1 of 9 APs", "show ap summary")],
                ),
            ],
        )
        # A newer check of wlc-1 only: its numbers are the latest, the site's age the oldest.
        record(db, [snap("wlc-1", site="hq", at=NOW - timedelta(minutes=5), aps=[ap("a1", state="Downloading")])])
        latest = history.latest_snapshots(db)
    finally:
        db.close()
    by_site: dict[str, list[object]] = {}
    for s in latest:
        by_site.setdefault(s.site or "", []).append(s)
    return site_glances(inventory(), latest), by_site


def test_sites_worst_first_with_the_stored_counts(tmp_path: Path) -> None:
    glances, stored = _stored_home(tmp_path)
    ordered = worst_first(glances)
    assert [g.site for g in ordered] == ["hq", "partial", "lab", "branch"]
    hq = ordered[0]
    snaps = stored["hq"]
    assert hq.status is VerdictStatus.STUCK
    assert hq.stuck_aps == sum(s.stuck_count for s in snaps) == 1  # type: ignore[attr-defined]
    assert hq.downloading_aps == sum(s.downloading_count for s in snaps)  # type: ignore[attr-defined]
    assert hq.unreachable == 1 and hq.checked == 2
    assert hq.checked_at == NOW - timedelta(minutes=20), "the site is as old as its oldest last check"
    assert hq.newest_at == NOW - timedelta(minutes=5)
    partial = ordered[1]
    assert partial.status is VerdictStatus.ERROR and partial.incomplete == 1
    lab = ordered[2]
    assert lab.status is None and lab.checked == 0 and lab.checked_at is None


def test_the_home_says_ages_incomplete_reads_and_no_check_yet(tmp_path: Path) -> None:
    glances, _ = _stored_home(tmp_path)
    text = render_text(home_reply(HomeData("U0ALICE", NOW, ZONE, tuple(glances), approver=True)))
    rows = {line.split()[0]: line for line in text.splitlines() if line.strip().split(" ")[0] in {"hq", "lab"}}
    assert "🛑 stuck" in rows["hq"] and "20 min ago" in rows["hq"] and "1 unreachable" in rows["hq"]
    assert "no check yet" in rows["lab"] and "–" in rows["lab"]
    assert "1 read incomplete" in text
    assert "Last check 5 min ago (2026-12-02 15:55 Europe/Paris)" in text
    assert "the oldest shown is from 20 min ago" in text
    assert "1 AP stuck, 0 downloading (not stuck yet)" in text
    assert "Nothing is waiting for your approval." in text


def test_a_fleet_never_checked_says_so() -> None:
    glances = site_glances(inventory(), [])
    text = render_text(home_reply(HomeData("U0ALICE", NOW, ZONE, tuple(glances))))
    assert "No controller has been checked yet" in text
    assert "0 AP" not in text and "stuck," not in text


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (5, "just now"),
        (60, "1 min ago"),
        (59 * 60, "59 min ago"),
        (3600, "1 h ago"),
        (3 * 3600 + 120, "3 h 02 min ago"),
    ],
)
def test_age_text(seconds: int, words: str) -> None:
    assert age_text(NOW - timedelta(seconds=seconds), NOW) == words


# --------------------------------------------------------------------------- waiting for you


def test_waiting_for_you_only_what_you_may_approve_now() -> None:
    pending = [
        request(1),  # yes
        request(2, requester="U0ALICE"),  # her own
        request(3, approvals=("U0ALICE",)),  # already approved by her
        request(4, created=NOW - timedelta(hours=2)),  # past its deadline (not yet marked expired)
        request(5, approvals=("U0BOB",)),  # yes: Bob's approval is not hers
        request(6, status=RequestStatus.RUNNING),  # not pending
    ]
    alice = Voter("U0ALICE")
    assert [v.id for v in waiting_for(alice, POLICY, pending, NOW)] == [1, 5]
    assert waiting_for(Voter("U0MALLORY"), POLICY, pending, NOW) == []
    assert [v.id for v in waiting_for(Voter("U0DAVE", ("S0NETOPS",)), POLICY, pending, NOW)] == [1, 2, 3, 5]


def test_waiting_requests_carry_the_thread_buttons() -> None:
    data = HomeData("U0ALICE", NOW, ZONE, (), waiting=(request(7),), approver=True)
    reply = home_reply(data)
    buttons = [b for s in reply.sections for b in s.buttons]
    assert [(b.action_id, b.value) for b in buttons] == [(APPROVE_ACTION, "7"), (REJECT_ACTION, "7")]
    text = render_text(reply)
    assert "#7 hq (wlc-1), for 1 AP in Downloading" in text
    assert "0 of 2 approvals" in text and "type: /ccert approve 7" in text


def test_in_progress_scheduled_and_mine() -> None:
    scheduled = dataclasses.replace(
        request(9, status=RequestStatus.SCHEDULED), scheduled_for=datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    )
    data = HomeData(
        "U0CARLA",
        NOW,
        ZONE,
        (),
        in_progress=(request(8, status=RequestStatus.NEEDS_ATTENTION),),
        scheduled=(scheduled,),
        mine=(request(8, status=RequestStatus.NEEDS_ATTENTION), request(6, status=RequestStatus.SUCCEEDED)),
    )
    text = render_text(home_reply(data))
    assert "🛑 NEEDS ATTENTION: #8 hq" in text
    assert "Scheduled (1)" in text and "window starts 2026-12-03 02:00 Europe/Paris (in 10 h)" in text
    assert "#6 hq (wlc-1), for 1 AP in Downloading: ✅ done · asked 10 min ago" in text
    assert "You are not an approver" in text


def test_without_remediation_the_requests_say_so() -> None:
    text = render_text(home_reply(HomeData("U0ALICE", NOW, ZONE, (), requests=False)))
    assert "Remediation is not enabled" in text


# --------------------------------------------------------------------------- Slack's limits


def _big_inventory(sites: int, per_site: int) -> Inventory:
    lines = ["sites:"]
    for s in range(sites):
        lines.append(f"  site-{s:03d}:")
        lines.append("    controllers:")
        for c in range(per_site):
            host = f"10.0.{s}.{c + 1}"
            lines.append(f"      - {{name: wlc-{s:03d}-{c}, host: {host}, platform: iosxe, credentials: lab}}")
    lines += ["credentials:", "  lab: {username_env: U, password_env: P}"]
    return inventory("\n".join(lines) + "\n")


def test_a_500_controller_fleet_stays_within_a_home_views_limits(tmp_path: Path) -> None:
    inv = _big_inventory(250, 2)
    db = open_db(tmp_path / "big.db")
    try:
        snapshots = []
        for n, controller in enumerate(c for site in inv.sites.values() for c in site.controllers):
            site = controller.name.rsplit("-", 1)[0].replace("wlc", "site")
            if n % 7 == 0:
                snapshots.append(unreachable(controller.name, site=site, at=NOW - timedelta(minutes=3)))
            else:
                state = "Downloading" if n % 3 == 0 else "Registered"
                aps = [ap(f"{controller.name}-ap{i}", state=state) for i in range(3)]
                snapshots.append(snap(controller.name, site=site, at=NOW - timedelta(minutes=3), aps=aps))
        record(db, snapshots)
        glances = site_glances(inv, history.latest_snapshots(db))
    finally:
        db.close()
    many = tuple(request(i, site=f"site-{i:03d}") for i in range(1, 40))
    data = HomeData(
        "U0ALICE",
        NOW,
        ZONE,
        tuple(glances),
        waiting=many,
        in_progress=tuple(dataclasses.replace(r, status=RequestStatus.RUNNING) for r in many),
        mine=many[:5],
        approver=True,
    )
    reply = home_reply(data)
    view = home_view(reply)
    blocks = view["blocks"]
    assert len(blocks) <= 100
    View(**view).validate_json()  # slack_sdk's own model of a view: 100 blocks, its fields
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= MAX_HEADER_TEXT
        for text in [block.get("text") or {}, *(block.get("fields") or []), *(block.get("elements") or [])]:
            if isinstance(text, dict) and isinstance(text.get("text"), str):
                assert len(text["text"]) <= MAX_SECTION_TEXT
    assert home_view_problems(view) == []
    shown = json.dumps(blocks)
    assert f"and {250 - MAX_SITES_SHOWN} more sites (see `/ccert status all`)" in shown
    assert shown.count('"remediation_approve"') == 10, "ten requests to vote on, the rest counted"
    assert "and 29 more" in shown
    first_rows = next(b["text"]["text"] for b in blocks if "```" in (b.get("text") or {}).get("text", ""))
    assert "🛑 stuck" in first_rows.split("\n")[3], "the worst site comes first"


def test_render_view_cuts_with_a_note_and_keeps_the_footer() -> None:
    from bot.chat.reply import Reply, Section

    reply = Reply(title="t", sections=tuple(Section(text=f"s{i}") for i in range(120)), footer="the footer")
    blocks = render_view(reply)
    assert len(blocks) == 100
    assert blocks[-1]["elements"][0]["text"] == "the footer"
    assert "did not fit in this view" in blocks[-2]["elements"][0]["text"]


def test_headings_count_the_real_totals_of_capped_lists() -> None:
    running = tuple(request(i, status=RequestStatus.RUNNING) for i in range(1, 4))
    data = HomeData(
        "U0ALICE",
        NOW,
        ZONE,
        (),
        waiting=(request(7),),
        waiting_total=12,
        in_progress=running,
        in_progress_total=25,
        approver=True,
    )
    text = render_text(home_reply(data))
    assert "Waiting for you (12)" in text and "and 11 more: `/ccert approve <id>`" in text
    assert "In progress (25)" in text and "and 22 more runs" in text


def test_a_context_without_the_dispatchers_policy_allows_nothing() -> None:
    from bot.chat.context import CommandContext

    ctx = CommandContext(Caller("U0ALICE"), inventory(), None, None)  # type: ignore[arg-type]
    assert ctx.allows("status") is False
