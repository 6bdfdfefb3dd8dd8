"""Does a very unsure detector deserve more weight than the linear fusion gives it?; JSON.

The fusion is linear in the detector's logit, with a small weight (0.24 in v3.3): a window the
detector gives P(supported) 0.03 but whose words are all in the evidence scores above the
threshold. On the tune halves, windows under 0.05 are mostly unsupported whatever their
coverage (``unsure_but_covered_windows`` in the report), so a hinge on the logit,
``max(0, -logit - c)``, might let such windows halt. Cross-fitted exactly as
``fusion_crossfit.py`` judges rules (tune halves only: half of each set's documents or records
fits the fusion and its halt policy with a 3 % false-halt cap, the other half judges; two
directions, four seeds): the shipped fusion, all features fitted jointly without a hinge (the
like-for-like baseline: the hinge rows are fitted jointly too), and the hinge at three knees.

    python docs/results/logit_hinge.py --data ../shared/data/dev \\
        --out docs/results/logit-hinge-tune.json
"""

from __future__ import annotations

import sys
import time

import fusion_crossfit as fc  # the sibling script's cross-fitting helpers
import numpy as np

from stream_guard.dataset import Record
from stream_guard.eval.results import machine_info, results_parser, write_report
from stream_guard.scoring.fusion import capped
from stream_guard.train import calibrate
from stream_guard.train.cli import load_sets

KNEES = (1.5, 2.5, 3.5)


def shipped(_r: Record, w: calibrate.ScoredWindow) -> list[float]:
    return w.aligned.signals.features(w.model_support)


def hinge(knee: float) -> fc.Row:
    def row(r: Record, w: calibrate.ScoredWindow) -> list[float]:
        features = shipped(r, w)
        return [*features, max(0.0, -features[0] - knee)]
    return row


def jointly(row: fc.Row) -> fc.Rule:
    def fit(g: calibrate.Groups) -> tuple[None, calibrate.WindowRule]:
        fusion = fc._fit(g, row, True)
        return None, lambda r, w: capped(w.aligned.signals, fusion.support(row(r, w)))
    return fit


def unsure_windows(groups: calibrate.Groups) -> dict[str, dict[str, float]]:
    """Per tune set: labelled windows the detector gives P(supported) < 0.05 with coverage >=
    0.6 (all their words in the evidence, so the fusion passes them), and the share of them
    that are unsupported; beside it, the share over all labelled windows."""
    out = {}
    for name, (records, windows) in groups.items():
        labelled = [(w, y) for w, y in zip(windows, calibrate.window_labels(records, windows),
                                           strict=True) if y is not None]
        unsure = [y for w, y in labelled
                  if w.model_support < 0.05 and w.aligned.signals.coverage >= 0.6]
        out[name] = {"windows": len(unsure),
                     "unsupported_share": round(unsure.count(0) / len(unsure), 3),
                     "unsupported_share_of_all_windows": round(
                         sum(1 for _, y in labelled if y == 0) / len(labelled), 3)}
    return out


def main() -> None:
    p = results_parser(__doc__)
    p.add_argument("--seeds", type=int, default=4)
    args = p.parse_args()
    started = time.time()
    scorer = calibrate.WindowScorer.load()
    _, tune, _ = load_sets(args.data)
    groups = scorer.groups(tune)
    rules: dict[str, list[fc.Rule]] = {
        "shipped": [lambda g: (calibrate.fit_fusion(g)[0], None)],
        "all features fitted jointly, no hinge": [jointly(shipped)],
        **{f"jointly, with a hinge at logit -{k}": [jointly(hinge(k))] for k in KNEES}}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in rules}
    for seed in range(args.seeds):
        fold = fc._folds(seed)
        for side in (0, 1):
            fit_half = fc._subset(groups, lambda r: fold(r) == side)  # noqa: B023
            judge_half = fc._subset(groups, lambda r: fold(r) != side)  # noqa: B023
            for name, fits in rules.items():
                fusion, rule, point = fc._fit_rule(fits, fit_half)
                runs[name].append(fc._judged(calibrate.policy_rows(judge_half, fusion, point,
                                                                   rule)))
    result = {
        "command": "python docs/results/logit_hinge.py " + " ".join(sys.argv[1:]),
        "seeds": args.seeds,
        "unsure_but_covered_windows": unsure_windows(groups),
        "judged_on_the_other_half": {
            name: {m: round(float(np.mean([d[m] for d in r])), 4) for m in r[0]}
            for name, r in runs.items()},
        "machine": machine_info(), "elapsed_s": round(time.time() - started, 1)}
    write_report(args.out, result)


if __name__ == "__main__":
    main()
