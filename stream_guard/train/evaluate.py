"""Stream-level evaluation of a pair scorer on validation records, offline.

The same windows and premises the server builds (:class:`~stream_guard.train.pairs.TextPipeline`),
one pair per window, and a stream's score is its least supported window: the quantity a halt
threshold is set on. Used during training to pick checkpoints; the shipped figures come from
``stream-guard eval`` through the real server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from stream_guard.dataset import Record
from stream_guard.train.metrics import Operating, auroc, operating_point
from stream_guard.train.pairs import TextPipeline

SupportFn = Callable[[Sequence[tuple[str, str]]], Sequence[float]]


@dataclass(frozen=True, slots=True)
class DatasetScores:
    dataset: str
    scores: list[float]
    hallucinated: list[int]

    @property
    def auroc(self) -> float:
        return auroc(self.scores, self.hallucinated)

    def at(self, threshold: float) -> Operating:
        return operating_point(self.scores, self.hallucinated, threshold)


def score_streams(records: Sequence[Record], support: SupportFn,
                  pipeline: TextPipeline) -> list[float]:
    """Min over each record's windows of P(supported | premise, window); 1.0 for no window."""
    owners: list[int] = []
    pairs: list[tuple[str, str]] = []
    for n, record in enumerate(records):
        for a in pipeline.align(record):
            owners.append(n)
            pairs.append((a.premise.text, a.window.text))
    out = [1.0] * len(records)
    for owner, score in zip(owners, support(pairs), strict=True):
        out[owner] = min(out[owner], float(score))
    return out


def score_datasets(groups: dict[str, list[Record]], support: SupportFn,
                   pipeline: TextPipeline) -> list[DatasetScores]:
    """Stream scores per dataset, scoring all pairs in one call so batches stay full."""
    names = list(groups)
    flat = [r for name in names for r in groups[name]]
    scores = score_streams(flat, support, pipeline)
    out: list[DatasetScores] = []
    pos = 0
    for name in names:
        n = len(groups[name])
        out.append(DatasetScores(name, scores[pos:pos + n], [r.label for r in groups[name]]))
        pos += n
    return out
