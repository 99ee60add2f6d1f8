"""The whole story through the service API, over real SSH to the simulator, on both platforms.

A stuck site → a request built from a fresh read (dry-run, current → proposed)
→ two-person approval with its refusals → the run → APs Registered, NTP
identical to before (running and saved), clock current on NTP, configuration
saved, and an audit that holds every command, vote and step.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.chat.remediation_views import (
    APPROVE_ACTION,
    REJECT_ACTION,
    WINDOW_ACTION,
    audit_reply,
    created_reply,
    dry_run_reply,
    progress_reply,
    request_reply,
)
from bot.chat.request_announcer import ChatAnnouncer
from bot.console.notifier import ConsoleNotifier
from bot.console.render import render_text
from bot.domain.approvals import RequestStatus
from bot.remediation.engine import RecordingListener
from bot.remediation.playbook_loader import playbook_for
from bot.remediation.service import RemediationService, RequestRefused
from bot.simulator import REGISTERED
from bot.store import Store
from bot.store import remediation as q
from tests.remediation.remediation_helpers import (
    APPROVER_1,
    APPROVER_2,
    GROUP_MEMBER,
    NETOPS_GROUP,
    OUTSIDER,
    REQUESTER,
    clock_is_current,
    device_problems,
    fast_config,
    ntp_config,
    voter,
)
from tests.support.simulated_site import aireos, iosxe, simulated_site


@pytest.mark.parametrize("platform", ["aireos", "iosxe"])
async def test_full_story_stuck_site_to_verified_fix(tmp_path: Path, platform: str) -> None:
    keyed = {"ntp_keys": {1: "md5 0822455D0A16 7"}, "ntp_authenticate": True, "ntp_trusted_keys": [1]}
    entry = aireos("wlc-1") if platform == "aireos" else iosxe("wlc-1", **keyed)
    async with simulated_site(tmp_path, entry) as site, await Store.open(site.settings.db) as store:
        wlc = site.sim.controllers["wlc-1"]
        before = ntp_config(wlc)
        stuck_before = sorted(ap.name for ap in wlc.aps_in_state("Downloading"))
        assert len(stuck_before) == 2
        service = RemediationService(store, site.inventory, fast_config(site), site.environ)

        view = await service.create_request("site-t", None, REQUESTER, "C0DEMO0001")
        assert view.status is RequestStatus.PENDING and view.remaining == 2
        target = view.targets[0]
        assert sorted(a.name for a in target.stuck_aps) == stuck_before
        assert target.proposed_clock is not None and target.proposed_clock.year == 2022
        assert target.ntp_servers and target.current_clock is not None
        changes = [c.command for c in target.commands if c.changes]
        if platform == "aireos":
            assert changes[:3] == [
                "config time ntp delete 2",
                "config time ntp delete 1",
                "config time manual 12/02/22 00:00:00",
            ]
            assert "config time ntp auth enable 1 1" in changes and changes[-1] == "save config"
        else:
            assert changes[0] == "configure terminal" and "clock set 00:00:00 2 Dec 2022" in changes
            assert "ntp server vrf Mgmt-intf 203.0.113.123 source GigabitEthernet0" in changes
            assert changes[-1] == "write memory"
        reply = request_reply(view)
        assert [(b.label, b.action_id, b.value) for b in reply.buttons] == [
            ("Approve", APPROVE_ACTION, str(view.id)),
            ("Reject", REJECT_ACTION, str(view.id)),
            ("Run in a change window", WINDOW_ACTION, str(view.id)),
        ]
        assert "2 more approvals needed" in render_text(reply)
        picker = reply.buttons[-1]
        assert picker.choices and all(c.value.startswith(f"{view.id} ") for c in picker.choices)

        own = await service.vote(view.id, voter(REQUESTER), approve=True)
        assert not own.accepted and "your own request" in own.reason
        first = await service.vote(view.id, voter(APPROVER_1), approve=True)
        assert first.accepted and first.remaining == 1 and not first.approved_now
        again = await service.vote(view.id, voter(APPROVER_1), approve=True)
        assert not again.accepted and "counts once" in again.reason and again.view.remaining == 1
        text = render_text(request_reply(again.view))
        assert f"<@{APPROVER_1}>" in text and "1 more approval needed" in text
        second = await service.vote(view.id, voter(GROUP_MEMBER, NETOPS_GROUP), approve=True)
        assert second.accepted and second.approved_now and second.view.status is RequestStatus.APPROVED
        assert request_reply(second.view).buttons == ()

        listener = RecordingListener()
        outcomes = await service.start_run(view.id, listener)
        assert [o.status for o in outcomes] == ["succeeded"], outcomes

        assert {ap.name: ap.state for ap in wlc.aps.values()} == dict.fromkeys(wlc.aps, REGISTERED)
        assert ntp_config(wlc) == before
        assert not wlc.unsaved_changes
        assert wlc.clock_source == "ntp" and clock_is_current(wlc)
        assert device_problems(wlc, before) == []

        final = await service.request_view(view.id)
        assert final.status is RequestStatus.SUCCEEDED
        run = final.runs[0]
        assert [s.state for s in run.steps] == ["done"] * 9
        assert all(s.duration_seconds is not None for s in run.steps)
        assert [s.step_id for _, s in listener.finished] == [s.step_id for s in run.steps]
        progress = render_text(progress_reply(final))
        assert "Run #" in progress and "done" in progress

        audit = await service.audit(view.id)
        kinds = [e.kind for e in audit]
        assert kinds[0] == "request"
        votes = [e for e in audit if e.kind == "vote"]
        assert [(e.actor, e.data["counted"]) for e in votes] == [
            (REQUESTER, False),
            (APPROVER_1, True),
            (APPROVER_1, False),
            (GROUP_MEMBER, True),
        ]
        assert "approved" in kinds and "run_running" in kinds and "run_succeeded" in kinds
        assert "recorded" in kinds and "verified" in kinds
        sent = [e.text for e in audit if e.kind == "command"]
        assert all(c.command in sent for c in target.commands if "<" not in c.command)
        assert sum(1 for k in kinds if k == "step_done") == 9
        everything = json.dumps([[e.text, e.data] for e in audit])
        recorded = await store.read(q.get_recorded, run.run_id)
        assert recorded is not None and recorded.verified_at is not None
        everything += json.dumps(recorded.config)
        assert "s3cret" not in everything and "0822455D0A16" not in everything
        rendered = render_text(audit_reply(view.id, audit))
        assert "vote" in rendered and "command" in rendered
        # ... and what the controller answered to each command, not only what was sent
        answered = [e for e in audit if e.kind == "command" and str(e.data.get("output", "")).strip()]
        assert answered
        for entry in answered[:10]:
            assert str(entry.data["output"]).strip().splitlines()[0].strip() in rendered


async def test_both_platforms_in_one_site_request_with_chat_messages(tmp_path: Path) -> None:
    """One request for a whole site: both controllers, run concurrently; the notifier gets the messages."""
    out = _Capture()
    async with (
        simulated_site(tmp_path, aireos("wlc-1"), iosxe("wlc-2")) as site,
        await Store.open(site.settings.db) as store,
    ):
        before = {n: ntp_config(site.sim.controllers[n]) for n in ("wlc-1", "wlc-2")}
        service = RemediationService(
            store, site.inventory, fast_config(site), site.environ, ChatAnnouncer(ConsoleNotifier(out))
        )
        view = await service.create_request("site-t", None, REQUESTER, "C0DEMO0001")
        assert view.controllers == ("wlc-1", "wlc-2") and view.message_ts is not None
        assert created_reply(view).ephemeral and "is posted" in created_reply(view).title
        await service.vote(view.id, voter(APPROVER_1), approve=True)
        result = await service.vote(view.id, voter(APPROVER_2), approve=True)
        assert result.approved_now
        outcomes = await service.start_run(view.id)
        assert sorted(o.status for o in outcomes) == ["succeeded", "succeeded"]
        for name in ("wlc-1", "wlc-2"):
            assert device_problems(site.sim.controllers[name], before[name]) == []
        final = await service.request_view(view.id)
        assert final.status is RequestStatus.SUCCEEDED
    text = out.text
    assert "Time-back request #1" in text and "updated" in text and "thread" in text
    assert "completed on wlc-1" in text and "completed on wlc-2" in text


class _Capture:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        return None

    @property
    def text(self) -> str:
        return "".join(self.parts)


# ---------------------------------------------------------------------------------------------- refusals


async def test_refusals_non_approver_expired_rejected_busy(tmp_path: Path) -> None:
    async with (
        simulated_site(tmp_path, aireos("wlc-1"), iosxe("wlc-2")) as site,
        await Store.open(site.settings.db) as store,
    ):
        before = ntp_config(site.sim.controllers["wlc-1"])
        service = RemediationService(store, site.inventory, fast_config(site), site.environ)
        view = await service.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001")

        outsider = await service.vote(view.id, voter(OUTSIDER, "SOTHER01"), approve=True)
        assert not outsider.accepted and "not an approver" in outsider.reason
        outsider_reject = await service.vote(view.id, voter(OUTSIDER), approve=False, comment="not tonight")
        assert not outsider_reject.accepted and outsider_reject.view.status is RequestStatus.PENDING

        with pytest.raises(RequestRefused, match=r"wlc-1 already has request #1 \(pending\)"):
            await service.create_request("site-t", "wlc-1", APPROVER_1, "C0DEMO0001")
        with pytest.raises(RequestRefused, match="wlc-1 already has request"):
            await service.create_request("site-t", None, APPROVER_1, "C0DEMO0001")
        with pytest.raises(RequestRefused, match="not approved"):
            await service.start_run(view.id)

        # expiry: a click after the deadline is refused and the request says it expired
        later = view.expires_at + timedelta(seconds=1)
        expired_click = await service.vote(view.id, voter(APPROVER_1), approve=True, now=later)
        assert not expired_click.accepted and "expired" in expired_click.reason
        assert expired_click.view.status is RequestStatus.EXPIRED
        assert "expired" in render_text(request_reply(expired_click.view))
        assert request_reply(expired_click.view).buttons == ()

        # the controller is free again; a new request, rejected by an approver
        second = await service.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001")
        assert (await service.vote(second.id, voter(APPROVER_1), approve=True)).accepted
        rejected = await service.vote(second.id, voter(APPROVER_2), approve=False, comment="not tonight")
        assert rejected.accepted and rejected.view.status is RequestStatus.REJECTED
        late = await service.vote(second.id, voter(GROUP_MEMBER, NETOPS_GROUP), approve=True)
        assert not late.accepted and "rejected" in late.reason
        assert "Rejected by" in render_text(request_reply(late.view))
        with pytest.raises(RequestRefused, match="rejected"):
            await service.start_run(second.id)

        # expire_due from the scheduler
        third = await service.create_request("site-t", "wlc-2", REQUESTER, "C0DEMO0001")
        assert await service.expire_due(third.created_at + timedelta(minutes=30)) == []
        expired = await service.expire_due(third.expires_at)
        assert [v.id for v in expired] == [third.id] and expired[0].status is RequestStatus.EXPIRED

        assert ntp_config(site.sim.controllers["wlc-1"]) == before  # nothing ran
        kinds = [e.kind for e in await service.audit(view.id)]
        assert kinds.count("vote") == 3 and "expired" in kinds


async def test_impossible_timeback_is_refused_with_staging_advice(tmp_path: Path) -> None:
    late_cert = {"not_before": "2023-01-10T08:00:00Z", "not_after": "2033-01-10T08:00:00Z"}
    async with (
        simulated_site(tmp_path, iosxe("wlc-1", certificate=late_cert)) as site,
        await Store.open(site.settings.db) as store,
    ):
        service = RemediationService(store, site.inventory, fast_config(site), site.environ)
        with pytest.raises(RequestRefused, match="staging controller"):
            await service.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001")
        explicit: dict[str, Any] = {"target": "2022-12-02T00:00:00Z"}
        with pytest.raises(RequestRefused, match="staging controller"):
            await service.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001", params=explicit)


async def test_target_before_certificate_start_is_refused(tmp_path: Path) -> None:
    cert = {"not_before": "2022-12-01T12:00:00Z", "not_after": "2032-12-01T12:00:00Z"}
    async with (
        simulated_site(tmp_path, aireos("wlc-1", certificate=cert)) as site,
        await Store.open(site.settings.db) as store,
    ):
        service = RemediationService(store, site.inventory, fast_config(site), site.environ)
        with pytest.raises(RequestRefused, match=r"before the controller certificate's start date.*staging"):
            await service.create_request(
                "site-t", "wlc-1", REQUESTER, "C0DEMO0001", params={"target": "2022-12-01T00:00:00Z"}
            )
        view = await service.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001")
        proposed = view.targets[0].proposed_clock
        assert proposed is not None and proposed.isoformat() == "2022-12-02T12:00:00+00:00"  # a day after the start


async def test_nothing_to_fix_is_allowed_but_said(tmp_path: Path) -> None:
    healthy = aireos("wlc-1", aps=[{"name": "AP1852-1", "model": "AIR-AP1852I-E-K9"}])
    async with simulated_site(tmp_path, healthy) as site, await Store.open(site.settings.db) as store:
        service = RemediationService(store, site.inventory, fast_config(site), site.environ)
        view = await service.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001")
        assert view.targets[0].nothing_to_fix
        text = render_text(request_reply(view))
        assert "nothing to fix" in text and "no AP is Downloading" in text


async def test_unreachable_controller_and_no_approvers_are_refused(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, aireos("wlc-1")) as site, await Store.open(site.settings.db) as store:
        site.sim.controllers["wlc-1"].faults.refuse_connections = True
        service = RemediationService(store, site.inventory, fast_config(site), site.environ)
        with pytest.raises(RequestRefused, match="could not read wlc-1"):
            await service.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001")
        site.sim.controllers["wlc-1"].faults.refuse_connections = False
        from bot.domain.approvals import ApprovalPolicy

        nobody = RemediationService(store, site.inventory, fast_config(site, policy=ApprovalPolicy()), site.environ)
        with pytest.raises(RequestRefused, match="no approvers"):
            await nobody.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001")
        with pytest.raises(RequestRefused, match="unknown site"):
            await service.create_request("nowhere", None, REQUESTER, "C0DEMO0001")


async def test_dry_run_preview_stores_and_changes_nothing(tmp_path: Path) -> None:
    async with (
        simulated_site(tmp_path, aireos("wlc-1"), iosxe("wlc-2")) as site,
        await Store.open(site.settings.db) as store,
    ):
        before = {n: ntp_config(site.sim.controllers[n]) for n in ("wlc-1", "wlc-2")}
        service = RemediationService(store, site.inventory, fast_config(site), site.environ)
        preview = await service.preview("site-t", None)
        assert [t.controller for t in preview.targets] == ["wlc-1", "wlc-2"] and preview.notes == ()
        text = render_text(dry_run_reply(preview))
        assert "nothing was changed" in text and "config time manual 12/02/22 00:00:00" in text
        assert "clock set 00:00:00 2 Dec 2022" in text
        view = await service.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001")
        assert created_reply(view) == request_reply(view)  # no notifier: the caller posts the message
        again = await service.preview("site-t", "wlc-1")
        assert "already has request #1" in again.notes[0]
        assert await store.read(q.runs_for_request, view.id) == []
        for name in ("wlc-1", "wlc-2"):
            assert ntp_config(site.sim.controllers[name]) == before[name]


async def test_a_run_starts_once_and_only_as_approved(tmp_path: Path) -> None:
    """Two starts of one approved request: one runs, one is refused. A playbook edited after the
    approval is refused (the approvers did not see it) and the request ends failed, nothing sent."""
    books = tmp_path / "playbooks"
    books.mkdir()
    for platform in ("aireos", "iosxe"):
        (books / f"timeback-{platform}.yaml").write_text(
            Path(playbook_for(platform).source).read_text(encoding="utf-8"),
            encoding="utf-8",
        )
    async with (
        simulated_site(tmp_path, aireos("wlc-1"), iosxe("wlc-2")) as site,
        await Store.open(site.settings.db) as store,
    ):
        service = RemediationService(store, site.inventory, fast_config(site, playbook_dir=books), site.environ)
        first = await service.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001")
        second = await service.create_request("site-t", "wlc-2", REQUESTER, "C0DEMO0001")
        for view in (first, second):
            await service.vote(view.id, voter(APPROVER_1), approve=True)
            assert (await service.vote(view.id, voter(APPROVER_2), approve=True)).approved_now
        results = await asyncio.gather(service.start_run(first.id), service.start_run(first.id), return_exceptions=True)
        refused = [r for r in results if isinstance(r, RequestRefused)]
        ran = [r for r in results if isinstance(r, list)]
        assert len(refused) == 1 and len(ran) == 1 and ran[0][0].status == "succeeded"

        wlc2 = site.sim.controllers["wlc-2"]
        before = ntp_config(wlc2)
        path = books / "timeback-iosxe.yaml"
        path.write_text(path.read_text(encoding="utf-8") + "# edited after approval\n", encoding="utf-8")
        with pytest.raises(RequestRefused, match="changed since the request was approved"):
            await service.start_run(second.id)
        assert (await service.request_view(second.id)).status is RequestStatus.FAILED
        assert ntp_config(wlc2) == before and await store.read(q.runs_for_request, second.id) == []
        assert (await service.preview("site-t", "wlc-2")).notes == ()  # the controller is free again


async def test_an_approved_request_orphaned_by_a_restart_is_not_started_behind_anyones_back(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, aireos("wlc-1")) as site, await Store.open(site.settings.db) as store:
        before = ntp_config(site.sim.controllers["wlc-1"])
        service = RemediationService(store, site.inventory, fast_config(site), site.environ)
        view = await service.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001")
        await service.vote(view.id, voter(APPROVER_1), approve=True)
        assert (await service.vote(view.id, voter(APPROVER_2), approve=True)).approved_now
        # the bot dies before start_run; at the next start-up:
        restarted = RemediationService(store, site.inventory, fast_config(site), site.environ)
        assert await restarted.recover() == []
        final = await restarted.request_view(view.id)
        assert final.status is RequestStatus.FAILED and "request it again" in (final.note or "")
        assert ntp_config(site.sim.controllers["wlc-1"]) == before
        await restarted.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001")  # free again
