"""Per-stream inline context and merging it with collection hits."""

from __future__ import annotations

import numpy as np
import pytest

from stream_guard.evidence.context import ContextIndex, merge_evidence
from stream_guard.models.embedder import SentenceEmbedder
from stream_guard.scoring.base import Evidence

pytestmark = pytest.mark.slow  # real models

CONTEXT = [
    ("ticket-17", "The customer ordered a blue bicycle on March 3. The order shipped on March 5 "
                  "from the Berlin warehouse."),
    ("policy", "Refunds are accepted within 30 days of delivery. Items must be unused."),
]


def test_build_and_search(minilm: SentenceEmbedder) -> None:
    index = ContextIndex.build(CONTEXT, minilm, max_chars=90)
    assert len(index) >= 3  # the ticket is split into sentence chunks
    windows = minilm.embed(["The bicycle was shipped from Berlin.",
                            "You can get a refund within a month."])
    hits = index.search(windows, k=2)
    assert hits[0][0].source == "ticket-17" and "Berlin" in hits[0][0].text
    assert hits[1][0].source == "policy" and hits[1][0].id == "policy#0"
    assert all(len(h) == 2 and h[0].score >= h[1].score for h in hits)
    # Scores are the embedder's cosine similarities.
    expected = float(windows[1] @ minilm.embed([hits[1][0].text])[0])
    assert abs(hits[1][0].score - expected) < 1e-5


def test_empty_context_and_large_k(minilm: SentenceEmbedder) -> None:
    empty = ContextIndex.build([], minilm)
    assert len(empty) == 0 and empty.search(minilm.embed(["a", "b"]), 3) == [[], []]
    index = ContextIndex.build(CONTEXT, minilm)
    assert len(index.search(minilm.embed(["x"]), 100)[0]) == len(index)


def test_duplicate_context_chunks_count_once(minilm: SentenceEmbedder) -> None:
    index = ContextIndex.build([("a", "Same text."), ("b", "Same  text.")], minilm)
    assert len(index) == 1


def test_merge_takes_the_best_k_and_collapses_same_text() -> None:
    context = [Evidence("c#0", "Shared fact.", 0.9, "c"), Evidence("c#1", "Only here.", 0.3, "c")]
    collection = [Evidence("kb#4", "Shared  fact.", 0.7, "kb.txt"),
                  Evidence("kb#9", "Another fact.", 0.5, "kb.txt")]
    merged = merge_evidence([context, collection], k=3)
    assert [e.id for e in merged] == ["c#0", "kb#9", "c#1"]
    assert merge_evidence([context, collection], k=1) == [context[0]]
    assert merge_evidence([], k=3) == []


def test_search_matches_numpy_reference(minilm: SentenceEmbedder) -> None:
    index = ContextIndex.build(CONTEXT, minilm, max_chars=60)
    queries = minilm.embed(["order", "refund", "warehouse"])
    chunk_vectors = minilm.embed([e.text for e in index.search(queries[:1], len(index))[0]])
    hits = index.search(queries, k=len(index))
    for q, row in zip(queries, hits, strict=True):
        scores = [e.score for e in row]
        assert scores == sorted(scores, reverse=True)
        assert np.isclose(max(scores), float((chunk_vectors @ q).max()), atol=1e-5)
