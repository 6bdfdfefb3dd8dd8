"""Whether a sentence is about the conversation rather than the world: its speaker, its listener.

Evidence can attest what a document says; it cannot attest what the speaker likes, did or
believes ("My favorite color is green", "I've been to Iowa"), and a question put to the
listener ("Have you ever tried cod liver oil?") states nothing it could attest.
Knowledge-grounded dialogue benchmarks count both as not attributable to the knowledge (BEGIN,
FaithDial's "personal experience"), and on BEGIN's tune half they are most of the difference
between the grounded answers and the rest: 6 of 153 windows of fully attributable answers speak
of their speaker or ask their listener, against 283 of 544 windows of the others. Word coverage
cannot see it (the rest of such a window is often copied from the knowledge), so the fusion gets
both as signals and learns their weight.

Only the first person *singular* counts: "we" is a company's or a meeting's voice in the
summaries the guard also checks ("we expect revenue to grow"), and there it states facts the
evidence can attest. Only a question with "you" in it counts: a summary's rhetorical question
("How can we build agents that solve social dilemmas?") restates its source, and a statement to
the listener ("you can reset it from the menu") is attested by a manual.
"""

from __future__ import annotations

import re

# I, me, my, myself, in any case; "I'm", "I 've" (tokenised dialogue) match by their "I". Not
# "mine": news has more mines than possessions. Nor a hyphenated name ("I-95"), nor "i.e.".
_FIRST_PERSON = re.compile(r"\b(?:i|me|my|myself)\b(?![-.]\w)", re.IGNORECASE)
# A Roman numeral after a name ("World War I.", "Elizabeth I,") ends a phrase: not the speaker.
_NUMERAL_I = re.compile(r"[A-Z][a-z]+ I(?=\s*(?:[,.;:)!?]|$))")
_SECOND_PERSON = re.compile(r"\b(?:you|your|yours|yourself|yourselves)\b", re.IGNORECASE)
# Closing quotes and brackets a question mark may hide behind.
_CLOSERS = "\"')]}»”’ \t\r\n"


def speaks_of_self(text: str) -> bool:
    """Whether the text speaks of its speaker (a first-person singular pronoun)."""
    hits = sum(1 for _ in _FIRST_PERSON.finditer(text))
    return hits > 0 and hits > sum(1 for _ in _NUMERAL_I.finditer(text))


def is_question(text: str) -> bool:
    """Whether the text ends in a question mark."""
    return text.rstrip(_CLOSERS).endswith("?")


def asks_listener(text: str) -> bool:
    """Whether the text is a question put to its listener ("you")."""
    return is_question(text) and _SECOND_PERSON.search(text) is not None
