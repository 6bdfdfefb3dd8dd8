"""Running a coroutine on the event loop stream-guard prefers (uvloop where it is installed),
and sharing one run of a coroutine among the callers that want it at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop when available: the server, its workers and the eval tool."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        return asyncio.run(coro)
    return uvloop.run(coro)


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

