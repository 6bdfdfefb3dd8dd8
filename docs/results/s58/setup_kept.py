"""A stream's set-up (``GroundingEngine.prepare``) when its context is read and when its reading
was kept from an earlier stream (fifty-eighth session): the written load's distinct contexts
(``loadtest.corpus.written_contexts``, the first 120), each prepared twice, and a 60 KB
context of news prose; one thread, lexical tier (the reading is the same on every tier).

    PYTHONPATH=. python docs/results/s58/setup_kept.py --data ../shared/data/dev \
        --out docs/results/s58/setup-kept.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from loadtest.corpus import written_contexts
from stream_guard.eval.results import machine_info
from stream_guard.metrics import Metrics
from stream_guard.protocol.frames import ContextItem
from stream_guard.scoring.engine import EngineConfig, GroundingEngine, StreamRequest


def quantile_ms(times: list[float], q: float) -> float:
    return round(sorted(times)[int(q * (len(times) - 1))] * 1000, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    contexts = written_contexts(args.data)[:120]
    with (args.data / "halueval_summarization.jsonl").open() as f:
        news = " ".join(json.loads(line)["context"] for _, line in zip(range(50), f, strict=False))
    engine = GroundingEngine(EngineConfig(tier="lexical"), Metrics())
    engine.prepare(StreamRequest("t", [ContextItem("warm-up", contexts[-1])], None))
    read: list[float] = []
    kept: list[float] = []
    for context in contexts:
        request = StreamRequest("t", [ContextItem("context", context)], None)
        for times in (read, kept):
            start = time.perf_counter()
            engine.prepare(request)
            times.append(time.perf_counter() - start)
    large = StreamRequest("t", [ContextItem("news", news[:60_000])], None)
    large_ms = []
    for _ in range(2):
        start = time.perf_counter()
        engine.prepare(large)
        large_ms.append(round((time.perf_counter() - start) * 1000, 3))
    report = {"contexts": len(contexts),
              "mean_chars": round(sum(map(len, contexts)) / len(contexts)),
              "read_ms": {"p50": quantile_ms(read, 0.5), "p90": quantile_ms(read, 0.9)},
              "kept_ms": {"p50": quantile_ms(kept, 0.5), "p90": quantile_ms(kept, 0.9)},
              "news_60kb_ms": {"read": large_ms[0], "kept": large_ms[1]},
              "machine": machine_info()}
    print(json.dumps(report, indent=1))
    args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
