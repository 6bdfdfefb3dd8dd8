"""One calibrated support score from the detector and the lexical signals.

The cross-encoder is good at "does this sentence say that?" and blind to some things the lexical
tier sees for free: a number the evidence states differently anywhere in the document, a name
that appears nowhere in it. A small logistic model over both (fitted on the tune halves, shipped
as a handful of numbers in ``detector.json``) turns them into one probability that the window is
supported. A second, lexical-only model, fitted on the same windows, scores windows the model
tier had no time for (overload), so a degraded verdict is on the same probability scale and
meets the same threshold.

The features are the few that carry over between kinds of text. Two say whether a window is
about the conversation rather than the world (:mod:`stream_guard.text.stance`): it speaks of its
speaker, or asks its listener; no evidence attests either, and word coverage cannot see it. They
are fitted on top of the others (:meth:`Fusion.extend`), so text that does neither scores as
without them. Fitted on half of the tune documents and judged on the other half
(``docs/results/fusion_crossfit.py``), the window's length and the share of its word pairs found
in the evidence *lowered* the mean AUROC: they describe the shape of one dataset's answers, not
whether a claim is supported, and were dropped.

Pure: signals are computed from text already in memory, fitting is Newton's method in numpy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import numpy as np

from stream_guard.models.hf import ModelFormatError
from stream_guard.text.absence import borne_out
from stream_guard.text.denials import denies_near
from stream_guard.text.direction import moved_otherwise
from stream_guard.text.holidays import holiday_words_known
from stream_guard.text.hours import span_conflict
from stream_guard.text.initials import initialisms_known
from stream_guard.text.opposites import says_opposite
from stream_guard.text.places import names_another_place
from stream_guard.text.polarity import flips_polarity
from stream_guard.text.quantities import (
    other_half_of_day,
    quantity_conflict,
    rate_period_swapped,
    unit_swapped,
    weekday_conflict,
)
from stream_guard.text.quarters import quarter_conflict
from stream_guard.text.rows import RowIndex
from stream_guard.text.stance import asks_listener, chats_about_listener, speaks_of_self
from stream_guard.text.swaps import swapped_beside
from stream_guard.text.terms import Term, coverage, known

# Whether a window is about the conversation rather than the world (text.stance); last in every
# row.
STANCE_FEATURES = ("speaker", "asks_listener")
LEXICAL_FEATURES = ("coverage", "premise_coverage", "conflict", "novel_specifics",
                    *STANCE_FEATURES)
MODEL_FEATURES = ("model_logit", *LEXICAL_FEATURES)
LOGIT_CLIP = 8.0
# The detector's probabilities at the two ends of the clip: every probability it could give
# fuses as one of these or between them.
MODEL_SUPPORT_RANGE = (1.0 / (1.0 + math.exp(LOGIT_CLIP)),
                       1.0 / (1.0 + math.exp(-LOGIT_CLIP)))
# A quantity the evidence states otherwise is scored as this probability of contradiction.
CONFLICT_CONTRADICTION = 0.9
# ... and so is a polarity flip the detector scores below this (it reads the negation).
POLARITY_MODEL_MAX = 0.1
# An absence statement the evidence bears out is scored at least this supported, unless a
# detector that reads contradiction (an NLI model's class; the shipped one has none) finds it
# contradicted at least this likely.
ABSENCE_SUPPORT = 0.9
ABSENCE_MAX_CONTRADICTION = 0.5


@dataclass(frozen=True, slots=True)
class Signals:
    """What the lexical tier knows about one window (all cheap to compute)."""

    coverage: float  # weighted share of the window's terms found anywhere in the evidence
    premise_coverage: float  # ... found in the premise the model reads
    # a quantity the evidence states with another number or unit, or moving otherwise
    conflict: bool
    novel_specifics: float  # share of the window's numbers and names absent from the evidence
    speaker: bool  # speaks of its speaker ("I", "my"): no evidence attests that
    asks_listener: bool  # a question put to the listener ("you")
    # It is a premise clause with "not" added or dropped (text.polarity), or denies what a
    # clause near it asserts in other words (text.denials); no fusion feature: it caps the
    # score when the detector agrees (``capped``).
    polarity_flip: bool = False
    # It is an evidence sentence near it with one word swapped for one that excludes it, or
    # with a negation added or dropped (text.opposites), or it rewords one and puts a figure
    # or word that excludes the sentence's beside the same words (text.swaps); no fusion
    # feature: it caps the score (``capped``).
    opposite_swap: bool = False
    # It says the evidence leaves something out, and the evidence does (text.absence); no
    # fusion feature: it floors the score (``capped``).
    absence_borne_out: bool = False
    # It names a place the evidence does not, where the evidence names another of its kind
    # (text.places); no fusion feature: it caps the score (``capped``).
    other_place: bool = False
    # It says otherwise than the rows of a list the evidence gives: one row named with another
    # row's value, or a category counted otherwise (text.rows); no fusion feature: it caps the
    # score (``capped``).
    against_rows: bool = False
    # It is small talk on the listener's life that touches nothing the evidence says
    # (text.stance); no fusion feature: it floors the score (``capped``).
    small_talk: bool = False

    def features(self, model_support: float | None = None) -> list[float]:
        row = [self.coverage, self.premise_coverage, float(self.conflict), self.novel_specifics,
               float(self.speaker), float(self.asks_listener)]
        if model_support is None:
            return row
        p = min(max(model_support, 1e-6), 1 - 1e-6)
        return [max(-LOGIT_CLIP, min(LOGIT_CLIP, math.log(p / (1 - p)))), *row]


def signals(window: Sequence[Term], window_text: str, evidence_keys: frozenset[str],
            premise_keys: frozenset[str], quantities: Mapping[str, frozenset[str]],
            premise_sentences: Sequence[tuple[str, frozenset[str]]] = (),
            nearest: Sequence[str] = (),
            evidence_places: AbstractSet[str] = frozenset(),
            asked_places: AbstractSet[str] = frozenset(),
            rows: RowIndex | None = None,
            prompt_keys: AbstractSet[str] = frozenset()) -> Signals:
    """The lexical signals of one window against its evidence and its premise (its sentences'
    text and keys, for the polarity check; none: the check is not made), the evidence
    sentences nearest it (:attr:`~stream_guard.evidence.premise.Premise.nearest`, for the
    opposites, swaps and denials checks; none: not made), the places the evidence names
    (:func:`~stream_guard.text.places.sentence_places`; none: the places check is not made),
    those the user's prompt names (which the window may put back) and the rows of its lists
    (:class:`~stream_guard.text.rows.RowIndex`; none: the rows check is not made), and the
    term keys of the prompt (figures small talk may give back).

    A window's acronym of a name the evidence spells out is known
    (:mod:`stream_guard.text.initials`), as are the words of a holiday whose date it gives
    (:mod:`stream_guard.text.holidays`)."""
    for also_known in (initialisms_known, holiday_words_known):
        if extra := also_known(window_text, evidence_keys):
            evidence_keys = evidence_keys | extra
            premise_keys = premise_keys | also_known(window_text, premise_keys)
    keys = frozenset(t.key for t in window)
    specifics = [t for t in window if t.weight > 1.0]
    weight = sum(t.weight for t in specifics)
    missing = sum(t.weight for t in specifics if not known(t.key, evidence_keys))
    conflict = (quantity_conflict(window_text, quantities)
                or moved_otherwise(window_text, quantities)
                or unit_swapped(window_text, quantities, nearest)
                or rate_period_swapped(window_text, quantities)
                or weekday_conflict(window_text, quantities)
                or other_half_of_day(window_text, quantities)
                or span_conflict(window_text, quantities)
                or quarter_conflict(window_text, quantities))
    return Signals(
        coverage=coverage(window, evidence_keys),
        premise_coverage=coverage(window, premise_keys),
        conflict=conflict,
        novel_specifics=missing / weight if weight else 0.0,
        speaker=speaks_of_self(window_text),
        asks_listener=asks_listener(window_text),
        polarity_flip=bool(premise_sentences) and (
            flips_polarity(keys, window_text, premise_sentences)
            or denies_near(window_text, nearest, evidence_keys)),
        opposite_swap=bool(nearest) and (
            says_opposite(window_text, nearest, evidence_keys)
            or swapped_beside(window_text, nearest, evidence_keys)),
        absence_borne_out=not conflict and borne_out(window_text, evidence_keys),
        other_place=names_another_place(window_text, evidence_places, evidence_keys,
                                        asked_places),
        against_rows=rows is not None and rows.contradicts(keys, window_text),
        small_talk=not conflict and chats_about_listener(
            window_text, keys, evidence_keys, prompt_keys),
    )


@dataclass(frozen=True, slots=True)
class Fusion:
    """A logistic model: P(supported) = sigmoid(bias + weights . features)."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float

    def support(self, row: Sequence[float]) -> float:
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, self.logit(row)))))

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "weights": [round(w, 6) for w in self.weights],
                "bias": round(self.bias, 6)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], expected: Sequence[str]) -> Fusion:
        """The fusion over ``expected``. A fusion fitted before some of those features existed
        (a ``detector.json`` of an earlier version) gives them weight 0, so it scores as it was
        fitted; a feature this version does not compute is an error."""
        features = tuple(str(f) for f in data["features"])
        weights = tuple(float(w) for w in data["weights"])
        if len(weights) != len(features):
            raise ValueError("fusion: one weight per feature")
        unknown = [f for f in features if f not in expected]
        if unknown or len(set(features)) != len(features):
            raise ValueError(f"fusion features {features} are not among the ones this version "
                             f"computes {tuple(expected)}")
        by_name = dict(zip(features, weights, strict=True))
        return cls(tuple(expected), tuple(by_name.get(f, 0.0) for f in expected),
                   float(data["bias"]))

    def without(self, features: Sequence[str]) -> Fusion:
        """This fusion with ``features`` given weight 0."""
        return Fusion(self.features, tuple(0.0 if f in features else w
                                           for f, w in zip(self.features, self.weights,
                                                           strict=True)), self.bias)

    def weight(self, feature: str) -> float:
        """The weight of ``feature`` (0 for one this fusion does not have)."""
        return dict(zip(self.features, self.weights, strict=True)).get(feature, 0.0)

    def logit(self, row: Sequence[float]) -> float:
        return self.bias + sum(w * x for w, x in zip(self.weights, row, strict=True))

    @classmethod
    def fit(cls, features: Sequence[str], rows: Sequence[Sequence[float]],
            supported: Sequence[int], sample_weights: Sequence[float] | None = None,
            l2: float = 1.0) -> Fusion:
        """L2-regularised, optionally sample-weighted logistic regression (the bias
        unpenalised)."""
        x = np.hstack([np.ones((len(rows), 1)), np.asarray(rows, dtype=np.float64)])
        penalty = np.full(x.shape[1], l2)
        penalty[0] = 0.0
        w = _newton(x, supported, sample_weights, penalty, np.zeros(len(rows)))
        return cls(tuple(features), tuple(float(v) for v in w[1:]), float(w[0]))

    def extend(self, features: Sequence[str], rows: Sequence[Sequence[float]],
               supported: Sequence[int], sample_weights: Sequence[float] | None = None,
               l2: float = 1.0) -> Fusion:
        """This fusion with ``features`` appended (each row: this fusion's features, then the
        new ones), their weights fitted on top of its own logit, its own weights and bias
        unchanged.

        So a signal that is zero on a window leaves that window's score exactly as before: the
        speaker and listener signals fit this way cannot move the operating point of text that
        states facts in the third person (edited summaries), only push the windows they fire on.
        """
        own = len(self.weights)
        offset = np.asarray([self.logit(r[:own]) for r in rows], dtype=np.float64)
        x = np.asarray([r[own:] for r in rows], dtype=np.float64).reshape(len(rows),
                                                                           len(features))
        w = _newton(x, supported, sample_weights, np.full(x.shape[1], l2), offset)
        return Fusion((*self.features, *features), (*self.weights, *(float(v) for v in w)),
                      self.bias)


def _newton(x: np.ndarray, supported: Sequence[int], sample_weights: Sequence[float] | None,
            penalty: np.ndarray, offset: np.ndarray, iterations: int = 50) -> np.ndarray:
    """Weights of the logistic model ``sigmoid(offset + x @ w)`` by Newton's method."""
    y = np.asarray(supported, dtype=np.float64)
    weight = (np.ones(len(y)) if sample_weights is None
              else np.asarray(sample_weights, dtype=np.float64))
    if weight.shape != (len(y),):
        raise ValueError("fusion: one sample weight per row")
    w = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(offset + x @ w, -30, 30)))
        grad = x.T @ (weight * (p - y)) + penalty * w
        hess = (x * (weight * p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w


def window_support(signals: Signals, model_support: float | None, fusion: Fusion | None,
                   contradiction: float = 0.0) -> tuple[float, float]:
    """A window's (support, contradiction): ``fusion`` over the signals (and the detector's
    probability, when the model scored the window), else the raw probability, else the lexical
    coverage; the one place that applies the quantity-conflict cap, for the engine and for
    calibration alike.

    A number the evidence states differently outweighs everything else: support from the other
    words (or from a model that overlooks one digit) must not outvote it, so the window is capped
    to the contradiction's complement and every threshold treats it as contradicted.
    """
    if fusion is not None:
        support = fusion.support(signals.features(model_support))
    else:
        support = model_support if model_support is not None else signals.coverage
    return capped(signals, support, contradiction, model_support)


def capped(signals: Signals, support: float, contradiction: float = 0.0,
           model_support: float | None = None) -> tuple[float, float]:
    """``(support, contradiction)`` with the contradiction caps of :func:`window_support`
    applied (also for scores a rule being tried computes otherwise).

    A polarity flip is capped the same way when the detector, which reads negation, gives the
    window less than ``POLARITY_MODEL_MAX``: the fusion weighs the detector lightly against word
    coverage, which a flipped statement keeps whole, so "Gift cards can be refunded." against
    "Gift cards cannot be refunded." fused to 0.44 with the detector at 0.05.

    A swap of one word for one that excludes it (an antonym, another ordinal or figure, another
    place) in an evidence sentence the window otherwise copies
    (:mod:`stream_guard.text.opposites`) is capped without the detector's agreement: the
    detector does not read antonyms, which is why the check exists. So is a place the evidence
    does not name where it names another of its kind (:mod:`stream_guard.text.places`): the
    detector reads "in London" for "in Paris" as one more detail; and another row's value
    (:mod:`stream_guard.text.rows`), which it reads as one more sentence of the same shape.

    An absence statement the evidence bears out ("The policy doesn't say whether ...", with
    what it names missing from the evidence: :mod:`stream_guard.text.absence`) is floored at
    ``ABSENCE_SUPPORT`` instead: it is a claim about the evidence, which neither word coverage
    nor the detector reads as one (both find the missing thing unsupported). Not where a
    detector with a contradiction class finds it contradicted: that is no abstention. So is
    small talk on the listener's life that touches nothing the evidence says ("Have a
    wonderful time in Malaga!": :func:`~stream_guard.text.stance.chats_about_listener`): no
    evidence attests it, and none could contradict it.
    """
    flipped = (signals.polarity_flip and model_support is not None
               and model_support < POLARITY_MODEL_MAX)
    if (signals.conflict or flipped or signals.opposite_swap or signals.other_place
            or signals.against_rows):
        return (min(support, 1.0 - CONFLICT_CONTRADICTION),
                max(contradiction, CONFLICT_CONTRADICTION))
    if ((signals.absence_borne_out or signals.small_talk)
            and contradiction < ABSENCE_MAX_CONTRADICTION):
        return max(support, ABSENCE_SUPPORT), contradiction
    return support, contradiction


def load_fusion(data: object) -> tuple[Fusion, Fusion] | None:
    """The detector's fused calibration (``detector.json`` ``fusion``), if it ships one: the
    statement fusion and the lexical-only one. Checked before the server's port opens
    (``scoring.factory.check_engine``), as the engine reads it only once the port is open."""
    if not isinstance(data, dict):
        return None
    try:
        return (Fusion.from_json(data["model"], MODEL_FEATURES),
                Fusion.from_json(data["lexical"], LEXICAL_FEATURES))
    except (KeyError, TypeError, ValueError) as exc:  # a message naming it, not a traceback
        raise ModelFormatError(f"detector.json fusion is not one this version reads "
                               f"({type(exc).__name__}: {exc})") from None

