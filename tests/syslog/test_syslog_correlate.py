"""Correlation: sender → AP, failure episodes, the confirmed window, bounded tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.models import AccessPoint, ControllerSnapshot, ErrorKind, Platform, SnapshotError
from bot.syslog.correlate import Correlator, normalise_ip
from bot.syslog.signatures import SignatureMatch, default_signatures

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SIGS = default_signatures()


def sig(text: str) -> SignatureMatch:
    found = SIGS.match(text)
    assert found is not None
    return found


FAIL = sig("AP image integrity check FAILED")
OK = sig("Image signing certificate validation succeeded.")
SHA2 = sig("Using SHA-2 signed certificate for image signing validation.")
IMAGE = sig("Digital Signature Failed Validation (flash:/update/ap3g2-k9w8-mx.153-3.JPJ9/final_hash)")
NYV = sig("%PKI-3-CERTIFICATE_INVALID_NOT_YET_VALID: x")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def snapshot(name: str, *aps: AccessPoint, errors: bool = False, at: datetime = T0) -> ControllerSnapshot:
    return ControllerSnapshot(
        name=name,
        platform=Platform.AIREOS,
        host="192.0.2.1",
        taken_at=at,
        aps=list(aps),
        errors=[SnapshotError(ErrorKind.TIMEOUT, "timed out")] if errors else [],
    )


def ap(name: str, ip: str | None = None, state: str = "Downloading") -> AccessPoint:
    return AccessPoint(name=name, model="AIR-CAP3702I-E-K9", ip=ip, state=state)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def corr(clock: Clock) -> Correlator:
    c = Correlator(clock=clock)
    c.update_inventory(
        [
            snapshot("wlc-1", ap("CAP3702I.4CD4", "127.0.0.2"), ap("AP2702-1", "127.0.0.3")),
            snapshot("wlc-2", ap("AP3702-1", "10.9.0.5")),
        ]
    )
    return c


def test_resolve_by_ip_and_by_hostname(corr: Correlator) -> None:
    by_ip = corr.resolve("127.0.0.2", None)
    assert by_ip is not None and (by_ip.controller, by_ip.ap.name, by_ip.by) == ("wlc-1", "CAP3702I.4CD4", "ip")
    by_name = corr.resolve("127.0.0.1", "ap3702-1")  # a relay's IP, the AP's name (any case)
    assert by_name is not None
    assert (by_name.controller, by_name.ap.name, by_name.by) == ("wlc-2", "AP3702-1", "hostname")
    fqdn = corr.resolve(None, "AP3702-1.wifi.example.net")
    assert fqdn is not None and fqdn.ap.name == "AP3702-1"
    ip_as_hostname = corr.resolve("203.0.113.9", "10.9.0.5")
    assert ip_as_hostname is not None and ip_as_hostname.ap.name == "AP3702-1"
    mapped = corr.resolve("::ffff:127.0.0.3", None)
    assert mapped is not None and mapped.ap.name == "AP2702-1"
    assert corr.resolve("127.0.0.99", "nobody") is None


def test_hostname_wins_over_a_relay_ip(corr: Correlator) -> None:
    found = corr.resolve("127.0.0.2", "AP2702-1")  # sent via CAP3702I's address? the name says who
    assert found is not None and found.ap.name == "AP2702-1"


def test_same_name_on_two_controllers_prefers_the_sender_ip_then_downloading(clock: Clock) -> None:
    c = Correlator(clock=clock)
    c.update_inventory(
        [
            snapshot("old", ap("AP-X", "10.0.0.1", state="Registered"), at=T0 - timedelta(minutes=5)),
            snapshot("new", ap("AP-X", "10.0.0.2", state="Downloading")),
        ]
    )
    first = c.resolve("10.0.0.1", "AP-X")
    assert first is not None and first.controller == "old"
    second = c.resolve("127.0.0.1", "AP-X")
    assert second is not None and second.controller == "new"


def test_failure_confirms_until_success_or_window(corr: Correlator, clock: Clock) -> None:
    obs = corr.observe(FAIL, source_ip="127.0.0.2", hostname=None)
    assert obs.newly_confirmed
    assert corr.confirmed("wlc-1") == {"CAP3702I.4CD4": T0}
    assert corr.confirmed("wlc-2") == {}
    clock.now = T0 + timedelta(minutes=2)
    again = corr.observe(FAIL, source_ip="127.0.0.2", hostname=None)
    assert not again.newly_confirmed
    assert corr.confirmed("wlc-1") == {"CAP3702I.4CD4": T0}  # dates from the episode start
    clock.now = T0 + timedelta(minutes=3)
    corr.observe(OK, source_ip="127.0.0.2", hostname=None)
    assert corr.confirmed("wlc-1") == {}
    clock.now = T0 + timedelta(minutes=4)
    assert corr.observe(FAIL, source_ip="127.0.0.2", hostname=None).newly_confirmed
    assert corr.confirmed("wlc-1") == {"CAP3702I.4CD4": T0 + timedelta(minutes=4)}
    # window (2 h) after the last failure: no longer confirmed
    assert corr.confirmed("wlc-1", now=T0 + timedelta(minutes=4, hours=2)) != {}
    assert corr.confirmed("wlc-1", now=T0 + timedelta(minutes=5, hours=2)) == {}
    state = corr.state("wlc-1", "CAP3702I.4CD4")
    assert state is not None
    assert state.track.failure_lines == 3 and state.track.failure_cycles == 3
    assert state.track.first_failure == T0 and state.track.last_failure == T0 + timedelta(minutes=4)


def test_stale_failures_start_a_new_episode(clock: Clock) -> None:
    c = Correlator(window=timedelta(minutes=30), clock=clock)
    c.update_inventory([snapshot("wlc-1", ap("A", "127.0.0.2"))])
    c.observe(FAIL, source_ip="127.0.0.2", hostname=None)
    clock.now = T0 + timedelta(hours=1)
    assert c.observe(FAIL, source_ip="127.0.0.2", hostname=None).newly_confirmed
    assert c.confirmed("wlc-1") == {"A": T0 + timedelta(hours=1)}


def test_lines_of_one_attempt_are_one_cycle(corr: Correlator, clock: Clock) -> None:
    for match in (SHA2, FAIL, IMAGE, FAIL):
        corr.observe(match, source_ip="127.0.0.2", hostname=None)
    state = corr.state("wlc-1", "CAP3702I.4CD4")
    assert state is not None
    assert state.track.failure_lines == 3 and state.track.failure_cycles == 1
    assert state.track.sha == "SHA-2" and state.track.image == "ap3g2-k9w8-mx.153-3.JPJ9"


def test_logged_says_what_began_the_episode_while_it_is_confirmed(corr: Correlator, clock: Clock) -> None:
    first = "AP image integrity check FAILED"
    corr.observe(SHA2, source_ip="127.0.0.2", hostname=None, text="Using SHA-2 signed certificate")
    assert corr.logged("wlc-1", "CAP3702I.4CD4") is None  # SHA-2 in use is no failure
    corr.observe(FAIL, source_ip="127.0.0.2", hostname=None, text=first)
    clock.now = T0 + timedelta(seconds=1)
    corr.observe(IMAGE, source_ip="127.0.0.2", hostname=None, text="Digital Signature Failed Validation " + "x" * 500)
    entry = corr.logged("wlc-1", "CAP3702I.4CD4")
    assert entry is not None
    assert (entry.ap, entry.at, entry.signature, entry.line, entry.lines) == ("CAP3702I.4CD4", T0, FAIL.id, first, 2)
    assert entry.meaning == FAIL.meaning
    # a success ends the episode; the next failure begins another, with its own line
    corr.observe(OK, source_ip="127.0.0.2", hostname=None, text="Image signing certificate validation succeeded.")
    assert corr.logged("wlc-1", "CAP3702I.4CD4") is None
    clock.now = T0 + timedelta(minutes=1)
    corr.observe(IMAGE, source_ip="127.0.0.2", hostname=None, text="Digital Signature Failed Validation " + "x" * 500)
    again = corr.logged("wlc-1", "CAP3702I.4CD4")
    assert again is not None and again.at == clock.now and again.lines == 1
    assert again.line.startswith("Digital Signature") and len(again.line) == 300  # shown, never kept whole
    assert corr.logged("wlc-1", "AP2702-1") is None and corr.logged("wlc-9", "CAP3702I.4CD4") is None


def test_logged_survives_promotion_from_an_unknown_sender(clock: Clock) -> None:
    c = Correlator(clock=clock)
    c.observe(FAIL, source_ip="127.0.0.9", hostname="NEWAP", text="AP image integrity check FAILED")
    c.update_inventory([snapshot("wlc-1", ap("NEWAP", "127.0.0.9"))])
    entry = c.logged("wlc-1", "NEWAP")
    assert entry is not None and entry.at == T0 and entry.line == "AP image integrity check FAILED"


def test_not_yet_valid_is_tracked_but_confirms_nothing(corr: Correlator) -> None:
    corr.observe(NYV, source_ip="127.0.0.2", hostname=None)
    assert corr.confirmed("wlc-1") == {}
    state = corr.state("wlc-1", "CAP3702I.4CD4")
    assert state is not None and state.track.not_yet_valid == 1


def test_unknown_senders_are_bounded_and_promoted_when_the_inventory_learns_them(clock: Clock) -> None:
    c = Correlator(max_unknown=3, clock=clock)
    for i in range(10):
        c.observe(FAIL, source_ip=f"10.1.0.{i}", hostname=None)
    unknown = c.unknown_senders()
    assert [u.ip for u in unknown] == ["10.1.0.9", "10.1.0.8", "10.1.0.7"]
    assert c.stats.evicted_unknown == 7
    assert c.confirmed("wlc-9") == {}
    c.update_inventory([snapshot("wlc-9", ap("LATE", "10.1.0.8"))])
    assert c.confirmed("wlc-9") == {"LATE": T0}
    assert [u.ip for u in c.unknown_senders()] == ["10.1.0.9", "10.1.0.7"]
    assert c.stats.promoted == 1


def test_promotion_respects_a_success_seen_before(clock: Clock) -> None:
    c = Correlator(clock=clock)
    c.observe(FAIL, source_ip=None, hostname="NEWAP")
    clock.now = T0 + timedelta(minutes=1)
    c.observe(OK, source_ip=None, hostname="NEWAP")
    c.update_inventory([snapshot("wlc-1", ap("NEWAP"))])
    assert c.confirmed("wlc-1") == {}
    state = c.state("wlc-1", "NEWAP")
    assert state is not None and state.track.failure_lines == 1


def test_per_ap_state_is_an_lru(clock: Clock) -> None:
    c = Correlator(max_aps=5, clock=clock)
    aps = [ap(f"AP{i}", f"10.2.0.{i}") for i in range(20)]
    c.update_inventory([snapshot("wlc-1", *aps)])
    for i in range(20):
        c.observe(FAIL, source_ip=f"10.2.0.{i}", hostname=None)
    assert c.tracked_aps == 5
    assert c.stats.evicted_aps == 15
    assert sorted(c.confirmed("wlc-1")) == ["AP15", "AP16", "AP17", "AP18", "AP19"]


def test_a_failed_poll_keeps_the_previous_ap_list(corr: Correlator) -> None:
    corr.update_inventory([snapshot("wlc-1", errors=True)])
    found = corr.resolve("127.0.0.2", None)
    assert found is not None and found.controller == "wlc-1"
    corr.update_inventory([snapshot("wlc-1")])  # read cleanly, no APs: they are gone
    assert corr.resolve("127.0.0.2", None) is None


def test_forget_controller(corr: Correlator) -> None:
    corr.observe(FAIL, source_ip="127.0.0.2", hostname=None)
    corr.forget_controller("wlc-1")
    assert corr.confirmed("wlc-1") == {} and corr.tracked_aps == 0
    assert corr.resolve("127.0.0.2", None) is None


def test_states_are_copies(corr: Correlator) -> None:
    corr.observe(FAIL, source_ip="127.0.0.2", hostname=None)
    (copy,) = corr.states("wlc-1")
    copy.track.failure_lines = 99
    state = corr.state("wlc-1", "CAP3702I.4CD4")
    assert state is not None and state.track.failure_lines == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("::ffff:10.0.0.1", "10.0.0.1"), ("FE80::1", "fe80::1"), ("fe80::1%eth0", "fe80::1"), ("x", None), ("", None)],
)
def test_normalise_ip(raw: str, expected: str | None) -> None:
    assert normalise_ip(raw) == expected


def test_bad_bounds() -> None:
    with pytest.raises(ValueError):
        Correlator(window=timedelta(0))
    with pytest.raises(ValueError):
        Correlator(max_aps=0)
