"""Direction: whether a claim has a figure move the other way from the evidence.

"Adjusted earnings per share decreased by 17%" against "Adjusted earnings per share was $0.34,
up 17% from $0.29": the figure is the evidence's, so the quantity check
(:func:`~stream_guard.text.quantities.quantity_conflict`) finds nothing changed; word coverage
misses one word in ten; the cross-encoder does not compare directions; and the sentences are too far
apart for the opposites check (:mod:`stream_guard.text.opposites`) to align. Yet the claim
reverses the source (SummEdits' earnings-call summaries are edited this way often). So the
evidence's changes are indexed once, as the figures it says rose and those it says fell, and a
window is marked when it says a figure moved one way that the evidence says moved only the
other.

Only a figure that is the amount of a change counts, in three shapes: a verb of change and its
amount ("rose 17%", "was up by $5 million", "rose slightly, by 3%", "widened 120 basis
points"), the amount before a noun of change ("a 70% increase", "a $3 million cut") and the
noun with "of" ("a decline of 12%"). A level is no change: "rose to 17%", "fell from 20%", "up
to 40%" (a limit) and "more than 300" (a comparison) are left alone, as are "higher" and
"lower", whose subject and object a summary may swap ("X was 5% lower than Y" for "Y was 5%
higher than X"). A figure the evidence says moved both ways (two measures each rose or fell
5%) or none is no conflict, nor is a change after a negation ("did not fall 5%").

Where the evidence also writes the figure outside the changes read ("shed 4%", "closed 4%
lower", "make up 40%"), it may state the window's change in words not read here, so the check
abstains; as it does where a sentence sets one thing against its complement ("the euro rose 1%
against the dollar", "churn dropped 3 points", "the net loss widened") or undoes a change
("gave up those gains", "reversing January's rise"), and for "improvement" (of a loss, a fall),
negative growth, a phrasal "make up", and a bare number before a span of time ("over 15
years"). A review wrote 103 faithful answers to trip the check; none is marked
(``tests/data/direction_negation_review.jsonl``).

Levels count in one shape: the two a verb of change goes from and to. "Hospitalisations rose
from 211 to 263" against "dropped to 211 from 263" has both figures right and the change
reversed. A span is no change ("stretched from 8,000 to 5,000 BC" may be written "from 5,000
to 8,000 years ago"), nor are two years. Pure and cheap: a few regular expressions per window.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from stream_guard.text.figures import has_digit

# The keys of a quantity index (:func:`~stream_guard.text.quantities.quantity_index`) under which
# the figures its text says rose, and those it says fell, are kept.
ROSE, FELL = "@rose", "@fell"
# ... under which the figures it says something went from and to, as "from>to" ...
FROM_TO = "@from-to"
# ... and under which the numbers it writes outside any change read (plain values: "17"): a
# figure the evidence also writes otherwise ("shed 4%", "4% lower", "make up 40%") may be
# stated there the window's way, in words this module does not read.
UNPLACED = "@unplaced"

_UP_VERBS = ("increase|increased|increases|increasing|rise|rises|rose|risen|rising|grow|grows"
             "|grew|grown|growing|gain|gained|gains|gaining|jump|jumped|jumps|climb|climbed"
             "|climbs|surge|surged|surges|soar|soared|soars|up|advanced|rallied|widen|widened"
             "|widens|widening|expanded|added|hiked")
_DOWN_VERBS = ("decrease|decreased|decreases|decreasing|fall|falls|fell|fallen|falling|decline"
               "|declined|declines|declining|drop|dropped|drops|dropping|slid|slide|slides"
               "|slip|slipped|slips|shrank|shrink|shrinks|shrunk|plunge|plunged|plunges|tumble"
               "|tumbled|tumbles|sank|sink|sinks|dip|dipped|dips|down|reduce|reduced|reduces"
               "|cut|cuts|lowered|contracted|narrow|narrowed|narrows|narrowing|lost|shed|eased"
               "|slumped|retreated|trimmed|slashed")
# Not "improvement": an improvement in a bad measure (a loss, response times) is a fall.
_UP_NOUNS = "increase|increases|rise|rises|gain|gains|jump|growth|surge|climb|hike"
_DOWN_NOUNS = ("decrease|decreases|decline|declines|drop|drops|fall|reduction|reductions|cut"
               "|cuts|dip|slide|contraction")
_UP = frozenset((_UP_VERBS + "|" + _UP_NOUNS).split("|"))
# A hedge between the change and its amount ("rose by nearly 17%").
_HEDGE = (r"(?:(?:about|around|approximately|roughly|nearly|almost|some|just|over|more than"
          r"|less than|an estimated|a further|another)\s+)?")
# An amount: a currency sign, the number, a unit of change or a scale.
_FIGURE = (r"(?P<c>[$€£]\s?)?(?P<n>\d[\d,]*(?:\.\d+)?)(?P<u>\s?%|\s(?:percent|per cent"
           r"|percentage points?|points?|basis points|bps)\b|\s?(?:million|billion|bn|m|k)\b)?")
_SHAPES = (
    re.compile(r"\b(?P<w>" + _UP_VERBS + "|" + _DOWN_VERBS + r")\s+(?:\w+ly,?\s+)?(?:by\s+)?"
               + _HEDGE + _FIGURE, re.IGNORECASE),
    re.compile(r"(?<![\w.,$€£])" + _FIGURE + r"\s+(?P<w>" + _UP_NOUNS + "|" + _DOWN_NOUNS
               + r")\b", re.IGNORECASE),
    re.compile(r"\b(?P<w>" + _UP_NOUNS + "|" + _DOWN_NOUNS + r")\s+of\s+" + _HEDGE + _FIGURE,
               re.IGNORECASE),
)
# Two figures in order: "from 263 to 211", "to 211 from 263" (a figure's currency and unit may be
# written once, on either).
_PAIR_FIGURE = (r"[$€£]?\s?(\d[\d,]*(?:\.\d+)?)(?:\s?%|\s(?:percent|per cent|points?)\b"
                r"|\s?(?:million|billion|bn|m|k)\b)?")
# Only after a verb of change: "ranged from 8,000 to 5,000 BC" is a span, which a summary may
# write the other way round ("from 5,000 to 8,000 years ago").
_CHANGED = r"\b(?:" + _UP_VERBS + "|" + _DOWN_VERBS + r")\s+(?:[\w%$€£.,]+\s+){0,3}?"
_FROM_TO_SHAPES = (
    (re.compile(_CHANGED + r"from\s+" + _PAIR_FIGURE + r"\s+to\s+" + _PAIR_FIGURE,
                re.IGNORECASE), 1, 2),
    (re.compile(_CHANGED + r"to\s+" + _PAIR_FIGURE + r"\s+from\s+" + _PAIR_FIGURE,
                re.IGNORECASE), 2, 1),
)
# ("n't" after the letter it follows: "\bn't" never matched "didn't", a review)
_NEGATION_BEFORE = re.compile(r"(?:\b(?:not|no|never|without)\b|n['’]t\b)[^.;:!?\n]{0,24}$",
                              re.IGNORECASE)
# Where a sentence may say a change of one thing as the opposite change of its complement or
# counterpart ("the euro rose 1% against the dollar", "churn dropped 3 points" for retention,
# "the net loss widened" for income, "the lead narrowed"), or a change undone ("rallied 2% but
# gave up those gains", "fell 5%, reversing January's rise"): its changes are not read.
_INVERSE = re.compile(r"\b(?:against|versus|vs|lead|gap|spread|deficits?|loss|losses|churn"
                      r"|vacanc\w*|errors?|uninsured|unemploy\w*|debts?|shortfalls?|revers\w*"
                      r"|eras\w*|back|gave up|giving up|rebound\w*|recover\w*|recoup\w*"
                      r"|pared)\b", re.IGNORECASE)
# "up" and "down" of a phrasal verb ("services make up 40%") are no change.
_PHRASAL = re.compile(r"\b(?:make|makes|made|making|take|takes|took|taking|taken|set|sets|shut"
                      r"|turn|turns|turned|pay|pays|paid|break|broke|broken|sign|signed|end"
                      r"|ended|ends)\s+$", re.IGNORECASE)
# A bare number before a span of time is a duration or a count of times, no amount ("rose over
# 15 years", "raised rates 9 times").
_TIME_AFTER = re.compile(r"\s*(?:-\s*\d|(?:straight\s+|consecutive\s+)?(?:years?|months?"
                         r"|quarters?|weeks?|days?|sessions?|times|hours?|minutes?)\b)",
                         re.IGNORECASE)
# ... and a pair of figures before one is a span ("fell across maturities from 10 to 2 years").
_SPAN_AFTER = re.compile(r"\s*(?:years?|months?|days?|ago|BCE?|AD|CE|am|pm|a\.m\.|p\.m\.)"
                         r"(?!\w)", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?;])\s+|\n")
_UNITS = {"%": "%", "percent": "%", "per cent": "%", "percentage point": "pt",
          "percentage points": "pt", "point": "pt", "points": "pt", "basis points": "bp",
          "bps": "bp", "million": "M", "m": "M", "billion": "B", "bn": "B", "k": "k"}


@dataclass(frozen=True, slots=True)
class _Change:
    """A figure moved: which way (:data:`ROSE`, :data:`FELL`), its key ("$5M", "17%") and its
    plain value ("5")."""

    way: str
    key: str
    value: str


def changes(text: str) -> dict[str, frozenset[str]]:
    """The figures ``text`` says rose (:data:`ROSE`) and fell (:data:`FELL`), each as a key of
    its currency, number and unit ("$5M", "17%"; a year, 1900 to 2099 with no unit, is none),
    the pairs it says something went from and to (:data:`FROM_TO`), and the numbers it writes
    outside all of them (:data:`UNPLACED`); nothing for a text that moves no figure."""
    moved, pairs, unplaced = _read(text)
    if not (moved or pairs):
        return {}
    found = {ROSE: {c.key for c in moved if c.way == ROSE},
             FELL: {c.key for c in moved if c.way == FELL}, FROM_TO: pairs, UNPLACED: unplaced}
    return {k: frozenset(v) for k, v in found.items() if v}


def _read(text: str) -> tuple[list[_Change], set[str], set[str]]:
    """The changes, from-to pairs and unplaced numbers of ``text``, sentence by sentence."""
    moved: list[_Change] = []
    pairs: set[str] = set()
    unplaced: set[str] = set()
    if not has_digit(text):
        return moved, pairs, unplaced
    for sentence in _SENTENCE_BREAK.split(text):
        if not has_digit(sentence):  # every shape holds a figure: most sentences of prose
            continue
        placed: set[int] = set()
        if not _INVERSE.search(sentence):
            moved += _changes_of(sentence, placed)
            pairs |= _pairs_of(sentence, placed)
        unplaced |= {f"{value:f}" for match in _NUMBER.finditer(sentence)
                     if match.start() not in placed
                     and (value := _number(match.group())) is not None}
    return moved, pairs, unplaced


def _changes_of(sentence: str, placed: set[int]) -> list[_Change]:
    """A sentence's changes; the offsets of their amounts are added to ``placed``."""
    found = []
    for shape in _SHAPES:
        for match in shape.finditer(sentence):
            word = match.group("w").lower()
            before = sentence[max(0, match.start() - 30):match.start()]
            if (_NEGATION_BEFORE.search(before)
                    or (word == "growth"  # "-17% growth", "negative growth of 2%"
                        and re.search(r"(?:-|\bnegative\s+)$", sentence[:match.start()]))
                    or (word in ("up", "down") and _PHRASAL.search(before))
                    or (word in ("gain", "gains") and re.match(r"\s+(?:on|from)\b", sentence[
                        match.end():]))
                    or (not match.group("c") and not match.group("u")
                        and _TIME_AFTER.match(sentence, match.end()))):
                continue
            amount = _amount(match)
            if amount is not None:
                placed.add(match.start("n"))
                found.append(_Change(ROSE if word in _UP else FELL, *amount))
    return found


def _pairs_of(sentence: str, placed: set[int]) -> set[str]:
    """A sentence's from-to pairs, as "from>to"; their figures' offsets added to ``placed``."""
    pairs = set()
    for shape, start, end in _FROM_TO_SHAPES:
        for match in shape.finditer(sentence):
            values = [_number(match.group(start)), _number(match.group(end))]
            if (None in values or all(_year(v) for v in values if v is not None)
                    or _SPAN_AFTER.match(sentence, match.end())):
                continue
            placed.update((match.start(start), match.start(end)))
            pairs.add(f"{values[0]:f}>{values[1]:f}")
    return pairs


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "")).normalize()
    except InvalidOperation:
        return None


def _year(value: Decimal) -> bool:
    return 1900 <= value <= 2099 and value == value.to_integral()


def _amount(match: re.Match[str]) -> tuple[str, str] | None:
    """The amount's key (currency, number as a plain decimal, unit) and plain value."""
    currency, number, unit = match.group("c", "n", "u")
    value = _number(number)
    unit_key = _UNITS.get((unit or "").strip().lower(), "")
    if value is None or (not currency and not unit_key and _year(value)):
        return None  # a year, no amount
    return f"{(currency or '').strip()}{value:f}{unit_key}", f"{value:f}"


def moved_otherwise(window: str, evidence: Mapping[str, frozenset[str]]) -> bool:
    """Whether the window says a figure rose that the evidence (its quantity index) says only
    fell, or fell that it says only rose, or that something went from one figure to another
    that the evidence says went the other way ("from 211 to 263" for "from 263 to 211"); never
    of a figure the evidence also writes outside the changes read, nor one the window itself
    moves both ways (a round trip)."""
    up, down = evidence.get(ROSE, frozenset()), evidence.get(FELL, frozenset())
    pairs = evidence.get(FROM_TO, frozenset())
    if not (up or down or pairs):  # evidence that moves no figure: most, and no regex
        return False
    unplaced = evidence.get(UNPLACED, frozenset())
    moved, said, _ = _read(window)
    for pair in said:
        if (_reversed(pair) in pairs and pair not in pairs and _reversed(pair) not in said
                and unplaced.isdisjoint(pair.split(">"))):
            return True
    both_ways = ({c.key for c in moved if c.way == ROSE}
                 & {c.key for c in moved if c.way == FELL})
    for change in moved:
        same, other = (up, down) if change.way == ROSE else (down, up)
        if (change.key in other and change.key not in same and change.value not in unplaced
                and change.key not in both_ways):
            return True
    return False


def _reversed(pair: str) -> str:
    start, end = pair.split(">")
    return f"{end}>{start}"
