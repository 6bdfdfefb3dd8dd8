"""Token-bucket arithmetic, with no clock and no I/O.

The caller passes the time in, so one implementation serves the in-memory store (monotonic
clock), a per-connection message limiter (the event loop's clock, which the connection passes)
and the tests (any numbers). It lives with the other limits (pure, like them), and the state
stores use it from here.
The Redis store cannot call Python from inside its Lua script, so it repeats these few lines in
Lua; the shared test suite keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TokenBucket:
    """``burst`` tokens at most, refilled at ``rate_per_s``; a request spends ``cost`` tokens.

    A new bucket starts full, so a client that was quiet may send a whole burst at once.
    """

    rate_per_s: float
    burst: float
    tokens: float
    updated: float

    def __post_init__(self) -> None:
        if self.rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        if self.burst <= 0:
            raise ValueError("burst must be positive")

    @classmethod
    def full(cls, rate_per_s: float, burst: float, now: float) -> TokenBucket:
        return cls(rate_per_s=rate_per_s, burst=burst, tokens=float(burst), updated=now)

    def refill(self, now: float) -> None:
        """Credit the time since the last update; a clock that went backwards credits nothing."""
        if now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate_per_s)
            self.updated = now

    def take(self, now: float, cost: float = 1.0) -> bool:
        """Spend ``cost`` tokens if there are enough; a refused request spends nothing.

        A ``cost`` above ``burst`` can never be paid and is always refused.
        """
        self.refill(now)
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False

    def full_at(self) -> float:
        """When the bucket will be full again: from then on it equals a fresh bucket, so a store
        may forget it without changing any future answer."""
        return self.updated + (self.burst - self.tokens) / self.rate_per_s
