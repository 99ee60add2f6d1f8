"""History and summaries: latest snapshots, /ccert history, site at a time, the fleet digest numbers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlite_utils import Database

from bot.domain.models import AccessPoint, ControllerSnapshot, ErrorKind, Platform, SnapshotError
from bot.domain.software_fix import FixState
from bot.domain.verdict import VerdictStatus
from bot.store import CheckTrigger
from bot.store import history as history_store
from tests.store.store_factories import FIXED_AIREOS, NOT_AFFECTED, T0, ap, record, snap, unreachable

H = timedelta(hours=1)


def dl(name: str) -> AccessPoint:
    return ap(name, state="Downloading")


def wlc2(at: datetime) -> ControllerSnapshot:
    """The AireOS controller on fixed software: one affected and one not affected AP."""
    aps = [ap("c1"), ap("c2", model=NOT_AFFECTED)]
    return snap("wlc-2", at=at, platform=Platform.AIREOS, version=FIXED_AIREOS, aps=aps)


@pytest.fixture
def history(db: Database) -> dict[str, int]:
    """Yesterday, overnight, a manual check of one site, today."""
    runs = {}
    runs["yesterday"] = record(
        db,
        [
            snap("wlc-1", at=T0, aps=[dl("a1"), ap("a2")]),
            wlc2(T0),
            snap("wlc-3", site="branch", at=T0, aps=[ap("b1")]),
        ],
    )
    runs["night"] = record(
        db,
        [
            snap("wlc-1", at=T0 + 12 * H, aps=[dl("a1"), dl("a2")]),
            unreachable("wlc-2", at=T0 + 12 * H),
            snap("wlc-3", site="branch", at=T0 + 12 * H, aps=[dl("b1")]),
        ],
    )
    runs["manual"] = record(
        db, [snap("wlc-3", site="branch", at=T0 + 18 * H, aps=[ap("b1")])], trigger=CheckTrigger.MANUAL
    )
    runs["today"] = record(
        db,
        [
            snap("wlc-1", at=T0 + 24 * H, aps=[dl("a1"), dl("a2"), dl("a3")]),
            wlc2(T0 + 24 * H),
            snap("wlc-3", site="branch", at=T0 + 24 * H, aps=[ap("b1")]),
            snap("wlc-9", site="new-site", at=T0 + 24 * H, aps=[dl("n1")]),
        ],
    )
    return runs


def test_latest_snapshots(db: Database, history: dict[str, int]) -> None:
    latest = history_store.latest_snapshots(db)
    assert [(s.site, s.controller, s.check_run_id) for s in latest] == [
        ("branch", "wlc-3", history["today"]),
        ("hq", "wlc-1", history["today"]),
        ("hq", "wlc-2", history["today"]),
        ("new-site", "wlc-9", history["today"]),
    ]
    assert [s.controller for s in history_store.latest_snapshots(db, "hq")] == ["wlc-1", "wlc-2"]
    assert history_store.latest_snapshots(db, "nowhere") == []


def test_site_history_newest_first(db: Database, history: dict[str, int]) -> None:
    hq = history_store.site_history(db, "hq")
    assert [c.run.id for c in hq] == [history["today"], history["night"], history["yesterday"]]  # no manual
    assert [(c.status, c.stuck_count, c.total_aps) for c in hq] == [
        (VerdictStatus.STUCK, 3, 5),
        (VerdictStatus.STUCK, 2, 2),
        (VerdictStatus.STUCK, 1, 4),
    ]
    night = hq[1]
    assert night.taken_at == T0 + 12 * H
    assert [(s.controller, s.status) for s in night.snapshots] == [
        ("wlc-1", VerdictStatus.STUCK),
        ("wlc-2", VerdictStatus.UNREACHABLE),
    ]
    assert [(a.name, a.since) for a in night.snapshots[0].stuck_aps] == [("a1", T0), ("a2", T0 + 12 * H)]

    assert [c.run.id for c in history_store.site_history(db, "hq", limit=2)] == [history["today"], history["night"]]
    branch = history_store.site_history(db, "branch")
    assert [c.run.trigger for c in branch] == ["scheduled", "manual", "scheduled", "scheduled"]
    assert [c.stuck_count for c in branch] == [0, 0, 1, 0]
    assert history_store.site_history(db, "nowhere") == []


def test_site_summary_at(db: Database, history: dict[str, int]) -> None:
    at_night = history_store.site_summary_at(db, "hq", T0 + 13 * H)
    assert [(s.controller, s.check_run_id) for s in at_night] == [
        ("wlc-1", history["night"]),
        ("wlc-2", history["night"]),
    ]
    # exactly at a snapshot's time counts as "at or before"
    assert [s.check_run_id for s in history_store.site_summary_at(db, "branch", T0 + 18 * H)] == [history["manual"]]
    assert history_store.site_summary_at(db, "hq", T0 - H) == []


def test_fleet_summary_with_change_since_yesterday(db: Database, history: dict[str, int]) -> None:
    summary = history_store.fleet_summary(db, T0 + 24 * H + timedelta(minutes=1))
    assert summary.compared_with == T0 + timedelta(minutes=1)
    assert [s.site for s in summary.sites] == ["branch", "hq", "new-site"]

    hq = summary.site("hq")
    assert hq is not None
    assert (hq.controllers, hq.controllers_read, hq.controllers_unreachable) == (2, 2, 0)
    assert (hq.total_aps, hq.affected_aps, hq.stuck_aps) == (5, 4, 3)
    assert (hq.stuck_aps_before, hq.stuck_change) == (1, 2)
    assert (hq.affected_aps_before, hq.affected_change) == (3, 1)
    assert hq.status is VerdictStatus.STUCK and hq.statuses == {"stuck": 1, "ok": 1}
    [unfixed] = hq.unfixed  # the AireOS 8.10.183.0 controller is fixed
    assert (unfixed.controller, unfixed.software_version, unfixed.fix_state) == ("wlc-1", "17.3.4", FixState.NOT_FIXED)
    assert unfixed.at_risk_aps == 3
    assert unfixed.recommendation is not None and "17.3.6" in unfixed.recommendation

    branch = summary.site("branch")
    assert branch is not None and (branch.stuck_aps, branch.stuck_aps_before, branch.stuck_change) == (0, 0, 0)

    new = summary.site("new-site")
    assert new is not None and new.stuck_aps == 1 and new.stuck_aps_before is None and new.stuck_change is None

    assert (summary.controllers, summary.total_aps, summary.stuck_aps) == (4, 7, 4)
    assert summary.stuck_change == 4 - 1  # over the sites that existed a day ago
    assert [u.controller for u in summary.unfixed] == ["wlc-3", "wlc-1", "wlc-9"]


def test_fleet_summary_counts_unreachable_and_has_no_past(db: Database, history: dict[str, int]) -> None:
    summary = history_store.fleet_summary(db, T0 + 12 * H)
    hq = summary.site("hq")
    assert hq is not None
    assert (hq.controllers, hq.controllers_read, hq.controllers_unreachable) == (2, 1, 1)
    assert hq.unreachable_controllers == ("wlc-2",) and hq.controllers_partial == 0
    assert hq.total_aps == 2  # nothing is counted for the controller that was not read
    assert hq.stuck_aps_before is None and summary.stuck_change is None  # nothing recorded a day earlier
    assert summary.site("new-site") is None  # not known yet at that time


def test_fleet_summary_partial_reads_and_critical_findings(db: Database) -> None:
    partial = snap("wlc-p", aps=[ap("p1")], errors=[SnapshotError(ErrorKind.UNPARSABLE, "bad", "show ap summary")])
    no_ntp = snap("wlc-n", aps=[ap("n1", model=NOT_AFFECTED)], version=FIXED_AIREOS, ntp_servers=[])
    record(db, [partial, no_ntp, unreachable("wlc-u")])
    hq = history_store.fleet_summary(db, T0 + H).site("hq")
    assert hq is not None
    assert (hq.controllers, hq.controllers_read, hq.controllers_partial, hq.controllers_unreachable) == (3, 2, 1, 1)
    assert hq.status is VerdictStatus.UNREACHABLE
    assert [(controller, f.code) for controller, f in hq.critical] == [("wlc-n", "no_ntp")]
