"""Halts on answers that write what their source says in another form; one JSON file.

News summaries write "15%" for an article's "15 per cent", "£100k" for its "£100,000" and "the
Belgian striker" for its "the Belgium international"; before ``text.figures.canonical_figures``
and the place forms of ``text.terms.known`` such an answer stated a "new" number or name to the
lexical signals. Every HaluEval summarization record (the whole file, not a sample; the detector
trained on a quarter of its items, so these are counts of a fault, not a quality figure) whose
response:

* ``percent``: writes a percentage of the context the other way ("%" against "per cent" or
  "percent");
* ``scale``: writes a figure with a scale ("1.2 million", "$5bn", "100k") where the context
  writes figures in full ("1,200,000");
* ``place``: uses a capitalised word for a people or its things ("Belgian", "Kenyan",
  "Chinese", "Iraqi") that the context never uses, where the context has a capitalised word
  sharing all of it but its ending (selected here by spelling alone, independently of the
  code measured);

replayed window by window through the shipped detector, its fusion and its halt policy, as the
server runs them (``calibrate.halts``). Run at a revision before a change and after it.

``refit_on_tune``: a change moves some windows' lexical signals, and the shipped fusion was
fitted on the old ones; the fusion and policy refitted on the tune halves with the new signals
(what the export would write, ``calibrate.fit_fusion`` and ``choose_policy``) beside the shipped
ones, so a reader can see whether ``detector.json`` needs the refit.

    python docs/results/notation.py --data ../shared/data/dev --out docs/results/notation.json
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import asdict

from stream_guard.dataset import Record, read_records
from stream_guard.eval.results import code_revision, machine_info, results_parser, write_report
from stream_guard.train import calibrate
from stream_guard.train.cli import load_sets

_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(%|per ?cent\b|percent\b)", re.IGNORECASE)
_SCALED = re.compile(r"\d(?:[.,]\d+)*\s?(?:thousand|million|billion|bn|k|m)\b", re.IGNORECASE)
_IN_FULL = re.compile(r"\d{1,3}(?:,\d{3})+")


MAX_FALSE_HALT = 0.03  # the cap the shipped policy was fitted with (detector.json)
_PEOPLE = re.compile(r"\b([A-Z][a-z]{2,}?)(?:ian|ean|an|ese|i|ish)s?\b")


def notation(record: Record) -> str | None:
    """Which way the response writes something otherwise than the context, if it does."""
    said = {(n, s == "%") for n, s in _PERCENT.findall(record.response)}
    source = {(n, s == "%") for n, s in _PERCENT.findall(record.context)}
    if any((n, sign) not in source and (n, not sign) in source for n, sign in said):
        return "percent"
    if _SCALED.search(record.response) and _IN_FULL.search(record.context):
        return "scale"
    for match in _PEOPLE.finditer(record.response):
        if (not re.search(rf"\b{match.group()}", record.context)
                and re.search(rf"\b{match.group(1)}[a-z]*\b", record.context)):
            return "place"
    return None


def main() -> None:
    p = results_parser(__doc__)
    args = p.parse_args()
    started = time.time()
    revision = code_revision()  # at the start: the code this run imported
    selected = [(r, kind) for r in read_records(args.data / "halueval_summarization.jsonl")
                if (kind := notation(r)) is not None]
    records = [r for r, _ in selected]
    scorer = calibrate.WindowScorer.load()  # the shipped detector, its fusion and its policy
    engine = scorer.engine
    assert engine.fusion is not None
    point = calibrate.OperatingPoint(engine.threshold, engine.clear_margin, engine.run_at_end)
    windows = calibrate.score_windows(engine, records, scorer.pipeline)
    halted = calibrate.halts(records, windows, engine.fusion[0], point)
    counts: dict[str, dict[str, int]] = {}
    for (record, kind_of_notation), halt in zip(selected, halted, strict=True):
        row = counts.setdefault(kind_of_notation, {
            "supported": 0, "supported_halted": 0, "hallucinated": 0, "hallucinated_halted": 0})
        kind = "supported" if record.label == 0 else "hallucinated"
        row[kind] += 1
        row[kind + "_halted"] += int(halt)
    tune = scorer.groups(load_sets(args.data)[1])
    fusion, _ = calibrate.fit_fusion(tune)
    shipped = calibrate.choose_policy(tune, engine.fusion[0], MAX_FALSE_HALT)
    refit = calibrate.choose_policy(tune, fusion, MAX_FALSE_HALT)
    result = {"command": "python docs/results/notation.py " + " ".join(sys.argv[1:]),
              "code_revision": revision, "halts_by_notation": counts,
              "refit_on_tune": {
                  "shipped": {"fusion": engine.fusion[0].to_json(), "policy": asdict(point),
                              "best_policy_now": asdict(shipped.point),
                              "tune_mean_balanced_accuracy": shipped.mean_balanced_accuracy},
                  "refit": {"fusion": fusion.to_json(), "policy": asdict(refit.point),
                            "tune_mean_balanced_accuracy": refit.mean_balanced_accuracy}},
              "machine": machine_info(), "elapsed_s": round(time.time() - started, 1)}
    write_report(args.out, result)


if __name__ == "__main__":
    main()
