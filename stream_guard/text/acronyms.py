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

The run's words also find the window's premise: "EPS rose about 14%" is compared with
"earnings per share came in at $1.87, compared with $1.64", not with the one sentence that
writes "EPS" (a probe's earnings summary halted). An acronym the evidence's terms do not know
as it is counts as the evidence's for the lexical signals; one the evidence writes itself
stays its own term, and a wrong one ("the WTO" where the evidence spells out the World Health
Organization) stays new.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from stream_guard.text.terms import STOPWORDS, Term, terms

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
    """The initials of an evidence's sentences, to find the run of its words an acronym
    spells. Built from the sentences' text once, when a window first asks; answers cached."""

    def __init__(self, sentences: Iterable[str]) -> None:
        # per sentence, per word: its initial, its kind (_CAPITAL, _CONTENT, _JOINER, _STOP)
        # and the word; and where each initial starts a word
        self._words: list[list[tuple[str, int, str]]] = []
        self._starts: dict[str, list[tuple[int, int]]] = {}
        for text in sentences:
            words = [(w[0].lower(), _kind(w), w) for w in _WORD.findall(text)]
            if len(words) < _SHORTEST:
                continue
            for i, (initial, kind, _) in enumerate(words):
                if kind in (_CAPITAL, _CONTENT):
                    self._starts.setdefault(initial, []).append((len(self._words), i))
            self._words.append(words)
        self._answers: dict[str, tuple[Term, ...]] = {}

    def expand(self, acronym: str) -> tuple[Term, ...]:
        """The terms of the first run of words of one sentence that spells ``acronym`` by the
        rules of the module's docstring; none where no run does."""
        answer = self._answers.get(acronym)
        if answer is None:
            answer = ()
            letters = acronym.lower()
            for s, i in self._starts.get(letters[0], ()):
                words = self._words[s]
                end = _capitals_spell(words, i, letters, 0)
                if end < 0 and len(letters) >= 3:
                    end = _content_spells(words, i, letters)
                if end >= 0:
                    answer = tuple(terms(" ".join(w for _, _, w in words[i:end])))
                    break
            if len(self._answers) >= _CACHED:
                self._answers.clear()
            self._answers[acronym] = answer
        return answer


_CAPITAL, _CONTENT, _JOINER, _STOP = range(4)
_Word = tuple[str, int, str]


def _kind(word: str) -> int:
    lower = word.lower()
    if lower in _JOINERS:
        return _JOINER
    if lower in STOPWORDS:
        return _STOP
    return _CAPITAL if word[0].isupper() else _CONTENT


def _content_spells(words: Sequence[_Word], at: int, letters: str) -> int:
    """Where the run ends if the content words from ``at`` on give ``letters``, one letter
    each; else -1."""
    end = at + len(letters)
    if end > len(words) or not all(
            kind in (_CAPITAL, _CONTENT) and initial == letter
            for (initial, kind, _), letter in zip(words[at:end], letters, strict=False)):
        return -1
    return end


def _capitals_spell(words: Sequence[_Word], at: int, letters: str, matched: int) -> int:
    """Where the run ends if capitalised words from ``at`` on give ``letters[matched:]``, a
    joiner between two of them giving its letter or none, the first and last letters a
    capitalised word's; else -1."""
    if at >= len(words):
        return -1
    initial, kind, _ = words[at]
    if kind == _CAPITAL:
        if initial != letters[matched]:
            return -1
        if matched + 1 == len(letters):
            return at + 1
        return _capitals_spell(words, at + 1, letters, matched + 1)
    if kind != _JOINER or matched == 0:
        return -1
    if initial == letters[matched] and matched + 1 < len(letters):
        end = _capitals_spell(words, at + 1, letters, matched + 1)
        if end >= 0:
            return end
    return _capitals_spell(words, at + 1, letters, matched)


def expansions(window: Sequence[Term], text: str, initials: Callable[[], Initials]
               ) -> dict[str, tuple[Term, ...]]:
    """The acronyms of ``text`` (by their keys among ``window``'s terms) that a run of the
    evidence's words spells out (``initials`` gives its :class:`Initials`, asked for only
    where the window writes an acronym at all), each with the run's terms."""
    keys = {t.key for t in window}
    asked = {key: letters for key, letters in capitalised_tokens(text).items()
             if key in keys and key not in STOPWORDS}
    if not asked:
        return {}
    spelling = initials()
    return {key: found for key, letters in asked.items() if (found := spelling.expand(letters))}
