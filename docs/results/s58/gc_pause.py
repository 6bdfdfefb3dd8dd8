"""How long one full garbage collection holds the interpreter (fifty-eighth session): with the
server's modules imported, then with that start-up heap frozen (``stream_guard.loop.
freeze_heap``, as the server does once ready), then with the written load's contexts kept by
:class:`~stream_guard.evidence.context.ContextReadings` at several budgets. The fastest of
five ``gc.collect(2)`` each.

    PYTHONPATH=. python docs/results/s58/gc_pause.py --data ../shared/data/dev \
        --out docs/results/s58/gc-pause.json
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from pathlib import Path

import stream_guard.scoring.engine  # the server's modules, imported
import stream_guard.server.app  # noqa: F401
from loadtest.corpus import written_contexts
from stream_guard.evidence.context import ContextReadings
from stream_guard.loop import freeze_heap


def full_collection_ms() -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        gc.collect(2)
        times.append((time.perf_counter() - start) * 1000)
    return round(min(times), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    contexts = written_contexts(args.data)
    rows = [{"heap": "start-up", "tracked": len(gc.get_objects()),
             "full_collection_ms": full_collection_ms()}]
    freeze_heap()
    rows.append({"heap": "start-up frozen", "tracked": len(gc.get_objects()),
                 "full_collection_ms": full_collection_ms()})
    for budget in (250_000, 500_000, 1_000_000, 2_000_000):
        store = ContextReadings(budget)
        for context in contexts:
            store.read("t", [("context", context)])
        rows.append({"heap": f"frozen, readings kept within {budget:,} characters",
                     "readings": len(store), "tracked": len(gc.get_objects()),
                     "full_collection_ms": full_collection_ms()})
        del store
        gc.collect()
    for row in rows:
        print(row)
    args.out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
