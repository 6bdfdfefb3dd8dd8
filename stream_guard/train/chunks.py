"""Evidence chunks, claim windows and the lexical retrieval that pairs them, for training and eval.

They mirror what the server does at serve time (sentence windows of at most 400 characters; evidence
chunks of 2-4 sentences, at most 600 characters, overlapping by one sentence) so the detector is
trained on the pair shapes it will be asked to score. Retrieval here is lexical (content-word
overlap) because training needs it for tens of thousands of records without an index; the server
retrieves with embeddings, and both aim at the same thing: the chunk that could support the window.
"""

from __future__ import annotations

import re

from stream_guard.oversight.segmenter import sentence_spans

WINDOW_MAX_CHARS = 400
WINDOW_MIN_CHARS = 12
CHUNK_MAX_CHARS = 600
CHUNK_MAX_SENTENCES = 4

_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?|\d+(?:[.,]\d+)*")
_STOPWORDS = """
a an the and or but if then so of to in on at by for with from as into about over after before
is are was were be been being am do does did has have had having it its it's this that these those
there here he she they them his her their our we you your i me my mine us who whom which what when
where why how not no yes very just also too can could would should will shall may might must
than such some any all each both more most other own same only s t don't didn't isn't wasn't
"""
_STOP = frozenset(_STOPWORDS.split())


def split_long(text: str, max_chars: int) -> list[str]:
    """Cut text longer than ``max_chars`` at whitespace, so a run-on sentence still fits a pair."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > max_chars:
        cut = rest.rfind(" ", 0, max_chars + 1)
        if cut <= 0:
            cut = max_chars
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def sentences(text: str, max_chars: int) -> list[str]:
    return [piece for start, end in sentence_spans(text)
            for piece in split_long(text[start:end], max_chars)]


def windows(text: str, max_chars: int = WINDOW_MAX_CHARS,
            min_chars: int = WINDOW_MIN_CHARS) -> list[str]:
    """Claim windows of a response: its sentences, with fragments merged into the next window."""
    out: list[str] = []
    pending = ""
    for sentence in sentences(text, max_chars):
        merged = f"{pending} {sentence}".strip() if pending else sentence
        if len(merged) < min_chars:
            pending = merged
            continue
        out.extend(split_long(merged, max_chars))
        pending = ""
    if pending:
        if out and len(out[-1]) + len(pending) + 1 <= max_chars:
            out[-1] = f"{out[-1]} {pending}"
        else:
            out.append(pending)
    return out


def evidence_chunks(text: str, max_chars: int = CHUNK_MAX_CHARS,
                    max_sentences: int = CHUNK_MAX_SENTENCES) -> list[str]:
    """Chunks of consecutive sentences, each sharing its first sentence with the previous chunk's
    last, so a fact stated across a boundary is still whole in one chunk."""
    sents = sentences(text, max_chars)
    chunks: list[str] = []
    i = 0
    while i < len(sents):
        j = i + 1
        size = len(sents[i])
        while j < len(sents) and j - i < max_sentences and size + 1 + len(sents[j]) <= max_chars:
            size += 1 + len(sents[j])
            j += 1
        chunks.append(" ".join(sents[i:j]))
        if j >= len(sents):
            break
        i = j - 1 if j - 1 > i else j
    return chunks


def content_words(text: str) -> set[str]:
    return {w for w in (m.lower() for m in _WORD.findall(text)) if w not in _STOP}


def lexical_support(window: str, chunk: str) -> float:
    """Share of the window's content words the chunk contains (1.0 for a window with none)."""
    words = content_words(window)
    if not words:
        return 1.0
    return len(words & content_words(chunk)) / len(words)


def top_chunks(window: str, chunks: list[str], k: int) -> list[str]:
    """The ``k`` chunks sharing the most content words with the window, best first (stable)."""
    ranked = sorted(range(len(chunks)), key=lambda i: -lexical_support(window, chunks[i]))
    return [chunks[i] for i in ranked[:k]]
