"""Where the engine runs a window check: on the event loop or on the scheduler's thread.

Socket-free: the engine is driven directly, and the scheduler's batch histogram tells whether a
check went through the worker thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from stream_guard.metrics import Metrics
from stream_guard.protocol.frames import ContextItem
from stream_guard.scores import Pair, PairScore, WindowScore
from stream_guard.scoring.engine import (
    INLINE_LEXICAL_MAX_SENTENCES,
    ON_LOOP_CHECKS_PER_TURN,
    SMALL_SETUP_CHARS,
    CheckJob,
    EngineConfig,
    GroundingEngine,
    StreamRequest,
)

SMALL = "The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris."
LARGE = " ".join(f"Exhibit {i} of the museum shows painting number {i}."
                 for i in range(INLINE_LEXICAL_MAX_SENTENCES + 1))


def _batches(metrics: Metrics) -> float:
    (family,) = metrics.batch_size.collect()
    return next(s.value for s in family.samples if s.name.endswith("_count"))


async def test_the_lexical_tier_checks_small_inline_contexts_on_the_loop() -> None:
    metrics = Metrics()
    engine = GroundingEngine(EngineConfig(tier="lexical"), metrics)
    threads: list[str] = []
    process = engine._process

    def recording(jobs: list[CheckJob]) -> list[WindowScore]:
        threads.append(threading.current_thread().name)
        return process(jobs)

    engine._process = recording  # type: ignore[method-assign]
    try:
        small = engine.prepare(StreamRequest("t", [ContextItem("c", SMALL)], None))
        large = engine.prepare(StreamRequest("t", [ContextItem("c", LARGE)], None))
        assert len(small.sentences) == 2
        assert len(large.sentences) == INLINE_LEXICAL_MAX_SENTENCES + 1

        supported = await engine.check(small, "The Eiffel Tower was completed in 1889.", "")
        unsupported = await engine.check(small, "Its architect was Frida Kahlo of Mexico.", "")
        assert supported.support > engine.threshold > unsupported.support
        assert supported.evidence and supported.evidence[0].id == "c#0"
        assert threads == [threading.current_thread().name] * 2  # on the loop, no batch
        assert _batches(metrics) == 0

        far = await engine.check(large, "Exhibit 7 of the museum shows painting number 7.", "")
        assert far.support > engine.threshold
        assert len(threads) == 2  # not checked in check() itself: the scheduler ran one batch
        assert _batches(metrics) == 1

        # Figures: each window's are compared with every one the evidence states, which cost
        # 5-11 ms a window on the loop for 64 sentences dense with them (a review).
        figures = " ".join(f"Item {i} costs {i}.5 million dollars." for i in range(40))
        dense = engine.prepare(StreamRequest("t", [ContextItem("c", figures)], None))
        assert len(dense.sentences) <= INLINE_LEXICAL_MAX_SENTENCES
        assert engine.check_at_once(dense, "Item 3 costs 3.5 million dollars.", "") is None

        # And length: a few long sentences are read whole when a window is scoped (a review
        # held the loop for seconds with 57 sentences of 31 KB).
        long = engine.prepare(StreamRequest("t", [ContextItem("c", "The K-1 heater ran " + (
            "from 1999 to 2000, " * 500) + "then stopped.")], None))
        assert len(long.sentences) <= INLINE_LEXICAL_MAX_SENTENCES and long.chars > 8_000
        assert engine.check_at_once(long, "The K-1 heater ran from 1999 to 2000.", "") is None
        assert engine.check_at_once(small, "The K-1 heater ran from 1999 to 2000.", "") \
            is not None

        # Checks that wake together (their stream's evidence arrived) share a budget a turn.
        scores = await asyncio.gather(*(engine.check(small, f"The tower has {i} floors.", "")
                                        for i in range(ON_LOOP_CHECKS_PER_TURN + 4)))
        assert len(scores) == ON_LOOP_CHECKS_PER_TURN + 4
        # (the scheduler calls the engine's own _process, which this test does not record)
        assert threads[3:] == [threading.current_thread().name] * ON_LOOP_CHECKS_PER_TURN
        assert _batches(metrics) >= 2  # the rest went to the scheduler
    finally:
        await engine.close()


async def test_cancelled_set_ups_never_run_more_at_once_than_the_lane_allows() -> None:
    """Cancelling a stream's set-up while its thread ran freed the lane at once, so streams
    opened and cancelled in a loop ran more set-ups at once than ``setup_concurrency`` (a
    review found 3 against 2); one waiting for the lane still leaves it at once."""
    engine = GroundingEngine(EngineConfig(tier="lexical", setup_concurrency=1), Metrics())
    running = peak = 0
    lock = threading.Lock()
    release = threading.Event()
    prepare = engine.prepare

    def slow(request: StreamRequest) -> Any:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        release.wait(5)
        with lock:
            running -= 1
        return prepare(request)

    engine.prepare = slow  # type: ignore[method-assign]
    request = StreamRequest("t", [ContextItem("c", SMALL)], None)
    try:
        first = asyncio.ensure_future(engine.open_stream(request))
        waiting = asyncio.ensure_future(engine.open_stream(request))
        await asyncio.sleep(0.1)  # the first runs in its thread, the second waits for the lane
        first.cancel()
        waiting.cancel()
        third = asyncio.ensure_future(engine.open_stream(request))
        await asyncio.sleep(0.1)
        assert peak == 1  # the third has not started beside the cancelled first
        release.set()
        assert (await third).sentences is not None
        for task in (first, waiting):
            with pytest.raises(asyncio.CancelledError):
                await task
        assert peak == 1
    finally:
        release.set()
        await engine.close()


def test_a_check_at_once_outside_an_event_loop_is_still_made() -> None:
    engine = GroundingEngine(EngineConfig(tier="lexical"), Metrics())
    small = engine.prepare(StreamRequest("t", [ContextItem("c", SMALL)], None))
    score = engine.check_at_once(small, "The Eiffel Tower was completed in 1889.", "")
    assert score is not None and score.support > engine.threshold


async def test_a_late_window_of_the_lexical_tier_is_not_marked_degraded() -> None:
    """Degraded means the model was given up for the lexical tier's verdict; on the lexical
    tier a window past its deadline gets the verdict it would have had (a review saw most of a
    loaded lexical server's verdicts flagged degraded and counted)."""
    metrics = Metrics()
    engine = GroundingEngine(EngineConfig(tier="lexical"), metrics)
    try:
        large = engine.prepare(StreamRequest("t", [ContextItem("c", LARGE)], None))
        text = "Exhibit 3 of the museum shows painting number 3."
        late = await engine.check(large, text, "", deadline=0.0)  # long past
        on_time = await engine.check(large, text, "")
        assert not late.degraded and late == on_time
        (family,) = metrics.degraded_windows.collect()
        assert all(s.value == 0 for s in family.samples if s.name.endswith("_total"))
    finally:
        await engine.close()


def test_a_turn_of_degraded_windows_alone_is_no_batch() -> None:
    """A scorer turn whose windows all went to the lexical tier ran no model batch: it was
    counted as a batch of size 0, dragging the dashboard's batch sizes down under overload."""
    from stream_guard.scoring.scheduler import BatchStats

    metrics = Metrics()
    engine = GroundingEngine(EngineConfig(tier="lexical"), metrics)
    engine._observe_batch(BatchStats(0, 0.01, 0.2, fallback=3, late=3))
    engine._observe_batch(BatchStats(2, 0.01, 0.1))
    (family,) = metrics.batch_size.collect()
    assert {s.name: s.value for s in family.samples}["stream_guard_scorer_batch_size_count"] == 1
    assert metrics.deadline_misses._value.get() == 3


class _NonFinite:
    """A detector that answers NaN or infinity (an fp16 overflow, a broken export)."""

    name = "non-finite"

    def __init__(self, support: float, contradiction: float) -> None:
        self.answer = PairScore(support, contradiction)

    def score_pairs(self, pairs: Sequence[Pair]) -> list[PairScore]:
        return [self.answer for _ in pairs]


@pytest.mark.parametrize(("support", "contradiction"), [
    (float("nan"), 0.0), (0.01, float("nan")), (float("inf"), 0.0)])
async def test_a_non_finite_model_score_gets_the_lexical_verdict_marked_degraded(
        support: float, contradiction: float) -> None:
    """A review: fused, a NaN support was clipped to the highest model logit and a
    fabrication passed as supported; a NaN contradiction froze the stream."""
    metrics = Metrics()
    engine = GroundingEngine(EngineConfig(tier="cascade"), metrics,
                             model=_NonFinite(support, contradiction))
    lexical = GroundingEngine(EngineConfig(tier="lexical"), Metrics())
    try:
        request = StreamRequest("t", [ContextItem("c", SMALL)], None)
        window = "Its architect was Frida Kahlo of Mexico."
        score = await engine.check(engine.prepare(request), window, "")
        expected = lexical.check_at_once(lexical.prepare(request), window, "")
        assert expected is not None
        assert score.degraded and score.support == expected.support
        assert metrics.degraded_windows._value.get() == 1
    finally:
        await engine.close()
        await lexical.close()


class _FailsOn:
    """A detector that raises on any batch holding ``word`` (a GPU out of memory on one
    input, an input its runtime rejects) and answers the others as supported."""

    name = "fails-on"

    def __init__(self, word: str | None) -> None:
        self.word = word
        self.calls = 0

    def score_pairs(self, pairs: Sequence[Pair]) -> list[PairScore]:
        self.calls += 1
        if self.word is None or any(self.word in p.hypothesis for p in pairs):
            raise RuntimeError("model exploded")
        return [PairScore(0.9, 0.0) for _ in pairs]


@pytest.mark.parametrize("word", ["Kahlo", None])
async def test_a_window_the_model_fails_on_gets_the_lexical_verdict_marked_degraded(
        word: str | None) -> None:
    """A failing model must not let its windows pass unchecked: each pair it fails on gets the
    lexical tier's verdict, marked degraded; a batch that failed is run again pair by pair,
    so the window beside a bad input keeps the model's reading."""
    metrics = Metrics()
    model = _FailsOn(word)
    engine = GroundingEngine(EngineConfig(tier="cascade"), metrics, model=model)
    lexical = GroundingEngine(EngineConfig(tier="lexical"), Metrics())
    try:
        request = StreamRequest("t", [ContextItem("c", SMALL)], None)
        evidence = engine.prepare(request)
        bad, good = "Its architect was Frida Kahlo of Mexico.", "It is 330 metres tall."
        scores = engine._process([CheckJob(evidence, bad, ""), CheckJob(evidence, good, "")])
        expected = lexical.check_at_once(lexical.prepare(request), bad, "")
        assert expected is not None
        assert scores[0].degraded and scores[0].support == expected.support
        assert scores[1].degraded is (word is None)
        assert model.calls == 3  # the batch, then each pair alone
        assert metrics.degraded_windows._value.get() == (1 if word else 2)
    finally:
        await engine.close()
        await lexical.close()


async def test_a_large_context_whose_reading_is_kept_takes_the_small_lane() -> None:
    """Its set-up reads nothing but the prompt: it waited behind other streams' large reads
    in the large lane (a review)."""
    assert len(LARGE * 2) > SMALL_SETUP_CHARS
    engine = GroundingEngine(EngineConfig(tier="lexical", setup_concurrency=1), Metrics())
    kept = StreamRequest("t", [ContextItem("kept", LARGE * 2)], None)
    engine.prepare(kept)  # an earlier stream read it
    release = threading.Event()
    prepare = engine.prepare

    def held(request: StreamRequest) -> Any:
        if request.context[0].id == "new":
            release.wait(5)
        return prepare(request)

    engine.prepare = held  # type: ignore[method-assign]
    try:
        blocker = asyncio.ensure_future(
            engine.open_stream(StreamRequest("t", [ContextItem("new", LARGE * 2)], None)))
        await asyncio.sleep(0.1)  # the new large context holds the large lane
        evidence = await asyncio.wait_for(engine.open_stream(kept), 2)
        assert evidence.sentences.sentences and not blocker.done()
        release.set()
        await blocker
    finally:
        release.set()
        await engine.close()
