"""At most one log line per source a minute: what keeps a cheap bad request from flooding the log.

A refusal costs whoever sends it nothing; a logged traceback per request let
anyone who can reach the bot's HTTP port fill its disk. `LogLimiter` is the
bookkeeping (the Slack request guard uses it for its refusals);
`QuietProtocolErrors` applies it to aiohttp's own log of requests it could not
even parse (a bad Content-Length, a broken chunk), which it writes with a
traceback before any handler runs.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable

# At most one warning line per source address per this many seconds ...
LOG_INTERVAL_SECONDS = 60.0
# ... and at most this many sources a minute, so a flood from many addresses
# (trivial with IPv6) is still a bounded number of lines.
MAX_LOGGED_SOURCES = 256


class LogLimiter:
    """At most one log line per source per `interval`, for at most `max_sources` sources at once.

    A refusal is cheap for whoever sends it; a logged traceback per request let
    anyone flood the log. Time is passed in, so tests need no clock.
    """

    def __init__(self, *, interval: float = LOG_INTERVAL_SECONDS, max_sources: int = MAX_LOGGED_SOURCES) -> None:
        self._interval = interval
        self._max_sources = max_sources
        self._logged_at: OrderedDict[str, float] = OrderedDict()  # oldest first

    def allow(self, source: str, now: float) -> bool:
        """Whether a line about `source` may be logged now (and, if so, start its quiet minute)."""
        while self._logged_at and next(iter(self._logged_at.values())) <= now - self._interval:
            self._logged_at.popitem(last=False)
        if source in self._logged_at or len(self._logged_at) >= self._max_sources:
            return False
        self._logged_at[source] = now
        return True


class QuietProtocolErrors(logging.Filter):
    """For aiohttp's server logger: one line per source a minute, the exception's type instead
    of its traceback (the request was not even HTTP; its details help nobody and cost disk).

    aiohttp logs "Error handling request from %s" with the peer address as the first argument;
    other records are limited under the source "unknown".
    """

    def __init__(self, limiter: LogLimiter | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._limiter = limiter if limiter is not None else LogLimiter()
        self._clock = clock

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        source = str(args[0]) if args else "unknown"
        if not self._limiter.allow(source, self._clock()):
            return False
        if record.exc_info:
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()}: {type(error).__name__}" if error is not None else record.getMessage()
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True
