"""A deterministic pair scorer for tests that need a model tier without a model.

Support is the hypothesis's weighted term coverage by the premise; a quantity the premise states
differently is a contradiction. The server itself never uses it: its lexical tier reads the same
measurements (``stream_guard.text.terms``) as fusion signals.
"""

from __future__ import annotations

from collections.abc import Sequence

from stream_guard.scores import Pair, PairScore
from stream_guard.scoring.fusion import CONFLICT_CONTRADICTION
from stream_guard.text.quantities import quantity_conflict, quantity_index
from stream_guard.text.terms import coverage, term_keys


class LexicalScorer:
    """``PairScorer`` whose support is the window's term coverage by the premise."""

    name = "lexical"

    def score_pairs(self, pairs: Sequence[Pair]) -> list[PairScore]:
        return [PairScore(coverage(p.hypothesis, term_keys(p.premise)),
                          CONFLICT_CONTRADICTION if quantity_conflict(
                              p.hypothesis, quantity_index(p.premise))
                          else 0.0) for p in pairs]
