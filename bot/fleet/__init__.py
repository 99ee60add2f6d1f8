"""Fleet reads for the chat handlers, jobs and remediation: inventory sites in, verdicts out.

- `reader`: `FleetReader`, the one way the bot reads controllers, under one session limit
- `service`: `FleetService`, a site read now and judged (what `/ccert status` shows)
"""
