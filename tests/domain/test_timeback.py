"""The time-back target (`bot.domain.timeback`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.models import CertificateWindow
from bot.domain.timeback import timeback_target

SHA1_EXPIRY = datetime(2022, 12, 4, 21, 37, 36, tzinfo=UTC)
DEFAULT_TARGET = datetime(2022, 12, 2, tzinfo=UTC)


# ---------------------------------------------------------------------------
# time-back
# ---------------------------------------------------------------------------


def cert(not_before: datetime, years: int = 20) -> CertificateWindow:
    return CertificateWindow(not_before=not_before, not_after=not_before + timedelta(days=365 * years))


def test_timeback_unknown_certificate_uses_default_with_warning() -> None:
    plan = timeback_target(None)
    assert plan.possible
    assert plan.target == DEFAULT_TARGET
    assert not plan.certificate_known
    assert any("could not be read" in w for w in plan.warnings)


def test_timeback_default_when_safe() -> None:
    plan = timeback_target(cert(datetime(2019, 3, 1, tzinfo=UTC)))
    assert plan.possible and plan.target == DEFAULT_TARGET
    assert plan.chosen_by == "default"
    assert plan.window == SHA1_EXPIRY - DEFAULT_TARGET
    assert plan.image_cert_expiry == SHA1_EXPIRY
    assert plan.warnings == ()


def test_timeback_default_needs_a_day_margin() -> None:
    nb = datetime(2022, 12, 1, 12, 0, tzinfo=UTC)  # only 12 h before the default
    plan = timeback_target(cert(nb))
    assert plan.target == nb + timedelta(days=1)
    assert plan.chosen_by == "after_certificate"


@pytest.mark.parametrize(
    ("not_before", "target"),
    [
        (datetime(2022, 12, 3, tzinfo=UTC), datetime(2022, 12, 4, tzinfo=UTC)),  # +1 day fits
        (datetime(2022, 12, 4, 10, tzinfo=UTC), datetime(2022, 12, 4, 11, tzinfo=UTC)),  # only +1 h fits
    ],
)
def test_timeback_after_late_certificate(not_before: datetime, target: datetime) -> None:
    plan = timeback_target(cert(not_before))
    assert plan.possible
    assert plan.target == target
    assert not_before < plan.target < SHA1_EXPIRY
    assert plan.target <= SHA1_EXPIRY - timedelta(hours=2)


def test_timeback_narrow_margin_warns() -> None:
    plan = timeback_target(cert(datetime(2022, 12, 4, 10, tzinfo=UTC)))
    assert any("time zone" in w for w in plan.warnings)


@pytest.mark.parametrize(
    "not_before",
    [
        datetime(2022, 12, 4, 19, 0, tzinfo=UTC),  # +1 h leaves less than the download window
        datetime(2022, 12, 4, 21, 40, tzinfo=UTC),  # after the expiry
        datetime(2023, 1, 10, tzinfo=UTC),  # a virtual WLC built in 2023
    ],
)
def test_timeback_impossible_needs_staging(not_before: datetime) -> None:
    plan = timeback_target(cert(not_before))
    assert not plan.possible
    assert plan.target is None
    assert plan.needs_staging_controller
    assert "staging controller" in plan.reason
    assert "impossible" in plan.reason


def test_timeback_naive_certificate_read_as_utc() -> None:
    plan = timeback_target(cert(datetime(2019, 3, 1)))
    assert plan.target == DEFAULT_TARGET
    assert any("no time zone" in w for w in plan.warnings)


def test_timeback_preferred() -> None:
    c = cert(datetime(2019, 3, 1, tzinfo=UTC))
    wanted = datetime(2022, 12, 3, 8, tzinfo=UTC)
    assert timeback_target(c, preferred=wanted).target == wanted
    assert timeback_target(c, preferred=wanted).chosen_by == "preferred"
    # before the certificate start: ignored
    late = cert(datetime(2022, 12, 3, tzinfo=UTC))
    plan = timeback_target(late, preferred=datetime(2022, 12, 2, tzinfo=UTC))
    assert plan.target == datetime(2022, 12, 4, tzinfo=UTC)
    assert any("not safe" in w for w in plan.warnings)
    # too close to the expiry: ignored
    plan = timeback_target(c, preferred=datetime(2022, 12, 4, 21, tzinfo=UTC))
    assert plan.target == DEFAULT_TARGET
    plan = timeback_target(None, preferred=datetime(2022, 12, 4, 21, tzinfo=UTC))
    assert plan.target == DEFAULT_TARGET


def test_timeback_expired_controller_certificate_noted() -> None:
    old = CertificateWindow(not_before=datetime(2010, 1, 1, tzinfo=UTC), not_after=datetime(2020, 1, 1, tzinfo=UTC))
    plan = timeback_target(old)
    assert plan.target == DEFAULT_TARGET
    assert any("expired" in w for w in plan.warnings)


def test_timeback_plan_to_dict() -> None:
    data = timeback_target(None).to_dict()
    assert data["target"] == "2022-12-02T00:00:00+00:00"
    assert data["window"] == (SHA1_EXPIRY - DEFAULT_TARGET).total_seconds()


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2005, 1, 1), max_value=datetime(2024, 1, 1), timezones=st.just(UTC)))
def test_timeback_always_safe_or_impossible(not_before: datetime) -> None:
    plan = timeback_target(cert(not_before))
    latest = SHA1_EXPIRY - timedelta(hours=2)
    if plan.possible:
        assert plan.target is not None
        assert plan.target >= not_before + timedelta(hours=1)
        assert plan.target <= latest
        if not_before + timedelta(days=1) <= DEFAULT_TARGET:
            assert plan.target == DEFAULT_TARGET
    else:
        assert not_before + timedelta(hours=1) > latest
        assert plan.needs_staging_controller
