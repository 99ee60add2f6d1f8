"""The Prometheus metrics of one bot, and the recorder API the rest of the bot calls.

The metric names are a contract with dashboards and alert rules: never rename one.
`prometheus_client` appends `_total` to counters itself (`Counter("ccert_checks")` is
exposed as `ccert_checks_total`) and adds the standard `_created` samples.

Each `Metrics` has its own `CollectorRegistry`, not the process-wide default, so several
bots in one test process (or a bot and a benchmark) never collide or share counts.

Counters are incremented where the events happen (through the recorder methods below, which
structurally satisfy `CheckRecorder`, `RemediationRecorder` and `ApiErrorHook`); gauges of
state are set after each check, or at scrape time (the outbox); the syslog counters live in
the listener and are read at scrape time by a custom collector, so they cannot disagree.
Labels only ever hold fixed vocabularies (verdict status, Web API method, outcome), never
tokens, user ids or free text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.domain.verdict import VerdictStatus
from bot.syslog import SyslogCounters

if TYPE_CHECKING:
    from bot.jobs.checks import CheckOutcome

# Fleet checks take from a second (one controller) to many minutes (a large fleet over SSH).
CHECK_DURATION_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)

# Label values shown at 0 from the start, so dashboards and `rate()` see the series before
# the first event (other values still appear when they happen).
REQUEST_OUTCOMES = ("created", "refused", "approved", "scheduled", "rejected", "expired", "cancelled")
RUN_OUTCOMES = ("succeeded", "failed", "needs_attention", "refused")
SLACK_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral")
SYSLOG_RESULTS = ("matched", "ignored", "dropped")

SyslogSource = Callable[[], SyslogCounters | None]


def syslog_results(counters: SyslogCounters | None) -> dict[str, int]:
    """The listener's counters folded into `ccert_syslog_messages_total{result}`:

    - matched: parsed lines a CSCwd80290 signature recognised
    - ignored: parsed lines no signature matched (ordinary AP chatter)
    - dropped: never looked at: queue full, sender over its rate, oversized, malformed
    """
    if counters is None:
        return dict.fromkeys(SYSLOG_RESULTS, 0)
    dropped = counters.dropped_queue_full + counters.dropped_rate_limited + counters.oversized + counters.malformed
    return {
        "matched": counters.matched,
        "ignored": max(0, counters.parsed - counters.matched),
        "dropped": dropped,
    }


class _SyslogCollector(Collector):
    """Reads the current listener's counters at scrape time (zeros while syslog is off)."""

    def __init__(self, source: SyslogSource) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "ccert_syslog_messages",
            "AP syslog messages received, by what became of them (matched, ignored, dropped).",
            labels=["result"],
        )
        for result, value in syslog_results(self.source()).items():
            family.add_metric([result], value)
        yield family


class Metrics:
    """The registry and its metric objects; `render()` is the `/metrics` body."""

    def __init__(self, syslog: SyslogSource | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # A check that raised is not counted here; /healthz notices that no check finished.
        self.checks = Counter("ccert_checks", "Fleet checks finished.", registry=r)
        self.check_duration = Histogram(
            "ccert_check_duration_seconds",
            "How long a fleet check took to poll and judge every controller (what is compared with the interval).",
            buckets=CHECK_DURATION_BUCKETS,
            registry=r,
        )
        self.controllers = Gauge(
            "ccert_controllers", "Controllers per verdict status in the last check.", ["verdict"], registry=r
        )
        self.aps_downloading = Gauge(
            "ccert_aps_downloading",
            "Affected APs Downloading on software that does not fix them, in the last check.",
            registry=r,
        )
        self.aps_stuck = Gauge(
            "ccert_aps_stuck",
            "APs the alert rules count as stuck (Downloading past CCERT_STUCK_AFTER_MINUTES or confirmed by their "
            "own log), as listed in open stuck alerts after the last check.",
            registry=r,
        )
        self.alerts_posted = Counter("ccert_alerts_posted", "Alert messages posted to Slack.", registry=r)
        self.outbox_pending = Gauge(
            "ccert_outbox_pending",
            "Outbox rows not yet delivered to Slack: alert messages, thread notes and message updates.",
            registry=r,
        )
        self.slack_api_errors = Counter(
            "ccert_slack_api_errors", "Slack Web API calls that failed, by method.", ["method"], registry=r
        )
        self.remediation_requests = Counter(
            "ccert_remediation_requests", "Remediation requests, by outcome.", ["outcome"], registry=r
        )
        self.remediation_runs = Counter(
            "ccert_remediation_runs", "Remediation playbook runs, by outcome.", ["outcome"], registry=r
        )
        self.leader = Gauge(
            "ccert_leader",
            "1 while this instance leads (runs the checks, digest, outbox and remediation runs), else 0. With "
            "SQLite the one instance always leads; over PostgreSQL exactly one instance should show 1.",
            registry=r,
        )
        r.register(_SyslogCollector(syslog or (lambda: None)))
        for status in VerdictStatus:
            self.controllers.labels(status.value).set(0)
        for method in SLACK_METHODS:
            self.slack_api_errors.labels(method)
        for outcome in REQUEST_OUTCOMES:
            self.remediation_requests.labels(outcome)
        for outcome in RUN_OUTCOMES:
            self.remediation_runs.labels(outcome)

    # --- the recorder API ------------------------------------------------------------------------

    def set_leader(self, leading: bool) -> None:
        self.leader.set(1 if leading else 0)

    def check_finished(self, outcome: CheckOutcome) -> None:
        self.checks.inc()
        self.check_duration.observe(max(0.0, outcome.duration.total_seconds()))
        for status in VerdictStatus:
            self.controllers.labels(status.value).set(outcome.statuses.get(status.value, 0))
        self.aps_downloading.set(outcome.aps_downloading)
        self.aps_stuck.set(outcome.aps_stuck)

    def alert_posted(self) -> None:
        self.alerts_posted.inc()

    def slack_api_error(self, method: str) -> None:
        self.slack_api_errors.labels(method).inc()

    def remediation_request(self, outcome: str) -> None:
        self.remediation_requests.labels(outcome).inc()

    def remediation_run(self, outcome: str) -> None:
        self.remediation_runs.labels(outcome).inc()

    def set_outbox_pending(self, count: int) -> None:
        self.outbox_pending.set(count)

    # --- exposition ------------------------------------------------------------------------------

    def render(self) -> bytes:
        """The Prometheus text format (serve it with `prometheus_client.CONTENT_TYPE_LATEST`)."""
        return generate_latest(self.registry)
