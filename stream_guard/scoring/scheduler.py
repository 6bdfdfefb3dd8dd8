"""The one place that decides what runs on the model and when.

Windows from every stream of every connection are submitted here (all but the lexical tier's
small on-loop checks, see :mod:`stream_guard.scoring.engine`); the scheduler coalesces them
into micro-batches (up to ``max_batch`` items, waiting at most ``max_wait`` for a batch to fill,
like Triton's dynamic batcher) and runs each batch on a single dedicated thread, so the event loop
never blocks and the model sees one batch at a time. Callers just await a future.

While a batch runs, new work queues up; the next batch takes everything waiting (up to
``max_batch``) without waiting again, so under load batches grow and per-item cost falls, and when
idle a lone window pays at most ``max_wait`` of extra latency.

Deadlines, not an unbounded queue: every job may carry a deadline. Waiting work is taken
earliest-deadline-first, and a job that can no longer get through the model in time (at its place
in the batch, by the recent cost per item) is not started there: it goes to ``fallback`` (the
lexical tier), which runs on the same thread at the start of the same turn, and its answers
are delivered as soon as the sweep ends, not after the turn's model batch, so they are still on
time. A model batch is also kept within ``max_turn`` seconds, because work that arrives
while a batch runs waits for the batch: a short turn bounds that wait. So is the fallback's sweep:
against a large evidence set the fallback itself costs milliseconds a job, and one client's
hundreds of late windows swept back to back would make everyone else's on-time work wait.
Under overload the queue drains at the fallback's speed instead of growing, and latency stays
bounded; the share of fallback answers is what overload costs.

Fair shares, not only deadlines: a job may name its owner (the server names the connection).
When several owners wait, each gets at most an equal share of a turn's sweep and of its batch,
so a client whose backlog is all overdue (hence first by deadline) cannot keep another client's
window waiting behind all of it.

Instances, as Triton's instance groups: ``instances`` runners take turns from the one queue at
once, each on a thread of its own, so a window that arrives while another's batch runs starts
at once instead of waiting for it (on a CPU, two batches of one window each on a core of its
own; a GPU runs one batch at a time and keeps one). A job may name its sequence (the server
names the stream): the jobs of one sequence never run in two turns at once, and so run in
deadline order, as Triton's sequence batcher keeps a sequence on one instance: the scoring of a
stream's window reads and updates what the window before it found.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import heapq
import itertools
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from stream_guard.exceptions import GuardError

log = logging.getLogger("stream_guard.engine")

# At most this many batches' worth of late jobs go to the fallback in one turn, so a model batch
# still runs between fallback sweeps however deep the backlog.
_FALLBACK_TURN = 8
# The least an item's cost estimate may age to (seconds): a backlog of late jobs lets it age by
# a fifth a turn, and after thousands of such turns (one 4 MB answer) it reached a subnormal
# float, ``max_turn / cost`` overflowed, and the scheduler's task died with every verdict after
# it (a review: the server refused every connection until restarted).
_MIN_COST = 1e-6

J = TypeVar("J")
R = TypeVar("R")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BatchStats:
    size: int  # jobs run through ``process``
    seconds: float  # the turn's time on the worker thread
    waited: float  # the longest any job of the turn had queued
    fallback: int = 0  # jobs sent to ``fallback`` instead
    late: int = 0  # jobs answered after their deadline even so
    # of ``seconds``, the batch through ``process`` (no sweep); None when the turn failed
    model_seconds: float | None = None


@dataclass(order=True, slots=True)
class _Queued(Generic[J, R]):
    deadline: float
    order: int
    job: J = field(compare=False)
    future: asyncio.Future[R] = field(compare=False)
    queued: float = field(compare=False)
    owner: Hashable = field(compare=False, default=None)
    sequence: Hashable = field(compare=False, default=None)


class SchedulerClosed(GuardError, RuntimeError):
    """Submitted after ``close()``."""


class BatchScheduler(Generic[J, R]):
    """Micro-batches jobs for a synchronous batch function run off the loop.

    ``process`` takes a list of jobs and returns one result per job, in order. If it raises, the
    jobs of that batch are run again one by one, so only the job that fails gets the exception.
    ``fallback`` (same contract) answers jobs that would miss their deadline through ``process``;
    without one, every job goes through ``process`` however late. ``instances``: how many turns
    may run at once, each on its own thread (``process`` and ``fallback`` must then be safe to
    call from several threads at once for jobs of different sequences); ``initializer`` runs
    once on each of those threads first.
    """

    def __init__(self, process: Callable[[list[J]], Sequence[R]], *,
                 fallback: Callable[[list[J]], Sequence[R]] | None = None,
                 max_batch: int = 32, max_wait: float = 0.004, max_turn: float | None = None,
                 instances: int = 1, name: str = "scorer",
                 initializer: Callable[[], None] | None = None,
                 on_batch: Callable[[BatchStats], None] | None = None,
                 on_depth: Callable[[int], None] | None = None) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if instances < 1:
            raise ValueError("instances must be at least 1")
        self._process = process
        self._fallback = fallback
        self._max_turn = max_turn
        self._order = itertools.count()
        # Recent cost of one item through ``process`` (exponential average of turn time per
        # item): what decides whether a job can still make its deadline through the model.
        self.item_cost = 0.0
        self.fallback_cost = 0.0  # the same for ``fallback``: what bounds a turn's sweep
        self._max_batch = max_batch
        self._max_wait = max_wait
        self._on_batch = on_batch
        self._on_depth = on_depth
        self._queue: list[_Queued[J, R]] = []  # a heap, earliest deadline first
        self._wakeup: asyncio.Event | None = None
        self._runners: list[asyncio.Task[None]] = []
        self._executors = [
            concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix=name if instances == 1 else f"{name}-{i}",
                initializer=initializer)
            for i in range(instances)]
        # The sequences of the jobs in the turns running now, with how many of their jobs:
        # another runner leaves their other jobs waiting.
        self._running: Counter[Hashable] = Counter()
        self._in_turn = 0  # runners whose turn runs now
        self._closed = False

    @property
    def instances(self) -> int:
        """How many turns may run at once."""
        return len(self._executors)

    @property
    def depth(self) -> int:
        return len(self._queue)

    def overdue(self, now: float) -> float:
        """How far past its deadline the latest job still waiting is (how long it has queued,
        for one without a deadline; 0 when none): what says the deadline fallback no longer
        keeps up, which depth cannot (a queue of a hundred jobs may be a turn's work or seconds
        of it), and which a long deadline's on-time wait does not trip.

        Counted from the job's submission at the earliest: a job that comes already past its
        deadline (a window that waited in its own connection's backlog) is late by its
        client's doing, not the scheduler's. Counted from the deadline, one connection's
        backlog read as server-wide overload, and every other client was refused (a fuzzing
        review)."""
        return max((now - (q.queued if q.deadline == math.inf else max(q.deadline, q.queued))
                    for q in self._queue if not q.future.done()), default=0.0)

    def start(self) -> None:
        if not self._runners:
            self._wakeup = asyncio.Event()
            loop = asyncio.get_running_loop()
            self._runners = [loop.create_task(self._run(executor), name=f"batcher-{i}")
                             for i, executor in enumerate(self._executors)]

    async def submit(self, job: J, deadline: float | None = None, owner: Hashable = None,
                     sequence: Hashable = None) -> R:
        """The job's result; ``deadline`` is a ``time.perf_counter()`` instant (None: none);
        ``owner``: whose job it is, for fair shares of each turn (None: one shared owner);
        ``sequence``: jobs naming the same one never run in two turns at once (None: none)."""
        if self._closed:
            raise SchedulerClosed("the scheduler is shut down")
        self.start()
        assert self._wakeup is not None
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._queue, _Queued(math.inf if deadline is None else deadline,
                                            next(self._order), job, future,
                                            time.perf_counter(), owner, sequence))
        self._report_depth()
        self._wakeup.set()
        return await future

    async def close(self) -> None:
        """Finish queued work, then stop the threads."""
        self._closed = True
        if self._runners:
            assert self._wakeup is not None
            self._wakeup.set()
            for runner in self._runners:
                with contextlib.suppress(asyncio.CancelledError):
                    await runner
        for executor in self._executors:
            executor.shutdown(wait=True)

    def _startable(self) -> bool:
        """Whether a job waits that no running turn holds the sequence of."""
        return any(q.sequence is None or q.sequence not in self._running for q in self._queue)

    async def _run(self, executor: concurrent.futures.Executor) -> None:
        """One runner: turn after turn on its own thread, ``executor``."""
        assert self._wakeup is not None
        loop = asyncio.get_running_loop()
        backlog = False  # the queue is work that arrived while a batch ran: it waited already
        while True:
            if not self._startable():  # empty, or every job's sequence runs in another turn
                if self._closed and not self._queue:
                    return
                backlog = False
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if (not backlog and len(self._queue) < self._max_batch and self._max_wait > 0
                    and not self._closed):
                await self._fill(loop)
            try:
                backlog = await self._run_turn(loop, executor) or backlog
            except Exception as exc:
                # A fault of the scheduler's own outside a turn's run (choosing its jobs):
                # every job waiting gets it, whose choice would fail again, and the scheduler
                # goes on with the jobs that come after instead of dying with every verdict
                # after it (a review). One during the run is the turn's jobs' (_run_turn).
                log.exception("scheduler turn failed: the jobs waiting get the error")
                _fail(self._queue, exc)
                self._queue.clear()
                self._report_depth()

    async def _run_turn(self, loop: asyncio.AbstractEventLoop,
                        executor: concurrent.futures.Executor) -> bool:
        """Select and run one turn on ``executor``; False when no job was left to run."""
        started = time.perf_counter()
        late, on_time = self._select(started)  # without jobs whose callers are gone
        self._report_depth()
        live = late + on_time
        if not live:
            return False
        sequences = Counter(q.sequence for q in live if q.sequence is not None)
        self._running.update(sequences)
        self._in_turn += 1
        try:
            seconds = await self._turn(loop, executor, on_time, late)
        except Exception as exc:
            # A fault of the scheduler's own during the turn (a job's is answered in
            # ``_turn``): the turn's jobs not yet answered get it; the queue goes on.
            log.exception("scheduler turn failed: the jobs it held get the error")
            _fail(live, exc)
            return True
        finally:
            self._in_turn -= 1
            self._running.subtract(sequences)
            self._running = +self._running  # without the sequences no turn runs now
            if sequences and self._wakeup is not None:
                self._wakeup.set()  # another runner may take the jobs they held back
        finished = time.perf_counter()
        swept = finished
        model_seconds: float | None = None
        if seconds is not None:
            fallback_seconds, model_seconds, swept = seconds
            if late:
                self.fallback_cost = _average(self.fallback_cost,
                                              fallback_seconds / len(late))
            if on_time:
                self.item_cost = _average(self.item_cost, model_seconds / len(on_time))
            elif late:
                # Every job looked too late for the model, so nothing measured it: let the
                # estimate age, or one slow batch (a cold start, a pause) would keep the
                # model idle for good and every verdict degraded.
                self.item_cost = max(_MIN_COST, self.item_cost * 0.8)
        if self._on_batch is not None:  # the jobs are answered: a broken hook is no fault of theirs
            _report(self._on_batch, BatchStats(
                len(on_time), finished - started, started - min(q.queued for q in live),
                len(late), sum(1 for q in late if q.deadline < swept)
                + sum(1 for q in on_time if q.deadline < finished), model_seconds), "batch")
        return True

    def _select(self, now: float) -> tuple[list[_Queued[J, R]], list[_Queued[J, R]]]:
        """This turn's (fallback, model) jobs, earliest deadline first.

        Every waiting job is given its place in the model's queue (this turn's batch, then the
        turns after it) and the time it would finish there at the recent cost per item. A job
        that would finish after its deadline is answered by the fallback now, not when its
        deadline is already near: under overload the doomed share of the queue is settled at
        once and the model keeps the jobs it can still finish. The batch stops at ``max_batch``
        items or ``max_turn`` seconds of expected work; the sweep at the same budget of the
        fallback's recent cost (late jobs past it wait for the next turn's sweep).

        With several instances, a batch is shared with the instances idle now (a burst is not
        run row after row on one thread while another waits), this turn's batch is counted as
        run in turn on this runner and the jobs after it as spread over every instance; a job
        whose sequence another running turn holds stays queued, out of this turn's count. And
        a sequence's jobs keep their order (:func:`_in_sequence_order`).
        """
        cost, fallback = self.item_cost, self._fallback is not None
        limit = self._max_batch
        if self._max_turn is not None and cost > 0:
            limit = max(1, min(limit, int(self._max_turn / max(cost, _MIN_COST))))
        cap = _FALLBACK_TURN * self._max_batch
        if self._max_turn is not None:  # the first sweep, of one job, measures the cost
            cap = (max(1, min(cap, int(self._max_turn / max(self.fallback_cost, _MIN_COST))))
                   if self.fallback_cost > 0 else 1)
        held: list[_Queued[J, R]] = []
        waiting: list[_Queued[J, R]] = []
        for q in sorted(self._queue):
            if q.future.done():  # its caller is gone (stream or connection ended): drop it
                continue
            if q.sequence is not None and q.sequence in self._running:
                held.append(q)  # its sequence's turn runs on another instance
            else:
                waiting.append(q)
        idle = self.instances - self._in_turn  # this runner among them
        if idle > 1:
            limit = max(1, min(limit, -(-len(waiting) // idle)))
        overdue: list[_Queued[J, R]] = []
        in_time: list[_Queued[J, R]] = []
        for q in waiting:
            place = len(in_time)  # those before it in the model's queue
            if place >= limit:  # a later turn's, on whichever instance is free first
                place = limit + (place - limit) // self.instances
            if fallback and q.deadline < now + cost * (place + 1):
                overdue.append(q)
            else:
                in_time.append(q)
        # Late jobs past this turn's sweep wait for the next one: the model's places are for
        # jobs that can still make their deadline.
        late, overdue = _fair_share(overdue, cap)
        on_time, in_time = _fair_share(in_time, limit)
        late, on_time, later = _in_sequence_order(late, on_time, overdue + in_time)
        self._queue[:] = sorted(later + held)  # sorted: a valid heap
        return late, on_time

    async def _turn(self, loop: asyncio.AbstractEventLoop, executor: concurrent.futures.Executor,
                    on_time: list[_Queued[J, R]],
                    late: list[_Queued[J, R]]) -> tuple[float, float, float] | None:
        """One turn of a worker thread (``executor``'s): the fallback for late jobs, then the batch.
        The fallback's answers go to their callers the moment the sweep ends (they were held for the
        batch, up to ``max_turn`` past their deadline: a review). Returns the seconds the fallback
        and ``process`` took and the instant the sweep ended (None when part of the turn failed and
        was retried job by job). The two parts fail apart: a model batch that raises leaves the
        fallback's answers of the same turn as they are, not computed (and counted) twice."""
        fallback = self._fallback

        def attempt(function: Callable[[list[J]], Sequence[R]] | None,
                    batch: list[_Queued[J, R]]) -> Sequence[R] | None:
            if not batch:
                return []
            assert function is not None
            try:
                results = function([q.job for q in batch])
            except Exception:
                return None
            return results if len(results) == len(batch) else None

        def run() -> tuple[Sequence[R] | None, Sequence[R] | None, tuple[float, float, float]]:
            began = time.perf_counter()
            quick = attempt(fallback, late)
            swept = time.perf_counter()
            if quick is not None and late and on_time:  # else the turn ends now anyway
                loop.call_soon_threadsafe(_answer, late, quick)
            results = attempt(self._process, on_time)
            return quick, results, (swept - began, time.perf_counter() - swept, swept)

        try:
            quick, results, seconds = await loop.run_in_executor(executor, run)
        except Exception:  # the executor itself failed: each job answered on its own
            quick, results, seconds = None, None, (0.0, 0.0, 0.0)
        for batch, answers, function in ((late, quick, fallback),
                                         (on_time, results, self._process)):
            if answers is None:
                await self._isolate(loop, executor, batch, function)
            else:
                _answer(batch, answers)
        return None if quick is None or results is None else seconds

    async def _isolate(self, loop: asyncio.AbstractEventLoop,
                       executor: concurrent.futures.Executor, batch: list[_Queued[J, R]],
                       process: Callable[[list[J]], Sequence[R]] | None) -> None:
        """A failed batch is run again one job at a time, so one bad window (a scorer crash on
        odd input) fails only its own caller, never the other streams that shared its batch."""
        assert process is not None or not batch
        for q in batch:
            fut = q.future
            if fut.done():
                continue
            try:
                assert process is not None
                (result,) = await loop.run_in_executor(executor, process, [q.job])
            except Exception as exc:  # delivered to this caller only
                if not fut.done():
                    fut.set_exception(exc)
            else:
                if not fut.done():
                    fut.set_result(result)

    async def _fill(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait up to ``max_wait`` for the batch to fill; returns early once it is full."""
        assert self._wakeup is not None
        wakeup = self._wakeup
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            wakeup.set()

        # One timer for the whole wait, not a wait_for (a task and a timer) per arriving job.
        timer = loop.call_later(self._max_wait, expire)
        try:
            while len(self._queue) < self._max_batch and not self._closed and not expired:
                wakeup.clear()
                await wakeup.wait()
        finally:
            timer.cancel()

    def _report_depth(self) -> None:
        """The queue's depth to ``on_depth`` (a gauge): a hook that raises is logged, never
        a job's fault (a review: one in the runner left jobs unanswered)."""
        if self._on_depth is not None:
            _report(self._on_depth, len(self._queue), "depth")


def _report(hook: Callable[[T], None], value: T, what: str) -> None:
    """Give a metrics hook its value; one that raises is logged, never a job's fault."""
    try:
        hook(value)
    except Exception:
        log.exception("the scheduler's %s report failed", what)


def _fail(jobs: Sequence[_Queued[J, R]], exc: Exception) -> None:
    """Each waiting caller of ``jobs`` gets ``exc`` (one answered or gone already is skipped)."""
    for q in jobs:
        if not q.future.done():
            q.future.set_exception(exc)


def _answer(batch: Sequence[_Queued[J, R]], answers: Sequence[R]) -> None:
    """Each waiting caller of ``batch`` gets its answer (one gone already is skipped)."""
    for q, result in zip(batch, answers, strict=True):
        if not q.future.done():
            q.future.set_result(result)


def _in_sequence_order(late: list[_Queued[J, R]], on_time: list[_Queued[J, R]],
                       left: list[_Queued[J, R]]
                       ) -> tuple[list[_Queued[J, R]], list[_Queued[J, R]], list[_Queued[J, R]]]:
    """A turn's (sweep, batch, left queued) with no job of a sequence ahead of an earlier one
    of its own: a turn sweeps its late jobs before its batch, and a job left queued runs in a
    later turn, so a late job after one of its sequence in the batch or left queued (a review:
    a stream's next window aligned before the window it follows), and a batch job after one
    left queued, are left queued for a later turn. Jobs without a sequence keep their place."""
    stage = {id(q): 0 for q in late} | {id(q): 1 for q in on_time}
    reached: dict[Hashable, int] = {}  # per sequence: the latest stage of its jobs so far
    out: tuple[list[_Queued[J, R]], ...] = ([], [], [])
    for q in sorted([*late, *on_time, *left]):
        where = stage.get(id(q), 2)
        if q.sequence is not None:
            if where < reached.get(q.sequence, 0):
                where = 2
            reached[q.sequence] = where
        out[where].append(q)
    return out[0], out[1], out[2]


def _average(recent: float, sample: float) -> float:
    """Exponential average of a cost, the first sample taken as it is."""
    return 0.8 * recent + 0.2 * sample if recent else sample


def _fair_share(jobs: list[_Queued[J, R]], room: int
                ) -> tuple[list[_Queued[J, R]], list[_Queued[J, R]]]:
    """Up to ``room`` of ``jobs`` (in deadline order) for this turn, and the rest: first each
    owner up to an equal share of the room, then, so that no room is left idle, the earliest of
    the rest. Both lists keep deadline order."""
    owners = len({q.owner for q in jobs})
    if len(jobs) <= room or owners <= 1:
        return jobs[:room], jobs[room:]
    share = -(-room // owners)  # ceiling
    taken = [False] * len(jobs)
    per_owner: Counter[Hashable] = Counter()
    count = 0
    for i, q in enumerate(jobs):
        if count < room and per_owner[q.owner] < share:
            per_owner[q.owner] += 1
            taken[i] = True
            count += 1
    for i in range(len(jobs)):
        if count >= room:
            break
        if not taken[i]:
            taken[i] = True
            count += 1
    return ([q for q, t in zip(jobs, taken, strict=True) if t],
            [q for q, t in zip(jobs, taken, strict=True) if not t])
