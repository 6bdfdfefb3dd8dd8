"""What the swap check (``text.opposites``) costs a window; JSON.

Every window of the dev sets' responses (tune and holdout halves), aligned by the server's
engine as the cascade aligns it, is checked against the evidence sentences nearest it, as
``scoring.fusion.signals`` does; microseconds a window (p50, p99, mean; best of 3 passes) and
how many windows the check marks. ``--check opposite`` times the whole opposites check (a word
swapped, or a negation added or dropped: ``says_opposite``), ``--check direction`` the
direction check (``text.direction.moved_otherwise``, against the record's quantity index),
``--check place`` the place check (``text.places.names_another_place``, against the places its
evidence sentences name, read once a record as the server reads them once a stream),
``--check unit`` the unit check (``text.quantities.unit_swapped``), ``--check weekday`` the
weekday conflict (``text.quantities.weekday_conflict``) and ``--check worked`` the figures
worked out of others (``text.quantities.drop_worked_out``, conversions included; marked: a
figure dropped).

    python docs/results/swap_cost.py --data ../shared/data/dev \
        --out loadtest/results/v21/swap-cost.json
    python docs/results/swap_cost.py --data ../shared/data/dev --check opposite \
        --out loadtest/results/v22/opposite-cost.json
    python docs/results/swap_cost.py --data ../shared/data/dev --check place \
        --out loadtest/results/v27/place-cost.json
    python docs/results/swap_cost.py --data ../shared/data/dev --check weekday \
        --out loadtest/results/v28/weekday-cost.json
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from stream_guard.eval.results import machine_info, results_parser, write_report
from stream_guard.evidence.context import context_sentences
from stream_guard.text.direction import moved_otherwise
from stream_guard.text.opposites import says_opposite, swaps_opposite
from stream_guard.text.places import names_another_place, sentence_places
from stream_guard.text.quantities import (
    drop_worked_out,
    quantity_index,
    unit_swapped,
    weekday_conflict,
)
from stream_guard.text.terms import term_keys
from stream_guard.train import calibrate
from stream_guard.train.cli import load_sets


def main() -> None:
    parser = results_parser(__doc__)
    parser.add_argument("--check", choices=("swap", "opposite", "direction", "place", "unit",
                                            "weekday", "worked"), default="swap")
    args = parser.parse_args()
    index: dict[str, dict[str, frozenset[str]]] = {}
    places: dict[str, frozenset[str]] = {}
    checks: dict[str, Callable[[str, list[str], frozenset[str], str], bool]] = {
        "swap": lambda text, nearest, keys, _: swaps_opposite(text, nearest, keys),
        "opposite": lambda text, nearest, keys, _: says_opposite(text, nearest, keys),
        "direction": lambda text, _, __, context: moved_otherwise(text, index[context]),
        "place": lambda text, _, keys, context: names_another_place(text, places[context], keys),
        "unit": lambda text, nearest, _, context: unit_swapped(text, index[context], nearest),
        "weekday": lambda text, _, __, context: weekday_conflict(text, index[context]),
        "worked": lambda text, _, __, context: drop_worked_out(text, index[context]) != text}
    scorer = calibrate.WindowScorer.load()
    _, tune, holdout = load_sets(args.data)
    jobs: list[tuple[str, list[str], frozenset[str], str]] = []
    for sets in (tune, holdout):
        for records, windows in scorer.groups(sets).values():
            evidence: dict[int, frozenset[str]] = {}
            for w in windows:
                premise = w.aligned.premise
                nearest = list(dict.fromkeys(s.text for s in (*premise.sentences,
                                                              *premise.nearest)))
                keys = evidence.setdefault(w.record, term_keys(records[w.record].context))
                context = records[w.record].context
                if context not in index:  # once a stream, at its start, as the server does
                    index[context] = quantity_index(context)
                    places[context] = frozenset().union(*(
                        sentence_places(s.text) for s in context_sentences([("c", context)])))
                jobs.append((records[w.record].response[w.start:w.end], nearest, keys, context))
    best = np.full(len(jobs), np.inf)
    marked = 0
    check = checks[args.check]
    for _ in range(3):
        marked = 0
        for n, job in enumerate(jobs):
            start = time.perf_counter()
            marked += check(*job)
            best[n] = min(best[n], time.perf_counter() - start)
    micros = best * 1e6
    write_report(args.out, {
        "command": " ".join(["docs/results/swap_cost.py", "--data", str(args.data), "--check",
                             args.check, "--out", str(args.out)]),
        "check": args.check,
        "machine": machine_info(),
        "windows": len(jobs), "marked": marked,
        "microseconds_per_window": {"p50": round(float(np.percentile(micros, 50)), 1),
                                    "p99": round(float(np.percentile(micros, 99)), 1),
                                    "mean": round(float(micros.mean()), 1)}})


if __name__ == "__main__":
    main()
