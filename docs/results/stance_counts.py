"""The counts behind the conversation signals (docs/quality.md, ``text/stance.py``); one JSON file.

On the tune halves only, every window aligned and scored by the shipped detector (the engine's
own steps): how many windows of each label speak of their speaker or ask their listener; how
many of BEGIN's hallucinated answers the statement fusion alone (the shipped fusion without the
two signals, which is v3.2's) lets through with every window at or above the threshold, and how
many of those have such a window; and, for SummEdits, how many windows use a word the evidence
lacks whose antonym (the trainer's curated list) the evidence states, the lexical rule weighed
for edited summaries and not built.

    python docs/results/stance_counts.py --data ../shared/data/dev \\
        --out docs/results/stance-counts-tune.json
"""

from __future__ import annotations

import re
import sys
from collections import Counter

from stream_guard.eval.results import results_parser, write_report
from stream_guard.scoring.fusion import STANCE_FEATURES, window_support
from stream_guard.text.stance import asks_listener, speaks_of_self
from stream_guard.train import calibrate
from stream_guard.train.cli import load_sets
from stream_guard.train.edits import ANTONYM
from stream_guard.train.pairs import SUPPORTED, UNSUPPORTED

_WORD = re.compile(r"[a-z]+")


def main() -> None:
    p = results_parser(__doc__)
    args = p.parse_args()
    scorer = calibrate.WindowScorer.load()  # the shipped detector, its fusion and policy
    assert scorer.engine.fusion is not None
    statement = scorer.engine.fusion[0].without(STANCE_FEATURES)
    threshold = scorer.engine.threshold
    groups = scorer.groups(load_sets(args.data)[1])
    windows: Counter[str] = Counter()
    begin: Counter[str] = Counter()
    antonym: Counter[str] = Counter()
    for name, (records, scored) in groups.items():
        labels = calibrate.window_labels(records, scored)
        least = [1.0] * len(records)
        stance = [False] * len(records)
        for w, label in zip(scored, labels, strict=True):
            record = records[w.record]
            text = record.response[w.start:w.end]
            fires = speaks_of_self(text) or asks_listener(text)
            side = "supported" if record.label == 0 else "hallucinated"
            windows[f"{name}: windows of {side} answers"] += 1
            windows[f"{name}: of them speaking of the speaker or asking the listener"
                    f" ({side})"] += fires
            least[w.record] = min(least[w.record],
                                  window_support(w.aligned.signals, w.model_support, statement)[0])
            stance[w.record] |= fires
            if name == "summedits_dev" and label in (SUPPORTED, UNSUPPORTED):
                evidence = set(_WORD.findall(record.context.lower()))
                marked = any(word in ANTONYM and word not in evidence
                             and ANTONYM[word] in evidence
                             for word in _WORD.findall(text.lower()))
                kind = "supported" if label == SUPPORTED else "edited (holds the onset)"
                antonym[f"{kind} windows"] += 1
                antonym[f"{kind} windows marked"] += marked
        if name == "begin_dev":
            for n, record in enumerate(records):
                if record.label == 1:
                    begin["hallucinated answers"] += 1
                    passed = least[n] >= threshold
                    begin["passed by the statement fusion"] += passed
                    begin["passed, with a window speaking of the speaker or asking the"
                          " listener"] += passed and stance[n]
    result = {"command": "python docs/results/stance_counts.py " + " ".join(sys.argv[1:]),
              "threshold": threshold, "windows": dict(windows), "begin_answers": dict(begin),
              "summedits_antonym_rule": dict(antonym)}
    write_report(args.out, result)


if __name__ == "__main__":
    main()
