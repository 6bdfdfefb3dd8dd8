"""Polarity: whether a claim says the opposite of the evidence clause it copies.

Word coverage cannot see a negation: "not", "no" and "never" are stopwords (they say nothing of
what a sentence is about), so "Gift cards can be refunded." covers every content word of "Gift
cards cannot be refunded." and scores as well supported. Flipping a statement's polarity is the
commonest small falsification there is (SummEdits builds edits that way), and the cross-encoder,
which reads the two sentences together, does see it. So a window is marked when the evidence
clause that shares most of its content words has the other polarity; the fused score then
treats it as contradicted when the detector agrees (:func:`stream_guard.scoring.fusion.capped`).

Polarity is the parity of the negations in a clause, counting the words that negate without
"not" ("failed to", "unable", "refused", "declined", "lacks", "except", "without",
"impossible", ...): a
faithful paraphrase often trades one for the other ("did not reduce" for "failed to reduce",
"could not walk" for "was unable to walk", "cannot be used without" for "requires"), and the
detector, which scores such pairs low, cannot be relied on to tell them from a flip. What is
left is a lexical judgement, so it is kept narrow: the clause must be the same claim (most of
the window's content words, which are most of its own), and one with a "but" or "while" is
compared clause by clause, since its negation may belong to the other clause. Pure and cheap:
regular expressions over a few short strings per window.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet

from stream_guard.text.terms import term_keys

# Negations, explicit and implied. "non-" and "non" before a word ("non-refundable",
# "nonprofit"), so a paraphrase that spells it "not" or "no" keeps its polarity.
_NEGATION = re.compile(
    r"\b(?:not|no|never|cannot|none|nobody|nothing|nowhere|neither|nor|without|except"
    r"|unable|fail(?:s|ed|ing|ure)?|refus(?:e|es|ed|ing)|declin(?:e|es|ed|ing)"
    r"|den(?:y|ies|ied|ying)|lack(?:s|ed|ing)?|absent|ceas(?:e|es|ed|ing)"
    r"|stop(?:s|ped|ping)?|remov(?:e|es|ed|ing)|exclud(?:e|es|ed|ing)"
    r"|impossible|unaware|unlikely|unclear|unknown|unavailable|unwilling|unsuccessful|unsafe"
    r"|incorrect|inaccurate|incomplete|ineffective|invalid|illegal)\b"
    r"|n't\b|\bnon(?:-|(?=[a-z]{3})(?!e\b|etheless|sense))", re.IGNORECASE)
# Phrases with a negation word that negate nothing: "whether or not", "not only ... but", "no
# doubt", "without exception", the number sign "No. 10" or "world No 1" (capitalised, before a
# number), and a reply that opens a turn ("No, ...", "Not really, ..."): it answers the
# listener, and the clause after it keeps its own polarity.
_NO_NEGATION = re.compile(
    r"\b(?:whether or not|not (?:only|just|merely)|no doubt|without (?:doubt|exception))"
    r"|\b(?-i:No)\.?(?=\s*\d)"
    r"|^\W*(?:no|nope|not really|not exactly|not at all)\s*[,.!;:]", re.IGNORECASE)
# Apostrophes a "n't" may be written with.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
# Where a sentence turns to another claim: its clauses are compared one by one.
_CLAUSE_BREAK = re.compile(r"[;:]\s+|,?\s+\b(?:but|while|whereas|although|though|yet)\b\s+",
                           re.IGNORECASE)
# The share of a window's content words a clause must hold to be the same claim, and of the
# clause's own the window must hold.
_SAME_CLAIM = 0.8
# How far after a negation (in characters) the content word it bears on is looked for.
_HEAD_REACH = 40
_WORD = re.compile(r"[\w'-]+")
_HALF_CLAUSE = 0.5
_MIN_KEYS = 2


def negated(text: str) -> bool:
    """Whether ``text`` says no: an odd number of negations (two cancel: "cannot be used
    without" is "requires")."""
    return len(_negations(text)[1]) % 2 == 1


def _negations(text: str) -> tuple[str, list[re.Match[str]]]:
    cleaned = _NO_NEGATION.sub(" ", text.translate(_APOSTROPHES))
    return cleaned, list(_NEGATION.finditer(cleaned))


def _negated_heads(text: str) -> frozenset[str]:
    """The content term each negation of ``text`` bears on: the first one after it within a
    few words ("cannot be *refunded*", "failed to *reduce*")."""
    cleaned, found = _negations(text)
    heads: set[str] = set()
    for match in found:
        for word in _WORD.findall(cleaned, match.end(), match.end() + _HEAD_REACH):
            keys = term_keys(word)
            if keys:
                heads |= keys
                break
    return frozenset(heads)


def flips_polarity(window_keys: AbstractSet[str], window_text: str,
                   sentences: Iterable[tuple[str, AbstractSet[str]]]) -> bool:
    """Whether the clause of ``sentences`` (text, content-term keys) that shares most of the
    window's content terms is the same claim (it holds at least 80 % of the window's terms,
    and they are at least half of its own) with the other polarity."""
    if len(window_keys) < _MIN_KEYS:
        return False
    best, claim, claim_keys = 0, "", 0
    for text, keys in sentences:
        if len(window_keys & keys) <= best:
            continue  # no clause of it can share more than the whole sentence
        clauses = _CLAUSE_BREAK.split(text)
        for clause, clause_keys in (((text, keys),) if len(clauses) == 1 else
                                    ((c, term_keys(c)) for c in clauses)):
            shared = len(window_keys & clause_keys)
            if shared > best:
                best, claim, claim_keys = shared, clause, len(clause_keys)
    if best < _SAME_CLAIM * len(window_keys) or best < _HALF_CLAUSE * claim_keys:
        return False
    window_no, claim_no = negated(window_text), negated(claim)
    if window_no == claim_no:
        return False
    # The same predicate asserted and denied: what the negation bears on is in the other
    # text ("has not been beaten" is no flip of "has a 17-0 record").
    denied, asserted = (window_text, claim) if window_no else (claim, window_text)
    return not _negated_heads(denied).isdisjoint(term_keys(asserted))
