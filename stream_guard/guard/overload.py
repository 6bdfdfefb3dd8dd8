"""When to refuse new work: event-loop lag and scorer backlog, with hysteresis.

Deadlines keep each accepted window's verdict on time by degrading it to the lexical tier; this
is the step after that. When even the lexical path falls behind (the event loop itself lags, the
scorer queue is deeper than a turn can sweep, or a window is still waiting for the scorer far
past its deadline), admitting more streams would make every stream late at once, so new streams get
``error overloaded`` and new connections close 1013 until the load is back under half the
limits. How overdue the waiting windows are is the signal that trips in practice: a review ran
200 streams on 2 cores into seconds of halt latency with the queue never near its depth limit
(each connection's windows in flight are capped, so the queue cannot grow that deep) and the
loop never lagging. Pure: the server feeds it lag samples, queue depths and overdue times.
"""

from __future__ import annotations


class LoadGauge:
    def __init__(self, max_lag_s: float, max_queue: int, max_wait_s: float = 0.0) -> None:
        self.max_lag_s = max_lag_s
        self.max_queue = max_queue
        self.max_wait_s = max_wait_s  # how overdue a waiting window may be; 0: not checked
        self.lag_s = 0.0  # moving average of recent samples (about the last quarter second)
        self._queue = 0
        self._overdue_s = 0.0
        self._overloaded = False

    def observe_lag(self, lag_s: float) -> None:
        """One event-loop lag sample (how late a timer fired). Averaged, so a lone pause (a
        garbage collection, a model load) does not turn connections away; sustained lag does."""
        self.lag_s = 0.8 * self.lag_s + 0.2 * max(0.0, lag_s)
        self._update()

    def observe_queue(self, depth: int, overdue_s: float = 0.0) -> None:
        """The scorer's queue depth, and how far past its deadline its latest waiting window
        is (:meth:`~stream_guard.scoring.scheduler.BatchScheduler.overdue`)."""
        self._queue = depth
        self._overdue_s = overdue_s
        self._update()

    @property
    def overloaded(self) -> bool:
        return self._overloaded

    def _update(self) -> None:
        """On past any limit; off again once every signal is under half its limit (a limit of
        0 turns its check off)."""
        checked = [(value, limit) for value, limit in ((self.lag_s, self.max_lag_s),
                                                       (self._queue, self.max_queue),
                                                       (self._overdue_s, self.max_wait_s))
                   if limit > 0]
        if any(value > limit for value, limit in checked):
            self._overloaded = True
        elif all(value < limit / 2 for value, limit in checked):
            self._overloaded = False
