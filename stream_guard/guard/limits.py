"""Per-connection message and character limits.

These live in the connection, not the shared store: a connection is served by exactly one worker,
so its own counters are exact and cost nothing. (Caps that span connections, per IP and global,
are leases in the state store.)
"""

from __future__ import annotations

import enum
from collections.abc import Callable

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


class HeadsInProgress:
    """Request heads begun and not yet whole, by client address and in all.

    The handshake rate and the connection caps are judged on a whole head, so a client that
    opens sockets and trickles a head into each is counted by neither until its heads time
    out (``handshake_timeout_s``): a review held 4,556 unfinished heads from one address, the
    server's memory 337 MB -> 1 GB. A socket past either bound is closed as it opens. A
    trusted proxy is bound by the total only: its clients share its address.
    """

    def __init__(self, per_address: int, total: int,
                 on_refused: Callable[[], None] | None = None) -> None:
        self.per_address = per_address
        self.total = total
        self._on_refused = on_refused  # told of each refusal (the server counts them)
        self._by_address: dict[str, int] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def begin(self, address: str, *, proxy: bool = False) -> bool:
        """Count a head begun from ``address`` (a trusted ``proxy``'s: the total bounds it);
        False, and nothing counted, past a bound."""
        held = self._by_address.get(address, 0)
        if self._count >= self.total or (held >= self.per_address and not proxy):
            if self._on_refused is not None:
                self._on_refused()
            return False
        self._by_address[address] = held + 1
        self._count += 1
        return True

    def end(self, address: str) -> None:
        """The head from ``address`` was whole, refused, or its connection is gone."""
        held = self._by_address.pop(address, 0) - 1
        if held > 0:
            self._by_address[address] = held
        self._count -= 1
