"""Evidence sent inline with a stream, cut into passages with the chunker collections use.

A stream's ``context`` items become passages (sentence-aligned chunks, duplicates dropped) whose
sentences the premise builder (:mod:`stream_guard.evidence.premise`) chooses from; a passage's id
(``"<item id>#<n>"``) is what ``verdict`` and ``halt`` frames cite.
"""

from __future__ import annotations

from collections.abc import Sequence

from stream_guard.evidence.chunking import DEFAULT_MAX_CHARS, chunk_pieces, content_hash
from stream_guard.evidence.premise import EvidenceSentence
from stream_guard.scores import Evidence


def context_sentences(items: Sequence[tuple[str, str]], *,
                      max_chars: int = DEFAULT_MAX_CHARS) -> list[EvidenceSentence]:
    """The sentences of ``(id, text)`` items, each once per item, with the first of the item's
    passages that holds it (two items that share a sentence keep a copy each, as
    :func:`~stream_guard.evidence.premise.unique_sentences` does for documents).

    Passages are the items' chunks, an item's duplicate chunks dropped; a chunk's id is
    ``"<id>#<n>"`` and its ``source`` the item id. One sentence pass over each item: the
    chunker's own sentence spans, rather than each chunk split again (stream set-up is on the
    path of every new stream). On prose the two agree (``tests/test_evidence_chunking.py``);
    where a block spans a chunk boundary (a fenced code block, a list) the whole item's spans
    are the right ones, since a chunk split alone has lost the block's opening. Collection
    hits, stored as chunk texts, are still split chunk by chunk
    (:func:`~stream_guard.evidence.premise.unique_sentences`).
    """
    out: list[EvidenceSentence] = []
    for item_id, text in items:
        seen_chunks: set[str] = set()
        seen: set[str] = set()
        for n, pieces in enumerate(chunk_pieces(text, max_chars)):
            chunk = text[pieces[0][0]:pieces[-1][1]]
            digest = content_hash(chunk)
            if digest in seen_chunks:
                continue
            seen_chunks.add(digest)
            passage = Evidence(id=f"{item_id}#{n}", text=chunk, source=item_id)
            for start, end in pieces:
                sentence = text[start:end]
                if sentence not in seen:
                    seen.add(sentence)
                    out.append(EvidenceSentence.of(sentence, passage))
    return out
