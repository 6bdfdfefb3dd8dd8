"""Memory a kept context reading holds, per character ContextReadings charges it (fifty-eighth
session): news prose, a CSV, JSON records and a Markdown table of about 20 KB each, each read
after a warm-up on another text, measured with tracemalloc.

    python docs/results/s58/reading_memory.py \
        --prose ../shared/data/dev/halueval_summarization.jsonl \
        --out docs/results/s58/reading-memory.json
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import tracemalloc
from pathlib import Path

from stream_guard.evidence.context import ROWS_CHARGE, read_context

CHARS = 20_000


def texts(prose_file: Path) -> dict[str, str]:
    with prose_file.open() as f:
        prose = " ".join(json.loads(line)["context"] for _, line in zip(range(50), f, strict=False))
    rng = random.Random(0)
    csv = "host,status,amount,region\n" + "\n".join(
        f"web{i},{rng.choice(['OK', 'DOWN', 'WARN'])},{rng.randint(1, 999)}."
        f"{rng.randint(0, 99):02d},{rng.choice(['eu', 'us', 'ap'])}" for i in range(4000))
    records = json.dumps([{"id": i, "name": f"Item {i}", "price": round(rng.random() * 100, 2),
                           "stock": i % 7, "city": ["Paris", "Berlin", "Oslo"][i % 3]}
                          for i in range(150)])
    table = "| plan | price | users |\n| --- | --- | --- |\n" + "\n".join(
        f"| Plan {i} | ${i * 3}/month | {i * 10} |" for i in range(600))
    return {"news prose": prose[:CHARS], "CSV": csv[:CHARS], "JSON records": records[:CHARS],
            "Markdown table": table[:CHARS]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prose", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows = []
    for kind, text in texts(args.prose).items():
        read_context([("w", text[: len(text) // 3] + " warm-up")])  # the readers' own caches
        gc.collect()
        tracemalloc.start()
        reading = read_context([("c", text)])
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        charged = 1 + len(text) + reading.chars * (ROWS_CHARGE if reading.rows else 1)
        rows.append({"kind": kind, "chars": len(text), "chars_as_read": reading.chars,
                     "rows": reading.rows is not None, "bytes_held": held,
                     "charged": charged, "bytes_per_char_charged": round(held / charged, 1)})
        print(rows[-1])
    args.out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
