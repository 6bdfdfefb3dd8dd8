"""A stream's set-up (GroundingEngine.prepare) against pickling its result each way, on 60
SummEdits-dev and 60 HaluEval summarization contexts (``--data``: the shared dev folder):

    python docs/results/s57/setup_pickle.py --data ../shared/data/dev
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import time
from pathlib import Path

from stream_guard.metrics import Metrics
from stream_guard.protocol.frames import ContextItem
from stream_guard.scoring.engine import EngineConfig, GroundingEngine, StreamRequest


def _ms(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    return (f"{1000 * statistics.mean(ordered):.2f} ms mean, "
            f"p99 {1000 * ordered[int(0.99 * len(ordered))]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()
    records = []
    for name in ("summedits_dev.jsonl", "halueval_summarization.jsonl"):
        with open(args.data / name) as f:
            records += [json.loads(line) for _, line in zip(range(60), f, strict=False)]
    engine = GroundingEngine(EngineConfig(tier="lexical"), Metrics())
    prepare, dump, load, size = [], [], [], []
    for record in records:
        started = time.perf_counter()
        evidence = engine.prepare(StreamRequest(
            "t", [ContextItem("context", record["context"])], None, None))
        prepare.append(time.perf_counter() - started)
        started = time.perf_counter()
        data = pickle.dumps(evidence, protocol=5)
        dump.append(time.perf_counter() - started)
        started = time.perf_counter()
        pickle.loads(data)
        load.append(time.perf_counter() - started)
        size.append(len(data))
    print("prepare", _ms(prepare))
    print("dumps", _ms(dump))
    print("loads", _ms(load))
    print("bytes", statistics.mean(size), max(size))


if __name__ == "__main__":
    main()
