"""What the forty-ninth and fiftieth sessions' checks cost (``text.swaps.swapped_beside``: a
window's figures and words held to the evidence sentences nearest it; ``text.denials.denies_near``:
its negated clause held to them), against the term keys the engine reads a window with anyway;
JSON.

Windows are the sentences of ``summedits_train``'s summaries (1,952 records), each against the
eight sentences of its source that share most words with it (the engine passes its premise's
sentences and the nearest ones, about as many). Times, best of ``--rounds``, in microseconds a
window: cold (the readings' cache cleared before each window, so the sentences are read anew:
the most a window pays) and warm (a stream's sentences recur from window to window); the
denials check keeps no cache (one time); and ``term_keys`` of the window for scale:

    python docs/results/swaps_cost.py --data ../shared/data/dev --out docs/results/swaps-cost.json
"""

from __future__ import annotations

import sys

from initials_cost import cost_args, sentences_of  # (a script beside this one)

from stream_guard.dataset import read_records
from stream_guard.eval.results import best_microseconds, machine_info, write_report
from stream_guard.text import swaps
from stream_guard.text.denials import denies_near
from stream_guard.text.terms import term_keys

NEAREST = 8


def main(argv: list[str] | None = None) -> int:
    args = cost_args(__doc__, argv)
    cases: list[tuple[str, list[str], frozenset[str]]] = []
    for record in read_records(args.data / "summedits_train.jsonl"):
        context = record.context if isinstance(record.context, str) else str(record.context)
        evidence = sentences_of([context])
        keys = term_keys(context)
        for window in sentences_of([record.response]):
            words = term_keys(window)
            near = sorted(evidence, key=lambda s: -len(words & term_keys(s)))[:NEAREST]
            cases.append((window, near, keys))

    def cold(case: tuple[str, list[str], frozenset[str]]) -> bool:
        swaps._sentence_reading.cache_clear()
        return swaps.swapped_beside(*case)

    write_report(args.out, {
        "windows": len(cases), "sentences_per_window": NEAREST, "rounds": args.rounds,
        "swapped_beside_cold_us_per_window": best_microseconds(cold, cases, args.rounds),
        "swapped_beside_warm_us_per_window": best_microseconds(
            lambda c: swaps.swapped_beside(*c), cases, args.rounds),
        "denies_near_us_per_window": best_microseconds(lambda c: denies_near(*c), cases,
                                                       args.rounds),
        "term_keys_us_per_window": best_microseconds(lambda c: term_keys(c[0]), cases,
                                                     args.rounds),
        "marked": sum(swaps.swapped_beside(*c) for c in cases),
        "denied": sum(denies_near(*c) for c in cases),
        "machine": machine_info()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
