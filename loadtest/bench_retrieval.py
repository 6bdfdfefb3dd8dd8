r"""What finding a window's evidence in a collection costs on the scoring thread; JSON.

Times ``GroundingEngine.align`` (the embedding of the window, and of its stream's prompt with
the first window; the vector and keyword searches; the premise and the lexical signals; not the
cross-encoder) for every window of labelled records streamed against a collection, in order,
one window at a time (a lone window's batch) and in batches of ``--batch`` windows of as many
streams (a loaded server's), each with the engine's cache of chunks read emptied first (a server
that has run a while has read its collection's common chunks already). The collection is one
``stream-guard index add`` built, such as the records' own contexts
(``docs/results/contexts_collection.py``):

    python -m loadtest.bench_retrieval ../shared/data/dev/summedits_dev.jsonl \
        ../shared/data/dev/begin_dev.jsonl --data-dir DIR --collection dev \
        --out loadtest/results/v37/bench-retrieval.json
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np

from stream_guard.config import load_settings
from stream_guard.dataset import read_records
from stream_guard.eval.results import code_revision, machine_info, write_report
from stream_guard.guard.auth import DEFAULT_TENANT
from stream_guard.metrics import Metrics
from stream_guard.scoring.engine import CheckJob, GroundingEngine, read_passage
from stream_guard.scoring.factory import build_engine
from stream_guard.train.pairs import TextPipeline


def _streams(engine: GroundingEngine, records: list[Any], collection: str,
             pipeline: TextPipeline) -> list[list[CheckJob]]:
    """Each record as the window checks the server would make of it, in order, on fresh
    stream evidence."""
    out = []
    for record in records:
        evidence = engine.prepare(engine.validate(DEFAULT_TENANT, [], collection,
                                                  record.prompt))
        out.append([CheckJob(evidence, window.text, window.previous)
                    for window in pipeline.windows(record.response)])
    return out


def _summary(seconds: list[float], windows: int) -> dict[str, float]:
    ms = 1000 * np.array(seconds)
    return {"calls": len(seconds), "windows": windows,
            "ms_per_window_mean": round(float(ms.sum()) / windows, 3),
            "call_ms_p50": round(float(np.percentile(ms, 50)), 3),
            "call_ms_p99": round(float(np.percentile(ms, 99)), 3)}


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    settings = load_settings(args.config).replace(tier="lexical", data_dir=args.data_dir)
    engine = await build_engine(settings, Metrics())
    try:
        records = [r for path in args.data for r in read_records(path)][::args.every]
        pipeline = TextPipeline.from_settings(settings)
        lone: list[float] = []
        read_passage.cache_clear()  # each phase reads its chunks anew
        for jobs in _streams(engine, records, args.collection, pipeline):
            for job in jobs:
                t0 = time.perf_counter()
                engine.align([job])
                lone.append(time.perf_counter() - t0)
        batched: list[float] = []
        read_passage.cache_clear()
        streams = _streams(engine, records, args.collection, pipeline)
        windows = 0
        for start in range(0, len(streams), args.batch):  # window n of each of --batch streams
            group = streams[start:start + args.batch]
            for n in range(max(len(jobs) for jobs in group)):
                batch = [jobs[n] for jobs in group if n < len(jobs)]
                t0 = time.perf_counter()
                engine.align(batch)
                batched.append(time.perf_counter() - t0)
                windows += len(batch)
    finally:
        await engine.close()
    return {"benchmark": "bench_retrieval", "collection": args.collection,
            "records": len(records), "embedder": settings.embedder,
            "evidence_top_k": settings.evidence_top_k,
            "lone_window": _summary(lone, len(lone)),
            f"batches_of_{args.batch}": _summary(batched, windows),
            "code_revision": code_revision(), "machine": machine_info()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", nargs="+", type=Path, help="labelled records (.jsonl)")
    p.add_argument("--data-dir", type=Path, required=True, help="where the collection lives")
    p.add_argument("--collection", required=True)
    p.add_argument("--config", help="TOML settings file")
    p.add_argument("--every", type=int, default=3, help="every Nth record (default: 3)")
    p.add_argument("--batch", type=int, default=16, help="streams per batch (default: 16)")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    write_report(args.out, asyncio.run(measure(args)))


if __name__ == "__main__":
    main()
