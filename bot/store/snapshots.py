"""Snapshots and their AP rows: decoding a stored snapshot, and sharing unchanged AP lists.

What the file costs grows with the fleet, not with time: AP rows are written only when a
controller's AP list changed. A snapshot whose list is exactly the previous one's (compared by
`aps_hash`, a digest of every stored field) refers to the rows of the snapshot that has them
(`aps_snapshot_id`); `snapshot_aps` answers the same either way.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.domain.models import (
    AccessPoint,
    CertificateWindow,
    ClockReading,
    ClockSource,
    ErrorKind,
    NtpServer,
    SnapshotError,
)
from bot.domain.software_fix import FixState
from bot.domain.verdict import VerdictStatus
from bot.store.codec import from_db_time, from_db_time_or_none, from_device_time, loads, to_bool
from bot.store.records import APRecord, CriticalFinding, SnapshotRecord, StuckAP
from bot.store.rows import get_row, rows_where
from bot.store.sql import Db

# The AP fields a `snapshot_aps` row holds, in the order the hash and the rows use them.
AP_FIELDS = ("name", "model", "mac", "ip", "image_version", "state", "retry_count", "location")
AP_COLUMNS = ", ".join(AP_FIELDS)
ap_values: Callable[[AccessPoint], tuple[Any, ...]] = operator.attrgetter(*AP_FIELDS)


def aps_digest(aps: Sequence[tuple[Any, ...]]) -> str:
    """A digest of AP rows as listed (every stored field, in order): equal digests, equal rows.

    The text hashed is the `repr` of the field names and the rows: the values are str,
    int or None, whose repr tells every two values apart, and it costs a fraction of JSON.
    Naming the fields means a field added to the rows later changes every digest, so new
    rows never match rows stored without it.
    """
    text = repr((AP_FIELDS, aps))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


def shared_aps_owner(db: Db, controller: str, digest: str | None) -> int | None:
    """The snapshot whose AP rows a new snapshot of `controller` with these rows can share.

    Compared with the controller's latest snapshot that has AP rows (an unreachable check in
    between lists none and changes nothing); one probe of a partial index. The owner is
    returned, never a snapshot that itself shares, so a reference is always one step.
    """
    row = db.execute(
        "SELECT id, aps_snapshot_id, aps_hash FROM snapshots WHERE controller = ? AND aps_hash IS NOT NULL "
        "ORDER BY taken_at DESC, id DESC LIMIT 1",
        [controller],
    ).fetchone()
    if row is None or digest is None or row[2] != digest:
        return None
    return int(row[1] if row[1] is not None else row[0])


def snapshot_record(row: Mapping[str, Any]) -> SnapshotRecord:
    """A `snapshots` row decoded: JSON columns parsed, times tz-aware (device times as recorded)."""
    clock = None
    if row["clock_time"] is not None:
        clock = ClockReading(
            time=from_device_time(row["clock_time"]),
            source=ClockSource(row["clock_source"] or ClockSource.UNKNOWN),
            authoritative=to_bool(row["clock_authoritative"]),
            synced=to_bool(row["clock_synced"]),
            timezone=row["clock_timezone"],
            raw=row["clock_raw"] or "",
        )
    certificate = None
    if row["cert_not_before"] is not None and row["cert_not_after"] is not None:
        certificate = CertificateWindow(
            not_before=from_device_time(row["cert_not_before"]),
            not_after=from_device_time(row["cert_not_after"]),
            name=row["cert_name"],
            subject=row["cert_subject"],
        )
    ntp = tuple(
        NtpServer(**{**n, "options": tuple(n.get("options") or ())}) for n in loads(row["ntp_servers_json"], [])
    )
    errors = tuple(
        SnapshotError(ErrorKind(e["kind"]), e["message"], e.get("command")) for e in loads(row["errors_json"], [])
    )
    return SnapshotRecord(
        id=row["id"],
        check_run_id=row["check_run_id"],
        controller=row["controller"],
        site=row["site"],
        platform=row["platform"],
        host=row["host"],
        taken_at=from_db_time(row["taken_at"]),
        software_version=row["software_version"],
        apsps=tuple(loads(row["apsps_json"], [])),
        clock=clock,
        ntp_servers=ntp,
        certificate=certificate,
        errors=errors,
        aps_read=bool(row["aps_read"]),
        status=VerdictStatus(row["status"]),
        total_aps=row["total_aps"],
        affected_count=row["affected_count"],
        likely_affected_count=row["likely_affected_count"],
        not_affected_count=row["not_affected_count"],
        unknown_model_count=row["unknown_model_count"],
        at_risk_count=row["at_risk_count"],
        stuck_count=row["stuck_count"],
        downloading_count=row["downloading_count"],
        incomplete=tuple(loads(row["incomplete_json"], [])),
        risks=tuple(loads(row["risks_json"], [])),
        stuck_aps=tuple(
            StuckAP(a["name"], a.get("model"), from_db_time_or_none(a.get("since")))
            for a in loads(row["stuck_aps_json"], [])
        ),
        fix_state=FixState(row["fix_state"]) if row["fix_state"] else None,
        recommendation=row["recommendation"],
        critical=tuple(CriticalFinding(c["code"], c["text"]) for c in loads(row["critical_json"], [])),
    )


def get_snapshot(db: Db, snapshot_id: int) -> SnapshotRecord:
    """One snapshot by id (`NotFoundError` without it)."""
    return snapshot_record(get_row(db, "snapshots", snapshot_id, f"no snapshot {snapshot_id}"))


def check_snapshots(db: Db, run_id: int) -> list[SnapshotRecord]:
    """The snapshots of one check run, by controller name."""
    rows = rows_where(db, "snapshots", "check_run_id = ?", [run_id], order_by="controller")
    return [snapshot_record(r) for r in rows]


def snapshot_aps(db: Db, snapshot_id: int) -> list[APRecord]:
    """The AP rows of one snapshot, in the order the controller listed them.

    Rows shared with an earlier snapshot (an unchanged AP list) are read from that
    snapshot and come back as this one's: the answer is what was recorded for it.
    """
    rows = db.execute(
        f"SELECT ?, controller, {AP_COLUMNS} FROM snapshot_aps "
        "WHERE snapshot_id = (SELECT coalesce(aps_snapshot_id, id) FROM snapshots WHERE id = ?) ORDER BY rowid",
        [snapshot_id, snapshot_id],
    )
    return [APRecord(*r) for r in rows]
