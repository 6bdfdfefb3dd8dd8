"""Load-test scripts replayed through the grounding engine alone: no sockets, no pacing.

For the scripts under ``docs/results`` that ask what a load test's window costs on the scoring
thread, or what evidence and score it gets from the collection ``loadtest.run --collection``
indexed: the engine that collection's server would build, the generator's scripts, and one
window's turn traced as the server takes it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtest.corpus import DEFAULT_CORPUS, ScriptBuilder, corpus_files, load_paragraphs
from stream_guard.config import load_settings
from stream_guard.metrics import Metrics
from stream_guard.scores import WindowScore
from stream_guard.scoring.engine import Alignment, CheckJob, GroundingEngine
from stream_guard.scoring.factory import build_engine
from stream_guard.train.pairs import TextPipeline


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The collection's data directory and the corpus its scripts come from."""
    p.add_argument("--data-dir", type=Path, required=True,
                   help="the data directory loadtest.run --collection indexed")
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--per-file", type=int, default=300, help="as loadtest.run's default")


@dataclass(frozen=True, slots=True)
class Replay:
    engine: GroundingEngine
    builder: ScriptBuilder
    pipeline: TextPipeline


@asynccontextmanager
async def replay(args: argparse.Namespace) -> AsyncIterator[Replay]:
    """The cascade engine over ``args.data_dir``, the corpus's script builder and the
    server's windowing (:func:`add_arguments`); the engine is closed on the way out."""
    settings = load_settings().replace(tier="cascade", data_dir=args.data_dir)
    engine = await build_engine(settings, Metrics())
    try:
        yield Replay(engine, ScriptBuilder(load_paragraphs(corpus_files(args.corpus),
                                                           args.per_file)),
                     TextPipeline.from_settings(settings))
    finally:
        await engine.close()


@dataclass(frozen=True, slots=True)
class Turn:
    """One window through the engine: its evidence and signals, its score, and the seconds
    of its evidence step and of the whole turn."""

    alignment: Alignment
    score: WindowScore
    align_s: float
    turn_s: float


def turn(engine: GroundingEngine, job: CheckJob) -> Turn:
    """``job``'s window through one turn of the engine (``_process``: evidence, then the
    detector), its evidence step traced from within: a second evidence step would find the
    stream where the first left it (a window's evidence depends on the window before), so a
    stream's windows go through in order, each once."""
    seen: list[tuple[Alignment, float]] = []
    untraced = engine.align

    def traced(*args: Any, **kwargs: Any) -> list[Alignment]:
        t0 = time.perf_counter()
        out = untraced(*args, **kwargs)
        seen.append((out[0], time.perf_counter() - t0))
        return out

    engine.align = traced  # type: ignore[method-assign]
    try:
        t0 = time.perf_counter()
        (score,) = engine._process([job])
        turn_s = time.perf_counter() - t0
    finally:
        engine.align = untraced  # type: ignore[method-assign]
    (alignment, align_s), = seen
    return Turn(alignment, score, align_s, turn_s)
