"""Health and metrics: how an ops team watches the running bot from outside.

- `health`: the `/healthz` rules as a pure function of plain facts
- `heartbeat`: a tiny task that notices when the event loop was blocked
- `metrics`: the Prometheus registry, the metric objects (names are a contract for
  dashboards) and the small recorder API the jobs, Slack and remediation call
- `observer`: `Observability`, what the `Runtime` owns: gathers the facts and feeds the metrics
- `http`: the aiohttp handlers for `/healthz` and `/metrics`, and the standalone server
  used in Socket Mode

Only this package imports `prometheus_client`; the modules it watches define small recorder
protocols (`bot.jobs.checks.CheckRecorder`, `bot.remediation.service.RemediationRecorder`,
`bot.slack.delivery.ApiErrorHook`) with no-op defaults, and know nothing of metrics.
"""
