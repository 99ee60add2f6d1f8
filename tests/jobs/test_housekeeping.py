"""Housekeeping: when it runs, what it prunes with `CCERT_RETENTION_DAYS`, and what history shows after."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.chat import handlers
from bot.chat.reply import Caller
from bot.console.notifier import ConsoleNotifier
from bot.console.render import render_text
from bot.domain.digest import HistoryRow
from bot.domain.models import AccessPoint, ControllerSnapshot, Platform
from bot.domain.verdict import DownloadWatch, VerdictStatus, evaluate_controller
from bot.jobs.digest import build_digest
from bot.jobs.scheduler import HOUSEKEEPING, HOUSEKEEPING_AFTER_START, build_scheduler
from bot.runtime import Runtime
from bot.settings import load_settings
from bot.store import CheckRun, CheckTrigger, SiteCheck, SiteDay, Store, digests
from bot.store import checks as checks_store
from bot.store import history as history_store
from tests.jobs.conftest import Harness

DAY = timedelta(days=1)


async def _noop() -> None:
    return None


async def test_housekeeping_runs_soon_after_start_then_daily() -> None:
    """A bot restarted more often than daily still prunes: the first run is minutes after start."""
    settings = load_settings(timezone="Europe/Paris")
    start = datetime.now(UTC)
    scheduler = build_scheduler(settings, fleet_check=_noop, housekeeping=_noop, first_check_at=start)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job(HOUSEKEEPING)
        assert job is not None and job.name == "housekeeping"
        assert job.next_run_time == start + HOUSEKEEPING_AFTER_START
        fields = {f.name: str(f) for f in job.trigger.fields}
        assert (fields["hour"], fields["minute"]) == ("3", "17")
        assert job.max_instances == 1 and job.coalesce
    finally:
        scheduler.shutdown(wait=False)


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/New_York", "Australia/Sydney", "UTC"])
def test_housekeeping_fires_every_day_of_the_year_including_dst_days(zone: str) -> None:
    settings = load_settings(timezone=zone)
    scheduler = build_scheduler(settings, fleet_check=_noop, housekeeping=_noop)
    trigger = scheduler.get_job(HOUSEKEEPING).trigger
    tz = ZoneInfo(zone)
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    previous = None
    days = []
    while now < datetime(2027, 1, 1, tzinfo=UTC):
        fire = trigger.get_next_fire_time(previous, now.astimezone(tz))
        days.append(fire.astimezone(tz).date())
        previous = fire
        now = fire.astimezone(UTC) + timedelta(seconds=5)  # the job ran; real time moves on
    first = days[0]
    assert days == [first + timedelta(days=i) for i in range(len(days))], "once a day, no day skipped"
    assert len(days) >= 365


def _snapshot(name: str, at: datetime, aps: list[AccessPoint]) -> ControllerSnapshot:
    return ControllerSnapshot(
        name=name,
        platform=Platform.AIREOS,
        host="192.0.2.1",
        taken_at=at,
        site="site-t",
        software_version="8.10.162.0",
        aps=aps,
    )


async def _record(store: Store, at: datetime, downloading: bool = False) -> int:
    aps = [
        AccessPoint("AP2702-1", model="AIR-CAP2702I-E-K9", state="Downloading" if downloading else "Registered"),
        AccessPoint("AP1852-1", model="AIR-AP1852I-E-K9", state="Registered"),
    ]
    snapshots = [_snapshot("wlc-1", at, aps), _snapshot("wlc-2", at, aps[1:])]
    watch = DownloadWatch(stuck_after=timedelta(0))
    verdicts = [evaluate_controller(s, watch=watch) for s in snapshots]
    return await store.write(
        checks_store.record_check, CheckRun(CheckTrigger.SCHEDULED, at, at + timedelta(seconds=30)), snapshots, verdicts
    )


async def test_housekeeping_prunes_past_the_retention_and_history_shows_the_days(harness: Harness) -> None:
    now = datetime.now(UTC)
    settings = harness.site.settings.model_copy(update={"retention_days": 2})
    old = await _record(harness.store, now - 5 * DAY, downloading=True)
    anchor = await _record(harness.store, now - 4 * DAY)
    recent = await _record(harness.store, now - timedelta(hours=1))
    runtime = Runtime(
        harness.site.inventory, settings, harness.store, ConsoleNotifier(io.StringIO()), harness.site.environ
    )

    await runtime.housekeeping()

    checks = {r.id for r in await harness.store.read(checks_store.recent_checks)}
    assert old not in checks and {anchor, recent} <= checks  # 5 days old goes; 4 days old is the last before
    history = await harness.store.read(history_store.site_history, "site-t")
    assert [e.run.id for e in history if isinstance(e, SiteCheck)] == [recent, anchor]
    [day] = [e for e in history if isinstance(e, SiteDay)]
    assert day.day == (now - 5 * DAY).date() and day.stuck_count == 1
    assert await harness.store.read(lambda db: db.execute("PRAGMA auto_vacuum").fetchone()[0]) == 2

    result = await runtime.dispatcher.dispatch("history site-t", Caller("U0ALICE", "C0SITE0001"))
    assert result.follow_up is not None
    reply = await result.follow_up()
    text = render_text(reply)
    assert "check history" in reply.title
    assert "Daily summaries" in text and (now - 5 * DAY).date().isoformat() in text
    [daily] = [s for s in reply.sections if s.title and "Daily summaries" in s.title]
    assert daily.table is not None
    assert [row[1:] for row in daily.table.rows] == [
        ("wlc-1", "1", "1", "2", "🛑 stuck"),
        ("wlc-2", "0", "0", "1", "✅ ok"),
    ]


def test_history_with_only_daily_summaries_is_marked_not_empty() -> None:
    """Should no single check of a site be left, its days still show, marked, not "no checks recorded"."""
    day = datetime(2026, 11, 2, 21, 45, tzinfo=UTC)
    rows = [
        HistoryRow(day, "wlc-1", VerdictStatus.STUCK, 2, 40, 3, ("read 40 of 41 APs",)),
        HistoryRow(day - timedelta(days=1), "wlc-1", VerdictStatus.OK, 0, 41),
    ]
    reply = handlers.history_with_daily_summaries("site-t", None, rows)
    assert reply.title == "🛑 site-t: daily summaries only"
    [section] = reply.sections
    assert section.table is not None
    assert section.table.rows == (
        ("2026-11-02", "wlc-1", "2", "3", "40*", "🛑 stuck"),
        ("2026-11-01", "wlc-1", "0", "0", "41", "✅ ok"),
    )
    text = render_text(reply)
    assert "Daily summaries, not single checks" in text and "incomplete read" in text


async def test_the_digest_reads_the_same_right_after_housekeeping(harness: Harness) -> None:
    """Yesterday's numbers (the recorded digest) and today's (the latest checks) survive a prune
    with the shortest retention, including a check older than the cutoff that is still the latest."""
    now = datetime.now(UTC)
    zone = ZoneInfo("UTC")
    settings = harness.site.settings.model_copy(update={"retention_days": 1})
    await _record(harness.store, now - 3 * DAY, downloading=True)
    await _record(harness.store, now - 30 * timedelta(hours=1), downloading=True)  # the last before the cutoff
    yesterday = (now - DAY).date()
    await harness.store.write(
        digests.record_digest,
        yesterday,
        channel="C0DIGEST",
        ts="1.1",
        summary={"stuck_by_site": {"site-t": 3}},
        sent_at=now - DAY,
    )
    before = await build_digest(harness.store, harness.site.inventory, now, zone)
    runtime = Runtime(
        harness.site.inventory, settings, harness.store, ConsoleNotifier(io.StringIO()), harness.site.environ
    )

    await runtime.housekeeping()

    assert len(await harness.store.read(checks_store.recent_checks)) == 1  # the 3-day-old check went
    after = await build_digest(harness.store, harness.site.inventory, now, zone)
    assert after == before
    [site] = after.sites
    assert (site.stuck_aps_yesterday, site.aps_total, site.controllers_read) == (3, 3, 2)
    summary = await harness.store.read(history_store.fleet_summary, now)
    assert summary.site("site-t") is not None and summary.site("site-t").stuck_aps_before == 1  # type: ignore[union-attr]
