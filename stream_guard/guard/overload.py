"""When to refuse new work: event-loop lag and scorer backlog, with hysteresis.

Deadlines keep each accepted window's verdict on time by degrading it to the lexical tier; this
is the step after that. When even the lexical path falls behind (the event loop itself lags, or
the scorer queue is deeper than a turn can sweep), admitting more streams would make every stream
late at once, so new streams get ``error overloaded`` and new connections close 1013 until the
load is back under half the limits. Pure: the server feeds it lag samples and queue depths.
"""

from __future__ import annotations


class LoadGauge:
    def __init__(self, max_lag_s: float, max_queue: int) -> None:
        self.max_lag_s = max_lag_s
        self.max_queue = max_queue
        self.lag_s = 0.0  # moving average of recent samples (about the last quarter second)
        self._queue = 0
        self._overloaded = False

    def observe_lag(self, lag_s: float) -> None:
        """One event-loop lag sample (how late a timer fired). Averaged, so a lone pause (a
        garbage collection, a model load) does not turn connections away; sustained lag does."""
        self.lag_s = 0.8 * self.lag_s + 0.2 * max(0.0, lag_s)
        self._update()

    def observe_queue(self, depth: int) -> None:
        self._queue = depth
        self._update()

    @property
    def overloaded(self) -> bool:
        return self._overloaded

    def _update(self) -> None:
        lag_on = self.max_lag_s > 0 and self.lag_s > self.max_lag_s
        queue_on = self._queue > self.max_queue
        if lag_on or queue_on:
            self._overloaded = True
        elif ((self.max_lag_s <= 0 or self.lag_s < self.max_lag_s / 2)
              and self._queue < self.max_queue / 2):
            self._overloaded = False
