"""What a stream's setup costs for a large context (a tool's table, or prose); JSON.

Times ``GroundingEngine.prepare`` (the inline evidence read into sentences, indexed, its
figures, places and rows found: the work a ``start`` does off the event loop) for a CSV of
``--rows`` rows, or with ``--prose`` for news prose (the contexts of those records joined, as
many as fit), clipped to a frame's 64 KB as a client would have to, a few contexts (none read
before), keeping the fastest and the median:

    PYTHONPATH=. python docs/results/context_setup_cost.py \\
        --out docs/results/context-setup-cost-REV.json
    PYTHONPATH=. python docs/results/context_setup_cost.py \\
        --prose ../shared/data/dev/halueval_summarization.jsonl \\
        --out docs/results/context-setup-cost-prose-REV.json
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from pathlib import Path
from typing import Any

import orjson

from stream_guard.config import load_settings
from stream_guard.eval.results import code_revision, machine_info, write_report
from stream_guard.metrics import Metrics
from stream_guard.protocol.frames import ContextItem
from stream_guard.scoring.factory import build_engine

FRAME_BYTES = 60_000  # what is left of a 64 KiB start frame for its context


def table(rows: int, seed: int) -> str:
    """A host-status CSV: a name, two figures and a category a row."""
    rng = random.Random(seed)
    lines = ["name,amount0,amount1,status"] + [
        f"r{i},{rng.randint(1, 999)},{rng.randint(1, 999)},{rng.choice(['OK', 'DOWN', 'WARN'])}"
        for i in range(rows)]
    return "\n".join(lines)[:FRAME_BYTES].rsplit("\n", 1)[0]


def prose(path: Path, seed: int) -> str:
    """News prose: the records' contexts from the ``seed``-th hundred on, joined up to a frame."""
    contexts = [str(r["context"]) for r in map(orjson.loads, path.read_bytes().splitlines())
                if isinstance(r.get("context"), str)]
    text = " ".join(contexts[seed * 100:seed * 100 + 400])[:FRAME_BYTES]
    return text.rsplit(" ", 1)[0]


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    engine = await build_engine(load_settings().replace(tier="cascade"), Metrics())
    seconds = []
    try:
        for seed in range(args.repeats):  # another table each time: nothing read before
            context = prose(args.prose, seed) if args.prose else table(args.rows, seed)
            request = engine.validate("default", [ContextItem("c", context)], None, None)
            t0 = time.perf_counter()
            engine.prepare(request)
            seconds.append(time.perf_counter() - t0)
    finally:
        await engine.close()
    return {"context": str(args.prose) if args.prose else "table",
            "rows": context.count("\n"), "chars": len(context),
            "prepare_s": {"min": round(min(seconds), 3),
                          "median": round(statistics.median(seconds), 3)},
            "repeats": args.repeats, "code_revision": code_revision(),
            "machine": machine_info()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=3000)
    p.add_argument("--prose", type=Path, default=None,
                   help="records whose contexts make the prose context, instead of a table")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    write_report(args.out, asyncio.run(measure(args)))


if __name__ == "__main__":
    main()
