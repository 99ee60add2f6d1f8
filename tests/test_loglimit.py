"""`bot.loglimit`: a bounded number of lines, whatever is sent."""

from __future__ import annotations

import logging

from bot.loglimit import LogLimiter, QuietProtocolErrors


def test_log_limiter_allows_one_line_per_source_per_minute_for_a_bounded_number_of_sources() -> None:
    limiter = LogLimiter(interval=60, max_sources=2)
    assert limiter.allow("10.0.0.1", now=0)
    assert not limiter.allow("10.0.0.1", now=59)
    assert limiter.allow("10.0.0.2", now=1)
    assert not limiter.allow("10.0.0.3", now=2)  # full: a flood from many addresses stays bounded
    assert limiter.allow("10.0.0.1", now=60)
    assert limiter.allow("10.0.0.3", now=62)  # 10.0.0.2's minute is over, which makes room


def test_protocol_errors_lose_their_traceback_and_are_limited_per_source() -> None:
    now = [0.0]
    quiet = QuietProtocolErrors(LogLimiter(interval=60, max_sources=10), clock=lambda: now[0])

    def record(source: str) -> logging.LogRecord:
        try:
            raise ValueError("Content-Length: abc")
        except ValueError as error:
            return logging.LogRecord(
                "aiohttp.server",
                logging.ERROR,
                __file__,
                1,
                "Error handling request from %s",
                (source,),
                (type(error), error, error.__traceback__),
            )

    first = record("10.0.0.1")
    assert quiet.filter(first)
    assert first.exc_info is None and first.levelno == logging.WARNING
    assert first.getMessage() == "Error handling request from 10.0.0.1: ValueError"
    assert not quiet.filter(record("10.0.0.1"))  # the same source within the minute: dropped
    assert quiet.filter(record("10.0.0.2"))
    now[0] = 61
    assert quiet.filter(record("10.0.0.1"))
