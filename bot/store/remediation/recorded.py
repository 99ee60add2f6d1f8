"""The recorded configuration: what a run found on the controller before it changed anything.

Why it is kept apart and guarded: it is what an undo restores. The schema's triggers (migration
4) refuse to alter it and refuse to delete it until it is verified, so a run can always be
undone to what the controller had before.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.store.codec import dumps, from_db_time, from_db_time_or_none, loads, to_db_time
from bot.store.db import write_tx
from bot.store.records import NotFoundError
from bot.store.remediation.audit import write_audit
from bot.store.remediation.records import RecordedRow
from bot.store.sql import Db


def save_recorded(db: Db, run_id: int, config: Mapping[str, Any], at: datetime) -> bool:
    """Store the configuration captured before the first change; the first capture wins (False if one exists)."""
    with write_tx(db):
        meta = db.execute(
            "SELECT request_id, controller, platform FROM remediation_runs WHERE id = ?", [run_id]
        ).fetchone()
        if meta is None:
            raise NotFoundError(f"no remediation run #{run_id}")
        cursor = db.execute(
            "INSERT INTO remediation_recorded_config "
            "(run_id, controller, platform, captured_at, config_json) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id) DO NOTHING",
            [run_id, meta[1], meta[2], to_db_time(at), dumps(dict(config))],
        )
        stored = cursor.rowcount == 1
        if stored:
            write_audit(
                db,
                at,
                "recorded",
                "NTP configuration and clock recorded before any change",
                request_id=meta[0],
                run_id=run_id,
                controller=meta[1],
                data={"config": dict(config)},
            )
    return stored


def get_recorded(db: Db, run_id: int) -> RecordedRow | None:
    row = db.execute(
        "SELECT run_id, controller, platform, captured_at, config_json, verified_at, verified_note "
        "FROM remediation_recorded_config WHERE run_id = ?",
        [run_id],
    ).fetchone()
    if row is None:
        return None
    return RecordedRow(
        row[0], row[1], row[2], from_db_time(row[3]), loads(row[4], {}), from_db_time_or_none(row[5]), row[6]
    )


def mark_recorded_verified(db: Db, run_id: int, at: datetime, note: str) -> None:
    """The device shows the recorded NTP configuration again (only now may the record ever be pruned)."""
    with write_tx(db):
        meta = db.execute("SELECT request_id, controller FROM remediation_runs WHERE id = ?", [run_id]).fetchone()
        db.execute(
            "UPDATE remediation_recorded_config SET verified_at = ?, verified_note = ? WHERE run_id = ?",
            [to_db_time(at), note, run_id],
        )
        write_audit(
            db,
            at,
            "verified",
            note,
            request_id=meta[0] if meta else None,
            run_id=run_id,
            controller=meta[1] if meta else None,
        )
