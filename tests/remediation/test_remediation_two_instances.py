"""Two instances over one PostgreSQL store: a run approved on one is driven by the other.

Each `RemediationService` here is what one `ccert-bot run` holds (its own `Store` on the same
database, its own instance name); the controller is the simulator, over SSH.
"""

from __future__ import annotations

from pathlib import Path

from bot.domain.approvals import RequestStatus
from bot.remediation.models import RequestView
from bot.remediation.service import RemediationService
from bot.store import Store
from bot.store import remediation as q
from bot.store.sql import Db
from tests.remediation.remediation_helpers import (
    APPROVER_1,
    APPROVER_2,
    REQUESTER,
    clock_is_current,
    device_problems,
    eventually,
    fast_config,
    ntp_config,
    voter,
)
from tests.support.simulated_site import aireos, simulated_site


async def approved_on(service: RemediationService) -> int:
    view = await service.create_request("site-t", None, REQUESTER, "C0DEMO0001")
    await service.vote(view.id, voter(APPROVER_1), True)
    result = await service.vote(view.id, voter(APPROVER_2), True)
    assert result.approved_now
    return view.id


async def test_the_leader_starts_what_a_follower_approved(tmp_path: Path, postgres_url: str) -> None:
    async with (
        simulated_site(tmp_path, aireos("wlc-1")) as site,
        await Store.open(postgres_url) as follower_store,
        await Store.open(postgres_url) as leader_store,
    ):
        wlc = site.sim.controllers["wlc-1"]
        before = ntp_config(wlc)
        follower = RemediationService(follower_store, site.inventory, fast_config(site), site.environ, instance="bot-b")
        leader = RemediationService(leader_store, site.inventory, fast_config(site), site.environ, instance="bot-a")
        request_id = await approved_on(follower)  # the follower records it and starts nothing
        assert await leader.start_approved(None) == [request_id]
        assert await leader.start_approved(None) == []  # already starting: never twice
        view = await wait_final(leader, request_id)
        assert view.status is RequestStatus.SUCCEEDED, view
        [run] = await leader_store.read(q.runs_for_request, request_id)
        assert await leader_store.read(claimed_by, run.id) == "bot-a"
        assert device_problems(wlc, before) == [] and clock_is_current(wlc)


async def test_a_standby_taking_over_starts_a_fresh_approval_instead_of_failing_it(
    tmp_path: Path, postgres_url: str
) -> None:
    async with simulated_site(tmp_path, aireos("wlc-1")) as site, await Store.open(postgres_url) as store:
        old = RemediationService(store, site.inventory, fast_config(site), site.environ, instance="bot-a")
        request_id = await approved_on(old)  # ... and the leader died before starting it
        new = RemediationService(store, site.inventory, fast_config(site), site.environ, instance="bot-b")
        await new.recover(hand_over=True)
        assert (await new.request_view(request_id)).status is RequestStatus.APPROVED  # kept for the pump
        assert await new.start_approved(None) == [request_id]
        assert (await wait_final(new, request_id)).status is RequestStatus.SUCCEEDED


async def test_a_lone_bot_restarting_still_fails_an_unstarted_approval(tmp_path: Path, postgres_url: str) -> None:
    """The anchor: without a hand-over (one instance, restarted), nothing starts behind anyone's back."""
    async with simulated_site(tmp_path, aireos("wlc-1")) as site, await Store.open(postgres_url) as store:
        old = RemediationService(store, site.inventory, fast_config(site), site.environ, instance="bot-a")
        request_id = await approved_on(old)
        restarted = RemediationService(store, site.inventory, fast_config(site), site.environ, instance="bot-a2")
        await restarted.recover()
        assert (await restarted.request_view(request_id)).status is RequestStatus.FAILED
        assert await restarted.start_approved(None) == []


def claimed_by(db: Db, run_id: int) -> str | None:
    return db.execute("SELECT claimed_by FROM remediation_runs WHERE id = ?", [run_id]).fetchone()[0]


async def wait_final(service: RemediationService, request_id: int, timeout: float = 180) -> RequestView:
    async def final() -> bool:
        return (await service.request_view(request_id)).status.value in q.FINAL_REQUEST

    await eventually(final, timeout=timeout)
    return await service.request_view(request_id)
