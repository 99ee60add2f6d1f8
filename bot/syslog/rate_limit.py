"""Per-sender rate limiting for the syslog receiver.

Its own module because it is plain bookkeeping (no sockets, no loop): one noisy device
must not fill the receiver's queue and hide the APs' lines, and a flood of spoofed
sources must not grow memory. The listener asks `allow(sender)` once per message.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class SenderRateLimiter:
    """Token bucket per sender IP, in a bounded LRU (a spoofed-source flood only
    evicts buckets, it cannot grow the table)."""

    def __init__(
        self, rate: float, burst: float, max_senders: int = 4096, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.max_senders = max_senders
        self.clock = clock
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()

    def allow(self, sender: str) -> bool:
        now = self.clock()
        bucket = self._buckets.get(sender)
        if bucket is None:
            self._buckets[sender] = [self.burst - 1.0, now]
            if len(self._buckets) > self.max_senders:
                self._buckets.popitem(last=False)
            return True
        self._buckets.move_to_end(sender)
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return True
        bucket[0] = tokens
        return False

    def __len__(self) -> int:
        return len(self._buckets)


__all__ = ["SenderRateLimiter"]
