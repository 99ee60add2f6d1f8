"""The engine's hard cases over real SSH: APs that stay stuck, NTP that never syncs, a change the
controller refuses, an undo that cannot finish (needs attention) and the later recovery that does.
"""

from __future__ import annotations

from pathlib import Path

from bot.controllers.session import SessionOptions
from bot.remediation.engine import Engine, RecordingListener, RunEvent, RunInfo, StepInfo, create_run
from bot.remediation.playbook_loader import playbook_for
from bot.remediation.service import RemediationService
from bot.simulator import SimulatorServer
from bot.store import Store
from bot.store import remediation as q
from tests.remediation.remediation_helpers import (
    APPROVER_1,
    APPROVER_2,
    FAST_PARAMS,
    FAST_RETRY,
    REQUESTER,
    clock_is_current,
    device_problems,
    fast_config,
    ntp_config,
    voter,
)
from tests.support.simulated_site import SimulatedSite, aireos, iosxe, simulated_site


def _engine(site: SimulatedSite, store: Store, listener: object | None = None) -> Engine:
    return Engine(
        store,
        environ=site.environ,
        session_options=SessionOptions(3.0, True, site.known_hosts),
        listener=listener,  # type: ignore[arg-type]
        retry=FAST_RETRY,
    )


async def _run(
    site: SimulatedSite, store: Store, name: str, listener: object | None = None, **params: object
) -> tuple[int, object]:
    controller = site.inventory.controller(name)
    assert controller is not None
    playbook = playbook_for(controller.platform)
    values = playbook.resolve_params({**FAST_PARAMS, **params})
    run_id = await create_run(store, controller=controller, playbook_plan=playbook.to_plan(), params=values)
    return run_id, await _engine(site, store, listener).execute(run_id)


async def test_aps_still_stuck_after_the_wait_are_reported_and_ntp_is_restored_anyway(tmp_path: Path) -> None:
    slow = iosxe("wlc-1", download_seconds=100000)
    async with simulated_site(tmp_path, slow) as site, await Store.open(site.settings.db) as store:
        wlc = site.sim.controllers["wlc-1"]
        before = ntp_config(wlc)
        listener = RecordingListener()
        run_id, outcome = await _run(site, store, "wlc-1", listener, wait_timeout_seconds=1, poll_interval_seconds=0.2)
        assert outcome.status == "succeeded"  # type: ignore[attr-defined]
        note = next(w for w in outcome.warnings if "still Downloading" in w)  # type: ignore[attr-defined]
        assert "never reboots an AP" in note and "at least 30 minutes" in note and "AP3702-1" in note
        assert len(wlc.aps_in_state("Downloading")) == 2  # not rebooted, not touched
        assert device_problems(wlc, before) == []
        run = await store.read(q.get_run, run_id)
        wait = next(s for s in run.steps if s.step_id == "wait_aps")
        assert wait.state == "done" and wait.result["downloading"] == ["AP2702-2", "AP3702-1"]
        assert 1.0 <= (wait.duration_seconds or 0) < 3.0
        assert any("30 minutes" in e.text for _, e in listener.events)


async def test_ntp_that_never_syncs_leaves_the_clock_current_by_hand(tmp_path: Path) -> None:
    unreachable = aireos("wlc-1", download_seconds=6, ntp_sync_seconds=30)
    async with (
        simulated_site(tmp_path, unreachable, time_scale=60) as site,
        await Store.open(site.settings.db) as store,
    ):
        wlc = site.sim.controllers["wlc-1"]
        before = ntp_config(wlc)
        wlc.ntp_unreachable.update({"192.0.2.123", "198.51.100.123"})
        run_id, outcome = await _run(site, store, "wlc-1", ntp_sync_timeout_seconds=1)
        assert outcome.status == "succeeded", outcome  # type: ignore[attr-defined]
        assert any("set it to the current time by hand" in w for w in outcome.warnings)  # type: ignore[attr-defined]
        assert ntp_config(wlc) == before and clock_is_current(wlc) and wlc.clock_source == "manual"
        recorded = await store.read(q.get_recorded, run_id)
        assert recorded is not None and recorded.verified_at is not None


async def test_a_controller_without_ntp_gets_its_clock_back_by_hand(tmp_path: Path) -> None:
    no_ntp = aireos("wlc-1", ntp=[], ntp_keys={}, download_seconds=6)
    async with simulated_site(tmp_path, no_ntp, time_scale=60) as site, await Store.open(site.settings.db) as store:
        wlc = site.sim.controllers["wlc-1"]
        _, outcome = await _run(site, store, "wlc-1")
        assert outcome.status == "succeeded"  # type: ignore[attr-defined]
        assert any("no NTP server is configured" in w for w in outcome.warnings)  # type: ignore[attr-defined]
        assert clock_is_current(wlc) and wlc.running.ntp_servers == []
        assert all(ap.state == "Registered" for ap in wlc.aps.values())


async def test_refused_restore_needs_attention_then_recovery_finishes_the_job(tmp_path: Path) -> None:
    """The NTP key vanishes during the wait: restoring its binding is refused, the undo cannot restore it
    either, so the run says NEEDS ATTENTION with the commands to type; once the key is back, recovery
    (as at the next start-up) restores NTP as recorded and verifies it."""
    async with simulated_site(tmp_path, aireos("wlc-1")) as site, await Store.open(site.settings.db) as store:
        wlc = site.sim.controllers["wlc-1"]
        before = ntp_config(wlc)
        key = wlc.running.ntp_keys[1]

        class DropKeyDuringWait(RecordingListener):
            async def step_started(self, run: RunInfo, step: StepInfo) -> None:
                if step.step_id == "wait_aps":
                    wlc.set_ntp_key(1, None)

        service = RemediationService(store, site.inventory, fast_config(site), site.environ)
        view = await service.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001")
        await service.vote(view.id, voter(APPROVER_1), approve=True)
        await service.vote(view.id, voter(APPROVER_2), approve=True)
        [outcome] = await service.start_run(view.id, DropKeyDuringWait())
        assert outcome.status == "needs_attention"
        assert "config time ntp auth enable 1 1" in outcome.manual_steps
        final = await service.request_view(view.id)
        assert final.status.value == "needs_attention"
        states = {s.step_id: s.state for s in final.runs[0].steps}
        assert states["restore_ntp"] == "undo_failed" and states["set_clock"] == "undone"
        assert clock_is_current(wlc)  # the clock came back even though NTP could not
        recorded = await store.read(q.get_recorded, outcome.run_id)
        assert recorded is not None and recorded.verified_at is None  # kept: not verified
        # the controller stays blocked for new requests until it is sorted out
        from bot.remediation.service import RequestRefused

        try:
            await service.create_request("site-t", "wlc-1", REQUESTER, "C0DEMO0001")
            raise AssertionError("a controller needing attention accepted a new request")
        except RequestRefused as exc:
            assert "needs attention" in exc.reason

        wlc.set_ntp_key(1, key)
        [result] = await service.recover()
        assert result.decision == "undone" and result.outcome is not None and result.outcome.status == "failed"
        assert device_problems(wlc, before) == []
        assert (await service.request_view(view.id)).status.value == "failed"
        assert (await store.read(q.get_recorded, outcome.run_id)).verified_at is not None  # type: ignore[union-attr]


async def test_a_listener_that_raises_never_disturbs_the_run(tmp_path: Path) -> None:
    class Broken:
        async def step_started(self, run: RunInfo, step: StepInfo) -> None:
            raise RuntimeError("chat is down")

        async def step_finished(self, run: RunInfo, step: StepInfo) -> None:
            raise RuntimeError("chat is down")

        async def event(self, run: RunInfo, event: RunEvent) -> None:
            raise RuntimeError("chat is down")

    async with simulated_site(tmp_path, iosxe("wlc-1")) as site, await Store.open(site.settings.db) as store:
        before = ntp_config(site.sim.controllers["wlc-1"])
        _, outcome = await _run(site, store, "wlc-1", Broken())
        assert outcome.status == "succeeded"  # type: ignore[attr-defined]
        assert device_problems(site.sim.controllers["wlc-1"], before) == []


async def test_unreachable_before_any_change_fails_without_touching_anything(tmp_path: Path) -> None:
    async with simulated_site(tmp_path, aireos("wlc-1")) as site, await Store.open(site.settings.db) as store:
        sim: SimulatorServer = site.sim
        sim.controllers["wlc-1"].faults.refuse_connections = True
        run_id, outcome = await _run(site, store, "wlc-1")
        assert outcome.status == "failed"  # type: ignore[attr-defined]
        assert "nothing had been changed" in outcome.summary  # type: ignore[attr-defined]
        run = await store.read(q.get_run, run_id)
        assert run.steps[0].state == "failed" and run.steps[0].attempts == 1
        assert all(s.state == "pending" for s in run.steps[1:])
