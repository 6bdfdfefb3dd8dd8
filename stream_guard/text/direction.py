"""Direction: whether a claim has a figure move the other way from the evidence.

"Adjusted earnings per share decreased by 17%" against "Adjusted earnings per share was $0.34,
up 17% from $0.29": the figure is the evidence's, so the quantity check
(:func:`~stream_guard.text.terms.quantity_conflict`) finds nothing changed; word coverage misses
one word in ten; the cross-encoder does not compare directions; and the sentences are too far
apart for the opposites check (:mod:`stream_guard.text.opposites`) to align. Yet the claim
reverses the source, the edit financial summaries get most often wrong. So the evidence's
changes are indexed once, as the figures it says rose and those it says fell, and a window is
marked when it says a figure moved one way that the evidence says moved only the other.

Only a figure that is the amount of a change counts, in three shapes: a verb of change and its
amount ("rose 17%", "was up by $5 million", "rose slightly, by 3%", "widened 120 basis
points"), the amount before a noun of change ("a 70% increase", "a $3 million cut") and the
noun with "of" ("a decline of 12%"). A level is no change: "rose to 17%", "fell from 20%", "up
to 40%" (a limit) and "more than 300" (a comparison) are left alone, as are "higher" and
"lower", whose subject and object a summary may swap ("X was 5% lower than Y" for "Y was 5%
higher than X"). A figure the evidence says moved both ways (two measures each rose or fell
5%) or none is no conflict, nor is a change after a negation ("did not fall 5%").

Levels count in one shape: the two a verb of change goes from and to. "Hospitalisations rose
from 211 to 263" against "dropped to 211 from 263" has both figures right and the change
reversed. A span is no change ("stretched from 8,000 to 5,000 BC" may be written "from 5,000
to 8,000 years ago"), nor are two years. Pure and cheap: a few regular expressions per window.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

# The keys of a quantity index (:func:`~stream_guard.text.terms.quantity_index`) under which
# the figures its text says rose, and those it says fell, are kept.
ROSE, FELL = "@rose", "@fell"
# ... and under which the figures it says something went from and to, as "from>to".
FROM_TO = "@from-to"

_UP_VERBS = ("increase|increased|increases|increasing|rise|rises|rose|risen|rising|grow|grows"
             "|grew|grown|growing|gain|gained|gains|gaining|jump|jumped|jumps|climb|climbed"
             "|climbs|surge|surged|surges|soar|soared|soars|up|advanced|rallied|widen|widened"
             "|widens|widening|expanded")
_DOWN_VERBS = ("decrease|decreased|decreases|decreasing|fall|falls|fell|fallen|falling|decline"
               "|declined|declines|declining|drop|dropped|drops|dropping|slid|slide|slides"
               "|slip|slipped|slips|shrank|shrink|shrinks|shrunk|plunge|plunged|plunges|tumble"
               "|tumbled|tumbles|sank|sink|sinks|dip|dipped|dips|down|reduce|reduced|reduces"
               "|cut|cuts|lowered|contracted|narrow|narrowed|narrows|narrowing")
_UP_NOUNS = "increase|increases|rise|rises|gain|gains|jump|growth|improvement|surge|climb|hike"
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
_NEGATION_BEFORE = re.compile(r"\b(?:not|no|never|n't|without)\b[^.;:!?\n]{0,24}$",
                              re.IGNORECASE)
_UNITS = {"%": "%", "percent": "%", "per cent": "%", "percentage point": "pt",
          "percentage points": "pt", "point": "pt", "points": "pt", "basis points": "bp",
          "bps": "bp", "million": "M", "m": "M", "billion": "B", "bn": "B", "k": "k"}


def changes(text: str) -> dict[str, frozenset[str]]:
    """The figures ``text`` says rose (:data:`ROSE`) and fell (:data:`FELL`), each as a key of
    its currency, number and unit ("$5M", "17%"); a year (1900 to 2099 with no unit) is none."""
    found: dict[str, set[str]] = {ROSE: set(), FELL: set()}
    if not any(c.isdigit() for c in text):
        return {}
    for shape in _SHAPES:
        for match in shape.finditer(text):
            if _NEGATION_BEFORE.search(text, max(0, match.start() - 30), match.start()):
                continue
            key = _key(match)
            if key is not None:
                found[ROSE if match.group("w").lower() in _UP else FELL].add(key)
    pairs = found.setdefault(FROM_TO, set())
    for shape, start, end in _FROM_TO_SHAPES:
        for match in shape.finditer(text):
            values = [_number(match.group(start)), _number(match.group(end))]
            if None not in values and not all(_year(v) for v in values if v is not None):
                pairs.add(f"{values[0]:f}>{values[1]:f}")
    return {k: frozenset(v) for k, v in found.items() if v}


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "")).normalize()
    except InvalidOperation:
        return None


def _year(value: Decimal) -> bool:
    return 1900 <= value <= 2099 and value == value.to_integral()


def _key(match: re.Match[str]) -> str | None:
    """The amount's key: currency, number (as a plain decimal) and unit."""
    currency, number, unit = match.group("c", "n", "u")
    value = _number(number)
    unit_key = _UNITS.get((unit or "").strip().lower(), "")
    if value is None or (not currency and not unit_key and _year(value)):
        return None  # a year, no amount
    return f"{(currency or '').strip()}{value:f}{unit_key}"


def moved_otherwise(window: str, evidence: Mapping[str, frozenset[str]]) -> bool:
    """Whether the window says a figure rose that the evidence (its quantity index) says only
    fell, or fell that it says only rose, or that something went from one figure to another
    that the evidence says went the other way ("from 211 to 263" for "from 263 to 211")."""
    up, down = evidence.get(ROSE, frozenset()), evidence.get(FELL, frozenset())
    pairs = evidence.get(FROM_TO, frozenset())
    if not (up or down or pairs):  # evidence that moves no figure: most, and no regex
        return False
    said = changes(window)
    if any(_reversed(pair) in pairs and pair not in pairs
           for pair in said.get(FROM_TO, frozenset())):
        return True
    rose, fell = said.get(ROSE, frozenset()), said.get(FELL, frozenset())
    return any(key not in fell and key in down and key not in up for key in rose) or any(
        key not in rose and key in up and key not in down for key in fell)


def _reversed(pair: str) -> str:
    start, end = pair.split(">")
    return f"{end}>{start}"
