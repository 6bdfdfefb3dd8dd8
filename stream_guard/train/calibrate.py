"""Fitting the fused score (:mod:`stream_guard.scoring.fusion`) on the tune halves.

Every window is aligned by the engine's own pure steps (``prepare``, ``align``) and scored by the
exported detector through the server's scorer class, so the features the fusion learns from are
the ones the server computes. Window labels come from the record labels as in training
(:func:`window_labels`), except that *every* window of a supported response counts as supported:
the server scores chit-chat too, and it must not halt on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stream_guard.dataset import Record
from stream_guard.protocol.frames import ContextItem
from stream_guard.scoring.base import Pair
from stream_guard.scoring.engine import Alignment, CheckJob, GroundingEngine, StreamRequest
from stream_guard.scoring.fusion import LEXICAL_FEATURES, MODEL_FEATURES, Fusion
from stream_guard.scoring.lexical import CONFLICT_CONTRADICTION
from stream_guard.train.pairs import SUPPORTED, UNSUPPORTED, TextPipeline


@dataclass(frozen=True, slots=True)
class ScoredWindow:
    record: int  # index into the records
    start: int
    end: int
    aligned: Alignment
    model_support: float


def score_windows(engine: GroundingEngine, records: Sequence[Record],
                  pipeline: TextPipeline) -> list[ScoredWindow]:
    """Every window of every record, aligned and scored by the detector, as the server would."""
    assert engine.model is not None, "calibration needs the detector loaded"
    jobs: list[tuple[int, int, int, CheckJob]] = []
    for n, record in enumerate(records):
        evidence = engine.prepare(StreamRequest("calibrate", [ContextItem("context",
                                                                          record.context)], None))
        for w in pipeline.windows(record.response):
            jobs.append((n, w.start, w.end, CheckJob(evidence, w.text, w.previous)))
    aligned = engine.align([j for *_, j in jobs])
    scored = engine.model.score_pairs([Pair(a.premise.text, a.text) for a in aligned])
    return [ScoredWindow(n, start, end, a, s.support)
            for (n, start, end, _), a, s in zip(jobs, aligned, scored, strict=True)]


def window_labels(records: Sequence[Record], windows: Sequence[ScoredWindow]
                  ) -> list[int | None]:
    """Supported / unsupported per window, None where the record does not say."""
    labels: list[int | None] = [None] * len(windows)
    by_record: dict[int, list[int]] = {}
    for i, w in enumerate(windows):
        by_record.setdefault(w.record, []).append(i)
    for n, idx in by_record.items():
        record = records[n]
        if record.label == 0:
            for i in idx:
                labels[i] = SUPPORTED
        elif record.onset is not None:
            for i in idx:
                if windows[i].end <= record.onset:
                    labels[i] = SUPPORTED
                elif windows[i].start <= record.onset < windows[i].end:
                    labels[i] = UNSUPPORTED
        else:
            worst = min(idx, key=lambda i: windows[i].model_support)
            labels[worst] = UNSUPPORTED
    return labels


def fit_fusion(records: Sequence[Record], windows: Sequence[ScoredWindow]
               ) -> tuple[Fusion, Fusion]:
    """The model+lexical and the lexical-only logistic models, fitted on the same windows."""
    labels = window_labels(records, windows)
    known = [(w, y) for w, y in zip(windows, labels, strict=True) if y is not None]
    y = [lab for _, lab in known]
    full = Fusion.fit(MODEL_FEATURES,
                      [w.aligned.signals.features(w.model_support) for w, _ in known], y)
    lexical = Fusion.fit(LEXICAL_FEATURES, [w.aligned.signals.features() for w, _ in known], y)
    return full, lexical


def stream_scores(records: Sequence[Record], windows: Sequence[ScoredWindow],
                  fusion: Fusion | None) -> list[float]:
    """Each record's least supported window, fused (or the raw detector probability), with the
    engine's cap for quantity conflicts."""
    out = [1.0] * len(records)
    for w in windows:
        s = w.aligned.signals
        support = fusion.support(s.features(w.model_support)) if fusion else w.model_support
        if s.conflict:
            support = min(support, 1.0 - CONFLICT_CONTRADICTION)
        out[w.record] = min(out[w.record], support)
    return out
