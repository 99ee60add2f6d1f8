"""Migration 9: which instance drives a run (`remediation_runs.claimed_by`), and the Slack
signatures every instance has accepted (`slack_signatures`).

Why: with two or more instances over one PostgreSQL database, a run is driven by the leader
that created or recovered it, and every device-changing step checks, in the same transaction
that marks it started, that this instance still holds both the lead and the run's claim
(`bot.store.remediation.runs.step_started`). A run from before this migration has no claim;
the next recovery claims it.

Why the signatures: behind a load balancer a request replayed within Slack's five minutes
could reach the instance that did not see it; the instances share what they accepted
(`bot.store.signatures`). Only a digest of each signature is kept, until it expires.

Shipped: never edit it; a change to the schema is a new migration after the last.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.store.migrations.ddl import add_column
from bot.store.pg import PgDatabase


def apply(db: Database) -> None:
    add_column(db, "remediation_runs", "claimed_by", "TEXT")
    db.execute("CREATE TABLE IF NOT EXISTS slack_signatures (digest TEXT PRIMARY KEY, expires_at REAL NOT NULL)")
    db.execute("CREATE INDEX IF NOT EXISTS slack_signatures_expiry ON slack_signatures (expires_at)")


def apply_postgres(db: PgDatabase) -> None:
    db.execute('ALTER TABLE remediation_runs ADD COLUMN IF NOT EXISTS claimed_by TEXT COLLATE "C"')
    db.execute(
        'CREATE TABLE IF NOT EXISTS slack_signatures (digest TEXT COLLATE "C" PRIMARY KEY, '
        "expires_at DOUBLE PRECISION NOT NULL)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS slack_signatures_expiry ON slack_signatures (expires_at)")
