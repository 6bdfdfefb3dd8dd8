"""Per-connection message and character limits.

These live in the connection, not the shared store: a connection is served by exactly one worker,
so its own counters are exact and cost nothing. (Caps that span connections, per IP and global,
are leases in the state store.)
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable
from typing import TypeVar

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


# Closes for a malformed message (one over the size limit, text that is not UTF-8) are what
# a client's bug looks like more often than a flood: a backend that serves many users from one
# address was locked out for a whole penalty by one user's oversized message (a review). Such
# an address is held back at its third within a penalty's time, so a loop that repeats one
# still is; a flood is held back at once.
MALFORMED = frozenset({"frame_too_large", "invalid_utf8"})
MALFORMED_BEFORE_PENALTY = 3

_V = TypeVar("_V")


class PenaltyBox:
    """Addresses whose connections were closed for abuse, and until when they wait.

    A connection closed for flooding messages (1008) is otherwise replaced at once by the next
    one, which gets a fresh message bucket and floods again: each round costs the server a
    handshake and a full burst of messages. Holding the address back for a while turns that
    loop into one round per penalty. Closes for a malformed message (:data:`MALFORMED`) count
    as strikes instead, the penalty coming with the :data:`MALFORMED_BEFORE_PENALTY`-th within
    ``penalty_s``. Per worker (the connection was on this one), pure: the caller passes the
    time.
    """

    def __init__(self, penalty_s: float, max_entries: int = 65536) -> None:
        self.penalty_s = penalty_s
        self._max = max_entries
        self._until: dict[str, float] = {}
        self._strikes: dict[str, tuple[float, ...]] = {}  # the times of the recent strikes

    def charge(self, ip: str, reason: str, now: float) -> bool:
        """A connection from ``ip`` was closed for ``reason`` (a rejection's label): True when
        the address is held back for it now."""
        if self.penalty_s <= 0:
            return False
        if reason in MALFORMED:  # a strike; the penalty at the third within penalty_s
            recent = (*(t for t in self._strikes.pop(ip, ()) if now - t < self.penalty_s), now)
            if len(recent) < MALFORMED_BEFORE_PENALTY:
                self._make_room(self._strikes, lambda times: times[-1] + self.penalty_s > now)
                self._strikes[ip] = recent
                return False
        self.add(ip, now)
        return True

    def add(self, ip: str, now: float) -> None:
        """Hold ``ip`` back for ``penalty_s`` from ``now``."""
        if self.penalty_s <= 0:
            return
        self._until.pop(ip, None)
        self._make_room(self._until, lambda until: until > now)
        self._until[ip] = now + self.penalty_s

    def _make_room(self, entries: dict[str, _V], live: Callable[[_V], bool]) -> None:
        """Below ``max_entries``: forget what has expired, then the oldest."""
        if len(entries) < self._max:
            return
        for key in [k for k, v in entries.items() if not live(v)]:
            del entries[key]
        while len(entries) >= self._max:
            del entries[next(iter(entries))]

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
    server's memory 337 MB -> 1 GB. A socket past its address's bound is closed as it opens (a
    trusted proxy is bound by the total only: its clients share its address). At the total,
    the head that has waited longest is closed for the newcomer instead: a client's whole head
    takes milliseconds, so the oldest are a trickler's, and tricklers on many addresses cannot
    shut new clients out (refused at the total, they did for as long as they held it).
    """

    def __init__(self, per_address: int, total: int,
                 on_closed: Callable[[], None] | None = None) -> None:
        self.per_address = per_address
        self.total = total
        self._on_closed = on_closed  # told of each socket closed for a bound (the server counts)
        self._heads: dict[Hashable, str] = {}  # head -> its address, the oldest first
        self._by_address: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._heads)

    def begin(self, head: Hashable, address: str, *,
              proxy: bool = False) -> tuple[bool, Hashable | None]:
        """Count ``head`` (a connection) begun from ``address``: whether it is taken (not past
        its address's bound), and the oldest head to close for it where the total is reached
        (no longer counted)."""
        if self._by_address.get(address, 0) >= self.per_address and not proxy:
            self._closed()
            return False, None
        oldest = next(iter(self._heads)) if len(self._heads) >= self.total else None
        if oldest is not None:
            self.end(oldest)
            self._closed()
        self._heads[head] = address
        self._by_address[address] = self._by_address.get(address, 0) + 1
        return True, oldest

    def end(self, head: Hashable) -> None:
        """``head`` was whole, refused, or its connection is gone (once counted, a no-op)."""
        address = self._heads.pop(head, None)
        if address is None:
            return
        held = self._by_address.pop(address) - 1
        if held > 0:
            self._by_address[address] = held

    def _closed(self) -> None:
        if self._on_closed is not None:
            self._on_closed()
