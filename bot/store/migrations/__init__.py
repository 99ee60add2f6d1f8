"""The schema, as an ordered list of numbered migrations.

Adding to the schema (remediation requests, votes, runs, audit, ...):

1. write a module `vNNN_what.py` in this package whose `apply(db)` creates or
   alters what it needs with `IF NOT EXISTS` / `add_column(...)` (from `ddl`)
   so running it twice is harmless (idempotent);
2. append `Migration(NNN, "what", vNNN_what.apply, vNNN_what.apply_postgres)` to
   `MIGRATIONS` below with the next version number: every migration after
   `POSTGRES_BASELINE` has a PostgreSQL form as well (the same change in PostgreSQL's
   spelling; text columns `COLLATE "C"`), and `tests/store/test_store_schema_parity.py`
   fails until both schemas agree. Never edit or renumber a migration that has shipped:
   databases in the field already recorded it in `schema_migrations`.

`bot.store.db.migrate` runs the missing ones in order, each recorded in
`schema_migrations(version, name, applied_at)`, all inside one
`BEGIN IMMEDIATE` transaction: a failed migration leaves the file as it was.

Why these numbered migrations and not `sqlite_utils.migrations.Migrations` (sqlite-utils 4),
decided when the store moved to sqlite-utils 4 (issue 14):

* **A file from a newer bot must be refused.** Every released bot reads `schema_migrations`
  and refuses a version it does not know (`db.migrate`). `Migrations` records names in
  `_sqlite_migrations` and ignores applied names it does not know (`pending()` lists only
  its own), so a bot built on it would use a newer file half-understood; and to keep the
  released bots' refusal working we would have to write every migration to
  `schema_migrations` too: two records of one fact, kept in step forever.
* **Order is checked, not trusted.** Versions must be 1, 2, 3, ... (`_check_sequence`);
  `Migrations` runs in registration order and checks nothing about it.
* **All pending migrations are one `BEGIN IMMEDIATE` transaction.** `Migrations.apply`
  commits each migration on its own, with a deferred `BEGIN` (`db.atomic()`), which can fail
  on a lock upgrade instead of queuing on the busy timeout when the bot and a `ccert-bot`
  command open the file together. (Wrapping it in `write_tx` would fix that, through
  savepoints, but then it adds nothing to the loop in `db.migrate`.)
* **Files in the field** already hold versions 1 to 7 in `schema_migrations`; moving would
  need a one-off bridge copying them to `_sqlite_migrations`, itself a migration that must
  never run twice, for no behaviour gained.
* The SQL triggers (the audit is append-only; the recorded configuration is fixed and kept
  until verified) fit either system, since a migration is SQL run on the `Database`. What
  does not fit is sqlite-utils' `table.transform()`: it rebuilds a table and the table's
  triggers go with the old one, so a migration here alters tables with `add_column` /
  `ALTER TABLE` and never with `transform()`. A closed set checked by SQL that must grow
  (migration 8: request statuses) is rebuilt by hand, SQLite's documented way, with
  foreign keys off for the migration and checked before the commit (`db.migrate`).

Column enums the code may extend later (alert kinds, event kinds, check
triggers) are validated in Python, not by SQL CHECK constraints, so adding a
kind never needs a table rebuild. Closed sets (alert status, delivery state)
are checked by SQL too.
"""

from __future__ import annotations

from bot.store.migrations import (
    v001_checks_and_snapshots,
    v002_alerts_and_outbox,
    v003_digests,
    v004_remediation,
    v005_downloading_and_incomplete,
    v006_compact_history,
    v007_outbox_send_keys,
    v008_windows_and_reasons,
    v009_run_claims,
)
from bot.store.migrations.ddl import Migration, add_column, run_ddl

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "check runs, snapshots, AP rows, AP state", v001_checks_and_snapshots.apply),
    Migration(2, "alerts and their outbox", v002_alerts_and_outbox.apply),
    Migration(3, "daily digests", v003_digests.apply),
    Migration(4, "remediation requests, votes, runs, recorded configuration, audit", v004_remediation.apply),
    Migration(5, "downloading count and incomplete reads on snapshots", v005_downloading_and_incomplete.apply),
    Migration(6, "AP rows stored on change, daily summaries per controller", v006_compact_history.apply),
    Migration(7, "outbox send keys: posts cut short are found, not repeated", v007_outbox_send_keys.apply),
    Migration(8, "change windows, cancelled requests, vote reasons", v008_windows_and_reasons.apply),
    Migration(
        9, "which instance drives a run; Slack signatures seen", v009_run_claims.apply, v009_run_claims.apply_postgres
    ),
)

# PostgreSQL stores begin at this version, created whole by `postgres_baseline`; every later
# migration carries its PostgreSQL form too (`Migration(..., postgres=...)`).
POSTGRES_BASELINE = 8

__all__ = ["MIGRATIONS", "POSTGRES_BASELINE", "Migration", "add_column", "run_ddl"]
