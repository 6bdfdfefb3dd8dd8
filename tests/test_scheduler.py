"""The micro-batching scheduler: coalescing, waiting, failures, cancellation, shutdown, threads.

Batches are steered with a gate the batch function waits on, so every assertion is about which
jobs ran together, never about how long anything took.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from stream_guard.scoring.scheduler import BatchScheduler, BatchStats, SchedulerClosed
from tests.wsclient import eventually

TIMEOUT = 10.0  # generous: only reached when a job waits for something that never comes


class Recorder:
    """A batch function that records its batches and threads and can be held at a gate."""

    def __init__(self, *, open_gate: bool = True) -> None:
        self.batches: list[list[int]] = []
        self.threads: set[int] = set()
        self.gate = threading.Event()
        if open_gate:
            self.gate.set()
        self.entered = threading.Event()

    def __call__(self, jobs: list[int]) -> Sequence[int]:
        self.threads.add(threading.get_ident())
        self.batches.append(list(jobs))
        self.entered.set()
        if not self.gate.wait(TIMEOUT):
            raise TimeoutError("gate never opened")
        if any(j < 0 for j in jobs):
            raise ValueError(f"negative job in {jobs}")
        if any(j == 999 for j in jobs):
            return [0]  # wrong number of results
        return [j * 10 for j in jobs]

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, TIMEOUT)


def submit_all(sched: BatchScheduler[int, int], jobs: list[int]) -> list[asyncio.Task[int]]:
    return [asyncio.create_task(sched.submit(j)) for j in jobs]


async def hold_first_batch(sched: BatchScheduler[int, int], rec: Recorder) -> asyncio.Task[int]:
    """Start a batch of job 0 and keep it running until ``rec.gate`` opens."""
    first = asyncio.create_task(sched.submit(0))
    await rec.wait_entered()
    return first


async def test_batches_coalesce_up_to_max_batch() -> None:
    rec = Recorder(open_gate=False)
    sched: BatchScheduler[int, int] = BatchScheduler(rec, max_batch=3, max_wait=0)
    first = await hold_first_batch(sched, rec)
    tasks = submit_all(sched, list(range(1, 8)))
    await eventually(lambda: sched.depth == 7)
    rec.gate.set()
    async with asyncio.timeout(TIMEOUT):
        results = await asyncio.gather(first, *tasks)
    assert results == [j * 10 for j in range(8)]  # each caller gets its own result
    assert rec.batches == [[0], [1, 2, 3], [4, 5, 6], [7]]
    await sched.close()


async def test_a_full_batch_does_not_wait() -> None:
    rec = Recorder()
    sched: BatchScheduler[int, int] = BatchScheduler(rec, max_batch=3, max_wait=60)
    async with asyncio.timeout(TIMEOUT):
        assert await asyncio.gather(*submit_all(sched, [1, 2, 3])) == [10, 20, 30]
    assert rec.batches == [[1, 2, 3]]
    await sched.close()


async def test_jobs_arriving_within_max_wait_join_the_batch() -> None:
    rec = Recorder()
    sched: BatchScheduler[int, int] = BatchScheduler(rec, max_batch=3, max_wait=60)
    tasks = submit_all(sched, [1])
    for _ in range(5):
        await asyncio.sleep(0)  # the runner is now waiting for the batch to fill
    tasks += submit_all(sched, [2])
    await asyncio.sleep(0)
    tasks += submit_all(sched, [3])
    async with asyncio.timeout(TIMEOUT):
        assert await asyncio.gather(*tasks) == [10, 20, 30]
    assert rec.batches == [[1, 2, 3]]
    await sched.close()


async def test_a_lone_job_waits_at_most_max_wait() -> None:
    rec = Recorder()
    sched: BatchScheduler[int, int] = BatchScheduler(rec, max_batch=100, max_wait=0.05)
    async with asyncio.timeout(TIMEOUT):
        assert await sched.submit(4) == 40
        assert await sched.submit(5) == 50
    assert rec.batches == [[4], [5]]
    await sched.close()


async def test_jobs_queued_during_a_batch_run_next_without_waiting_again() -> None:
    """Work that queued up while the model was busy has waited long enough already."""
    rec = Recorder(open_gate=False)
    sched: BatchScheduler[int, int] = BatchScheduler(rec, max_batch=4, max_wait=60)
    first = asyncio.gather(*submit_all(sched, [1, 2, 3, 4]))
    await rec.wait_entered()
    later = submit_all(sched, [5, 6])
    await eventually(lambda: sched.depth == 2)
    rec.gate.set()
    async with asyncio.timeout(TIMEOUT):  # far below max_wait
        assert await first == [10, 20, 30, 40]
        assert await asyncio.gather(*later) == [50, 60]
    assert rec.batches == [[1, 2, 3, 4], [5, 6]]
    await sched.close()


async def test_an_exception_fails_only_the_job_that_raises() -> None:
    """A failed batch is retried one job at a time: the other streams in it are unaffected."""
    rec = Recorder(open_gate=False)
    sched: BatchScheduler[int, int] = BatchScheduler(rec, max_batch=3, max_wait=0)
    first = await hold_first_batch(sched, rec)
    tasks = submit_all(sched, [1, -2, 3, 4, 5])
    await eventually(lambda: sched.depth == 5)
    rec.gate.set()
    async with asyncio.timeout(TIMEOUT):
        results = await asyncio.gather(first, *tasks, return_exceptions=True)
    assert rec.batches == [[0], [1, -2, 3], [1], [-2], [3], [4, 5]]
    assert results[0] == 0 and results[1] == 10 and results[3:] == [30, 40, 50]
    assert isinstance(results[2], ValueError)
    async with asyncio.timeout(TIMEOUT):
        assert await sched.submit(6) == 60  # the scheduler goes on
    await sched.close()


async def test_a_wrong_number_of_results_fails_the_batch_and_jobs_run_alone() -> None:
    rec = Recorder()
    sched: BatchScheduler[int, int] = BatchScheduler(rec, max_batch=8, max_wait=0)
    async with asyncio.timeout(TIMEOUT):
        results = await asyncio.gather(*submit_all(sched, [999, 1]), return_exceptions=True)
    assert rec.batches == [[999, 1], [999], [1]]
    assert results == [0, 10]
    await sched.close()


async def test_cancelled_callers_are_skipped() -> None:
    rec = Recorder(open_gate=False)
    sched: BatchScheduler[int, int] = BatchScheduler(rec, max_batch=8, max_wait=0)
    first = await hold_first_batch(sched, rec)
    gone, kept, gone_too = submit_all(sched, [1, 2, 3])
    await eventually(lambda: sched.depth == 3)
    gone.cancel()
    gone_too.cancel()
    rec.gate.set()
    async with asyncio.timeout(TIMEOUT):
        assert await first == 0
        assert await kept == 20
    assert gone.cancelled() and gone_too.cancelled()
    assert rec.batches == [[0], [2]]
    # a batch whose callers all left never reaches the batch function
    rec.gate.clear()
    rec.entered.clear()
    first = await hold_first_batch(sched, rec)
    (alone,) = submit_all(sched, [7])
    await eventually(lambda: sched.depth == 1)
    alone.cancel()
    rec.gate.set()
    async with asyncio.timeout(TIMEOUT):
        assert await first == 0
        assert await sched.submit(8) == 80
    assert rec.batches == [[0], [2], [0], [8]]
    await sched.close()


async def test_close_finishes_queued_work_then_refuses() -> None:
    rec = Recorder(open_gate=False)
    sched: BatchScheduler[int, int] = BatchScheduler(rec, max_batch=2, max_wait=0)
    first = await hold_first_batch(sched, rec)
    tasks = submit_all(sched, [1, 2, 3])
    await eventually(lambda: sched.depth == 3)
    closing = asyncio.create_task(sched.close())
    await asyncio.sleep(0)
    with pytest.raises(SchedulerClosed):
        await sched.submit(9)
    rec.gate.set()
    async with asyncio.timeout(TIMEOUT):
        assert await asyncio.gather(first, *tasks) == [0, 10, 20, 30]
        await closing
    assert rec.batches == [[0], [1, 2], [3]]
    with pytest.raises(SchedulerClosed):
        await sched.submit(9)


async def test_close_runs_a_filling_batch_at_once() -> None:
    rec = Recorder()
    sched: BatchScheduler[int, int] = BatchScheduler(rec, max_batch=10, max_wait=60)
    tasks = submit_all(sched, [1, 2])
    for _ in range(5):
        await asyncio.sleep(0)  # the runner waits for the batch to fill
    async with asyncio.timeout(TIMEOUT):  # far below max_wait
        await sched.close()
        assert await asyncio.gather(*tasks) == [10, 20]
    assert rec.batches == [[1, 2]]


async def test_close_of_an_idle_or_unused_scheduler() -> None:
    unused: BatchScheduler[int, int] = BatchScheduler(Recorder(), max_batch=2, max_wait=60)
    await asyncio.wait_for(unused.close(), TIMEOUT)
    idle: BatchScheduler[int, int] = BatchScheduler(Recorder(), max_batch=2, max_wait=60)
    idle.start()
    await asyncio.sleep(0)
    await asyncio.wait_for(idle.close(), TIMEOUT)


async def test_batches_run_on_one_thread_that_is_not_the_loop() -> None:
    rec = Recorder()
    sched: BatchScheduler[int, int] = BatchScheduler(rec, max_batch=2, max_wait=0)
    loop_thread = threading.get_ident()
    async with asyncio.timeout(TIMEOUT):
        await asyncio.gather(*submit_all(sched, list(range(9))))
    assert len(rec.batches) >= 5
    assert len(rec.threads) == 1
    assert loop_thread not in rec.threads
    await sched.close()


async def test_batch_and_depth_are_reported() -> None:
    rec = Recorder(open_gate=False)
    stats: list[BatchStats] = []
    depths: list[int] = []
    sched: BatchScheduler[int, int] = BatchScheduler(
        rec, max_batch=3, max_wait=0, on_batch=stats.append, on_depth=depths.append)
    first = await hold_first_batch(sched, rec)
    tasks = submit_all(sched, [1, 2, 3, 4])
    await eventually(lambda: sched.depth == 4)
    rec.gate.set()
    async with asyncio.timeout(TIMEOUT):
        await asyncio.gather(first, *tasks)
    assert [s.size for s in stats] == [1, 3, 1]
    assert all(s.seconds >= 0 for s in stats)
    assert max(depths) == 4 and depths[-1] == 0


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        BatchScheduler(Recorder(), max_batch=0)


# --- deadlines --------------------------------------------------------------------------------


async def test_waiting_jobs_run_earliest_deadline_first() -> None:
    rec = Recorder(open_gate=False)
    sched: BatchScheduler[int, int] = BatchScheduler(rec, max_batch=2, max_wait=0)
    first = await hold_first_batch(sched, rec)
    far = time.perf_counter() + 1000
    tasks = [asyncio.create_task(sched.submit(j, far - j)) for j in (1, 2, 3, 4)]
    tasks.append(asyncio.create_task(sched.submit(5)))  # no deadline: after every deadline
    await eventually(lambda: sched.depth == 5)
    rec.gate.set()
    async with asyncio.timeout(TIMEOUT):
        assert await asyncio.gather(first, *tasks) == [0, 10, 20, 30, 40, 50]
    assert rec.batches == [[0], [4, 3], [2, 1], [5]]
    await sched.close()


async def test_a_job_that_cannot_meet_its_deadline_goes_to_the_fallback() -> None:
    """The model never starts a window that can no longer finish in time; the fallback answers
    it in the same turn, and the stats count it."""
    rec = Recorder(open_gate=False)
    quick: list[list[int]] = []

    def fallback(jobs: list[int]) -> list[int]:
        quick.append(list(jobs))
        return [-j for j in jobs]

    stats: list[BatchStats] = []
    sched: BatchScheduler[int, int] = BatchScheduler(
        rec, fallback=fallback, max_batch=4, max_wait=0, on_batch=stats.append)
    first = await hold_first_batch(sched, rec)
    now = time.perf_counter()
    on_time = [asyncio.create_task(sched.submit(j, now + 1000)) for j in (1, 2)]
    late = [asyncio.create_task(sched.submit(j, now - 1)) for j in (3, 4)]
    await eventually(lambda: sched.depth == 4)
    rec.gate.set()
    async with asyncio.timeout(TIMEOUT):
        assert await asyncio.gather(first, *on_time, *late) == [0, 10, 20, -3, -4]
    assert rec.batches == [[0], [1, 2]]
    assert quick == [[3, 4]]
    assert [(s.size, s.fallback, s.late) for s in stats] == [(1, 0, 0), (2, 2, 2)]
    await sched.close()


async def test_the_fallbacks_answers_do_not_wait_for_the_turns_model_batch() -> None:
    """A review: a late window's degraded verdict was held until the same turn's model batch
    ended, arriving up to a turn after its deadline. It is answered when the sweep ends; and
    the stats give the batch's own time apart from the sweep's (the scorer latency metric
    reported a 5 ms batch as 107 ms)."""
    hold = threading.Event()

    def process(jobs: list[int]) -> list[int]:
        if not hold.wait(TIMEOUT):
            raise TimeoutError("never released")
        return [10 * j for j in jobs]

    def fallback(jobs: list[int]) -> list[int]:
        time.sleep(0.3)  # a sweep against a large evidence set
        return [-j for j in jobs]

    stats: list[BatchStats] = []
    sched: BatchScheduler[int, int] = BatchScheduler(
        process, fallback=fallback, max_batch=4, max_wait=0, on_batch=stats.append)
    now = time.perf_counter()
    model = asyncio.create_task(sched.submit(1, now + 1000))
    late = asyncio.create_task(sched.submit(2, now - 1))
    async with asyncio.timeout(TIMEOUT):
        assert await late == -2
        assert not model.done()
        assert sched.overdue(time.perf_counter()) == 0.0  # both taken by the turn
        hold.set()
        assert await model == 10
    (turn,) = stats
    assert (turn.size, turn.fallback, turn.late) == (1, 1, 1)
    assert turn.model_seconds is not None and turn.seconds >= 0.3 > turn.model_seconds + 0.25
    await sched.close()


async def test_overdue_is_how_far_past_its_deadline_the_latest_waiting_job_is() -> None:
    """A long deadline's on-time wait is not overload (a review: a 2 s deadline's 0.6 s wait
    tripped a limit on the wait itself); a job without one counts its whole wait."""
    rec = Recorder(open_gate=False)
    sched: BatchScheduler[int, int] = BatchScheduler(rec, max_batch=1, max_wait=0)
    first = await hold_first_batch(sched, rec)
    assert sched.overdue(time.perf_counter()) == 0.0  # job 0 runs, nothing waits
    queued = time.perf_counter()
    on_time = asyncio.create_task(sched.submit(1, queued + 2.0))
    await eventually(lambda: sched.depth == 1)
    assert sched.overdue(queued + 1.0) == pytest.approx(-1.0)  # a second before its deadline
    assert sched.overdue(queued + 3.0) == pytest.approx(1.0)
    unbounded = asyncio.create_task(sched.submit(2))
    await eventually(lambda: sched.depth == 2)
    slack = time.perf_counter() - queued  # job 2 was queued within this of ``queued``
    assert 5.0 - slack <= sched.overdue(queued + 5.0) <= 5.0  # its whole wait
    # A job submitted past its deadline (it waited in its connection's backlog) counts from
    # its submission: the scheduler is not behind for it.
    late = asyncio.create_task(sched.submit(3, queued - 60.0))
    await eventually(lambda: sched.depth == 3)
    assert sched.overdue(queued + 5.0) <= 5.0
    rec.gate.set()
    async with asyncio.timeout(TIMEOUT):
        assert await asyncio.gather(first, on_time, unbounded, late) == [0, 10, 20, 30]
    assert sched.overdue(time.perf_counter()) == 0.0
    await sched.close()


async def test_a_failing_model_batch_leaves_the_fallbacks_answers_of_its_turn_alone() -> None:
    """A model batch that raises is retried job by job; the late jobs the fallback answered in
    the same turn are answered once, not swept (and counted as degraded) a second time."""
    rec = Recorder(open_gate=False)
    quick: list[list[int]] = []

    def fallback(jobs: list[int]) -> list[int]:
        quick.append(list(jobs))
        return [-j for j in jobs]

    sched: BatchScheduler[int, int] = BatchScheduler(rec, fallback=fallback, max_batch=4,
                                                     max_wait=0)
    first = await hold_first_batch(sched, rec)
    now = time.perf_counter()
    on_time = [asyncio.create_task(sched.submit(j, now + 1000)) for j in (1, -2)]
    late = [asyncio.create_task(sched.submit(j, now - 1)) for j in (3, 4)]
    await eventually(lambda: sched.depth == 4)
    rec.gate.set()
    async with asyncio.timeout(TIMEOUT):
        results = await asyncio.gather(first, *on_time, *late, return_exceptions=True)
    assert results[:2] == [0, 10] and results[3:] == [-3, -4]
    assert isinstance(results[2], ValueError)
    assert quick == [[3, 4]]
    assert rec.batches == [[0], [1, -2], [1], [-2]]
    await sched.close()


async def test_without_a_fallback_late_jobs_still_run_on_the_model() -> None:
    rec = Recorder()
    sched: BatchScheduler[int, int] = BatchScheduler(rec, max_batch=4, max_wait=0)
    async with asyncio.timeout(TIMEOUT):
        assert await sched.submit(7, time.perf_counter() - 5) == 70
    assert rec.batches == [[7]]
    await sched.close()


async def test_a_fallback_sweep_is_kept_within_max_turn() -> None:
    """One client's hundreds of late windows must not run back to back on the worker thread
    while other clients' on-time windows wait: once the fallback's cost a job is known, a turn
    sweeps only what fits in ``max_turn`` (at least one), and a model batch runs between sweeps."""
    rec = Recorder(open_gate=False)
    sweeps: list[list[int]] = []

    def slow_fallback(jobs: list[int]) -> list[int]:
        sweeps.append(list(jobs))
        time.sleep(0.01 * len(jobs))  # 10 ms a job, like the lexical tier on a large context
        return [-j for j in jobs]

    sched: BatchScheduler[int, int] = BatchScheduler(
        rec, fallback=slow_fallback, max_batch=4, max_wait=0, max_turn=0.03)
    first = await hold_first_batch(sched, rec)
    now = time.perf_counter()
    late = [asyncio.create_task(sched.submit(j, now - 1)) for j in range(1, 41)]
    on_time = asyncio.create_task(sched.submit(100, now + 1000))
    await eventually(lambda: sched.depth == 41)
    rec.gate.set()
    async with asyncio.timeout(TIMEOUT):
        assert await asyncio.gather(*late) == [-j for j in range(1, 41)]
        assert await on_time == 1000
        await first
    assert sweeps[0] == [1]  # its cost not known yet: one job measures it
    assert sched.fallback_cost >= 0.01
    assert all(1 <= len(s) <= 3 for s in sweeps[1:])  # 30 ms of max_turn at >= 10 ms a job
    assert [100] in rec.batches  # the on-time job ran on the model, between the sweeps
    await sched.close()


async def test_owners_get_equal_shares_of_a_turn() -> None:
    """A client whose whole backlog is overdue comes first by deadline; with owners named, it
    gets only its share of each turn, and another client's window is answered in the first
    turn instead of after all of that backlog."""
    rec = Recorder(open_gate=False)
    sweeps: list[list[int]] = []

    def fallback(jobs: list[int]) -> list[int]:
        sweeps.append(list(jobs))
        return [-j for j in jobs]

    sched: BatchScheduler[int, int] = BatchScheduler(rec, fallback=fallback, max_batch=2,
                                                     max_wait=0)
    first = await hold_first_batch(sched, rec)
    now = time.perf_counter()
    flood = [asyncio.create_task(sched.submit(j, now - 10 + j / 100, "a")) for j in range(1, 41)]
    other = asyncio.create_task(sched.submit(100, now - 1, "b"))
    await eventually(lambda: sched.depth == 41)
    rec.gate.set()
    async with asyncio.timeout(TIMEOUT):
        assert await other == -100
        assert await asyncio.gather(*flood) == [-j for j in range(1, 41)]
        await first
    # a sweep of 16 (8 batches of 2): each owner's share first (8 and 1), then the room left
    # to the earliest of the rest, so no room is idle
    assert sweeps[0] == [*range(1, 16), 100]
    assert [len(s) for s in sweeps[1:]] == [16, 9]
    await sched.close()


async def test_one_slow_measurement_does_not_keep_the_model_idle_for_good() -> None:
    """A cost estimate that makes every job look too late (a cold start, a pause) is not
    re-measured by anything, since no job reaches the model: it ages on such turns until the
    model is tried again, and the batch that runs measures the real cost."""
    rec = Recorder()
    sched: BatchScheduler[int, int] = BatchScheduler(
        rec, fallback=lambda jobs: [-j for j in jobs], max_batch=4, max_wait=0)
    sched.item_cost = 5.0  # as if one batch had taken five seconds a job
    answers = []
    async with asyncio.timeout(TIMEOUT):
        for j in range(1, 31):
            answers.append(await sched.submit(j, time.perf_counter() + 0.5))
            if rec.batches:
                break
    assert answers[0] == -1  # first answered by the fallback ...
    assert answers[-1] == 10 * len(answers) and len(answers) <= 15  # ... then the model again
    assert sched.item_cost < 0.5
    await sched.close()


async def test_a_model_turn_is_kept_within_max_turn() -> None:
    """Work arriving mid-turn waits for the turn, so a turn holds only as many items as the
    recent cost per item lets finish within ``max_turn`` (at least one)."""
    rec = Recorder(open_gate=False)
    sched: BatchScheduler[int, int] = BatchScheduler(
        rec, fallback=lambda jobs: [-j for j in jobs], max_batch=8, max_wait=0, max_turn=1e-9)
    first = await hold_first_batch(sched, rec)
    far = time.perf_counter() + 1000
    tasks = [asyncio.create_task(sched.submit(j, far + j)) for j in (1, 2, 3)]
    await eventually(lambda: sched.depth == 3)
    rec.gate.set()
    async with asyncio.timeout(TIMEOUT):
        assert await asyncio.gather(first, *tasks) == [0, 10, 20, 30]
    assert rec.batches == [[0], [1], [2], [3]]
    assert sched.item_cost > 0
    await sched.close()


async def test_a_cost_estimate_aged_to_nothing_does_not_stop_the_scheduler() -> None:
    """A review: a 4 MB answer's windows, all past their deadline, aged the model's cost
    estimate for thousands of turns to a subnormal float; ``max_turn / cost`` overflowed in
    ``int()``, the scheduler's task died, and no verdict came again. The estimate has a floor."""
    rec = Recorder()
    sched: BatchScheduler[int, int] = BatchScheduler(
        rec, fallback=lambda jobs: [-j for j in jobs], max_batch=4, max_wait=0, max_turn=0.05)
    sched.item_cost = sched.fallback_cost = 5e-324  # the least subnormal
    past = time.perf_counter() - 1.0
    async with asyncio.timeout(TIMEOUT):
        assert await asyncio.gather(*(sched.submit(j, past) for j in (1, 2, 3))) == [-1, -2, -3]
        assert await sched.submit(4, time.perf_counter() + 60) == 40  # still served
    assert sched.item_cost >= 1e-6
    await sched.close()


async def test_a_fault_of_the_scheduler_fails_its_waiting_jobs_and_it_goes_on() -> None:
    """A fault in the scheduler's own bookkeeping (not in a job) is the answer of the jobs it
    held; the jobs after them are served as usual."""
    rec = Recorder()
    sched: BatchScheduler[int, int] = BatchScheduler(rec, max_batch=4, max_wait=0)
    select = sched._select
    faults = [RuntimeError("a bookkeeping fault")]

    def failing_once(now: float) -> tuple[list[Any], list[Any]]:
        if faults:
            raise faults.pop()
        return select(now)

    sched._select = failing_once  # type: ignore[method-assign]
    async with asyncio.timeout(TIMEOUT):
        with pytest.raises(RuntimeError, match="bookkeeping fault"):
            await sched.submit(1)
        assert await sched.submit(2) == 20
    assert sched.depth == 0
    await sched.close()


async def test_a_fault_during_a_turn_fails_its_jobs_only() -> None:
    """A fault of the scheduler's own while a turn runs (not in a job, which is answered on
    its own) is the answer of that turn's jobs; the jobs still waiting are not its to fail."""
    rec = Recorder()
    sched: BatchScheduler[int, int] = BatchScheduler(rec, max_batch=1, max_wait=0)
    turn = sched._turn
    faults = [RuntimeError("a fault in the turn")]

    async def failing_once(*args: Any) -> Any:
        if faults:
            raise faults.pop()
        return await turn(*args)

    sched._turn = failing_once  # type: ignore[method-assign]
    async with asyncio.timeout(TIMEOUT):
        first, *rest = await asyncio.gather(*(sched.submit(j) for j in (1, 2, 3)),
                                            return_exceptions=True)
    assert isinstance(first, RuntimeError) and rest == [20, 30]
    assert rec.batches == [[2], [3]]
    await sched.close()

async def test_broken_report_hooks_fail_no_job() -> None:
    """A diff review: a depth gauge that raised in the runner left the turn's jobs unanswered,
    and a batch report that raised failed every other queued job though it ran none of them.
    The hooks' faults are logged; every job gets its own answer."""
    def depth(_: int) -> None:
        raise RuntimeError("gauge broke")

    def report(_: BatchStats) -> None:
        raise RuntimeError("report broke")

    rec = Recorder()
    sched: BatchScheduler[int, int] = BatchScheduler(rec, max_batch=1, max_wait=0,
                                                     on_depth=depth, on_batch=report)
    async with asyncio.timeout(TIMEOUT):
        assert await asyncio.gather(*(sched.submit(j) for j in range(4))) == [0, 10, 20, 30]
    await sched.close()


# --- instances and sequences ------------------------------------------------------------------


class Gates:
    """A batch function holding each job at a gate of its own, recording which jobs are inside
    it at once and on which threads."""

    def __init__(self) -> None:
        self.gates: dict[int, threading.Event] = {}
        self.entered: dict[int, threading.Event] = {}
        self.inside: set[int] = set()
        self.together: list[frozenset[int]] = []  # what was inside each time one entered
        self.threads: dict[int, int] = {}
        self.lock = threading.Lock()

    def gate(self, job: int) -> threading.Event:
        with self.lock:
            return self.gates.setdefault(job, threading.Event())

    def was_entered(self, job: int) -> threading.Event:
        with self.lock:
            return self.entered.setdefault(job, threading.Event())

    def __call__(self, jobs: list[int]) -> Sequence[int]:
        with self.lock:
            self.inside.update(jobs)
            self.together.append(frozenset(self.inside))
            for j in jobs:
                self.threads[j] = threading.get_ident()
        for j in jobs:
            self.was_entered(j).set()
        for j in jobs:
            if not self.gate(j).wait(TIMEOUT):
                raise TimeoutError("gate never opened")
        with self.lock:
            self.inside.difference_update(jobs)
        return [j * 10 for j in jobs]

    async def wait_entered(self, job: int) -> None:
        assert await asyncio.to_thread(self.was_entered(job).wait, TIMEOUT)


async def test_two_instances_run_two_batches_at_once_on_threads_of_their_own() -> None:
    """A job that arrives while another's batch runs starts at once on the second instance,
    instead of waiting for that batch (Triton's instance groups)."""
    fn = Gates()
    sched: BatchScheduler[int, int] = BatchScheduler(fn, max_batch=4, max_wait=0, instances=2)
    loop_thread = threading.get_ident()
    async with asyncio.timeout(TIMEOUT):
        first = asyncio.create_task(sched.submit(1))
        await fn.wait_entered(1)
        second = asyncio.create_task(sched.submit(2))
        await fn.wait_entered(2)  # while 1 is still held at its gate
        assert frozenset({1, 2}) in fn.together
        fn.gate(2).set()
        assert await second == 20
        assert not first.done()
        fn.gate(1).set()
        assert await first == 10
    assert fn.threads[1] != fn.threads[2] and loop_thread not in fn.threads.values()
    await sched.close()


async def test_one_sequences_jobs_never_run_in_two_turns_at_once() -> None:
    """The server names each job's stream: a stream's next window waits for the turn that
    holds its window before, in deadline order, while another stream's runs on the second
    instance (Triton's sequence batcher keeps a sequence on one instance)."""
    fn = Gates()
    sched: BatchScheduler[int, int] = BatchScheduler(fn, max_batch=4, max_wait=0, instances=2)
    async with asyncio.timeout(TIMEOUT):
        first = asyncio.create_task(sched.submit(1, sequence="a"))
        await fn.wait_entered(1)
        later = [asyncio.create_task(sched.submit(j, sequence="a")) for j in (2, 3)]
        other = asyncio.create_task(sched.submit(9, sequence="b"))
        await fn.wait_entered(9)
        fn.gate(9).set()
        assert await other == 90
        assert not fn.was_entered(2).is_set() and not fn.was_entered(3).is_set()
        assert sched.depth == 2  # held back, not dropped
        fn.gate(2).set()
        fn.gate(3).set()
        fn.gate(1).set()
        assert await asyncio.gather(first, *later) == [10, 20, 30]
    assert all(not ({1, 2} <= t or {1, 3} <= t) for t in fn.together)
    await sched.close()


async def test_close_waits_for_the_jobs_a_running_sequence_held_back() -> None:
    fn = Gates()
    sched: BatchScheduler[int, int] = BatchScheduler(fn, max_batch=4, max_wait=0, instances=2)
    async with asyncio.timeout(TIMEOUT):
        first = asyncio.create_task(sched.submit(1, sequence="a"))
        await fn.wait_entered(1)
        held = asyncio.create_task(sched.submit(2, sequence="a"))
        await eventually(lambda: sched.depth == 1)
        closing = asyncio.create_task(sched.close())
        fn.gate(2).set()
        fn.gate(1).set()
        assert await asyncio.gather(first, held) == [10, 20]
        await closing
    with pytest.raises(SchedulerClosed):
        await sched.submit(3)


def test_instances_must_be_positive() -> None:
    with pytest.raises(ValueError, match="instances"):
        BatchScheduler(Recorder(), instances=0)


def _logging_pair(log: list[tuple[str, int]]) -> tuple[Any, Any]:
    """A batch function and a fallback that log which ran which job, in order."""
    def process(jobs: list[int]) -> list[int]:
        log.extend(("model", j) for j in jobs)
        return [10 * j for j in jobs]

    def fallback(jobs: list[int]) -> list[int]:
        log.extend(("fallback", j) for j in jobs)
        return [-j for j in jobs]

    return process, fallback


async def test_a_late_window_is_not_swept_ahead_of_its_streams_window_before() -> None:
    """A review: a turn sweeps its late jobs before its batch, so a stream's next window, late
    at its place in the queue, was scored before the window it follows, which was still in
    time, and read what the window before that had found. It waits for a later turn."""
    log: list[tuple[str, int]] = []
    process, fallback = _logging_pair(log)
    sched: BatchScheduler[int, int] = BatchScheduler(process, fallback=fallback, max_batch=4,
                                                     max_wait=0)
    sched.item_cost = 1.0  # a second a window: the third in line cannot make it in time
    now = time.perf_counter()
    async with asyncio.timeout(TIMEOUT):
        results = await asyncio.gather(sched.submit(1, now + 1.5),
                                       sched.submit(2, now + 2.5, sequence="a"),
                                       sched.submit(3, now + 2.6, sequence="a"))
    assert log.index(("model", 2)) < next(i for i, (_, j) in enumerate(log) if j == 3)
    assert results[:2] == [10, 20]
    await sched.close()


async def test_a_window_is_not_run_ahead_of_its_streams_window_left_queued() -> None:
    """A review: the window before it overdue but past the turn's sweep (left for the next),
    a stream's next window went to the turn's batch first."""
    log: list[tuple[str, int]] = []
    process, fallback = _logging_pair(log)
    sched: BatchScheduler[int, int] = BatchScheduler(process, fallback=fallback, max_batch=1,
                                                     max_wait=0)
    now = time.perf_counter()
    others = [sched.submit(j, now - 10 + j / 100) for j in range(10, 18)]  # a full sweep
    async with asyncio.timeout(TIMEOUT):
        *_, before, after = await asyncio.gather(*others, sched.submit(1, now - 1, sequence="a"),
                                                 sched.submit(2, now + 1000, sequence="a"))
    assert (before, after) == (-1, 20)
    assert log.index(("fallback", 1)) < log.index(("model", 2))
    await sched.close()


async def test_a_burst_is_shared_with_an_idle_instance() -> None:
    """A review: with both instances idle, the first to select took a whole burst and ran it
    row after row while the other waited, and its last rows missed their deadlines."""
    fn = Gates()
    sched: BatchScheduler[int, int] = BatchScheduler(fn, max_batch=8, max_wait=0, instances=2)
    async with asyncio.timeout(TIMEOUT):
        tasks = [asyncio.create_task(sched.submit(j)) for j in range(1, 9)]
        for j in range(1, 9):
            await fn.wait_entered(j)  # every job inside at once: half on each instance
        for j in range(1, 9):
            fn.gate(j).set()
        assert await asyncio.gather(*tasks) == [10 * j for j in range(1, 9)]
    assert len(set(fn.threads.values())) == 2
    await sched.close()
