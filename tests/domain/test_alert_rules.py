"""Alert rules (issue #5): thresholds, one alert per incident, updates, resolve, dedupe."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.domain.alerts import (
    FIXED_NOW,
    NOT_LISTED,
    AlertKind,
    AlertPolicy,
    ClearedAP,
    OpenAlert,
    OpenAlertState,
    ReopenAlert,
    ResolveAlert,
    ResolvedAlertState,
    UpdateAlert,
    evaluate_alerts,
    newly_confirmed,
    next_downloading_since,
    stuck_candidates,
)
from bot.domain.models import (
    ControllerSnapshot,
    ErrorKind,
    Platform,
    SnapshotError,
)
from bot.domain.verdict import ControllerVerdict, VerdictStatus, evaluate_controller
from tests.support.verdicts import T0, minutes, verdict

POLICY = AlertPolicy()  # 30 min, 2 checks, 60 min window
FIXED_APSP = ("C9800-universalk9_wlc.17.03.06.CSCwe10047.SPA.apsp.bin",)


def unreachable(at: datetime) -> ControllerVerdict:
    snapshot = ControllerSnapshot(
        name="wlc-a1",
        platform=Platform.IOSXE,
        host="192.0.2.10",
        taken_at=at,
        site="site-a",
        errors=[SnapshotError(ErrorKind.TIMEOUT, "no answer on port 22 within 30 s")],
    )
    v = evaluate_controller(snapshot)
    assert v.status is VerdictStatus.UNREACHABLE
    return v


def open_state(decision: OpenAlert | UpdateAlert | ReopenAlert, alert_id: int = 7) -> OpenAlertState:
    """What the store would remember after acting on a decision."""
    return OpenAlertState.from_payload(decision.payload, alert_id=alert_id)


def run(v: ControllerVerdict, now: datetime | None = None, **kwargs: Any) -> list:
    kwargs.setdefault("downloading_since", {})
    return evaluate_alerts(v, now=now or v.taken_at, policy=kwargs.pop("policy", POLICY), **kwargs)


# --------------------------------------------------------------------------- stuck threshold


def test_no_alert_while_downloading_less_than_threshold() -> None:
    at = T0 + minutes(29)
    assert run(verdict(("AP1", "AP2"), at=at), downloading_since={"AP1": T0, "AP2": T0}) == []


def test_first_sighting_without_since_is_not_stuck() -> None:
    assert run(verdict(("AP1",), at=T0)) == []


def test_exactly_at_threshold_opens_one_alert() -> None:
    at = T0 + minutes(30)
    decisions = run(verdict(("AP1", "AP2"), at=at), downloading_since={"AP1": T0, "AP2": T0 + minutes(1)})
    assert len(decisions) == 1
    d = decisions[0]
    assert isinstance(d, OpenAlert)
    assert d.kind is AlertKind.STUCK
    assert d.stuck_aps == ("AP1",)  # AP2 only 29 min: still a candidate
    assert d.controller == "wlc-a1" and d.site == "site-a"


def test_threshold_is_measured_to_the_poll_not_to_now() -> None:
    taken = T0 + minutes(20)
    assert run(verdict(("AP1",), at=taken), now=T0 + minutes(45), downloading_since={"AP1": T0}) == []


def test_open_alert_payload_is_jsonable_and_complete() -> None:
    at = T0 + minutes(45)
    (d,) = run(verdict(("AP1",), at=at), downloading_since={"AP1": T0})
    payload = json.loads(json.dumps(d.payload))
    assert payload["controller"] == "wlc-a1" and payload["site"] == "site-a"
    assert payload["kind"] == "stuck"
    assert payload["software_version"] == "17.3.6"
    assert payload["fix_state"] == "not_fixed"
    assert "APSP" in payload["recommendation"]
    assert payload["timeback_possible"] is True
    assert payload["opened_at"] == at.isoformat()
    (ap,) = payload["stuck_aps"]
    assert ap == {
        "name": "AP1",
        "model": "AIR-CAP3702I-E-K9",
        "since": T0.isoformat(),
        "confirmed": False,
        "confirmed_at": None,
        "image_version": None,
        "ip": None,
    }
    assert {a["kind"] for a in payload["actions"]} == {"timeback_playbook", "upgrade"}


def test_confirmed_by_ap_log_is_stuck_before_threshold() -> None:
    at = T0 + minutes(5)
    (d,) = run(verdict(("AP1", "AP2"), at=at), downloading_since={"AP1": T0, "AP2": T0}, confirmed={"AP2": at})
    assert isinstance(d, OpenAlert)
    assert d.stuck_aps == ("AP2",)
    assert d.payload["stuck_aps"][0]["confirmed"] is True


def test_confirmed_ap_that_is_not_a_candidate_does_nothing() -> None:
    # Registered (or on fixed software): the log line is history, not a stuck AP.
    at = T0 + minutes(5)
    assert run(verdict(registered=("AP1",), at=at), confirmed={"AP1": at}) == []
    assert run(verdict(("AP1",), at=at, apsps=FIXED_APSP), confirmed={"AP1": at}) == []


def test_zero_threshold_makes_every_candidate_stuck_at_once() -> None:
    (d,) = run(verdict(("AP1",), at=T0), policy=AlertPolicy(stuck_after=timedelta(0)))
    assert isinstance(d, OpenAlert)


def test_stuck_candidates_reports_pending_aps_too() -> None:
    at = T0 + minutes(40)
    judged = stuck_candidates(verdict(("AP2", "AP1"), at=at), {"AP1": T0, "AP2": at}, POLICY)
    assert [(s.name, s.stuck) for s in judged] == [("AP1", True), ("AP2", False)]
    assert judged[0].duration(at) == minutes(40)


# --------------------------------------------------------------------------- one alert per incident


def _opened(names: tuple[str, ...] = ("AP1", "AP2")) -> OpenAlertState:
    """An open stuck alert for AP1+AP2, opened at T0+30 min."""
    (d,) = run(verdict(names, at=T0 + minutes(30)), downloading_since=dict.fromkeys(names, T0))
    return open_state(d)


def test_unchanged_stuck_set_is_never_reposted() -> None:
    state = _opened()
    for later in (35, 60, 600):
        at = T0 + minutes(later)
        v = verdict(("AP1", "AP2"), at=at)
        assert run(v, downloading_since={"AP1": T0, "AP2": T0}, open_alerts={"stuck": state}) == []


def test_update_names_added_aps() -> None:
    state = _opened()
    at = T0 + minutes(70)
    since = {"AP1": T0, "AP2": T0, "AP3": T0 + minutes(5), "AP4": T0 + minutes(10), "AP5": T0 + minutes(60)}
    (d,) = run(
        verdict(("AP1", "AP2", "AP3", "AP4", "AP5"), at=at), downloading_since=since, open_alerts={"stuck": state}
    )
    assert isinstance(d, UpdateAlert)
    assert d.added == ("AP3", "AP4")
    assert d.removed == ()
    assert d.stuck_aps == ("AP1", "AP2", "AP3", "AP4")
    assert d.alert_id == 7
    assert d.payload["opened_at"] == state.payload["opened_at"]


def test_update_names_removed_aps_with_their_state() -> None:
    state = _opened()
    at = T0 + minutes(50)
    v = verdict(("AP1",), registered=("AP2",), at=at)
    (d,) = run(
        v,
        downloading_since={"AP1": T0},
        open_alerts={"stuck": state},
        ap_states={"AP1": "Downloading", "AP2": "Registered"},
    )
    assert isinstance(d, UpdateAlert)
    assert d.added == ()
    assert d.removed == (ClearedAP("AP2", "Registered"),)
    assert [ap["name"] for ap in d.payload["stuck_aps"]] == ["AP1"]
    assert [r["name"] for r in d.payload["recovered"]] == ["AP2"]
    assert d.payload["recovered"][0]["state"] == "Registered"


def test_removed_ap_gone_from_the_controller_or_unknown_state() -> None:
    state = _opened()
    at = T0 + minutes(50)
    v = verdict(("AP1",), at=at)
    (listed,) = run(v, downloading_since={"AP1": T0}, open_alerts={"stuck": state}, ap_states={"AP1": "Downloading"})
    assert listed.removed == (ClearedAP("AP2", NOT_LISTED),)
    (unknown,) = run(v, downloading_since={"AP1": T0}, open_alerts={"stuck": state})
    assert unknown.removed == (ClearedAP("AP2", None),)


def test_added_and_removed_in_one_update() -> None:
    state = _opened()
    at = T0 + minutes(80)
    v = verdict(("AP1", "AP3"), registered=("AP2",), at=at)
    (d,) = run(v, downloading_since={"AP1": T0, "AP3": T0 + minutes(40)}, open_alerts={"stuck": state})
    assert d.added == ("AP3",)
    assert [c.name for c in d.removed] == ["AP2"]


def test_ap_already_in_alert_stays_while_still_downloading_even_if_since_was_lost() -> None:
    state = _opened()
    at = T0 + minutes(40)
    # the store lost AP2's first-seen time: it stays in the alert, nothing to post
    assert run(verdict(("AP1", "AP2"), at=at), downloading_since={"AP1": T0}, open_alerts={"stuck": state}) == []
    # and when the alert is next updated it still shows AP2's original first-seen time
    (d,) = run(
        verdict(("AP1", "AP2", "AP3"), at=at),
        downloading_since={"AP1": T0, "AP3": T0},
        open_alerts={"stuck": state},
    )
    assert next(ap for ap in d.payload["stuck_aps"] if ap["name"] == "AP2")["since"] == T0.isoformat()


def test_newly_confirmed_ap_updates_the_alert() -> None:
    state = _opened()
    at = T0 + minutes(40)
    v = verdict(("AP1", "AP2"), at=at)
    (d,) = run(v, downloading_since={"AP1": T0, "AP2": T0}, open_alerts={"stuck": state}, confirmed={"AP2": at})
    assert isinstance(d, UpdateAlert)
    assert d.confirmed == ("AP2",) and d.added == () and d.removed == ()
    # and once stored, the same confirmation is no news
    later = run(
        v, downloading_since={"AP1": T0, "AP2": T0}, open_alerts={"stuck": open_state(d)}, confirmed={"AP2": at}
    )
    assert later == []


def test_newly_confirmed_names_what_each_decision_newly_confirms() -> None:
    at = T0 + minutes(5)
    (opened,) = run(verdict(("AP1", "AP2"), at=at), downloading_since={"AP1": T0, "AP2": T0}, confirmed={"AP2": at})
    assert newly_confirmed(opened) == ("AP2",)
    state = _opened()
    later = T0 + minutes(40)
    since = {"AP1": T0, "AP2": T0, "AP3": later, "AP4": later}
    v = verdict(("AP1", "AP2", "AP3", "AP4"), at=later)
    # AP2 (listed) and AP3 (added) are confirmed now; AP4 is Downloading, first seen, not stuck.
    (update,) = run(v, downloading_since=since, open_alerts={"stuck": state}, confirmed={"AP2": later, "AP3": later})
    assert isinstance(update, UpdateAlert) and update.added == ("AP3",)
    assert newly_confirmed(update) == ("AP2", "AP3")
    # An update that adds an AP by the threshold alone confirms nobody.
    (by_threshold,) = run(
        verdict(("AP1", "AP2", "AP5"), at=later), downloading_since={**since, "AP5": T0}, open_alerts={"stuck": state}
    )
    assert isinstance(by_threshold, UpdateAlert) and newly_confirmed(by_threshold) == ()
    resolved = ResolveAlert(
        AlertKind.STUCK, "wlc-a1", "site-a", later, {"stuck_aps": [{"name": "AP1", "confirmed": True}]}
    )
    assert newly_confirmed(resolved) == ()


def test_upgrade_to_fixed_software_clears_aps_as_fixed() -> None:
    state = _opened()
    at = T0 + minutes(90)
    (d,) = run(verdict(("AP1", "AP2"), at=at, apsps=FIXED_APSP), open_alerts={"stuck": state})
    assert isinstance(d, ResolveAlert)
    assert {c.state for c in d.removed} == {FIXED_NOW}


def test_resolve_when_no_ap_stuck_any_more() -> None:
    state = _opened()
    at = T0 + minutes(110)
    v = verdict(registered=("AP1", "AP2"), at=at)
    (d,) = run(v, open_alerts={"stuck": state}, ap_states={"AP1": "Registered", "AP2": "Registered"})
    assert isinstance(d, ResolveAlert)
    assert d.kind is AlertKind.STUCK
    assert d.open_for == minutes(80)
    assert d.alert_id == 7
    assert d.payload["resolved_at"] == at.isoformat()
    assert d.payload["stuck_aps"] == []
    assert [r["name"] for r in d.payload["recovered"]] == ["AP1", "AP2"]
    json.dumps(d.payload)


def test_resolve_even_if_a_new_ap_is_downloading_below_threshold() -> None:
    state = _opened()
    at = T0 + minutes(110)
    v = verdict(("AP9",), registered=("AP1", "AP2"), at=at)
    (d,) = run(v, downloading_since={"AP9": at - minutes(3)}, open_alerts={"stuck": state})
    assert isinstance(d, ResolveAlert)


def test_new_stuck_after_resolve_is_a_new_alert_by_default() -> None:
    at = T0 + minutes(200)
    resolved = {"stuck": T0 + minutes(150)}
    (d,) = run(verdict(("AP1",), at=at), downloading_since={"AP1": T0 + minutes(160)}, recently_resolved=resolved)
    assert isinstance(d, OpenAlert)


def test_stuck_dedupe_can_be_switched_on() -> None:
    policy = AlertPolicy(dedupe_kinds=frozenset(AlertKind))
    at = T0 + minutes(200)
    resolved = {"stuck": ResolvedAlertState(T0 + minutes(150), alert_id=3)}
    (d,) = run(
        verdict(("AP1",), at=at),
        downloading_since={"AP1": T0 + minutes(160)},
        recently_resolved=resolved,
        policy=policy,
    )
    assert isinstance(d, ReopenAlert)
    assert d.alert_id == 3 and d.stuck_aps == ("AP1",)
    assert d.payload["reopened"] == 1


# --------------------------------------------------------------------------- missing data never resolves


def test_stuck_alert_untouched_while_controller_unreachable() -> None:
    state = _opened()
    for n, later in enumerate((40, 50, 60), start=1):
        decisions = run(unreachable(T0 + minutes(later)), open_alerts={"stuck": state}, unreachable_checks=n)
        assert all(d.kind is AlertKind.UNREACHABLE for d in decisions)


def test_stuck_alert_untouched_on_partial_read_without_stuck_aps() -> None:
    state = _opened()
    at = T0 + minutes(45)
    v = verdict(at=at, errors=[SnapshotError(ErrorKind.UNPARSABLE, "show ap summary: no table", "show ap summary")])
    assert v.status is VerdictStatus.ERROR
    assert run(v, open_alerts={"stuck": state}) == []


def test_partial_read_keeps_unseen_aps_but_adds_new_ones() -> None:
    state = _opened()
    at = T0 + minutes(60)
    errors = [SnapshotError(ErrorKind.COMMAND_FAILED, "show ap image failed", "show ap image")]
    v = verdict(("AP1", "AP3"), at=at, errors=errors)
    (d,) = run(
        v, downloading_since={"AP1": T0, "AP3": T0}, open_alerts={"stuck": state}, ap_states={"AP1": "Downloading"}
    )
    assert isinstance(d, UpdateAlert)
    assert d.added == ("AP3",) and d.removed == ()
    assert d.stuck_aps == ("AP1", "AP2", "AP3")
    ap2 = next(ap for ap in d.payload["stuck_aps"] if ap["name"] == "AP2")
    assert ap2["since"] == T0.isoformat()
    # ...but an AP the partial read positively saw Registered does leave
    (d2,) = run(
        v, downloading_since={"AP1": T0, "AP3": T0}, open_alerts={"stuck": state}, ap_states={"AP2": "Registered"}
    )
    assert d2.removed == (ClearedAP("AP2", "Registered"),)


# --------------------------------------------------------------------------- unreachable


def test_unreachable_alert_only_after_n_checks() -> None:
    assert run(unreachable(T0), unreachable_checks=1) == []
    (d,) = run(unreachable(T0 + minutes(5)), unreachable_checks=2)
    assert isinstance(d, OpenAlert)
    assert d.kind is AlertKind.UNREACHABLE
    assert d.payload["failed_checks"] == 2
    assert "timeout" in d.payload["errors"][0]
    json.dumps(d.payload)


def test_unreachable_threshold_is_configurable_and_zero_count_means_this_check() -> None:
    assert run(unreachable(T0), unreachable_checks=2, policy=AlertPolicy(unreachable_after_checks=3)) == []
    (d,) = run(unreachable(T0), unreachable_checks=0, policy=AlertPolicy(unreachable_after_checks=1))
    assert isinstance(d, OpenAlert)


def test_unreachable_alert_is_not_reposted_while_still_unreachable() -> None:
    (d,) = run(unreachable(T0), unreachable_checks=2)
    state = open_state(d)
    assert run(unreachable(T0 + minutes(5)), unreachable_checks=3, open_alerts={"unreachable": state}) == []


def test_unreachable_resolved_when_read_again() -> None:
    (d,) = run(unreachable(T0), unreachable_checks=2)
    state = open_state(d, alert_id=11)
    at = T0 + minutes(25)
    (r,) = run(verdict(registered=("AP1",), at=at), open_alerts={"unreachable": state})
    assert isinstance(r, ResolveAlert)
    assert r.kind is AlertKind.UNREACHABLE and r.alert_id == 11
    assert r.open_for == minutes(25)
    assert r.payload["resolved_at"] == at.isoformat()


def test_partial_read_counts_as_read_again() -> None:
    (d,) = run(unreachable(T0), unreachable_checks=2)
    v = verdict(at=T0 + minutes(5), errors=[SnapshotError(ErrorKind.UNPARSABLE, "odd output", "show clock")])
    assert v.status is VerdictStatus.ERROR
    (r,) = run(v, open_alerts={"unreachable": open_state(d)})
    assert isinstance(r, ResolveAlert)


def test_flapping_within_dedupe_window_reopens_the_same_alert() -> None:
    resolved_at = T0 + minutes(20)
    at = T0 + minutes(50)
    recently = {"unreachable": ResolvedAlertState(resolved_at, alert_id=11, payload={"opened_at": T0.isoformat()})}
    assert run(unreachable(at - minutes(5)), unreachable_checks=1, recently_resolved=recently) == []
    (d,) = run(unreachable(at), unreachable_checks=2, recently_resolved=recently)
    assert isinstance(d, ReopenAlert)
    assert d.alert_id == 11
    assert d.quiet_for == minutes(30)
    assert d.payload["reopened"] == 1
    assert d.payload["opened_at"] == T0.isoformat()
    assert d.payload["resolved_at"] is None
    # the next resolve measures this episode, from the re-opening
    assert OpenAlertState.from_payload(d.payload).opened_at == at


def test_flapping_twice_counts_reopens() -> None:
    recently = {"unreachable": ResolvedAlertState(T0, alert_id=11, payload={"reopened": 2})}
    (d,) = run(unreachable(T0 + minutes(10)), unreachable_checks=2, recently_resolved=recently)
    assert isinstance(d, ReopenAlert) and d.payload["reopened"] == 3


def test_dedupe_window_boundary_and_after_it_a_new_alert() -> None:
    resolved_at = T0
    (just_inside,) = run(
        unreachable(T0 + minutes(59)), unreachable_checks=2, recently_resolved={"unreachable": resolved_at}
    )
    assert isinstance(just_inside, ReopenAlert)
    (at_window,) = run(
        unreachable(T0 + minutes(60)), unreachable_checks=2, recently_resolved={"unreachable": resolved_at}
    )
    assert isinstance(at_window, OpenAlert)


def test_full_flapping_sequence_posts_one_top_level_alert() -> None:
    """Down 2, up 1, down 2, up 1, down 2 within the hour: one OpenAlert, the rest in its thread."""
    states = ["down", "down", "up", "down", "down", "up", "down", "down", "up"]
    open_alerts: dict[str, OpenAlertState] = {}
    resolved: dict[str, ResolvedAlertState] = {}
    checks = 0
    kinds = []
    for i, s in enumerate(states):
        at = T0 + minutes(5 * i)
        checks = checks + 1 if s == "down" else 0
        v = unreachable(at) if s == "down" else verdict(registered=("AP1",), at=at)
        for d in run(v, unreachable_checks=checks, open_alerts=open_alerts, recently_resolved=resolved):
            kinds.append(type(d).__name__)
            if isinstance(d, ResolveAlert):
                resolved["unreachable"] = ResolvedAlertState(d.at, alert_id=1, payload=d.payload)
                open_alerts.pop("unreachable")
            else:
                open_alerts["unreachable"] = open_state(d, alert_id=1)
    assert kinds == ["OpenAlert", "ResolveAlert", "ReopenAlert", "ResolveAlert", "ReopenAlert", "ResolveAlert"]


def test_stuck_and_unreachable_decisions_together() -> None:
    # reachable again with APs stuck: unreachable resolves, stuck opens, stuck first
    (d,) = run(unreachable(T0), unreachable_checks=2)
    at = T0 + minutes(40)
    decisions = run(verdict(("AP1",), at=at), downloading_since={"AP1": T0}, open_alerts={"unreachable": open_state(d)})
    assert [(type(x).__name__, x.kind) for x in decisions] == [
        ("OpenAlert", AlertKind.STUCK),
        ("ResolveAlert", AlertKind.UNREACHABLE),
    ]


# --------------------------------------------------------------------------- helpers


def test_next_downloading_since_keeps_first_seen_and_drops_the_rest() -> None:
    at = T0 + minutes(10)
    previous = {"AP1": T0, "AP2": T0}
    v = verdict(("AP1", "AP3"), registered=("AP2",), at=at)
    assert next_downloading_since(previous, v) == {"AP1": T0, "AP3": at}
    assert next_downloading_since(previous, unreachable(at)) == previous


def test_policy_validation_and_from_minutes() -> None:
    assert AlertPolicy.from_minutes(45, 3, 90) == AlertPolicy(minutes(45), 3, minutes(90))
    with pytest.raises(ValueError):
        AlertPolicy(unreachable_after_checks=0)
    with pytest.raises(ValueError):
        AlertPolicy(stuck_after=minutes(-1))


def test_naive_times_are_read_as_utc() -> None:
    at = T0 + minutes(30)
    naive_since = {"AP1": T0.replace(tzinfo=None)}
    (d,) = evaluate_alerts(verdict(("AP1",), at=at), downloading_since=naive_since, now=at.replace(tzinfo=None))
    assert isinstance(d, OpenAlert)
    assert d.at == at


def test_open_state_round_trips_from_payload() -> None:
    state = _opened()
    assert state.kind is AlertKind.STUCK
    assert state.stuck_aps == {"AP1", "AP2"}
    assert state.opened_at == T0 + minutes(30)
    assert state.confirmed_aps == frozenset()
