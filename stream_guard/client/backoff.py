"""Reconnection delays: capped exponential backoff with full jitter.

Full jitter (a uniform draw between 0 and the exponential bound) spreads the reconnects of many
clients that lost the same server at the same moment, so a restarted server is not hit by a
synchronised wave on every retry round.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """How a client retries a connection that failed or was refused for now.

    ``attempts`` counts connection attempts for one call (the first included); after the last
    one fails the call raises. ``0 < initial <= maximum``.

    The defaults wait about 16 s in all on average (31 s at most, :attr:`longest_wait`: the
    sum of the 11 bounds, 0.1 doubling to 5; full jitter waits half of each on average) before
    giving up: a server restarted in place is back within that (its process takes seconds to
    load its models, a container's restart longer). With 8 attempts the wait was 5.7 s on
    average, and a review saw a server restarted 3 s after it was killed refused by the client
    in 3 of 4 tries. The attempts themselves take time too, up to the client's
    ``open_timeout`` each against a server that accepts no connection (one stopped, a network
    path that drops packets): the client gives up once ``open_timeout`` plus
    :attr:`longest_wait` has passed since its first attempt (41 s with the defaults; a review
    saw a stopped server keep a call waiting 128 s, 12 attempts of 10 s).
    """

    initial: float = 0.1
    maximum: float = 5.0
    factor: float = 2.0
    attempts: int = 12

    def __post_init__(self) -> None:
        if not (0 < self.initial <= self.maximum) or self.factor < 1 or self.attempts < 1:
            raise ValueError("Backoff needs 0 < initial <= maximum, factor >= 1, attempts >= 1")

    @property
    def longest_wait(self) -> float:
        """The most :meth:`delays` wait in all: the sum of their bounds."""
        total, bound = 0.0, self.initial
        for _ in range(self.attempts - 1):
            total += bound
            bound = min(self.maximum, bound * self.factor)
        return total

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """The pause before each retry: ``attempts - 1`` values."""
        draw = (rng or random).uniform
        bound = self.initial
        for _ in range(self.attempts - 1):
            yield draw(0, bound)
            bound = min(self.maximum, bound * self.factor)


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds (the form the server sends), else None: an HTTP
    date, a negative, infinite or unreadable value (a proxy's ``inf`` waited for ever)."""
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None
