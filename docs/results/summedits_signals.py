"""Two signals looked for in SummEdits' tune half, and what they separate; writes one JSON file.

Every tune window of SummEdits-dev is aligned and scored as the server does
(:class:`stream_guard.train.calibrate.WindowScorer`). Then:

* *relative*: each summary's stream score as its least window's detector logit less the mean
  logit of the summary's windows (a document's style, which makes a faithful summary of a
  meeting transcript score low throughout, cancelled), against the plain least logit: AUROC of
  each over the summaries;
* *opposite in the premise*: a window word absent from the whole evidence whose opposite
  (:func:`stream_guard.text.opposites.are_opposites`) is a word of the window's premise: how
  many edited windows (holding the edit's onset) and how many windows of faithful summaries it
  marks.

    python docs/results/summedits_signals.py --data ../shared/data/dev \\
        --out docs/results/summedits-signals-tune.json
"""

from __future__ import annotations

import math
import re

from stream_guard.dataset import read_records, split_records
from stream_guard.eval.results import results_parser, write_report
from stream_guard.text import opposites
from stream_guard.train import calibrate
from stream_guard.train.metrics import auroc

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def main() -> None:
    args = results_parser(__doc__).parse_args()
    records = split_records(read_records(args.data / "summedits_dev.jsonl"), "tune")
    scorer = calibrate.WindowScorer.load()
    windows = calibrate.score_windows(scorer.engine, records, scorer.pipeline)
    opposites.load()
    by_record: dict[int, list[calibrate.ScoredWindow]] = {}
    for w in windows:
        by_record.setdefault(w.record, []).append(w)
    labels, plain, relative = [], [], []
    marked = {"edited": [0, 0], "faithful": [0, 0]}
    for n, record in enumerate(records):
        scored = by_record.get(n, [])
        if not scored:
            continue
        logits = [_logit(w.model_support) for w in scored]
        mean = sum(logits) / len(logits)
        labels.append(record.label)
        plain.append(min(logits))
        relative.append(min(logit - mean for logit in logits))
        evidence = {w.lower() for w in _WORD.findall(record.context)}
        for w in scored:
            if record.label == 0:
                kind = "faithful"
            elif record.onset is not None and w.start <= record.onset < w.end:
                kind = "edited"
            else:
                continue
            said = {x.lower() for x in _WORD.findall(record.response[w.start:w.end])}
            premise = {x.lower() for x in _WORD.findall(w.aligned.pair().premise)}
            marked[kind][1] += 1
            marked[kind][0] += any(
                word not in evidence and not (opposites.base_forms(word) & evidence)
                and any(opposites.are_opposites(word, p) for p in premise) for word in said)
    # auroc ranks a higher score as supported; label 1 is an edited summary
    write_report(args.out, {
        "summaries": len(labels),
        "auroc_least_logit": round(auroc(plain, labels), 4),
        "auroc_least_logit_less_summary_mean": round(auroc(relative, labels), 4),
        "windows_marked_by_an_opposite_in_the_premise": marked,
        "command": "python docs/results/summedits_signals.py --data DATA --out OUT"})


if __name__ == "__main__":
    main()
