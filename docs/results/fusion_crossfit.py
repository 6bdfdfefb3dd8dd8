"""How the fusion and the halt policy carry over to unseen documents of the tune halves; JSON.

Everything here is fitted and judged on the tune halves only (the holdout is never read). The
tune records are split in two by their split key (SummEdits: the document), for several seeds;
each half fits, the other half judges, and the two directions are averaged:

* ``fusion``: the mean over the tune sets of the stream AUROC (a stream = its least supported
  window) of the fused score, for the shipped features with each tune set weighted equally in
  the fit (as shipped) or pooled, and with two of the features the fusion dropped re-derived
  here (the window's content-term count and the share of its adjacent term pairs found in the
  evidence; the third, how many sentences the premise's cover step needed, is no longer
  computed anywhere);
* ``policy``: the halt policy chosen on one half (``calibrate.choose_policy``, with a
  false-halt cap of 3 %, 1 % or 0 % on that half) and its false-halt rate and balanced accuracy
  on the other half.

    python docs/results/fusion_crossfit.py --data ../shared/data/dev \\
        --out docs/results/fusion-crossfit-tune.json
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from stream_guard.dataset import Record
from stream_guard.protocol.frames import ContextItem
from stream_guard.scoring.engine import StreamRequest
from stream_guard.scoring.fusion import MODEL_FEATURES, Fusion
from stream_guard.text.terms import terms
from stream_guard.train import calibrate
from stream_guard.train.cli import load_sets
from stream_guard.train.metrics import auroc

Groups = calibrate.Groups
Row = Callable[[Record, calibrate.ScoredWindow], list[float]]


def _pairs(text: str) -> set[tuple[str, str]]:
    keys = [t.key for t in terms(text)]
    return set(itertools.pairwise(keys))


def _subset(groups: Groups, keep: Callable[[Record], bool]) -> Groups:
    out: Groups = {}
    for name, (records, windows) in groups.items():
        index = [i for i, r in enumerate(records) if keep(r)]
        new = {old: n for n, old in enumerate(index)}
        out[name] = ([records[i] for i in index],
                     [calibrate.ScoredWindow(new[w.record], w.start, w.end, w.aligned,
                                             w.model_support)
                      for w in windows if w.record in new])
    return out


def _fit(groups: Groups, row: Row, balanced: bool) -> Fusion:
    rows, labels, weights = [], [], []
    sets = sum(1 for records, windows in groups.values() if windows)
    total = sum(len(w) for _, w in groups.values())
    for records, windows in groups.values():
        known = [(w, y) for w, y in zip(windows, calibrate.window_labels(records, windows),
                                          strict=True) if y is not None]
        for w, y in known:
            rows.append(row(records[w.record], w))
            labels.append(y)
            weights.append(total / sets / len(known) if balanced else 1.0)
    names = tuple(f"f{i}" for i in range(len(rows[0])))
    return Fusion.fit(names, rows, labels, weights)


def _mean_auroc(groups: Groups, row: Row, fusion: Fusion) -> float:
    values = []
    for records, windows in groups.values():
        least = [1.0] * len(records)
        for w in windows:
            least[w.record] = min(least[w.record], fusion.support(row(records[w.record], w)))
        values.append(auroc(least, [r.label for r in records]))
    return float(np.mean(values))


def _folds(seed: int) -> Callable[[Record], int]:
    return lambda r: int(hashlib.sha256(f"{seed}:{r.split_key}".encode()).hexdigest(), 16) % 2


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seeds", type=int, default=4)
    args = p.parse_args()
    scorer = calibrate.WindowScorer.load()
    engine = scorer.engine
    _, tune, _ = load_sets(args.data)
    groups = scorer.groups(tune)
    evidence_pairs: dict[str, set[tuple[str, str]]] = {}
    for records, _ in groups.values():
        for r in records:
            index = engine.prepare(StreamRequest("x", [ContextItem("context", r.context)], None))
            evidence_pairs[r.id] = set().union(*(_pairs(s.text)
                                                 for s in index.sentences.sentences))

    def shipped(_r: Record, w: calibrate.ScoredWindow) -> list[float]:
        return w.aligned.signals.features(w.model_support)

    def with_dropped(r: Record, w: calibrate.ScoredWindow) -> list[float]:
        text = r.response[w.start:w.end]
        pairs = _pairs(text)
        share = (sum(1 for q in pairs if q in evidence_pairs[r.id]) / len(pairs)
                 if pairs else 1.0)
        return [*shipped(r, w), math.log1p(len({t.key for t in terms(text)})), share]

    variants: dict[str, tuple[Row, bool]] = {
        "shipped features, sets weighted equally": (shipped, True),
        "shipped features, pooled": (shipped, False),
        "with window term count and pair share, sets weighted equally": (with_dropped, True),
        "with window term count and pair share, pooled": (with_dropped, False)}
    fusion_scores: dict[str, list[float]] = {name: [] for name in variants}
    policy: dict[str, list[dict[str, float]]] = {str(cap): [] for cap in (0.03, 0.01, 0.0)}
    for seed in range(args.seeds):
        fold = _folds(seed)
        for side in (0, 1):
            fit_half = _subset(groups, lambda r: fold(r) == side)  # noqa: B023 - used at once
            judge_half = _subset(groups, lambda r: fold(r) != side)  # noqa: B023
            for name, (row, balanced) in variants.items():
                fusion = _fit(fit_half, row, balanced)
                fusion_scores[name].append(_mean_auroc(judge_half, row, fusion))
            shipped_fusion = calibrate.fit_fusion(fit_half)[0]
            for cap in policy:
                point = calibrate.choose_policy(fit_half, shipped_fusion, float(cap)).point
                judged = calibrate.policy_rows(judge_half, shipped_fusion, point)
                policy[cap].append({f"{k}_{m}": v[m] for k, v in judged.items()
                                    for m in ("false_halt_rate", "balanced_accuracy")})
    result = {
        "command": "python docs/results/fusion_crossfit.py " + " ".join(sys.argv[1:]),
        "seeds": args.seeds, "features": list(MODEL_FEATURES),
        "fusion_mean_auroc": {k: round(float(np.mean(v)), 4) for k, v in fusion_scores.items()},
        "policy_judged_on_the_other_half": {
            f"cap {cap}": {m: round(float(np.mean([d[m] for d in runs])), 4) for m in runs[0]}
            for cap, runs in policy.items()},
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
