"""Polarity: whether a claim copies an evidence clause and only adds or drops its "not".

Word coverage cannot see a negation: "not", "no" and "never" are stopwords (they say nothing of
what a sentence is about), so "Gift cards can be refunded." covers every content word of "Gift
cards cannot be refunded." and scores as well supported. The cross-encoder, which reads the two
together, does see it. So a window is marked when it is an evidence clause with its polarity
flipped; the fused score then treats it as contradicted when the detector agrees
(:func:`stream_guard.scoring.fusion.capped`).

The mark is deliberately narrow, because the detector's agreement is no safeguard where
negation is paraphrased: it scores "did not reduce" against "failed to reduce", "no more than 7
kg" against "at most 7 kg" or "the store does not open until 10" against "opens at 10" below
0.1 too. A review that streamed 272 faithful answers written around negation through the server
found a broader rule (negations counted with the words that imply one, "failed", "unable",
"except", ...) halting a quarter of them. So the window must hold no term the clause lacks, and
the check abstains wherever negation has company that changes its reach: a word that implies a
negation ("failed", "unless", "without", "neither", "prohibited", "non-"), one that bounds or
quantifies ("until", "before", "only", "than", "at least", "all", "any", "zero"), and a
question, which states nothing; unless both texts hold the same such words ("... covered unless
you have declared them" against "... not covered unless ..."), as a copy does. What is left is
the flip SummEdits-style edits and careless answers make: the same words, with "not", "no",
"never" or "n't" added or dropped. Pure and cheap: regular expressions over a few short strings
per window.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet

from stream_guard.text.terms import APOSTROPHES, term_keys

# The negations a flip adds or drops (also a contraction written without its apostrophe).
_NEGATION = re.compile(r"\b(?:not|no|never|cannot)\b|n't\b"
                       r"|\b(?:is|are|was|were|do|does|did|could|would|should|has|have|had)nt\b",
                       re.IGNORECASE)
# Words that change what a negation reaches, or negate without one of the words above (a
# regular expression's alternatives): also the aligned negation check's
# (:mod:`stream_guard.text.opposites`), which adds its own.
REACH = (r"none|nobody|nothing|nowhere|neither|nor|without|except|excluding|unless|until|only"
         r"|than|other|if|whether|either|least|most|fewer|less|more|zero|free|too|lack\w*"
         r"|fail\w*|unable|refus\w*|den(?:y|ies|ied|ying)|prohibit\w*|forbid\w*|forbade|ban"
         r"|banned|ceas\w*|stop\w*|absent|impossible|unlikely|unknown|unavailable|unclear"
         r"|non-?\w+")
# Where either text has one, or a word that bounds or quantifies, polarity is not judged here
# (see the module docstring), unless both texts hold the same ones (:func:`flips_polarity`).
_ABSTAIN = re.compile(r"\b(?:" + REACH + r"|before|after|all|every|any|some|under|over|below"
                      r"|above|0|declin\w*|remov\w*|exclud\w*)\b", re.IGNORECASE)
# ... and where either has one of these, even both: "Some items cannot be returned." and "Some
# items can be returned." may both hold.
_ALWAYS_ABSTAIN = frozenset(("some",))
# Phrases with a negation word that negate nothing: "whether or not", "not only ... but", "no
# doubt", the number sign "No. 10" or "world No 1" (capitalised, before a number), and a reply
# that opens a turn ("No, ...", "Not really, ...", "No \u2014 ...", "Sorry, no - ..."): it answers
# the listener, and the clause after it keeps its own polarity.
_NO_NEGATION = re.compile(
    r"\b(?:whether or not|not (?:only|just|merely)|no doubt)"
    r"|\b(?-i:No)\.?(?=\s*\d)"
    r"|^\W*(?:(?:sorry|unfortunately|i'm afraid|afraid|well|oh|ah)\W+)?"
    r"(?:no|nope|not really|not exactly|not at all)(?:\s*[,.!;:\u2014\u2013]|\s+-\s)",
    re.IGNORECASE)
# Where a sentence turns to another claim: its clauses are compared one by one.
_CLAUSE_BREAK = re.compile(r"[;:]\s+|,?\s+\b(?:but|while|whereas|although|though|yet)\b\s+",
                           re.IGNORECASE)
# The window's terms must all be the clause's, and at least this share of the clause's.
_HALF_CLAUSE = 0.5
_MIN_KEYS = 2
# How far after a negation (in characters) the content word it bears on is looked for.
_HEAD_REACH = 40
# ... and no further than this: what follows bears on something else ("balloons are not, and
# bookings need notice"); but past an aside of a word or two ("are not, however, refundable").
_PHRASE_END = re.compile(r"[,;:!?()\u2014\u2013]|\.(?!\S)")
_ASIDE = re.compile(r",\s*[^\W\d_]+(?:\s+[^\W\d_]+)?\s*,")
_SPACES = re.compile(r"\s+")
# A word, as the negated word is read (also text.denials').
WORD = re.compile(r"[\w'-]+")


def plain(text: str) -> str:
    """``text`` with its apostrophes made plain and its phrases that negate nothing blanked
    (:data:`_NO_NEGATION`): what negations are counted and read in."""
    return _NO_NEGATION.sub(" ", text.translate(APOSTROPHES))


def clauses(text: str) -> list[str]:
    """``text`` cut where it turns to another claim ("; ", ", but ", " while "), its runs of
    spaces made one first (the pattern backtracks over a long run: text extracted from a PDF)."""
    return _CLAUSE_BREAK.split(_SPACES.sub(" ", text))


def negated(text: str) -> bool:
    """Whether ``text`` says no: an odd number of "not", "no", "never", "cannot", "n't"."""
    return negations(text) % 2 == 1


def negations(text: str) -> int:
    """How many negations (:func:`negated`'s words) ``text`` holds."""
    return len(_NEGATION.findall(plain(text)))


def judged(text: str) -> bool:
    """Whether ``text``'s polarity can be read from those words alone: no word that negates
    otherwise or changes a negation's reach, and no question."""
    return _company(text) == ()


def _company(text: str) -> tuple[str, ...] | None:
    """The words of ``text`` that change a negation's reach (:data:`_ABSTAIN`), in order; none
    for a question or a word whose negation is never judged (:data:`_ALWAYS_ABSTAIN`)."""
    said = plain(text)
    if said.rstrip().endswith("?"):
        return None
    words = tuple(m.group().lower() for m in _ABSTAIN.finditer(said))
    return None if _ALWAYS_ABSTAIN.intersection(words) else words


def negated_heads(text: str) -> frozenset[str]:
    """The content term each negation of ``text`` bears on: the first one after it within a
    few words and before a stop or comma ("cannot be *refunded*"; in "balloons are not, and
    bookings need notice" none)."""
    said = plain(text)
    heads: set[str] = set()
    for match in _NEGATION.finditer(said):
        reach = _PHRASE_END.split(_ASIDE.sub(" ", said[match.end():match.end() + _HEAD_REACH]),
                                  maxsplit=1)[0]
        for word in WORD.findall(reach):
            if word.endswith("'s"):
                continue  # whose: "not the company's first recall" denies "first"
            keys = term_keys(word)
            if keys:
                heads |= keys
                break
    return frozenset(heads)


def flips_polarity(window_keys: AbstractSet[str], window_text: str,
                   sentences: Iterable[tuple[str, AbstractSet[str]]]) -> bool:
    """Whether the window is a clause of ``sentences`` (text, content-term keys) with its
    polarity flipped: the clause holds every content term of the window, which are at least
    half of its own; both are :func:`judged`, or hold the same words that change a negation's
    reach, in the same order; one is negated and the other not; and what the negation bears on
    is in the other (the same predicate asserted and denied).

    A word of reach both texts share leaves the flip a flip: "This applies if you are made
    redundant." against "This does not apply if you are made redundant.", "... are covered
    unless you have declared them." against "... are not covered unless ..." (a probe of
    policies: both passed as supported). One only either holds is what may turn a negation into
    a paraphrase ("did not reduce" for "failed to reduce")."""
    window_company = _company(window_text)
    if len(window_keys) < _MIN_KEYS or window_company is None:
        return False
    best, claim, claim_keys = 0, "", 0
    for text, keys in sentences:
        if len(window_keys & keys) <= best:
            continue  # no clause of it can share more than the whole sentence
        parts = clauses(text)
        for clause, clause_set in (((text, keys),) if len(parts) == 1 else
                                   ((c, term_keys(c)) for c in parts)):
            shared = len(window_keys & clause_set)
            if shared > best:
                best, claim, claim_keys = shared, clause, len(clause_set)
    if (best < len(window_keys) or best < _HALF_CLAUSE * claim_keys
            or _company(claim) != window_company):
        return False
    window_nos, claim_nos = negations(window_text), negations(claim)
    if window_nos > 1 or claim_nos > 1:
        # two negations are two denials as often as one double negative: "is not accepted at
        # the gate and cannot be checked in online" is no assertion its one clause flips (a
        # second review: the faithful "Luggage over 23 kg cannot be checked in online." halted)
        return False
    window_no, claim_no = window_nos == 1, claim_nos == 1
    if window_no == claim_no:
        return False
    denied, asserted = (window_text, claim) if window_no else (claim, window_text)
    return not negated_heads(denied).isdisjoint(term_keys(asserted))
