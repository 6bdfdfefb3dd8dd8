"""Stream-level evaluation of a pair scorer on the validation records."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from stream_guard.train.data import Record
from stream_guard.train.metrics import Operating, auroc, operating_point
from stream_guard.train.pairs import build_stream, stream_pairs, stream_scores

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
                  top_k: int = 3) -> list[float]:
    streams = [build_stream(r, top_k) for r in records]
    return stream_scores(streams, list(support(stream_pairs(streams))))


def score_datasets(groups: dict[str, list[Record]], support: SupportFn,
                   top_k: int = 3) -> list[DatasetScores]:
    """Stream scores per dataset, scoring all pairs in one call so batches stay full."""
    names = list(groups)
    flat = [r for name in names for r in groups[name]]
    scores = score_streams(flat, support, top_k)
    out: list[DatasetScores] = []
    pos = 0
    for name in names:
        n = len(groups[name])
        out.append(DatasetScores(name, scores[pos:pos + n], [r.label for r in groups[name]]))
        pos += n
    return out
