"""The date and unit rules on (evidence, answer) pairs: which answers are contradicted.

A review wrote 211 pairs (``date-unit-pairs.json``: support, policy, news and finance text
with dates, units and amounts written many ways, each with whether the answer should be
contradicted). A contradiction halts at once, so a faithful answer contradicted is the costly
error; a false one not contradicted may still be halted as unsupported by the detector.

    python docs/results/date_pairs.py --out docs/results/date-pairs.json
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

import stream_guard
from stream_guard.text.quantities import quantity_conflict, quantity_index, resolve_hedged_numbers

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=Path, default=HERE / "date-unit-pairs.json")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    pairs = json.loads(args.pairs.read_text(encoding="utf-8"))
    wrong_halts, misses = [], []
    for n, pair in enumerate(pairs):
        known = quantity_index(pair["evidence"])
        got = quantity_conflict(resolve_hedged_numbers(pair["window"], known), known)
        if got and not pair["expected_conflict"]:
            wrong_halts.append(n)
        elif not got and pair["expected_conflict"]:
            misses.append(n)
    revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=Path(stream_guard.__file__).parent,
                              check=False).stdout.strip()  # of the code measured
    report = {"pairs": len(pairs),
              "faithful": sum(not p["expected_conflict"] for p in pairs),
              "faithful_contradicted": len(wrong_halts), "false_not_contradicted": len(misses),
              "faithful_contradicted_cases": [pairs[n] for n in wrong_halts],
              "false_not_contradicted_cases": [pairs[n] for n in misses],
              "revision": revision, "command": " ".join(["python", *sys.argv]),
              "python": platform.python_version()}
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(wrong_halts)} faithful answers contradicted, {len(misses)} false ones not")


if __name__ == "__main__":
    main()
