"""The best balanced accuracy a threshold on each record's least supported window reaches on
one family of records, under a false-halt cap, with the threshold fitted on those records
themselves: how far a threshold of the family's own (the server's is shared with BEGIN) could
move it. Reads ``stream-guard eval --per-record`` output; writes JSON.

    stream-guard eval ../shared/data/dev/summedits_dev.jsonl ../shared/data/dev/begin_dev.jsonl \\
        --split tune --per-record /tmp/tune-records.jsonl
    python docs/results/summedits_threshold.py /tmp/tune-records.jsonl \\
        --out docs/results/summedits-threshold-tune.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def best(records: list[dict[str, object]], cap: float) -> dict[str, float | int]:
    scored = [r for r in records if r["min_score"] is not None]
    positives = [float(r["min_score"]) for r in scored if r["label"] == 1]  # type: ignore[arg-type]
    negatives = [float(r["min_score"]) for r in scored if r["label"] == 0]  # type: ignore[arg-type]
    top: dict[str, float | int] = {"balanced_accuracy": 0.5, "threshold": 0.0, "recall": 0.0,
                                   "false_halt_rate": 0.0}
    for t in sorted(set(positives + negatives)):
        recall = sum(p <= t for p in positives) / len(positives)
        false_halts = sum(n <= t for n in negatives) / len(negatives)
        accuracy = (recall + 1 - false_halts) / 2
        if false_halts <= cap and accuracy > float(top["balanced_accuracy"]):
            top = {"balanced_accuracy": round(accuracy, 3), "threshold": t,
                   "recall": round(recall, 3), "false_halt_rate": round(false_halts, 3)}
    return {**top, "hallucinated": len(positives), "faithful": len(negatives)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("records", type=Path)
    p.add_argument("--cap", type=float, default=0.03)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    records = [json.loads(line) for line in args.records.read_text().splitlines() if line]
    families = sorted({str(r["dataset"]).split("-")[0] for r in records})
    result = {f: best([r for r in records if str(r["dataset"]).startswith(f)], args.cap)
              for f in families}
    args.out.write_text(json.dumps({"cap": args.cap, "records": str(args.records),
                                    "families": result}, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
