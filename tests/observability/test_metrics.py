"""The metrics contract: rendered names and labels, what each recorder call changes, the syslog
fold, per-bot registries, and the health facts gathered from a real scheduler, store and loop."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client.parser import text_string_to_metric_families

from bot.jobs.checks import CheckOutcome
from bot.jobs.scheduler import FLEET_CHECK
from bot.observability.heartbeat import LoopHeartbeat
from bot.observability.metrics import Metrics, syslog_results
from bot.observability.observer import Observability
from bot.store import Store
from bot.syslog import SyslogCounters

# The dashboard contract: every sample name /metrics must carry (beside prometheus_client's `_created`).
CONTRACT = {
    "ccert_checks_total",
    "ccert_check_duration_seconds_bucket",
    "ccert_check_duration_seconds_count",
    "ccert_check_duration_seconds_sum",
    "ccert_controllers",
    "ccert_aps_downloading",
    "ccert_aps_stuck",
    "ccert_alerts_posted_total",
    "ccert_outbox_pending",
    "ccert_slack_api_errors_total",
    "ccert_remediation_requests_total",
    "ccert_remediation_runs_total",
    "ccert_syslog_messages_total",
    "ccert_leader",
}


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.render().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return samples(metrics)[(name, tuple(sorted(labels.items())))]


def test_rendered_names_are_exactly_the_contract() -> None:
    names = {name for name, _ in samples(Metrics())}
    assert {n for n in names if not n.endswith("_created")} == CONTRACT
    text = Metrics().render().decode()
    assert "# TYPE ccert_checks_total counter" in text
    assert "# TYPE ccert_check_duration_seconds histogram" in text
    assert "# TYPE ccert_controllers gauge" in text
    assert "# TYPE ccert_syslog_messages_total counter" in text
    assert "ccert_total_total" not in text and "_total_total" not in text


def test_state_series_exist_at_zero_before_any_event() -> None:
    metrics = Metrics()
    for verdict in ("ok", "at-risk", "stuck", "unreachable", "error"):
        assert value(metrics, "ccert_controllers", verdict=verdict) == 0
    for result in ("matched", "ignored", "dropped"):
        assert value(metrics, "ccert_syslog_messages_total", result=result) == 0
    assert value(metrics, "ccert_slack_api_errors_total", method="chat.postMessage") == 0
    assert value(metrics, "ccert_remediation_requests_total", outcome="created") == 0
    assert value(metrics, "ccert_remediation_runs_total", outcome="succeeded") == 0


def test_a_finished_check_sets_counts_and_gauges() -> None:
    metrics = Metrics()
    outcome = CheckOutcome(
        run_id=1,
        controllers=3,
        read=2,
        duration=timedelta(seconds=4),
        overran=False,
        statuses={"stuck": 1, "ok": 1, "unreachable": 1},
        aps_downloading=3,
        aps_stuck=2,
    )
    metrics.check_finished(outcome)
    assert value(metrics, "ccert_checks_total") == 1
    assert value(metrics, "ccert_check_duration_seconds_count") == 1
    assert value(metrics, "ccert_check_duration_seconds_sum") == 4
    assert value(metrics, "ccert_check_duration_seconds_bucket", le="2.5") == 0
    assert value(metrics, "ccert_check_duration_seconds_bucket", le="5.0") == 1
    assert value(metrics, "ccert_controllers", verdict="stuck") == 1
    assert value(metrics, "ccert_controllers", verdict="unreachable") == 1
    assert value(metrics, "ccert_controllers", verdict="at-risk") == 0
    assert value(metrics, "ccert_aps_downloading") == 3 and value(metrics, "ccert_aps_stuck") == 2

    # the next check replaces the state gauges (a status that disappeared goes back to 0)
    metrics.check_finished(CheckOutcome(2, 3, 3, timedelta(seconds=1), False, statuses={"ok": 3}))
    assert value(metrics, "ccert_checks_total") == 2
    assert value(metrics, "ccert_controllers", verdict="stuck") == 0
    assert value(metrics, "ccert_controllers", verdict="ok") == 3
    assert value(metrics, "ccert_aps_stuck") == 0


def test_event_counters_count_by_label() -> None:
    metrics = Metrics()
    metrics.alert_posted()
    metrics.alert_posted()
    metrics.slack_api_error("chat.update")
    metrics.slack_api_error("usergroups.users.list")
    metrics.remediation_request("created")
    metrics.remediation_request("refused")
    metrics.remediation_request("refused")
    metrics.remediation_run("needs_attention")
    metrics.set_outbox_pending(4)
    assert value(metrics, "ccert_alerts_posted_total") == 2
    assert value(metrics, "ccert_slack_api_errors_total", method="chat.update") == 1
    assert value(metrics, "ccert_slack_api_errors_total", method="usergroups.users.list") == 1
    assert value(metrics, "ccert_slack_api_errors_total", method="chat.postMessage") == 0
    assert value(metrics, "ccert_remediation_requests_total", outcome="refused") == 2
    assert value(metrics, "ccert_remediation_runs_total", outcome="needs_attention") == 1
    assert value(metrics, "ccert_outbox_pending") == 4


def test_syslog_counters_are_read_at_scrape_time() -> None:
    counters = SyslogCounters()
    metrics = Metrics(syslog=lambda: counters)
    counters.received, counters.parsed, counters.matched = 20, 12, 5
    counters.dropped_queue_full, counters.dropped_rate_limited, counters.oversized, counters.malformed = 1, 2, 3, 2
    assert value(metrics, "ccert_syslog_messages_total", result="matched") == 5
    assert value(metrics, "ccert_syslog_messages_total", result="ignored") == 7
    assert value(metrics, "ccert_syslog_messages_total", result="dropped") == 8
    counters.matched += 1
    assert value(metrics, "ccert_syslog_messages_total", result="matched") == 6
    assert syslog_results(None) == {"matched": 0, "ignored": 0, "dropped": 0}


def test_two_bots_in_one_process_keep_their_own_counts() -> None:
    first, second = Metrics(), Metrics()
    first.alert_posted()
    assert value(first, "ccert_alerts_posted_total") == 1
    assert value(second, "ccert_alerts_posted_total") == 0


async def test_heartbeat_sees_a_blocked_loop_and_stops() -> None:
    heartbeat = LoopHeartbeat(interval=0.02)
    assert heartbeat.lag() is None
    heartbeat.start()
    try:
        await asyncio.sleep(0.05)
        lag = heartbeat.lag()
        assert lag is not None and lag < 0.25
        time.sleep(0.3)  # block the loop on purpose
        blocked = heartbeat.lag()
        assert blocked is not None and blocked >= 0.25
        await asyncio.sleep(0.1)  # a few beats on time again
        recovered = heartbeat.lag()
        assert recovered is not None and recovered < 0.25
    finally:
        await heartbeat.stop()
    assert heartbeat.lag() is None


async def test_health_facts_come_from_the_real_scheduler_store_and_loop(tmp_path: Path) -> None:
    now = [datetime(2026, 3, 1, 8, 0, tzinfo=UTC)]
    store = await Store.open(tmp_path / "ccert.db")
    scheduler: AsyncIOScheduler | None = None
    observability = Observability(
        store,
        timedelta(minutes=15),
        scheduler=lambda: scheduler,
        clock=lambda: now[0],
        heartbeat=LoopHeartbeat(interval=0.02),
    )
    try:
        assert (await observability.health()).reasons == (
            "event loop heartbeat is not running",
            "scheduler is not running",
        )
        observability.start()
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.start(paused=True)
        assert (await observability.health()).reasons == ("scheduler is paused",)
        scheduler.resume()
        assert (await observability.health()).reasons == ("the fleet check job is not scheduled",)

        async def nothing() -> None:
            pass

        scheduler.add_job(nothing, "interval", minutes=15, id=FLEET_CHECK)
        assert (await observability.health()).healthy

        now[0] += timedelta(minutes=45)
        assert (await observability.health()).reasons == (
            "no fleet check has finished since start-up 45.0 min ago (limit 45.0 min: 3 check intervals)",
        )
        observability.check_finished(CheckOutcome(1, 0, 0, timedelta(seconds=1), False))
        assert (await observability.health()).healthy
        assert value(observability.metrics, "ccert_checks_total") == 1

        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
        assert (await observability.health()).reasons == ("scheduler is not running",)
    finally:
        await observability.stop()
        await store.close()
    assert (await observability.health()).reasons == (
        "event loop heartbeat is not running",
        "scheduler is not running",
        "store is not answering: ProgrammingError: Cannot operate on a closed database.",
    )
