"""Evidence sent with a stream: chunked and embedded once, searched for every window.

Inline context is small (a few documents per stream), so exact search with one matrix product
is faster than building any index; vectors come from the same embedder as the collections, so
context and collection hits carry comparable cosine scores and can be merged by score.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from stream_guard.evidence.chunking import DEFAULT_MAX_CHARS, chunk_text, content_hash
from stream_guard.models.embedder import Embedder
from stream_guard.scoring.base import Evidence


def context_chunks(items: Sequence[tuple[str, str]], *,
                   max_chars: int = DEFAULT_MAX_CHARS) -> list[Evidence]:
    """Chunks of ``(id, text)`` items, duplicates dropped. Chunk ids are ``"<id>#<n>"`` and
    ``source`` is the item id."""
    chunks: list[Evidence] = []
    seen: set[str] = set()
    for item_id, text in items:
        for n, chunk in enumerate(chunk_text(text, max_chars)):
            digest = content_hash(chunk)
            if digest not in seen:
                seen.add(digest)
                chunks.append(Evidence(id=f"{item_id}#{n}", text=chunk, source=item_id))
    return chunks


class ContextIndex:
    """The chunks of one stream's context and their unit vectors; read-only after build."""

    def __init__(self, chunks: Sequence[Evidence], vectors: npt.NDArray[np.float32]) -> None:
        self._chunks = list(chunks)
        self._vectors = vectors

    @classmethod
    def build(cls, items: Sequence[tuple[str, str]], embedder: Embedder, *,
              max_chars: int = DEFAULT_MAX_CHARS) -> ContextIndex:
        """Chunk and embed ``(id, text)`` items. Blocking (it runs the embedder): build off the
        event loop."""
        return cls.from_chunks(context_chunks(items, max_chars=max_chars), embedder)

    @classmethod
    def from_chunks(cls, chunks: Sequence[Evidence], embedder: Embedder) -> ContextIndex:
        return cls(chunks, embedder.embed([c.text for c in chunks]))

    @property
    def chunks(self) -> list[Evidence]:
        return list(self._chunks)

    def __len__(self) -> int:
        return len(self._chunks)

    def search(self, vectors: npt.NDArray[np.float32], k: int) -> list[list[Evidence]]:
        """Top-``k`` context chunks per query vector, best first, ``score`` = cosine."""
        if not self._chunks or k < 1:
            return [[] for _ in range(len(vectors))]
        sims = np.asarray(vectors, dtype=np.float32) @ self._vectors.T
        k = min(k, len(self._chunks))
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        out = []
        for row, candidates in zip(sims, top, strict=True):
            best = candidates[np.argsort(-row[candidates], kind="stable")]
            out.append([_scored(self._chunks[i], float(row[i])) for i in best])
        return out


def merge_evidence(hit_lists: Iterable[Sequence[Evidence]], k: int) -> list[Evidence]:
    """The ``k`` best of several hit lists for one window (context, collections, ...).

    The same text found in two places counts once, with its better score, so a document that is
    both in a collection and sent as context does not take two of the ``k`` slots.
    """
    best: dict[str, Evidence] = {}
    for hits in hit_lists:
        for ev in hits:
            key = content_hash(ev.text)
            if key not in best or ev.score > best[key].score:
                best[key] = ev
    return sorted(best.values(), key=lambda e: e.score, reverse=True)[:k]


def _scored(ev: Evidence, score: float) -> Evidence:
    return Evidence(id=ev.id, text=ev.text, score=score, source=ev.source)
