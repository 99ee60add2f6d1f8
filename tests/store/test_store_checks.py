"""record_check: the run, the snapshot summary, AP rows and NTP servers come back exactly."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlite_utils import Database

from bot.domain.models import (
    AccessPoint,
    CertificateWindow,
    ClockReading,
    ClockSource,
    ErrorKind,
    NtpServer,
    Platform,
    SnapshotError,
)
from bot.domain.software_fix import FixState
from bot.domain.verdict import VerdictStatus, evaluate_controller
from bot.store import CheckRun, CheckTrigger, NotFoundError, StateError, StuckAP, ap_state, checks, history, snapshots
from tests.store.store_factories import AFFECTED, AT_ONCE, NOT_AFFECTED, T0, ap, record, snap, unreachable

CEST = timezone(timedelta(hours=2))

NTP_SERVERS = [
    NtpServer(
        address="10.0.0.1",
        index=None,
        key_index=1,
        vrf="Mgmt-intf",
        options=("prefer", "source", "Vlan10"),
        config_line="ntp server vrf Mgmt-intf 10.0.0.1 key 1 prefer source Vlan10",
        status="synced",
    ),
    NtpServer(address="ntp.example.net", index=2, status="reachable"),
]


def rich_snapshot():
    return snap(
        "wlc-9800-ä",
        site="hq",
        at=T0,
        apsps=["C9800-universalk9_wlc.17.03.04.CSCwd83653.SPA.apsp.bin"],
        clock=ClockReading(
            time=datetime(2024, 5, 1, 11, 0, 3, 250000, tzinfo=CEST),
            source=ClockSource.NTP,
            authoritative=True,
            synced=True,
            timezone="CEST",
            raw="*11:00:03.250 CEST Wed May 1 2024",
        ),
        ntp_servers=list(NTP_SERVERS),
        certificate=CertificateWindow(
            not_before=datetime(2019, 6, 3, 12, 0, tzinfo=UTC),
            not_after=datetime(2039, 6, 3, 12, 0, tzinfo=UTC),
            name="WLC_SSC",
            subject="CN=wlc-9800",
        ),
        aps=[
            AccessPoint(
                name="hq-ap-01",
                model=AFFECTED,
                mac="00:11:22:33:44:55",
                ip="10.1.0.11",
                image_version="17.3.4.30",
                state="Downloading",
                retry_count=7,
                location="Floor 1 – lobby",
            ),
            AccessPoint(name="hq-ap-02", model=NOT_AFFECTED, state="Registered", retry_count=0),
            AccessPoint(name="hq-ap-03"),  # nothing known but the name
        ],
        errors=[SnapshotError(ErrorKind.COMMAND_FAILED, "'show ap image' was refused", "show ap image")],
    )


def test_round_trip_summary_aps_and_ntp(db: Database) -> None:
    s = rich_snapshot()
    v = evaluate_controller(s, watch=AT_ONCE)
    assert v.status is VerdictStatus.STUCK  # a partial read still reports the stuck AP

    run_id = checks.record_check(db, CheckRun(CheckTrigger.MANUAL, T0, T0 + timedelta(seconds=30)), [s], [v])

    [rec] = snapshots.check_snapshots(db, run_id)
    aps = snapshots.snapshot_aps(db, rec.id)
    assert rec.to_snapshot(aps) == s  # every field back, AP order kept
    assert [a.to_access_point() for a in aps] == s.aps
    assert rec.ntp_servers == tuple(NTP_SERVERS)
    raw_ntp = db.execute("SELECT ntp_servers_json FROM snapshots WHERE id = ?", [rec.id]).fetchone()[0]
    assert json.loads(raw_ntp) == [{**asdict(n), "options": list(n.options)} for n in NTP_SERVERS]

    # the verdict's summary, kept on the row
    assert rec.status is VerdictStatus.STUCK
    assert (rec.total_aps, rec.affected_count, rec.not_affected_count, rec.unknown_model_count) == (3, 1, 1, 1)
    assert rec.likely_affected_count == v.likely_affected_count
    assert rec.at_risk_count == v.at_risk_count == 1
    assert rec.stuck_count == 1
    assert rec.stuck_aps == (StuckAP("hq-ap-01", AFFECTED, T0),)
    assert rec.fix_state is FixState.NOT_FIXED and rec.unfixed
    assert rec.recommendation == v.recommendation.text  # type: ignore[union-attr]
    assert rec.aps_read is True

    # bot timestamps come back aware, in UTC
    assert rec.taken_at == T0 and rec.taken_at.tzinfo is not None
    assert rec.clock is not None and rec.clock.time.utcoffset() == timedelta(0)


def test_naive_device_times_stay_naive(db: Database) -> None:
    """AireOS prints local time without a zone: stored as printed, not passed off as UTC."""
    local = datetime(2024, 5, 1, 5, 0, 1)
    s = snap(
        "aireos-1",
        platform=Platform.AIREOS,
        version="8.10.183.0",
        clock=ClockReading(time=local, source=ClockSource.MANUAL, raw="Wed May 1 05:00:01 2024"),
        certificate=CertificateWindow(not_before=datetime(2019, 1, 1), not_after=datetime(2039, 1, 1)),
    )
    record(db, [s])
    [rec] = history.latest_snapshots(db)
    assert rec.clock is not None and rec.clock.time == local and rec.clock.time.tzinfo is None
    assert rec.certificate == s.certificate
    assert rec.to_snapshot() == s


def test_check_run_counts_and_trigger(db: Database) -> None:
    partial = snap("wlc-2", aps=[ap("b1")], errors=[SnapshotError(ErrorKind.UNPARSABLE, "bad table", "show ap sum")])
    run_id = record(db, [snap("wlc-1"), partial, unreachable("wlc-3")], trigger=CheckTrigger.STARTUP)
    run = checks.get_check(db, run_id)
    assert run.trigger is CheckTrigger.STARTUP
    assert (run.controllers_total, run.controllers_read, run.controllers_failed, run.controllers_partial) == (
        3,
        2,
        1,
        1,
    )
    assert run.started_at == T0 and run.finished_at == T0 + timedelta(seconds=40)
    assert not run.overran and not run.running
    assert checks.recent_checks(db) == [run]


def test_started_check_can_be_marked_overran_then_recorded(db: Database) -> None:
    run_id = checks.start_check(db, "scheduled", T0)
    assert checks.get_check(db, run_id).running
    checks.mark_check_overran(db, run_id, "still running at the next tick (15 min); that tick was skipped")
    s = snap(aps=[ap("a1")])
    run = CheckRun(CheckTrigger.SCHEDULED, T0, T0 + timedelta(minutes=17), id=run_id)
    assert checks.record_check(db, run, [s], [evaluate_controller(s, watch=AT_ONCE)]) == run_id
    recorded = checks.get_check(db, run_id)
    assert recorded.overran and recorded.note == "still running at the next tick (15 min); that tick was skipped"
    assert recorded.finished_at == T0 + timedelta(minutes=17)
    assert [r.id for r in checks.recent_checks(db)] == [run_id]  # reported once, not duplicated
    with pytest.raises(StateError):
        checks.record_check(db, run, [s], [evaluate_controller(s, watch=AT_ONCE)])
    with pytest.raises(NotFoundError):
        checks.mark_check_overran(db, 999, "no such run")


def test_record_check_is_one_transaction(db: Database) -> None:
    good = snap("wlc-1", aps=[ap("a1", state="Downloading")])
    with pytest.raises(ValueError, match="no verdict"):
        checks.record_check(
            db, CheckRun(CheckTrigger.MANUAL, T0, T0), [good, snap("wlc-2")], [evaluate_controller(good)]
        )
    with pytest.raises(ValueError, match="naive"):
        bad = snap("wlc-2", at=datetime(2024, 5, 1, 9, 0))
        checks.record_check(
            db, CheckRun(CheckTrigger.MANUAL, T0, T0), [good, bad], [evaluate_controller(s) for s in [good, bad]]
        )
    # nothing of the failed checks was written, not even the first snapshot or its AP state
    assert db.execute("SELECT count(*) FROM check_runs").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 0
    assert ap_state.downloading_since(db, "wlc-1") == {}


def test_duplicate_controller_in_one_check_is_refused(db: Database) -> None:
    s = snap("wlc-1")
    with pytest.raises(ValueError, match="duplicates: wlc-1"):
        checks.record_check(db, CheckRun(CheckTrigger.MANUAL, T0, T0), [s, s], [evaluate_controller(s, watch=AT_ONCE)])


def test_unreachable_snapshot_is_kept_honestly(db: Database) -> None:
    record(db, [unreachable("wlc-1")])
    [rec] = history.latest_snapshots(db)
    assert rec.status is VerdictStatus.UNREACHABLE and not rec.reachable
    assert rec.aps_read is False and rec.total_aps == 0
    assert rec.errors == (SnapshotError(ErrorKind.TIMEOUT, "connect timed out after 30 s"),)
    assert snapshots.snapshot_aps(db, rec.id) == []


def test_critical_findings_are_kept(db: Database) -> None:
    s = snap("wlc-1", ntp_servers=[], clock=ClockReading(time=T0, source=ClockSource.NTP, synced=True))
    record(db, [s])
    [rec] = history.latest_snapshots(db)
    assert "no_ntp" in {c.code for c in rec.critical}


def test_consecutive_unreachable_counts_from_the_newest_back(db: Database) -> None:
    """What the alert rules wait for before an unreachable alert: failed checks in a row."""
    assert checks.consecutive_unreachable(db, "wlc-1", 5) == 0
    record(db, [unreachable("wlc-1", at=T0)])
    record(db, [snap("wlc-1", at=T0 + timedelta(minutes=15))])
    assert checks.consecutive_unreachable(db, "wlc-1", 5) == 0
    for n in range(2, 5):
        record(db, [unreachable("wlc-1", at=T0 + n * timedelta(minutes=15))])
    assert checks.consecutive_unreachable(db, "wlc-1", 5) == 3
    assert checks.consecutive_unreachable(db, "wlc-1", 2) == 2  # never more than asked for
    assert checks.consecutive_unreachable(db, "wlc-2", 5) == 0
