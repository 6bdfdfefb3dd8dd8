"""Evidence sent inline with a stream, cut into passages with the chunker collections use.

A stream's ``context`` items become passages (sentence-aligned chunks, duplicates dropped) whose
sentences the premise builder (:mod:`stream_guard.evidence.premise`) chooses from; a passage's id
(``"<item id>#<n>"``) is what ``verdict`` and ``halt`` frames cite.

Reading a context (:func:`read_context`: its sentences indexed, the figures, rows and places it
states) is the costly part of a stream's set-up, about 8 ms per KB on the 2-core host of
docs/benchmarks-log.md, and the same context comes back: each turn of a conversation sends its
documents again, a support assistant sends one policy with every answer, and many questions
retrieve the same few passages. :class:`ContextReadings` keeps recent readings, so a context
is read once per tenant and process while it stays in use (with ``--workers N``, each worker
keeps its own: a conversation's turns on one connection reach one worker).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from stream_guard.evidence.chunking import DEFAULT_MAX_CHARS, chunk_pieces, content_hash
from stream_guard.evidence.premise import EvidenceSentence, SentenceIndex
from stream_guard.evidence.structured import column_use, read
from stream_guard.scores import Evidence
from stream_guard.text.places import sentence_places
from stream_guard.text.quantities import quantity_index
from stream_guard.text.rows import RowIndex


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


def places_of(sentences: Sequence[EvidenceSentence]) -> frozenset[str]:
    """The places evidence sentences name (:func:`~stream_guard.text.places.named`)."""
    return frozenset().union(*(sentence_places(s.text, s.keys) for s in sentences))


@dataclass(frozen=True, slots=True)
class ContextReading:
    """What a stream's inline context states: its sentences indexed, the quantities it states,
    the rows of its lists and tables (None: it gives none), the places it names, and its
    size in characters as read (tables as the prose they state). Read-only once built
    (a :class:`SentenceIndex` is), so the streams that send one context share its reading."""

    sentences: SentenceIndex
    quantities: dict[str, frozenset[str]]
    rows: RowIndex | None
    places: frozenset[str]
    chars: int


def read_context(items: Sequence[tuple[str, str]]) -> ContextReading:
    """The reading of ``(id, text)`` items (:class:`ContextReading`)."""
    readings = [(item_id, read(text)) for item_id, text in items]
    prose = [(item_id, reading.prose) for item_id, reading in readings]
    sentences = context_sentences(prose)
    quantities = quantity_index("\n".join(text for _, text in prose))
    rows = RowIndex((f for _, reading in readings for f in reading.fields), column_use,
                    quantities)
    return ContextReading(SentenceIndex(sentences), quantities, rows if rows else None,
                          places_of(sentences), sum(len(text) for _, text in prose))


# How many times over a reading that gives rows is charged its characters (ContextReadings).
ROWS_CHARGE = 6


class ContextReadings:
    """The readings of the contexts streams sent last (:func:`read_context`), least recently
    used dropped first, at most ``max_chars`` characters charged in all (0: none kept).

    A reading is charged the context's characters and the characters it reads them as
    (:attr:`ContextReading.chars`), the latter six times over where the context gives rows of
    a table or records: its rows index holds far more than prose does. Measured with
    tracemalloc, a reading then holds 8-20 bytes per character charged: 8 for news prose,
    15-16 for JSON records and a Markdown table, 19 for a CSV read as its text
    (``docs/results/s58/reading_memory.py``).

    One store for the process, shared by its tenants; keyed by tenant as well as by content,
    since a stream whose set-up came back at once would learn that its text had been sent
    before: across tenants never, and within one tenant (its users' browsers share it) where
    the operator keeps readings at all. Thread-safe (set-ups run on worker threads); two
    streams that start with one new context at once may both read it, and one reading is
    kept. A stream without context (a collection's) reads nothing and is not counted.
    """

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self._held: OrderedDict[tuple[str, tuple[tuple[str, str], ...]],
                                tuple[ContextReading, int]] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def read(self, tenant: str, items: Sequence[tuple[str, str]]) -> tuple[ContextReading, bool]:
        """The reading of ``items`` for ``tenant``, and whether it was kept from before."""
        raw = sum(len(item_id) + len(text) for item_id, text in items)
        if not items or raw > self.max_chars:
            return read_context(items), False
        key = (tenant, tuple(items))
        with self._lock:
            held = self._held.get(key)
            if held is not None:
                self._held.move_to_end(key)
                return held[0], True
        reading = read_context(items)
        charge = raw + reading.chars * (ROWS_CHARGE if reading.rows is not None else 1)
        with self._lock:
            if key not in self._held and charge <= self.max_chars:
                self._held[key] = (reading, charge)
                self._chars += charge
                while self._chars > self.max_chars:
                    _, (_, dropped) = self._held.popitem(last=False)
                    self._chars -= dropped
        return reading, False

    def holds(self, tenant: str, items: Sequence[tuple[str, str]]) -> bool:
        """Whether the reading of ``items`` for ``tenant`` is kept (a set-up that reads only
        its prompt then: engine.open_stream's lane)."""
        with self._lock:
            return (tenant, tuple(items)) in self._held

    @property
    def chars(self) -> int:
        """The characters charged for the readings held."""
        return self._chars

    def __len__(self) -> int:
        return len(self._held)
