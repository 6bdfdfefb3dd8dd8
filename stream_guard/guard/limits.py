"""Per-connection message and character limits.

These live in the connection, not the shared store: a connection is served by exactly one worker,
so its own counters are exact and cost nothing. (Caps that span connections, per IP and global,
are leases in the state store.)
"""

from __future__ import annotations

import enum

from stream_guard.guard.bucket import TokenBucket


class Admission(enum.Enum):
    OK = "ok"
    RATE_LIMITED = "rate_limited"  # answer with an error frame
    ABUSE = "abuse"  # close 1008


class MessageLimiter:
    """Token bucket per connection; ``strikes`` rate-limited messages make it abuse. The time
    comes from the caller (the connection's event-loop clock), as for every limit here."""

    def __init__(self, rate_per_s: float, burst: int, strikes: int, now: float) -> None:
        self._bucket = TokenBucket.full(rate_per_s, burst, now)
        self._strikes_left = strikes

    def admit(self, now: float) -> Admission:
        if self._bucket.take(now):
            return Admission.OK
        self._strikes_left -= 1
        return Admission.ABUSE if self._strikes_left <= 0 else Admission.RATE_LIMITED


class CharBudget:
    """Characters of delta text a connection may send in its lifetime."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def fits(self, n: int) -> bool:
        """Whether ``n`` more characters stay within the limit (a check before taking a delta
        that may still be refused, so that a refused delta is not charged)."""
        return self.used + n <= self.limit

    def charge(self, n: int) -> bool:
        """Charge ``n`` characters; False (and nothing charged) when that would exceed the limit."""
        if not self.fits(n):
            return False
        self.used += n
        return True


class PenaltyBox:
    """Addresses whose last connection was closed for abuse, and until when they wait.

    A connection closed for flooding messages (1008) or sending oversized frames (1009) is
    otherwise replaced at once by the next one, which gets a fresh message bucket and floods
    again: each round costs the server a handshake and a full burst of messages. Holding the
    address back for a while turns that loop into one round per penalty. Per worker (the
    connection was on this one), pure: the caller passes the time.
    """

    def __init__(self, penalty_s: float, max_entries: int = 65536) -> None:
        self.penalty_s = penalty_s
        self._max = max_entries
        self._until: dict[str, float] = {}

    def add(self, ip: str, now: float) -> None:
        if self.penalty_s <= 0:
            return
        if len(self._until) >= self._max:  # forget what has expired, then the oldest
            self._until = {k: t for k, t in self._until.items() if t > now}
            while len(self._until) >= self._max:
                del self._until[next(iter(self._until))]
        self._until.pop(ip, None)
        self._until[ip] = now + self.penalty_s

    def remaining(self, ip: str, now: float) -> float:
        """Seconds this address still waits; 0 when it may connect."""
        until = self._until.get(ip)
        if until is None:
            return 0.0
        if until <= now:
            del self._until[ip]
            return 0.0
        return until - now
