"""Places: whether two names in one place of a sentence name places apart.

"It was completed in 1889 in Berlin." against "It was completed in 1889 in Paris.": every word
but one is the evidence's, and the cross-encoder, which reads a sentence's shape rather than
what its names refer to, scores the copy as supported. A name swapped for another is no
antonym, so the opposites check (:mod:`stream_guard.text.opposites`) needs to know which names
are places, and which places lie within which: "in England" for "in London" widens the claim
and stays true, "in Manchester" moves it.

WordNet knows both (``places.json``, built once by :mod:`stream_guard.train.wordnet`): the
cities, countries, states and counties it names, each place's kind, and the places each lies
within. Two names are *other places* when they share a kind (a city for a city: "France" for
"Europe" or "Texas" for "Paris" is another level, not another place) and no place either may
name is, or lies within, one the other may name ("Paris" is a city in France and one in
Texas; "New York" a state and a city in it). Names, not abbreviations ("UK", "WA" name too
many places); and what else a name may be the caller judges (:func:`needs_capital`).

The same table finds the other way an answer moves a claim: "The Eiffel Tower is in London."
against a source that says it was built in Paris, and names London nowhere. No sentence is
copied, so there is nothing to align; but the answer names a place the evidence does not,
where the evidence names another of its kind, and neither lies within the other
(:func:`names_another_place`). SummEdits' editors move summaries so ("opened in Italy" for
"... in Greece"), as HaluEval's hallucinated answers do; the check abstains where the name is
part of another name ("Real Madrid", "Bank of India", "London-based"), where the evidence names
it as its people ("Swiss" for "Switzerland", :func:`~stream_guard.text.terms.known`), and for a
question.

Pure: a table read once (:func:`load`), lookups in it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Set as AbstractSet
from functools import cache, lru_cache
from pathlib import Path

from stream_guard.text.stance import is_question
from stream_guard.text.terms import STOPWORDS, known, place_forms, term_keys

PLACES = Path(__file__).with_name("places.json")
_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
# Sentences whose places are kept: an evidence's recur from window to window of a stream.
_SENTENCES_CACHED = 4096
# Words that put a place after them: a name WordNet also gives people ("Jackson", "Paris",
# "London" for Jack London) names a place only so.
_AT = frozenset(("in", "at", "from", "near", "to", "into", "outside", "across", "around",
                 "through", "toward", "towards", "via"))
# Abbreviations an evidence may name a place by (never read in a window: "US" and "WA" name
# too many things there): "The US and Canada" holds "the United States".
_ABBREVIATIONS = {"US": "united states", "U.S.": "united states", "USA": "united states",
                  "U.S.A.": "united states", "UK": "united kingdom", "U.K.": "united kingdom",
                  "UAE": "united arab emirates", "NYC": "new york", "LA": "los angeles",
                  "D.C.": "washington", "DC": "washington"}
_ABBREVIATION = re.compile(r"(?<![\w.])(?:" + "|".join(
    re.escape(a) for a in sorted(_ABBREVIATIONS, key=len, reverse=True)) + r")(?![\w])")
# What an evidence names after a word of place that no listed place is ("in Kyiv", "in
# Brooklyn", "at Hampden"): the window's place may be it, or hold it, so no place is judged
# other. Months and days are times ("in March").
UNLISTED = "<unlisted>"
CALENDAR_WORDS = frozenset((
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday"))


# A word of a place's name may stand for it alone where it is in at most this many names.
_PARTS_NAMED = 3
# Words of names that stand for no one place: directions, ranks, forms of state.
_NOT_PARTS = frozenset(("north", "south", "east", "west", "northern", "southern", "eastern",
                        "western", "central", "new", "old", "upper", "lower", "great", "united",
                        "republic", "kingdom", "state", "states", "island", "islands", "city",
                        "county", "saint", "st", "democratic", "federal", "free", "people",
                        "peoples", "commonwealth", "union", "territory", "province", "coast",
                        "cape", "el", "la", "al", "de", "san", "santa", "sao", "fort", "port",
                        "mount", "beach", "falls", "springs", "bay"))


class _Table:
    """``places.json`` as lookups: each name's places, each place's kind and what it lies
    within, and the names WordNet also writes in lower case or gives people."""

    def __init__(self, data: dict[str, object]) -> None:
        names = data["names"]
        kinds = data["kinds"]
        within = data["within"]
        assert isinstance(names, dict) and isinstance(kinds, list) and isinstance(within, list)
        self.names: dict[str, tuple[int, ...]] = {str(n): tuple(ids) for n, ids in names.items()}
        self.kinds: tuple[str, ...] = tuple(str(k) for k in kinds)
        self.within: tuple[frozenset[int], ...] = tuple(frozenset(w) for w in within)
        common, people = data["common"], data["people"]
        assert isinstance(common, list) and isinstance(people, list)
        self.common = frozenset(str(c) for c in common)
        self.people = frozenset(str(p) for p in people)
        self.by_part = _by_part(self.names, self.kinds)


def _by_part(names: dict[str, tuple[int, ...]],
             kinds: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """The countries and states a word of their name may stand for alone ("Saudi" officials
    for Saudi Arabia, "Korean" carmakers for the Koreas, "Carolina" for either; not a city's:
    "rock" is no Little Rock): a word no place is by itself,
    no word of direction, rank or form of state ("north", "new", "united"), in at most
    :data:`_PARTS_NAMED` names."""
    parts: dict[str, set[str]] = {}
    for name, ids in names.items():
        if " " in name and any(kinds[i] in ("country", "state") for i in ids):
            for word in name.split():
                parts.setdefault(word, set()).add(name)
    return {word: frozenset(named) for word, named in parts.items()
            if len(named) <= _PARTS_NAMED and word not in names and word not in _NOT_PARTS
            and word not in STOPWORDS}


def load() -> None:
    """Read the table now (once): the engine calls it as it is built, off the event loop."""
    _table()


@cache
def _table() -> _Table:
    return _Table(json.loads(PLACES.read_text(encoding="utf-8")))


def is_place(name: str) -> bool:
    """Whether ``name`` (lower case, words joined by one space) names a place WordNet lists."""
    return name in _table().names


def needs_capital(name: str) -> bool:
    """Whether ``name`` is also a common word ("nice", "reading", "china", "turkey"), so that
    only a capitalised use that does not open a sentence names the place."""
    return name in _table().common


def name_at(cased: tuple[str, ...], start: int, end: int) -> str | None:
    """The place ``cased[start:end]`` (a text's words as written; the last may be possessive,
    "Kenya's") names, if they are one written as a name: each word capitalised ("Paris", not
    "PARIS" or "paris"), and a name that is also a common word ("Nice", "Reading", "China")
    not the text's first."""
    words = cased[start:end]
    if words and words[-1].endswith("'s"):  # "Kenya's": its name, possessed
        words = (*words[:-1], words[-1][:-2])
    if not words or end > len(cased) or not all(
            w[0].isupper() and (len(w) == 1 or w[1:].islower()) for w in words):
        return None
    name = " ".join(words).lower()
    if not is_place(name) or (start == 0 and needs_capital(name)):
        return None
    return name


@lru_cache(maxsize=_SENTENCES_CACHED)
def sentence_places(sentence: str, keys: frozenset[str] | None = None) -> frozenset[str]:
    """The places an evidence sentence names, for :func:`names_another_place`: by name
    (:func:`named`), by its people ("American", "Swiss": the words
    :func:`~stream_guard.text.terms.known` reads as their places), by an abbreviation ("the
    US", "the U.K."), and :data:`UNLISTED` where it names after a word of place something no
    listed place is ("in Kyiv", "in Brooklyn"). Kept: a collection's passages recur from
    window to window of a stream (a window is read once, uncached). ``keys``: the sentence's
    :func:`~stream_guard.text.terms.term_keys` where the caller has them (an evidence
    sentence is indexed by them: read again, they were a fifth of a large context's setup)."""
    found = set(named(sentence))
    for key in term_keys(sentence) if keys is None else keys:
        found.update(form for place in place_forms(key)
                     for form in (place, place + "s") if is_place(form))
    found.update(name for m in _ABBREVIATION.finditer(sentence)
                 if is_place(name := _ABBREVIATIONS[m.group()]))
    folded = _ascii(sentence)
    words = tuple(m.group() for m in _WORD.finditer(folded))
    for i, word in enumerate(words[1:], 1):
        if (words[i - 1].lower() in _AT and word[:1].isupper()
                and word.lower() not in STOPWORDS and word.lower() not in CALENDAR_WORDS
                and name_at(words, i, i + 1) is None and name_at(words, i, i + 2) is None
                and _ABBREVIATION.fullmatch(word) is None):
            found.add(UNLISTED)
            break
    return frozenset(found)


def _ascii(text: str) -> str:
    """``text`` with its accents dropped ("Zürich" is "Zurich", WordNet's spelling)."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def named(text: str, placed: bool = False) -> frozenset[str]:
    """The places ``text`` names on their own (lower case): not as part of another name ("Real
    Madrid", "AC Milan", "Bank of India", "New York Times") or of a word ("London-based"), and
    a name also given to people only after a word of place ("in Jackson", not "Jackson
    said"). ``placed``: every name only so ("in Paris", "from the United States"), not as a
    subject ("Beijing said", "Boston beat the Heat", "Britain and Norway signed": a capital
    or a city for its government or team)."""
    text = _ascii(text)
    words = list(_WORD.finditer(text))
    cased = tuple(m.group() for m in words)
    found: set[str] = set()
    i = 0
    while i < len(words):
        n, name = next(((n, place) for n in (2, 1)
                        if (place := name_at(cased, i, i + n)) is not None), (0, ""))
        if not n:
            i += 1
            continue
        before = cased[i - 1] if i else ""
        after = cased[i + n] if i + n < len(cased) else ""
        joined = text[words[i + n - 1].end():words[i + n - 1].end() + 1] == "-"
        at = before.lower() in _AT or (before.lower() == "the" and i > 1
                                       and cased[i - 2].lower() in _AT)
        if not (joined or _in_name(before) or _in_name(after)
                or (before == "of" and i > 1 and _in_name(cased[i - 2]))
                or ((placed or name in _table().people) and not at)):
            found.add(name)
        i += n
    return frozenset(found)


def _in_name(word: str) -> bool:
    """Whether a word beside a place's name makes it part of a longer name: capitalised, and
    no word a sentence may open with ("In Paris", "The Hague")."""
    return word[:1].isupper() and word.lower() not in STOPWORDS


def names_another_place(window_text: str, evidence_places: AbstractSet[str],
                        evidence_keys: AbstractSet[str],
                        asked: AbstractSet[str] = frozenset()) -> bool:
    """Whether the window puts something in a place (after a word of place: "in London") the
    evidence does not name (by name, or by its people: ``evidence_keys``,
    :func:`~stream_guard.text.terms.known`), where the evidence names another of its kind
    (``evidence_places``, :func:`sentence_places` of its sentences) and no place the evidence
    names is, lies within, or holds it. Not where the evidence names a place the table does not
    list (:data:`UNLISTED`), nor for a place the user's prompt names (``asked``: "From Denver,
    the flight to Chicago takes ..." answers "I'm flying from Denver"; the prompt is no
    evidence, but an answer that puts the user's place back contradicts nothing). A question
    states nothing."""
    if not evidence_places or UNLISTED in evidence_places or is_question(window_text):
        return False
    table = _table()
    for name in named(window_text, placed=True) - evidence_places - asked:
        if all(known(key, evidence_keys) for key in term_keys(name)):
            continue
        if _alluded(name, evidence_places, evidence_keys):
            continue
        if any(_related(table.names[name], table.names[other]) for other in evidence_places):
            continue
        if any(other_places(name, other) for other in evidence_places):
            return True
    return False


def _alluded(name: str, evidence_places: AbstractSet[str],
             evidence_keys: AbstractSet[str]) -> bool:
    """Whether the evidence names the place ``name`` by a word of its name alone ("Saudi
    officials" for Saudi Arabia, "Korean carmakers" for South Korea) and names no other place
    that word may stand for ("South Carolina" beside "North Carolina" is another state)."""
    by_part = _table().by_part
    return any(name in (names := by_part.get(word, frozenset()))
               and names.isdisjoint(evidence_places) and known(word, evidence_keys)
               for word in name.split())


def other_places(a: str, b: str) -> bool:
    """Whether the names ``a`` and ``b`` (lower case) name places apart: places of one kind,
    neither of which any reading of the other is, or lies within, or holds."""
    table = _table()
    ids_a, ids_b = table.names.get(a, ()), table.names.get(b, ())
    if not ids_a or not ids_b or a == b:
        return False
    if {table.kinds[i] for i in ids_a}.isdisjoint(table.kinds[i] for i in ids_b):
        return False
    return not _related(ids_a, ids_b)


def _related(ids_a: tuple[int, ...], ids_b: tuple[int, ...]) -> bool:
    """Whether a reading of one name is a reading of the other, or lies within or holds one."""
    within = _table().within
    return any(x == y or x in within[y] or y in within[x] for x in ids_a for y in ids_b)
