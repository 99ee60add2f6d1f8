"""The Slack request signatures every instance accepted: a replay is refused whichever instance it reaches.

Why in the store: one instance refuses a replay from its own memory (`bot.slack.request_guard`),
but behind a load balancer the replay may go to the other one. Only a SHA-256 digest of each
signature is written, and only until its timestamp leaves Slack's five-minute window; the
expired ones go with the next write, so the table holds at most five minutes of requests.
"""

from __future__ import annotations

import hashlib

from bot.store.db import write_tx
from bot.store.sql import Db


def signature_digest(signature: str) -> str:
    return hashlib.sha256(signature.encode("ascii", "replace")).hexdigest()


def remember_signature(db: Db, signature: str, expires_at: float, now: float) -> bool:
    """True the first time any instance accepts `signature`; False for a replay."""
    with write_tx(db):
        db.execute("DELETE FROM slack_signatures WHERE expires_at < ?", [float(now)])
        row = db.execute(
            "INSERT INTO slack_signatures (digest, expires_at) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING "
            "RETURNING digest",
            [signature_digest(signature), float(expires_at)],
        ).fetchone()
    return row is not None


def signatures_kept(db: Db) -> int:
    return int(db.execute("SELECT count(*) FROM slack_signatures").fetchone()[0])
