"""The remediation audit: one append-only log of everything a request and its runs did.

Why append-only, enforced by the schema (migration 4 has triggers refusing UPDATE and DELETE):
the audit is the evidence of who approved what and what was changed on a controller, so no
code path, buggy or not, may rewrite it. Every state change appends its entry in the same
transaction (`write_audit`), so the audit never misses one that happened.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.store.codec import dumps, from_db_time, loads, to_db_time
from bot.store.db import write_tx
from bot.store.remediation.records import AuditEntry
from bot.store.sql import Db


def write_audit(
    db: Db,
    at: datetime,
    kind: str,
    text: str,
    *,
    request_id: int | None = None,
    run_id: int | None = None,
    controller: str | None = None,
    actor: str | None = None,
    step: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> int:
    cursor = db.execute(
        "INSERT INTO remediation_audit (at, request_id, run_id, controller, kind, actor, step, text, data_json) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [to_db_time(at), request_id, run_id, controller, kind, actor, step, text, dumps(dict(data or {}))],
    )
    return int(cursor.fetchone()[0])


def append_audit(db: Db, at: datetime, kind: str, text: str, **context: Any) -> int:
    """Append one audit entry (its own transaction). The caller redacts secrets first."""
    with write_tx(db):
        return write_audit(db, at, kind, text, **context)


def _audit_entry(row: sqlite3.Row | tuple[Any, ...]) -> AuditEntry:
    (id_, at, request_id, run_id, controller, kind, actor, step, text, data) = row
    return AuditEntry(id_, from_db_time(at), kind, text, request_id, run_id, controller, actor, step, loads(data, {}))


_AUDIT_COLUMNS = "id, at, request_id, run_id, controller, kind, actor, step, text, data_json"


def audit_for_request(db: Db, request_id: int) -> list[AuditEntry]:
    """Every entry of a request and of its runs, oldest first."""
    rows = db.execute(
        f"SELECT {_AUDIT_COLUMNS} FROM remediation_audit WHERE request_id = ? "
        "OR run_id IN (SELECT id FROM remediation_runs WHERE request_id = ?) ORDER BY id",
        [request_id, request_id],
    ).fetchall()
    return [_audit_entry(r) for r in rows]


def audit_for_run(db: Db, run_id: int) -> list[AuditEntry]:
    rows = db.execute(
        f"SELECT {_AUDIT_COLUMNS} FROM remediation_audit WHERE run_id = ? ORDER BY id", [run_id]
    ).fetchall()
    return [_audit_entry(r) for r in rows]
