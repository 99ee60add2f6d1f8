"""Verdicts that say only what the controller said: incomplete reads, unknown software,
downloading versus stuck, failure kinds, failover and predownload warnings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.models import (
    AccessPoint,
    CertificateWindow,
    ClockReading,
    ClockSource,
    ControllerSnapshot,
    ErrorKind,
    NtpServer,
    Platform,
    SnapshotError,
)
from bot.domain.verdict import (
    DownloadWatch,
    VerdictStatus,
    evaluate_controller,
    evaluate_controllers,
    failover_risks,
)

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CERT = CertificateWindow(not_before=datetime(2019, 6, 3, tzinfo=UTC), not_after=datetime(2039, 6, 3, tzinfo=UTC))
IOS = "AIR-CAP3702I-E-K9"
COS = "AIR-AP1852I-E-K9"


def snap(name: str = "wlc-a1", *, aps: list[AccessPoint] | None = None, **overrides: Any) -> ControllerSnapshot:
    """A fully read AireOS 8.10.162.0 controller (unfixed) with the given APs."""
    values: dict[str, Any] = {
        "name": name,
        "platform": Platform.AIREOS,
        "host": "192.0.2.10",
        "taken_at": NOW,
        "site": "site-a",
        "software_version": "8.10.162.0",
        "software_raw": "8.10.162.0",
        "clock": ClockReading(time=NOW, source=ClockSource.NTP, authoritative=True, synced=True),
        "ntp_servers": [NtpServer("10.0.0.1", index=1)],
        "ntp_read": True,
        "certificate": CERT,
        "aps": aps if aps is not None else [],
        "aps_read": True,
    }
    values.update(overrides)
    return ControllerSnapshot(**values)


def registered(*names: str, model: str = IOS) -> list[AccessPoint]:
    return [AccessPoint(n, model, state="Registered") for n in names]


# ------------------------------------------------------------------ incomplete reads


def test_a_count_mismatch_is_an_incomplete_read_never_ok() -> None:
    s = snap(
        software_version="8.10.183.0",  # fixed: the 37 APs it listed would all be fine
        aps=registered(*(f"AP{i}" for i in range(37)), model=COS),
        declared_ap_count=4135,
        errors=[SnapshotError(ErrorKind.INCOMPLETE, "read 37 of 4,135 APs", "show ap summary")],
    )
    v = evaluate_controller(s)
    assert v.status is VerdictStatus.ERROR
    assert v.incomplete == ["read 37 of 4,135 APs"]
    assert v.failure is ErrorKind.INCOMPLETE
    assert v.declared_ap_count == 4135 and v.total_aps == 37
    assert any("incomplete read: read 37 of 4,135 APs" in r for r in v.reasons)
    assert any(w.code == "incomplete_read" for w in v.warnings)
    data = v.to_dict()
    assert data["complete"] is False and data["incomplete"] == ["read 37 of 4,135 APs"]
    json.dumps(data)


def test_an_incomplete_read_with_stuck_aps_is_stuck_and_still_says_incomplete() -> None:
    s = snap(
        aps=[AccessPoint("AP1", IOS, state="Downloading")],
        errors=[SnapshotError(ErrorKind.INCOMPLETE, "read 1 of 5 APs", "show ap summary")],
    )
    v = evaluate_controller(s, watch=DownloadWatch(since={"AP1": NOW - timedelta(hours=2)}))
    assert v.status is VerdictStatus.STUCK
    assert "incomplete read" in v.summary


# ------------------------------------------------------------------ downloading vs stuck


def test_a_first_sighting_is_downloading_not_stuck() -> None:
    v = evaluate_controller(snap(aps=[AccessPoint("AP1", IOS, state="Downloading"), *registered("AP2")]))
    assert v.status is VerdictStatus.DOWNLOADING
    assert [f.ap.name for f in v.downloading_aps] == ["AP1"]
    assert v.stuck_aps == []
    assert v.downloading_aps[0].downloading_minutes(NOW) == 0
    assert "not stuck yet" in v.summary


def test_past_the_threshold_or_confirmed_is_stuck() -> None:
    aps = [AccessPoint(n, IOS, state="Downloading") for n in ("old", "new", "logged")]
    watch = DownloadWatch(
        since={"old": NOW - timedelta(minutes=30), "new": NOW - timedelta(minutes=29), "logged": NOW},
        confirmed={"logged": NOW - timedelta(seconds=5)},
        stuck_after=timedelta(minutes=30),
    )
    v = evaluate_controller(snap(aps=aps), watch=watch)
    assert v.status is VerdictStatus.STUCK
    assert sorted(f.ap.name for f in v.stuck_aps) == ["logged", "old"]
    by_name = {f.ap.name: f for f in v.downloading_aps}
    assert by_name["new"].stuck is False and by_name["new"].downloading_minutes(NOW) == 29
    assert by_name["logged"].confirmed_at is not None
    data = v.to_dict()
    assert [a["downloading_minutes"] for a in data["downloading_aps"]] == [30, 29, 0]
    assert [a["ap"]["name"] for a in data["stuck_aps"]] == ["old", "logged"]


def test_an_ap_already_in_an_open_alert_stays_stuck() -> None:
    v = evaluate_controller(
        snap(aps=[AccessPoint("AP1", IOS, state="Downloading")]),
        watch=DownloadWatch(already_stuck=frozenset({"AP1"})),
    )
    assert v.status is VerdictStatus.STUCK


# ------------------------------------------------------------------ failures and absent facts


def test_auth_failed_is_named_and_nothing_is_invented() -> None:
    s = ControllerSnapshot(
        name="wlc-a1",
        platform=Platform.IOSXE,
        host="192.0.2.10",
        taken_at=NOW,
        site="site-a",
        errors=[SnapshotError(ErrorKind.AUTH_FAILED, "wlc-a1 (192.0.2.10:22): authentication failed")],
    )
    v = evaluate_controller(s)
    assert v.status is VerdictStatus.UNREACHABLE
    assert v.failure is ErrorKind.AUTH_FAILED
    data = v.to_dict()
    assert data["total_aps"] is None and data["at_risk_count"] is None and data["aps_read"] is False
    assert not any(w.code == "no_ntp" for w in v.warnings)


def test_a_failed_command_outranks_an_incomplete_table_as_the_failure() -> None:
    s = snap(
        errors=[
            SnapshotError(ErrorKind.INCOMPLETE, "read 3 of 4 APs", "show ap summary"),
            SnapshotError(ErrorKind.COMMAND_FAILED, "'show time' was refused", "show time"),
        ]
    )
    assert evaluate_controller(s).failure is ErrorKind.COMMAND_FAILED


# ------------------------------------------------------------------ unknown software


def test_unknown_software_is_shown_raw_never_mapped_to_a_train() -> None:
    s = snap(
        platform=Platform.IOSXE,
        software_version=None,
        software_raw="BLD_V1716_THROTTLE_LATEST_20240605_031429",
        aps=registered("AP1"),
    )
    v = evaluate_controller(s)
    assert v.fix is not None and v.fix.state.value == "unknown"
    texts = [w.text for w in v.warnings if w.code == "software_unknown"]
    assert texts and "BLD_V1716_THROTTLE_LATEST_20240605_031429" in texts[0]
    assert "17.16" not in json.dumps(v.to_dict())
    assert v.status is VerdictStatus.AT_RISK  # an affected AP on software nobody can vouch for


# ------------------------------------------------------------------ failover and predownload


def test_failover_to_a_peer_on_other_software_is_a_risk() -> None:
    a1 = snap("wlc-a1", software_version="8.10.162.0", aps=registered(*(f"IOS{i}" for i in range(37))))
    a2 = snap("wlc-a2", software_version="8.10.151.0", aps=registered("COS1", model=COS))
    risks = failover_risks(a1, [a2])
    assert len(risks) == 1
    assert risks[0].text == (
        "if wlc-a1 fails, 37 IOS APs will download from wlc-a2 (8.10.162.0 ≠ 8.10.151.0) and get stuck"
    )
    assert failover_risks(a2, [a1]) == []  # wlc-a2 has no IOS AP to lose


def test_site_mates_and_named_peers_are_compared_and_same_software_is_not() -> None:
    a1 = snap("wlc-a1", aps=registered("IOS1"))
    same = snap("wlc-a2", aps=registered("COS1", model=COS))
    other = snap("wlc-n1", site="site-n", software_version="8.10.151.0", aps=[])
    verdicts = evaluate_controllers([a1, same], peers={"wlc-a1": ("wlc-n1",)}, others=[other])
    v1 = verdicts[0]
    assert [(r.controller, r.peer) for r in v1.failover_risks] == [("wlc-a1", "wlc-n1")]
    assert any(w.code == "failover_risk" for w in v1.warnings)
    assert verdicts[1].failover_risks == []


def test_failover_makes_an_otherwise_ok_controller_at_risk() -> None:
    fixed = snap("wlc-a1", software_version="8.10.183.0", aps=registered("IOS1"))
    unfixed_peer = snap("wlc-a2", software_version="8.10.162.0", aps=[])
    alone = evaluate_controller(fixed)
    assert alone.status is VerdictStatus.OK
    v = evaluate_controllers([fixed, unfixed_peer])[0]
    assert v.status is VerdictStatus.AT_RISK
    assert any(r.startswith("failover risk: if wlc-a1 fails, 1 IOS AP will download from wlc-a2") for r in v.reasons)


def test_a_fixed_peer_is_no_failover_risk() -> None:
    a1 = snap("wlc-a1", software_version="8.10.162.0", aps=registered("IOS1"))
    a2 = snap("wlc-a2", software_version="8.10.183.0", aps=[])
    assert failover_risks(a1, [a2]) == []


def test_affected_aps_predownloading_are_reported_before_the_upgrade() -> None:
    aps = [
        AccessPoint("AP1", IOS, state="Registered", predownload="Predownloading", predownload_version="8.10.190.0"),
        AccessPoint("AP2", COS, state="Registered", predownload="Predownloading", predownload_version="8.10.190.0"),
    ]
    v = evaluate_controller(snap(aps=aps))
    assert [f.ap.name for f in v.predownloading_aps] == ["AP1"]
    text = next(w.text for w in v.warnings if w.code == "predownload_risk")
    assert "1 affected AP(s) predownloading 8.10.190.0" in text and "AP1" in text and "AP2" not in text
