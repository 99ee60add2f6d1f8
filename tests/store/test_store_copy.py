"""`copy_store`: every row of every table moves between SQLite and PostgreSQL, ids and order kept.

Why these tests compare raw rows and also ask the store's own readers: equal rows prove nothing
was lost or changed in transit; the readers prove the copy means the same to the bot (shared
AP rows resolved, targets in the order written, the audit of a request).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.store import alerts, digests, open_db, outbox, signatures
from bot.store import remediation as q
from bot.store import snapshots as snapshots_store
from bot.store.copy import BATCH_ROWS, StoreCopyError, copy_store, data_tables, same_target
from bot.store.db import connect, schema_version, write_tx
from bot.store.migrations import MIGRATIONS
from bot.store.sql import Db, IntegrityError, column_names, is_postgres
from tests.store.store_factories import NOT_AFFECTED, T0, ap, record, snap, unreachable

PLAN = {
    "name": "pb",
    "steps": [
        {"id": "record", "action": "capture_time_config", "title": "record", "undo": None},
        {"id": "apply", "action": "set_ntp", "title": "apply", "changes": True, "undo": {"action": "restore"}},
    ],
}


@dataclass(frozen=True)
class Story:
    checks: list[int]
    request_id: int
    run_id: int
    audit_ids: list[int]


def populate(db: Db) -> Story:
    """A store with something in every table, through the store's own writers."""
    aps = [ap("a1", state="Downloading"), ap("a2", model=NOT_AFFECTED), ap("a3")]
    checks = [
        record(db, [snap("wlc-9", at=T0 - timedelta(hours=1), aps=[ap("x1"), ap("x2")])]),
        record(db, [snap("wlc-1", at=T0, aps=aps), unreachable("wlc-2", at=T0)]),
        # the same AP list again: its snapshot shares the first one's AP rows
        record(db, [snap("wlc-1", at=T0 + timedelta(hours=6), aps=aps), snap("wlc-2", at=T0 + timedelta(hours=6))]),
        record(db, [snap("wlc-1", at=T0 + timedelta(days=1), aps=[ap("a3"), ap("a1")])]),
    ]
    with write_tx(db):  # rowids with a gap, as pruning leaves them: a copy must keep them, not renumber
        db.execute("DELETE FROM snapshot_aps WHERE controller = 'wlc-9'")
    alert = alerts.open_alert(db, "stuck", "wlc-1", channel="C1", payload={"stuck": ["a1"]}, site="hq", now=T0)
    alerts.mark_delivered(db, alert.id, "111.222", "C1", now=T0)
    outbox.enqueue_event(db, alert.id, "thread_note", {"text": "a1 is stuck"}, now=T0)
    outbox.enqueue_event(db, alert.id, "update_message", {"stuck": 1}, now=T0 + timedelta(minutes=1))
    digests.record_digest(db, "2024-05-01", channel="C1", ts="1.2", summary={"stuck": 1}, sent_at=T0)
    # a Slack signature accepted a moment ago (kept until its five minutes are over)
    signatures.remember_signature(db, "v0=" + "5" * 64, expires_at=T0.timestamp() + 300, now=T0.timestamp())
    request_id = q.insert_request(
        db,
        site="hq",
        requester="UREQ",
        created_at=T0,
        expires_at=T0 + timedelta(hours=1),
        required_approvals=2,
        channel="C1",
        view={"title": "fix hq"},
        # not in alphabetical order: the store reads targets in the order written (rowid)
        targets=[
            {"controller": "wlc-2", "platform": "aireos", "playbook": "pb", "params": {"ntp": "10.0.0.1"}},
            {"controller": "wlc-1", "platform": "iosxe", "playbook": "pb", "params": {}},
        ],
    )
    common = {"at": T0, "counted": True, "reason": "ok", "expected_status": "pending", "new_status": "pending"}
    q.record_vote(db, request_id, user_id="UA", vote="approve", **common)
    q.record_vote(db, request_id, user_id="UB", vote="approve", comment="looks right, go", **common)
    run_id = q.create_run(
        db,
        request_id=request_id,
        controller="wlc-1",
        site="hq",
        platform="iosxe",
        host="192.0.2.1",
        port=22,
        credentials={"username_env": "U", "password_env": "P"},
        playbook="pb",
        plan=PLAN,
        params={},
        created_at=T0,
    )
    q.set_run_status(db, run_id, "running", T0)
    q.step_started(db, run_id, 0, T0)
    q.step_finished(db, run_id, 0, "done", T0 + timedelta(seconds=3), result={"ok": True})
    q.save_recorded(db, run_id, {"ntp_servers": [{"address": "192.0.2.123"}]}, T0)
    audit_ids = [q.append_audit(db, T0, "note", "hello", actor="UA", request_id=request_id)]
    return Story(checks, request_id, run_id, audit_ids)


def order_key(db: Db, table: str) -> str:
    """Rows in a stable order on either backend: by rowid where the table has one the store uses,
    else its primary key."""
    columns = column_names(db, table)
    if table in ("snapshot_aps", "remediation_targets"):
        return "rowid"
    if "id" in columns:
        return "id"
    keys = {
        "ap_state": "controller, ap_name",
        "controller_days": "controller, day",
        "remediation_run_steps": "run_id, idx",
        "remediation_recorded_config": "run_id",
        "slack_signatures": "digest",
    }
    return keys[table]


def rows(db: Db, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    wanted = ", ".join(c if c == "rowid" else f'"{c}"' for c in columns)
    return [tuple(r) for r in db.execute(f'SELECT {wanted} FROM "{table}" ORDER BY {order_key(db, table)}')]


def compared_columns(a: Db, b: Db, table: str) -> list[str]:
    """The columns both sides have, plus `rowid` where the store orders by it (implicit on SQLite)."""
    shared = [c for c in column_names(a, table) if c in column_names(b, table) and c != "rowid"]
    return shared + (["rowid"] if table in ("snapshot_aps", "remediation_targets") else [])


def assert_same_rows(a: Db, b: Db) -> dict[str, int]:
    assert data_tables(a) == data_tables(b)
    counts = {}
    for table in data_tables(a):
        columns = compared_columns(a, b, table)
        left, right = rows(a, table, columns), rows(b, table, columns)
        assert left == right, table
        counts[table] = len(left)
    return counts


@pytest.fixture
def sqlite_source(db_path: Path) -> Iterator[tuple[Db, Story]]:
    db = open_db(db_path)
    story = populate(db)
    yield db, story
    db.close()


def test_every_row_of_every_table_reaches_postgresql_and_comes_back(
    sqlite_source: tuple[Db, Story], empty_postgres_url: str, tmp_path: Path
) -> None:
    lite, story = sqlite_source
    source = connect(lite_path(lite), read_only=True)
    pg = open_db(empty_postgres_url)
    try:
        result = copy_store(source, pg)
        counts = assert_same_rows(lite, pg)
        assert result.tables == counts and result.total == sum(counts.values())
        order = list(result.tables)  # parents first
        assert order.index("check_runs") < order.index("snapshots")
        assert order.index("snapshots") < order.index("snapshot_aps")
        assert order.index("remediation_runs") < order.index("remediation_run_steps")
        assert order.index("alerts") < order.index("alert_events")
        # something in every table, so every table was really tested
        assert all(counts.values()), counts
        assert lite.execute("SELECT min(rowid) FROM snapshot_aps").fetchone()[0] > 1
        shared = lite.execute("SELECT count(*) FROM snapshots WHERE aps_snapshot_id IS NOT NULL").fetchone()[0]
        assert shared >= 1

        # the store's readers answer the same on both sides
        for run in story.checks:
            for s in snapshots_store.check_snapshots(lite, run):
                assert snapshots_store.get_snapshot(pg, s.id) == s
                assert snapshots_store.snapshot_aps(pg, s.id) == snapshots_store.snapshot_aps(lite, s.id)
        assert q.get_request(pg, story.request_id) == q.get_request(lite, story.request_id)
        assert [t.controller for t in q.get_request(pg, story.request_id).targets] == ["wlc-2", "wlc-1"]
        assert any(v.comment == "looks right, go" for v in q.get_request(pg, story.request_id).votes)
        assert q.audit_for_request(pg, story.request_id) == q.audit_for_request(lite, story.request_id)
        assert q.get_run(pg, story.run_id) == q.get_run(lite, story.run_id)
        assert q.get_recorded(pg, story.run_id) == q.get_recorded(lite, story.run_id)

        # new rows get new ids, past the copied ones (the identities moved)
        highest_audit = pg.execute("SELECT max(id) FROM remediation_audit").fetchone()[0]
        assert q.append_audit(pg, T0, "note", "after the copy") > highest_audit
        highest_check = pg.execute("SELECT max(id) FROM check_runs").fetchone()[0]
        assert record(pg, [snap("wlc-1", at=T0 + timedelta(days=2), aps=[ap("z9")])]) > highest_check
        highest_rowid = pg.execute("SELECT max(rowid) FROM snapshot_aps").fetchone()[0]
        record(pg, [snap("wlc-3", at=T0 + timedelta(days=2), aps=[ap("n1")])])
        assert pg.execute("SELECT count(*) FROM snapshot_aps WHERE rowid > ?", [highest_rowid]).fetchone()[0] == 1
        request = q.insert_request(
            pg,
            site="lab",
            requester="UREQ",
            created_at=T0,
            expires_at=T0 + timedelta(hours=1),
            required_approvals=1,
            channel="C1",
            view={},
            targets=[{"controller": "wlc-7", "platform": "aireos", "playbook": "pb", "params": {}}],
        )
        assert request > story.request_id

        # the guards hold on the copy
        with pytest.raises(IntegrityError, match="append-only"):
            pg.execute("UPDATE remediation_audit SET text = 'changed' WHERE id = ?", [story.audit_ids[0]])
        with pytest.raises(IntegrityError, match="append-only"):
            pg.execute("DELETE FROM remediation_audit")

        # round trip: that PostgreSQL store into a new SQLite file
        back_path = tmp_path / "back.db"
        back = open_db(back_path)
        pg_source = connect(empty_postgres_url, read_only=True)
        try:
            again = copy_store(pg_source, back)
            assert again.tables == assert_same_rows(pg, back)
            assert q.get_request(back, story.request_id) == q.get_request(lite, story.request_id)
            for run in story.checks:
                for s in snapshots_store.check_snapshots(lite, run):
                    assert snapshots_store.snapshot_aps(back, s.id) == snapshots_store.snapshot_aps(lite, s.id)
            # SQLite kept PostgreSQL's rowids, so the round trip gives back the original ones
            columns = compared_columns(lite, back, "snapshot_aps")
            assert rows(back, "snapshot_aps", columns)[: counts["snapshot_aps"]] == rows(lite, "snapshot_aps", columns)
            assert back.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            pg_source.close()
            back.close()
    finally:
        source.close()
        pg.close()


def lite_path(db: Db) -> str:
    return str(db.execute("PRAGMA database_list").fetchone()[2])


def test_large_tables_move_in_batches(db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """More AP rows than one batch (a small batch here), every one copied once, in order."""
    lite = open_db(db_path)
    many = [ap(f"ap{n:03d}", state="Registered") for n in range(23)]
    record(lite, [snap("wlc-1", aps=many)])
    record(lite, [snap("wlc-1", at=T0 + timedelta(hours=1), aps=many[::-1])])
    dest = open_db(tmp_path / "dest.db")
    source = connect(db_path, read_only=True)
    try:
        result = copy_store(source, dest, batch_rows=5)
        assert result.tables["snapshot_aps"] == 46
        assert_same_rows(lite, dest)
    finally:
        source.close()
        dest.close()
        lite.close()
    assert BATCH_ROWS >= 1000


def test_a_destination_with_data_is_refused_and_left_alone(sqlite_source: tuple[Db, Story], postgres_url: str) -> None:
    lite, _ = sqlite_source
    pg = open_db(postgres_url)
    source = connect(lite_path(lite), read_only=True)
    try:
        alerts.open_alert(pg, "stuck", "wlc-9", channel="C9", payload={}, now=T0)
        before = {t: pg.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in data_tables(pg)}
        with pytest.raises(StoreCopyError, match=r"already holds data \(table alerts is not empty\)"):
            copy_store(source, pg)
        after = {t: pg.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in data_tables(pg)}
        assert after == before
        assert not pg.conn.in_transaction
    finally:
        source.close()
        pg.close()


def test_an_older_source_is_refused_with_the_command_to_run(tmp_path: Path, empty_postgres_url: str) -> None:
    old_path = tmp_path / "old.db"
    old = open_db(old_path, MIGRATIONS[:7])
    old.execute("INSERT INTO check_runs (trigger, started_at) VALUES ('scheduled', '2024-05-01T09:00:00Z')")
    old.close()
    source = connect(old_path, read_only=True)
    pg = open_db(empty_postgres_url)
    try:
        with pytest.raises(StoreCopyError, match=r"schema version 7.*ccert-bot db migrate"):
            copy_store(source, pg)
        assert all(pg.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] == 0 for t in data_tables(pg))
    finally:
        source.close()
        pg.close()
    reopened = connect(old_path, read_only=True)
    try:
        assert schema_version(reopened) == 7  # never migrated by the copy
        assert reopened.execute("SELECT count(*) FROM check_runs").fetchone()[0] == 1
    finally:
        reopened.close()


def test_a_failed_insert_rolls_the_whole_copy_back(sqlite_source: tuple[Db, Story], empty_postgres_url: str) -> None:
    """A row the destination refuses (here: a trigger added for the test) leaves every table empty."""
    lite, _ = sqlite_source
    pg = open_db(empty_postgres_url)
    assert is_postgres(pg)
    pg.execute(
        "CREATE TRIGGER refuse_digests BEFORE INSERT ON digests "
        "FOR EACH ROW EXECUTE FUNCTION ccert_refuse('no digests here')"
    )
    source = connect(lite_path(lite), read_only=True)
    try:
        with pytest.raises(StoreCopyError, match=r"rolled back.*no digests here"):
            copy_store(source, pg)
        assert all(pg.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] == 0 for t in data_tables(pg))
    finally:
        source.close()
        pg.close()


def test_same_target() -> None:
    assert same_target("ccert.db", "./ccert.db")
    assert not same_target("ccert.db", "other.db")
    assert same_target("postgresql://a@127.0.0.1:5432/ccert", "postgresql://b@localhost/ccert")
    assert not same_target("postgresql://a@db1/ccert", "postgresql://a@db2/ccert")
    assert not same_target("ccert.db", "postgresql://a@db1/ccert.db")
