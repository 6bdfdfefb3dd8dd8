"""Halts with and without the polarity cap (``scoring.fusion.capped``); one JSON file.

A window whose premise sentence is the same claim with the other polarity ("Gift cards can be
refunded." against "Gift cards cannot be refunded.", ``text.polarity``) is treated as
contradicted when the detector gives it less than ``POLARITY_MODEL_MAX``. Every set is replayed
window by window through the shipped detector, its fusion and its halt policy, as the server
runs them (``calibrate.halts``), once as shipped and once with the cap left out:

* the tune halves of the dev sets (what the rule was chosen on);
* ``summedits_train`` (the detector trained on it: a count of false halts, not a quality figure);
* HaluEval records of items the trainer never drew (``sample_training`` with the shipped
  recipe's seed and size): 500 QA and 500 dialogue items, 1,200 summarization items;
* ``negation-probe-pairs.json`` beside this script: 287 answers written around negation by a
  reviewer of the rule (272 faithful to their context, 15 contradicting it).

``flagged_windows``: windows the cap changed, by their label (``window_labels``). The holdout
halves are measured through the server, as every dev figure is (docs/quality.md).

    python docs/results/polarity.py --data ../shared/data/dev --out docs/results/polarity.json
"""

from __future__ import annotations

import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

from stream_guard.dataset import Record, read_records
from stream_guard.eval.results import code_revision, machine_info, results_parser, write_report
from stream_guard.scoring.fusion import POLARITY_MODEL_MAX, capped
from stream_guard.train import calibrate
from stream_guard.train.cli import TRAIN_DATASETS, load_sets, sample_training
from stream_guard.train.pairs import SUPPORTED

# The shipped recipe's draw (MODEL_CARD.md: --records-per-dataset 2500, seed 13).
TRAINED_PER_DATASET, TRAINING_SEED = 2500, 13
UNSEEN_ITEMS = {"halueval_qa": 500, "halueval_dialogue": 500, "halueval_summarization": 1200}


def unseen_halueval(data: Path) -> dict[str, list[Record]]:
    """Whole HaluEval items (both answers) the shipped detector's training never drew."""
    train = {name: read_records(data / f"{name}.jsonl") for name in TRAIN_DATASETS}
    drawn = {r.id for r in sample_training(train, TRAINED_PER_DATASET,
                                           random.Random(TRAINING_SEED), whole_repeats=0)}
    out: dict[str, list[Record]] = {}
    for name, records in train.items():
        items: dict[str, list[Record]] = {}
        for r in records:
            if r.id not in drawn:
                items.setdefault(r.id.rsplit("-", 1)[0], []).append(r)
        chosen = random.Random(5).sample(sorted(items), UNSEEN_ITEMS[name])
        out[f"{name}_unseen"] = [r for item in chosen for r in items[item]]
    return out


def negation_probe() -> list[Record]:
    pairs = json.loads((Path(__file__).parent / "negation-probe-pairs.json").read_text())["pairs"]
    return [Record(f"probe-{n}", f"probe-{p['pattern']}", p["context"], None, p["answer"],
                   0 if p["faithful"] else 1, None) for n, p in enumerate(pairs)]


def main() -> None:
    p = results_parser(__doc__)
    args = p.parse_args()
    started = time.time()
    revision = code_revision()  # at the start: the code this run imported
    _, tune, _ = load_sets(args.data, training=False)
    sets = {**{f"{name}_tune": records for name, records in tune.items()},
            "summedits_train": read_records(args.data / "summedits_train.jsonl"),
            **unseen_halueval(args.data), "negation_probe": negation_probe()}
    scorer = calibrate.WindowScorer.load()  # the shipped detector, its fusion and its policy
    engine = scorer.engine
    assert engine.fusion is not None
    fusion = engine.fusion[0]
    point = calibrate.OperatingPoint(engine.threshold, engine.clear_margin, engine.run_at_end)

    def without_cap(_record: Record, w: calibrate.ScoredWindow) -> tuple[float, float]:
        signals = replace(w.aligned.signals, polarity_flip=False)
        return capped(signals, fusion.support(signals.features(w.model_support)), 0.0,
                      w.model_support)

    rows: dict[str, object] = {}
    for name, (records, windows) in scorer.groups(sets).items():
        group = {name: (records, windows)}
        labels = calibrate.window_labels(records, windows)
        flagged = {"supported": 0, "unsupported": 0, "unlabelled": 0}
        for w, label in zip(windows, labels, strict=True):
            if w.aligned.signals.polarity_flip and w.model_support < POLARITY_MODEL_MAX:
                flagged["unlabelled" if label is None else
                        "supported" if label == SUPPORTED else "unsupported"] += 1
        rows[name] = {"records": len(records), "flagged_windows": flagged,
                      "without_cap": calibrate.policy_rows(group, fusion, point,
                                                           rule=without_cap)[name],
                      "shipped": calibrate.policy_rows(group, fusion, point)[name]}
    result = {"command": "python docs/results/polarity.py " + " ".join(sys.argv[1:]),
              "code_revision": revision, "polarity_model_max": POLARITY_MODEL_MAX,
              "policy": {"threshold": point.threshold, "clear_margin": point.clear_margin,
                         "run_at_end": point.run_at_end},
              "sets": rows, "machine": machine_info(),
              "elapsed_s": round(time.time() - started, 1)}
    write_report(args.out, result)


if __name__ == "__main__":
    main()
