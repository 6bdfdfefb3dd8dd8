"""Per-connection message and character limits.

These live in the connection, not the shared store: a connection is served by exactly one worker,
so its own counters are exact and cost nothing. (Caps that span connections, per IP and global,
are leases in the state store.)
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable

from stream_guard.state.bucket import TokenBucket


class Admission(enum.Enum):
    OK = "ok"
    RATE_LIMITED = "rate_limited"  # answer with an error frame
    ABUSE = "abuse"  # close 1008


class MessageLimiter:
    """Token bucket per connection; ``strikes`` rate-limited messages make it abuse."""

    def __init__(self, rate_per_s: float, burst: int, strikes: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._bucket = TokenBucket.full(rate_per_s, burst, clock())
        self._clock = clock
        self._strikes_left = strikes

    def admit(self) -> Admission:
        if self._bucket.take(self._clock()):
            return Admission.OK
        self._strikes_left -= 1
        return Admission.ABUSE if self._strikes_left <= 0 else Admission.RATE_LIMITED


class CharBudget:
    """Characters of delta text a connection may send in its lifetime."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def charge(self, n: int) -> bool:
        """Charge ``n`` characters; False (and nothing charged) when that would exceed the limit."""
        if self.used + n > self.limit:
            return False
        self.used += n
        return True
