"""What reading structured context costs at a stream's start, and the rows check a window;
JSON.

Three texts, made here with a fixed seed: a JSON array of 4,000 product records (about 500 KB),
the same records as a CSV (named by their first cell), and 660 KB of prose (the first HaluEval
summarization documents of ``--data``, which are returned as they are). Per text, best of
three: the seconds of ``evidence.structured.read`` (its sentences, with the rows' counts and
totals, and its fields) and of building the rows' ``text.rows.RowIndex``, as the engine
prepares a stream's context. Then the rows check (``RowIndex.other_row``) over 2,000 windows
that each name one of the CSV's products, half of them with another product's price: median
and p99 microseconds a window.

    python docs/results/structured_cost.py --data ../shared/data/dev \
        --out loadtest/results/v29/structured-cost.json
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

from stream_guard.eval.results import machine_info, results_parser, write_report
from stream_guard.evidence.structured import read
from stream_guard.text.rows import RowIndex
from stream_guard.text.terms import terms

PROSE_CHARS = 660_000
WINDOWS = 2000


def main() -> None:
    parser = results_parser(__doc__)
    args = parser.parse_args()
    rng = random.Random(0)
    rows = [{"id": i, "name": f"Item {i}", "price_usd": round(rng.random() * 100, 2),
             "in_stock": rng.random() > 0.5, "tags": ["a", "b"],
             "dims": {"w_cm": 10, "h_cm": 20}} for i in range(4000)]
    prose = ""
    with (args.data / "halueval_summarization.jsonl").open(encoding="utf-8") as f:
        for line in f:
            prose += json.loads(line)["context"] + "\n\n"
            if len(prose) >= PROSE_CHARS:
                break
    texts = {
        "json": json.dumps(rows),
        "csv": "name,id,price_usd,in_stock\n" + "\n".join(
            f"{r['name']},{r['id']},{r['price_usd']},{r['in_stock']}" for r in rows),
        "prose": prose[:PROSE_CHARS],
    }
    report: dict[str, object] = {}
    for name, text in texts.items():
        reading = read(text)
        report[name] = {
            "chars": len(text), "rewritten": reading.prose is not text,
            "fields": len(reading.fields),
            "read_seconds": round(min(_seconds(read, text) for _ in range(3)), 4),
            "row_index_seconds": round(min(_seconds(RowIndex, reading.fields)
                                           for _ in range(3)), 4)}
    index = RowIndex(read(texts["csv"]).fields)
    micros, fired = [], 0
    for k in range(WINDOWS):
        row = rows[rng.randrange(len(rows))]
        price = rows[rng.randrange(len(rows))]["price_usd"] if k % 2 else row["price_usd"]
        window = f"{row['name']} costs ${price} and ships today."
        keys = frozenset(t.key for t in terms(window))
        start = time.perf_counter()
        fired += index.other_row(keys, window)
        micros.append((time.perf_counter() - start) * 1e6)
    micros.sort()
    write_report(args.out, {
        "command": f"docs/results/structured_cost.py --data {args.data} --out {args.out}",
        "machine": machine_info(), "texts": report,
        "rows_check": {"windows": WINDOWS, "rows": len(rows), "fired": fired,
                       "p50_us": round(micros[len(micros) // 2], 1),
                       "p99_us": round(micros[int(len(micros) * 0.99)], 1)}})


def _seconds(step: Callable[[Any], object], arg: Any) -> float:
    start = time.perf_counter()
    step(arg)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
