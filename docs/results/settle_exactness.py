"""Whether settling windows without the detector changed any decision: the per-record files of
two runs of ``stream-guard eval`` over the same sets, compared record by record; writes one
JSON file (records, decisions that differ, and each set's windows/s in the two runs).

What the fifty-fifth session checked ``GroundingEngine.settled`` with (docs/quality-log.md):
each set run from a tree of each revision (``git archive REV stream_guard pyproject.toml``),
outside the checkout, before (``23771e2``) and after (``aec9ce2``, which settled windows in
``eval`` too; later ``eval`` turns it off, ``STREAM_GUARD_SETTLE_WINDOWS``):

    PYTHONPATH=TREE python -m stream_guard eval FILE [--sample 600 --seed 0] \\
        --report DIR/NAME.json --per-record DIR/NAME.rec.jsonl

for ``summedits_train.jsonl``, every ``docs/results/*probe*.jsonl`` that is no ``.meta``
file, and ``halueval_{qa,dialogue,summarization}.jsonl`` (600 each, seed 0); then

    python docs/results/settle_exactness.py BEFORE-DIR AFTER-DIR \\
        --out docs/results/settle-exactness.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stream_guard.eval.results import write_report

_DECISION = ("halted", "halt_at", "halt_reason", "error")


def _records(path: Path) -> dict[str, dict[str, object]]:
    rows = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return {str(r["id"]): r for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    sets = []
    differ = []
    for path in sorted(args.before.glob("*.rec.jsonl")):
        name = path.name.removesuffix(".rec.jsonl")
        before, after = _records(path), _records(args.after / path.name)
        if before.keys() != after.keys():
            raise SystemExit(f"{name}: the two runs read different records")
        for rid, row in before.items():
            if any(row[k] != after[rid][k] for k in _DECISION):
                differ.append({"set": name, "id": rid,
                               "before": {k: row[k] for k in _DECISION},
                               "after": {k: after[rid][k] for k in _DECISION}})
        speed = [json.loads((run / f"{name}.json").read_text())["throughput"]["windows_per_s"]
                 for run in (args.before, args.after)]
        sets.append({"set": name, "records": len(before),
                     "windows_per_s": [round(v, 1) for v in speed]})
    write_report(args.out, {"before": str(args.before), "after": str(args.after),
                            "records": sum(s["records"] for s in sets), "sets": len(sets),
                            "decisions_that_differ": differ, "by_set": sets})


if __name__ == "__main__":
    main()
