"""Evidence sent inline with a stream, cut into passages the way collections are.

A stream's ``context`` items become passages (sentence-aligned chunks, duplicates dropped) whose
sentences the premise builder (:mod:`stream_guard.evidence.premise`) chooses from; a passage's id
(``"<item id>#<n>"``) is what ``verdict`` and ``halt`` frames cite.
"""

from __future__ import annotations

from collections.abc import Sequence

from stream_guard.evidence.chunking import DEFAULT_MAX_CHARS, chunk_text, content_hash
from stream_guard.scores import Evidence


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
