"""The focused premise: the few evidence sentences one window is judged against.

A cross-encoder reading a 600-character chunk to judge a 20-word claim spends most of its
attention (and its 256 tokens) on text that has nothing to do with the claim, and a one-word edit
drowns in it. Following SummaC's sentence alignment, a window is instead compared with the
evidence *sentences* that best cover it, packed into one premise of about 100 tokens: the model
sees the sentence that should support the claim next to the claim, and each window costs one
short pair.

Selection is greedy set cover over the window's content terms, weighted by how rare each term is
among the candidate sentences (so "Falcone" counts for more than "said"), like BM25. The sentence
covering most of the window comes first; each next one must add terms the premise still lacks (a
claim fused from two source sentences finds both); what budget is left goes to the next most
relevant sentences, so a partial paraphrase still has its neighbours in view. Every sentence of
the stream's evidence is a candidate, not only those of a few retrieved chunks, so a long
document cannot hide the right sentence from the model. Pure and deterministic: the trainer
builds its premises with this same class. Choosing or filling by embedding similarity instead was
measured on the tune halves: it ranked SummEdits' edits worse, for the cost of embedding every
evidence sentence (``docs/results/raw_ranking.py``).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from stream_guard.scores import Evidence
from stream_guard.text.holidays import holiday_keys
from stream_guard.text.initials import RUN_INITIALS, name_initials
from stream_guard.text.sentences import sentence_spans
from stream_guard.text.terms import Term, term_keys

PREMISE_MAX_CHARS = 400  # about 100 MiniLM tokens: the pair stays within 128 with its window
MIN_GAIN = 0.05  # a sentence adding less of the window's weight than this is not "covering"
# The evidence sentences a window is compared with word by word (``Premise.nearest``).
NEAREST = 3


@dataclass(frozen=True, slots=True)
class EvidenceSentence:
    """One sentence of an evidence passage, with the passage it came from."""

    text: str
    passage: Evidence
    keys: frozenset[str]

    @classmethod
    def of(cls, text: str, passage: Evidence) -> EvidenceSentence:
        """The sentence ``text`` of ``passage``, with its content-term keys, the keys of the
        initials of the names it spells out (:mod:`stream_guard.text.initials`) and those of
        the holidays on its dates and of its holidays' dates
        (:mod:`stream_guard.text.holidays`)."""
        return cls(text, passage, term_keys(text) | name_initials(text) | holiday_keys(text))


@dataclass(frozen=True, slots=True)
class Premise:
    """The sentences chosen for a window (best first) and their relevance to it (0-1).

    ``nearest``: the evidence's most relevant sentences, whether or not they fit the premise:
    the ones a window copying a sentence most likely copied, for the word-by-word comparison of
    :mod:`stream_guard.text.opposites` (a long window's cover may spend its budget elsewhere).
    """

    sentences: tuple[EvidenceSentence, ...]
    relevance: tuple[float, ...]
    nearest: tuple[EvidenceSentence, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)

    def passages(self) -> list[Evidence]:
        """The passages actually used, each once, best first: the passage's id and source, the
        text of its sentences that were chosen (what the model read), and the relevance of the
        best of them."""
        order: list[str] = []
        texts: dict[str, list[str]] = {}
        best: dict[str, float] = {}
        first: dict[str, Evidence] = {}
        for sentence, score in zip(self.sentences, self.relevance, strict=True):
            p = sentence.passage
            if p.id not in first:
                order.append(p.id)
                first[p.id], texts[p.id], best[p.id] = p, [], score
            texts[p.id].append(sentence.text)
            best[p.id] = max(best[p.id], score)
        return [Evidence(pid, " ".join(texts[pid]), round(best[pid], 4), first[pid].source)
                for pid in order]


def passage_sentences(passage: Evidence) -> list[EvidenceSentence]:
    """The sentences of one passage, in order (a stream keeps a collection passage's, split
    once, for its later windows)."""
    return [EvidenceSentence.of(passage.text[start:end], passage)
            for start, end in sentence_spans(passage.text)]


def unique_sentences(passages: Iterable[Sequence[EvidenceSentence]]) -> list[EvidenceSentence]:
    """The passages' sentences in order, a sentence repeated by overlapping chunks of one
    document once. Documents keep their own copy of a sentence they share ("Its motor is rated
    at 800 watts."), so leaving one document out (:mod:`stream_guard.evidence.scope`) does not
    take the sentence from another (:class:`SentenceIndex` indexes one copy)."""
    out: list[EvidenceSentence] = []
    seen: set[tuple[str, str]] = set()
    for sentences in passages:
        for sentence in sentences:
            if (sentence.passage.document, sentence.text) not in seen:
                seen.add((sentence.passage.document, sentence.text))
                out.append(sentence)
    return out


class SentenceIndex:
    """The sentences of one stream's evidence, with an inverted index of their content terms.

    Built once per stream (or per window, for collection hits); read-only after that, so windows
    of one stream can be focused from any thread. ``sentences`` keeps every document's copy of
    a sentence several documents hold (scoping may leave some of those documents out); only
    the first copy is indexed, so copies cost the premise nothing and it never packs a text
    twice.
    """

    def __init__(self, sentences: Sequence[EvidenceSentence]) -> None:
        self.sentences = list(sentences)
        self._postings: dict[str, list[int]] = {}
        postings = self._postings
        seen: set[str] = set()
        for i, sentence in enumerate(self.sentences):
            if sentence.text in seen:
                continue
            seen.add(sentence.text)
            for key in sentence.keys:
                ids = postings.get(key)
                if ids is None:
                    postings[key] = [i]
                else:
                    ids.append(i)
        n = self._distinct = len(seen)
        self._unseen_idf = math.log(1.0 + (n + 0.5) / 0.5)
        self._idf = {key: math.log(1.0 + (n - len(ids) + 0.5) / (len(ids) + 0.5))
                     for key, ids in self._postings.items()}
        self.keys = frozenset(self._postings)
        self._document_keys: dict[str, frozenset[str]] | None = None

    def __len__(self) -> int:
        """The number of distinct sentences."""
        return self._distinct

    def document_keys(self) -> dict[str, frozenset[str]]:
        """Each document's content-term keys (:attr:`Evidence.document`), computed on first
        use and kept: scoping reads them for every window that names a numbered thing."""
        if self._document_keys is None:
            keys: dict[str, set[str]] = {}
            for sentence in self.sentences:
                keys.setdefault(sentence.passage.document, set()).update(sentence.keys)
            self._document_keys = {doc: frozenset(k) for doc, k in keys.items()}
        return self._document_keys

    def focus(self, window: Sequence[Term], max_chars: int = PREMISE_MAX_CHARS) -> Premise:
        """The premise for a window (given as its :func:`~stream_guard.text.terms.terms`).

        A window sharing no term with the evidence gets the evidence's opening sentences, so the
        model still sees what the evidence is about (and can say the window is off-topic).
        """
        weights: dict[str, float] = {}
        postings = self._postings
        for term in window:
            key = term.key
            if key not in postings and RUN_INITIALS + key in postings:
                key = RUN_INITIALS + key  # an acronym of a name the evidence spells out
            weights[key] = max(weights.get(key, 0.0), term.weight)
        for key in weights:
            weights[key] *= self._idf.get(key, self._unseen_idf)
        total = sum(weights.values())
        candidates = sorted({i for key in weights for i in self._postings.get(key, ())})
        if not candidates or total <= 0:
            return self._lead(max_chars)

        def share(i: int, of: set[str]) -> float:
            # Summed in the window's order, not the set's: a set's order follows the process's
            # hash seed, and the float sums it gave broke ties differently from one process
            # (a worker, a training run) to the next (a review).
            keys = self.sentences[i].keys
            return sum(w for k, w in weights.items() if k in of and k in keys) / total

        relevance = {i: share(i, set(weights)) for i in candidates}
        chosen: list[int] = []
        used = 0
        uncovered = set(weights)
        remaining = set(candidates)
        # Cover: each pick adds the most of what the premise still lacks (the most relevant,
        # then the first, of equal gains). Lazily: a sentence's gain only falls as the premise
        # covers more, so one whose gain, worked out again, still leads every other's last
        # known gain is the pick. Working out every gain for every pick cost a window 0.4 s
        # against thousands of matching sentences (a review).
        known = [(-relevance[i], -relevance[i], i) for i in candidates]
        heapq.heapify(known)
        while known:
            _, minus_relevance, best = heapq.heappop(known)
            gain = share(best, uncovered)
            if known and (-gain, minus_relevance, best) > known[0]:
                heapq.heappush(known, (-gain, minus_relevance, best))  # another may lead now
                continue
            if chosen and (gain < MIN_GAIN or not self._fits(best, used, max_chars)):
                break
            chosen.append(best)
            remaining.discard(best)
            used += len(self.sentences[best].text) + 1
            uncovered -= self.sentences[best].keys
        # Fill: the next most relevant sentences, while they fit.
        for i in sorted(remaining, key=lambda i: (-relevance[i], i)):
            if self._fits(i, used, max_chars):
                chosen.append(i)
                used += len(self.sentences[i].text) + 1
        nearest = heapq.nsmallest(NEAREST, candidates, key=lambda i: (-relevance[i], i))
        return Premise(tuple(_clip(self.sentences[i], max_chars) for i in chosen),
                       tuple(min(1.0, relevance[i]) for i in chosen),
                       tuple(self.sentences[i] for i in nearest))

    def _lead(self, max_chars: int) -> Premise:
        picked: list[EvidenceSentence] = []
        texts: set[str] = set()
        used = 0
        for i, sentence in enumerate(self.sentences):
            if sentence.text in texts:
                continue
            if picked and not self._fits(i, used, max_chars):
                break
            texts.add(sentence.text)
            picked.append(_clip(sentence, max_chars))
            used += len(sentence.text) + 1
        return Premise(tuple(picked), tuple(0.0 for _ in picked))

    def _fits(self, i: int, used: int, max_chars: int) -> bool:
        return used + len(self.sentences[i].text) <= max_chars


def _clip(sentence: EvidenceSentence, max_chars: int) -> EvidenceSentence:
    """A sentence longer than the whole budget, cut at its last space that fits."""
    if len(sentence.text) <= max_chars:
        return sentence
    cut = sentence.text.rfind(" ", 0, max_chars)
    text = sentence.text[: cut if cut > 0 else max_chars]
    return EvidenceSentence(text, sentence.passage, sentence.keys)
