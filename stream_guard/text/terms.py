"""Content terms and quantities of a text: what the lexical tier, BM25 and the premise compare.

A window whose content words, numbers and names all occur in its evidence is almost always
supported, and one that introduces a new number or name often is not. Terms are normalised
(case, possessives, plurals) so "cities" meets "city", and weighted: a changed number or name is
the typical hallucination, a changed common word rarely is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%?|[^\W\d_](?:[\w'’-]*\w)?", re.UNICODE)

STOPWORDS = frozenset(
    """
a about above after again against all also am an and any are aren't as at be because been before
being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
don't down during each either else even ever every few for from further get gets got had hadn't
has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his how
how's however i i'd i'll i'm i've if in into is isn't it it's its itself just let's like made make
many may me might more most much must mustn't my myself neither no nor not now of off often on once
one only or other ought our ours ourselves out over own per quite rather really same shall shan't
she she'd she'll she's should shouldn't since so some such than that that's the their theirs them
themselves then there there's these they they'd they'll they're they've this those though through
thus to too under until up upon us use used very via was wasn't we we'd we'll we're we've were
weren't what what's when when's where where's whether which while who who's whom whose why why's
will with within without won't would wouldn't yes yet you you'd you'll you're you've your yours
yourself yourselves well still way ways thing things lot lots okay ok yeah sure oh really actually
""".split()  # noqa: SIM905 - a word list reads better as text
)

# Weights: a changed number or name is the typical hallucination, a changed common word rarely is.
NUMBER_WEIGHT = 2.0
NAME_WEIGHT = 1.5
WORD_WEIGHT = 1.0


@dataclass(frozen=True, slots=True)
class Term:
    key: str
    weight: float


def _normalize(token: str) -> str:
    t = token.lower().replace("’", "'")
    if t[0].isdigit():
        return t.replace(",", "")
    if t.endswith("'s"):
        t = t[:-2]
    # Plurals must meet their singulars: cities/city, boxes/box, but metres/metre (not "metr").
    if len(t) > 4 and t.endswith("ies"):
        return t[:-3] + "y"
    if len(t) > 4 and t.endswith(("sses", "xes", "zes", "ches", "shes")):
        return t[:-2]
    if len(t) > 3 and t.endswith("s") and not t.endswith(("ss", "us", "is")):
        return t[:-1]
    return t


# token -> its key, or "" for a token that is not a content term. Text keeps reusing a small
# vocabulary, so most tokens are looked up rather than normalised again (terms() runs for every
# sentence of every stream's evidence and for every window). Only short tokens are kept (a
# stream of long made-up tokens must not pin memory), and the table starts over when full, so
# its memory is bounded (about 20 MB) and it keeps serving today's vocabulary. Shared by
# threads: a dict get/set/clear is atomic.
_KEYS: dict[str, str] = {}
_KEYS_MAX = 100_000
_KEY_TOKEN_MAX = 32


def terms(text: str) -> list[Term]:
    """Content terms of ``text`` with their weights; stopwords dropped."""
    out = []
    keys = _KEYS
    for i, match in enumerate(_TOKEN.finditer(text)):
        token = match.group()
        key = keys.get(token)
        if key is None:
            key = _normalize(token)
            if key in STOPWORDS or (len(key) < 2 and not key.isdigit()):
                key = ""
            if len(token) <= _KEY_TOKEN_MAX:
                if len(keys) >= _KEYS_MAX:
                    keys.clear()
                keys[token] = key
        if not key:
            continue
        if token[0].isdigit():
            weight = NUMBER_WEIGHT
        elif token[0].isupper() and i > 0 and text[
                match.start() - 2: match.start()].strip() not in {".", "!", "?"}:
            weight = NAME_WEIGHT
        else:
            weight = WORD_WEIGHT
        out.append(Term(key, weight))
    return out


def term_keys(text: str) -> set[str]:
    return {t.key for t in terms(text)}


def coverage(window: str | Sequence[Term], evidence_keys: AbstractSet[str]) -> float:
    """Weighted share of the window's content terms found in the evidence (1.0 if it has none).

    ``window`` may be given as its :func:`terms` already, when one window is measured against
    several chunks.
    """
    window_terms = terms(window) if isinstance(window, str) else window
    total = sum(t.weight for t in window_terms)
    if total == 0:
        return 1.0
    covered = sum(t.weight for t in window_terms if t.key in evidence_keys)
    return covered / total


_QUANTITY = re.compile(
    r"(?<![\w.])(\d+(?:[.,]\d+)*)\s*(%|percent|per cent|[^\W\d_][\w-]*)", re.UNICODE)


def quantities(text: str) -> set[tuple[str, str]]:
    """(number, unit word) pairs such as ("330", "metre") or ("15", "%")."""
    out = set()
    for match in _QUANTITY.finditer(text):
        unit = match.group(2).lower()
        unit = "%" if unit in {"percent", "per cent"} else _normalize(unit)
        out.add((match.group(1).replace(",", ""), unit))
    return out


def quantity_index(text: str) -> dict[str, frozenset[str]]:
    """The numbers ``text`` states per unit: {"metre": {"330"}}; built once per evidence."""
    by_unit: dict[str, set[str]] = {}
    for number, unit in quantities(text):
        by_unit.setdefault(unit, set()).add(number)
    return {unit: frozenset(numbers) for unit, numbers in by_unit.items()}


def merge_quantities(*indexes: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """One index for evidence from several places: every number each states, per unit (a
    number one source states is not a conflict because another source states a different one)."""
    merged: dict[str, frozenset[str]] = {}
    for index in indexes:
        for unit, numbers in index.items():
            merged[unit] = merged.get(unit, frozenset()) | numbers
    return merged


def quantity_conflict(window: str, known: Mapping[str, frozenset[str]]) -> bool:
    """The window gives a quantity of a unit for which the evidence gives a different one.

    "450 metres" against evidence saying "330 metres" (and never 450 metres) is a contradiction,
    not merely missing support: swapped numbers are the commonest factual edit, and this rule
    fires only when the evidence talks about the same unit, which keeps it precise.
    """
    return any(unit in known and number not in known[unit]
               for number, unit in quantities(window))


def number_conflict(window: str, evidence: str) -> bool:
    """:func:`quantity_conflict` against evidence given as text."""
    return quantity_conflict(window, quantity_index(evidence))
