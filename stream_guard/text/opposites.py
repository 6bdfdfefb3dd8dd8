"""Opposites: whether a claim copies an evidence sentence but says the opposite in one place.

"The agent offered him a narrow range of plans" against "... offered him a wide range of plans",
"Mean blood pressure rose by 8.4 mmHg" against "... fell by 8.4 mmHg", "at the end of the
second quarter" against "... third quarter": every other word is the evidence's, so word
coverage misses one word in ten, and the cross-encoder, which does not read antonyms (a fresh
probe of 60 such swaps: it halted none, ``docs/results/opposites-probe.jsonl``), scores the pair
as supported. Yet the claim states the opposite of its source. So a window is marked when it
aligns word by word with one of the evidence sentences nearest it
(:attr:`~stream_guard.evidence.premise.Premise.nearest`) and differs from it, between words that
match on both sides, by one word that excludes the word in that place of the sentence:

* its opposite in WordNet (``opposites.json``, built once by :mod:`stream_guard.train.wordnet`):
  direct antonyms, those of the word it derives from ("decrease" for "increase"), and for an
  adjective in a cluster those of the cluster's head ("limited", "unlimited"); in any
  inflection, irregular ones included ("rose" and "fell"); not the senses answers rarely mean
  (posture and converse verbs: "sits" for "lies", "come" and "go");
* a few opposites WordNet leaves out: function words ("before" and "after", "with" and
  "without") and words of rules and accounts ("approve" and "reject", "profit" and "loss");
* another of a closed class: ordinals, small numbers in words, colours, days, months, seasons,
  compass points (one spelling of each: "gray", "north-east", "western" are "grey",
  "northeast", "west");
* another figure, one token for one and written alike (so of the same unit: "3.1 miles" for
  "5 km", "$85k" for "$85,000", "1h" for "60min" are conversions, the quantity check's), not
  the same digits under another locale's separators, an hour on the other clock ("7" pm and
  "19") or a year in two digits ("FY24"). The other figure may be stated elsewhere in the
  source, or be one :func:`~stream_guard.text.quantities.quantity_conflict` cannot place.
* another place, of one or two capitalised words (:func:`~stream_guard.text.places.other_places`:
  a city for a city, neither within the other: "Berlin" for "Paris", not "France"); a place
  may also be the sentence's first or last words ("... in 1889 in Berlin." for "... in
  Paris."), where no other swap is judged (a word there may open or close a clause the other
  text lacks), with the copied stretch beside it of a claim's length in a loose alignment.

The fused score then treats the window as contradicted (:func:`stream_guard.scoring.fusion.capped`).
The mark is narrow, since answers paraphrase:

* the swapped-in word must be absent from the whole evidence (its term keys, and every word of
  the sentences compared): a source that says "smaller" of one thing and "larger" of another is
  not contradicted by either, and an entity swapped for another of the same source is left to
  the detector, as is any name but a place's (nicknames, titles, spellings: "Bob",
  "Senator"; WordNet gives a place's names as one: "Kiev", "Kyyiv");
* both texts must have the same polarity ("isn't open" for "closed" is a paraphrase), the same
  words that negate without "not" ("avoid leaving the door open" for "keep the door closed"),
  and the swap may hold no negation ("doesn't include" for "excluding");
* where either compares or sets two things against each other ("than", "versus", "against",
  "of the two"), or a word meets its negative ("valid" and "invalid"), the window must be a
  clean copy with the swap its only change: "B is smaller than A" for "A is larger than B" and
  "the euro fell against the dollar" swap and state the same;
* two swaps in one alignment restate one fact the other way round ("the newer model has a
  smaller screen" for "the older model has a larger screen");
* a window that copies less than half of its content words from the sentence must have copied
  stretches on both sides that place the swap ("the first quarter" against "the third
  quarter" of another sentence places nothing by "the" alone);
* a question states nothing, and "above" or "below" beside "table" or "list" points within a
  document;
* a window or sentence of over 120 tokens is not aligned (the alignment's cost grows with the
  product of the lengths, and worse on repetitive text).

The same alignment finds the other way a copy says the opposite: a negation added or dropped
(:func:`says_opposite`). "The authorities have found evidence of poison" against "... have
not found any evidence of poison", "could not result in a loss" against "could result": the
detector, which reads "not" beside a paraphrase, scores many such copies of SummEdits and of a
fresh probe (``docs/results/negation-probe.jsonl``) as supported. A window is marked when the
sentence it copies most of (at least half its content words) has the other polarity, by one
negation ("not", "no", "never", "n't") that is the alignment's change before a copied word:

* the negation comes with helpers only ("did not", "will not be"), or with the word it bears on
  inflected ("didn't discuss" for "discussed"); the other side has helpers, articles, or for
  "no" a determiner ("no layers" for "each layer") in its place;
* the word it bears on, and the word after that, are copied: "no data caps" is not denied by
  "unlimited data", nor "check the hose for kinks" by "make sure the hose isn't kinked";
* it abstains where a word changes a negation's reach or negates without one ("until", "only",
  "than", "without", "failed", "unless", "non-", "would have"...), unless both texts hold the
  same such words and the negation is the copy's only change ("can be returned unless they are
  faulty" for "cannot be returned unless ..."), where an opposite is swapped
  too ("isn't open" for "closed"), for a possibility ("might not be broadcast"), a contrast
  ("not by the pilot, but by the weather"), a list's second "no" ("no pool and [no] gym"), a
  "no" that negates nothing ("nitric oxide (NO)", "case no. 3", "a no-confidence vote"), and
  a question;
* it abstains where the window may have taken its negation from another sentence near it
  ("The drug did not reduce symptoms in children" against "... reduced symptoms in adults"
  and "... it did not reduce symptoms in children"): another sentence says the window's way
  of the denied word, or holds a content word the window has and the aligned sentence lacks.
  A review wrote 151 faithful answers to trip the check; none is marked
  (``tests/data/direction_negation_review.jsonl``).

Pure and cheap: most windows hold no word that a nearest sentence lacks and could have swapped,
and need no alignment; the rest, a sequence alignment of two short token lists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from functools import cache, lru_cache
from pathlib import Path

from stream_guard.text import places
from stream_guard.text.polarity import REACH, negated
from stream_guard.text.stance import is_question
from stream_guard.text.terms import APOSTROPHES, STOPWORDS, term_keys

OPPOSITES = Path(__file__).with_name("opposites.json")
_TOKEN = re.compile(r"[A-Za-z]+(?:'[a-z]+)?|\d[\d.,]*[A-Za-z%]*")
# Words that compare or set two things against each other: where either text has one, the
# window must be a clean copy ("the euro fell against the dollar" for "the dollar rose against
# the euro" swaps two opposites and states the same).
COMPARES = re.compile(r"\b(?:than|compared|comparison|versus|vs|relative|whereas|against"
                      r"|of the two|of both)\b", re.IGNORECASE)
# Words that negate without "not": in either text, outside the swap, they may be what turns an
# opposite into a paraphrase ("avoid leaving the door open" for "keep the door closed").
NEGATING = frozenset(("avoid", "avoids", "avoided", "avoiding", "nothing", "none",
                      "nobody", "nowhere", "neither", "nor", "except", "unless", "lack",
                      "lacks", "lacking", "fail", "fails", "failed", "unable", "refuse",
                      "refused", "deny", "denied", "prevent", "prevents", "prevented", "stop",
                      "stops", "stopped", "everything", "all"))
# Opposites WordNet does not list: function words (stopwords all), and words of rules and
# accounts ("approve" and "reject", "profit" and "loss"), in any inflection.
_LISTED_OPPOSITES = frozenset(frozenset(p.split()) for p in (
    "before after", "above below", "over under", "more less", "more fewer", "most least",
    "with without", "inside outside", "minimum maximum", "approve reject", "approve refuse",
    "allow ban", "allow prohibit", "allow forbid", "allow forbidden", "permit ban",
    "permit prohibit", "permit forbid", "permit forbidden", "profit loss", "surplus deficit",
    "compulsory voluntary", "compulsory optional", "mandatory voluntary", "mandatory optional",
    "obligatory voluntary", "obligatory optional", "permanent temporary", "full partial",
    "online offline", "busy quiet"))
# WordNet opposes them in a sense answers rarely mean: posture and converse verbs ("the village
# sits on the Rhine" for "lies"), "old" for "early" ("the older versions", "the earlier").
_NOT_OPPOSED = frozenset(frozenset(p.split()) for p in (
    "sit stand", "sit lie", "stand lie", "come go", "give take", "early old", "late new",
    "near right"))
# Closed classes: two of one in one place are alternatives, like opposites.
_CLASSES = tuple(frozenset(c.split()) for c in (
    "first second third fourth fifth sixth seventh eighth ninth tenth",
    "one two three four five six seven eight nine ten eleven twelve", "once twice thrice",
    "red orange yellow green blue purple pink brown black white grey silver gold",
    "monday tuesday wednesday thursday friday saturday sunday",
    "january february march april may june july august september october november december",
    "spring summer autumn winter",
    "north south east west northeast northwest southeast southwest"))
# One word of a closed class under another spelling: "western" is "west", "gray" "grey".
_SPELLED = {"gray": "grey", **{p + "ern": p for p in (
    "north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest")}}
# "north-east", "South East": one point.
_JOINED_POINTS = re.compile(r"\b(north|south)[\s-](east|west)", re.IGNORECASE)
# Where "above" or "below" points within a document ("the table below").
_DOCUMENT_PARTS = frozenset(("table", "list", "section", "figure", "chart", "see", "shown",
                             "noted", "mentioned", "listed", "example", "link"))
_ARTICLES = frozenset(("a", "an"))
_NEGATIVE_PREFIXES = frozenset(("un", "in", "im", "il", "ir", "dis", "non"))
_LEADING_FIGURE = re.compile(r"\d[\d.,]*")
# Words that change what a negation reaches, or negate without one (the polarity check's, and
# time words and counterfactuals): where either text has one, a negation added or dropped is
# not judged (``says_opposite``; a review of polarity.py's first version found such company
# in a quarter of faithful answers written around negation).
_REACH = re.compile(r"\b(?:" + REACH + r"|longer|ever|yet|still|would have|had it|were it)\b",
                    re.IGNORECASE)
# A negation set against what follows ("not caused by the pilot, but by the weather"): the
# window may keep the second part.
_CONTRAST = re.compile(r"(?:\bnot|n't)\b[^.;:!?]*\b(?:but|rather|instead)\b", re.IGNORECASE)
# A "no" or "NO" that negates nothing: an acronym ("nitric oxide (NO)"), a name ("the No
# campaign"), a number sign ("case no. 3"), a compound ("a no-confidence vote").
_NOT_A_NEGATION = re.compile(r"\bNOT?\b|(?<=[a-z,] )No\b|\b[Nn]o\.\s*\d|\b[Nn]o-\w"
                             r"|\b[Nn]o confidence\b")
# Words a negation comes with that say nothing of what it denies ("did not", "will not be").
_HELPERS = frozenset(("do", "does", "did", "is", "are", "was", "were", "will", "would", "can",
                      "could", "should", "has", "have", "had", "be", "been", "being", "may",
                      "might", "must", "shall", "to"))
_DETERMINERS = frozenset(("a", "an", "the", "any", "some", "each", "every", "all"))
# At most this many tokens on either side of a swap: a word, or a word and its article.
_SWAP_TOKENS = 2
# The alignment must match at least this many tokens: a claim about that sentence.
_MIN_MATCHED = 4
# ... and this share of the window's content words, or place the swap between stretches that
# say where.
_COPIED = 0.5
# Longer windows or sentences (a table row, a transcript without stops) are not aligned: the
# alignment's cost grows with the product of the lengths, and worse on repetitive text.
_MAX_TOKENS = 120
# Words whose forms and opposites are kept: a stream's vocabulary, a few MB at most.
_WORDS_CACHED = 8192
# Inflections a window may write a word in: stripped to find the word WordNet lists (not "-ly":
# "shortly" is no "short").
_ENDINGS = (("iest", "y"), ("ier", "y"), ("ies", "y"), ("est", ""), ("est", "e"), ("er", ""),
            ("er", "e"), ("ing", ""), ("ing", "e"), ("ied", "y"), ("ed", ""), ("ed", "e"),
            ("es", ""), ("s", ""))


def load() -> None:
    """Read the word and place tables now (once; about 14 ms of file reading and parsing):
    the engine calls it as it is built, off the event loop, so that the first window checked
    does not pay for it inside its verdict deadline (a review measured it there), and so that
    a serving process's frozen start-up heap holds them (loop.freeze_heap)."""
    _tables()
    _opposed_to()
    places.load()


@cache
def _tables() -> tuple[dict[str, frozenset[str]], dict[str, tuple[str, ...]]]:
    data = json.loads(OPPOSITES.read_text(encoding="utf-8"))
    return ({word: frozenset(others) for word, others in data["opposites"].items()},
            {form: tuple(words) for form, words in data["irregular"].items()})


@lru_cache(maxsize=_WORDS_CACHED)  # bounded: windows bring any words a client sends
def base_forms(word: str) -> frozenset[str]:
    """``word`` and the words it may be an inflection of ("oldest": "old"; "rose": "rise"): a
    superset, looked up in WordNet's words, never a word's sense."""
    forms = {word, *_tables()[1].get(word, ())}
    for ending, replacement in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            stem = word[:-len(ending)]
            forms.add(stem + replacement)
            if not replacement and len(stem) > 3 and stem[-1] == stem[-2]:
                forms.add(stem[:-1])  # "bigger": "big"
    return frozenset(forms)


def are_opposites(a: str, b: str) -> bool:
    """Whether WordNet opposes a form of ``a`` to a form of ``b`` (lower-case words), in a
    sense answers mean."""
    table = _tables()[0]
    forms_a, forms_b = base_forms(a), base_forms(b)
    if any(frozenset((x, y)) in _NOT_OPPOSED for x in forms_a for y in forms_b):
        return False
    return (any(not table.get(f, frozenset()).isdisjoint(forms_b) for f in forms_a)
            or any(not table.get(f, frozenset()).isdisjoint(forms_a) for f in forms_b))


def excludes(new: str, old: str) -> bool:
    """Whether ``new`` in the place of ``old`` says otherwise: two figures that differ, two of
    a closed class, listed opposites, or opposites in WordNet."""
    if _figure(new) or _figure(old):
        return _figure(new) and _figure(old) and _other_figure(new, old)
    new, old = _SPELLED.get(new, new), _SPELLED.get(old, old)
    if new == old:
        return False
    if any(new in c and old in c for c in _CLASSES) or any(
            frozenset((a, b)) in _LISTED_OPPOSITES for a in base_forms(new)
            for b in base_forms(old)):
        return True
    return new not in STOPWORDS and old not in STOPWORDS and are_opposites(new, old)


def says_opposite(window_text: str, sentences: Sequence[str],
                  evidence_keys: AbstractSet[str]) -> bool:
    """Whether the window copies one of ``sentences`` but says the opposite in one place: a
    word swapped for one that excludes it, the swapped-in word absent from the evidence (its
    term keys, and every word of ``sentences``), or a negation added or dropped before a word
    both copy (the sentence it aligns with best). See the module docstring for what counts and
    where it abstains. The window is read once for both."""
    read = _read(window_text, sentences)
    return read is not None and (_swaps(*read, evidence_keys) or _negates(window_text, *read))


def _read(window_text: str, sentences: Iterable[str]) -> tuple[_Reading, list[_Reading]] | None:
    """The window's reading and its sentences', unless it is a question (which states
    nothing) or of a length not aligned."""
    if is_question(window_text):
        return None
    window = _reading(window_text)
    if not _MIN_MATCHED <= len(window.tokens) <= _MAX_TOKENS:
        return None
    return window, [_sentence_reading(s) for s in sentences]


def _swaps(window: _Reading, readings: Sequence[_Reading],
           evidence_keys: AbstractSet[str]) -> bool:
    # Cheap first: only a word that can exclude another (a figure, a word with an opposite, one
    # of a closed class) can be swapped in; most windows have none a sentence lacks, and need
    # no alignment.
    swappable = {t for t in window.tokens if _figure(t) or _excluded_by(t)} | window.names
    if not swappable:
        return False
    # What any of them says is stated: "after" in one sentence is no swap for "before" in
    # another (function words have no term keys to look up).
    said = frozenset().union(*(r.vocabulary for r in readings))
    for sentence in readings:
        if (len(sentence.tokens) > _MAX_TOKENS or sentence.negations != window.negations
                or not _may_swap(swappable, window.names, sentence)):
            continue
        matcher = SequenceMatcher(None, window.tokens, sentence.tokens, autojunk=False)
        if sum(block.size for block in matcher.get_matching_blocks()) < _MIN_MATCHED:
            continue
        ops = matcher.get_opcodes()
        compares = window.compares or sentence.compares
        # A window that copies less than half of its content words from the sentence may have
        # found it by a few common words: there a swap must sit between copied stretches that
        # place it.
        loose = _copied(window.tokens, matcher) < _COPIED
        swaps = 0
        for k, (tag, i1, i2, j1, j2) in enumerate(ops):
            before, after = ops[k - 1] if k else None, ops[k + 1] if k + 1 < len(ops) else None
            if (tag != "replace" or i2 - i1 > _SWAP_TOKENS or j2 - j1 > _SWAP_TOKENS
                    or any(op is not None and op[0] != "equal" for op in (before, after))):
                continue
            if before is None or after is None:
                # A sentence's first or last words: only a place is judged there ("... in
                # 1889 in Berlin." for "... in Paris."), whose kind says it is one thing for
                # another; a word there may begin or end a clause the other text lacks. A
                # loose copy's swap is placed by the stretch beside it, of a claim's length.
                beside = before or after
                if beside is None or (loose and beside[2] - beside[1] < _MIN_MATCHED):
                    continue
                pairs = _place_pairs(window, (i1, i2), sentence, (j1, j2))
            elif loose and not (_places(window.tokens, before)
                                and _places(window.tokens, after)):
                continue
            else:
                pairs = [(new, old)
                         for new, old in _pairs(window, (i1, i2), sentence, (j1, j2))
                         if excludes(new, old)]
                pairs += _place_pairs(window, (i1, i2), sentence, (j1, j2))
            if not pairs:
                continue
            # In a comparison, or where a word meets its negative ("suitable only ... over 12"
            # for "unsuitable ... under 12"), the rest may turn a swap back: it is one only as
            # the clean copy's single change, the word alone for its negative.
            prefixed = any(_prefixed(new, old) for new, old in pairs)
            if ((compares or prefixed) and not _only_change(ops, k)) or (
                    prefixed and not _one_for_one(window.tokens[i1:i2], sentence.tokens[j1:j2])):
                swaps += 2
            else:  # one the evidence states elsewhere is no new claim, but still a swap
                swaps += 1 if any(_unstated(new, old, window.tokens, i1, said, evidence_keys)
                                  for new, old in pairs) else 2
        # Two opposites swapped restate one fact the other way round ("the newer model has a
        # smaller screen" for "the older model has a larger screen").
        if swaps == 1:
            return True
    return False


def _may_swap(swappable: set[str], window_names: frozenset[str], sentence: _Reading) -> bool:
    """Whether the sentence holds a word some swappable word of the window that it lacks
    could have replaced (a figure, a place's name, or one :func:`excludes` may find it
    excluding): the alignment, which costs most, only where a swap can be found."""
    new = swappable - sentence.vocabulary
    return ((any(_figure(t) for t in new) and sentence.figures)
            or (bool(sentence.names) and not new.isdisjoint(window_names))
            or any(not _excluded_by(t).isdisjoint(sentence.bases) for t in new))


@lru_cache(maxsize=_WORDS_CACHED)
def _excluded_by(word: str) -> frozenset[str]:
    """The words (in base forms) :func:`excludes` may find ``word`` excluding: its opposites
    either way round, its listed partners, the rest of its closed class."""
    table, _ = _tables()
    forms = base_forms(word)
    found: set[str] = set()
    for form in forms:
        found |= table.get(form, frozenset()) | _opposed_to().get(form, frozenset())
    for pair in _LISTED_OPPOSITES:
        if not pair.isdisjoint(forms):
            found |= pair
    spelled = _SPELLED.get(word, word)
    for members in _CLASSES:
        if spelled in members:
            found |= members | {s for s, base in _SPELLED.items() if base in members}
    return frozenset(found - {word, spelled})


@cache
def _opposed_to() -> dict[str, frozenset[str]]:
    """The opposites table read the other way round (a cluster's satellite names its head's
    antonyms, which need not name it back)."""
    reverse: dict[str, set[str]] = {}
    for word, others in _tables()[0].items():
        for other in others:
            reverse.setdefault(other, set()).add(word)
    return {word: frozenset(words) for word, words in reverse.items()}


def _copied(window: tuple[str, ...], matcher: SequenceMatcher[str]) -> float:
    """The share of the window's content tokens (no stopwords) the alignment copies."""
    content = sum(t not in STOPWORDS for t in window)
    copied = sum(t not in STOPWORDS for block in matcher.get_matching_blocks()
                 for t in window[block.a:block.a + block.size])
    return copied / content if content else 0.0


def _places(window: tuple[str, ...], op: tuple[str, int, int, int, int]) -> bool:
    """Whether the copied stretch ``op`` places a swap: two tokens, or one that is no stopword
    ("... the first quarter" for "... the third quarter" places nothing by "the" alone)."""
    _, i1, i2, _, _ = op
    return i2 - i1 >= 2 or window[i1] not in STOPWORDS


def _pairs(window: _Reading, at: tuple[int, int], sentence: _Reading,
           of: tuple[int, int]) -> list[tuple[str, str]]:
    """The (new, old) word pairs a replacement may swap: one word for one ("a narrow" for "a
    wide": the article follows the word), and figures only so (beside a word, the word may be
    its unit); none where the replacement holds a negation or a word that negates ("doesn't
    include" for "excluding")."""
    new_words, old_words = window.tokens[slice(*at)], sentence.tokens[slice(*of)]
    if any(negated(t) or t in NEGATING for t in (*new_words, *old_words)):
        return []
    if _one_for_one(new_words, old_words):
        return [(_word(new_words), _word(old_words))]
    return [(n, o) for n in new_words for o in old_words if not _figure(n) and not _figure(o)]


def _place_pairs(window: _Reading, at: tuple[int, int], sentence: _Reading,
                 of: tuple[int, int]) -> list[tuple[str, str]]:
    """The (new, old) pair of a replacement that is one place's name for another's
    (:func:`~stream_guard.text.places.other_places`): "Berlin" for "Paris", "Los Angeles" for
    "New York"; none for a place within the other ("England" for "London") or of another kind
    ("France" for "Europe")."""
    new = places.name_at(window.cased, *at)
    old = places.name_at(sentence.cased, *of)
    return [(new, old)] if new and old and places.other_places(new, old) else []


def _one_for_one(new_words: Sequence[str], old_words: Sequence[str]) -> bool:
    """Whether a replacement is one word for one, articles aside."""
    return (sum(t not in _ARTICLES for t in new_words) == 1
            and sum(t not in _ARTICLES for t in old_words) == 1)


def _word(words: Sequence[str]) -> str:
    return next(t for t in words if t not in _ARTICLES)


def _unstated(new: str, old: str, window: tuple[str, ...], at: int, said: frozenset[str],
              evidence_keys: AbstractSet[str]) -> bool:
    """Whether the swap of ``old`` for ``new`` (at ``window[at]``) is a claim the evidence
    nowhere states: ``new`` is in no sentence compared and in no form among the evidence's
    terms, and is not "above" or "below" pointing within a document ("the table below")."""
    if new in said or _stated(new, evidence_keys):
        return False
    return not ({new, old} == {"above", "below"}
                and not _DOCUMENT_PARTS.isdisjoint(window[max(0, at - 2):at + 3]))


def _prefixed(a: str, b: str) -> bool:
    """Whether one word is the other with a negative prefix ("invalid", "unsuitable")."""
    short, long = sorted((a, b), key=len)
    return long.endswith(short) and long[:len(long) - len(short)] in _NEGATIVE_PREFIXES


def _only_change(ops: Sequence[tuple[str, int, int, int, int]], k: int) -> bool:
    """Whether ``ops[k]`` is the alignment's only change but for text either side has before
    or after the copied part."""
    return all(op[0] == "equal" or n == k or (n in (0, len(ops) - 1) and op[0] != "replace")
               for n, op in enumerate(ops))


@dataclass(frozen=True, slots=True)
class _Reading:
    """A text as the check reads it: its words and figures in lower case (a compass point
    written in two words joined: "north-east"), its polarity (whether it is negated,
    :func:`~stream_guard.text.polarity.negated`, and which words that negate it holds:
    "avoid", "nothing", "without"), and whether it compares."""

    tokens: tuple[str, ...]
    negations: tuple[bool, frozenset[str]]
    compares: bool
    vocabulary: frozenset[str]
    cased: tuple[str, ...]  # the tokens as written
    names: frozenset[str]  # tokens of the places it names (:func:`_names`)
    # An evidence sentence's only (what a window may have swapped out, for ``_may_swap``):
    bases: frozenset[str] = frozenset()  # every base form of every token
    figures: bool = False
    text: str = ""  # as written (for the negation check's phrases)


def _reading(text: str) -> _Reading:
    plain = _JOINED_POINTS.sub(r"\1\2", text.translate(APOSTROPHES))
    cased = tuple(_TOKEN.findall(plain))
    tokens = tuple(t.lower() for t in cased)
    vocabulary = frozenset(tokens)
    return _Reading(tokens, (negated(text), vocabulary & NEGATING),
                    COMPARES.search(text) is not None, vocabulary, cased, _names(cased))


def _names(cased: tuple[str, ...]) -> frozenset[str]:
    """The tokens (lower case) of the places a text names
    (:func:`~stream_guard.text.places.name_at`), one word or two."""
    return frozenset(t.lower() for i in range(len(cased)) for n in (1, 2)
                     if places.name_at(cased, i, i + n) is not None for t in cased[i:i + n])


@lru_cache(maxsize=4096)
def _sentence_reading(text: str) -> _Reading:
    """An evidence sentence's reading, with the base forms and figures a window's swap is
    looked for among: sentences recur from window to window of a stream (a window is read
    once, uncached)."""
    reading = _reading(text)
    return replace(reading, bases=frozenset().union(*map(base_forms, reading.vocabulary)),
                   figures=any(map(_figure, reading.vocabulary)), text=text)


def _figure(token: str) -> bool:
    return token[0].isdigit()


def _other_figure(new: str, old: str) -> bool:
    """Whether two figures in one place differ: of the same written form (the same suffix:
    "85k" and "85,000", "1h" and "60min" are conversions, the quantity check's to judge), and
    not the same digits under another locale's separators ("1.000", "1,000"), an hour on the
    other clock ("7" pm, "19"), or a year in two digits ("FY24", "2024")."""
    suffix_new, suffix_old = (f[len(m.group()):] if (m := _LEADING_FIGURE.match(f)) else f
                              for f in (new, old))
    if suffix_new != suffix_old:
        return False
    a, b = _value(new), _value(old)
    if not isinstance(a, Decimal) or not isinstance(b, Decimal) or a == b:
        return False
    digits = [f.replace(",", "").replace(".", "").lstrip("0") for f in (new, old)]
    if digits[0] == digits[1]:
        return False
    if abs(a - b) == 12 and max(a, b) <= 24:
        return False
    return not any(x >= 1900 and x <= 2099 and x % 100 == y for x, y in ((a, b), (b, a)))


def _value(figure: str) -> Decimal | str:
    """A figure's number, whatever follows it ("07" and "7", "7th" and "7" are one)."""
    match = _LEADING_FIGURE.match(figure)
    number = match.group().replace(",", "").rstrip(".") if match else figure
    try:
        return Decimal(number)
    except InvalidOperation:
        return figure


def _stated(word: str, evidence_keys: AbstractSet[str]) -> bool:
    """Whether the evidence (its :func:`~stream_guard.text.terms.term_keys`) writes ``word`` in
    any of its forms: checked only for a candidate swap, so no index of forms is kept."""
    if _figure(word):  # in any unit the evidence writes it with ("5.3" for "5.3%")
        value = _value(word)
        return any(_value(m.group()) == value for key in evidence_keys
                   if (m := _LEADING_FIGURE.match(key)))
    forms = {word}
    for base in base_forms(word):
        stem = base[:-1] if base.endswith("e") else base
        forms.update((base, base + "s", base + "es", base + "d", base + "ed", stem + "ing",
                      base + "er", base + "est", base + "ly"))
    return not term_keys(" ".join(forms)).isdisjoint(evidence_keys)



def _negates(window_text: str, window: _Reading, readings: Sequence[_Reading]) -> bool:
    # Cheap first: most windows and sentences say yes, and none of the other polarity needs
    # no alignment.
    company = _company(window_text.translate(APOSTROPHES))
    if all(r.negations[0] == window.negations[0] for r in readings) or company is None:
        return False
    aligned = _best_aligned(window, readings)
    if aligned is None:
        return False
    sentence, matcher = aligned
    if (sentence.negations[0] == window.negations[0]
            or sentence.negations[1] != window.negations[1]
            or _company(sentence.text.translate(APOSTROPHES)) != company
            or _copied(window.tokens, matcher) < _COPIED):
        return False
    ops = matcher.get_opcodes()
    # Words that change a negation's reach, the same in both, leave a clean copy's added or
    # dropped negation a denial: "Earrings cannot be returned unless they are faulty." against
    # "Earrings can be returned unless they are faulty." (a probe of policies: the detector
    # scored it 0.71 supported). Anything else changed beside them may be what moves the
    # negation's reach ("You will not be charged if you cancel" for "... charged if you do not
    # cancel").
    if company and sum(tag != "equal" for tag, *_ in ops) != 1:
        return False
    # An opposite swapped beside the negation restates the fact ("isn't open" for "closed").
    if any(tag == "replace" and any(excludes(new, old) for new in window.tokens[i1:i2]
                                    for old in sentence.tokens[j1:j2])
           for tag, i1, i2, j1, j2 in ops):
        return False
    # The negations outside copied stretches ("... but said the cuts were not necessary" may be
    # copied beside the one added): one, on either side.
    in_window = [i for tag, i1, i2, _, _ in ops if tag != "equal" for i in range(i1, i2)
                 if negated(window.tokens[i])]
    in_sentence = [j for tag, _, _, j1, j2 in ops if tag != "equal" for j in range(j1, j2)
                   if negated(sentence.tokens[j])]
    if len(in_window) + len(in_sentence) != 1:
        return False
    head = (_denied_word(window.tokens, sentence.tokens, ops, in_window[0]) if in_window else
            _denied_word(sentence.tokens, window.tokens,
                         [(tag, j1, j2, i1, i2) for tag, i1, i2, j1, j2 in ops], in_sentence[0]))
    if head is None:
        return False
    # A window may take its words from one sentence and its negation from another ("The drug
    # did not reduce symptoms in children" from "... reduced symptoms in adults" and "... it
    # did not reduce symptoms in children"): not where another sentence says the window's way
    # of that word, or holds a content word the window has and the aligned sentence lacks.
    others = [r for r in readings if r is not sentence]
    forms = base_forms(head)
    added = {t for tag, i1, i2, _, _ in ops if tag != "equal" for t in window.tokens[i1:i2]
             if t not in STOPWORDS and not negated(t) and base_forms(t).isdisjoint(forms)}
    return not any((r.negations[0] == window.negations[0] and not forms.isdisjoint(r.bases))
                   or not added.isdisjoint(r.vocabulary) for r in others)


def _company(text: str) -> tuple[str, ...] | None:
    """The words that change the reach of a negation in ``text`` (:data:`_REACH`), in order;
    none where its negation is not judged at all: a contrast ("not by the pilot, but by the
    weather"), or a "no" that negates nothing."""
    if _CONTRAST.search(text) or _NOT_A_NEGATION.search(text):
        return None
    return tuple(m.group().lower() for m in _REACH.finditer(text))


def _best_aligned(window: _Reading, sentences: Iterable[_Reading]
                  ) -> tuple[_Reading, SequenceMatcher[str]] | None:
    """The sentence the window copies most tokens of (of two as close, one of the window's
    polarity: a sentence that says what the window says is its source), if it copies
    :data:`_MIN_MATCHED`."""
    best: tuple[int, bool, _Reading, SequenceMatcher[str]] | None = None
    for sentence in sentences:
        if len(sentence.tokens) > _MAX_TOKENS:
            continue
        matcher = SequenceMatcher(None, window.tokens, sentence.tokens, autojunk=False)
        matched = sum(block.size for block in matcher.get_matching_blocks())
        agrees = sentence.negations[0] == window.negations[0]
        if best is None or (matched, agrees) > best[:2]:
            best = (matched, agrees, sentence, matcher)
    return None if best is None or best[0] < _MIN_MATCHED else best[2:]


def _denied_word(tokens: tuple[str, ...], other: tuple[str, ...],
                 ops: Sequence[tuple[str, int, int, int, int]], at: int) -> str | None:
    """The copied word the negation at ``tokens[at]`` denies, if it is the alignment's change
    before it:
    its replacement holds helpers ("did", "be") and maybe the word it bears on inflected
    ("didn't discuss" for "discussed"), the other side's only helpers, articles (any
    determiner for "no": "no layers" for "each layer"), "also", or that word; and the word,
    and the one after it (past determiners), are copied; and it is no second "no" of a list
    ("no pool and [no] gym")."""
    if at > 0 and tokens[at - 1] in ("might", "may"):
        return None  # a possibility denied ("might not be broadcast") is none asserted
    if at > 0 and tokens[at - 1] in ("and", "or", "nor") and tokens[at] in tokens[:at - 1]:
        return None
    head = next((h for h in range(at + 1, min(at + 4, len(tokens)))
                 if tokens[h] not in _HELPERS and tokens[h] not in _ARTICLES), None)
    if head is None:
        return None
    _, lo, hi, other_lo, other_hi = next(op for op in ops if op[1] <= at < op[2])
    own = [t for t in tokens[lo:hi] if not negated(t) and t not in _HELPERS]
    dropped = _DETERMINERS if tokens[at] == "no" else _ARTICLES
    theirs = [t for t in other[other_lo:other_hi]
              if t not in _HELPERS and t not in dropped and t != "also"]
    if own and not (own == [tokens[head]] and hi == head + 1 and len(theirs) == 1
                    and not base_forms(own[0]).isdisjoint(base_forms(theirs[0]))):
        return None
    if theirs and not own:
        return None
    copied = {i for tag, i1, i2, _, _ in ops if tag == "equal" for i in range(i1, i2)}
    if head >= hi and head not in copied:
        return None
    after = head + 1
    while after < len(tokens) and tokens[after] in _DETERMINERS:
        after += 1
    return tokens[head] if after >= len(tokens) or after in copied else None
