"""Planted errors caught per kind of error: a probe's kinds (id -> kind, JSON) against the
outcome of each record (``stream-guard eval --per-record``); writes JSON.

    stream-guard eval docs/results/realistic-probe5.jsonl --per-record /tmp/p5.jsonl
    python docs/results/probe_kinds.py docs/results/realistic-probe5-kinds.json /tmp/p5.jsonl \
        --out docs/results/probe5-caught-by-kind.json

(``-3be5903.json``: the same, the eval run from a worktree of that commit; the kinds are the
probe writer's, one per planted record.)
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from stream_guard.eval.results import read_per_record, write_report


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("kinds", type=Path)
    p.add_argument("per_record", type=Path)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    kinds: dict[str, str] = json.loads(args.kinds.read_text())
    halted = {i: row["halted"] for i, row in read_per_record(args.per_record).items()
              if i in kinds}
    planted, caught = Counter(kinds.values()), Counter(kinds[i] for i, h in halted.items() if h)
    write_report(args.out, {"per_record": str(args.per_record), "records": len(halted),
                            "caught": {k: f"{caught[k]} of {n}"
                                       for k, n in sorted(planted.items())}})


if __name__ == "__main__":
    main()
