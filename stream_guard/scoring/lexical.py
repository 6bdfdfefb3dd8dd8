"""The lexical tier as a pair scorer: is what the window says literally present in the premise?

The measurements themselves (terms, coverage, quantities) live in :mod:`stream_guard.text.terms`;
the engine uses them directly as signals. This scorer serves a server configured without a model
and tests that need a deterministic scorer.
"""

from __future__ import annotations

from collections.abc import Sequence

from stream_guard.scores import Pair, PairScore
from stream_guard.text.terms import coverage, number_conflict, term_keys

CONFLICT_CONTRADICTION = 0.9


class LexicalScorer:
    """``PairScorer`` whose support is the window's term coverage by the premise."""

    name = "lexical"

    def score_pairs(self, pairs: Sequence[Pair]) -> list[PairScore]:
        return [PairScore(coverage(p.hypothesis, term_keys(p.premise)),
                          CONFLICT_CONTRADICTION if number_conflict(p.hypothesis, p.premise)
                          else 0.0) for p in pairs]
