"""Acronyms an answer writes for words its evidence spells out.

Summaries and answers shorten what their source spells out: "NLI" for "natural language
inference", "the EU" for "the European Union", "DoD" for "the Department of Defense". Read as
a word, such an acronym is a new name the evidence never gives, and a faithful summary of a
paper halted on it (a review's blind probe). An answer's token written in capitals (two to
six letters, a plural "s" allowed) is the evidence's where the initials of a run of its words
spell it:

- three letters or more: a run of content words ("natural language inference"), or of
  capitalised words with "of", "and", "for", "the", "on" or "in" between them, counted or not
  ("Department of Defense": DD or DOD);
- two letters: capitalised words only ("European Union"); two initials of any words are
  too common to say anything ("an important").

Only a token the evidence's terms do not already know is looked up, so an acronym the
evidence writes itself stays its own term, and a wrong one ("the WTO" where the evidence
spells out the World Health Organization) stays new.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet

from stream_guard.text.terms import STOPWORDS, Term

_CAPITALS = re.compile(r"(?<![\w'’-])([A-Z][A-Za-z]{1,5}?)s?(?![\w'’-])")
_WORD = re.compile(r"[^\W\d_][\w'’]*")
# Function words a capitalised name's acronym may take a letter from or skip.
_JOINERS = frozenset({"of", "and", "for", "the", "on", "in"})
_SHORTEST = 2
_LONGEST = 6
_CACHED = 256  # acronyms looked up per evidence: a bound on what one stream can make it keep


def capitalised_tokens(text: str) -> dict[str, str]:
    """The tokens of ``text`` written as acronyms, by their term key: all capitals but for
    one lower-case letter inside ("DoD"), two to six letters, a plural "s" dropped."""
    found: dict[str, str] = {}
    for m in _CAPITALS.finditer(text):
        letters = m.group(1)
        if sum(c.islower() for c in letters) > (1 if len(letters) > 2 else 0):
            continue
        found[letters.lower()] = letters.upper()
    return found


class Initials:
    """The initials of an evidence's sentences, to tell whether a run of its words spells an
    acronym. Built from the sentences' text once, when a window first asks; answers cached."""

    def __init__(self, sentences: Iterable[str]) -> None:
        # per sentence, per word: its initial and its kind (_CAPITAL, _CONTENT, _JOINER, _STOP)
        self._words: list[list[tuple[str, int]]] = []
        for text in sentences:
            words = [(w[0].lower(), _kind(w)) for w in _WORD.findall(text)]
            if len(words) >= _SHORTEST:
                self._words.append(words)
        self._answers: dict[str, bool] = {}

    def spell(self, acronym: str) -> bool:
        """Whether a run of words of one sentence spells ``acronym`` by the rules of the
        module's docstring."""
        answer = self._answers.get(acronym)
        if answer is None:
            letters = acronym.lower()
            answer = any(_capitals_spell(words, i, letters, 0)
                         or (len(letters) >= 3 and _content_spells(words, i, letters))
                         for words in self._words for i in range(len(words)))
            if len(self._answers) >= _CACHED:
                self._answers.clear()
            self._answers[acronym] = answer
        return answer


_CAPITAL, _CONTENT, _JOINER, _STOP = range(4)


def _kind(word: str) -> int:
    lower = word.lower()
    if lower in _JOINERS:
        return _JOINER
    if lower in STOPWORDS:
        return _STOP
    return _CAPITAL if word[0].isupper() else _CONTENT


def _content_spells(words: Sequence[tuple[str, int]], at: int, letters: str) -> bool:
    """Whether the content words from ``at`` on give ``letters``, one letter each."""
    if at + len(letters) > len(words):
        return False
    return all(kind in (_CAPITAL, _CONTENT) and initial == letter
               for (initial, kind), letter in zip(words[at:at + len(letters)], letters,
                                                  strict=False))


def _capitals_spell(words: Sequence[tuple[str, int]], at: int, letters: str,
                    matched: int) -> bool:
    """Whether capitalised words from ``at`` on give ``letters[matched:]``, a joiner between
    two of them giving its letter or none; the first and last letters a capitalised word's."""
    if at >= len(words):
        return False
    initial, kind = words[at]
    if kind == _CAPITAL:
        if initial != letters[matched]:
            return False
        return matched + 1 == len(letters) or _capitals_spell(words, at + 1, letters,
                                                               matched + 1)
    if kind != _JOINER or matched == 0:
        return False
    return ((initial == letters[matched] and matched + 1 < len(letters)
             and _capitals_spell(words, at + 1, letters, matched + 1))
            or _capitals_spell(words, at + 1, letters, matched))


def spelled_out(window: Sequence[Term], text: str, evidence_keys: AbstractSet[str],
                initials: Callable[[], Initials]) -> frozenset[str]:
    """The keys of ``window``'s terms that are acronyms ``text`` writes for words of the
    evidence (``initials`` gives its :class:`Initials`, asked for only where the window
    writes an acronym the evidence's keys do not know as it is)."""
    keys = {t.key for t in window} - evidence_keys
    if not keys:
        return frozenset()
    asked = {key: letters for key, letters in capitalised_tokens(text).items()
             if key in keys and key not in STOPWORDS}
    if not asked:
        return frozenset()
    spelling = initials()
    return frozenset(key for key, letters in asked.items() if spelling.spell(letters))
