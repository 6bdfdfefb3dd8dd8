"""Fitting the fused score (:mod:`stream_guard.scoring.fusion`) on the tune halves.

Every window is aligned by the engine's own pure steps (``prepare``, ``align``) and scored by the
exported detector through the server's scorer class, so the features the fusion learns from are
the ones the server computes. Window labels come from the record labels as in training
(:func:`window_labels`), except that *every* window of a supported response counts as supported:
the server scores chit-chat too, and it must not halt on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from stream_guard.dataset import Record
from stream_guard.oversight.policy import CONTRADICTION_THRESHOLD, HALT_CONSECUTIVE, HaltPolicy
from stream_guard.protocol.frames import ContextItem
from stream_guard.scoring.engine import (
    Alignment,
    CheckJob,
    EngineConfig,
    GroundingEngine,
    StreamRequest,
)
from stream_guard.scoring.fusion import (
    LEXICAL_FEATURES,
    MODEL_FEATURES,
    STANCE_FEATURES,
    Fusion,
    load_fusion,
    window_support,
)
from stream_guard.train.pairs import SUPPORTED, UNSUPPORTED, TextPipeline


@dataclass(frozen=True, slots=True)
class ScoredWindow:
    record: int  # index into the records
    start: int
    end: int
    aligned: Alignment
    model_support: float


# Each named set: its records, and every window of them scored.
Groups = dict[str, tuple[list[Record], list[ScoredWindow]]]
# A window's (support, contradiction) under a rule being tried instead of the fused score, or
# None for a window the rule does not check (``docs/results/fusion_crossfit.py``, ``polarity.py``).
WindowRule = Callable[[Record, ScoredWindow], "tuple[float, float] | None"]


@dataclass(frozen=True, slots=True)
class WindowScorer:
    """The server's cascade engine (inline context only: no collections) and its windowing
    around one detector: what the export, the policy grid and the fusion cross-fit score sets
    with. The default embedder is loaded for what the server reads with it on inline context
    too, the small-talk head (:mod:`stream_guard.models.small_talk`), so that the policy is
    chosen on the supports the server computes."""

    engine: GroundingEngine
    pipeline: TextPipeline

    @classmethod
    def load(cls, model: str = "default", *, threads: int = 0,
             cache_dir: Path | None = None) -> WindowScorer:
        """``model``: a detector's ``model.onnx`` path, or ``"default"`` (the shipped one);
        ``cache_dir``: where the packaged MiniLM is extracted (default: the settings')."""
        from stream_guard.config import Settings, load_settings
        from stream_guard.metrics import Metrics
        from stream_guard.models.cross_encoder import load_detector
        from stream_guard.models.embedder import load_embedder
        from stream_guard.models.small_talk import load_small_talk_head

        settings = load_settings().replace(tier="cascade")
        if cache_dir is not None:
            settings = settings.replace(cache_dir=cache_dir)
        detector = load_detector(model, cache_dir=settings.cache_dir, backend="onnx",
                                 intra_op_threads=threads)
        embedder = load_embedder(Settings().embedder, cache_dir=settings.cache_dir,
                                 intra_op_threads=threads)
        # The engine holds the detector's own calibration, where it ships one, as the server's
        # does (scripts judging the shipped operating point read it there); scoring windows
        # does not use it.
        return cls(GroundingEngine(EngineConfig.from_settings(settings), Metrics(),
                                   model=detector, model_threshold=detector.threshold,
                                   model_clear_margin=detector.clear_margin,
                                   model_run_at_end=detector.run_at_end,
                                   fusion=load_fusion(detector.fusion), embedder=embedder,
                                   small_talk=load_small_talk_head()),
                   TextPipeline.from_settings(settings))

    def groups(self, sets: Mapping[str, list[Record]]) -> Groups:
        return {name: (records, score_windows(self.engine, records, self.pipeline))
                for name, records in sets.items()}


def score_windows(engine: GroundingEngine, records: Sequence[Record],
                  pipeline: TextPipeline) -> list[ScoredWindow]:
    """Every window of every record, aligned and scored by the detector, as the server would."""
    assert engine.model is not None, "calibration needs the detector loaded"
    jobs: list[tuple[int, int, int, CheckJob]] = []
    for n, record in enumerate(records):
        evidence = engine.prepare(StreamRequest(
            "calibrate", [ContextItem("context", record.context)], None, record.prompt))
        for w in pipeline.windows(record.response):
            jobs.append((n, w.start, w.end, CheckJob(evidence, w.text, w.previous)))
    aligned = engine.align([j for *_, j in jobs])
    scored = engine.model.score_pairs([a.pair() for a in aligned])
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


def fit_fusion(groups: Groups
               ) -> tuple[Fusion, Fusion]:
    """The model+lexical and the lexical-only logistic models, fitted on the same windows.

    Each tune set has the same total weight, however many windows it has: the halt policy is
    chosen for the mean over the sets, and the sets disagree (a window's word coverage says a
    lot about support in knowledge-grounded dialogue and little in edited summaries), so a set
    with more windows must not decide the compromise alone. On held-back documents of the tune
    halves it made no measurable difference to the mean AUROC with the shipped features
    (``docs/results/fusion-crossfit-tune.json``); it is a choice of objective, not a gain.

    The statement features are fitted first, and the speaker and listener signals on top of
    them (:meth:`Fusion.extend`): fitted jointly, they re-weighed word coverage for dialogue and
    moved the operating point of edited summaries, where they never fire (docs/quality.md).
    """
    known: list[tuple[ScoredWindow, int, float]] = []
    sets = 0
    for records, windows in groups.values():
        labelled = [(w, y) for w, y in zip(windows, window_labels(records, windows), strict=True)
                    if y is not None]
        known += [(w, y, 1.0 / len(labelled)) for w, y in labelled]
        sets += bool(labelled)
    y = [lab for _, lab, _ in known]
    weights = [wt * len(known) / sets for _, _, wt in known]  # mean weight 1
    stance = len(STANCE_FEATURES)

    def fit(names: tuple[str, ...], rows: list[list[float]]) -> Fusion:
        statement = Fusion.fit(names[:-stance], [r[:-stance] for r in rows], y, weights)
        return statement.extend(names[-stance:], rows, y, weights)

    full = fit(MODEL_FEATURES, [w.aligned.signals.features(w.model_support) for w, _, _ in known])
    lexical = fit(LEXICAL_FEATURES, [w.aligned.signals.features() for w, _, _ in known])
    return full, lexical


def stream_scores(records: Sequence[Record], windows: Sequence[ScoredWindow],
                  fusion: Fusion | None) -> list[float]:
    """Each record's least supported window, fused (or the raw detector probability), with the
    engine's cap for quantity conflicts."""
    out = [1.0] * len(records)
    for w in windows:
        support, _ = window_support(w.aligned.signals, w.model_support, fusion)
        out[w.record] = min(out[w.record], support)
    return out


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """The halt policy's calibrated knobs, as ``detector.json`` ships them."""

    threshold: float
    clear_margin: float
    run_at_end: bool = False


@dataclass(frozen=True, slots=True)
class PolicyFit:
    """The halt policy's operating point chosen on the tune halves."""

    point: OperatingPoint
    mean_balanced_accuracy: float
    per_dataset: dict[str, dict[str, float]]


def halts(records: Sequence[Record], windows: Sequence[ScoredWindow], fusion: Fusion | None,
          point: OperatingPoint, consecutive: int = HALT_CONSECUTIVE,
          contradiction_threshold: float = CONTRADICTION_THRESHOLD,
          rule: WindowRule | None = None) -> list[bool]:
    """Whether the server's halt policy halts each record, window by window in stream order,
    then at the end of the output. ``rule``: score the windows by it instead of ``fusion``."""
    policies = [HaltPolicy(point.threshold, contradiction_threshold, consecutive,
                           point.clear_margin, point.run_at_end) for _ in records]
    for w in windows:  # windows of one record are in stream order
        scored = (window_support(w.aligned.signals, w.model_support, fusion) if rule is None
                  else rule(records[w.record], w))
        if scored is not None:
            policies[w.record].observe(*scored, firm=w.aligned.firm)
    for p in policies:
        p.finish()
    return [p.halted for p in policies]


def policy_rows(groups: Groups, fusion: Fusion | None, point: OperatingPoint,
                rule: WindowRule | None = None) -> dict[str, dict[str, float]]:
    """Recall, false-halt rate and balanced accuracy per dataset under the real halt policy."""
    rows: dict[str, dict[str, float]] = {}
    for name, (records, windows) in groups.items():
        halted = halts(records, windows, fusion, point, rule=rule)
        bad = [h for h, r in zip(halted, records, strict=True) if r.label == 1]
        good = [h for h, r in zip(halted, records, strict=True) if r.label == 0]
        recall = sum(bad) / len(bad) if bad else 0.0
        fhr = sum(good) / len(good) if good else 0.0
        rows[name] = {"n": len(records), "recall": round(recall, 4),
                      "false_halt_rate": round(fhr, 4),
                      "balanced_accuracy": round((recall + 1 - fhr) / 2, 4)}
    return rows


def choose_policy(groups: Groups, fusion: Fusion | None, max_false_halt: float,
                  rule: WindowRule | None = None) -> PolicyFit:
    """The operating point (threshold, clear margin, whether a run the output ends in halts)
    with the best mean balanced accuracy over the datasets while every dataset's false-halt
    rate stays within the cap, simulating the real policy."""
    best: PolicyFit | None = None
    for run_at_end in (False, True):
        for margin in (0.0, 0.05, 0.1, 0.15, 0.2, 0.3):
            for step in range(2, 99):
                threshold = step / 100
                if threshold - margin < 0.01:
                    continue
                point = OperatingPoint(threshold, margin, run_at_end)
                rows = policy_rows(groups, fusion, point, rule)
                if max(r["false_halt_rate"] for r in rows.values()) > max_false_halt:
                    continue
                mean = sum(r["balanced_accuracy"] for r in rows.values()) / len(rows)
                if best is None or mean > best.mean_balanced_accuracy:
                    best = PolicyFit(point, round(mean, 4), rows)
    if best is None:
        raise ValueError("no operating point keeps every dataset within the false-halt cap")
    return best


LENGTH_BUCKETS = ((0, 1000), (1000, 3000), (3000, 6000), (6000, 10**9))


def long_document_rows(groups: Groups,
                       fusion: Fusion | None, point: OperatingPoint
                       ) -> list[dict[str, float | str]]:
    """Does a long source cost false halts? For the *supported* records, by evidence length:
    the false-halt rate under the policy, and the premise's recall (the share of a window's
    terms found anywhere in the evidence that its premise also holds; 1.0 means the premise
    never left out a sentence the window drew on)."""
    halted_by_group = {name: halts(records, windows, fusion, point)
                       for name, (records, windows) in groups.items()}
    rows: list[dict[str, float | str]] = []
    for low, high in LENGTH_BUCKETS:
        n = halted_n = 0
        recall: list[float] = []
        for name, (records, windows) in groups.items():
            halted = halted_by_group[name]
            keep = {i for i, r in enumerate(records)
                    if r.label == 0 and low <= len(r.context) < high}
            n += len(keep)
            halted_n += sum(1 for i in keep if halted[i])
            recall += [min(1.0, w.aligned.signals.premise_coverage / w.aligned.signals.coverage)
                       for w in windows if w.record in keep and w.aligned.signals.coverage > 0]
        if n:
            rows.append({"context_chars": f"{low}-{high if high < 10**9 else ''}",
                         "supported_records": n, "false_halt_rate": round(halted_n / n, 4),
                         "windows": len(recall),
                         "premise_recall_mean": round(sum(recall) / max(1, len(recall)), 4),
                         "windows_full_recall": round(
                             sum(1 for r in recall if r >= 0.999) / max(1, len(recall)), 4)})
    return rows
