"""The store's two errors: no such row, and a change the row's state does not allow.

Why the store's own and not sqlite-utils' or sqlite3's: callers (the chat handlers, the
remediation service) tell "not there" from "not now" without knowing how the store looks.
"""

from __future__ import annotations


class NotFoundError(LookupError):
    """No row with that id."""


class StateError(ValueError):
    """The row is not in a state that allows this change (resolving a resolved alert, ...)."""
