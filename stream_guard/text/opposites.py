"""Swaps: whether a claim copies an evidence sentence but says the opposite in one place.

"The agent offered him a narrow range of plans" against "... offered him a wide range of plans",
"Breakfast is served in the top-floor restaurant" against "... ground-floor restaurant", "at the
end of the second quarter" against "... third quarter": every other word is the evidence's, so
word coverage misses one term in ten, and the cross-encoder, which does not read antonyms (a
fresh probe of 60 such swaps: it halted none, ``docs/results/opposites-probe.jsonl``), scores
the pair as supported. Yet the claim states the opposite of its source. So a window is marked
when it aligns word by word with one of the evidence sentences nearest it
(:attr:`~stream_guard.evidence.premise.Premise.nearest`) and differs from it, between words that
match on both sides, by one word that excludes the word in that place of the sentence:

* its opposite in WordNet (``opposites.json``, built once by :mod:`stream_guard.train.wordnet`):
  direct antonyms, those of the word it derives from ("decrease" for "increase"), and for an
  adjective in a cluster those of the cluster's head ("limited", "unlimited"); in any
  inflection, irregular ones included ("rose" and "fell");
* a few opposites WordNet leaves out: function words ("before" and "after", "with" and
  "without") and words of rules and accounts ("approve" and "reject", "profit" and "loss");
* another of a closed class: ordinals, small numbers in words, colours, days, months, seasons,
  compass points;
* another figure, one token for one (so of the same unit: "3.1 miles" for "5 km" is a
  conversion, the quantity check's to judge), where the other figure is stated elsewhere in the
  source or is not one :func:`~stream_guard.text.terms.quantity_conflict` can place;
* another name ("a Canadian" for "an American").

The fused score then treats the window as contradicted (:func:`stream_guard.scoring.fusion.capped`).
The mark is narrow, since answers paraphrase:

* the swapped-in word must be absent from the whole evidence: a source that says "smaller" of
  one thing and "larger" of another is not contradicted by either, and an entity swapped for
  another of the same source is left to the detector;
* both texts must have the same polarity ("isn't open" for "closed" is a paraphrase);
* where either compares ("than", "compared", "versus"), the window must be a clean copy of part
  of the sentence, the swap its only change: "B is smaller than A" for "A is larger than B"
  swaps two opposites and states the same;
* a question that asks whether, or asks the listener, states nothing (one that asks how or why
  states what it asks about: "How can agents that decrease their payoffs ...?").

Pure and cheap: a sequence alignment of two short token lists per nearest sentence.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from functools import cache, lru_cache
from pathlib import Path

from stream_guard.text.polarity import negated
from stream_guard.text.stance import asks_listener, is_question
from stream_guard.text.terms import APOSTROPHES, STOPWORDS, known, term_keys

OPPOSITES = Path(__file__).with_name("opposites.json")
_TOKEN = re.compile(r"[A-Za-z]+(?:'[a-z]+)?|\d[\d.,]*[a-z%]*")
# Words that compare: where either text has one, the window must be a clean copy.
_COMPARES = re.compile(r"\b(?:than|compared|comparison|versus|vs|relative|whereas)\b",
                       re.IGNORECASE)
# Opposites WordNet does not list: function words (stopwords all), and words of rules and
# accounts ("approve" and "reject", "profit" and "loss"), in any inflection.
_LISTED_OPPOSITES = frozenset(frozenset(p.split()) for p in (
    "before after", "above below", "over under", "more less", "more fewer", "most least",
    "with without", "inside outside", "minimum maximum", "approve reject", "approve refuse",
    "allow ban", "allow prohibit", "allow forbid", "allow forbidden", "permit ban",
    "permit prohibit", "permit forbid", "permit forbidden", "profit loss", "surplus deficit",
    "compulsory voluntary", "compulsory optional", "permanent temporary", "full partial",
    "online offline", "busy quiet"))
# Closed classes: two of one in one place are alternatives, like opposites.
_CLASSES = tuple(frozenset(c.split()) for c in (
    "first second third fourth fifth sixth seventh eighth ninth tenth last",
    "one two three four five six seven eight nine ten eleven twelve", "once twice thrice",
    "red orange yellow green blue purple violet pink brown black white grey gray silver gold",
    "monday tuesday wednesday thursday friday saturday sunday",
    "january february march april may june july august september october november december",
    "spring summer autumn winter",
    "north south east west northeast northwest southeast southwest"))
# "western" is "west": one point of the compass.
_POINTS = {p + "ern": p for p in ("north", "south", "east", "west", "northeast", "northwest",
                                  "southeast", "southwest")}
_ARTICLES = frozenset(("a", "an"))
_LEADING_FIGURE = re.compile(r"\d[\d.,]*")
# Two names this alike are one name misspelt.
_SPELLING = 0.8
# Titles before a name: "Mr. Johnson" for "John Johnson" swaps no name.
_TITLES = frozenset(("mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam", "st", "mt"))
# A question that asks whether: it states nothing.
_ASKS_WHETHER = re.compile(r"^\W*(?:is|are|was|were|do|does|did|can|could|will|would|should"
                           r"|shall|may|might|has|have|had|must)\b", re.IGNORECASE)
# At most this many tokens on either side of a swap: a word, or a word and its article.
_SWAP_TOKENS = 2
# The alignment must match at least this many tokens: a claim about that sentence.
_MIN_MATCHED = 4
# ... and this share of the window's content words, or place the swap between stretches that
# say where.
_COPIED = 0.5
# Inflections a window may write a word in: stripped to find the word WordNet lists.
_ENDINGS = (("iest", "y"), ("ier", "y"), ("ies", "y"), ("est", ""), ("est", "e"), ("er", ""),
            ("er", "e"), ("ing", ""), ("ing", "e"), ("ied", "y"), ("ed", ""), ("ed", "e"),
            ("es", ""), ("s", ""), ("ly", ""))


@cache
def _tables() -> tuple[dict[str, frozenset[str]], dict[str, tuple[str, ...]]]:
    data = json.loads(OPPOSITES.read_text(encoding="utf-8"))
    return ({word: frozenset(others) for word, others in data["opposites"].items()},
            {form: tuple(words) for form, words in data["irregular"].items()})


@cache
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
    """Whether WordNet opposes a form of ``a`` to a form of ``b`` (lower-case words)."""
    table = _tables()[0]
    forms_a, forms_b = base_forms(a), base_forms(b)
    return (any(not table.get(f, frozenset()).isdisjoint(forms_b) for f in forms_a)
            or any(not table.get(f, frozenset()).isdisjoint(forms_a) for f in forms_b))


def excludes(new: str, old: str) -> bool:
    """Whether ``new`` in the place of ``old`` says otherwise: two figures that differ, two of
    a closed class, function-word opposites, or opposites in WordNet."""
    if _figure(new) or _figure(old):
        return _figure(new) and _figure(old) and _value(new) != _value(old)
    if new == old:
        return False
    new, old = _POINTS.get(new, new), _POINTS.get(old, old)
    if new == old:
        return False
    if any(new in c and old in c for c in _CLASSES) or any(
            frozenset((a, b)) in _LISTED_OPPOSITES for a in base_forms(new)
            for b in base_forms(old)):
        return True
    return new not in STOPWORDS and old not in STOPWORDS and are_opposites(new, old)


def swaps_opposite(window_text: str, sentences: Iterable[str],
                   evidence_keys: AbstractSet[str]) -> bool:
    """Whether the window is one of ``sentences`` with one word swapped for one that excludes
    it, the swapped-in word absent from the evidence (its term keys). See the module docstring
    for what counts and where it abstains."""
    if asks_listener(window_text) or (is_question(window_text)
                                      and _ASKS_WHETHER.match(window_text)):
        return False
    window = _reading(window_text)
    # Cheap first: only a word that can exclude another (a figure, a name, a word with an
    # opposite, one of a closed class) can be swapped in; most windows have none a sentence
    # lacks, and need no alignment.
    swappable = {t for i, t in enumerate(window.tokens)
                 if i in window.names or _figure(t) or _excluded_by(t)}
    if len(window.tokens) < _MIN_MATCHED or not swappable:
        return False
    for sentence in map(_sentence_reading, sentences):
        if sentence.negated != window.negated or not _may_swap(window, swappable, sentence):
            continue
        matcher = SequenceMatcher(None, window.tokens, sentence.tokens, autojunk=False)
        matched = sum(block.size for block in matcher.get_matching_blocks())
        if matched < _MIN_MATCHED:
            continue
        ops = matcher.get_opcodes()
        compares = window.compares or sentence.compares
        # A window that copies less than half of its content words from the sentence may have
        # found it by a few common words: there a swap must sit between copied stretches that
        # place it.
        loose = _copied(window.tokens, matcher) < _COPIED
        for k in range(1, len(ops) - 1):
            tag, i1, i2, j1, j2 = ops[k]
            if (tag != "replace" or i2 - i1 > _SWAP_TOKENS or j2 - j1 > _SWAP_TOKENS
                    or ops[k - 1][0] != "equal" or ops[k + 1][0] != "equal"
                    or (loose and not (_places(window.tokens, ops[k - 1])
                                      and _places(window.tokens, ops[k + 1])))):
                continue
            if compares and not _only_change(ops, k):
                continue
            if _swapped(window, (i1, i2), sentence, (j1, j2), evidence_keys):
                return True
    return False


def _may_swap(window: _Reading, swappable: set[str], sentence: _Reading) -> bool:
    """Whether the sentence holds a word some swappable word of the window that it lacks
    could have replaced (a figure, a name, or one :func:`excludes` may find it excluding): the
    alignment, which costs most, only where a swap can be found."""
    new = swappable - sentence.vocabulary
    return (any(_figure(t) for t in new) and sentence.figures) or (
        bool(sentence.names) and any(window.tokens[i] in new for i in window.names)) or any(
        not _excluded_by(t).isdisjoint(sentence.bases) for t in new)


@cache
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
    point = _POINTS.get(word, word)
    for members in _CLASSES:
        if point in members:
            found |= members | {p for p, base in _POINTS.items() if base in members}
    return frozenset(found - {word, point})


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


def _swapped(window: _Reading, at: tuple[int, int], sentence: _Reading, of: tuple[int, int],
             evidence_keys: AbstractSet[str]) -> bool:
    """Whether ``window.tokens[at]`` in the place of ``sentence.tokens[of]`` swaps a word for
    one that excludes it, unknown to the evidence."""
    new_words, old_words = window.tokens[slice(*at)], sentence.tokens[slice(*of)]
    if any(negated(t) for t in (*new_words, *old_words)):
        return False  # "doesn't include" for "excluding": a paraphrase
    new_at = [i for i in range(*at) if window.tokens[i] not in _ARTICLES]
    old_at = [j for j in range(*of) if sentence.tokens[j] not in _ARTICLES]
    if len(new_at) == len(old_at) == 1:  # one word for one ("a Canadian", "an American")
        i, j = new_at[0], old_at[0]
        new, old = window.tokens[i], sentence.tokens[j]
        if i in window.names and j in sentence.names:
            return _other_name(new, old) and not any(known(k, evidence_keys)
                                                     for k in term_keys(new))
        pairs = [(new, old)]
    else:  # figures only one for one: beside a word, the word may be its unit
        pairs = [(n, o) for n in new_words for o in old_words
                 if not _figure(n) and not _figure(o)]
    return any(excludes(new, old) and not _stated(new, evidence_keys) for new, old in pairs)


def _other_name(new: str, old: str) -> bool:
    """Whether ``new`` names someone or somewhere else than ``old``: not another form of it
    ("Prizes", "Prize"), nor a misspelling ("Churtsey" for "Chertsey")."""
    return (base_forms(new).isdisjoint(base_forms(old))
            and SequenceMatcher(None, new, old).ratio() < _SPELLING)


def _only_change(ops: Sequence[tuple[str, int, int, int, int]], k: int) -> bool:
    """Whether ``ops[k]`` is the alignment's only change but for text before or after the
    copied part."""
    return all(op[0] == "equal" or n in (0, k, len(ops) - 1) for n, op in enumerate(ops))


@dataclass(frozen=True, slots=True)
class _Reading:
    """A text as the check reads it: its words and figures in lower case, which of them are
    names (capitalised mid-sentence: "an American who fell from a Sydney clifftop"; not an
    acronym, "UK" for "British" being a paraphrase; not a sentence's or a list item's first
    word, "2. Build"), whether it is negated and whether it compares."""

    tokens: tuple[str, ...]
    names: frozenset[int]
    negated: bool
    compares: bool
    vocabulary: frozenset[str]
    bases: frozenset[str]  # every base form of every token
    figures: bool


def _reading(text: str) -> _Reading:
    plain = text.translate(APOSTROPHES)
    tokens: list[str] = []
    names: set[int] = set()
    for match in _TOKEN.finditer(plain):
        token = match.group()
        before = match.start() - 1
        while before >= 0 and plain[before].isspace():
            before -= 1
        if (token[0].isupper() and len(token) > 1 and sum(c.isupper() for c in token) == 1
                and before >= 0 and (plain[before].isalpha() or plain[before] == ",")
                and token.lower() not in _TITLES and token.lower() not in STOPWORDS):
            names.add(len(tokens))
        tokens.append(token.lower())
    vocabulary = frozenset(tokens)
    return _Reading(tuple(tokens), frozenset(names), negated(text),
                    _COMPARES.search(text) is not None, vocabulary,
                    frozenset().union(*map(base_forms, vocabulary)),
                    any(map(_figure, vocabulary)))


@lru_cache(maxsize=4096)
def _sentence_reading(text: str) -> _Reading:
    """An evidence sentence's reading: sentences recur from window to window of a stream (a
    window is read once, uncached)."""
    return _reading(text)


def _figure(token: str) -> bool:
    return token[0].isdigit()


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
