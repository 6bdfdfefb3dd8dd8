"""Running a coroutine on the event loop stream-guard prefers (uvloop where it is installed),
sharing one run of a coroutine among the callers that want it at once, slots shared fairly
among owners, and the heap start-up leaves kept out of the garbage collector's way."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
from collections.abc import AsyncIterator, Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop when available: the server, its workers and the eval tool."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        return asyncio.run(coro)
    return uvloop.run(coro)


def freeze_heap() -> None:
    """Keep what start-up allocated (modules, compiled patterns, models' tables, settings) out of
    the cyclic garbage collector's full collections: it lives as long as the process, yet each
    full collection walked it again, about 35 ms on the 2-core host of docs/benchmarks-log.md
    with the interpreter held, so a window's verdict in flight waited that long. Call it once,
    when the process is ready to serve. Objects freed by reference counting are freed as
    before, but an object alive now that later ends in a reference cycle is never collected:
    what start-up holds and a process later drops must be closed or freed explicitly (an
    evidence collection's database connection is, ``evidence.reader.Collection``).
    """
    gc.collect()
    gc.freeze()


class SingleFlight(Generic[T]):
    """One run of ``make()`` at a time, shared by every caller that comes while it runs (a flood
    of ``/readyz`` or ``/metrics`` requests costs one store probe or one render at a time). A
    caller that is cancelled leaves the run going for the others; an exception no caller is
    left to read is retrieved, not logged as never retrieved."""

    def __init__(self, make: Callable[[], Coroutine[Any, Any, T]]) -> None:
        self._make = make
        self._run: asyncio.Future[T] | None = None

    async def __call__(self) -> T:
        if self._run is None or self._run.done():
            self._run = asyncio.ensure_future(self._make())
            self._run.add_done_callback(lambda f: None if f.cancelled() else f.exception())
        return await asyncio.shield(self._run)



class FairSlots:
    """At most ``limit`` holders at once, waiters served one owner at a time, in turn.

    A FIFO semaphore serves waiters in arrival order, so one owner (a connection) with many
    waiting (stream set-ups with large contexts) delays every other owner's first by all of
    its own: a review measured another client's first verdict 0.5-3 s late. Here a freed
    slot goes to the waiting owner that holds the fewest slots, and of those to the one
    served longest ago (never, for a newcomer), so a newcomer waits for one slot to free, not
    for another owner's queue. And no owner holds them all (with ``limit`` >= 2): one that
    kept every slot busy (a loop of large set-ups, cancelled and started again) made every
    newcomer wait for one of its set-ups to end, 0.8 s (a review), where a slot left free
    serves the newcomer at once. (Set-ups are mostly Python, so a second one at a time gains
    a single owner little.)
    """

    def __init__(self, limit: int) -> None:
        self._free = limit
        self._per_owner = max(1, limit - 1)
        self._held: collections.Counter[Hashable] = collections.Counter()
        self._waiting: dict[Hashable, collections.deque[asyncio.Future[None]]] = {}
        self._grants = 0
        self._served: dict[Hashable, int] = {}  # owner -> its last grant's number

    @contextlib.asynccontextmanager
    async def slot(self, owner: Hashable) -> AsyncIterator[None]:
        """Hold one slot for the block; ``owner``'s waiters are served in their own order."""
        # A free slot with owners waiting is one none of them may take (each holds its share).
        if self._free > 0 and self._held[owner] < self._per_owner:
            self._free -= 1
            self._grant(owner)
        else:
            granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.setdefault(owner, collections.deque()).append(granted)
            try:
                await granted  # the slot comes counted as this owner's (_release)
            except asyncio.CancelledError:
                if granted.done() and not granted.cancelled():
                    self._release(owner)  # granted as it was cancelled: pass the slot on
                else:
                    self._forget(owner, granted)
                raise
        try:
            yield
        finally:
            self._release(owner)

    def _forget(self, owner: Hashable, granted: asyncio.Future[None]) -> None:
        queue = self._waiting.get(owner)
        if queue is not None and granted in queue:
            queue.remove(granted)
            if not queue:
                del self._waiting[owner]
        self._forget_if_quiet(owner)

    def _forget_if_quiet(self, owner: Hashable) -> None:
        """An owner holding and awaiting nothing is kept nowhere."""
        if not self._held[owner] and owner not in self._waiting:
            self._held.pop(owner, None)
            self._served.pop(owner, None)

    def _grant(self, owner: Hashable) -> None:
        self._held[owner] += 1
        self._grants += 1
        self._served[owner] = self._grants

    def _release(self, owner: Hashable) -> None:
        """``owner`` gives a slot back: to the waiting owner below its share holding fewest,
        served longest ago, or to the pool."""
        self._held[owner] -= 1
        while True:
            eligible = [o for o in self._waiting if self._held[o] < self._per_owner]
            if not eligible:
                break
            turn = min(eligible, key=lambda o: (self._held[o], self._served.get(o, 0)))
            queue = self._waiting[turn]
            granted = queue.popleft()
            if not queue:
                del self._waiting[turn]
            if not granted.done():
                self._grant(turn)
                granted.set_result(None)
                self._forget_if_quiet(owner)
                return
        self._free += 1
        self._forget_if_quiet(owner)
