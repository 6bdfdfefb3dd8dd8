"""Polarity: whether a claim says the opposite of the evidence sentence it copies.

Word coverage cannot see a negation: "not", "no" and "never" are stopwords (they say nothing of
what a sentence is about), so "Gift cards can be refunded." covers every content word of "Gift
cards cannot be refunded." and scores as well supported. Flipping a statement's polarity is the
commonest small falsification there is (SummEdits builds edits that way), and the cross-encoder,
which reads the two sentences together, does see it. So a window is marked when the evidence
sentence that shares most of its content words has the other polarity; the fused score then
treats it as contradicted when the detector agrees (:func:`stream_guard.scoring.fusion.capped`).

Alone the mark is too coarse to halt on: a faithful paraphrase can move a negation into a word
("did not suffer life-threatening injuries" for "non-life-threatening injuries", "no company but
his camera" for "only his camera for company"). Pure and cheap: a regular expression over two
short strings per window.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet

# Negation as words and as the "n't" clitic; "non-" as a prefix ("non-life-threatening"), so a
# paraphrase that spells it as "not" keeps its polarity.
_NEGATION = re.compile(
    r"\b(?:not|no|never|cannot|none|nobody|nothing|nowhere|neither|nor|without)\b"
    r"|n't\b|\bnon-", re.IGNORECASE)
# Phrases with a negation word that negate nothing: "whether or not", "not only ... but", and a
# reply that opens a turn ("No, ...", "Not really, ..."): it answers the listener, and the clause
# after it keeps its own polarity.
_NO_NEGATION = re.compile(r"\b(?:whether or not|not (?:only|just|merely))\b"
                          r"|^\W*(?:no|nope|not really|not exactly|not at all)\s*[,.!;:]",
                          re.IGNORECASE)
# The share of a window's content words its sentence must hold for the two to be one claim.
_SAME_CLAIM = 0.8
_HALF_SENTENCE = 0.5
_MIN_KEYS = 2


def negated(text: str) -> bool:
    """Whether ``text`` has a negation (any: polarity here is a yes/no, not a count)."""
    return _NEGATION.search(_NO_NEGATION.sub(" ", text.replace("\u2019", "'"))) is not None


def flips_polarity(window_keys: AbstractSet[str], window_text: str,
                   sentences: Iterable[tuple[str, AbstractSet[str]]]) -> bool:
    """Whether the sentence of ``sentences`` (text, content-term keys) that shares most of the
    window's content terms is the same claim (it holds at least 80 % of the window's terms, and
    they are at least half of its own) with the other polarity."""
    if len(window_keys) < _MIN_KEYS:
        return False
    best, claim, claim_keys = 0, "", 0
    for text, keys in sentences:
        shared = len(window_keys & keys)
        if shared > best:
            best, claim, claim_keys = shared, text, len(keys)
    # One claim: the sentence holds most of the window's terms, and the window at least half
    # of the sentence's (a long sentence holding the window's words among many others is
    # several claims, and its negation may belong to another of them).
    if best < _SAME_CLAIM * len(window_keys) or best < _HALF_SENTENCE * claim_keys:
        return False
    return negated(window_text) != negated(claim)
