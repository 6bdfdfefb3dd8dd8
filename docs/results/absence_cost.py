"""What reading absence statements costs a window: ``beside_absence`` and ``borne_out`` timed on
every sentence of the abstention probes (each call on a fresh cache of clauses), and on
adversarial windows of 400 (the default ``window_max_chars``) to 4,000 characters (its largest
setting) that keep the clause patterns busy; writes one JSON file.

    python docs/results/absence_cost.py --data ../shared/data/dev \\
        --out docs/results/absence-cost.json

(``--data`` is unused: the probes are this folder's ``abstention-probe*.jsonl``.)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from stream_guard.eval.results import results_parser, write_report
from stream_guard.text import absence
from stream_guard.text.sentences import sentence_spans
from stream_guard.text.terms import term_keys

HERE = Path(__file__).resolve().parent
_REPEATS = 5
# Phrases that the patterns read again and again: a lead before the speaker's inability, a
# source named over and over, CJK letters before an absence (a review's slowest inputs).
# Each: what is repeated, then how the window ends.
_ADVERSARIAL = {
    "based on the page": ("Based on the page, ", "I can't say."),
    "from this summary": ("From this contract summary ", "I can't tell whether."),
    "cjk before an absence": ("早餐免费", " isn't part of this page, so I can't say."),
    "no no no": ("no ", "mention in the FAQ."),
}


def _per_call_us(call: Callable[[str, frozenset[str]], object],
                 cases: list[tuple[str, frozenset[str]]]) -> float:
    """Microseconds a call, best of the repeats, each call on a cold cache of clauses."""
    best = float("inf")
    for _ in range(_REPEATS):
        spent = 0.0
        for text, keys in cases:
            absence._clauses.cache_clear()
            start = time.perf_counter()
            call(text, keys)
            spent += time.perf_counter() - start
        best = min(best, spent)
    return round(best / len(cases) * 1e6, 1)


def main() -> None:
    args = results_parser(__doc__).parse_args()
    cases: list[tuple[str, frozenset[str]]] = []
    for path in sorted(HERE.glob("abstention-probe*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            keys = frozenset(term_keys(record["context"]))
            cases += [(record["response"][a:b], keys)
                      for a, b in sentence_spans(record["response"])]
    report: dict[str, object] = {
        "command": "python docs/results/absence_cost.py --data DATA --out OUT",
        "probe_sentences": len(cases),
        "beside_absence_us": _per_call_us(absence.beside_absence, cases),
        "borne_out_us": _per_call_us(absence.borne_out, cases),
        "adversarial_ms": {}}
    keys = frozenset(term_keys("The page lists opening hours and prices."))
    adversarial: dict[str, dict[str, float]] = {}
    for name, (repeated, end) in _ADVERSARIAL.items():
        for size in (400, 4000):
            window = (repeated * size)[:size - len(end)] + end
            adversarial[f"{name}, {len(window)} chars"] = {
                "beside_absence": round(_per_call_us(absence.beside_absence, [(window, keys)])
                                        / 1000, 2),
                "borne_out": round(_per_call_us(absence.borne_out, [(window, keys)]) / 1000,
                                   2)}
    report["adversarial_ms"] = adversarial
    write_report(args.out, report)


if __name__ == "__main__":
    main()
