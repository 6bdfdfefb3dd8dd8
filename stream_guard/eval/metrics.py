"""Detection metrics of an evaluation run, as pure functions of labels and outcomes.

A halt is the positive prediction: precision is the share of halts that caught a hallucination,
the false-halt rate the share of faithful responses that were cut off. Undefined ratios (no halts,
no faithful records) are ``None`` rather than 0, so a report never claims a perfect or a zero
score that was not measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Confusion:
    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.tn + self.fn


@dataclass(frozen=True, slots=True)
class HaltScores:
    precision: float | None
    recall: float | None
    f1: float | None
    balanced_accuracy: float | None
    false_halt_rate: float | None


@dataclass(frozen=True, slots=True)
class ThresholdPick:
    """The highest support threshold whose halts stay within a false-halt budget."""

    threshold: float
    recall: float | None
    false_halt_rate: float


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def confusion(halted: Sequence[bool], labels: Sequence[int]) -> Confusion:
    if len(halted) != len(labels):
        raise ValueError("halted and labels differ in length")
    tp = sum(1 for h, y in zip(halted, labels, strict=True) if h and y)
    fp = sum(1 for h, y in zip(halted, labels, strict=True) if h and not y)
    fn = sum(1 for h, y in zip(halted, labels, strict=True) if not h and y)
    return Confusion(tp, fp, len(labels) - tp - fp - fn, fn)


def halt_scores(c: Confusion) -> HaltScores:
    precision = ratio(c.tp, c.tp + c.fp)
    recall = ratio(c.tp, c.tp + c.fn)
    f1 = ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn)
    specificity = ratio(c.tn, c.tn + c.fp)
    balanced = None if recall is None or specificity is None else (recall + specificity) / 2
    return HaltScores(precision, recall, f1, balanced, ratio(c.fp, c.fp + c.tn))


def auroc(risk: Sequence[float], labels: Sequence[int]) -> float | None:
    """Area under the ROC curve of ``risk`` (higher means label 1) by the rank-sum statistic.

    Equals the probability that a random positive outranks a random negative, ties counting one
    half (average ranks); ``None`` when either class is missing.
    """
    x = np.asarray(risk, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    if x.shape != y.shape:
        raise ValueError("risk and labels differ in length")
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)  # 1-based rank of the last member of each tie group
    ranks = (upper - (counts - 1) / 2.0)[inverse]
    u = float(ranks[y].sum()) - n_pos * (n_pos + 1) / 2.0
    return u / (n_pos * n_neg)


def threshold_at_fhr(support: Sequence[float], labels: Sequence[int],
                     target: float) -> ThresholdPick | None:
    """The largest ``t`` such that halting when ``support < t`` halts at most ``target`` of the
    label-0 records; with it, the recall on label 1 and the false-halt rate actually reached.

    With the label-0 scores sorted, allowing ``k = floor(target * n)`` false halts, that ``t`` is
    the (k+1)-th smallest: anything above it would halt k+1 of them.
    """
    if not 0.0 <= target < 1.0:
        raise ValueError("target must be in [0, 1)")
    s = np.asarray(support, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    negatives = np.sort(s[~y])
    if negatives.size == 0:
        return None
    allowed = int(np.floor(target * negatives.size + 1e-9))
    t = float(negatives[allowed])
    positives = s[y]
    recall = ratio(float((positives < t).sum()), positives.size)
    return ThresholdPick(t, recall, float((negatives < t).sum()) / negatives.size)


def quantile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated quantile; ``None`` for no values."""
    if not values:
        return None
    return float(np.quantile(np.asarray(values, dtype=np.float64), q))
