"""What scoring consumes and produces: value types shared by evidence, models, scoring and the
per-stream state machine, kept in a leaf module so none of those packages imports another for
them.

A scorer judges (evidence, window) pairs. It is synchronous on purpose: the batching scheduler
calls it from its own thread with a whole micro-batch, so a scorer only has to be fast on a batch,
never aware of the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Evidence:
    """A piece of text a window may be grounded in: an inline context chunk or a collection chunk.

    ``score`` is the retrieval similarity until a scorer replaces it with the pair's support.
    """

    id: str
    text: str
    score: float = 0.0
    source: str = ""

    @property
    def document(self) -> str:
        """The document the passage is a chunk of: its id without the ``#<n>`` that numbers
        the chunk (inline context items and collection documents alike)."""
        head, sep, _ = self.id.rpartition("#")
        return head if sep else self.id  # an item with an empty id: "" for all its chunks


@dataclass(frozen=True, slots=True)
class Pair:
    """One judgement: does ``premise`` (evidence) support ``hypothesis`` (the window)?

    ``context`` is the text just before the window (the previous sentence), which resolves
    pronouns and ellipsis in the window without being judged itself.
    """

    premise: str
    hypothesis: str
    context: str = ""


@dataclass(frozen=True, slots=True)
class PairScore:
    """``support``: probability the hypothesis is supported. ``contradiction``: probability it is
    contradicted, 0.0 for models without a contradiction class."""

    support: float
    contradiction: float = 0.0


@runtime_checkable
class PairScorer(Protocol):
    """Scores a batch of pairs; called off the event loop, one batch at a time.

    A scorer whose ``contradiction`` is always 0.0 (a detector with no contradiction class)
    may say so with ``reads_contradiction = False``: the engine then settles, without it, the
    windows whose fused verdict no support it could give would change
    (:meth:`~stream_guard.scoring.engine.GroundingEngine.settled`). A scorer that does not say
    is taken to read contradiction."""

    name: str

    def score_pairs(self, pairs: Sequence[Pair]) -> list[PairScore]: ...


@dataclass(frozen=True, slots=True)
class WindowScore:
    """What the grounding engine found for one window.

    ``degraded``: the model had no time for it before its deadline; the lexical tier scored it.
    ``firm``: the window reports a transaction done for the user (``text.self_report.
    reports_done``): unsupported, it halts at once rather than wait for a second window.
    """

    support: float
    contradiction: float
    evidence: Sequence[Evidence]
    degraded: bool = False
    firm: bool = False
