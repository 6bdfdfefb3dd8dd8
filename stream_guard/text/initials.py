"""Initials: a name and the acronym made of its initials are one name.

"The campsite was found in remote WA bushland." against an article that says "Western
Australia", "a property in the UAE" against "the United Arab Emirates", "a nephew of JFK"
against "John F Kennedy": the acronym is no word of the evidence, so word coverage counted it a
new name, and the least supported window of a faithful news summary halted on it. Answers
abbreviate what their sources spell out, and spell out what their sources abbreviate ("the
Food and Drug Administration" for a leaflet's "FDA"), in every domain.

An evidence sentence is indexed (:class:`~stream_guard.evidence.premise.EvidenceSentence`) by
two kinds of keys beside its words, which no word's key can equal:

- ``^`` and the initials of each run of capitalised words it holds (two to six of them, the
  run's connectors "of", "and", "the", "for" and "&" skipped, and "of" also counted:
  "Department of Defense" is "DD" and "DoD"), for an answer's acronym;
- ``^^`` and each acronym it writes (two to six capitals), for an answer that spells one out.

A window's acronym is known where its initials name a run of the evidence
(:func:`initialisms_known`), and the words of a run of its capitalised words are known where
their initials are an acronym the evidence writes. Only an acronym as written (all capitals)
is matched to a run: a word ("war") that happens to spell a run's initials ("Wild Animal
Rescue") is not that run. Nicknames and short forms ("Man Utd", "the Gunners") are not
initials and stay new.

Pure: regular expressions over the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from collections.abc import Set as AbstractSet

from stream_guard.text.terms import STOPWORDS, term_keys

RUN_INITIALS = "^"  # the initials of a run of capitalised words the evidence holds
WRITTEN = "^^"  # an acronym the evidence writes

# A capitalised word, or an initial and its full stop ("John F. Kennedy"): another word's full
# stop ends the run, as it ends the sentence.
_CAPITALISED = r"(?:[A-Z]\.|[A-Z][\w'’-]*)"
_CONNECTORS = ("of", "and", "the", "for", "&")
_NAME_RUN = re.compile(
    rf"(?<![\w'’-]){_CAPITALISED}(?:(?: (?:{'|'.join(_CONNECTORS)}))* {_CAPITALISED})+")
_RUN_WORD = re.compile(rf"{_CAPITALISED}|of\b")
# Two to six capitals, alone or made plural ("ATMs"): not a word in capitals for emphasis,
# which is longer, nor a capital that opens a word.
_ACRONYM = re.compile(r"(?<![\w'’.-])[A-Z]{2,6}(?:s)?(?![\w'’-])")
_MIN, _MAX = 2, 6
_LONGEST_RUN = 12  # words of a run read: a title in capitals is no name to abbreviate


def name_initials(text: str) -> frozenset[str]:
    """The initials keys of an evidence sentence (the module's docstring)."""
    out: set[str] = set()
    for run in _runs(text):
        out.update(RUN_INITIALS + initials for initials in _initials(run))
    for match in _ACRONYM.finditer(text):
        key = _acronym_key(match.group())
        if key not in STOPWORDS:  # "DO NOT" is emphasis, not the initials of "Daniel Ortega"
            out.add(WRITTEN + key)
    return frozenset(out)


def initialisms_known(window_text: str, evidence_keys: AbstractSet[str]) -> frozenset[str]:
    """The keys of the window's terms that the evidence states by initials: its acronyms whose
    initials name a run of capitalised words there, and the words of its runs whose initials
    are an acronym written there. Empty where the evidence holds no initials keys."""
    out: set[str] = set()
    for match in _ACRONYM.finditer(window_text):
        key = _acronym_key(match.group())
        if key not in evidence_keys and RUN_INITIALS + key in evidence_keys:
            out.add(key)
    for run in _runs(window_text):
        for stretch in _stretches(run):
            if any(WRITTEN + i in evidence_keys for i in _whole_run_initials(stretch)):
                out.update(term_keys(" ".join(w for w in stretch if w != "of")))
    return frozenset(out)


def _acronym_key(acronym: str) -> str:
    return (acronym[:-1] if acronym.endswith("s") else acronym).lower()


def _runs(text: str) -> Iterator[list[str]]:
    """Each run of capitalised words, as its capitalised words and its "of"s."""
    for match in _NAME_RUN.finditer(text):
        words = _RUN_WORD.findall(match.group())
        if sum(1 for w in words if w != "of") <= _LONGEST_RUN:
            yield words


def _whole_run_initials(run: list[str]) -> set[str]:
    """The initials of the whole run, without and with its "of"s."""
    caps = "".join(w[0] for w in run if w != "of").lower()
    with_of = "".join(w[0] for w in run).lower()
    return {i for i in (caps, with_of) if _MIN <= len(i) <= _MAX}


def _initials(run: list[str]) -> set[str]:
    """The initials of every stretch of the run, without and with the "of"s inside it ("The
    United Arab Emirates" also gives "UAE")."""
    out: set[str] = set()
    for stretch in _stretches(run):
        out |= _whole_run_initials(stretch)
    return out


def _stretches(run: list[str]) -> Iterator[list[str]]:
    """Every stretch of two to six capitalised words of the run, with the "of"s inside it."""
    caps = [i for i, w in enumerate(run) if w != "of"]
    for a in range(len(caps)):
        for b in range(a + _MIN - 1, min(len(caps), a + _MAX)):
            yield run[caps[a]:caps[b] + 1]
