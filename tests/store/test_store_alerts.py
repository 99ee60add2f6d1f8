"""Alerts: lifecycle, delivery states, dedupe lookups, the send key recorded before a post."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlite_utils import Database

from bot.store import (
    AlertKind,
    AlertStatus,
    Delivery,
    EventKind,
    NotFoundError,
    StateError,
    alerts,
    outbox,
)
from bot.store.codec import ERROR_LIMIT
from tests.store.store_factories import T0

PAYLOAD = {
    "stuck_aps": [{"name": "a1", "model": "AIR-CAP3702I-E-K9", "since": T0}],
    "software": "17.3.4",
    "fixed": False,
    "recommendation": "IOS-XE 17.3.6 with APSP7",
}


def test_alert_lifecycle_with_delivery_retry(db: Database) -> None:
    alert = alerts.open_alert(db, AlertKind.STUCK, "wlc-1", site="hq", channel="C-ALERTS", payload=PAYLOAD, now=T0)
    assert (alert.status, alert.delivery, alert.attempts) == (AlertStatus.OPEN, Delivery.PENDING, 0)
    assert alert.opened_at == alert.updated_at == T0
    assert alert.payload["stuck_aps"][0]["since"] == "2024-05-01T09:00:00.000000+00:00"
    assert alerts.get_open_alert(db, "wlc-1", "stuck") == alert
    assert alerts.get_open_alert(db, "wlc-1", "unreachable") is None
    assert alerts.alerts_pending_delivery(db) == [alert]

    with pytest.raises(StateError, match="already open"):
        alerts.open_alert(db, "stuck", "wlc-1", channel="C-ALERTS", payload={}, now=T0)

    # Slack is down: the failure is kept short and free of the token
    secret_error = "invalid_auth for token xoxb-1234-5678-abcdefSECRET; password=hunter2 " + "x" * 1000
    failed = alerts.mark_delivery_failed(db, alert.id, secret_error, now=T0 + timedelta(minutes=1))
    assert (failed.delivery, failed.attempts) == (Delivery.FAILED, 1)
    assert failed.last_error is not None and len(failed.last_error) <= ERROR_LIMIT
    assert "SECRET" not in failed.last_error and "hunter2" not in failed.last_error
    assert "invalid_auth" in failed.last_error
    assert failed.last_notified_at is None
    assert [a.id for a in alerts.alerts_pending_delivery(db)] == [alert.id]  # retried next check

    delivered = alerts.mark_delivered(db, alert.id, "1714554000.000100", "C0ALERTS", now=T0 + timedelta(minutes=15))
    assert (delivered.delivery, delivered.attempts, delivered.last_error) == (Delivery.DELIVERED, 2, None)
    assert (delivered.slack_ts, delivered.slack_channel) == ("1714554000.000100", "C0ALERTS")
    assert delivered.last_notified_at == T0 + timedelta(minutes=15)
    assert alerts.alerts_pending_delivery(db) == []

    updated = alerts.update_alert_payload(db, alert.id, {**PAYLOAD, "stuck_aps": []}, now=T0 + timedelta(minutes=30))
    assert updated.payload["stuck_aps"] == [] and updated.updated_at == T0 + timedelta(minutes=30)
    assert updated.delivery is Delivery.DELIVERED

    resolved = alerts.resolve_alert(db, alert.id, payload={"resolved": True}, now=T0 + timedelta(hours=1))
    assert resolved.status is AlertStatus.RESOLVED and resolved.resolved_at == T0 + timedelta(hours=1)
    assert resolved.payload == {"resolved": True}
    assert alerts.get_open_alert(db, "wlc-1", "stuck") is None
    assert alerts.last_resolved_alert(db, "wlc-1", "stuck") == resolved
    with pytest.raises(StateError):
        alerts.resolve_alert(db, alert.id)


def test_flapping_lookup_finds_the_latest_resolved(db: Database) -> None:
    first = alerts.open_alert(db, "unreachable", "wlc-1", channel="C1", payload={}, now=T0)
    alerts.resolve_alert(db, first.id, now=T0 + timedelta(minutes=15))
    second = alerts.open_alert(db, "unreachable", "wlc-1", channel="C1", payload={}, now=T0 + timedelta(minutes=30))
    assert second.id != first.id  # a new incident after the first resolved
    assert alerts.last_resolved_alert(db, "wlc-1", "unreachable").id == first.id  # type: ignore[union-attr]
    alerts.resolve_alert(db, second.id, now=T0 + timedelta(minutes=45))
    assert alerts.last_resolved_alert(db, "wlc-1", "unreachable").id == second.id  # type: ignore[union-attr]
    assert alerts.last_resolved_alert(db, "wlc-1", "stuck") is None
    assert alerts.last_resolved_alert(db, "wlc-2", "unreachable") is None


def test_open_alerts_and_unknown_ids(db: Database) -> None:
    a = alerts.open_alert(db, "stuck", "wlc-1", channel="C1", payload={}, now=T0)
    b = alerts.open_alert(db, "unreachable", "wlc-2", channel="C1", payload={}, now=T0 + timedelta(seconds=1))
    assert [x.id for x in alerts.open_alerts(db)] == [a.id, b.id]
    assert [x.id for x in alerts.open_alerts(db, "unreachable")] == [b.id]
    with pytest.raises(NotFoundError):
        alerts.mark_delivered(db, 999, "1.2", "C1", now=T0)
    with pytest.raises(ValueError):
        alerts.open_alert(db, "not-a-kind", "wlc-1", channel="C1", payload={}, now=T0)


def test_resolved_before_delivery_is_still_pending(db: Database) -> None:
    """An incident that came and went while Slack was unreachable is still reported."""
    alert = alerts.open_alert(db, "stuck", "wlc-1", channel="C1", payload={}, now=T0)
    alerts.mark_delivery_failed(db, alert.id, "timeout", now=T0)
    alerts.resolve_alert(db, alert.id, now=T0 + timedelta(minutes=15))
    [pending] = alerts.alerts_pending_delivery(db)
    assert pending.id == alert.id and pending.status is AlertStatus.RESOLVED


def test_default_now_is_aware_utc(db: Database) -> None:
    with time_machine.travel(datetime(2024, 6, 1, 12, 0, tzinfo=T0.tzinfo), tick=False):
        alert = alerts.open_alert(db, "stuck", "wlc-1", channel="C1", payload={})
    assert alert.opened_at == datetime(2024, 6, 1, 12, 0, tzinfo=T0.tzinfo)
    with pytest.raises(ValueError, match="naive"):
        alerts.open_alert(db, "unreachable", "wlc-1", channel="C1", payload={}, now=datetime(2024, 6, 1))


# --- outbox ------------------------------------------------------------------------------------


# --- digests -----------------------------------------------------------------------------------


def test_a_send_is_recorded_before_it_is_made_and_keeps_its_first_key(db: Database) -> None:
    alert = alerts.open_alert(db, AlertKind.STUCK, "wlc-1", channel="C1", payload=PAYLOAD, now=T0)
    assert not alert.maybe_posted and alert.send_key is None
    first = alerts.mark_sending(db, alert.id, "key-one", now=T0 + timedelta(seconds=1))
    assert first.maybe_posted and (first.send_key, first.sending_since) == ("key-one", T0 + timedelta(seconds=1))
    assert first.delivery is Delivery.PENDING  # still owed: the row says "look before posting"
    # A later attempt (after a failure or a restart) keeps the key the first one may have posted with.
    alerts.mark_delivery_failed(db, alert.id, "network: TimeoutError")
    again = alerts.mark_sending(db, alert.id, "key-two", now=T0 + timedelta(minutes=5))
    assert (again.send_key, again.sending_since) == ("key-one", T0 + timedelta(seconds=1))
    delivered = alerts.mark_delivered(db, alert.id, "1714554000.000100", "C1")
    assert not delivered.maybe_posted and delivered.send_key == "key-one"
    with pytest.raises(StateError, match="already in Slack"):
        alerts.mark_sending(db, alert.id, "key-three")

    event_id = outbox.enqueue_event(db, alert.id, EventKind.THREAD_NOTE, {"text": "AP2 joined the stuck list"}, now=T0)
    note = outbox.mark_event_sending(db, event_id, "note-key", now=T0)
    assert note.maybe_posted and outbox.mark_event_sending(db, event_id, "other", now=T0).send_key == "note-key"
    assert [e.id for e in outbox.pending_events(db)] == [event_id]
    outbox.mark_event_delivered(db, event_id, ts="1714554000.000200")
    assert not outbox.get_event(db, event_id).maybe_posted
    with pytest.raises(StateError, match="already delivered"):
        outbox.mark_event_sending(db, event_id, "late")
