"""The outbox: thread notes queued for alerts in Slack, retried until delivered."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.store import (
    EventKind,
    NotFoundError,
    StateError,
    alerts,
    open_db,
    outbox,
)
from tests.store.store_factories import T0


def test_outbox_retries_until_delivered(db_path: Path) -> None:
    db = open_db(db_path)
    alert = alerts.open_alert(db, "stuck", "wlc-1", channel="C1", payload={}, now=T0)
    note = outbox.enqueue_event(db, alert.id, EventKind.THREAD_NOTE, {"text": "a2 is stuck too"}, now=T0)
    # the alert message is not in Slack yet: nothing to thread under, the note waits
    assert outbox.pending_events(db) == []
    alerts.mark_delivered(db, alert.id, "111.222", "C1", now=T0)
    update = outbox.enqueue_event(db, alert.id, "update_message", {"stuck": 2}, now=T0 + timedelta(minutes=1))

    events = outbox.pending_events(db)
    assert [(e.id, e.kind) for e in events] == [(note, EventKind.THREAD_NOTE), (update, EventKind.UPDATE_MESSAGE)]
    assert events[0].text == "a2 is stuck too" and events[1].text is None
    assert (events[0].alert_ts, events[0].alert_channel, events[0].controller) == ("111.222", "C1", "wlc-1")

    failed = outbox.mark_event_failed(db, note, RuntimeError("ratelimited; Bearer abc.def"))
    assert failed.attempts == 1 and failed.delivered_at is None
    assert failed.last_error == "RuntimeError: ratelimited; Bearer <redacted>"
    db.close()

    db = open_db(db_path)  # next check, maybe after a restart: the note is still waiting
    assert [e.id for e in outbox.pending_events(db)] == [note, update]
    assert [e.id for e in outbox.pending_events(db, limit=1)] == [note]
    done = outbox.mark_event_delivered(db, note, ts="111.333", now=T0 + timedelta(minutes=15))
    assert done.delivered_at == T0 + timedelta(minutes=15) and done.slack_ts == "111.333"
    assert done.attempts == 2 and done.last_error is None
    assert alerts.get_alert(db, alert.id).last_notified_at == T0 + timedelta(minutes=15)
    assert [e.id for e in outbox.pending_events(db)] == [update]
    with pytest.raises(StateError):
        outbox.mark_event_failed(db, note, "late failure")
    with pytest.raises(NotFoundError):
        outbox.enqueue_event(db, 999, "thread_note", {"text": "x"}, now=T0)
    db.close()


def test_a_send_key_goes_only_on_an_outbox_row(db_path: Path) -> None:
    db = open_db(db_path)
    try:
        with pytest.raises(ValueError, match="not an outbox table"):
            alerts.begin_send(db, "snapshots", 1, "key", T0)
    finally:
        db.close()
