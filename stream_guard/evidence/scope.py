"""Which evidence documents a window may be checked against: not another numbered thing's.

Documents that differ only in a model number and their figures (a catalogue's product sheets,
the versions of one specification) share every sentence shape. "Its motor is rated at 800
watts." covers the claim "The K-123 motor is rated at 800 watts" whichever sheet it comes from,
and the pronoun hides which product it is about. Retrieval returns neighbours' sheets beside
the claim's own (an evidence review: in a catalogue of 300 such sheets, 30 of 80 false claims
passed this way), and a premise or a quantity check pooled over them finds the neighbour's
figure and calls the false claim supported.

So when a window names a numbered name ("K-123", "F-35": :mod:`stream_guard.text.terms`) and
some document of its evidence names it too, a document that names the same name with another
number and never the window's one ("K-200") is about something else and is left out of that
window's evidence: its premise, coverage and figures. Documents, not chunks: an inline context
item or a collection document is one thing's sheet, while a single long document naming the
F-22 in one section and the F-35 in another is one text, never split against itself. Nothing
is left out when no document names the window's thing (the name is then new, which the lexical
signals already see) or when the window names no numbered thing, which is nearly every window.

Only a sibling is left out: a document whose words (numbers and numbered names aside) are at
least half words of the documents that name the window's thing, as a catalogue's sheets or a
specification's versions are. A document that names another variant in passing is no other
thing's sheet: a warranty policy "from the entry K-200 upward", the chunk of an F-35 article
(sent as an item of its own) that compares the jet with the F-22, a history of GPT-3 that goes
on to its successor, a company profile naming its ISO-14001 certificate. Left out, these lost a
true claim its only support (the lexical tier, the cascade or both halted it); their words are
mostly their own (at most a third shared in those examples; a catalogue's sheets share
all of theirs).

Pure: the engine calls it per window, after collection hits join the stream's inline evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from stream_guard.evidence.premise import EvidenceSentence, SentenceIndex
from stream_guard.text.terms import Term, is_option, names_another_variant, numbered_name_of


def numbered_names(window: Sequence[Term]) -> frozenset[str]:
    """The keys of the numbered names a window gives ("k-123"): what scoping depends on."""
    return frozenset(t.key for t in window if "-" in t.key and not is_option(t.key))


def scoped_sentences(index: SentenceIndex,
                     numbered: AbstractSet[str]) -> list[EvidenceSentence] | None:
    """``index``'s sentences without those of documents about another numbered variant of a
    name in ``numbered`` (:func:`numbered_names`; see the module docstring), or None when no
    sentence is left out."""
    if not numbered:
        return None
    keys = index.document_keys()
    if len(keys) < 2:
        return None
    # Per name: a name no document gives with the window's number ("Claude-2" beside evidence
    # that writes "Claude 2") is new or written otherwise, and leaves nothing out, even when
    # another name of the window (a "GPT-4" some document names) does.
    named = {key for key in numbered if any(key in k for k in keys.values())}
    if not named:
        return None
    other = {doc for doc, k in keys.items() if numbered.isdisjoint(k)
             and any(names_another_variant(key, k) for key in named)}
    if not other:
        return None
    names = {numbered_name_of(key) for key in named}  # "k" of "k-123": every document's
    about = {w for k in keys.values() if not named.isdisjoint(k) for w in _words(k, names)}
    other = {doc for doc in other if _sibling(_words(keys[doc], names), about)}
    if not other:
        return None
    return [s for s in index.sentences if s.passage.document not in other]


# A document about another variant is a sibling (left out) when at least this share of its
# words are words of the documents naming the window's thing.
SIBLING_SHARE = 0.5


def _words(keys: AbstractSet[str], names: AbstractSet[str]) -> list[str]:
    """A document's keys less its numbers, numbered names and the window's numbered names'
    names."""
    return [k for k in keys if "-" not in k and not k[0].isdigit() and k not in names]


def _sibling(words: Sequence[str], about: AbstractSet[str]) -> bool:
    """Whether a document with ``words`` reads as a sibling of those whose words are ``about``
    (a document of figures alone, "K-200: 5.1 kg", is one)."""
    need = SIBLING_SHARE * len(words)
    shared = missed = 0
    for word in words:
        if word in about:
            shared += 1
            if shared >= need:
                return True
        else:
            missed += 1
            if missed > len(words) - need:
                return False
    return shared >= need
