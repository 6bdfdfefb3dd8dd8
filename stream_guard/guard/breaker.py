"""When a handshake should not wait on the shared state store: a breaker for a hung store.

A dead Redis answers at once (a refused or reset connection), so asking it again costs nothing.
A hung one answers only when the socket timeout is spent, and a handshake asks the store twice
(its address's bucket, then its slots): without this, every handshake during the hang would cost
two whole timeouts. Once a call has failed only after waiting out (most of) the timeout, the
store counts as hung for one more timeout, and handshakes take the fail mode's answer at once;
the first handshake after that asks again. Pure: the server passes monotonic times in.
"""

from __future__ import annotations

import math


class StoreBreaker:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._hung_at = -math.inf  # when a store call last failed by timing out

    def failed(self, began: float, now: float) -> None:
        """A store call begun at ``began`` failed at ``now``. Only a slow failure trips the
        breaker (half the timeout: a call's failure is reported a little before the whole
        timeout is spent, and a quick refusal is well under half)."""
        if now - began >= self.timeout_s / 2:
            self._hung_at = now

    def open(self, now: float) -> bool:
        """Whether the store hung within the last timeout: skip it, do not wait on it again."""
        return now - self._hung_at < self.timeout_s
