"""The stuck rule's memory (`ap_state`): since when each AP has been in its current state.

Updated in the same transaction as the snapshot it comes from (`checks.record_check`). Rules:

* an AP keeps its `state_since` while its state stays the same (compared
  case- and space-insensitively) across checks; a new state starts a new
  `state_since` at the snapshot's `taken_at`;
* an AP listed without a state (the table did not say) keeps what it had;
* an AP missing from a snapshot whose AP list was read is gone: its row is
  deleted, so if it comes back its timer starts again;
* a controller whose APs were not read (unreachable, or read only partly:
  verdict status `error`) leaves its APs' rows untouched, so an outage or a
  failed command never resets a stuck timer. This is the rule of
  `ap_data_known` in the alert rules, so both agree on what a gap means.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import AccessPoint, ControllerSnapshot
from bot.store.codec import from_db_time, to_db_time
from bot.store.records import APState
from bot.store.sql import Db, execute_many


def _state_key(state: str | None) -> str:
    return (state or "").strip().lower()


def track_ap_states(db: Db, snapshot: ControllerSnapshot, complete: bool = True) -> dict[str, str]:
    """Update `ap_state` from a snapshot whose AP list was read; returns name -> state_since text.

    An incomplete list (`read 37 of 4,135 APs`) updates the APs it shows but forgets none:
    an AP missing from it was not seen elsewhere, and dropping it would restart its
    Downloading timer."""
    taken = to_db_time(snapshot.taken_at, "snapshot taken_at")
    known = {
        r[0]: (r[1], r[2])
        for r in db.execute("SELECT ap_name, state, state_since FROM ap_state WHERE controller = ?", [snapshot.name])
    }
    seen: dict[str, AccessPoint] = {ap.name: ap for ap in snapshot.aps}
    rows = []
    since: dict[str, str] = {}
    for name, ap in seen.items():
        state, started = ap.state, taken
        if name in known:
            old_state, old_since = known[name]
            if state is None:  # listed without a state: nothing learned, keep the timer
                state, started = old_state, old_since
            elif _state_key(state) == _state_key(old_state):
                started = old_since
        since[name] = started
        rows.append((snapshot.name, name, state, started, taken))
    # SQL, not `upsert_all`: a large controller lists thousands of APs every check, and this
    # one statement stepped per row is what keeps that write cheap.
    execute_many(
        db,
        "INSERT INTO ap_state (controller, ap_name, state, state_since, last_seen) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (controller, ap_name) DO UPDATE SET "
        "state = excluded.state, state_since = excluded.state_since, last_seen = excluded.last_seen",
        rows,
    )
    execute_many(
        db,
        "DELETE FROM ap_state WHERE controller = ? AND ap_name = ?",
        [(snapshot.name, name) for name in known.keys() - seen.keys()] if complete else [],
    )
    return since


def ap_states(db: Db, controller: str) -> list[APState]:
    """The stuck rule's memory for one controller, by AP name."""
    rows = db.execute(
        "SELECT controller, ap_name, state, state_since, last_seen FROM ap_state WHERE controller = ? ORDER BY ap_name",
        [controller],
    )
    return [APState(c, n, st, from_db_time(since), from_db_time(seen)) for c, n, st, since, seen in rows]


def downloading_since(db: Db, controller: str) -> dict[str, datetime]:
    """AP name -> when it was first seen Downloading (or Predownloading), continuously."""
    return {
        s.ap_name: s.state_since
        for s in ap_states(db, controller)
        if AccessPoint(s.ap_name, state=s.state).is_downloading
    }
