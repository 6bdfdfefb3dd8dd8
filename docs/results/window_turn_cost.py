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
from pathlib import Path
from typing import Any

import numpy as np

from loadtest.corpus import ScriptBuilder
from loadtest.kb import COLLECTION, TENANT
from loadtest.replay import add_arguments, replay, turn
from stream_guard.eval.results import code_revision, machine_info, write_report
from stream_guard.protocol.frames import ContextItem
from stream_guard.scoring.engine import CheckJob, GroundingEngine
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


def _ms(seconds: list[float]) -> dict[str, float]:
    ms = 1000 * np.array(seconds)
    return {"p50": round(float(np.percentile(ms, 50)), 2),
            "p99": round(float(np.percentile(ms, 99)), 2), "mean": round(float(ms.mean()), 2)}


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    async with replay(args) as r:
        out: dict[str, Any] = {}
        for name, collection in (("collection", True), ("inline", False)):
            jobs = _jobs(r.engine, r.builder, r.pipeline, args.streams, collection)
            for job in _jobs(r.engine, r.builder, r.pipeline, 2, collection):
                r.engine._process([job])  # warm: sessions, caches
            turns = [turn(r.engine, job) for job in jobs]
            out[name] = {"windows": len(jobs), "align_ms": _ms([t.align_s for t in turns]),
                         "turn_ms": _ms([t.turn_s for t in turns])}
    return {**out, "streams": args.streams, "code_revision": code_revision(),
            "machine": machine_info()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(p)
    p.add_argument("--streams", type=int, default=40)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    write_report(args.out, asyncio.run(measure(args)))


if __name__ == "__main__":
    main()
