"""Swaps beside the same words: a paraphrase that puts another figure, or an opposite, where a
sentence of its source has one.

"The mine, shut by a strike for eight months, reopened in 2014" against "The mine reopened in
2016 after a strike closed it for eight months"; "the company expects its revenue forecast for
2026 to remain in the range of $2.4 billion to $2.6 billion" against "our revenue forecast for
2025 remains in the range of ..."; "net orders decreased 31% from a year earlier" against "Net
orders increased 31% year over year". Summaries reword their source, so the word-by-word
alignment of :mod:`stream_guard.text.opposites` finds no copy to compare, and the detector,
which reads one changed figure or word in a paraphrase as one more detail, passes many of them
(edited summaries of SummEdits it passed: ``docs/quality-log.md``, the forty-ninth session).
Yet the window says of the same thing, in the same words around it, what the sentence says
otherwise.

So a window is marked when one of its words or figures, stated nowhere in the evidence, stands
where an evidence sentence near it (:attr:`~stream_guard.evidence.premise.Premise.nearest`)
has another that excludes it (for a word, :func:`stream_guard.text.opposites.excludes`: an
opposite, another of a closed class; or a place apart from it,
:func:`~stream_guard.text.places.other_places`: "launching in France on Wednesday" of
"launching in Italy on Wednesday", which the places check leaves alone where the evidence
also names a place its table does not list; or another name in the very frame of the
sentence's, the same word before and after both: "agreed with Embraer to accelerate" of
"agreed with Boeing to accelerate", :func:`_names_apart`; for a figure, another of the same
kind: a year for a year, money for money, a percentage, a quarter, a count), the window
leaving the sentence's out, and:

* the nearest content word before it, or after it, is the same on both sides ("forecast for
  2022" and "forecast for 2021"; "orders decreased" and "orders increased");
* the window shares at least ``_SHARED`` content words with the sentence; where only the word
  after places it, the two clauses share ``_SHARED_IN_CLAUSE`` more besides: a long window may
  copy one part of a sentence and say another thing beside a common word ("won the second
  half 21-7" by "tries in the first half"; "installation finished by mid-June" by "the
  season starts in mid-June");
* neither is a question or a label and its value (a table row's "Produced: 812 kWh" names no
  figure of the window's);
* for a word: neither compares ("than", "versus": "B is smaller than A" states "A is larger
  than B"), the two hold as many negations, the sentence no word that negates without one
  ("struggled to keep track", "kept losing track"), the two words do not open alike
  ("employees", "employs"), and they are not one event told from its two sides ("sold ...
  to" for "bought ... from", "imports" for "exports");
* for a figure (numbers in words too): not a part of a date, time or code ("12/03", "9:30",
  "CS 301"), nor a difference ("$30 more than the buffet"), nor one worked out of two of the
  sentence's figures ("rose $10" of "from $40 to $50", "for four people" of "two adults and
  two children", "$50 per guest" of "$400 ... for eight guests"), nor hedged ("around
  $95,000": a hedge the quantity reader does not resolve to a figure it rounds states none);
  none of a window that works figures out or addresses its reader ("your 50% discount brings
  it to £26", "that's $3,700", "half price, so £11": answers compute, summaries rarely do);
  not inside a range or within a bound a near sentence gives of the same thing ("aged 8" of
  "aged 6 to 12", "version 4.3" of "4.2 or later"), unless the window states a range with it
  ("$1.30 to $1.38" for "$1.30 to $1.40"); not the sentence's figure in basis points or
  percentage points (x100).

The fused score then treats the window as contradicted, as an opposite's copy is
(:func:`stream_guard.scoring.fusion.capped`).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from functools import lru_cache

from stream_guard.text import places
from stream_guard.text.figures import _MONTH_NUMBER, _ZONES, canonical_figures, spell_out_numbers
from stream_guard.text.holidays import holiday_keys
from stream_guard.text.opposites import COMPARES, NEGATING, base_forms, excludes
from stream_guard.text.polarity import negations
from stream_guard.text.quantities import _YEAR
from stream_guard.text.stance import is_question
from stream_guard.text.terms import STOPWORDS, known, place_forms, term_keys

# A figure (money, a percentage, a plain number) standing alone, a word, or any other mark.
# (A run of letters and digits that opens with a digit, "1990s", "4th", "10am", is no figure.)
_TOKEN = re.compile(r"(?<![\w.])[$£€¥]?\d(?:[\d,]*\d)?(?:\.\d+)?%?(?!\w|[.,]\d)|\d[\w.,'’-]*"
                    r"|[^\W\d_][\w'’-]*|\S")
_FIGURE = re.compile(r"[$£€¥]?\d[\d,]*(?:\.\d+)?%?")
_CURRENCY_WORDS = frozenset(("dollars", "dollar", "euros", "euro", "pounds", "cents", "yen",
                             "usd", "eur", "gbp"))
# A quarter of a year, as figures write "third quarter" ("Q3"): a figure of its own kind.
_QUARTERS = re.compile(r"q[1-4]")
_QUARTER = "quarter"
# Marks that join a figure to the next into a date, a time or a code ("12/03", "9:30"); ISO
# dates are read as dates already ("20 May 2024": a day beside its month is no count either).
_JOINERS = frozenset("/:.#")
# A capitalised code before a figure makes it a name's number ("CS 301", "MAX 9").
_CODE = re.compile(r"[A-Z]{1,4}")
# The window works a figure out, or addresses the reader (who the answer computes for).
_WORKED = re.compile(r"\b(?:you|your|yours|you'd|half|halve[ds]?|twice|double[ds]?|triple[ds]?"
                     r"|discount(?:s|ed)?|total(?:s|led|ling)?|that's|that is|comes? to"
                     r"|brings?|works? out|in all|altogether|would)\b", re.IGNORECASE)
# A label and its value closing a sentence: a row of a table read as text.
_ROW = re.compile(r":\s*[$£€¥]?\d[\d.,]*\s*\S*\s*$")
# Words a range's two ends are joined by; words that bound a figure from below and above.
_RANGE_JOINERS = frozenset(("to", "-", "–", "—", "through"))
_AT_LEAST = frozenset(("over", "least", "more", "above", "minimum", "exceeding", "beyond"))
_AFTER_AT_LEAST = frozenset(("over", "more", "above", "+", "plus", "older", "upwards", "later",
                             "newer", "higher"))
_AT_MOST = frozenset(("under", "below", "most", "less", "fewer", "up", "maximum", "max"))
_AFTER_AT_MOST = frozenset(("under", "less", "fewer", "below", "younger", "earlier",
                            "lower"))
# Words that hedge a figure after them.
_HEDGES = frozenset(("about", "around", "roughly", "approximately", "approx", "nearly", "almost",
                     "some", "perhaps", "maybe", "estimated", "~", "circa", "ca"))
# Words beyond "not" that negate what follows ("struggled to keep track": "kept losing").
_ALSO_NEGATING = frozenset(("struggle", "struggles", "struggled", "struggling", "hard",
                            "difficult", "difficulty", "without"))
# A range's ends are at most this many tokens apart ("$1.30 to $1.40"); a bound's word at most
# this many from its figure ("more than 50", "12 years and over").
_RANGE_TOKENS = 3
_BOUND_TOKENS = 3
# A "than" at most this many tokens after a figure makes it a difference ("$30 per person more
# than").
_DIFFERENCE_TOKENS = 4
# The window and the sentence share at least this many content words; where only the word
# after a swap places it, the clauses of the two tokens this many more (a long window may copy
# one part of a sentence and say another thing beside the same common word: "won the second
# half 21-7" by "tries in the first half").
_SHARED = 3
_SHARED_IN_CLAUSE = 2
# Two words that open alike are forms of one word, whatever WordNet opposes in their senses
# ("employees" and "employs": employee and employer).
_STEM = 5
# Verbs that say one event from its two sides.
_CONVERSES = frozenset(frozenset(p.split()) for p in (
    "buy sell", "import export", "lend borrow", "give receive", "send receive", "win lose",
    "beat lose", "teach learn", "rent let", "hire lease"))
# What a name may be: written capitalised, or in capitals (what opens a sentence, a quotation
# or a list's item is no name: _name_kind). Titles, offices and the roles a contract defines
# are no names either: they say a person's place, not who ("Foreign Minister" for "Foreign
# Secretary", "the Pontiff" for "Pope Francis", "the Renter" for "the Tenant").
_NAME, _ACRONYM = "name", "acronym"
_TITLES = frozenset(word for line in (
    "mr mrs ms miss mx dr prof sir dame lord lady st rev fr sgt cpl lt col gen capt cllr",
    "president vice chancellor premier minister secretary governor senator congressman",
    "congresswoman representative mayor chairman chairwoman chair chief ceo cfo coo cto",
    "director manager coach pope pontiff cardinal bishop archbishop father sister brother",
    "rabbi imam king queen prince princess duke duchess emperor general colonel captain",
    "sergeant corporal lieutenant private major admiral commander officer constable",
    "inspector superintendent detective judge justice magistrate councillor commissioner",
    "ambassador professor doctor nurse tenant landlord renter lessee lessor buyer seller",
    "purchaser vendor supplier customer client contractor subcontractor employer employee",
    "licensee licensor borrower lender guarantor owner provider party parties",
) for word in line.split())
# Two names this alike are one spelt two ways ("Chertsey", "Churtsey"; difflib's ratio).
_SPELLINGS = 0.75
# Transliterations' letters for one sound (:func:`_skeleton`), and the shortest skeleton read.
_SOUNDS = str.maketrans("qcgz", "kkks")
_SKELETON_MIN = 3
# Given names and their common short forms, which no spelling rule finds.
_NICKNAMES = frozenset(frozenset(pair.split()) for pair in (
    "william bill", "william will", "william billy", "robert bob", "robert bobby",
    "robert rob", "richard dick", "richard rick", "elizabeth liz", "elizabeth beth",
    "elizabeth betty", "margaret peggy", "margaret maggie", "margaret meg", "james jim",
    "james jimmy", "michael mike", "edward ted", "edward ned", "charles chuck", "anthony tony",
    "joseph joe", "john jack", "henry harry", "katherine kate", "catherine kate",
    "patricia patty", "patrick pat", "thomas tom", "christopher chris", "nicholas nick",
    "alexander alex", "alexander sasha", "jennifer jen", "susan sue", "deborah debbie",
    "rebecca becky", "daniel dan", "benjamin ben", "samuel sam", "matthew matt",
    "andrew andy", "steven steve", "stephen steve", "lawrence larry", "theodore teddy",
    "francis frank", "frederick fred", "gerald jerry", "jacob jake", "leonard leo"))
# Codes of one time zone, era or currency ("UTC" for "GMT", "CE" for "AD", "RMB" for "CNY"):
# other codes of a kind are apart ("PT" for "ET").
# (America's zones as the clock's reading writes them, text.figures._ZONES, and the rest.)
_SAME_CODES = (
    *(frozenset(code for code, zone in _ZONES.items() if zone == one)
      for one in set(_ZONES.values())),
    *(frozenset(group.split()) for group in (
        "gmt utc z wet", "mt mst mdt", "cet cest", "eet eest", "aest aedt", "ad ce", "bc bce",
        "cny rmb")))
# At most this many of a sentence's figures are combined (:func:`_derived`).
_DERIVED_FIGURES = 12
# What ends a clause.
_CLAUSE_BREAKS = frozenset((",", ";", ":", "(", ")", "—", "–", "but", "while", "whereas",
                            "although", "though", "yet"))
# The window's and the sentence's tokens are read only this far: a table's row or a transcript
# without stops says no one thing.
_MAX_TOKENS = 120


@dataclass(frozen=True, slots=True)
class _Token:
    at: int
    text: str  # lower case
    figure: str  # the figure's kind ("year", "money", "%", "quarter", "count"), or "" for a word
    value: Decimal | None
    before: frozenset[str]  # term keys of the nearest content word before it
    after: frozenset[str]  # ... and after it
    marks: frozenset[str]  # what the words beside it make of it (_marks: a range's end, bounded,
    # hedged)
    clause: frozenset[str]  # term keys of the content words of its clause
    name: str = ""  # a word written as a name inside a sentence: _NAME or _ACRONYM
    # ... and the content words beside the run of names it stands in ("Tim Cook", "the James
    # Webb Space Telescope"), for a name's frame
    run_before: frozenset[str] = frozenset()
    run_after: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class _Reading:
    tokens: tuple[_Token, ...]
    words: frozenset[str]  # every token, lower case
    keys: frozenset[str]  # term keys of its content words (no figures)
    negations: int
    negates_otherwise: bool
    compares: bool  # it sets two things against each other (for words only: a figure
    # compared is a figure stated)
    differences: frozenset[int]  # positions of figures a comparison follows ("18 basis points
    # smaller than", "$30 more than"): a difference worked out


def swapped_beside(window_text: str, sentences: Sequence[str],
                   evidence_keys: AbstractSet[str]) -> bool:
    """Whether the window puts a figure or word the evidence does not state where one of
    ``sentences`` has another that excludes it, beside the same words (module docstring).
    ``window_text``: the window as the quantity checks read it (worked-out and hedged figures
    resolved)."""
    if is_question(window_text):
        return False
    window = _reading(window_text)
    if window is None:
        return False
    worked = _WORKED.search(window_text) is not None
    unstated = [t for t in window.tokens if _unstated(t, evidence_keys, worked)]
    if not unstated:
        return False
    readings = [r for s in dict.fromkeys(sentences)
                if not is_question(s) and "\n" not in s.strip() and not _ROW.search(s)
                and (r := _sentence_reading(s)) is not None]
    own_ranges = _range_ends(window.tokens)
    for token in unstated:
        if token.figure and (token.at in window.differences or _HEDGED in token.marks or (
                token.at not in own_ranges and any(_fits(token, r.tokens) for r in readings))):
            continue
        for sentence in readings:
            if len(window.keys & sentence.keys) < _SHARED or token.text in sentence.words:
                continue
            if not token.figure and (sentence.negates_otherwise or sentence.compares
                                     or window.compares
                                     or sentence.negations != window.negations):
                continue
            if token.figure and _derived(token, sentence.tokens):
                continue
            if any(_replaces(token, other, window) for other in sentence.tokens):
                return True
    return False


def _unstated(token: _Token, evidence_keys: AbstractSet[str], worked: bool) -> bool:
    """A token the evidence states nowhere, of a kind the check judges."""
    if token.figure and (worked or token.value is None):
        return False
    keys = term_keys(token.text)
    if token.figure and token.figure != _QUARTER:
        # the figure's own key: "$90" is also "dollar", which the evidence may well say
        keys = frozenset(k for k in keys if k[:1].isdigit())
    return bool(keys) and not any(known(k, evidence_keys) for k in keys)


def _replaces(new: _Token, old: _Token, window: _Reading) -> bool:
    """Whether ``old`` of a sentence is what ``new`` of the window stands in place of and
    excludes."""
    if old.text in window.words or not (new.before & old.before or new.after & old.after):
        return False
    # placed by the word after it alone, the clauses share more words besides that one
    after = new.after & old.after
    if not new.before & old.before and len((new.clause & old.clause) - after) < _SHARED_IN_CLAUSE:
        return False
    if new.figure:
        if old.figure != new.figure or old.value is None or new.value is None \
                or old.value == new.value:
            return False
        return old.value * 100 != new.value and new.value * 100 != old.value
    return not old.figure and (_places_apart(new.text, old.text) or _names_apart(new, old) or (
        new.text[:_STEM] != old.text[:_STEM] and not _converse(new.text, old.text)
        and excludes(new.text, old.text)))


def _names_apart(new: _Token, old: _Token) -> bool:
    """Whether the window's name stands for another of the sentence's in the same frame: the
    same content word before both and after both ("agreed with Embraer to accelerate" of
    "agreed with Boeing to accelerate"; "the James Gunn Space Telescope"), or before and after
    the runs of names they stand in ("chief executive Satya Nadella said" of "chief executive
    Tim Cook said"). Not one name written otherwise (an adversarial review's faithful
    answers, ``docs/results/names-review-52.jsonl``): a name and its acronym ("EU" for "European":
    both must be acronyms or neither; acronyms apart in any letter, "NOAA" for "NASA"), a
    prefix ("Fed"), a spelling or a transliteration ("Zelenskyy", "Ōtani", "Muhammad" for
    "Mohamed"), an abbreviation ("Sgt", "Ltd", "PwC"), a nickname ("Bill" for "William"), one
    time zone, era or currency under two codes ("UTC" for "GMT", "CE" for "AD"); not a place
    (the places check judges those, knowing "Kiev" is "Kyiv"), a date ("Halloween" for
    "October 31"), nor a people's name for its country's ("American" for "United States";
    two peoples' names are apart: "Peruvian" for "Colombian")."""
    if not new.name or new.name != old.name:
        return False
    if not (_beside(new.before, old.before) and _beside(new.after, old.after)) and not (
            _beside(new.run_before, old.run_before) and _beside(new.run_after, old.run_after)):
        return False
    a, b = _fold(new.text), _fold(old.text)
    if a.startswith(b) or b.startswith(a) or _letters(a) == _letters(b):
        return False
    if new.name == _NAME and (SequenceMatcher(None, a, b).ratio() >= _SPELLINGS
                              or _abbreviates(a, b) or _skeleton(a) == _skeleton(b)
                              or frozenset((a, b)) in _NICKNAMES):
        return False
    if any(a in same and b in same for same in _SAME_CODES):
        return False
    if any(places.is_place(w) or w in places.CALENDAR_WORDS or holiday_keys(w) for w in (a, b)):
        return False
    return bool(place_forms(a)) == bool(place_forms(b))


def _fold(word: str) -> str:
    """``word`` without its accents ("Ōtani" is "Otani")."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def _abbreviates(a: str, b: str) -> bool:
    """Whether one word's letters are the other's in order, from the same first letter ("sgt"
    of "sergeant", "pwc" of "pricewaterhousecoopers", "kate" of "katherine")."""
    short, long = sorted((_letters(a), _letters(b)), key=len)
    if not short or short[0] != long[0]:
        return False
    rest = iter(long)
    return all(c in rest for c in short)


def _skeleton(word: str) -> str:
    """A name's consonants as transliterations share them: "mhmd" of "Muhammad" and
    "Mohamed", "vldmr" of "Volodymyr" and "Vladimir", "kdf" of "Qadhafi" and "Gaddafi" (vowels,
    an "h" after a consonant and doubled letters dropped; q, c, g one letter). Too short a
    skeleton says nothing: the word itself."""
    out: list[str] = []
    after_vowel = True
    for c in _letters(word).translate(_SOUNDS):
        if c in "aeiouyw" or (out and out[-1] == c) or (c == "h" and out and not after_vowel):
            after_vowel = c in "aeiouyw"
            continue
        after_vowel = False
        out.append(c)
    key = "".join(out)
    return key if len(key) >= _SKELETON_MIN else word


def _letters(word: str) -> str:
    return "".join(c for c in word if c.isalnum())


def _beside(new: frozenset[str], old: frozenset[str]) -> bool:
    """The same content word on one side of both, or none beside either."""
    return bool(new & old) or not (new or old)


def _name_kind(raw: Sequence[str], i: int) -> str:
    """Whether the token at ``i`` is written as a name: capitalised ("Boeing", "McKinsey") or
    an acronym ("ATS"), after a word, a figure, "," or "&" (a capital that opens a sentence, a
    quotation or a list's item, "1) Rates", "✅ Officials", names nothing; "p.m." is no
    sentence's end), nor a title ("Mr")."""
    token = raw[i]
    if not token[:1].isupper() or i == 0:
        return ""
    before = raw[i - 1]
    if not (before[:1].isalnum() or before in ",&"
            or (before == "." and i > 1 and len(raw[i - 2]) == 1 and raw[i - 2].isalpha())):
        return ""
    if token.lower().rstrip(".") in _TITLES:
        return ""
    letters = token.replace("'", "").replace("’", "").replace("-", "")
    stem = letters.removesuffix("s")  # "ATMs" is "ATM"'s plural
    if len(stem) > 1 and stem.isupper():
        return _ACRONYM
    return _NAME


def _shouting(raw: Sequence[str]) -> bool:
    """Whether a text is written in capitals, or capitalises nearly every word (a headline:
    "Boeing Hastens Copa Deliveries"): its capitals name nothing."""
    words = [t for t in raw[1:] if t[:1].isalpha()]
    long = [t for t in words if len(t) > 3]
    return (len(long) >= 3 and sum(t.isupper() for t in long) >= 0.6 * len(long)) or (
        len(words) >= 3 and sum(t[:1].isupper() for t in words) >= 0.8 * len(words))


def _places_apart(a: str, b: str) -> bool:
    """Whether two words name places apart (:func:`~stream_guard.text.places.other_places`),
    neither a common word too ("china", "turkey": the token's case is not kept)."""
    return (places.other_places(a, b) and not places.needs_capital(a)
            and not places.needs_capital(b))


def _converse(a: str, b: str) -> bool:
    """Whether two words say one event from its two sides ("sold ... to" is "bought ...
    from"): a rewording may name the parties the other way round."""
    return any(frozenset((x, y)) in _CONVERSES for x in base_forms(a) for y in base_forms(b))


def _derived(token: _Token, tokens: Sequence[_Token]) -> bool:
    """Whether a figure is worked out of two of a sentence's figures (a sum, a difference, a
    product, a quotient, a percentage's complement), to its own last digit: "rose $10" of
    "rose from $40 to $50", "for four people" of "two adults and two children", "$50 per guest"
    of "$400 ... for eight guests", "30% against" of "70% for"."""
    assert token.value is not None
    value = token.value
    exponent = value.as_tuple().exponent
    slack = Decimal(5).scaleb(min(exponent, 0) - 1 if isinstance(exponent, int) else -1)
    figures = [t.value for t in tokens if t.figure and t.value is not None][:_DERIVED_FIGURES]
    if token.figure == "%" and any(abs(100 - f - value) <= slack for f in figures):
        return True
    for i, a in enumerate(figures):
        for b in figures[i + 1:]:
            results = [a + b, abs(a - b), a * b]
            results += [x / y for x, y in ((a, b), (b, a)) if y]
            if any(abs(r - value) <= slack for r in results):
                return True
    return False


def _fits(token: _Token, tokens: Sequence[_Token]) -> bool:
    """Whether a figure lies inside a range, or within a bound, that a sentence (its
    ``tokens``) gives of its kind and of the same thing (a content word beside both)."""
    assert token.value is not None
    same = [f for f in tokens if f.figure == token.figure and f.value is not None]
    for low, high in itertools.pairwise(same):
        assert low.value is not None and high.value is not None
        if (_ranged(low, high) and low.value <= token.value <= high.value
                and (token.before & low.before or token.after & high.after)):
            return True
    for f in same:
        assert f.value is not None
        if not (token.before & f.before or token.after & f.after):
            continue
        if f.marks & _AT_LEAST_MARKS and token.value >= f.value:
            return True
        if f.marks & _AT_MOST_MARKS and token.value <= f.value:
            return True
    return False


def _ranged(low: _Token, high: _Token) -> bool:
    """Whether two figures are the ends of one range ("$1.30 to $1.40", "6-12")."""
    return (0 < high.at - low.at <= _RANGE_TOKENS
            and _RANGE_MARK in low.marks and _RANGE_MARK in high.marks)


def _range_ends(tokens: Sequence[_Token]) -> frozenset[int]:
    """The positions of figures that end a range the text states ("$1.30 to $1.38")."""
    figures = [t for t in tokens if t.figure]
    ends: set[int] = set()
    for low, high in itertools.pairwise(figures):
        if _ranged(low, high):
            ends.update((low.at, high.at))
    return frozenset(ends)


def _reading(text: str) -> _Reading | None:
    """A text's tokens with their kinds and neighbours (None: too long to read)."""
    raw = _TOKEN.findall(canonical_figures(spell_out_numbers(text)))
    if len(raw) > _MAX_TOKENS:
        return None
    low = [t.lower() for t in raw]
    content = [i for i, t in enumerate(low) if _is_word(t) and t not in STOPWORDS]
    content_keys = {i: term_keys(low[i]) for i in content}
    clause_of: list[int] = []
    clauses: list[frozenset[str]] = [frozenset()]
    for i, token in enumerate(low):
        if token in _CLAUSE_BREAKS:
            clauses.append(frozenset())
        clause_of.append(len(clauses) - 1)
        clauses[-1] = clauses[-1] | content_keys.get(i, frozenset())
    tokens: list[_Token] = []
    figures = {i for i, t in enumerate(low)
               if _FIGURE.fullmatch(t) is not None or _QUARTERS.fullmatch(t) is not None}
    names = {} if _shouting(raw) else {
        i: kind for i in content if i not in figures and (kind := _name_kind(raw, i))}
    first = last = -1  # the run of names at i
    for i, token in enumerate(low):
        is_figure = i in figures
        if not is_figure and not content_keys.get(i):
            continue
        if is_figure and _coded(raw, low, i):
            continue
        before, after = _beside_span(content, content_keys, i, i)
        kind, value = _kind(low, i) if is_figure else ("", None)
        run_before, run_after = before, after
        if i in names:
            if i > last:
                first = last = i
                while last + 1 in names:
                    last += 1
            run_before, run_after = _beside_span(content, content_keys, first, last)
        tokens.append(_Token(i, token, kind, value, before, after, _marks(low, i),
                             clauses[clause_of[i]], names.get(i, ""), run_before, run_after))
    words = frozenset(low)
    return _Reading(tuple(tokens), words,
                    frozenset(k for i in content for k in content_keys[i]),
                    negations(text), not words.isdisjoint(NEGATING | _ALSO_NEGATING),
                    COMPARES.search(text) is not None,
                    frozenset(t.at for t in tokens if t.figure
                              and "than" in low[t.at + 1:t.at + 1 + _DIFFERENCE_TOKENS]))


# An evidence sentence's reading, kept: sentences recur from window to window (a window's own
# text does not, and is read uncached so as not to push them out).
_sentence_reading = lru_cache(maxsize=4096)(_reading)


def _beside_span(content: Sequence[int], content_keys: dict[int, frozenset[str]], first: int,
                 last: int) -> tuple[frozenset[str], frozenset[str]]:
    """The term keys of the nearest content word before token ``first`` and after token
    ``last`` (none: empty): a token's neighbours, or a run of names'."""
    return (next((content_keys[j] for j in reversed(content) if j < first), frozenset()),
            next((content_keys[j] for j in content if j > last), frozenset()))


def _is_word(token: str) -> bool:
    return token[:1].isalpha()


# What a figure's marks say: it ends a range; it is bounded from below; from above.
_RANGE_MARK, _AT_LEAST_MARK, _AT_MOST_MARK, _HEDGED = "range", "at least", "at most", "hedged"
_AT_LEAST_MARKS = frozenset((_AT_LEAST_MARK,))
_AT_MOST_MARKS = frozenset((_AT_MOST_MARK,))


def _marks(low: Sequence[str], i: int) -> frozenset[str]:
    """Whether the figure at ``i`` ends a range (a joiner beside it: :func:`_ranged` pairs the
    ends) or is bounded ("at least 21", "8 or over", "up to 40")."""
    def at(j: int) -> str:
        return low[j] if 0 <= j < len(low) else ""

    marks = set()
    if (at(i - 1) in _RANGE_JOINERS or at(i + 1) in _RANGE_JOINERS
            or (at(i - 1) == "between" and at(i + 1) == "and")
            or (at(i - 1) == "and" and at(i - 3) == "between")):
        marks.add(_RANGE_MARK)
    before = {at(i - k) for k in range(1, _BOUND_TOKENS + 1)}
    after = {at(i + k) for k in range(1, _BOUND_TOKENS + 1)}
    if not before.isdisjoint(_AT_LEAST) or not after.isdisjoint(_AFTER_AT_LEAST):
        marks.add(_AT_LEAST_MARK)
    if not before.isdisjoint(_AT_MOST) or not after.isdisjoint(_AFTER_AT_MOST):
        marks.add(_AT_MOST_MARK)
    if not before.isdisjoint(_HEDGES):
        marks.add(_HEDGED)
    return frozenset(marks)


def _coded(raw: Sequence[str], low: Sequence[str], i: int) -> bool:
    """Whether the figure at ``i`` is part of a date, time, code or version, or a date's day."""
    before = raw[i - 1] if i > 0 else ""
    after = raw[i + 1] if i + 1 < len(raw) else ""
    return ((before in _JOINERS and i > 1 and raw[i - 2][:1].isdigit())
            or (after in _JOINERS and i + 2 < len(raw) and raw[i + 2][:1].isdigit())
            or _CODE.fullmatch(before) is not None
            or (not _YEAR.fullmatch(low[i]) and (before.lower() in _MONTH_NUMBER
                                                 or after.lower() in _MONTH_NUMBER)))


def _kind(low: Sequence[str], i: int) -> tuple[str, Decimal | None]:
    """A figure's kind and value."""
    token = low[i]
    if _QUARTERS.fullmatch(token):
        return _QUARTER, Decimal(token[1])
    digits = token.strip("$£€¥%").replace(",", "")
    try:
        value: Decimal | None = Decimal(digits)
    except InvalidOperation:
        value = None
    if token.endswith("%"):
        return "%", value
    if token[0] in "$£€¥" or (i + 1 < len(low) and low[i + 1] in _CURRENCY_WORDS):
        return "money", value
    if _YEAR.fullmatch(digits):
        return "year", value
    return "count", value
