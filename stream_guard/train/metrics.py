"""Stream-level metrics and the threshold choice.

A stream "halts" when its support (min over windows of max over evidence) falls below the
threshold. A false halt is a halt on a fully supported response, the failure users notice most, so
the threshold is chosen under a cap on that rate and only then for balanced accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stream_guard.eval.metrics import auroc as risk_auroc


@dataclass(frozen=True, slots=True)
class Operating:
    threshold: float
    balanced_accuracy: float
    false_halt_rate: float
    halt_rate_hallucinated: float


def auroc(scores: Sequence[float], hallucinated: Sequence[int]) -> float:
    """Probability a hallucinated stream scores lower support than a supported one (ties half):
    :func:`stream_guard.eval.metrics.auroc` of the negated support, the one implementation;
    NaN when a class is missing."""
    value = risk_auroc([-float(v) for v in scores], hallucinated)
    return float("nan") if value is None else value


def operating_point(scores: Sequence[float], hallucinated: Sequence[int],
                    threshold: float) -> Operating:
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(hallucinated, dtype=bool)
    halts = s < threshold
    fhr = float(halts[~y].mean()) if (~y).any() else 0.0
    tpr = float(halts[y].mean()) if y.any() else 0.0
    return Operating(threshold, (tpr + 1.0 - fhr) / 2.0, fhr, tpr)


def choose_threshold(groups: Sequence[tuple[Sequence[float], Sequence[int]]],
                     max_false_halt: float = 0.05) -> Operating:
    """The threshold maximising the mean balanced accuracy over ``groups`` (datasets) while the
    false-halt rate stays within the cap in every group, so no one domain pays for another."""
    candidates = sorted({round(float(v), 6) for scores, _ in groups for v in scores} | {0.0})
    best: tuple[float, float] | None = None
    for t in candidates:
        points = [operating_point(s, y, t) for s, y in groups]
        if max(p.false_halt_rate for p in points) > max_false_halt:
            continue
        mean_ba = float(np.mean([p.balanced_accuracy for p in points]))
        if best is None or mean_ba > best[1]:
            best = (t, mean_ba)
    threshold = 0.0 if best is None else best[0]
    all_scores = [v for s, _ in groups for v in s]
    all_labels = [v for _, y in groups for v in y]
    return operating_point(all_scores, all_labels, threshold)
