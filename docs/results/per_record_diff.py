"""Halts of two `stream-guard eval --per-record` runs of one set, side by side; writes JSON.

    python docs/results/per_record_diff.py BEFORE.jsonl AFTER.jsonl --out OUT.json
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from stream_guard.eval.results import read_per_record, write_report


def _counts(rows: dict[str, dict[str, Any]]) -> dict[str, int]:
    return {"faithful": sum(r["label"] == 0 for r in rows.values()),
            "false_halts": sum(r["label"] == 0 and r["halted"] for r in rows.values()),
            "unsupported": sum(r["label"] == 1 for r in rows.values()),
            "caught": sum(r["label"] == 1 and r["halted"] for r in rows.values())}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    before, after = read_per_record(args.before), read_per_record(args.after)
    changed = sorted(i for i in before if i in after
                     and (before[i]["halted"], before[i]["halt_at"])
                     != (after[i]["halted"], after[i]["halt_at"]))
    write_report(args.out, {"before": _counts(before), "after": _counts(after),
                            "changed": [{"id": i, "label": before[i]["label"],
                                         "halted": [before[i]["halted"], after[i]["halted"]]}
                                        for i in changed]})


if __name__ == "__main__":
    main()
