"""A 500-controller x 50-AP fleet over three checks; and pruning old history."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from sqlite_utils import Database

from bot.domain.models import AccessPoint, ControllerSnapshot
from bot.domain.verdict import evaluate_controller
from bot.store import CheckRun, CheckTrigger, SiteCheck, SiteDay, alerts, ap_state, checks, outbox, pruning
from bot.store import history as history_store
from bot.store import snapshots as snapshots_store
from tests.store.store_factories import AFFECTED, AT_ONCE, NOT_AFFECTED, T0, ap, record, snap, unreachable

CONTROLLERS = 500
APS = 50
PER_SITE = 10


def fleet_check(at: datetime, looping: int) -> list[ControllerSnapshot]:
    """Every controller: 25 affected + 25 not affected APs; the first `looping` affected ones Downloading.

    Controller 7 of every site is unreachable in the second check only.
    """
    snaps = []
    for c in range(CONTROLLERS):
        site = f"site-{c // PER_SITE:02d}"
        if looping == 2 and c % PER_SITE == 7:
            snaps.append(unreachable(f"wlc-{c:03d}", at=at, site=site))
            continue
        aps = [
            AccessPoint(
                name=f"ap-{c:03d}-{i:02d}",
                model=AFFECTED if i % 2 else NOT_AFFECTED,
                mac=f"00:11:22:{c // 256:02x}:{c % 256:02x}:{i:02x}",
                ip=f"10.{c // 256}.{c % 256}.{i + 1}",
                image_version="17.3.4.30",
                state="Downloading" if i % 2 and i // 2 < looping else "Registered",
                retry_count=i % 5,
            )
            for i in range(APS)
        ]
        snaps.append(snap(f"wlc-{c:03d}", site=site, at=at, aps=aps))
    return snaps


@pytest.mark.slow
def test_fleet_of_500_controllers(db: Database) -> None:
    times = [T0, T0 + timedelta(hours=12), T0 + timedelta(hours=24)]
    looping = [1, 2, 3]  # affected APs Downloading per controller at each check
    timings = []
    for at, n in zip(times, looping, strict=True):
        snapshots = fleet_check(at, n)
        verdicts = [evaluate_controller(s, watch=AT_ONCE) for s in snapshots]
        start = time.perf_counter()
        checks.record_check(db, CheckRun(CheckTrigger.SCHEDULED, at, at + timedelta(minutes=2)), snapshots, verdicts)
        timings.append(time.perf_counter() - start)

    start = time.perf_counter()
    summary = history_store.fleet_summary(db, times[-1] + timedelta(minutes=5))
    summary_s = time.perf_counter() - start
    start = time.perf_counter()
    history = history_store.site_history(db, "site-07")
    latest = history_store.latest_snapshots(db)
    since = ap_state.downloading_since(db, "wlc-017")
    queries_s = time.perf_counter() - start
    print(
        f"\nrecord_check of {CONTROLLERS}x{APS}: "
        + ", ".join(f"{t * 1000:.0f} ms" for t in timings)
        + f"; fleet_summary {summary_s * 1000:.1f} ms; history+latest+downloading_since {queries_s * 1000:.1f} ms"
    )

    assert (
        db.execute("SELECT count(*) FROM snapshot_aps").fetchone()[0]
        == CONTROLLERS * APS * 2 + (CONTROLLERS - CONTROLLERS // PER_SITE) * APS
    )
    assert len(latest) == CONTROLLERS
    assert len(summary.sites) == CONTROLLERS // PER_SITE
    assert summary.total_aps == CONTROLLERS * APS
    assert summary.affected_aps == CONTROLLERS * APS // 2
    assert summary.stuck_aps == CONTROLLERS * 3
    # a day earlier (the first check): one stuck AP per controller
    assert summary.stuck_change == CONTROLLERS * 3 - CONTROLLERS * 1
    site = summary.site("site-07")
    assert site is not None
    assert (site.controllers, site.controllers_unreachable, site.stuck_aps, site.stuck_aps_before) == (10, 0, 30, 10)
    assert len(summary.unfixed) == CONTROLLERS

    assert [(c.stuck_count, c.status.value) for c in history] == [(30, "stuck"), (18, "stuck"), (10, "stuck")]
    assert [s.controllers_unreachable for s in history_store.fleet_summary(db, times[1]).sites] == [1] * (
        CONTROLLERS // PER_SITE
    )
    # wlc-017 was unreachable at the second check: its timers carried on from the first
    assert since == {"ap-017-01": T0, "ap-017-03": T0 + timedelta(hours=24), "ap-017-05": T0 + timedelta(hours=24)}
    assert ap_state.downloading_since(db, "wlc-018") == {
        "ap-018-01": T0,
        "ap-018-03": T0 + timedelta(hours=12),
        "ap-018-05": T0 + timedelta(hours=24),
    }


def test_prune_keeps_latest_snapshots_open_alerts_and_undelivered_events(db: Database) -> None:
    day = timedelta(days=1)
    first = record(
        db, [snap("wlc-1", at=T0, aps=[ap("a1", state="Downloading")]), snap("wlc-old", at=T0, aps=[ap("o1")])]
    )
    second = record(db, [snap("wlc-1", at=T0 + day, aps=[ap("a1", state="Downloading")])])
    third = record(db, [snap("wlc-1", at=T0 + 2 * day, aps=[ap("a1", state="Downloading"), ap("a2")])])
    running = checks.start_check(db, "scheduled", T0)  # the bot died during this one
    latest_before = history_store.latest_snapshots(db)

    open_alert = alerts.open_alert(db, "stuck", "wlc-1", channel="C1", payload={}, now=T0)
    done = alerts.open_alert(db, "unreachable", "wlc-2", channel="C1", payload={}, now=T0)
    alerts.mark_delivered(db, done.id, "1.1", "C1", now=T0)
    old_note = outbox.enqueue_event(db, done.id, "resolve_note", {"text": "back"}, now=T0)
    outbox.mark_event_delivered(db, old_note, now=T0)
    alerts.resolve_alert(db, done.id, now=T0)
    waiting = alerts.open_alert(db, "unreachable", "wlc-3", channel="C1", payload={}, now=T0)
    alerts.mark_delivered(db, waiting.id, "2.2", "C1", now=T0)
    undelivered_note = outbox.enqueue_event(db, waiting.id, "resolve_note", {"text": "back"}, now=T0)
    alerts.resolve_alert(db, waiting.id, now=T0)
    never_posted = alerts.open_alert(db, "stuck", "wlc-4", channel="C1", payload={}, now=T0)
    alerts.resolve_alert(db, never_posted.id, now=T0)

    second_aps = snapshots_store.snapshot_aps(db, snapshots_store.check_snapshots(db, second)[0].id)
    result = pruning.prune(db, T0 + day + timedelta(hours=12))

    # wlc-1 at T0 goes; at T0+1d it is its latest snapshot before the cutoff, and stays. Its one
    # AP row is shared by that kept snapshot (same AP list), so the row moves there, not away.
    assert (result.snapshots, result.ap_rows) == (1, 0)
    assert snapshots_store.snapshot_aps(db, snapshots_store.check_snapshots(db, second)[0].id) == second_aps
    assert (result.check_runs, result.events, result.alerts) == (0, 1, 1)  # the first run keeps wlc-old
    assert history_store.latest_snapshots(db) == latest_before  # wlc-old's only snapshot is old, and kept
    history = history_store.site_history(db, "hq")
    assert [c.run.id for c in history if isinstance(c, SiteCheck)] == [third, second, first]
    [pruned_day] = [d for d in history if isinstance(d, SiteDay)]
    assert pruned_day.daily and pruned_day.day == T0.date()
    # only the controller whose check of that day was pruned: wlc-old's is still a whole check
    assert [(c.controller, c.checks, c.pruned) for c in pruned_day.controllers] == [("wlc-1", 1, 1)]
    assert [a.name for a in snapshots_store.snapshot_aps(db, latest_before[1].id)] == ["o1"]
    assert {r.id for r in checks.recent_checks(db)} == {first, second, third, running}
    assert alerts.get_alert(db, open_alert.id).is_open
    assert [e.id for e in outbox.pending_events(db)] == [undelivered_note]
    assert alerts.get_alert(db, waiting.id) and alerts.get_alert(db, never_posted.id)
    assert alerts.last_resolved_alert(db, "wlc-2", "unreachable") is None  # the old, fully delivered one went
    assert ap_state.downloading_since(db, "wlc-1") == {"a1": T0}  # current state is not history

    # pruning again finds nothing more
    assert pruning.prune(db, T0 + day + timedelta(hours=12)) == type(result)()
