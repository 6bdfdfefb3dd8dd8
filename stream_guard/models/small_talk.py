"""Small talk told from claims by what a sentence means: a linear head on the embedder.

A chat assistant opens and closes its answers with lines on the user's life ("Happy
almost-7th birthday to your daughter - a unicorn party sounds magical!", "I'm so sorry
Biscuit isn't well"), which no evidence attests and none contradicts. The word lists of
:mod:`stream_guard.text.stance` hold the commonest formulas; blind probes kept finding lines in
words of their own, halted as unsupported (a third of their faithful answers). Which words a
line of goodwill uses is open-ended; what it means is not, so a logistic head over the
embedder's sentence vectors reads it, fitted on written small talk against the dev sets'
windows and friendly lines that do make a claim ("Enjoy the free hot chocolate we give
birthday skaters!"): ``python -m stream_guard.train.small_talk`` (its docstring has the
command and the data).

The head is consulted only for a window that already has the shape of small talk
(:func:`~stream_guard.text.stance.could_be_small_talk`: short, no claim words, nothing the
evidence says), and the window passes only if it and each of its clauses read as small talk,
so a friendly opener cannot carry a claim after it ("Congratulations - newlyweds get a free
bottle of prosecco!"). It is tied to the embedder it was fitted on by that embedder's
fingerprint: vectors of another model mean nothing to it, and the server then reads small
talk by its words alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stream_guard.models.arrays import FloatArray
from stream_guard.models.embedder import Embedder
from stream_guard.text.stance import talk_clauses

HEAD_FILE = Path(__file__).with_name("detector") / "small_talk.json"
# A clause this short ("Oh", "Ha") says too little to read alone; the whole line is read.
_MIN_CLAUSE_WORDS = 2


@dataclass(frozen=True, slots=True)
class SmallTalkHead:
    """P(small talk) = sigmoid(bias + weights . vector) for the embedder whose fingerprint it
    records; a line is small talk at ``threshold`` or above."""

    fingerprint: str
    weights: FloatArray
    bias: float
    threshold: float

    def reads(self, embedder: Embedder) -> bool:
        """Whether it was fitted on this embedder's vectors."""
        return bool(self.fingerprint) and embedder.fingerprint == self.fingerprint

    def probabilities(self, vectors: FloatArray) -> FloatArray:
        z = np.clip(vectors @ self.weights + self.bias, -30.0, 30.0)
        out: FloatArray = (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
        return out

    def small_talk(self, embedder: Embedder, texts: Sequence[str]) -> list[bool]:
        """Whether each text reads as small talk, as a whole and clause by clause (blocking:
        call it off the loop)."""
        return [score >= self.threshold for score in self.scores(embedder, texts)]

    def scores(self, embedder: Embedder, texts: Sequence[str]) -> list[float]:
        """Each text's least P(small talk) over it and its clauses (:func:`pieces`); one batch
        of the embedder for all of them."""
        spans: list[tuple[int, int]] = []
        batch: list[str] = []
        for text in texts:
            start = len(batch)
            batch.extend(pieces(text))
            spans.append((start, len(batch)))
        if not batch:
            return []
        p = self.probabilities(embedder.embed(batch))
        return [float(p[a:b].min()) for a, b in spans]

    def to_json(self) -> dict[str, Any]:
        return {"embedder_fingerprint": self.fingerprint, "threshold": round(self.threshold, 4),
                "bias": round(self.bias, 6), "weights": [round(float(w), 6) for w in self.weights]}

    @classmethod
    def from_json(cls, data: object) -> SmallTalkHead:
        if not isinstance(data, dict):
            raise ValueError("a small-talk head is a JSON object")
        weights = np.asarray(data["weights"], dtype=np.float32)
        if weights.ndim != 1 or not weights.size:
            raise ValueError("small-talk weights must be a non-empty list of numbers")
        return cls(str(data["embedder_fingerprint"]), weights, float(data["bias"]),
                   float(data["threshold"]))


def load_small_talk_head(path: Path = HEAD_FILE) -> SmallTalkHead | None:
    """The shipped head, or None where there is none (the word lists alone read small talk).
    Blocking file I/O: call it at startup, off the loop."""
    if not path.is_file():
        return None
    return SmallTalkHead.from_json(json.loads(path.read_text(encoding="utf-8")))


def pieces(text: str) -> list[str]:
    """What the head reads of a window: the window, and its clauses where it has several of
    more than a word (:func:`~stream_guard.text.stance.talk_clauses`)."""
    clauses = [c for c in talk_clauses(text) if len(c.split()) >= _MIN_CLAUSE_WORDS]
    return [text, *clauses] if len(clauses) > 1 else [text]
