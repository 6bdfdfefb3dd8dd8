"""Can the detector tell a SummEdits edit from its original, and where does its ranking fail? JSON.

SummEdits edits one seed summary per document many times, so most edited windows have a nearly
identical supported window in another summary of the same document. On the tune half of
``summedits_dev`` (nothing here is fitted), with the shipped detector's own P(supported) for each
window against the premise the server builds for it:

* ``edit_pairs``: each edited window (the window holding a hallucinated summary's onset) paired
  with the supported window of the same document most like it (word Jaccard >= 0.6, not the same
  text), and how often the edit scores lower; per domain;
* ``window_auroc``: edited windows against supported windows, ranked within each document
  (mean over documents, each weighted by its pairs) and across the whole half pooled. A ranking
  good within documents and poor pooled means one threshold is the problem, not the comparison:
  supported windows of one document score below edited windows of another.

    python docs/results/edit_pairs.py --data ../shared/data/dev \\
        --out docs/results/edit-pairs-tune.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import time
from collections import defaultdict
from pathlib import Path

from stream_guard.dataset import Record
from stream_guard.protocol.frames import ContextItem
from stream_guard.scores import Pair
from stream_guard.scoring.engine import StreamRequest
from stream_guard.text.terms import terms
from stream_guard.train import calibrate
from stream_guard.train.cli import load_sets
from stream_guard.train.metrics import auroc

MIN_JACCARD = 0.6


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def document_windows(records: list[Record], scorer: calibrate.WindowScorer
                     ) -> tuple[list[str], list[str]]:
    """One document's edited windows and its distinct supported windows."""
    edited: list[str] = []
    supported: list[str] = []
    for r in records:
        for w in scorer.pipeline.windows(r.response):
            if r.label == 0 and w.text not in supported:
                supported.append(w.text)
            elif r.label == 1 and r.onset is not None and w.start <= r.onset < w.end:
                edited.append(w.text)
    return edited, supported


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    started = time.time()
    _, tune, _ = load_sets(args.data, training=False)
    scorer = calibrate.WindowScorer.load()
    model = scorer.engine.model
    assert model is not None
    by_doc: dict[str, list[Record]] = defaultdict(list)
    for r in tune["summedits_dev"]:
        by_doc[r.split_key].append(r)
    pair_wins: dict[str, list[float]] = defaultdict(list)
    within: list[tuple[float, int]] = []  # (document's AUROC, its edited x supported pairs)
    pooled_scores: list[float] = []
    pooled_labels: list[int] = []
    for records in by_doc.values():
        evidence = scorer.engine.prepare(StreamRequest(
            "edit-pairs", [ContextItem("context", records[0].context)], None))
        edited, supported = document_windows(records, scorer)
        texts = edited + supported
        support = dict(zip(texts, (s.support for s in model.score_pairs(
            [Pair(evidence.sentences.focus(terms(t)).text, t) for t in texts])), strict=True))
        if edited and supported:
            labels = [1] * len(edited) + [0] * len(supported)
            within.append((auroc([support[t] for t in texts], labels),
                           len(edited) * len(supported)))
            pooled_scores += [support[t] for t in texts]
            pooled_labels += labels
        for t in edited:
            twin = max(supported, key=lambda s: jaccard(words(t), words(s)), default=None)
            if twin is None or twin == t or jaccard(words(t), words(twin)) < MIN_JACCARD:
                continue
            lower = support[t] < support[twin]
            pair_wins[records[0].dataset].append(1.0 if lower else
                                                 0.5 if support[t] == support[twin] else 0.0)
    everything = [w for wins in pair_wins.values() for w in wins]
    result = {
        "edit_pairs": {
            "pairs": len(everything),
            "edit_scored_lower": round(sum(everything) / len(everything), 3),
            "by_domain": {d: {"pairs": len(w), "edit_scored_lower": round(sum(w) / len(w), 3)}
                          for d, w in sorted(pair_wins.items())},
        },
        "window_auroc": {
            "documents": len(within),
            "within_documents": round(sum(a * n for a, n in within)
                                      / sum(n for _, n in within), 4),
            "pooled": round(auroc(pooled_scores, pooled_labels), 4),
        },
        "command": f"python docs/results/edit_pairs.py --data ../shared/data/dev --out {args.out}",
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count()},
        "elapsed_s": round(time.time() - started, 1),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
