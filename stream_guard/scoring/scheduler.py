"""The one place that decides what runs on the model and when.

Windows from every stream of every connection are submitted here; the scheduler coalesces them
into micro-batches (up to ``max_batch`` items, waiting at most ``max_wait`` for a batch to fill,
like Triton's dynamic batcher) and runs each batch on a single dedicated thread, so the event loop
never blocks and the model sees one batch at a time. Callers just await a future.

While a batch runs, new work queues up; the next batch takes everything waiting (up to
``max_batch``) without waiting again, so under load batches grow and per-item cost falls, and when
idle a lone window pays at most ``max_wait`` of extra latency.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

J = TypeVar("J")
R = TypeVar("R")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BatchStats:
    size: int
    seconds: float


class SchedulerClosed(RuntimeError):
    """Submitted after ``close()``."""


class BatchScheduler(Generic[J, R]):
    """Micro-batches jobs for a synchronous batch function run off the loop.

    ``process`` takes a list of jobs and returns one result per job, in order. If it raises, the
    jobs of that batch are run again one by one, so only the job that fails gets the exception.
    """

    def __init__(self, process: Callable[[list[J]], Sequence[R]], *, max_batch: int = 32,
                 max_wait: float = 0.004, name: str = "scorer",
                 on_batch: Callable[[BatchStats], None] | None = None,
                 on_depth: Callable[[int], None] | None = None) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._process = process
        self._max_batch = max_batch
        self._max_wait = max_wait
        self._on_batch = on_batch
        self._on_depth = on_depth
        self._queue: deque[tuple[J, asyncio.Future[R]]] = deque()
        self._wakeup: asyncio.Event | None = None
        self._runner: asyncio.Task[None] | None = None
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=name)
        self._closed = False

    @property
    def depth(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        if self._runner is None:
            self._wakeup = asyncio.Event()
            self._runner = asyncio.get_running_loop().create_task(self._run(), name="batcher")

    async def submit(self, job: J) -> R:
        if self._closed:
            raise SchedulerClosed("the scheduler is shut down")
        self.start()
        assert self._wakeup is not None
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((job, future))
        self._report_depth()
        self._wakeup.set()
        return await future

    async def run_exclusive(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the model thread between batches (model reloads, per-stream setup)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def close(self) -> None:
        """Finish queued work, then stop the thread."""
        self._closed = True
        if self._runner is not None:
            assert self._wakeup is not None
            self._wakeup.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        assert self._wakeup is not None
        loop = asyncio.get_running_loop()
        backlog = False  # the queue is work that arrived while a batch ran: it waited already
        while True:
            if not self._queue:
                if self._closed:
                    return
                backlog = False
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if (not backlog and len(self._queue) < self._max_batch and self._max_wait > 0
                    and not self._closed):
                await self._fill(loop)
            batch = [self._queue.popleft() for _ in range(min(self._max_batch, len(self._queue)))]
            self._report_depth()
            live = [(job, fut) for job, fut in batch if not fut.done()]  # cancelled callers
            if not live:
                continue
            backlog = True
            started = time.perf_counter()
            try:
                results = await loop.run_in_executor(
                    self._executor, self._process, [job for job, _ in live])
                if len(results) != len(live):
                    raise RuntimeError(
                        f"batch function returned {len(results)} results for {len(live)} jobs")
            except Exception as exc:
                if len(live) == 1:
                    if not live[0][1].done():
                        live[0][1].set_exception(exc)
                else:
                    await self._isolate(loop, live)
                continue
            finally:
                if self._on_batch is not None:
                    self._on_batch(BatchStats(len(live), time.perf_counter() - started))
            for (_, fut), result in zip(live, results, strict=True):
                if not fut.done():
                    fut.set_result(result)

    async def _isolate(self, loop: asyncio.AbstractEventLoop,
                       batch: list[tuple[J, asyncio.Future[R]]]) -> None:
        """A failed batch is run again one job at a time, so one bad window (a scorer crash on
        odd input) fails only its own caller, never the other streams that shared its batch."""
        for job, fut in batch:
            if fut.done():
                continue
            try:
                (result,) = await loop.run_in_executor(self._executor, self._process, [job])
            except Exception as exc:  # delivered to this caller only
                if not fut.done():
                    fut.set_exception(exc)
            else:
                if not fut.done():
                    fut.set_result(result)

    async def _fill(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait up to ``max_wait`` for the batch to fill; returns early once it is full."""
        assert self._wakeup is not None
        deadline = loop.time() + self._max_wait
        while len(self._queue) < self._max_batch and not self._closed:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), remaining)

    def _report_depth(self) -> None:
        if self._on_depth is not None:
            self._on_depth(len(self._queue))
