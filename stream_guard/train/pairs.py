"""Training pairs and evaluation streams, at the granularity the server scores.

The server judges (evidence chunk, window) pairs and a stream's score is the minimum over its
windows of the best support among the window's evidence. Training pairs are therefore single
windows against their best-matching chunk, and evaluation recomputes exactly that min-of-max.

Record labels say only that *some* part of a hallucinated response is unsupported, so a
hallucinated multi-window response contributes just its least lexically supported window as the
unsupported example; its other windows are left out rather than labelled with a guess.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from stream_guard.train.chunks import (
    evidence_chunks,
    lexical_support,
    sentences,
    top_chunks,
    windows,
)
from stream_guard.train.data import Record
from stream_guard.train.edits import entities, local_edit

SUPPORTED = 1
UNSUPPORTED = 0
ID2LABEL = {UNSUPPORTED: "unsupported", SUPPORTED: "supported"}
# A window of fewer words ("Arthur's Magazine") cannot be judged without the question, which the
# server does not see; HaluEval QA answers are often that short.
MIN_WINDOW_WORDS = 4
# A "right" response window sharing almost no content words with any evidence chunk is chit-chat
# or knowledge from outside the evidence: labelling it supported would teach the detector to wave
# through ungrounded text, so it is left out.
MIN_SUPPORTED_OVERLAP = 0.25


@dataclass(frozen=True, slots=True)
class Example:
    """One training pair; ``label`` uses the detector's classes (1 = supported)."""

    premise: str
    hypothesis: str
    label: int
    kind: str


@dataclass(frozen=True, slots=True)
class Stream:
    """A response as the server sees it: per window, the evidence chunks retrieved for it."""

    record: Record
    windows: list[str]
    evidence: list[list[str]]


def build_stream(record: Record, top_k: int = 3) -> Stream:
    chunks = evidence_chunks(record.context) or [record.context]
    wins = windows(record.response) or [record.response.strip() or "."]
    return Stream(record, wins, [top_chunks(w, chunks, top_k) for w in wins])


def stream_pairs(streams: Sequence[Stream]) -> list[tuple[str, str]]:
    """Every (premise, hypothesis) pair the streams need, in the order ``stream_scores`` reads."""
    return [(chunk, window) for s in streams
            for window, chunks in zip(s.windows, s.evidence, strict=True) for chunk in chunks]


def stream_scores(streams: Sequence[Stream], support: Sequence[float]) -> list[float]:
    """Stream support = min over windows of max over evidence, from pair supports in the order
    ``stream_pairs`` produced them."""
    out: list[float] = []
    pos = 0
    for s in streams:
        window_support: list[float] = []
        for chunks in s.evidence:
            window_support.append(max(support[pos:pos + len(chunks)]))
            pos += len(chunks)
        out.append(min(window_support))
    if pos != len(support):
        raise ValueError(f"{len(support)} pair scores for {pos} pairs")
    return out


@dataclass(frozen=True, slots=True)
class Mix:
    """How much each source contributes per record (probabilities, so the mix is budgetable)."""

    edit_response: float = 0.6
    context_sentence: float = 0.5
    edit_context: float = 0.5
    off_topic: float = 0.1


def training_examples(records: Sequence[Record], rng: random.Random,
                      mix: Mix = Mix()) -> list[Example]:
    """Pairs from labelled records plus synthetic local edits and off-topic evidence."""
    out: list[Example] = []
    for record in records:
        chunks = evidence_chunks(record.context)
        if not chunks:
            continue
        pool = entities(record.context)
        wins = windows(record.response)
        wins = [w for w in wins if len(w.split()) >= MIN_WINDOW_WORDS]
        if record.label == 1:
            if wins:
                worst = min(wins, key=lambda w: max(lexical_support(w, c) for c in chunks))
                out.append(Example(top_chunks(worst, chunks, 1)[0], worst, UNSUPPORTED,
                                   "hallucinated"))
        else:
            for w in wins:
                best = top_chunks(w, chunks, 1)[0]
                if lexical_support(w, best) < MIN_SUPPORTED_OVERLAP:
                    continue
                out.append(Example(best, w, SUPPORTED, "response"))
                if rng.random() < mix.edit_response:
                    _add_edit(out, best, w, pool, rng, "edit-response")
        if rng.random() < mix.context_sentence:
            chunk = rng.choice(chunks)
            sents = [s for s in sentences(chunk, 400) if len(s) >= 20]
            if sents:
                s = rng.choice(sents)
                out.append(Example(chunk, s, SUPPORTED, "context"))
                if rng.random() < mix.edit_context:
                    _add_edit(out, chunk, s, pool, rng, "edit-context")
        if rng.random() < mix.off_topic and len(records) > 1:
            other = records[rng.randrange(len(records))]
            other_wins = windows(other.response)
            if other is not record and other_wins and other.context != record.context:
                w = rng.choice(other_wins)
                out.append(Example(top_chunks(w, chunks, 1)[0], w, UNSUPPORTED, "off-topic"))
    return out


def _add_edit(out: list[Example], premise: str, hypothesis: str, pool: list[str],
              rng: random.Random, kind: str) -> None:
    edited = local_edit(hypothesis, pool, rng)
    if edited is not None:
        out.append(Example(premise, edited[0], UNSUPPORTED, f"{kind}-{edited[1]}"))
