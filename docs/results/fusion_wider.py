"""Would a fusion fitted on more kinds of answer than the two tune halves serve unseen data
better?; JSON.

The shipped fusion and halt policy are fitted on the tune halves of SummEdits-dev and BEGIN-dev
alone. HaluEval holds thousands of items the detector never trained on (it trained on 2,500
items of each HaluEval set, ``stream-guard train``'s default draw, seed 13): this script scores
unseen items (split by item into a fitting half and a judging half), fits the fusion and chooses
the policy on the tune halves plus the fitting half of HaluEval QA and, where it can hold the 3 %
false-halt cap, of HaluEval summarization, and judges every set under the shipped fusion and
point and under the refitted ones (dev holdout halves and the judging halves). Windows are
scored once, as the server does (:class:`stream_guard.train.calibrate.WindowScorer`).

    python docs/results/fusion_wider.py --data ../shared/data/dev \\
        --out docs/results/fusion-wider.json
"""

from __future__ import annotations

import random
import sys

from stream_guard.dataset import Record, split_rank
from stream_guard.eval.results import machine_info, results_parser, write_report
from stream_guard.scoring.fusion import Fusion
from stream_guard.train.calibrate import (
    Groups,
    OperatingPoint,
    WindowScorer,
    choose_policy,
    fit_fusion,
    policy_rows,
    stream_scores,
)
from stream_guard.train.cli import load_sets, sample_training
from stream_guard.train.metrics import auroc

TRAINED_ITEMS, TRAINED_SEED = 2500, 13  # what the shipped detector's stages drew


def unseen(train: dict[str, list[Record]], name: str, used: set[str], items: int,
           side: str) -> list[Record]:
    """``items`` HaluEval items (both answers of each) the detector never trained on, from the
    fitting (``side="fit"``) or the judging half of the unseen items, by a hash of the item."""
    by_item: dict[str, list[Record]] = {}
    for r in train[name]:
        item = r.id.rsplit("-", 1)[0]
        if item not in used:
            by_item.setdefault(item, []).append(r)
    keep = [k for k in sorted(by_item, key=split_rank)
            if (split_rank(k + "#fit") < 0.5) == (side == "fit")]
    return [r for k in keep[:items] for r in by_item[k]]


def judged(groups: Groups, fusion: Fusion | None, point: OperatingPoint) -> dict[str, object]:
    rows = policy_rows(groups, fusion, point)
    for name, (records, windows) in groups.items():
        rows[name]["auroc"] = round(auroc(stream_scores(records, windows, fusion),
                                          [r.label for r in records]), 4)
    return {"point": {"threshold": point.threshold, "clear_margin": point.clear_margin,
                      "run_at_end": point.run_at_end}, "sets": rows}


def main(argv: list[str] | None = None) -> int:
    parser = results_parser(__doc__)
    parser.add_argument("--qa-items", type=int, default=250)
    parser.add_argument("--summary-items", type=int, default=150)
    args = parser.parse_args(argv)
    train, tune, holdout = load_sets(args.data)
    used = {r.id.rsplit("-", 1)[0] for r in sample_training(
        train, TRAINED_ITEMS, random.Random(TRAINED_SEED), 0)}
    sets = {
        "summedits_tune": tune["summedits_dev"], "begin_tune": tune["begin_dev"],
        "qa_fit": unseen(train, "halueval_qa", used, args.qa_items, "fit"),
        "summaries_fit": unseen(train, "halueval_summarization", used, args.summary_items,
                                "fit"),
        "summedits_holdout": holdout["summedits_dev"], "begin_holdout": holdout["begin_dev"],
        "qa_judge": unseen(train, "halueval_qa", used, args.qa_items, "judge"),
        "summaries_judge": unseen(train, "halueval_summarization", used, args.summary_items,
                                  "judge"),
    }
    scorer = WindowScorer.load()
    groups = scorer.groups(sets)
    engine = scorer.engine
    shipped = engine.fusion[0] if engine.fusion else None
    point = OperatingPoint(engine.threshold, engine.clear_margin, engine.run_at_end)
    report: dict[str, object] = {"shipped": judged(groups, shipped, point)}
    for name, fitted_on in (("tune_and_qa", ("summedits_tune", "begin_tune", "qa_fit")),
                            ("tune_qa_and_summaries", ("summedits_tune", "begin_tune", "qa_fit",
                                                       "summaries_fit"))):
        fit_groups = {k: groups[k] for k in fitted_on}
        fusion, _ = fit_fusion(fit_groups)
        try:
            fit = choose_policy(fit_groups, fusion, 0.03)
        except ValueError as exc:  # no point holds every set's cap
            report[name] = {"fitted_on": list(fitted_on), "error": str(exc)}
            continue
        report[name] = {"fitted_on": list(fitted_on), "fusion": fusion.to_json(),
                        **judged(groups, fusion, fit.point)}
    write_report(args.out, {"experiment": __doc__.split("\n\n")[0],
                            "records": {k: len(v) for k, v in sets.items()}, **report,
                            "machine": machine_info()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
