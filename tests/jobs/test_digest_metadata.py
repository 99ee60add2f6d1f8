"""The digest's message metadata says how complete its numbers are, in the digest's own terms."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.domain.digest import FleetDigest, SiteDigest
from bot.jobs.digest import digest_metadata

DAY = date(2026, 12, 2)
AT = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def payload(*sites: SiteDigest) -> dict[str, object]:
    return dict(digest_metadata(FleetDigest(day=DAY, generated_at=AT, sites=sites)).payload)


def test_every_controller_read_completely_is_complete() -> None:
    got = payload(SiteDigest(site="site-a", controllers_read=2), SiteDigest(site="site-b", controllers_read=1))
    assert (got["controllers"], got["controllers_read"], got["complete"]) == (3, 3, True)


def test_an_unreachable_partial_or_incomplete_controller_makes_it_incomplete() -> None:
    ok = SiteDigest(site="site-a", controllers_read=2)
    unreachable = payload(ok, SiteDigest(site="site-b", controllers_read=1, controllers_unreachable=1))
    assert (unreachable["controllers"], unreachable["controllers_read"], unreachable["complete"]) == (4, 3, False)
    assert payload(ok, SiteDigest(site="site-b", controllers_read=1, controllers_partial=1))["complete"] is False
    assert payload(ok, SiteDigest(site="site-b", controllers_read=1, controllers_incomplete=1))["complete"] is False


def test_a_site_never_checked_or_an_empty_fleet_is_not_complete() -> None:
    """Zero stuck APs from zero controllers is "none seen", not "none stuck"."""
    never = payload(SiteDigest(site="site-a", controllers_read=2), SiteDigest(site="site-new"))
    assert (never["controllers_read"], never["stuck_aps"], never["complete"]) == (2, 0, False)
    assert payload()["complete"] is False and payload()["controllers_read"] == 0
