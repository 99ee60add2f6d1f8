"""Controller and site verdicts from plain snapshots."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.domain.advisory_file import load_advisory
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
    ActionKind,
    ControllerVerdict,
    DownloadWatch,
    Severity,
    SiteVerdict,
    VerdictStatus,
    worst_status,
)
from bot.domain.verdict import evaluate_controller as _evaluate_controller
from bot.domain.verdict import evaluate_site as _evaluate_site

# These tests are about which APs count and why; how long an AP must be seen Downloading
# before it is *stuck* has its own tests (test_verdict_truthful.py), so here a sighting is enough.
AT_ONCE = DownloadWatch(stuck_after=timedelta(0))


def evaluate_controller(snapshot: ControllerSnapshot, **kwargs: Any) -> ControllerVerdict:
    return _evaluate_controller(snapshot, watch=AT_ONCE, **kwargs)


def evaluate_site(site: str, snapshots: Any, **kwargs: Any) -> SiteVerdict:
    return _evaluate_site(site, snapshots, watch=AT_ONCE, **kwargs)


NOW = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
GOOD_CLOCK = ClockReading(time=NOW, source=ClockSource.NTP, authoritative=True, synced=True, raw="09:00:00 UTC")
NTP = [NtpServer(address="10.0.0.123", index=1, config_line="ntp server 10.0.0.123")]
CERT = CertificateWindow(not_before=datetime(2019, 6, 3, tzinfo=UTC), not_after=datetime(2039, 6, 3, tzinfo=UTC))


def snap(**overrides: Any) -> ControllerSnapshot:
    """A healthy, fully read 9800 on 17.9.4 with no APs, changed by `overrides`."""
    values: dict[str, Any] = {
        "name": "wlc-1",
        "platform": Platform.IOSXE,
        "host": "192.0.2.10",
        "taken_at": NOW,
        "site": "hq",
        "software_version": "17.9.4",
        "clock": GOOD_CLOCK,
        "ntp_servers": list(NTP),
        "certificate": CERT,
        "aps": [],
    }
    values.update(overrides)
    return ControllerSnapshot(**values)


def ap(name: str, model: str | None, state: str | None = "Registered") -> AccessPoint:
    return AccessPoint(name=name, model=model, state=state)


def kinds(verdict: ControllerVerdict) -> list[ActionKind]:
    return [a.kind for a in verdict.actions]


def codes(verdict: ControllerVerdict, severity: Severity | None = None) -> set[str]:
    return {w.code for w in verdict.warnings if severity is None or w.severity is severity}


# ---------------------------------------------------------------------------
# per-status
# ---------------------------------------------------------------------------


def test_ok_with_only_not_affected_aps() -> None:
    v = evaluate_controller(snap(aps=[ap("a1", "C9120AXI-E"), ap("a2", "AIR-AP1852I-E-K9")]))
    assert v.status is VerdictStatus.OK
    assert v.not_affected_count == 2
    assert v.affected_count == 0 and v.at_risk_count == 0
    assert v.actions == []
    assert not v.critical
    assert v.timeback is not None and v.timeback.possible


def test_ok_affected_aps_on_fixed_software() -> None:
    v = evaluate_controller(
        snap(platform=Platform.AIREOS, software_version="8.10.183.0", aps=[ap("a1", "AIR-CAP3702I-E-K9")])
    )
    assert v.status is VerdictStatus.OK
    assert v.affected_count == 1
    assert v.at_risk_count == 0
    assert v.fix is not None and v.fix.row_id == "aireos-8.10"


def test_at_risk_affected_on_unfixed_software() -> None:
    v = evaluate_controller(
        snap(
            platform=Platform.AIREOS,
            software_version="8.10.162.0",
            aps=[ap("a1", "AIR-CAP3702I-E-K9"), ap("a2", "AIR-LAP1142N-A-K9"), ap("a3", "AIR-AP2802I-E-K9")],
        )
    )
    assert v.status is VerdictStatus.AT_RISK
    assert (v.affected_count, v.likely_affected_count, v.not_affected_count) == (1, 1, 1)
    assert v.at_risk_count == 2
    assert v.stuck_aps == []
    assert kinds(v) == [ActionKind.UPGRADE]
    assert "8.10.183.0" in v.actions[0].text
    assert "2022-12-02 00:00 UTC" in v.actions[0].text  # the time-back to use before any download
    assert v.actions[0].ap_names == ("a1", "a2")
    assert v.recommendation is not None and v.recommendation.text == "AireOS 8.10.183.0 or later"


def test_stuck_affected_ap_downloading() -> None:
    v = evaluate_controller(
        snap(
            software_version="17.3.4",
            aps=[ap("AP2702E", "2702E", "Downloading"), ap("ok", "9130AXI"), ap("old", "3702I")],
        )
    )
    assert v.status is VerdictStatus.STUCK
    assert [f.ap.name for f in v.stuck_aps] == ["AP2702E"]
    stuck = v.stuck_aps[0]
    assert stuck.classification.family_id == "ap2700"
    assert stuck.protected is False
    assert kinds(v)[:2] == [ActionKind.TIMEBACK_PLAYBOOK, ActionKind.UPGRADE]
    assert v.actions[0].ap_names == ("AP2702E",)
    assert "2022-12-02 00:00 UTC" in v.actions[0].text
    assert "30 minutes" in v.actions[0].text
    assert "17.3.6" in v.actions[1].text


def test_stuck_likely_affected_and_predownloading() -> None:
    v = evaluate_controller(
        snap(
            platform=Platform.AIREOS,
            software_version="8.0.152.0",
            aps=[
                ap("n1", "AIR-LAP1142N-E-K9", "Downloading"),
                ap("n2", "AIR-CAP1702I-B-K9", "Predownloading"),
            ],
        )
    )
    assert v.status is VerdictStatus.STUCK
    assert {f.ap.name for f in v.stuck_aps} == {"n1", "n2"}
    upgrade = next(a for a in v.actions if a.kind is ActionKind.UPGRADE)
    assert "on AireOS set the clock back first" in upgrade.text


def test_the_per_family_upgrade_advice_is_advisory_data() -> None:
    """The AireOS-only advice is the `platforms:` entry's text, not a test of the platform's name."""
    adv = load_advisory()
    plain = dataclasses.replace(adv.platforms["aireos"], upgrade_advice_when_downloading=None)
    revised = dataclasses.replace(adv, platforms={**adv.platforms, "aireos": plain})
    stuck = snap(
        platform=Platform.AIREOS, software_version="8.0.152.0", aps=[ap("n1", "AIR-LAP1142N-E-K9", "Downloading")]
    )
    upgrade = next(a for a in evaluate_controller(stuck, advisory=revised).actions if a.kind is ActionKind.UPGRADE)
    assert "set the clock back first" not in upgrade.text
    upgrade = next(a for a in evaluate_controller(stuck, advisory=adv).actions if a.kind is ActionKind.UPGRADE)
    assert upgrade.text.endswith("; " + str(adv.platforms["aireos"].upgrade_advice_when_downloading))


def test_not_affected_download_is_not_stuck_but_noted() -> None:
    v = evaluate_controller(snap(aps=[ap("c1", "C9120AXI-E", "Downloading")]))
    assert v.status is VerdictStatus.OK
    assert v.stuck_aps == []
    assert [f.ap.name for f in v.downloading_normal] == ["c1"]
    assert "downloading_normal" in codes(v, Severity.INFO)


def test_partial_fix_iw3702_protected_3702_stuck() -> None:
    base = {"software_version": "17.6.4", "apsps": ["C9800-universalk9_wlc.17.06.04.CSCwd87305.SPA.apsp.bin"]}
    v = evaluate_controller(snap(**base, aps=[ap("iw", "IW3702-2E-UXK9", "Downloading")]))
    assert v.status is VerdictStatus.OK
    assert [f.ap.name for f in v.downloading_normal] == ["iw"]
    v = evaluate_controller(snap(**base, aps=[ap("iw", "IW3702-2E-UXK9"), ap("c", "AIR-CAP3702I-E-K9", "Downloading")]))
    assert v.status is VerdictStatus.STUCK
    assert [f.ap.name for f in v.stuck_aps] == ["c"]
    assert v.at_risk_count == 1


def test_unknown_model_downloading_is_at_risk_and_investigated() -> None:
    v = evaluate_controller(snap(aps=[ap("x", "AIR-OEAP602I-A-K9", "Downloading")]))
    assert v.status is VerdictStatus.AT_RISK
    assert v.stuck_aps == []
    assert [f.ap.name for f in v.downloading_unknown] == ["x"]
    assert v.unknown_model_count == 1
    assert ActionKind.INVESTIGATE in kinds(v)
    assert "downloading_unknown_model" in codes(v, Severity.WARNING)


def test_unknown_models_registered_are_counted_not_flagged() -> None:
    v = evaluate_controller(snap(aps=[ap("x", "AIR-OEAP602I-A-K9"), ap("y", None)]))
    assert v.status is VerdictStatus.OK
    assert v.unknown_model_count == 2
    assert v.unknown_models == ["AIR-OEAP602I-A-K9", "(no model reported)"]
    assert kinds(v) == [ActionKind.INVESTIGATE]


@pytest.mark.parametrize("kind", [ErrorKind.UNREACHABLE, ErrorKind.TIMEOUT, ErrorKind.AUTH_FAILED, ErrorKind.HOST_KEY])
def test_unreachable(kind: ErrorKind) -> None:
    v = evaluate_controller(
        snap(
            software_version=None,
            clock=None,
            ntp_servers=[],
            certificate=None,
            errors=[SnapshotError(kind, "boom")],
        )
    )
    assert v.status is VerdictStatus.UNREACHABLE
    assert kinds(v) == [ActionKind.INVESTIGATE]
    assert "boom" in v.actions[0].text
    assert v.timeback is None
    assert v.warnings == []  # no clock/NTP claims about a controller we did not read


def test_error_partial_read_keeps_at_risk_evidence() -> None:
    v = evaluate_controller(
        snap(
            software_version="17.3.4",
            aps=[ap("a", "3702I")],
            errors=[SnapshotError(ErrorKind.UNPARSABLE, "show ap image: unexpected layout", "show ap image")],
        )
    )
    assert v.status is VerdictStatus.ERROR
    assert v.at_risk_count == 1
    assert any("affected AP(s) present" in r for r in v.reasons)
    assert ActionKind.UPGRADE in kinds(v)
    assert ActionKind.INVESTIGATE in kinds(v)
    assert "partial_read" in codes(v)


def test_error_when_command_failed_after_connecting() -> None:
    v = evaluate_controller(
        snap(errors=[SnapshotError(ErrorKind.COMMAND_FAILED, "% Invalid input detected", "show ap summary")])
    )
    assert v.status is VerdictStatus.ERROR


def test_error_when_nothing_read_without_errors() -> None:
    v = evaluate_controller(snap(software_version=None, clock=None, ntp_servers=[], certificate=None))
    assert v.status is VerdictStatus.ERROR


def test_stuck_wins_over_partial_read() -> None:
    v = evaluate_controller(
        snap(
            software_version="17.3.4",
            aps=[ap("a", "3702I", "Downloading")],
            errors=[SnapshotError(ErrorKind.DISCONNECTED, "session closed", "show ap image")],
        )
    )
    assert v.status is VerdictStatus.STUCK
    assert "partial_read" in codes(v)


def test_unknown_version_with_affected_aps_is_at_risk() -> None:
    v = evaluate_controller(snap(software_version=None, aps=[ap("a", "3702I")]))
    assert v.status is VerdictStatus.AT_RISK
    assert "version_unknown" in codes(v)
    assert v.recommendation is not None and "unknown" in v.recommendation.text


def test_unknown_state_ap_is_kept() -> None:
    v = evaluate_controller(snap(aps=[ap("a", "C9120AXI-E", "Joining-Image"), ap("b", "C9120AXI-E", None)]))
    assert v.total_aps == 2
    assert v.state_counts == {"Joining-Image": 1, "unknown": 1}
    assert v.unrecognized_states == ["Joining-Image"]
    assert "unrecognized_state" in codes(v)


# ---------------------------------------------------------------------------
# time-back plan in the verdict
# ---------------------------------------------------------------------------


def test_stuck_on_controller_with_late_certificate_needs_staging() -> None:
    late = CertificateWindow(not_before=datetime(2023, 2, 1, tzinfo=UTC), not_after=datetime(2033, 2, 1, tzinfo=UTC))
    v = evaluate_controller(snap(software_version="17.3.4", certificate=late, aps=[ap("a", "3702I", "Downloading")]))
    assert v.status is VerdictStatus.STUCK
    assert v.timeback is not None and not v.timeback.possible
    assert ActionKind.STAGING_CONTROLLER in kinds(v)
    assert ActionKind.TIMEBACK_PLAYBOOK not in kinds(v)
    staging = next(a for a in v.actions if a.kind is ActionKind.STAGING_CONTROLLER)
    assert "9800-CL" in staging.text and "CAPWAP" in staging.text
    assert "timeback_impossible" in codes(v)


def test_stuck_with_certificate_after_default_uses_later_target() -> None:
    c = CertificateWindow(not_before=datetime(2022, 12, 3, tzinfo=UTC), not_after=datetime(2032, 12, 3, tzinfo=UTC))
    v = evaluate_controller(snap(software_version="17.3.4", certificate=c, aps=[ap("a", "3702I", "Downloading")]))
    assert v.timeback is not None and v.timeback.target == datetime(2022, 12, 4, tzinfo=UTC)
    assert "2022-12-04 00:00 UTC" in v.actions[0].text


def test_stuck_with_unknown_certificate_warns() -> None:
    v = evaluate_controller(snap(software_version="17.3.4", certificate=None, aps=[ap("a", "3702I", "Downloading")]))
    assert v.timeback is not None and v.timeback.target == datetime(2022, 12, 2, tzinfo=UTC)
    assert "certificate_unknown" in codes(v, Severity.WARNING)


# ---------------------------------------------------------------------------
# clock and NTP
# ---------------------------------------------------------------------------

HAND_SET_2022 = ClockReading(
    time=datetime(2022, 12, 2, 0, 5),
    source=ClockSource.MANUAL,
    authoritative=False,
    synced=False,
    raw="*00:05:00.000 UTC Fri Dec 2 2022",
)


def test_time_back_left_behind_is_critical() -> None:
    v = evaluate_controller(snap(clock=HAND_SET_2022, ntp_servers=[]))
    assert v.status is VerdictStatus.OK  # not the bug itself...
    assert v.critical  # ...but loud
    assert {"clock_set_back", "clock_hand_set", "no_ntp"} <= codes(v, Severity.CRITICAL)
    assert kinds(v) == [ActionKind.RESTORE_NTP]
    assert "restore the saved NTP servers exactly as before" in v.actions[0].text
    assert "CRITICAL" in v.summary


def test_no_ntp_with_current_clock_is_critical() -> None:
    v = evaluate_controller(snap(ntp_servers=[]))
    assert codes(v, Severity.CRITICAL) == {"no_ntp"}
    assert kinds(v) == [ActionKind.RESTORE_NTP]


def test_hand_set_current_clock_with_ntp_is_a_warning() -> None:
    manual_now = ClockReading(time=NOW, source=ClockSource.MANUAL, raw="*09:00:00 UTC Wed May 1 2024")
    v = evaluate_controller(snap(clock=manual_now))
    assert "clock_hand_set" in codes(v, Severity.WARNING)
    assert not v.critical
    assert kinds(v) == [ActionKind.RESTORE_NTP]
    assert "reachable" in v.actions[0].text


def test_clock_far_behind_is_flagged() -> None:
    behind = ClockReading(time=datetime(2023, 6, 1, tzinfo=UTC), source=ClockSource.NTP, synced=True)
    v = evaluate_controller(snap(clock=behind))
    assert "clock_behind" in codes(v, Severity.WARNING)


def test_time_back_in_progress_is_expected() -> None:
    v = evaluate_controller(snap(clock=HAND_SET_2022, ntp_servers=[]), timeback_in_progress=True)
    assert not v.critical
    assert {"clock_set_back", "no_ntp"} <= codes(v, Severity.INFO)
    assert ActionKind.RESTORE_NTP not in kinds(v)


def test_ntp_unread_is_not_reported_as_deleted() -> None:
    v = evaluate_controller(
        snap(
            platform=Platform.AIREOS,
            software_version="8.10.183.0",
            clock=None,
            ntp_servers=[],
            errors=[SnapshotError(ErrorKind.COMMAND_FAILED, "Incorrect usage", "show time")],
        )
    )
    assert "no_ntp" not in codes(v)
    assert {"ntp_unread", "clock_unread"} <= codes(v, Severity.WARNING)
    assert ActionKind.RESTORE_NTP not in kinds(v)


def test_failed_ntp_associations_does_not_hide_missing_ntp() -> None:
    v = evaluate_controller(
        snap(
            ntp_servers=[],
            errors=[SnapshotError(ErrorKind.COMMAND_FAILED, "% Invalid input", "show ntp associations")],
        )
    )
    assert "no_ntp" in codes(v, Severity.CRITICAL)


# ---------------------------------------------------------------------------
# site aggregation, ordering, JSON
# ---------------------------------------------------------------------------


def test_severity_order() -> None:
    order = [
        VerdictStatus.OK,
        VerdictStatus.AT_RISK,
        VerdictStatus.ERROR,
        VerdictStatus.UNREACHABLE,
        VerdictStatus.STUCK,
    ]
    assert sorted(order, key=lambda s: s.severity) == order
    assert worst_status([VerdictStatus.OK, VerdictStatus.STUCK, VerdictStatus.ERROR]) is VerdictStatus.STUCK
    assert worst_status([]) is VerdictStatus.OK
    assert VerdictStatus.AT_RISK.value == "at-risk"


def _site_snaps() -> list[ControllerSnapshot]:
    return [
        snap(name="ok", aps=[ap("c1", "C9120AXI-E")]),
        snap(
            name="risk",
            platform=Platform.AIREOS,
            software_version="8.10.162.0",
            aps=[ap("r1", "AIR-CAP3702I-E-K9"), ap("r2", "AIR-LAP1142N-A-K9"), ap("u", "mystery")],
        ),
        snap(name="stuck", software_version="17.3.4", aps=[ap("s1", "2702E", "Downloading"), ap("s2", "1852I")]),
    ]


def test_site_takes_worst_status_with_totals() -> None:
    site = evaluate_site("hq", _site_snaps())
    assert site.status is VerdictStatus.STUCK
    assert [v.controller for v in site.controllers] == ["ok", "risk", "stuck"]
    assert site.status_counts == {"ok": 1, "at-risk": 1, "stuck": 1}
    assert site.total_aps == 6
    assert site.stuck_count == 1
    assert site.affected_count == 2  # 3702 + 2702
    assert site.likely_affected_count == 1
    assert site.not_affected_count == 2
    assert site.unknown_model_count == 1
    assert site.at_risk_count == 3
    assert site.critical_count == 0
    assert any(r.startswith("stuck: stuck") for r in site.reasons)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["ok", "unreachable", "at-risk"], VerdictStatus.UNREACHABLE),
        (["error", "at-risk"], VerdictStatus.ERROR),
        (["unreachable", "error"], VerdictStatus.UNREACHABLE),
        (["ok", "ok"], VerdictStatus.OK),
    ],
)
def test_site_ordering(statuses: list[str], expected: VerdictStatus) -> None:
    makers = {
        "ok": lambda n: snap(name=n),
        "at-risk": lambda n: snap(name=n, software_version="17.3.4", aps=[ap("a", "3702I")]),
        "error": lambda n: snap(name=n, errors=[SnapshotError(ErrorKind.UNPARSABLE, "?", "show ap summary")]),
        "unreachable": lambda n: snap(
            name=n,
            software_version=None,
            clock=None,
            ntp_servers=[],
            certificate=None,
            errors=[SnapshotError(ErrorKind.TIMEOUT, "timed out")],
        ),
    }
    snaps = [makers[s](f"c{i}") for i, s in enumerate(statuses)]
    assert [evaluate_controller(s).status.value for s in snaps] == statuses
    assert evaluate_site("x", snaps).status is expected


def test_empty_site_is_error() -> None:
    site = SiteVerdict.from_verdicts("empty", [])
    assert site.status is VerdictStatus.ERROR
    assert site.reasons == ["no controller snapshots for this site"]


def test_site_counts_critical_and_in_progress() -> None:
    snaps = [
        snap(name="left", clock=HAND_SET_2022, ntp_servers=[]),
        snap(name="run", clock=HAND_SET_2022, ntp_servers=[]),
    ]
    site = evaluate_site("hq", snaps, timeback_in_progress=["run"])
    assert site.critical_count == 1
    assert site.critical
    assert [v.critical for v in site.controllers] == [True, False]
    assert any("left" in r and "CRITICAL" in r for r in site.reasons)


def test_to_dict_is_json() -> None:
    site = evaluate_site("hq", [*_site_snaps(), snap(name="bad", clock=HAND_SET_2022, ntp_servers=[])])
    data = json.loads(json.dumps(site.to_dict()))
    assert data["status"] == "stuck"
    stuck = next(c for c in data["controllers"] if c["controller"] == "stuck")
    assert stuck["status"] == "stuck"
    assert stuck["severity"] == 5  # worst: above downloading (4)
    assert stuck["stuck_aps"][0]["ap"]["name"] == "s1"
    assert stuck["stuck_aps"][0]["classification"]["category"] == "affected"
    assert stuck["actions"][0]["kind"] == "timeback_playbook"
    assert stuck["timeback"]["target"] == "2022-12-02T00:00:00+00:00"
    assert stuck["fix"]["state"] == "not_fixed"
    bad = next(c for c in data["controllers"] if c["controller"] == "bad")
    assert bad["critical"] is True
    assert {"code": "no_ntp", "severity": "critical"}.items() <= next(
        w for w in bad["warnings"] if w["code"] == "no_ntp"
    ).items()
