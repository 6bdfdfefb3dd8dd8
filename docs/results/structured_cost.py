"""What reading structured context as sentences (``evidence.structured.as_prose``) costs at a
stream's start; JSON.

Three texts, made here with a fixed seed: a JSON array of 4,000 product records (about 500 KB),
the same records as a CSV, and 660 KB of prose (the first HaluEval summarization documents of
``--data``, which ``as_prose`` returns as they are). Seconds per text, best of three.

    python docs/results/structured_cost.py --data ../shared/data/dev \
        --out loadtest/results/v28/structured-cost.json
"""

from __future__ import annotations

import json
import random
import time

from stream_guard.eval.results import machine_info, results_parser, write_report
from stream_guard.evidence.structured import as_prose

PROSE_CHARS = 660_000


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
        "csv": "id,name,price_usd,in_stock\n" + "\n".join(
            f"{r['id']},{r['name']},{r['price_usd']},{r['in_stock']}" for r in rows),
        "prose": prose[:PROSE_CHARS],
    }
    report: dict[str, object] = {}
    for name, text in texts.items():
        best = min(_seconds(text) for _ in range(3))
        report[name] = {"chars": len(text), "seconds": round(best, 4),
                        "rewritten": as_prose(text) is not text}
    write_report(args.out, {
        "command": f"docs/results/structured_cost.py --data {args.data} --out {args.out}",
        "machine": machine_info(), "texts": report})


def _seconds(text: str) -> float:
    start = time.perf_counter()
    as_prose(text)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
