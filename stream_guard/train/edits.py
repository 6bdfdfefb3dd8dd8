"""Synthetic local edits: a supported sentence made unsupported by one small change.

HaluEval's hallucinated answers often differ from the right ones in style, which a classifier can
learn without checking facts. A supported sentence with one number, name, common noun, negation
or antonym changed, paired with the same evidence, differs only in the fact, so the detector has
to compare the window with the evidence token by token: exactly the kind of error a streaming
halt must catch. Antonyms and nouns come from WordNet (:mod:`stream_guard.train.wordnet`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from stream_guard.train.wordnet import load as load_lexicon

_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
_ENTITY = re.compile(r"(?<![\w])(?:[A-Z][a-z]+|[A-Z]{2,})(?:\s+(?:[A-Z][a-z]+|[A-Z]{2,}))*")
_NUMBER_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                 "twelve", "twenty", "hundred", "thousand", "million", "billion"]
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b")
_ANTONYMS = [
    ("increase", "decrease"), ("increased", "decreased"), ("increasing", "decreasing"),
    ("higher", "lower"), ("more", "less"), ("before", "after"), ("won", "lost"),
    ("win", "lose"), ("rise", "fall"), ("rose", "fell"), ("first", "last"), ("largest", "smallest"),
    ("positive", "negative"), ("including", "excluding"), ("early", "late"),
    ("earlier", "later"), ("above", "below"), ("accepted", "rejected"), ("agreed", "refused"),
    ("male", "female"), ("older", "younger"), ("oldest", "youngest"), ("north", "south"),
    ("east", "west"), ("best", "worst"), ("strong", "weak"), ("profit", "loss"),
    ("gain", "loss"), ("up", "down"), ("open", "closed"), ("support", "oppose"),
    ("supported", "opposed"), ("allowed", "banned"), ("approved", "rejected"),
    ("succeeded", "failed"), ("success", "failure"), ("always", "never"), ("like", "dislike"),
    ("love", "hate"), ("maximum", "minimum"), ("start", "end"), ("started", "ended"),
    ("buy", "sell"), ("bought", "sold"), ("add", "remove"), ("added", "removed"),
]
# Each word of a curated antonym pair, to its antonym.
ANTONYM = {a: b for pair in _ANTONYMS for a, b in (pair, pair[::-1])}
_WORDNET_ANTONYMS, _NOUNS = load_lexicon()
# Every antonym an edit may use: the curated pairs (inflected forms WordNet lacks: "rose",
# "fell", "higher") and WordNet's.
_ALL_ANTONYMS = {w: sorted({*_WORDNET_ANTONYMS.get(w, []), *([ANTONYM[w]] if w in ANTONYM else [])})
                 for w in {*ANTONYM, *_WORDNET_ANTONYMS}}
_ANTONYM_RE = re.compile(r"\b(" + "|".join(sorted(_ALL_ANTONYMS, key=len, reverse=True)) + r")\b",
                         re.IGNORECASE)
# A lower-case word right after an article or possessive: where a common noun sits ("the
# curtains", "their budget"); WordNet then says whether it is a noun. Not after words that
# may stand alone ("that", "this", "some"): "that have", "some will" are verbs.
_DETERMINED = re.compile(r"\b(?:[Tt]he|[Aa]n?|[Ii]ts|[Tt]heir|[Hh]is|[Oo]ur|[Yy]our|[Mm]y|[Ee]ach|"
                         r"[Ee]very)\s+([a-z]{4,})\b")
# Plurals WordNet's nouns do not spell with an "s", and singulars ending in one.
_PLURAL_NOUNS = frozenset({"people", "police", "data", "media", "children", "men", "women",
                           "staff", "cattle"})
_SINGULAR_ENDINGS = ("ss", "us", "is", "ics")
_SINGULAR_NOUNS = frozenset({"news", "series", "species", "means"})
# Words whose first letter is a vowel but not the sound "an" needs, and the reverse.
_A_BEFORE = re.compile(r"^(?:uni|use|usu|uti|eu|one)")
_AN_BEFORE = re.compile(r"^(?:hour|honest|honou?r|heir)")
_NEGATE = re.compile(r"\b(is|are|was|were|has|have|had|can|will|would|could|should|does|did|do)"
                     r"\b(?! not\b)(?!n't)")
_UNNEGATE = re.compile(r"\b(is|are|was|were|has|have|had|can|will|would|could|should|does|did|do)"
                       r"(?: not\b|n't\b)")

Edit = Callable[[str, list[str], random.Random], "str | None"]


def local_edit(sentence: str, entity_pool: list[str], rng: random.Random) -> tuple[str, str] | None:
    """One edited, no longer supported version of ``sentence`` and the kind of edit, or None.

    ``entity_pool`` holds names, numbers and common nouns from the same evidence
    (:func:`entities`, :func:`nouns`): swapping in one the evidence does mention makes the
    hardest negatives, as a lexical-overlap check alone cannot catch them.
    """
    kinds = list(_EDITS)
    rng.shuffle(kinds)
    for kind in kinds:
        edited = _EDITS[kind](sentence, entity_pool, rng)
        if edited is not None and edited != sentence:
            return edited, kind
    return None


def entities(text: str) -> list[str]:
    """Capitalised name-like spans (skipping sentence-initial single words, usually not names)
    and the numbers of ``text``: what an edit may swap in from the same document."""
    found: list[str] = []
    for match in _ENTITY.finditer(text):
        span = match.group(0)
        before = text[:match.start()].rstrip()
        if " " not in span and (not before or before[-1] in ".!?\"'"):
            continue
        if span not in found:
            found.append(span)
    for match in _NUMBER.finditer(text):
        if match.group(0) not in found:
            found.append(match.group(0))
    return found


def nouns(text: str) -> list[str]:
    """The common nouns of ``text`` as written (singular or plural), in order of first use."""
    found: list[str] = []
    for match in _DETERMINED.finditer(text):
        word = match.group(1)
        if _is_noun(word) and word not in found:
            found.append(word)
    return found


def _is_noun(word: str) -> bool:
    return word in _NOUNS or _is_plural(word)


def _is_plural(word: str) -> bool:
    """A plural: one of the irregular ones, or a noun's "-s" form ("losses"; not "loss",
    "status", "analysis", "economics" or "news")."""
    if word in _PLURAL_NOUNS:
        return True
    if not word.endswith("s") or word.endswith(_SINGULAR_ENDINGS) or word in _SINGULAR_NOUNS:
        return False
    return (word[:-1] in _NOUNS or (word.endswith("es") and word[:-2] in _NOUNS)
            or (word.endswith("ies") and word[:-3] + "y" in _NOUNS))


_CLAUSE = re.compile(r"\s*(?:\([^()]*\)|,\s*(?:which|who|where|while|although|according to)"
                     r"\b[^,.;]*,?|,\s*[^,.;]{3,60},(?=\s))")
_LEAD = re.compile(r"^(?:According to [^,]{3,60},|In [^,]{3,40},|On [^,]{3,40},|"
                   r"However,|Meanwhile,|Also,|But)\s*")


def compress(sentence: str, rng: random.Random) -> str | None:
    """A shorter sentence the original still supports: a parenthetical, a relative or
    appositive clause, or a leading phrase dropped. None when there is nothing to drop."""
    options = [m for m in _CLAUSE.finditer(sentence) if m.end() - m.start() < len(sentence) / 2]
    lead = _LEAD.match(sentence)
    if lead is not None:
        rest = sentence[lead.end():]
        if rest:
            return rest[0].upper() + rest[1:]
    if not options:
        return None
    match = rng.choice(options)
    shorter = (sentence[:match.start()] + sentence[match.end():]).strip()
    return shorter if len(shorter.split()) >= 4 else None


def _change_number(sentence: str, _pool: list[str], rng: random.Random) -> str | None:
    matches = list(_NUMBER.finditer(sentence))
    if matches:
        match = rng.choice(matches)
        digits = match.group(0)
        positions = [i for i, ch in enumerate(digits) if ch.isdigit()]
        pos = rng.choice(positions[-2:] if len(digits) == 4 else positions)
        new_digit = rng.choice([d for d in "0123456789" if d != digits[pos]
                                and not (pos == 0 and d == "0" and len(positions) > 1)])
        changed = digits[:pos] + new_digit + digits[pos + 1:]
        return sentence[:match.start()] + changed + sentence[match.end():]
    words = list(_NUMBER_WORD.finditer(sentence))
    if words:
        match = rng.choice(words)
        other = rng.choice([w for w in _NUMBER_WORDS if w != match.group(0)])
        return sentence[:match.start()] + other + sentence[match.end():]
    return None


def _swap_number(sentence: str, pool: list[str], rng: random.Random) -> str | None:
    """A number replaced by another number of the same document (a wrong date, a wrong total)."""
    present = list(_NUMBER.finditer(sentence))
    numbers = [n for n in pool if _NUMBER.fullmatch(n)]
    if not present or not numbers:
        return None
    match = rng.choice(present)
    others = [n for n in numbers if n != match.group(0)
              and len(n.split(".")[0]) == len(match.group(0).split(".")[0])]
    if not others:
        return None
    return sentence[:match.start()] + rng.choice(others) + sentence[match.end():]


def _swap_roles(sentence: str, _pool: list[str], rng: random.Random) -> str | None:
    """Two names of the sentence trade places: who did what to whom."""
    names = [e for e in entities(sentence) if not _NUMBER.fullmatch(e)]
    if len(names) < 2:
        return None
    a, b = rng.sample(names, 2)
    if a in b or b in a:
        return None
    marker = "\x00"
    return sentence.replace(a, marker, 1).replace(b, a, 1).replace(marker, b, 1)


def _swap_entity(sentence: str, pool: list[str], rng: random.Random) -> str | None:
    present = [e for e in entities(sentence) if not _NUMBER.fullmatch(e)]
    if not present:
        return None
    target = rng.choice(present)
    candidates = [e for e in pool if e != target and e not in sentence and target not in e
                  and e[0].isupper()]
    if not candidates:
        return None
    return sentence.replace(target, rng.choice(candidates), 1)


def _flip_negation(sentence: str, _pool: list[str], rng: random.Random) -> str | None:
    negated = list(_UNNEGATE.finditer(sentence))
    if negated:
        match = rng.choice(negated)
        return sentence[:match.start()] + match.group(1) + sentence[match.end():]
    plain = list(_NEGATE.finditer(sentence))
    if plain:
        match = rng.choice(plain)
        return sentence[:match.end()] + " not" + sentence[match.end():]
    return None


def _swap_noun(sentence: str, pool: list[str], rng: random.Random) -> str | None:
    """A common noun replaced by another of the same document, singular for singular and
    plural for plural ("the carpets" for "the curtains")."""
    present = [m for m in _DETERMINED.finditer(sentence) if _is_noun(m.group(1))]
    if not present:
        return None
    match = rng.choice(present)
    word = match.group(1)
    plural = _is_plural(word)
    candidates = [n for n in pool if n[0].islower() and _is_plural(n) == plural
                  and n != word and not n.startswith(word[:4]) and n not in sentence]
    if not candidates:
        return None
    noun = rng.choice(candidates)
    determiner = sentence[match.start():match.start(1)]
    if determiner.strip().lower() in ("a", "an"):  # "an range" would give the edit away
        vowel = noun[0] in "aeiou" and not _A_BEFORE.match(noun)
        article = "an" if vowel or _AN_BEFORE.match(noun) else "a"
        if determiner[0].isupper():
            article = article.capitalize()
        determiner = article + determiner[len(determiner.strip()):]
    return sentence[:match.start()] + determiner + noun + sentence[match.end(1):]


def _antonym(sentence: str, _pool: list[str], rng: random.Random) -> str | None:
    # A capitalised word inside the sentence is a name's ("Very Large Telescope"), and a part
    # of a hyphenated word is no word of its own ("follow-up"): both are left as they are.
    matches = [m for m in _ANTONYM_RE.finditer(sentence)
               if (m.start() == 0 or not m.group(0)[0].isupper())
               and "-" not in sentence[max(m.start() - 1, 0):m.end() + 1]]
    if not matches:
        return None
    match = rng.choice(matches)
    word = match.group(0)
    other = rng.choice(_ALL_ANTONYMS[word.lower()])
    if word[0].isupper():
        other = other[0].upper() + other[1:]
    return sentence[:match.start()] + other + sentence[match.end():]


_EDITS: dict[str, Edit] = {
    "number": _change_number,
    "number-swap": _swap_number,
    "entity": _swap_entity,
    "entity-swap": _swap_entity,
    "roles": _swap_roles,
    "noun-swap": _swap_noun,
    "negation": _flip_negation,
    "antonym": _antonym,
}
