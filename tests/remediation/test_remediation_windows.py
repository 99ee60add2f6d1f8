"""Change windows end to end on the simulator: a request waits for its window, survives a
restart, re-reads the controller at the window, can be cancelled, and CCERT_CHANGE_WINDOWS
refuses starts outside the allowed windows. Real SSH, a real SQLite file; the clock is moved
with time_machine (the simulator's clocks move with it)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bot.domain.approvals import RequestStatus
from bot.domain.change_windows import parse_windows
from bot.remediation.service import RemediationService, RequestRefused
from bot.simulator.model import REGISTERED
from bot.store import Store
from bot.store import remediation as q
from tests.remediation.remediation_helpers import (
    APPROVER_1,
    APPROVER_2,
    OUTSIDER,
    REQUESTER,
    WindowClock,
    device_problems,
    eventually,
    fast_config,
    ntp_config,
    voter,
)
from tests.support.simulated_site import SimulatedSite, aireos, simulated_site


def _service(store: Store, site: SimulatedSite, clock: WindowClock | None = None, **config: Any) -> RemediationService:
    return RemediationService(
        store,
        site.inventory,
        fast_config(site, schedule_check_seconds=0.05, **config),
        site.environ,
        window_clock=clock,
    )


async def _approved(service: RemediationService, at: datetime) -> int:
    view = await service.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001", at=at)
    await service.vote(view.id, voter(APPROVER_1), approve=True)
    result = await service.vote(view.id, voter(APPROVER_2), approve=True, comment="window agreed in CHG0042")
    assert result.accepted and not result.approved_now
    assert result.view.status is RequestStatus.SCHEDULED and result.view.scheduled_for == at
    return view.id


class _Runs:
    """A spawner that keeps the runs it starts, to await them."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[Any]] = []

    def __call__(self, coroutine: Any, name: str) -> object:
        task = asyncio.ensure_future(coroutine)
        self.tasks.append(task)
        return task


async def test_a_scheduled_run_starts_at_its_window_and_survives_a_restart(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, aireos("wlc-1")) as site:
        wlc = site.sim.controllers["wlc-1"]
        before = ntp_config(wlc)
        window = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
        async with await Store.open(site.settings.db) as store:
            first = _service(store, site)
            request_id = await _approved(first, window)
            view = await first.request_view(request_id)
            assert view.expires_at >= window, "a request waiting for its window does not expire before it"
            assert view.approvals[-1].comment == "window agreed in CHG0042"
            runs = _Runs()
            timer = asyncio.ensure_future(first.run_window_timer(runs))
            await asyncio.sleep(0.4)  # several timer rounds before the window: nothing starts
            timer.cancel()
            await asyncio.gather(timer, return_exceptions=True)
            assert runs.tasks == [] and (await first.request_view(request_id)).status is RequestStatus.SCHEDULED
            # expiry does not touch a scheduled request, even long after its TTL
            assert await first.expire_due(window - timedelta(minutes=1)) == []
        assert ntp_config(wlc) == before and wlc.clock_source == "ntp", "nothing was sent before the window"

        # The bot restarts: a new store handle and service over the same file.
        async with await Store.open(site.settings.db) as store:
            clock = WindowClock()
            second = _service(store, site, clock)
            await second.recover()  # must keep a scheduled request (it fails only approved ones left behind)
            assert (await second.request_view(request_id)).status is RequestStatus.SCHEDULED
            runs = _Runs()
            timer = asyncio.ensure_future(second.run_window_timer(runs))
            await asyncio.sleep(0.2)
            assert runs.tasks == []
            clock.move_to(window + timedelta(seconds=1))
            await eventually(lambda: bool(runs.tasks), timeout=5)
            await asyncio.wait_for(runs.tasks[0], timeout=60)
            timer.cancel()
            await asyncio.gather(timer, return_exceptions=True)
            final = await second.request_view(request_id)
            assert final.status is RequestStatus.SUCCEEDED, final
            assert device_problems(wlc, before) == []
            assert all(ap.state == REGISTERED for ap in wlc.aps.values())
            kinds = [e.text for e in await second.audit(request_id)]
            assert any("its change window started" in text for text in kinds)
            assert any("CHG0042" in text for text in kinds), "the approval's comment is in the audit"


async def test_at_the_window_a_recovered_controller_is_left_alone(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, aireos("wlc-1")) as site:
        wlc = site.sim.controllers["wlc-1"]
        before = ntp_config(wlc)
        window = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
        async with await Store.open(site.settings.db) as store:
            clock = WindowClock()
            service = _service(store, site, clock)
            request_id = await _approved(service, window)
            # Meanwhile someone fixed it by hand: every AP registered.
            for ap in wlc.aps.values():
                ap.state, ap.image, ap.download_due, ap.download_status = REGISTERED, wlc.ap_image, None, "Complete"
            runs = _Runs()
            clock.move_to(window + timedelta(seconds=5))
            assert await service.start_due(runs) == []
            assert runs.tasks == []
            view = await service.request_view(request_id)
            assert view.status is RequestStatus.CANCELLED and view.cancelled_by is None
            assert "no AP was Downloading" in (view.note or "") and "nothing was changed" in (view.note or "")
            assert await store.read(q.active_controllers) == {}, "the controller is free for a new request"
        assert ntp_config(wlc) == before and device_problems(wlc, before) == []


async def test_cancel_ends_a_scheduled_request_and_only_who_may(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, aireos("wlc-1")) as site:
        window = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
        async with await Store.open(site.settings.db) as store:
            service = _service(store, site)
            request_id = await _approved(service, window)
            outsider = await service.cancel(request_id, voter(OUTSIDER))
            assert not outsider.accepted and outsider.view.status is RequestStatus.SCHEDULED
            done = await service.cancel(request_id, voter(APPROVER_1))
            assert done.accepted and done.view.status is RequestStatus.CANCELLED
            assert done.view.cancelled_by == APPROVER_1
            again = await service.cancel(request_id, voter(APPROVER_1))
            assert not again.accepted and "cancelled" in again.reason
            assert await service.start_due(now=window + timedelta(seconds=1)) == []
            audit = await service.audit(request_id)
            assert audit[-1].kind == "cancelled" and audit[-1].actor == APPROVER_1
            with pytest.raises(RequestRefused, match="no request #999"):
                await service.cancel(999, voter(APPROVER_1))


async def test_change_windows_refuse_a_start_outside_them_and_name_the_next(tmp_path: Path) -> None:
    zone = ZoneInfo("Europe/Paris")
    windows = parse_windows("Sat 22:00-Sun 04:00", zone)
    wednesday_noon = datetime(2026, 12, 2, 12, 0, tzinfo=zone)
    async with simulated_site(tmp_path, aireos("wlc-1")) as site, await Store.open(site.settings.db) as store:
        service = _service(store, site, windows=windows)
        with time_machine.travel(wednesday_noon, tick=True):
            with pytest.raises(RequestRefused) as now_refused:
                await service.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001")
            assert "outside the change windows" in now_refused.value.reason
            assert "Sat 2026-12-05 22:00 CET" in now_refused.value.reason and "--at" in now_refused.value.reason
            tuesday = datetime(2026, 12, 8, 1, 0, tzinfo=zone)
            with pytest.raises(RequestRefused, match="Sat 2026-12-12 22:00 CET"):
                await service.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001", at=tuesday)
            assert await store.read(q.active_controllers) == {}, "a refused request stores nothing"
            saturday = datetime(2026, 12, 5, 23, 0, tzinfo=zone)
            view = await service.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001", at=saturday)
            assert view.scheduled_for == saturday
            # moving the window is refused outside the windows too, and changes nothing
            with pytest.raises(RequestRefused, match="outside the change windows"):
                await service.schedule(view.id, voter(REQUESTER), tuesday)
            assert (await service.request_view(view.id)).scheduled_for == saturday
            monday = datetime(2026, 12, 7, 3, 0, tzinfo=zone)
            moved = await service.schedule(view.id, voter(REQUESTER), monday - timedelta(hours=24))
            assert moved.accepted and moved.view.scheduled_for == monday - timedelta(hours=24)
            await service.vote(view.id, voter(APPROVER_1), approve=True)
            late = await service.schedule(view.id, voter(REQUESTER), saturday)
            assert not late.accepted and "already has an approval" in late.reason


async def test_a_window_missed_by_more_than_the_ttl_is_not_run_late(tmp_path: Path) -> None:
    """The bot was down over the weekend: the Saturday-night run does not start on Monday."""
    async with simulated_site(tmp_path, aireos("wlc-1")) as site:
        wlc = site.sim.controllers["wlc-1"]
        before = ntp_config(wlc)
        window = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
        async with await Store.open(site.settings.db) as store:
            clock = WindowClock()
            service = _service(store, site, clock)
            request_id = await _approved(service, window)
            clock.move_to(window + service.config.policy.ttl + timedelta(minutes=1))
            runs = _Runs()
            assert await service.start_due(runs) == [] and runs.tasks == []
            view = await service.request_view(request_id)
            assert view.status is RequestStatus.CANCELLED and "missed its window" in (view.note or "")
        assert ntp_config(wlc) == before


async def test_a_restart_as_the_window_begins_waits_for_the_window_again(tmp_path: Path) -> None:
    """Killed between `scheduled → approved` and the run's start: nothing was sent, so the
    request is scheduled again (not failed), and the timer starts it."""
    async with simulated_site(tmp_path, aireos("wlc-1")) as site:
        window = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
        async with await Store.open(site.settings.db) as store:
            service = _service(store, site)
            request_id = await _approved(service, window)
            await store.write(q.transition_request, request_id, "scheduled", "approved", window, "window started")
        async with await Store.open(site.settings.db) as store:
            service = _service(store, site)
            await service.recover()
            view = await service.request_view(request_id)
            assert view.status is RequestStatus.SCHEDULED and not view.runs


async def test_one_request_that_cannot_start_does_not_hold_up_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with simulated_site(tmp_path, aireos("wlc-1"), aireos("wlc-2")) as site:
        window = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
        async with await Store.open(site.settings.db) as store:
            service = _service(store, site)
            first = await service.create_request("site-t", "wlc-1", REQUESTER, None, at=window)
            second = await service.create_request("site-t", "wlc-2", REQUESTER, None, at=window)
            for request in (first, second):
                await service.vote(request.id, voter(APPROVER_1), approve=True)
                await service.vote(request.id, voter(APPROVER_2), approve=True)
            real = service._start_one_due

            async def flaky(request_id: int, when: datetime, spawn: Any) -> bool:
                if request_id == first.id:
                    raise OSError("the store hiccupped")
                return await real(request_id, when, spawn)

            monkeypatch.setattr(service, "_start_one_due", flaky)
            runs = _Runs()
            assert await service.start_due(runs, now=window + timedelta(seconds=1)) == [second.id]
            await asyncio.wait_for(asyncio.gather(*runs.tasks), timeout=60)
            assert (await service.request_view(first.id)).status is RequestStatus.SCHEDULED, "tried again later"


async def test_a_vote_decided_on_an_old_window_is_decided_again(tmp_path: Path) -> None:
    """An approval is for the window its voter saw: a window moved between the read and the
    write makes the store refuse the vote, and the service decides it again on the new state."""
    async with simulated_site(tmp_path, aireos("wlc-1")) as site:
        window = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
        async with await Store.open(site.settings.db) as store:
            service = _service(store, site)
            view = await service.create_request("site-t", "wlc-1", REQUESTER, None, at=window)
            row = await store.read(q.get_request, view.id)
            moved = window + timedelta(hours=1)
            await service.schedule(view.id, voter(REQUESTER), moved)
            with pytest.raises(q.StateError, match="another window"):
                await store.write(
                    q.record_vote,
                    view.id,
                    user_id=APPROVER_1,
                    vote="approve",
                    at=datetime.now(UTC),
                    counted=True,
                    reason="counted",
                    expected_status=row.status,
                    new_status="pending",
                    expected_scheduled_for=row.scheduled_for,
                )
            assert not (await service.request_view(view.id)).approvals
            assert (await service.vote(view.id, voter(APPROVER_1), approve=True)).accepted
            later = await service.request_view(view.id)
            assert later.scheduled_for == moved and [a.user_id for a in later.approvals] == [APPROVER_1]
            # moving the window closer takes its deadline from now, not from the old window
            closer = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30)
            await service.cancel(view.id, voter(REQUESTER))
            again = await service.create_request("site-t", "wlc-1", REQUESTER, None, at=window)
            assert again.expires_at == window
            moved_closer = await service.schedule(again.id, voter(REQUESTER), closer)
            assert moved_closer.accepted and moved_closer.view.expires_at < window
