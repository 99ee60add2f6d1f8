"""The store's errors: no such row, a change the row's state does not allow, and a fenced-out instance.

Why the store's own and not sqlite-utils' or sqlite3's: callers (the chat handlers, the
remediation service) tell "not there" from "not now" without knowing how the store looks.
"""

from __future__ import annotations


class NotFoundError(LookupError):
    """No row with that id."""


class StateError(ValueError):
    """The row is not in a state that allows this change (resolving a resolved alert, ...)."""


class FencedOut(RuntimeError):
    """This instance may not change a device now: it no longer leads, or another instance
    claimed the run. Nothing was written; the run is left exactly as it was for its owner."""
