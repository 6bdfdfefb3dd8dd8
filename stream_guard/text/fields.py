"""A field the data answers yes or no, said the other way.

A tool's record states a feature as a field: "Outdoor seating: no." (as
:mod:`stream_guard.evidence.structured` writes ``"outdoor_seating": false``). An answer that says
"Yes, Casa Olivo has outdoor seating" covers every word of it, and the detector reads the field's
bare "no" as no statement at all: the flipped boolean of a blind probe of answers written from
tools' data passed at 0.15 fused support, under no halt rule. "No" and "not" are stopwords to
word coverage, and the polarity check (:mod:`stream_guard.text.polarity`) compares clauses, not a
field's answer with a clause that names the field.

So a window clause that names a field the evidence answers (all of its words, codes and
numbers: "BA117 is delayed" names "BA117 delayed", not "BA1442 delayed"; "wired charging" does
not name "Wireless charging") and says it the other way (negated where the answer is yes, not
negated where it is no) marks the window. Negation is what :mod:`stream_guard.text.polarity`
counts, and the words that deny without "not" ("without", "lacks", "unavailable"). Abstains
where the clause asks, supposes or wants ("if you want outdoor seating", "is there
parking?"), and for a list's bare item, which takes its polarity from the line that leads the
list ("these dishes don't contain dairy:", then "- Crispy calamari"). Pure and cheap: a few
regular expressions over the window and the evidence sentences nearest it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from stream_guard.text.polarity import negated
from stream_guard.text.stance import is_question
from stream_guard.text.terms import term_keys

# "Outdoor seating: no.", "BA117 delayed: yes.", as evidence.structured writes a field: the
# answer in lower case with its full stop. Not a transcript's turn ("GARETH OYELARAN: No.",
# "Anna: No"), whose speaker a summary names as it says what they did.
_ANSWERED = re.compile(r"^(?P<field>[^:\n]{1,80}):\s(?P<answer>yes|no)\.$")
# What names the thing a field belongs to: a code or a number ("BA117", "EV6", "AWD", "db-01"),
# which the clause must name too ("BA1442 delayed: no." says nothing of BA117).
_CODE = re.compile(r"\b(?=[\w-]*\d|(?:[\w-]*[A-Z]){2})[\w-]+")
# Words that deny without "not" or "no".
_DENIES = re.compile(r"\b(?:without|lacks?|lacking|unavailable|none)\b", re.IGNORECASE)
# A clause that states nothing of the field: it supposes, asks or wants it.
_SUPPOSES = re.compile(r"\b(?:if|whether|unless|want\w*|wish\w*|need\w*|looking|ask\w*"
                       r"|check\w*|hope\w*|prefer\w*)\b", re.IGNORECASE)
# A list's item takes its polarity from the line that leads the list ("these dishes don't
# contain dairy:", then "- Crispy calamari").
_LIST_ITEM = re.compile(r"\s*(?:[-*+•]|\d{1,3}[.)])\s")
_CLAUSE_BREAK = re.compile(r"[;:,]\s+|\s+\b(?:but|while|whereas|although|though|yet|and)\b\s+",
                           re.IGNORECASE)


def answers_otherwise(window_text: str, sentences: Iterable[str]) -> bool:
    """Whether a clause of the window names a field one of ``sentences`` answers yes or no,
    and says it the other way (see the module docstring)."""
    fields = [m for s in sentences if (m := _ANSWERED.match(s.strip())) is not None]
    if not fields or is_question(window_text) or _LIST_ITEM.match(window_text):
        return False
    clauses = [(c, term_keys(c)) for c in _CLAUSE_BREAK.split(window_text) if c.strip()]
    for match in fields:
        field = match.group("field")
        if field.isupper():  # a speaker's name in capitals
            continue
        specific = frozenset().union(*(term_keys(token) for token in _CODE.findall(field)))
        common = term_keys(field) - specific
        said_no = match.group("answer") == "no"
        for clause, keys in clauses:
            if not specific <= keys or not common <= keys or _SUPPOSES.search(clause):
                continue
            denied = negated(clause) or _DENIES.search(clause) is not None
            if denied != said_no:
                return True
    return False
