"""One window's evidence and score on the scoring thread, inline or from a collection; JSON.

Times the engine's whole turn for one window (``_process``: evidence, then the detector) and,
within it, ``GroundingEngine.align`` (evidence: for a collection stream the window's embedding
and search), each window once, a stream's in order, for the windows of load-test scripts
(``loadtest.corpus``), each stream either sending its paragraph inline or naming the collection
``loadtest.run --collection`` indexed (its ``config.collection.data_dir``). Unlike
``loadtest.bench_retrieval`` the detector runs too, so what one model leaves behind for the
next is in the figure:

    PYTHONPATH=. python docs/results/window_turn_cost.py \\
        --data-dir /tmp/stream-guard-loadtest-kb-H \\
        --out docs/results/collection/figures/window-turn-cost-REV.json
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from loadtest.corpus import DEFAULT_CORPUS, ScriptBuilder, corpus_files, load_paragraphs
from loadtest.kb import COLLECTION, TENANT
from stream_guard.config import load_settings
from stream_guard.eval.results import code_revision, machine_info, write_report
from stream_guard.metrics import Metrics
from stream_guard.protocol.frames import ContextItem
from stream_guard.scoring.engine import CheckJob, GroundingEngine
from stream_guard.scoring.factory import build_engine
from stream_guard.train.pairs import TextPipeline


def _jobs(engine: GroundingEngine, builder: ScriptBuilder, pipeline: TextPipeline,
          streams: int, collection: bool) -> list[CheckJob]:
    rng = random.Random(0)
    out = []
    for _ in range(streams):
        script = builder.build(rng, rng.random() < 0.2)
        request = (engine.validate(TENANT, [], COLLECTION, None) if collection
                   else engine.validate(TENANT, [ContextItem("c", script.context)], None, None))
        evidence = engine.prepare(request)
        out += [CheckJob(evidence, w.text, w.previous) for w in pipeline.windows(script.text)]
    return out


def _turns(engine: GroundingEngine, jobs: list[CheckJob]) -> tuple[list[float], list[float]]:
    """Seconds of each window's evidence step and of its whole turn: each window once, as the
    server takes it (a stream's in order: a window's evidence depends on the one before)."""
    align: list[float] = []
    untimed = engine.align

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return untimed(*args, **kwargs)
        finally:
            align.append(time.perf_counter() - t0)

    engine.align = timed  # type: ignore[method-assign]
    turn = []
    try:
        for job in jobs:
            t0 = time.perf_counter()
            engine._process([job])
            turn.append(time.perf_counter() - t0)
    finally:
        engine.align = untimed  # type: ignore[method-assign]
    return align, turn


def _ms(seconds: list[float]) -> dict[str, float]:
    ms = 1000 * np.array(seconds)
    return {"p50": round(float(np.percentile(ms, 50)), 2),
            "p99": round(float(np.percentile(ms, 99)), 2), "mean": round(float(ms.mean()), 2)}


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    settings = load_settings().replace(tier="cascade", data_dir=args.data_dir)
    engine = await build_engine(settings, Metrics())
    try:
        builder = ScriptBuilder(load_paragraphs(corpus_files(args.corpus), args.per_file))
        pipeline = TextPipeline.from_settings(settings)
        out: dict[str, Any] = {}
        for name, collection in (("collection", True), ("inline", False)):
            jobs = _jobs(engine, builder, pipeline, args.streams, collection)
            warm = _jobs(engine, builder, pipeline, 2, collection)
            for job in warm:  # warm: sessions, caches
                engine._process([job])
            align, turn = _turns(engine, jobs)
            out[name] = {"windows": len(jobs), "align_ms": _ms(align), "turn_ms": _ms(turn)}
    finally:
        await engine.close()
    return {**out, "streams": args.streams, "code_revision": code_revision(),
            "machine": machine_info()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, required=True,
                   help="the data directory loadtest.run --collection indexed")
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--per-file", type=int, default=300, help="as loadtest.run's default")
    p.add_argument("--streams", type=int, default=40)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    write_report(args.out, asyncio.run(measure(args)))


if __name__ == "__main__":
    main()
