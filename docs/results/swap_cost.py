"""What the swap check (``text.opposites``) costs a window; JSON.

Every window of the dev sets' responses (tune and holdout halves), aligned by the server's
engine as the cascade aligns it, is checked against the evidence sentences nearest it, as
``scoring.fusion.signals`` does; microseconds a window (p50, p99, mean; best of 3 passes) and
how many windows the check marks.

    python docs/results/swap_cost.py --data ../shared/data/dev \
        --out loadtest/results/v21/swap-cost.json
"""

from __future__ import annotations

import time

import numpy as np

from stream_guard.eval.cli import machine_info, results_parser, write_report
from stream_guard.text.opposites import swaps_opposite
from stream_guard.text.terms import term_keys
from stream_guard.train import calibrate
from stream_guard.train.cli import load_sets


def main() -> None:
    args = results_parser(__doc__).parse_args()
    scorer = calibrate.WindowScorer.load()
    _, tune, holdout = load_sets(args.data)
    jobs: list[tuple[str, list[str], frozenset[str]]] = []
    for sets in (tune, holdout):
        for records, windows in scorer.groups(sets).values():
            evidence: dict[int, frozenset[str]] = {}
            for w in windows:
                premise = w.aligned.premise
                nearest = list(dict.fromkeys(s.text for s in (*premise.sentences,
                                                              *premise.nearest)))
                keys = evidence.setdefault(w.record, term_keys(records[w.record].context))
                jobs.append((records[w.record].response[w.start:w.end], nearest, keys))
    best = np.full(len(jobs), np.inf)
    marked = 0
    for _ in range(3):
        marked = 0
        for n, (text, nearest, keys) in enumerate(jobs):
            start = time.perf_counter()
            marked += swaps_opposite(text, nearest, keys)
            best[n] = min(best[n], time.perf_counter() - start)
    micros = best * 1e6
    write_report(args.out, {
        "command": " ".join(["docs/results/swap_cost.py", "--data", str(args.data), "--out",
                             str(args.out)]),
        "machine": machine_info(),
        "windows": len(jobs), "marked": marked,
        "microseconds_per_window": {"p50": round(float(np.percentile(micros, 50)), 1),
                                    "p99": round(float(np.percentile(micros, 99)), 1),
                                    "mean": round(float(micros.mean()), 1)}})


if __name__ == "__main__":
    main()
