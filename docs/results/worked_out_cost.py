"""What working out figures costs a window, and a stream's start; JSON.

The engine drops from each window the figures it works out (``quantities.drop_worked_out``),
of its own figures, the previous window's and, where the context is a tool's rows, the values
``text.rows.RowIndex.derived`` works out of the rows the window points at. Measured here:

- the seconds of building the ``RowIndex`` of a 400-row CSV of products (with its columns of
  numbers, as the engine builds it at a stream's start; best of three);
- per window over that CSV, ``derived`` and ``drop_worked_out`` together, for 2,000 windows
  that name two products and give their prices and a difference, half of them wrong: median
  and p99 microseconds, and how many wrong differences were dropped (taken for worked out);
- per window of prose, ``drop_worked_out`` alone: the sentences of the first ``--windows``
  responses of SummEdits-dev and BEGIN-dev (``--data``) against their own contexts' figures,
  median and p99 microseconds. Run from an older checkout (``PYTHONPATH``) it measures that
  code's ``drop_worked_out`` on the same windows.

    python docs/results/worked_out_cost.py --data ../shared/data/dev \
        --out loadtest/results/v30/worked-out-cost.json
"""

from __future__ import annotations

import functools
import inspect
import json
import random
import re
import time
import timeit
from typing import Any

from stream_guard.eval.results import machine_info, results_parser, write_report
from stream_guard.evidence.structured import read
from stream_guard.text.quantities import drop_worked_out, quantity_index
from stream_guard.text.terms import terms

ROWS = 400
WINDOWS = 2000
PROSE_WINDOWS = 3000


def main() -> None:
    parser = results_parser(__doc__)
    args = parser.parse_args()
    rng = random.Random(0)
    report: dict[str, Any] = {
        "command": f"docs/results/worked_out_cost.py --data {args.data} --out {args.out}",
        "machine": machine_info(),
        "prose": _prose(args.data)}
    if "derived" in inspect.signature(drop_worked_out).parameters:
        report["rows"] = _rows(rng)
    write_report(args.out, report)


def _rows(rng: random.Random) -> dict[str, Any]:
    from stream_guard.evidence.structured import column_use
    from stream_guard.text.rows import RowIndex

    products = [(f"Model {chr(65 + i % 26)}{i}", round(rng.uniform(5, 500), 2))
                for i in range(ROWS)]
    csv = "name,price_usd,stock\n" + "\n".join(
        f"{name},{price},{rng.randrange(100)}" for name, price in products)
    reading = read(csv)
    quantities = quantity_index(reading.prose)
    build = min(timeit.repeat(lambda: RowIndex(reading.fields, column_use, quantities),
                              number=1, repeat=3))
    index = RowIndex(reading.fields, column_use, quantities)
    micros, dropped_wrong = [], 0
    for k in range(WINDOWS):
        (a, pa), (b, pb) = rng.sample(products, 2)
        difference = round(abs(pa - pb), 2) + (round(rng.uniform(1, 40), 2) if k % 2 else 0)
        window = f"{a} costs ${pa}, ${difference:.2f} more than {b}."
        keys = frozenset(t.key for t in terms(window))
        start = time.perf_counter()
        read_window = drop_worked_out(window, quantities, "",
                                      functools.partial(index.derived, keys, window))
        micros.append((time.perf_counter() - start) * 1e6)
        dropped_wrong += bool(k % 2) and f"{difference:.2f}" not in read_window
    micros.sort()
    return {"rows": ROWS, "row_index_seconds": round(build, 4), "windows": WINDOWS,
            "p50_us": round(micros[len(micros) // 2], 1),
            "p99_us": round(micros[int(len(micros) * 0.99)], 1),
            "wrong_differences": WINDOWS // 2, "wrong_differences_dropped": dropped_wrong}


def _prose(data: Any) -> dict[str, Any]:
    windows: list[tuple[str, dict[str, frozenset[str]]]] = []
    for name in ("summedits_dev.jsonl", "begin_dev.jsonl"):
        with (data / name).open(encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                quantities = quantity_index(record["context"])
                windows += [(s, quantities) for s in re.split(r"(?<=[.!?])\s+",
                                                              record["response"]) if s]
                if len(windows) >= PROSE_WINDOWS * (1 + (name == "begin_dev.jsonl")) // 2:
                    break
    micros = []
    for window, quantities in windows:
        start = time.perf_counter()
        drop_worked_out(window, quantities)
        micros.append((time.perf_counter() - start) * 1e6)
    micros.sort()
    return {"windows": len(windows), "p50_us": round(micros[len(micros) // 2], 1),
            "p99_us": round(micros[int(len(micros) * 0.99)], 1)}


if __name__ == "__main__":
    main()
