"""Denials in other words: a window that says no to what an evidence clause near it asserts of
the same thing, worded otherwise.

"The company doesn't plan to expand by building over 100 AutoNation USA pre-owned stores by the
end of 2025." against "We plan to build over 100 AutoNation USA pre-owned stores, with over 50
completed by the end of 2025."; "Receipts are never required for expenses over €25." against
"Receipts are required for all expenses over €25.". The polarity check
(:func:`stream_guard.text.polarity.flips_polarity`) marks only a clause the window copies whole,
and the aligned one of :mod:`stream_guard.text.opposites` a word-by-word copy; a summary rewords
its source, so SummEdits' edits that add a "not" to a reworded sentence passed both (82 of the
962 edited summaries of ``summedits_train`` the server passed hold a negation their nearest
faithful sibling lacks: ``docs/quality-log.md``, the fiftieth session).

So a window is marked when its one negated clause denies the word its negation bears on (the
first content word after it, within its phrase: "doesn't *plan*") and an evidence clause near it
(:attr:`~stream_guard.evidence.premise.Premise.nearest`) asserts that word, in any of its forms
("include", "included"), with at least ``_SHARED`` more of the clause's words, more than any
clause near it that denies or bounds the word shares; and every word of the window's clause
that the asserting clause lacks is one the evidence states nowhere (a paraphrase's own word).
A word the evidence states elsewhere makes the denial one of another thing: "The base model
doesn't support wireless charging" of "The Pro model supports wireless charging", "does not
include fuel canisters" of "includes a tent and a stove" (an adversarial review of the rule's
first version, which lacked this: it halted 46 more of 63 faithful answers, contrasts like
these mostly, the detector scoring them below 0.1 too; ``docs/results/denials-review-50.jsonl``).

It abstains where negation has company that changes its reach, as the polarity check does: a
word that negates otherwise or bounds (:data:`~stream_guard.text.polarity.REACH`: "unless",
"only", "failed", "without") in the window or the asserting clause; a quantifier in the negated
clause ("not every service"); a negation that contrasts (", not in the order they complete",
"but not yet paid", "unlike the carafe"), is bounded in time or place ("does not open before 9
am", "outside the Southeast"), denies an obligation ("need not submit") or a part ("isn't just
about music"); an idiom that asserts ("can't recommend it enough", "couldn't be happier"); a
"no" that negates nothing ("no-frills", "no 1"); a second negation; and a question.

The mark is the polarity check's: the fused score treats the window as contradicted only when
the detector, which reads negation, agrees (:func:`stream_guard.scoring.fusion.capped`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from stream_guard.text.opposites import base_forms
from stream_guard.text.polarity import REACH, WORD, clauses, negated_heads, negations, plain
from stream_guard.text.stance import is_question
from stream_guard.text.terms import term_keys

# Content words the asserting clause must share with the negated one, besides the word denied.
_SHARED = 3
# Words that change what a negation reaches (also in the asserting clause: "Only members may
# park" asserts nothing of everyone).
_REACH = re.compile(rf"\b(?:{REACH})\b", re.IGNORECASE)
# A window where the negation contrasts ("in the same order, not in the order they complete";
# "approved but not yet paid"; "unlike the carafe, the base is not"), is bounded ("does not
# open before 9 am", "outside the Southeast"), denies only an obligation ("need not submit
# references") or a part ("isn't just about music"), or is an idiom that asserts ("can't
# recommend it enough", "couldn't be happier", "can't wait"), or a "no" that negates nothing
# ("no-frills", "no 1"): it denies no predicate whole.
_ABSTAIN = re.compile(
    r"(?:,|\u2014|\u2013|\s-)\s*(?:but\s+|and\s+)?(?:not|never)\b|\b(?:but|and)\s+not\b"
    r"|\bnot\s+yet\b|\b(?:unlike|instead|rather|separately)\b"
    r"|\b(?:before|after|under|below|above|outside|beyond)\b"
    r"|\b(?:need|needs|have|has|had)(?:\s+not|n't)?\s+to\b|\bneed(?:s)?\s+not\b|\bneedn't\b"
    r"|\b(?:just|simply|merely|enough|happier|better|wait)\b|\bno-\w|\bno\.?\s*\d",
    re.IGNORECASE)
_QUANTIFIED = re.compile(r"\b(?:all|every|any|some|each|both|many|much|always|ever|yet)\b",
                         re.IGNORECASE)


def denies_near(window_text: str, sentences: Sequence[str],
                evidence_keys: AbstractSet[str]) -> bool:
    """Whether the window's one negated clause denies the word a clause of ``sentences`` (the
    evidence sentences near it) asserts beside the same words, of the same thing, and no clause
    of them that negates or bounds that word is as close (see the module docstring).
    ``evidence_keys``: the term keys of all the evidence."""
    if negations(window_text) != 1 or is_question(window_text):
        return False
    said = plain(window_text)
    if _REACH.search(said) or _ABSTAIN.search(said):
        return False
    negated = [c for c in clauses(window_text) if negations(c)]
    if len(negated) != 1:
        return False
    clause = plain(negated[0])
    if _QUANTIFIED.search(clause):
        return False
    heads = negated_heads(clause)
    if not heads:
        return False
    # the clause's other content words, each by its term keys
    words = [keys for w in WORD.findall(clause)
             if (keys := term_keys(w)) and keys.isdisjoint(heads)]
    head_forms = [base_forms(head) for head in heads]
    asserting: list[frozenset[str]] = []
    denying = 0  # the most window words a clause denying or bounding the word shares
    for sentence in sentences:
        for part in clauses(sentence):
            part_keys = term_keys(part)
            if is_question(part) or not _holds(head_forms, part_keys):
                continue
            if negations(part) or _REACH.search(plain(part)):
                denying = max(denying, _shared(words, part_keys))
            else:
                asserting.append(part_keys)
    return any((shared := _shared(words, part_keys)) >= _SHARED and shared > denying
               and not _of_another(words, part_keys, evidence_keys)
               for part_keys in asserting)


def _shared(words: Sequence[frozenset[str]], keys: AbstractSet[str]) -> int:
    """How many of the window clause's words (their term keys each) ``keys`` hold: words, not
    keys, as a time or a sum has several ("9 am": "9", "9:00", "9:00am")."""
    return sum(w <= keys for w in words)


def _of_another(words: Sequence[frozenset[str]], keys: AbstractSet[str],
                evidence_keys: AbstractSet[str]) -> bool:
    """Whether the window clause names, where the asserting clause does not, something the
    evidence names elsewhere: what it denies is of that other thing ("Light fares don't include
    a bag" of "Classic fares include a bag", the evidence naming Light fares too)."""
    return any(not w <= keys and w <= evidence_keys for w in words)


def _holds(head_forms: Sequence[frozenset[str]], keys: frozenset[str]) -> bool:
    """Whether ``keys`` hold every head word (its :func:`base_forms`, read once a window) in
    one of its inflections ("plans", "planned")."""
    forms = {form for key in keys for form in base_forms(key)}
    return all(not head.isdisjoint(forms) for head in head_forms)
