"""Numbers with their units, and whether a window states one its evidence states otherwise.

A quantity index maps each unit word to the numbers a text states with it ("330 metres", "15 %",
a "14-day trial"), in the canonical notation of :mod:`stream_guard.text.figures`. A window
conflicts with its evidence when it gives a number, for a unit the evidence measures, that the
evidence never gives for it: allowing what answers legitimately do with figures (round them,
hedge them, convert units, add them up, list the days of a range).
"""

from __future__ import annotations

import bisect
import datetime
import decimal
import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from stream_guard.text.cjk import CJK, narrow
from stream_guard.text.cjk import NOT_UNITS as CJK_NOT_UNITS
from stream_guard.text.cjk import ORDINAL as CJK_ORDINAL
from stream_guard.text.cjk import UNIT as CJK_UNIT
from stream_guard.text.direction import changes
from stream_guard.text.figures import (
    _CURRENCY,
    _DAY,
    _FIGURE,
    _FIGURE_HINT,
    _FIGURE_RUN,
    _LONGEST_FIGURE,
    _MONTH_NAMES,
    _MONTH_NUMBER,
    _NUMBER_RUN,
    _SPELLED,
    _WEEKDAYS,
    COUNT_WORDS,
    DATE_UNIT,
    HOURS_AND_MINUTES,
    MORNING,
    SHORT_OF,
    _decimal,
    _digits_of,
    _range_firsts,
    _rewrite,
    _scale_of,
    _scaled_value,
    _spelled_number,
    _temperatures_and_quarters,
    _value,
    canonical_dates,
    canonical_figures,
    count_value,
    duration_readings,
    has_digit,
    parts_in_figures,
    plain_number,
    short_of_value,
    spell_out_numbers,
    time_of_day,
)
from stream_guard.text.holidays import with_dates
from stream_guard.text.hours import SPANS, clock_spans, drop_spans
from stream_guard.text.quarters import evidence_quarters
from stream_guard.text.rates import RATES, period_swapped, rates, worked_out_rates
from stream_guard.text.rows import ColumnWork
from stream_guard.text.terms import _ORDINAL_ENDINGS, STOPWORDS, _normalize, term_keys, terms

# The key of a quantity index under which it keeps every number the text states, of any unit.
ANY_UNIT = ""
# ... and the numbers it states somewhere with no unit after them (:func:`_stated`).
BARE = "@bare"
# ... and the hours and minutes of its times of day, which state a count's number ("13:00 ET"
# of "13:00 - 14:30 ET"), no measure's nor a date's (:func:`_stated`)
CLOCK_PARTS = "@clock-parts"
# The word after a figure that names its unit; in CJK text the letter after the figure, or a
# katakana word (text.cjk).
_UNIT_NAME = rf"{CJK_UNIT}|[^\W\d_{CJK}](?:[^\W{CJK}]|-)*"
# A unit ("percent" whole: "1.7 percentage points" is no percentage).
_UNIT_WORD = rf"(%|percent\b|per cent\b|{_UNIT_NAME})"
# Words that qualify a unit, read through to it: "2 business days" counts days (read as a count
# of "business", its 2 was any "2" of the evidence, and "a warranty of 2 years" passed against
# one of 1 year: a review). Not "more", "extra" or "additional": "3 more seats" is a
# difference, no count of seats (a second review).
_QUALIFIER = (r"(?:(?i:business|working|calendar|school|full|whole|consecutive|straight)"
              r"[^\S\n]+(?=[^\W\d_]))?")
# Each number, with the word after it when there is one (its unit: "330 metres", "15 %", a
# "14-day trial"), on its line: a timetable's "18:05" names no unit of the "Sunday" that opens
# the next line.
_NUMBER_AND_UNIT = re.compile(_NUMBER_RUN + r"(?:(?:-|[^\S\n]*)" + _QUALIFIER + _UNIT_WORD
                              + ")?", re.UNICODE)


_CODE_BEFORE = re.compile(r"[^\W\d_]-$")
_AGO = re.compile(r"[^\S\n]+ago\b", re.IGNORECASE)
_AGO_SUFFIX = " ago"  # the suffix of a unit of time gone by (_numbers)


def _span_unit(unit: str) -> str:
    """The unit of a span a unit names: time gone by ("day ago") is of time ("day")."""
    return unit.removesuffix(_AGO_SUFFIX)


def quantities(text: str) -> set[tuple[str, str]]:
    """(number, unit word) pairs such as ("330", "metre") or ("15", "%")."""
    return {(number, unit) for number, unit in _numbers(_quantity_text(text))
            if unit and unit != CLOCK_PARTS}


def _quantity_text(text: str, both_readings: bool = False, halves: bool = False) -> str:
    """``text`` as :func:`_numbers` reads it: numbers in words as digits, figures canonical
    (``both_readings``: see :func:`canonical_figures`); a morning's time without its "am"
    (figures.MORNING) but with ``halves``: the word after a time's minutes is its unit ("02:31
    UTC")."""
    text = spell_out_numbers(narrow(with_dates(text)))
    text = canonical_figures(text, scale_as_unit=True, both_readings=both_readings)
    return text if halves else _without_morning(text)


def _without_morning(canonical: str) -> str:
    """Canonical text without the "am" a morning's time keeps (figures.MORNING)."""
    return canonical if MORNING not in canonical else _MORNING_AFTER.sub("", canonical)


_MORNING_AFTER = re.compile(r"(?<=:\d\d)" + re.escape(MORNING) + r"\b")


def _numbers(canonical: str, both_readings: bool = False) -> Iterator[tuple[str, str]]:
    """Each number a :func:`_quantity_text` states, with its unit, or :data:`ANY_UNIT` where
    no word after it names one."""
    matches = list(_NUMBER_AND_UNIT.finditer(canonical))
    clocks = ({m.start(g) for m in _CLOCK_PARTS.finditer(canonical) for g in (1, 2)
               if time_of_day(int(m.group(1)), int(m.group(2)))} if ":" in canonical else ())
    for k, match in enumerate(matches):
        number, word = match.group(1), match.group(2) or ""
        if match.start(1) in clocks and (not word or _unit(word) == ANY_UNIT):
            # a time of day's hour and minutes are no numbers it states but a count's
            # (CLOCK_PARTS): "6:30 pm" says nothing of "arrive 30 minutes before" where the
            # evidence says 15, nor its "9:00" of a 9th of May (a probe of schedules: both
            # passed). The time is read whole (terms, _figure_kinds); its minutes keep a zone
            # after them ("02:31 UTC").
            yield plain_number(number), CLOCK_PARTS
            continue
        if _CODE_BEFORE.search(canonical, max(0, match.start() - 2), match.start()):
            word = ""  # a code's number ("OUT-88412 customers", "COVID-19 cases") counts nothing
        elif canonical[match.start() - 1:match.start()] == CJK_ORDINAL:
            word = "th"  # "第4笔" is the 4th payment, as "4th" is: no count of payments
        month = _MONTH_NUMBER.get(word.lower()) if word[:1].isupper() else None  # "May", not "may"
        if month is None or not number.isdigit() or not 1 <= int(number) <= 31:
            unit = _unit(word) if word else ANY_UNIT
            if unit and _AGO.match(canonical, match.end()):
                # time gone by is another quantity than a span: "bought 12 days ago" is no
                # figure of "returns within 30 days" (a review: the user's own "12 days ago",
                # restated, was contradicted by the policy's 30 days); the evidence's is read
                # as a span too ("35 years ago" attests "for 35 years")
                if both_readings:
                    yield plain_number(number), unit
                unit += _AGO_SUFFIX
            yield plain_number(number), unit
            continue
        # A day of a month is one figure of dates, with its year where one follows ("9 July
        # 2024" is 20240709): "9 August" against "9 July", "16 November" against "15
        # November" or "1 March 2024" against "1 March 2025" is a changed date, as "16 km"
        # against "15 km" is (canonical_dates). The evidence's date is also its day alone.
        after = matches[k + 1] if k + 1 < len(matches) else None
        year = (after.group(1) if after is not None and _YEAR.fullmatch(after.group(1))
                and after.start() - match.end() <= 2 else "")  # "9 July 2024", "9 July, 2024"
        days = [int(number)]
        if both_readings:  # the evidence's ranges and lists: "1 to 3 March", "June 3, 10 and 17"
            days += _listed_days(canonical, matches, k, year)
        for d in days:
            yield f"{year}{month:02d}{d:02d}", DATE_UNIT
            if year and both_readings:
                yield f"{month:02d}{d:02d}", DATE_UNIT


# A time of day in canonical text ("18:30"; not a run of more, "1:45:30", which are amounts).
_CLOCK_PARTS = re.compile(r"(?<![\d:.,])(\d{1,2}):([0-5]\d)(?!\d|[:.,]\d)")


# What joins the days of a range or list of dates: "1 to 3 March", "25 and 26 December",
# "5 May–7", "3 June, 10 and 17", "24 December through 26".
_DAY_RANGE = re.compile(r"[–—-]|to|through|thru|until|till", re.IGNORECASE)
_DAY_JOINER = re.compile(r"\s*(?:,\s*(?:and\s+)?|[–—-]|to|and|or|&|through|thru|until|till)\s*",
                         re.IGNORECASE)


def _listed_days(text: str, matches: Sequence[re.Match[str]], k: int, year: str) -> list[int]:
    """The other days of a range or list around the date ``matches[k]`` (bare numbers joined
    to it, before it or after its month and year), so that each is one of the evidence's
    dates: "starts on 1 March" is the evidence's "1 to 3 March". (A number's "unit" may be the
    joining word itself: "1 to 3 March" reads "1 to", then "3 March".)"""
    days: list[int] = []
    for step in (-1, 1):
        j = k + step + (1 if step == 1 and year else 0)  # forward: past the year
        end = matches[j - 1].end() if step == 1 else 0  # where the last date or day ended
        start = matches[k].start()
        while 0 <= j < len(matches):
            near = matches[j]
            number, word = near.group(1), (near.group(2) or "").lower()
            ordinal = word in _ORDINAL_ENDINGS  # "1st-3rd March"
            if word and not ordinal and not _DAY_JOINER.fullmatch(word) \
                    and _unit(word) != ANY_UNIT:
                break  # a unit, or a month of its own: no day of this date
            gap = (text[(near.end() if ordinal else near.end(1)):start] if step < 0
                   else text[end:near.start()])
            if gap.strip() and not _DAY_JOINER.fullmatch(gap):
                break
            if not number.isdigit() or not 1 <= int(number) <= 31:
                break
            if ":" in (text[near.start(1) - 1:near.start(1)], text[near.end(1):near.end(1) + 1]):
                # a time of day's hour or minutes, no day: "Monday, May 5, 2025, 9:00 am" is
                # no 9 May, "17 July 2025, 14:00" no 14 July (a probe of schedules: the
                # answer's wrong "May 9" and "14 July" passed)
                break
            days.append(int(number))
            if _DAY_RANGE.fullmatch(gap.strip() or word):  # "3 to 5 June": the 4th too
                low, high = sorted((int(number), int(matches[k].group(1))))
                days += range(low + 1, high)
            start, end = near.start(), near.end(1)
            j += step
    return days


def _unit(word: str) -> str:
    """The unit a word after a number names, or :data:`ANY_UNIT` for a function word: in
    "called 911 to say" or "on January 1 to say", "to" counts nothing, and taking it for a unit
    set one number against another that merely also preceded "to". ("per" stays a unit: "$0.15
    per share" against "$0.12 per share" is the commonest edit of an earnings summary.)"""
    unit = word.lower()
    if unit in {"percent", "per cent"}:
        return "%"
    unit = _normalize(unit)
    return ANY_UNIT if unit in _NOT_UNITS else unit


# Nor is "pm" (nor "am", a stopword): times of day are written in too many ways ("noon",
# "18:00", "6 p.m.") to be compared as amounts of a unit; nor a CJK counter or clock hour
# (text.cjk); nor a word that goes on with the sentence, not with the figure: a call's "ready
# after 2 today" counts no "today"s, and its "sixteen fifty including the scaffold" no
# "including"s (their summaries' "2 pm today" and "£1,650 including £400" were contradicted).
_NOT_UNITS = (STOPWORDS - {"per"}) | {"pm"} | CJK_NOT_UNITS | {
    "today", "tomorrow", "tonight", "yesterday", "later", "ago", "including", "excluding",
    "plus", "apiece", "total", "altogether", "overall", "instead", "respectively",
    "approximately", "roughly", "exactly", "sharp", "onwards", "ish"}


_RANGE = re.compile(r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)\s*(?:[–—-]|\s(to|or|and|through)\s)"
                    r"\s*(\d[\d,]*(?:\.\d+)?)\s*([^\W\d_]+)")
# The key of a quantity index under which it keeps the ranges it gives ("Age 2-4 years", "1
# to 3 years of service", "between 2 and 4 years") as "low high unit": a figure of the unit
# inside one is none the evidence gives otherwise (:func:`quantity_conflict`). Not two
# choices: "128 or 512 GB" says nothing of 256 GB (a review).
RANGES = "@ranges"
_BETWEEN_BEFORE = re.compile(r"\bbetween\s+$", re.IGNORECASE)
# A strength: an amount of a measure in one item of a medicine's form ("Ibuprofen 200 mg
# Tablets", "200 mg per tablet") or in an amount of another unit ("120 mg/5 ml", "10 mg in 1
# ml"), kept as "amount unit count per-unit" under STRENGTHS ("200 mg 1 tablet", "120 mg 5
# ml"): what an answer works out a dose's amount with (:func:`drop_worked_out`). Found by its
# unit, the figure looked for before it (a pattern that opens with a figure is quadratic over a
# long run of digits).
_STRENGTH = re.compile(
    r"(?<![\w.])(mg|mcg|micrograms?|milligrams?|g|grams?|ml|millilitres?|milliliters?)\b[ \t]*"
    r"(?:(?:/|per\b|in\b)[ \t]*(?:(\d[\d,]*(?:\.\d+)?)[ \t]*)?([^\W\d_]+)"
    r"|((?:(?:film-coated|coated|soluble|chewable|effervescent|modified-release)[ \t]+)?"
    r"(?:tablet|capsule|caplet|sachet|lozenge|pastille|suppositor(?:y|ie)|pessar(?:y|ie)|patch"
    r"|spray|puff|drop)s?)\b)", re.IGNORECASE)
_STRENGTH_FIGURE = re.compile(r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)[ \t]*$")
_STRENGTH_FIGURE_CHARS = 24
STRENGTHS = "@strengths"


def quantity_index(text: str) -> dict[str, frozenset[str]]:
    """The numbers ``text`` states per unit, {"metre": {"330"}}, and under :data:`ANY_UNIT`
    every number it states at all; built once per evidence."""
    by_unit: dict[str, set[str]] = {ANY_UNIT: set()}
    halves = _quantity_text(text, both_readings=True, halves=True)
    canonical = _without_morning(halves)
    bare: Counter[str] = Counter()
    for number, unit in _numbers(canonical, both_readings=True):
        if unit not in (DATE_UNIT, CLOCK_PARTS):  # a date is no amount a rounded figure
            by_unit[ANY_UNIT].add(number)  # could be ("$20 million")
        if unit:
            by_unit.setdefault(unit, set()).add(number)
        else:
            bare[number] += 1
    for match in _RANGE.finditer(canonical):
        # a range's first figure is of its unit too, not bare: "3 or 4 days" states 3 days (a
        # review: read as a bare 3, "Delivery takes 3 days" met the evidence's "3 months"
        # elsewhere); and a figure between its two is of it ("3 years old" in "Age 2-4 years")
        word = match.group(4)
        if word.lower() not in _MONTH_NUMBER and (unit := _unit(word)) != ANY_UNIT:
            low, high = plain_number(match.group(1)), plain_number(match.group(3))
            by_unit.setdefault(unit, set()).add(low)
            bare[low] -= 1
            joiner = match.group(2)
            if joiner not in ("or", "and") or (
                    joiner == "and" and _BETWEEN_BEFORE.search(canonical, 0, match.start())):
                by_unit.setdefault(RANGES, set()).add(f"{low} {high} {unit}")
    for strength in _strengths(canonical):
        by_unit.setdefault(STRENGTHS, set()).add(strength)
    if stated_bare := {number for number, count in bare.items() if count > 0}:
        by_unit[BARE] = stated_bare
    for number in _metres_by_length(text):  # "12 m long" is 12 metres
        by_unit.setdefault("metre", set()).add(number)
    if "one" in canonical:
        # "one case" is 1 of its unit, as "6 cases" is 6 of it: an answer's "1 case" is none
        # of the 6 (the number word "one" stays a word, mostly a pronoun, so it is read here,
        # for its unit alone: as a figure of any unit it would be a 1 every sum is worked out
        # with)
        for match in _ONE_OF_A_UNIT.finditer(canonical):
            if (unit := _unit(match.group(1))) != ANY_UNIT:
                by_unit.setdefault(unit, set()).add("1")
    if "ouple" in canonical or "ozen" in canonical:
        # "a couple of minutes" is 2 of them, "a dozen eggs" 12, "half a dozen" 6: a summary
        # writes them as the figures ("up to two minutes longer" for "an extra couple of
        # minutes" was contradicted by the source's other minutes)
        for match in COUNT_WORDS.finditer(canonical.lower()):  # "Half a dozen" starts one
            if (unit := _unit(match.group(2))) != ANY_UNIT:
                by_unit.setdefault(unit, set()).add(count_value(match))
    for match in HOURS_AND_MINUTES.finditer(canonical):  # "2 hours 30 minutes" is 150 minutes
        for number, unit in duration_readings(match):
            by_unit[ANY_UNIT].add(number)
            by_unit.setdefault(unit, set()).add(number)
            by_unit[DURATIONS] = {DURATIONS}
    if "short of" in canonical:  # "7 goals short of reaching 100" is 93 goals
        for match in SHORT_OF.finditer(canonical.lower()):
            if (left := short_of_value(match)) is not None:
                by_unit[ANY_UNIT].add(left)
                if (unit := _unit(match.group(2))) != ANY_UNIT:
                    by_unit.setdefault(unit, set()).add(left)
    if len(by_unit.get("%", ())) > 1 and (points := _point_changes(canonical)):
        by_unit[POINT_CHANGES] = points
    by_unit.update(_year_spans(text))
    by_unit.update((key, set(quarters)) for key, quarters in evidence_quarters(text).items())
    if bounds := _limits(canonical):
        by_unit[BOUNDS] = bounds
    if clocks := _clock_index(halves):
        by_unit[CLOCKS] = clocks
    if spans := clock_spans(text):  # how long its ranges of times last (text.hours)
        by_unit[SPANS] = spans
    by_unit.update((key, set(entries)) for key, entries in rates(canonical).items())
    if _is_conversation(text):
        unscaled, money = _unscaled(canonical)
        if unscaled:
            by_unit[UNSCALED] = unscaled
        if money:
            by_unit[UNSCALED_MONEY] = money
    for direction, figures in changes(text).items():  # which way the figures it moves went
        by_unit[direction] = set(figures)
    return {unit: frozenset(numbers) for unit, numbers in by_unit.items()}


# The key of a quantity index under which it keeps the changes in points between two
# percentages the evidence compares ("64%, up from 51%": 13; "from 40% to 52%": 12; "42.5% vs.
# 40.8%"), see :func:`drop_worked_out`. Compared, not merely near: two percentages of one
# sentence may be of anything ("EPS rose 12% and margin was 42.5%", an approval rate and a
# disapproval rate: a review of the first version).
POINT_CHANGES = "@points"
_PERCENT = r"(\d+(?:\.\d+)?)%"
_COMPARED = re.compile(_PERCENT + r"[^%\n]{0,60}?\b(?:from|vs\.?|versus|compared (?:with|to)|"
                       r"against)[ \t]+" + _PERCENT)
_FROM_TO = re.compile(r"\bfrom[ \t]+" + _PERCENT + r"[^%\n,;]{0,40}?\bto[ \t]+" + _PERCENT)


# The keys of a quantity index (this, then the length) under which it keeps, for each span of
# years the evidence writes as one ("from 1979 to 1994", "1979–1994", "between 1979 and 1994"),
# the words of its sentence: "led the fisheries group for 15 years" is worked out of "From
# 1979 to 1994 she led the fisheries ecology group", not a figure the evidence states
# otherwise (a probe's faithful biography halted on its "up to three years"). Only a window
# that shares at least _SPAN_WORDS words with that sentence: any "N years" of the length of
# any span let changed durations of other things pass (a review: "Jones was CEO for 15 years"
# beside Smith's 1979-1994).
YEAR_SPANS = "@years:"
_SPAN_WORDS = 3
_YEAR_NUMBER = r"((?:18|19|20)\d\d)"
_YEAR_SPAN = re.compile(
    r"(?:\b(?:from|between)[ \t]+" + _YEAR_NUMBER + r"[ \t]*(?:to|until|till|through|and|[–—-])"
    r"[ \t]*" + _YEAR_NUMBER + r"|(?<![\w.,-])" + _YEAR_NUMBER + r"[ \t]*[–—-][ \t]*"
    + _YEAR_NUMBER + r")(?![\w.,]\d|\d)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)|\n")
# A duration in years ("for 15 years", "a 15-year tenure"); not an age ("30 years old").
_YEARS = re.compile(_FIGURE_RUN + r"(?=[ \t-]+(?:years?|yrs?)\b(?![ \t-]+old\b))")


def _year_spans(text: str) -> dict[str, set[str]]:
    """The words of each sentence that writes a span of years, by the span's length
    (:data:`YEAR_SPANS`). The sentence ends are found once and each sentence's words read
    once: per span, a scan from the start of the text was quadratic (a review: 64 KB of
    "1999-2000 " in a stream's context took minutes, on the event loop for a small one)."""
    spans: dict[str, set[str]] = {}
    marks: list[re.Match[str]] | None = None
    starts: list[int] = []
    read: dict[tuple[int, int], set[str]] = {}
    for match in _YEAR_SPAN.finditer(text):
        first, last = (int(match.group(1) or match.group(3)), int(match.group(2) or match.group(4)))
        if not 0 < last - first <= 100:
            continue
        if marks is None:
            marks = list(_SENTENCE_END.finditer(text))
            starts = [m.start() for m in marks]
        # The sentence: from the last end before the span (an end mark right before it counts,
        # as at the end of the text), to the next end mark after it.
        k = bisect.bisect_right(starts, match.start()) - 1
        while k >= 0 and marks[k].end() > match.start():
            k -= 1
        start = marks[k].end() if k >= 0 else 0
        if match.start() and text[match.start() - 1] in ".!?":
            start = match.start()
        n = bisect.bisect_left(starts, match.end())
        stop = starts[n] if n < len(starts) else len(text)
        words = read.get((start, stop))
        if words is None:
            words = read[start, stop] = {key for key in term_keys(text[start:stop])
                                         if not key[0].isdigit()}
        spans.setdefault(f"{YEAR_SPANS}{last - first}", set()).update(words)
    return spans


def _drop_year_spans(text: str, evidence: Mapping[str, frozenset[str]]) -> str:
    """``text`` without each duration in years that is the length of a span the evidence gives
    in a sentence ``text`` shares :data:`_SPAN_WORDS` words with (:data:`YEAR_SPANS`): worked
    out of the evidence; any other stays."""
    if "y" not in text or not any(key.startswith(YEAR_SPANS) for key in evidence):
        return text
    spelled = spell_out_numbers(text)  # "for six years"
    words = {t.key for t in terms(text)} - {"year", "yr"}  # not the duration's own unit

    def dropped(match: re.Match[str]) -> str | None:
        sentence = evidence.get(YEAR_SPANS + match.group(1))
        return "" if sentence is not None and len(words & sentence) >= _SPAN_WORDS else None

    out = _rewrite(spelled, _YEARS, dropped)
    return text if out is spelled else out


_ONE_OF_A_UNIT = re.compile(r"\b[Oo]ne[ \t]+([^\W\d_][\w-]*)")


# The key of a quantity index under which it keeps the small figures the evidence says with no
# unit, scale or currency ("we're tracking to spend about 196", "list it at 525", "the band is
# 48 to 55"): people talking money leave off the thousands that everyone in the room knows, and
# a summary of the call writes them back ("$196,000", "a £48,000-£55,000 band"); see
# :func:`read_unscaled`. Whole numbers of up to three digits, with one decimal at most ("19.5"
# said for $19,500), not a time's, a phone number's or a date's; from 10: a lone digit
# is too common a figure ("2 products") to stand for the "$2,000" a summary writes. Only in a
# conversation (speakers taking turns): a written text's bare figures are a page's, an age's,
# a version's, and "$45,000" for its "page 45" is a changed figure (a review).
UNSCALED = "@unscaled"
# ... and the small sums it says with their currency ("$45 a seat"): no $45,000 it left unsaid.
UNSCALED_MONEY = "@unscaled-money"
_UNSCALED_FIGURE = re.compile(r"[1-9]\d{1,2}(?:\.\d)?")
# A speaker's turn: "Felix: ...", "Dr. Okafor: ...", "[14:02] Callum (FitHub Support): ...".
_TURN = re.compile(r"^[ \t]*(?:\[[^\]\n]{1,20}\][ \t]*)?([A-Z][\w.'’ -]{0,30}?)"
                   r"(?:[ \t]*\([^)\n]{1,40}\))?:[ \t]", re.MULTILINE)


def _is_conversation(text: str) -> bool:
    """Whether ``text`` is speakers taking turns: two labels that each open two lines or more
    (a form's "Hours:" and "Price:" open one each)."""
    if text.count(":") < 4:
        return False
    counts: dict[str, int] = {}
    for label in _TURN.findall(text):
        counts[label] = counts.get(label, 0) + 1
    return sum(1 for n in counts.values() if n >= 2) >= 2


_NOT_UNSCALED_BEFORE = _CURRENCY | frozenset(":.,/#+-")


def _unscaled(canonical: str) -> tuple[set[str], set[str]]:
    """The figures of a :func:`_quantity_text` with no word of a unit after them and no
    currency or other figure around them (:data:`UNSCALED`), and those of its size it gives a
    currency (:data:`UNSCALED_MONEY`)."""
    found, money = set(), set()
    for match in _NUMBER_AND_UNIT.finditer(canonical):
        number, word = match.group(1), match.group(2) or ""
        if not _UNSCALED_FIGURE.fullmatch(number):
            continue
        before = canonical[match.start() - 1:match.start()]  # "" at the start
        if before in _CURRENCY:
            money.add(number)
        elif not (before in _NOT_UNSCALED_BEFORE
                  or canonical[match.end(1):match.end(1) + 1] in {":", "/", "-"}
                  or (word and (_unit(word) != ANY_UNIT
                                or (word[:1].isupper() and word.lower() in _MONTH_NUMBER)))):
            found.add(number)
    return found, money


# A sum of money written in thousands, in a window: "$196,000", "£48K", "196 thousand
# dollars" (the scale calls leave unsaid: "$196 million" for "about 196" is another figure).
# Groups: the currency symbol, the figure, the scale, the currency word.
_SCALED_MONEY = re.compile(
    r"(?<![\w.,])([$£€¥])?[ \t]?([1-9]\d{0,2}(?:\.\d)?)(,000(?![,.]?\d)|[ \t]?(?:[kK]"
    r"|thousand)\b)(?:[ \t]+(dollars?|pounds?|euros?|bucks|quid))?")


def read_unscaled(text: str, evidence: Mapping[str, frozenset[str]]) -> str:
    """``text`` (a window) with the sums of money it writes at a scale the evidence leaves
    unsaid written as the evidence says them: "$196,000" as "196" where a call says "we're
    tracking to spend about 196" and states no 196,000 (:data:`UNSCALED`). Once one sum reads
    so, the window's other scaled sums that the evidence does not state are read at the call's
    scale too, so that one worked out of the call's figures ("raising it from $30,000 to
    $38,000, $8,000 more") is read as such (:func:`drop_worked_out`); not one whose figure
    the evidence states in another sense ("$45 a seat" is no $45,000). Only money, and only
    thousands: a count ("4,000 users") is no figure a speaker shortens. Unchanged (the same
    object) when none."""
    unscaled = evidence.get(UNSCALED)
    if not unscaled or not has_digit(text):
        return text
    stated, with_currency = evidence[ANY_UNIT], evidence.get(UNSCALED_MONEY, frozenset())
    sums = [m for m in _SCALED_MONEY.finditer(text) if m.group(1) or m.group(4)]
    said = [m for m in sums
            if _scaled_sum(m) not in stated and m.group(2) not in with_currency]
    if not any(m.group(2) in unscaled for m in said):
        return text
    out, end = [], 0
    for m in said:
        out.append(text[end:m.start()] + m.group(2))
        end = m.end()
    return "".join(out) + text[end:]


def _scaled_sum(match: re.Match[str]) -> str:
    """The sum a :data:`_SCALED_MONEY` match writes, as the index keeps it ("196000")."""
    return plain_number(str(Decimal(match.group(2)).scaleb(3).normalize().quantize(1)))


# The key of a quantity index under which it keeps the upper limits the evidence sets ("store
# below 25°C", "children under 12", "do not take more than 8 tablets"), as "number unit": a
# hedged figure of a window of that unit is not read as one of them (resolve_hedged_numbers).
# A limit is no rounded figure: "below 30 degrees" for "below 25°C" is another limit, and was
# read as 25. Only limits: "more than 6,000 employees" for "more than 6,200" is a rounding of
# a count, as is "up to 360 miles" for "up to 358" (a review of a broader first version).
BOUNDS = "@bounds"
# Present where the evidence gives a duration in hours and minutes ("2 hours 30 minutes"): then
# a window's durations in hours and minutes, or in words ("an hour and a half"), are read whole,
# as amounts that must be the evidence's (resolve_hedged_numbers). Elsewhere only where the
# evidence states their amount: a schedule's "a journey of 2 hours 7 minutes" (10:07 less
# 08:00) or a webinar's "lasts an hour and a half" (1:00 to 2:30 PM) is worked out of its times
# of day, which no sum here reads, and read whole it was contradicted by the evidence's "Delayed
# 12 min" and "1 hour before" (a run over every probe).
DURATIONS = "@durations"
_UPPER_LIMITS = frozenset({"below", "under", "less than", "fewer than", "at most"})
_NEGATED_LOWER = frozenset({"more than", "over", "above", "exceeding", "in excess of"})
_NEGATION_BEFORE = re.compile(r"(?:\b(?:not|no|never)\b|n['’]t\b)[^.;:!?\n]{0,20}$")


def _limits(canonical: str) -> set[str]:
    """The upper limits a :func:`_quantity_text` sets, as "number unit" (:data:`BOUNDS`): its
    figures as the index keeps them ("under $2.5 million" is 2500000 million)."""
    low = canonical.lower()
    limits = set()
    for match in _HEDGED.finditer(low):
        hedge = match.group(1)
        if hedge in _UPPER_LIMITS or (hedge in _NEGATED_LOWER and _NEGATION_BEFORE.search(
                low, max(0, match.start() - 24), match.start())):
            word = match.group(3)
            limits.add(f"{plain_number(match.group(2))} {_unit(word) if word else ANY_UNIT}")
    return limits


def _point_changes(canonical: str) -> set[str]:
    """The changes in points between the percentages a :func:`_quantity_text` compares."""
    changes: set[str] = set()
    for pattern in (_COMPARED, _FROM_TO):
        for match in pattern.finditer(canonical):
            a, b = _decimal(match.group(1)), _decimal(match.group(2))
            if a is not None and b is not None and a != b:
                changes.add(str(abs(a - b)))
    return changes


# Words that make a figure approximate, and what they allow of the figure the evidence states:
# "more than 60 items" for 62, "about 870" for 866, "nearly 10 years" for 9.5. Summaries round.
# "up to" rounds up only: it states the figure as the maximum reached ("a range of up to 300
# miles" for 298, but "lasts up to 20 hours" for 14 is false where "less than 20 hours" is true).
_ABOVE, _BELOW, _NEAR, _ROUNDED_UP = (1.0, 1.5), (0.67, 1.0), (0.85, 1.15), (0.95, 1.0)
_HEDGES = {
    "more than": _ABOVE, "over": _ABOVE, "above": _ABOVE, "at least": _ABOVE,
    "in excess of": _ABOVE, "upwards of": _ABOVE, "exceeding": _ABOVE,
    "nearly": _BELOW, "almost": _BELOW, "just under": _BELOW, "up to": _ROUNDED_UP,
    "less than": _BELOW, "under": _BELOW, "below": _BELOW, "fewer than": _BELOW,
    "at most": _BELOW,
    "about": _NEAR, "around": _NEAR, "roughly": _NEAR, "approximately": _NEAR, "some": _NEAR,
    "an estimated": _NEAR, "close to": _NEAR, "circa": _NEAR,
}
_HEDGE_WORDS = "|".join(sorted(_HEDGES, key=len, reverse=True))
# A number in words after a hedge ("just over eight years" for 8.3 years, as summaries write
# it): read as the evidence's figure of its unit within one of it, on the hedge's side (over
# 8 and under 9; above 4 and under 5 for "nearly five"; less than a half off for "about": a
# blind probe's "about three hours" for a recipe's 2 hours 30 minutes passed); as
# "eight" it was the evidence's 8.3 changed, a contradiction that halted a faithful summary.
# Not the hedge's own band, which for small numbers spans others ("nearly five years" for
# four, "about nine years" for eight), and "over" may be no hedge at all ("spread over two
# days" for three: a review).
_HEDGED_SPELLED = re.compile(r"\b(" + _HEDGE_WORDS + r")\s+(" + _SPELLED.pattern + r")"
                             r"(?:\s*" + _UNIT_WORD + ")?")
# How far the evidence's figure may lie from the number in words (evidence minus words), per
# hedge: over 8 and under 9 for "over eight"; above 4, up to 5 for "nearly five"; within a half
# for "about"; up to a half below for "up to".
_SPELLED_WITHIN: dict[tuple[float, float], Callable[[float], bool]] = {
    _ABOVE: lambda d: 0.0 < d < 1.0, _BELOW: lambda d: -1.0 < d <= 0.0,
    _NEAR: lambda d: -0.5 < d < 0.5, _ROUNDED_UP: lambda d: -0.5 <= d <= 0.0}


def _of_unit(evidence: Mapping[str, frozenset[str]], unit: str) -> frozenset[str]:
    """The figures the evidence states of ``unit`` under any of its names ("about 30 minutes"
    for its "29 min"), or every figure it states where it gives that unit none."""
    if unit != ANY_UNIT:
        found = frozenset().union(*(evidence.get(name, frozenset())
                                    for name in _UNIT_NAMES.get(unit, (unit,))))
        if found:
            return found
    return evidence[ANY_UNIT]


def _spelled_hedged(match: re.Match[str], evidence: Mapping[str, frozenset[str]]) -> str | None:
    """The evidence's figure a hedged number in words stands for (see _HEDGED_SPELLED)."""
    figure = _value(_spelled_number(match.group(2)))
    if figure is None:
        return None
    within = _SPELLED_WITHIN[_HEDGES[match.group(1)]]
    word = match.group(3)
    unit = _unit(word) if word else ANY_UNIT
    near = [(abs(v - figure), n) for n in _of_unit(evidence, unit)
            if (v := _value(n)) is not None and within(v - figure)]
    return min(near)[1] if near else None


# The figure may be money: "about $870" (a review's faithful answers halted on it).
_HEDGED = re.compile(r"\b(" + _HEDGE_WORDS + r")\s+"
                     + r"(?:[$£€¥]\s?)?" + _NUMBER_RUN + r"(?:\s*" + _UNIT_WORD + ")?")


_Ordered = tuple[list[Any], list[str]]
# Orderings kept, process-wide: a stream's windows reuse its own, and a few streams at a time
# are being scored. Few, since one of a context of thousands of numbers holds megabytes after
# its stream is gone (a review: 116 MB for 128).
_ORDERINGS_KEPT = 16


@functools.lru_cache(maxsize=_ORDERINGS_KEPT)
def _decimals(numbers: frozenset[str]) -> _Ordered:
    """An index's numbers as Decimals, in order, with the numbers as written: the figures a
    window's figure may round are a range of them (:func:`_between`). Every number compared
    with every figure of every window cost a window 0.4 s against a context of thousands of
    numbers (a review); kept per index (a stream's, reused by each of its windows)."""
    return _in_order((v, n) for n in numbers if (v := _decimal(n)) is not None)


@functools.lru_cache(maxsize=_ORDERINGS_KEPT)
def _values(numbers: frozenset[str]) -> _Ordered:
    """As :func:`_decimals`, as floats (what a hedge's band is compared in)."""
    return _in_order((v, n) for n in numbers if (v := _value(n)) is not None)


def _in_order(pairs: Iterable[tuple[Any, str]]) -> _Ordered:
    ordered = sorted(pairs, key=lambda pair: pair[0])
    return [v for v, _ in ordered], [n for _, n in ordered]


def _between(ordered: _Ordered, lo: Any, hi: Any) -> Iterator[tuple[Any, str]]:
    """The (value, number) pairs of ``ordered`` with ``lo <= value <= hi``."""
    values, numbers = ordered
    for i in range(bisect.bisect_left(values, lo), bisect.bisect_right(values, hi)):
        yield values[i], numbers[i]


def resolve_hedged_numbers(text: str, evidence: Mapping[str, frozenset[str]]) -> str:
    """``text`` with each hedged figure ("more than 60 items", "about 870") replaced by the
    closest number the evidence states (``evidence``, a :func:`quantity_index`) that the hedge
    allows, of the same unit where the evidence gives that unit a number; so a rounded figure
    is read as the one it rounds, not as a new number or a contradiction. Unchanged (the same
    object) when there is none.

    A scaled figure ("1.2 million", "$2.5bn") is a rounded one too: it is read as the number the
    evidence states that it rounds to at its own precision (within half its last digit, and 5
    %; a hedge's own band where one comes before it), "1.2 million" as the evidence's
    1,234,567; failing one, as the figure it writes. A figure whose "k", "m" or "b" may be a unit
    ("1.5m") is read as scaled only where the evidence states the scaled number.

    A decimal written to fewer places than the evidence's ("$0.0000133" for $0.0000133334,
    "2.3 %" for 2.34 %) is read as the evidence's figure it rounds to at its own precision.

    A figure in another unit of the same measure ("120 minutes", "1,200 grams") is read as
    the evidence's figure it equals ("2 hours", "1.2 kg"): a conversion is no new number, and
    read as minutes against the evidence's other minutes it was a contradiction. A duration in
    hours and minutes, or in words alone ("an hour and a half"), is read whole, in minutes
    ("1 hour 30 minutes" as "90 minutes"; the evidence's are indexed whole too), where the
    evidence gives durations so or states that amount (:data:`DURATIONS`); a half after a
    figure always is ("3 and a half hours" is 3.5 hours, no 3).

    ``text`` is a window: the scans are a few regexes over it.
    """
    if ANY_UNIT not in evidence:
        return text
    # "below 30°C" has its unit in words ("30 degrees"), so it is read as a temperature
    text = _temperatures_and_quarters(text)
    stated = functools.partial(_time_stated, evidence=evidence)
    text = _rewrite(text, HOURS_AND_MINUTES, lambda match: _whole_minutes(match, stated))
    text = parts_in_figures(text, keep=stated)  # "an hour and a half" is 1.5 hours
    if " half" in text:
        text = _rewrite(text, _SPELLED_HALF, _spelled_half)
    text = _rewrite(text, _HEDGED_SPELLED, lambda match: _spelled_hedged(match, evidence),
                    group=2)
    text = _resolve_converted(_resolve_scaled(_resolve_decimals(text, evidence), evidence),
                              evidence)

    def closest(match: re.Match[str]) -> str | None:
        figure = _value(match.group(2))
        if figure is None or figure <= 0 or (match.group(3) or "") in _MONTH_NUMBER:
            return None  # "about 31 December" is a date, not a rounded 30
        word = match.group(3)
        money = any(c in _CURRENCY for c in match.group(0)) or bool(
            word and _unit(word) in _MONEY_WORDS)
        lo, hi = _hedge_band(_HEDGES[match.group(1)], match.group(2), money)
        limits = evidence.get(BOUNDS, frozenset())
        unit = _unit(word) if word else ANY_UNIT
        allowed = [(abs(v - figure), n) for v, n in _between(
                       _values(_of_unit(evidence, unit)), lo * figure, hi * figure)
                   if v == figure or f"{n} {unit}" not in limits]
        best = min(allowed)[1] if allowed else match.group(2)
        return best if best != match.group(2) else None

    return _rewrite(text, _HEDGED, closest, group=2)


_MONEY_WORDS = frozenset({"dollar", "euro", "yen", "usd", "eur", "gbp", "jpy"})


# A half after a whole in words: "just over three and a half hours" is over 3.5 hours (the
# hedge read "over three" as the evidence's 3.2, and the half was left over).
_SPELLED_HALF = re.compile(rf"({_SPELLED.pattern})[ \t]+and[ \t]+a[ \t]+half\b")


def _spelled_half(match: re.Match[str]) -> str | None:
    whole = _spelled_number(match.group(1))
    whole = "1" if whole.lower() == "one" else whole  # ("one" alone stays a word there)
    return f"{whole}.5" if whole.isdigit() else None


def _time_stated(said: str, evidence: Mapping[str, frozenset[str]]) -> bool:
    """Whether a window's duration read whole (``said``: "90 minutes", "1.5 hours", "3.5") may
    replace its words: where the evidence gives durations in hours and minutes
    (:data:`DURATIONS`), or states this amount of time (in any unit of time; a bare figure, as
    it is)."""
    if DURATIONS in evidence:
        return True
    number, _, word = said.partition(" ")
    value = _value(number)
    if value is None:
        return False
    measure = _MEASURES.get(_unit(word.split(" ", 1)[0])) if word else None
    if measure is None or measure[0] != "time":
        return number in evidence.get(ANY_UNIT, ())
    seconds = value * measure[1]
    return any(kind == "time" and abs(v * size - seconds) <= _EXACT_SHARE * seconds
               for _, (kind, size), v, _ in _stated_measures(evidence))


def _whole_minutes(match: re.Match[str], stated: Callable[[str], bool]) -> str | None:
    """A duration in hours and minutes as its minutes ("1 hour 30 minutes": "90 minutes"),
    where ``stated`` allows (:func:`_time_stated`): one amount, wrong where it is none of the
    evidence's, whether or not the evidence states its hour and its minutes of other things
    ("braise for 2 hours 15 minutes" against "2 hours 30 minutes ... rest for 15 minutes"; a
    blind probe)."""
    readings = duration_readings(match)
    said = f"{readings[0][0]} minutes" if readings else ""
    return said if said and stated(said) else None


def _hedge_band(band: tuple[float, float], number: str, money: bool) -> tuple[float, float]:
    """What a hedge allows of the figure ``number`` it stands before, as shares of it: its band,
    but money is rounded, not banded: "about $870" or "around $900" for $866, not "about $760"
    (a review: the band let a price 15 % off through)."""
    figure = _value(number)
    if not money or not figure:
        return band
    whole, _, places = number.replace(",", "").partition(".")
    step = 10.0 ** (-len(places) if places else len(whole) - len(whole.rstrip("0") or "0"))
    return max(band[0], 1 - step / 2 / figure), min(band[1], 1 + step / 2 / figure)


# What introduces a worked-out figure ("= $500", "comes to about $42", "that's 30 days", "so
# ... is $6,772"), within _CUE_CHARS before it, or follows it ("€36 in total").
_RESULT_BEFORE = re.compile(r"=|\b(?:totals?|comes? to|works? out|adds? up|that's|that is|costs?|"
                            r"becomes?|would be|which is|which means|so|gives|leaves|remaining|"
                            r"each|apiece|average)\b")
# ... or a difference or a quotient: right before it ("down 135 kWh", "a decrease of $76.37",
# "cheaper by $360"), or after it and its unit ("22 miles more", "37,000 each on average").
_SAVES = r"(?:saves?|saving)(?: you| them| us| me)?"  # "saves you $3"
_BY = r"up|down|by|" + _SAVES
_CHANGE = (r"difference|decrease|increase|drop|rise|gain|loss|savings?|reduction|change|jump|dip"
           r"|fall|swing|gap")
_RESULT_JUST_BEFORE = re.compile(
    rf"(?:\b(?:{_BY})|\b(?:{_CHANGE}) of)\s+(?:" + "|".join(
        ("about", "around", "roughly", "nearly", "almost", "approximately", "some",
         r"just (?:over|under)")) + r"\s+)?\W?$")
_AS_RESULT = (r"(?:more|less|fewer|higher|lower|cheaper|longer|shorter|faster|slower|bigger|"
             r"smaller|larger|greater|extra|apart|each|apiece|on average|per serving)\b")
_TOTAL = r"(?:in total|in all|altogether)\b"
_RESULT_AFTER = re.compile(r"\W*(?:[^\W\d]+\W+)?(?:" + _TOTAL + "|" + _AS_RESULT + ")")
_TOTAL_HINT = re.compile(_TOTAL)  # where _RESULT_AFTER can match at all: a literal scan
# Where either can match at all: a scan of words, not of every figure's surroundings.
_RESULT_HINT = re.compile(_AS_RESULT + rf"|\b(?:{_BY}|{_CHANGE})\b")
_CUE_CHARS = 60
# A figure in brackets right after a count and what it counts may be that count times an
# amount of the figure's unit the text gives: "six tablets (1,200 mg)" with "200 mg tablets".
# Only that product (a review: any two figures' product or sum let "8 tablets (6,000 mg)"
# pass as 1,000 mg x 6 hours), and not after a name's digits ("The X2 (70 min)").
_IN_BRACKETS = re.compile(
    r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)\s+[^\W\d]+(?:\s+[^\W\d]+)?\s*\(\s*\W?$")
# A change in percent said to be a fall, right before or after it ("20% cheaper", "down 20%",
# "saves you 20%", "a 20% discount"): only then is it a fall from the higher of two amounts
# (a review: "went up 20%, from $12 to $15" passed as (15 - 12) / 15).
_FALL_AFTER = re.compile(r"\s*(?:%|percent)?\s*(?:cheaper|less|lower|fewer|smaller|shorter|off|"
                         r"discount|decrease|drop|reduction|cut|saving|below)(?![\w-])")
# ... and not where the text says it rose ("rose 20%, less than expected", a review)
_RISE_BEFORE = re.compile(r"\b(?:rose|rise[sn]?|up|increas\w*|grew|grow[sn]?|more|higher|rais\w*|"
                          r"hike\w*|jump\w*|climb\w*|went up)\b[^.;!?]*$")
_FALL_BEFORE = re.compile(r"\b(?:down|cheaper|less|lower|" + _SAVES + r"|"
                          r"cut|fell|fall|falls|dropped|drops|decreased|decreases|reduced|"
                          r"reduces|discount of|reduction of|decrease of|drop of)\s+(?:by\s+)?"
                          r"(?:about\s+|around\s+|roughly\s+|nearly\s+|almost\s+)?\W?$")
# A quotient only where the text divides: of a few small figures, some quotient lands near
# almost any number ("a 4 × 4 ft unit for $40 ... a 5 × 10 ft unit": 40 / 4).
_DIVIDING = re.compile(r"[÷/]|\b(?:divided|split|shared|each|apiece|average|averages|averaging"
                       r"|per (?:serving|person|head|portion|user|seat|member|guest))\b")
_WORKED_FIGURES = 12  # more figures than this in one window: no search for worked-out ones
# A time of day or a day of a month is no amount ("runs 10:30 to 12:00, so the fee is $40" is
# no 10 + 30; "from March 5 to March 20, so 25% off" no 5 + 20): it combines only with its own
# kind into a duration ("10:00 to 18:00, which is 8 hours"; "ends April 30, so from April 25
# that's 5 days") or with an amount into its own kind. A percentage combines with a
# percentage, or is taken of an amount ("20% off $150, so $120"); never added to one ("$50
# with 20% off, so $30") nor multiplied by a count into a percentage ("6% over 5 years, 30%").
_CLOCK = re.compile(r"(?<![\d.:,])(\d{1,2})(?::|\.(?=\d\d\s*[ap]\.?m\b))(\d\d)(?!\d)"
                    r"(?:\s*([ap])\.?m\b\.?)?"
                    r"|(?<![\d.:,])(\d{1,2})\s*([ap])\.?m\b\.?", re.IGNORECASE)
_DATE_DAY = re.compile(rf"\b({_MONTH_NAMES})\.?\s+{_DAY}\b|\b{_DAY}\s+(?:of\s+)?({_MONTH_NAMES})\b")
_PERCENT_AFTER = re.compile(r"\s*(?:%|per\s?cent\b|pct\b)", re.IGNORECASE)
# (a hyphen too, as _NUMBER_AND_UNIT reads one: "the 59-minute grace period" is of minutes, no
# bare 59 that moved "14:00" by hours: a probe of schedules)
_UNIT_AFTER = re.compile(rf"(?:-|\s*){_QUALIFIER}(%|per\s?cent\b|{_UNIT_NAME})")
# The words of hours and of minutes after a figure (as _unit reads them: _HOURS_IN)
_HOUR_WORD = r"(?:hours?|hrs?|h)"
_MINUTE_WORD = r"(?:minutes?|mins?|m)"
_DURATION_AFTER = {"clock": re.compile(r"[\s-]*(?:hours?|hrs?)\b"),
                   "date": re.compile(r"[\s-]*(?:days?|nights?)\b")}
# What an amount of these units is in hours, moving a time of day (a bare number counts hours,
# as "3 hours after" or "plus 2" did before; no other unit moves a clock).
_HOURS_IN = {**dict.fromkeys(("hour", "hr", "hrs", "h", ANY_UNIT), Decimal(1)),
             **dict.fromkeys(("minute", "min", "mins"), Decimal(60))}
# Where the text speaks of time zones, a time worked out of another may be in either zone
# (a review: "so you land at 11:25" against "arrives 10:25 local time" passed as 9:40 + 1:45).
_TIME_ZONE = re.compile(r"\b(?:[Ll]ocal|[Tt]ime[- ]zones?|GMT|UTC|[ECMPH][SD]?T|CES?T|BST|IST|JST"
                        r"|AE[SD]T|Pacific|Mountain|Central|Eastern|Atlantic|Greenwich)\b")
# A duration said to come before ("15 minutes early", "2 hours before"): only beside it (a
# review: "Arrive early: ... so you land at 7:25" passed as 9:40 - 2:15)
_EARLIER = re.compile(rf"\b\d+(?:\.\d+)?\s*(?:{_HOUR_WORD}|{_MINUTE_WORD})\b\W{{0,2}}(?:\w+\W+)?"
                      r"(?:before|beforehand|early|earlier|sooner|prior|ahead|ago|back|advance)\b",
                      re.IGNORECASE)
# A time of day given as a limit ("return it up to 14:59", "by 11:55") is a result too: the
# window's time and duration it is worked out of must still add up (a probe of schedules
# halted "14:00 ... with the 59-minute grace period ... up to 14:59").
_CLOCK_LIMIT_BEFORE = re.compile(r"\b(?:up to|until|till|by|no later than)\s+$")
_CLOCK_SLACK = Decimal(1) / 120  # a worked-out time of day is right to the half minute ...
_HEDGED_CLOCK_SLACK = Decimal(1) / 4  # ... or "about" it, to the quarter hour


def _figure_kinds(spelled: str) -> dict[int, tuple[str, Decimal | None]]:
    """Where a figure of ``spelled`` starts: ("clock", its time in hours on a 24-hour clock,
    minutes included), ("minute", None) for the minutes of a time, or ("date", its day of a
    common year) for a day of a month."""
    kinds: dict[int, tuple[str, Decimal | None]] = {}
    for m in _CLOCK.finditer(spelled):
        hour_group, half = (1, m.group(3)) if m.group(1) else (4, m.group(5))
        time = time_of_day(int(m.group(hour_group)), int(m.group(2) or 0), half)
        if time is None:  # "28:25": a lap's figures are amounts
            continue
        if m.group(2):
            kinds[m.start(2)] = ("minute", None)
        kinds[m.start(hour_group)] = ("clock", time[0] + Decimal(time[1]) / 60)
    for m in _DATE_DAY.finditer(spelled):
        day_group, month = (2, m.group(1)) if m.group(2) else (3, m.group(4))
        try:
            day = datetime.date(2001, _MONTH_NUMBER[month.lower()], int(m.group(day_group)))
        except ValueError:  # "February 30"
            continue
        kinds.setdefault(m.start(day_group), ("date", Decimal(day.timetuple().tm_yday)))
    return kinds


def _unit_of(text: str, match: re.Match[str]) -> str:
    """The unit of the figure ``match`` (group 1) in ``text``: a currency sign before it, else
    the word after it as :func:`_unit` reads it, else :data:`ANY_UNIT`."""
    before = text[max(0, match.start(1) - 2):match.start(1)].rstrip()
    if before[-1:] in _CURRENCY:
        return before[-1]
    after = _UNIT_AFTER.match(text, match.end(1))
    return _unit(after.group(1)) if after else ANY_UNIT


_Figure = tuple[re.Match[str], Decimal, "str | None", str]


def drop_worked_out(text: str, evidence: Mapping[str, frozenset[str]], previous: str = "",
                    derived: Callable[[], list[ColumnWork]] | None = None,
                    nearby: Sequence[str] = ()) -> str:
    """``text`` without the figures it works out from two other figures (a sum, difference,
    product, a quotient where it divides or averages, a share or change in percent of two
    amounts, a percentage of an amount, a duration between two times or days:
    :func:`_combinations`; to the result's own precision and within 1 %, or within its
    hedge's band, money rounded): realistic answers compute ("two adult tickets at €18 each,
    €36 in total") and the result, stated nowhere in the evidence, halted them. The operands
    are the window's other figures, before or after the result ("about 30% of your gross:
    $853.98 out of $2,817.28", "down 135 kWh from 1,104"), and the ``previous`` window's ("For
    the 4 days:" then "$250.00 ($62.50/day)"). Its operands stay and are checked like any
    figure, so a wrong rate still halts; a miscalculated result is no combination, and halts.
    Only a figure the text gives as a result ("= $500", "that's 30 days", "€36 in total", "22
    miles more", "a decrease of $76.37", "cheaper by $360"; a percentage of two amounts needs
    no cue: it is one), of no unit or of an operand's ("$10 per month for 2 users, so 12
    days" is no sum: a review), and never a year: "5 to 10 days for $15" is no worked-out sum.
    ``derived`` gives what the window works out of each column of the evidence's lists
    (:meth:`~stream_guard.text.rows.RowIndex.derived`; asked for only where the window has a
    figure the evidence does not state): a figure that is one of a column's, of the column
    its unit or its words name (a figure of money, of no unit, or of a word the evidence
    counts nothing in, "148,190 downloads", of a column the window names, else of money and
    bare numbers), is worked out too; a percentage only as a share of a column the window or
    the one before names.

    ``nearby``: the evidence sentences nearest the window (its premise), which may say that a
    time of day the window works out is not the evidence's (``clock_stays`` below).

    Right arithmetic on the wrong rule passes the lexical signals: adding up parts where the
    evidence prices the bundle, or leave days where it caps the carry-over at 5 (a review);
    only the detector can see it. Keeping such a result in the contradiction check halted
    faithful sums again: a figure of any unit the evidence gives other figures of ("that's 30
    days", "$500 per week") is a conflict there.

    A length of a range of the evidence's times that the window names ("open for 8 hours" of
    "Saturday 9am-5pm") is left out first (:func:`~stream_guard.text.hours.drop_spans`)."""
    if SPANS in evidence:  # "open for 8 hours" of "9am-5pm" (text.hours)
        text = drop_spans(text, evidence[SPANS])
    kept = _drop_arithmetic(text, evidence, previous, derived, nearby)
    if RATES not in evidence or not has_digit(text):
        return kept
    # the rates worked out read the window as written: a figure its arithmetic worked out
    # ("€240 per user per year" of €1,200 shared by 5) is a rate other figures are worked out of
    worked = _numbers_in(text) - _numbers_in(kept) if kept is not text else set()
    rates_worked = worked_out_rates(_quantity_text(text), evidence, worked)
    if not rates_worked:
        return kept
    return _rewrite(spell_out_numbers(kept), _CONVERTED_FIGURE,
                    lambda m: "" if plain_number(m.group(1)) in rates_worked else None)


def _drop_arithmetic(text: str, evidence: Mapping[str, frozenset[str]], previous: str,
                     derived: Callable[[], list[ColumnWork]] | None,
                     nearby: Sequence[str]) -> str:
    """:func:`drop_worked_out` but for rates over other periods, which are read apart from it
    (:func:`~stream_guard.text.rates.worked_out_rates`), so that each is an operand of the
    other ("$720 ... plus $135 ..., so $855" of two rates; "€240 per user per year, or €20 per
    user per month", 240 of €1,200 shared by 5)."""
    text = _drop_year_spans(_drop_point_changes(_drop_conversions(text, evidence), evidence),
                            evidence)
    low = text.lower()
    if not has_digit(text) or not (derived or _RESULT_BEFORE.search(low)
                                   or _TOTAL_HINT.search(low) or _RESULT_HINT.search(low)
                                   or "%" in low or "percent" in low or "(" in low
                                   or STRENGTHS in evidence):
        return text
    spelled = spell_out_numbers(text)
    figures = _worked_figures(spelled)
    earlier = _worked_figures(spell_out_numbers(previous)) if has_digit(previous) else []
    if len(earlier) > _WORKED_FIGURES:
        earlier = []
    if not figures or len(figures) > _WORKED_FIGURES:
        return text
    cased = spelled.lower()
    stated = evidence.get(ANY_UNIT, frozenset())
    dividing = _DIVIDING.search(cased) is not None
    durations = _durations(spelled)
    operands = [*figures, *earlier, *durations,
                *(_durations(spell_out_numbers(previous)) if earlier else ())]
    # the hours and minutes of "2 hours 15 minutes" move a clock only together (a review:
    # "so you land at 11:40" passed as 9:40 + the 2 hours alone)
    in_durations = {m.start(g) for m, _, _, _ in durations for g in (1, 2)}
    parts = {i for i, (m, _, _, _) in enumerate(figures) if m.start(1) in in_durations}
    of_rows: list[list[ColumnWork]] = []  # derived(), once asked for

    def worked_out(k: int) -> bool:
        match, result, kind, unit = figures[k]
        # (a time of day is worked out though the evidence states its hour: "return it up to
        # 14:59" of its "14:00" and 59 minutes' grace halted, a probe of schedules)
        if kind == "minute" or result <= 0 or (
                kind != "clock" and match.group(1).replace(",", "") in stated):
            return False
        if kind == "clock" and clock_stays():
            return False
        start, end = match.span()
        places = len(match.group(1).partition(".")[2])
        # Rounded to its last digit, and within 1 %; after a hedge to its last digit, or to
        # its last but zeros past its first two digits ("about 30%" for 30.3 %, "roughly 280
        # ... 14 g", "about $140" for $139.06, "about 37,000" for 37,047.5)
        whole = match.group(1).replace(",", "").partition(".")[0]
        if not _HEDGE.search(spelled, max(0, start - _CUE_CHARS), start):
            own = min(Decimal(5).scaleb(-places - 1), result / 100)
        else:
            zeros = min(len(whole) - len(whole.rstrip("0")), len(whole) - 2)
            own = Decimal(5).scaleb(-places - 1 if places or zeros < 1 else zeros - 1)
        cued = (_RESULT_BEFORE.search(cased, max(0, start - _CUE_CHARS), start)
                or _RESULT_JUST_BEFORE.search(cased, max(0, start - _CUE_CHARS), start)
                or _RESULT_AFTER.match(cased, end, end + 25)
                or (kind == "clock" and _CLOCK_LIMIT_BEFORE.search(cased, max(0, start - 12),
                                                                     start)))
        falling = kind == "percent" and bool(
            _FALL_AFTER.match(cased, end, end + 25)
            or _FALL_BEFORE.search(cased, max(0, start - _CUE_CHARS), start)
        ) and not _RISE_BEFORE.search(cased, max(0, start - _CUE_CHARS), start)
        # Of the rows (derived): to its own last digit, whatever the hedge ("about 37,000 each"
        # for 37,047.5; "roughly 271 million" is no average of prices in the band of its hedge)
        if derived is not None and kind in (None, "percent"):
            if not of_rows:
                of_rows.append(derived())
            if any(bisect.bisect_left(pool, result - own) < bisect.bisect_right(pool, result + own)
                   for pool in _pools(of_rows[0], kind, unit, evidence, cued is not None)):
                return True
        band = _hedge_before(spelled, match.start())
        if kind == "clock":
            own = _CLOCK_SLACK if band is None else _HEDGED_CLOCK_SLACK
        # else within 1 %: 5,838 / 934 = 6.25 is no 6
        if kind in ("percent", "clock") or band is None:
            lo, hi = result - own, result + own
        else:
            share = _hedge_band(band, match.group(1), unit in _CURRENCY or unit in _MONEY_WORDS)
            lo, hi = result * Decimal(str(share[0])), result * Decimal(str(share[1]))
        if not cued and kind in (None, "percent") and (count := _IN_BRACKETS.search(
                cased, max(0, start - _CUE_CHARS), match.start(1))) is not None:
            # the amount given in the text, or the evidence's where it gives that unit one
            # figure ("two midterms (40% combined)" of a syllabus's "20% each"; not of any of
            # its figures: "4 tablets (800 mg)" is no 4 x the adult 200 mg beside children's
            # 100 mg, a review)
            times = Decimal(count.group(1).replace(",", ""))
            names = _UNIT_NAMES.get(unit, (unit,))
            amounts = [x for i, (_, x, kind_x, unit_x) in enumerate(operands)
                       if i != k and kind_x == kind and unit_x in names]
            given = {n for name in names for n in evidence.get(name, ())}
            if len(given) == 1 and (x := _decimal(given.pop())) is not None:
                amounts.append(x)
            if any(lo <= times * x <= hi for x in amounts):
                return True
        if kind is None and (strengths := evidence.get(STRENGTHS)):
            # a dose's amount of the medicine's strength, cued or not: "Two tablets is 400
            # mg." of "Ibuprofen 200 mg Tablets", "a 7.5 ml dose contains 180 mg" of "120 mg/5
            # ml" (a probe of leaflets: both contradicted), of a count the evidence gives of
            # its form: "3 tablets at once, which is 600 mg" of "take 1 or 2 tablets" is a
            # wrong dose, the 600 mg its conflict (a review)
            for i, (match_x, x, kind_x, unit_x) in enumerate(operands):
                if i != k and kind_x is None and unit_x not in (ANY_UNIT, unit) and (
                        per := _strength_of(strengths, unit, unit_x)) is not None \
                        and lo <= x * per <= hi and any(
                            plain_number(match_x.group(1)) in evidence.get(name, ())
                            for name in _UNIT_NAMES.get(unit_x, (unit_x,))):
                    return True
        if (not cued and kind != "percent") or len(operands) < 3:
            return False
        for i, (_, a, kind_a, unit_a) in enumerate(operands):
            for j in range(i + 1, len(operands)):
                _, b, kind_b, unit_b = operands[j]
                if k in (i, j) or (kind == "clock" and (i in parts or j in parts)):
                    continue
                if (kind is None and unit != ANY_UNIT and None is kind_a is kind_b
                        and unit_a not in (names := _UNIT_NAMES.get(unit, (unit,)))
                        and unit_b not in names):
                    continue  # an amount of another unit than both: no arithmetic
                if kind == "percent" and not cued and not (
                        None is kind_a is kind_b and j < len(figures)):
                    continue  # uncued, only a share of two of the window's amounts
                if kind is None is kind_a is kind_b and (
                        sizes := _sizes_in(unit, unit_a, unit_b)) is not None:
                    # of one measure in two units: added or taken away in the result's, if
                    # cued: "3 years after the 12-month guarantee, so 4 years in total" (a
                    # probe of policies: contradicted, while "so 15 years" passed as 3 + 12)
                    a_in, b_in = a * sizes[0], b * sizes[1]
                    if cued and any(lo <= x <= hi for x in (a_in + b_in, abs(a_in - b_in))):
                        return True
                    continue
                found = _combinations(a, kind_a, unit_a, b, kind_b, unit_b, kind, dividing,
                                      spelled, end, falling)
                if any(lo <= x <= hi for x in (found if cued else found[:1])):
                    return True
        return False

    @functools.cache  # the same for every time of day of the window: read once, if asked
    def clock_stays() -> bool:
        """A time of day the text may not work out: where it speaks of time zones (a
        departure plus the flight's length is no arrival in another zone), where the sentences
        nearest it state a time of day the window does not (the evidence's own arrival time,
        "10:25 local", outweighs 9:40 + 1:45: a review), or where the window gives more than
        one duration (a sum of some of them, the bake without the cooling, is no answer)."""
        if any(_TIME_ZONE.search(t) for t in (text, previous, *nearby)):
            return True
        own = {v for _, v, kind_x, _ in operands if kind_x == "clock"}
        if any(value not in own for sentence in nearby for value in _clock_values(sentence)):
            return True
        return sum(1 for i, (_, _, kind_x, unit_x) in enumerate(operands)
                   if i not in parts and (kind_x == "duration" or (
                       kind_x is None and unit_x != ANY_UNIT and unit_x in _HOURS_IN))) > 1

    drop = {_with_minutes(spelled, figures[k]) for k in range(len(figures)) if worked_out(k)}
    if not drop:
        return text
    for start, end in sorted(drop, reverse=True):
        spelled = spelled[:start] + spelled[end:]
    return spelled


_MINUTES_AFTER = re.compile(r"(?::\d\d)+")


def _with_minutes(spelled: str, figure: _Figure) -> tuple[int, int]:
    """The span of a worked-out figure: a time of day's with its minutes ("11:55"; its hour
    alone left ":55" a figure the evidence does not state)."""
    start, end = figure[0].span(1)
    if figure[2] == "clock" and (m := _MINUTES_AFTER.match(spelled, end)):
        end = m.end()
    return start, end


def _clock_values(sentence: str) -> set[Decimal]:
    """The times of day ``sentence`` writes, in hours (:func:`_figure_kinds`)."""
    return {v for kind, v in _figure_kinds(spell_out_numbers(sentence)).values()
            if kind == "clock" and v is not None}


def _pools(works: list[ColumnWork], kind: str | None, unit: str,
           evidence: Mapping[str, frozenset[str]], cued: bool) -> list[list[float]]:
    """The values of ``works`` (:meth:`~stream_guard.text.rows.RowIndex.derived`) a figure of
    ``kind`` and ``unit`` may be (see :func:`drop_worked_out`)."""
    if kind == "percent":
        return [w.shares for w in works if w.named]
    money = unit in _CURRENCY
    columns = [] if money or unit == ANY_UNIT else [w for w in works if unit in w.units]
    if not columns and (money or unit == ANY_UNIT or (unit not in evidence
                                                      and unit not in _CONVERTS)):
        # money, no unit, or a word the evidence counts nothing in: a column the window
        # names, of money and bare numbers where it is money
        candidates = [w for w in works if w.units[0] == ANY_UNIT] if money else works
        columns = [w for w in candidates if w.named] or candidates
    return [w.plain for w in columns] + ([w.cued for w in columns] if cued else [])


def _worked_figures(spelled: str) -> list[_Figure]:
    """The figures of ``spelled`` (numbers in digits) that arithmetic may combine, each with
    its value, its kind (:func:`_figure_kinds`, or "percent") and its unit; not years."""
    figures = [(m, v) for m in _WHOLE_FIGURE.finditer(spelled)
               if not _YEAR.fullmatch(m.group(1))
               and (v := _decimal(m.group(1).replace(",", ""))) is not None]
    if not figures:
        return []
    at = _figure_kinds(spelled)
    out: list[_Figure] = []
    for m, value in figures:
        found = at.get(m.start(1))
        kind = (found[0] if found else
                "percent" if _PERCENT_AFTER.match(spelled, m.end(1)) else None)
        out.append((m, found[1] if found and found[1] is not None else value, kind,
                    _unit_of(spelled, m)))
    return out


def _durations(spelled: str) -> list[_Figure]:
    """The durations in hours and minutes of ``spelled`` (figures.HOURS_AND_MINUTES: one
    amount a time of day moves by, "leaves at 9:40 ... 2 hours 15 minutes, so you land at 11:55"
    halted a faithful answer, as did "starts at 2 pm and lasts 90 minutes, so it ends at 3:30"),
    each as one operand of kind "duration" in hours: it only moves a time of day."""
    return [(m, int(m.group(1)) + Decimal(int(m.group(2))) / 60, "duration", "hour")
            for m in HOURS_AND_MINUTES.finditer(spelled) if int(m.group(2)) < 60]


# A change between two percentages, in points ("rose 13 percentage points", "up 170 basis
# points", "a 1.7pp gain"): summaries of surveys and earnings write it, and it is no figure the
# evidence states, nor a percentage ("1.7 percentage points" was read as 1.7 %).
_POINT_CHANGE = re.compile(_FIGURE_RUN + r"[\s-]*(?:(percentage|basis)[\s-]+points?\b|(pp|bps?)\b)")


def _drop_conversions(text: str, evidence: Mapping[str, frozenset[str]]) -> str:
    """``text`` without each figure that converts one the evidence gives in another unit of its
    measure ("22°C, about 72°F", "1.09 kg (2.4 lb)", "19 km/h, roughly 12 mph"): worked out of
    the evidence, as the figures of :func:`drop_worked_out` are (a blind probe of answers from
    tools' data halted on such conversions). A conversion that is wrong ("22°C, about 62°F")
    stays, a new figure; so does any figure the evidence gives in its own unit, checked as
    written. The number goes, its unit stays as a word."""
    if not has_digit(text) or not any(unit in _CONVERTS for unit in evidence):
        return text
    # a unit under another of its names is no conversion: "60 min" is the evidence's "60
    # minutes", an operand of "20 minutes longer" to keep (a review)
    found = [(number, unit) for number, unit in _numbers(_quantity_text(text))
             if unit in _CONVERTS and not any(number in evidence.get(name, frozenset())
                                              for name in _UNIT_NAMES.get(unit, (unit,)))]
    measures = {_CONVERTS[unit][0] for _, unit in found}
    given = [(unit, value) for unit, numbers in evidence.items()
             if unit in _CONVERTS and _CONVERTS[unit][0] in measures
             for number in numbers if (value := _decimal(number)) is not None]
    slack = _HEDGED_CONVERSION_SLACK if _HEDGE.search(text) else _CONVERSION_SLACK
    converted = {number for number, unit in found
                 if (value := _decimal(number)) is not None
                 and any(_converts(value, unit, amount, other, slack)
                         for other, amount in given
                         if other not in _UNIT_NAMES.get(unit, (unit,)))}
    if not converted:
        return text
    return _rewrite(text, _CONVERTED_FIGURE,
                    lambda m: "" if plain_number(m.group(1)) in converted else None)


def rate_period_swapped(window: str, evidence: Mapping[str, frozenset[str]]) -> bool:
    """Whether the window gives one of the evidence's rates over another period
    (:func:`stream_guard.text.rates.period_swapped`: "£15 a year" of "£15 a month")."""
    return RATES in evidence and has_digit(window) and period_swapped(_quantity_text(window),
                                                                      evidence)


def _numbers_in(text: str) -> set[str]:
    """The figures of ``text``, as plain numbers (numbers in words as digits)."""
    return {plain_number(m.group(1))
            for m in _CONVERTED_FIGURE.finditer(spell_out_numbers(text))}


_CONVERTED_FIGURE = re.compile(r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)(?![\d,.]\d)")


def _converts(value: Decimal, unit: str, amount: Decimal, other: str, slack: Decimal) -> bool:
    """Whether ``value`` ``unit`` is ``amount`` ``other`` converted (see :data:`_CONVERTS`),
    within ``slack`` of it."""
    measure, size = _CONVERTS[unit]
    other_measure, other_size = _CONVERTS[other]
    if measure != other_measure:
        return False
    if measure == "temperature":
        exact = amount * 9 / 5 + 32 if unit == "degf" else (amount - 32) * 5 / 9
    else:
        exact = amount * Decimal(str(other_size)) / Decimal(str(size))
    return abs(value - exact) <= abs(exact) * slack


def _drop_point_changes(text: str, evidence: Mapping[str, frozenset[str]]) -> str:
    """``text`` without each change in points that is the difference of two percentages the
    evidence compares (:data:`POINT_CHANGES`, to the figure's own precision): worked out of the
    evidence, like the figures of :func:`drop_worked_out`; any other stays, a new figure."""
    changes = [v for n in evidence.get(POINT_CHANGES, ()) if (v := _decimal(n)) is not None]
    low = text.lower()
    if not changes or ("point" not in low and "pp" not in low and "bp" not in low):
        return text  # most text: a literal scan

    def dropped(match: re.Match[str]) -> str | None:
        value = _decimal(match.group(1).replace(",", ""))
        if value is None:
            return None
        basis = match.group(2) == "basis" or (match.group(3) or "").startswith("bp")
        points = value / 100 if basis else value
        places = len(match.group(1).partition(".")[2]) + (2 if basis else 0)
        slack = Decimal(5).scaleb(-places - 1)
        if any(abs(change - points) <= slack for change in changes):
            return match.group()[len(match.group(1)):].lstrip()  # the unit stays, as words
        return None

    return _rewrite(text, _POINT_CHANGE, dropped)


def _sizes_in(unit: str, unit_a: str, unit_b: str) -> tuple[Decimal, Decimal] | None:
    """How many of ``unit`` one of ``unit_a`` and one of ``unit_b`` are, where all three are
    units of one measure (:data:`_MEASURES`) and the two are not both ``unit``."""
    sizes = [_MEASURES.get(u) for u in (unit, unit_a, unit_b)]
    if any(size is None for size in sizes) or len({size[0] for size in sizes if size}) != 1:
        return None
    own, of_a, of_b = (Decimal(str(size[1])) for size in sizes if size)
    return None if of_a == own == of_b else (of_a / own, of_b / own)


def _combinations(a: Decimal, kind_a: str | None, unit_a: str, b: Decimal, kind_b: str | None,
                  unit_b: str, kind: str | None, dividing: bool, text: str, end: int,
                  falling: bool = False) -> list[Decimal]:
    """What two figures of these kinds (see :func:`_figure_kinds`; "percent"; "duration" for
    :func:`_durations`) and units can work out to a result of ``kind`` that ends at ``end``
    of ``text`` (``falling``: a percentage the text says is a fall)."""
    if "minute" in (kind_a, kind_b):
        return []
    if "duration" in (kind_a, kind_b) and "clock" not in (kind_a, kind_b):
        return []
    when = {kind_a, kind_b} & {"clock", "date"}
    if when:
        if kind_a is not None and kind_a == kind_b:  # "10:00 to 18:00, which is 8 hours"
            duration = _DURATION_AFTER[kind_a].match(text, end)
            return [abs(a - b)] if kind is None and duration else []
        if when == {"clock"} and kind == "clock":  # "leaves 9:40, 2 hours 15 minutes, so 11:55"
            clock, (amount, unit, other) = ((a, (b, unit_b, kind_b)) if kind_a == "clock"
                                            else (b, (a, unit_a, kind_a)))
            if other not in (None, "duration") or (per_hour := _HOURS_IN.get(unit)) is None:
                return []
            # later, or earlier where the text says so: "arrive 15 minutes early, so at 4:30"
            # is no 4:15 + 15 minutes, nor "ends at 6:30 am" 9:00 - 2 hours 30 (a review)
            moved = clock - amount / per_hour if _EARLIER.search(text, 0, end) else (
                clock + amount / per_hour)
            return [(moved % 24 + 24) % 24]  # Decimal's % keeps the sign: -0.25 % 24 is -0.25
        if len(when) == 1 and None in (kind_a, kind_b) and kind == when.pop():
            return [a + b, abs(a - b)]  # "arrives 3 days after March 5, so March 8"
        return []
    if "percent" in (kind_a, kind_b):
        if kind_a == kind_b:  # "6% plus 2% is 8%"
            return [a + b, abs(a - b)] if kind == "percent" else []
        amount, share = (b, a) if kind_a == "percent" else (a, b)
        return ([] if kind is not None
                else [amount * share / 100, amount * (100 - share) / 100,
                      amount * (100 + share) / 100])
    if kind == "percent" and None is kind_a is kind_b:  # a share, then a change, in percent
        low, high = min(a, b), max(a, b)
        # a share, a rise from the lower, and where the text says so a fall from the higher
        # ("20% cheaper ($12 vs. $15)")
        if low <= 0:
            return []
        return [low * 100 / high, (high - low) * 100 / low,
                *([(high - low) * 100 / high] if falling else [])]
    if kind is not None:  # no date or time is worked out of two amounts
        return []
    found = [a + b, abs(a - b)]
    if 1 not in (a, b) and 0 not in (a, b):
        found += [a * b, a / b, b / a] if dividing else [a * b]
    return found


# Units one figure converts between: (measure, size in the measure's base unit), by the unit
# word as _unit reads it. Only unambiguous words: not "m" (metres, minutes or millions), "s",
# "h", "l", "t", nor miles or pounds against metric (a different system is another claim).
_MEASURES: dict[str, tuple[str, float]] = {
    **dict.fromkeys(("second", "sec", "secs"), ("time", 1.0)),
    **dict.fromkeys(("minute", "min"), ("time", 60.0)),
    **dict.fromkeys(("hour", "hr", "hrs"), ("time", 3600.0)),
    "day": ("time", 86400.0), **dict.fromkeys(("week", "wk", "wks"), ("time", 604800.0)),
    "fortnight": ("time", 1209600.0), "month": ("time", 2629800.0),
    **dict.fromkeys(("year", "yr", "yrs"), ("time", 31557600.0)),
    **dict.fromkeys(("mg", "milligram", "milligramme"), ("mass", 0.001)),
    **dict.fromkeys(("g", "gram", "gramme"), ("mass", 1.0)),
    **dict.fromkeys(("kg", "kgs", "kilogram", "kilogramme", "kilo"), ("mass", 1000.0)),
    "tonne": ("mass", 1e6),
    **dict.fromkeys(("mm", "millimetre", "millimeter"), ("length", 0.001)),
    **dict.fromkeys(("cm", "centimetre", "centimeter"), ("length", 0.01)),
    **dict.fromkeys(("metre", "meter"), ("length", 1.0)),
    **dict.fromkeys(("km", "kms", "kilometre", "kilometer"), ("length", 1000.0)),
    **dict.fromkeys(("ml", "millilitre", "milliliter"), ("volume", 0.001)),
    **dict.fromkeys(("litre", "liter"), ("volume", 1.0)),
}
# Months and years have no fixed length in days or weeks: "30 days" or "31 days" is a month,
# "52 weeks" or "365 days" a year, within this share. Not "4 weeks" for a month, nor "13
# months" for a year (a review found a looser share read such wrong figures as the evidence's);
# months and years between themselves, and every other conversion, are exact within rounding.
_LOOSE_UNITS = frozenset({"month", "year", "yr", "yrs"})
_LOOSE_SHARE = 0.035

_CONVERTIBLE = re.compile(_FIGURE_RUN + r"[ \t-]?([a-z]+)\b")
# A number in words before its unit ("two-week trial", "one year"): "one" too, since a unit
# follows it (alone it is mostly a pronoun, see _spelled_number).
_SPELLED_CONVERTIBLE = re.compile(r"(" + _SPELLED.pattern + r")[ \t-]?([a-z]+)\b")


_EXACT_SHARE = 0.005  # a conversion's rounding


def _stated_measures(evidence: Mapping[str, frozenset[str]]
                     ) -> list[tuple[str, tuple[str, float], float, str]]:
    """The evidence's figures of units of a measure (:data:`_MEASURES`): (unit, its measure
    and size, value, the figure as written)."""
    return [(unit, _MEASURES[unit], v, n) for unit, numbers in evidence.items()
            if unit in _MEASURES for n in numbers if (v := _value(n)) is not None]


def _resolve_converted(text: str, evidence: Mapping[str, frozenset[str]]) -> str:
    """``text`` with each figure the evidence states in another unit of its measure written
    as the evidence writes it ("120 minutes" as "2 hours", "a two-week trial" as "14 day");
    see :func:`resolve_hedged_numbers`.

    Like a number the evidence states anywhere (:func:`quantity_conflict`), a figure equal to
    any of the evidence's figures of its measure is read as that one, whichever fact the
    evidence states it of: "charges in 120 minutes" against "charges in 90 minutes; shipping
    takes 2 hours" is then no contradiction (the words, and the detector, still judge it)."""
    stated = _stated_measures(evidence)
    if not stated:
        return text

    def convert(number: str, word: str) -> str | None:
        unit = _unit(word)
        measure = _MEASURES.get(unit)
        value = _value(number)
        if measure is None or not value or number.replace(",", "") in evidence.get(unit, ()):
            return None
        size = value * measure[1]
        for other, (kind, factor), v, written in stated:
            if kind != measure[0] or other == unit or not v:
                continue
            loose = (unit in _LOOSE_UNITS) != (other in _LOOSE_UNITS)  # month vs days, weeks
            slack = _LOOSE_SHARE if loose else _EXACT_SHARE
            if abs(v * factor - size) <= slack * size:
                return f"{written} {other}"
        return None

    def spelled(match: re.Match[str]) -> str | None:
        run = text[slice(*match.span(1))]
        number = "1" if run.lower() == "one" else _spelled_number(run)
        return convert(number, match.group(2)) if number.isdigit() else None

    if has_digit(text):
        text = _rewrite(text, _CONVERTIBLE, lambda m: convert(m.group(1), m.group(2)))
    return _rewrite(text, _SPELLED_CONVERTIBLE, spelled)


def _resolve_scaled(text: str, evidence: Mapping[str, frozenset[str]]) -> str:
    """``text`` with each scaled figure replaced by the closest number of the evidence it
    rounds to (see :func:`resolve_hedged_numbers`): any the evidence states but a year (a
    "$2k" is not 2019's). A range's first number is scaled as its last ("$425–435 million")."""
    if not _FIGURE_HINT.search(text):
        return text
    text = _range_firsts(text)

    def closest(match: re.Match[str]) -> str | None:
        scale = _scale_of(text, match)
        number = match.group(1).replace(",", "")
        value = None if scale is None else _scaled_value(number, scale[0])
        if scale is None or value is None or value <= 0:
            return None
        band = _hedge_before(text, match.start())
        if band is None:
            decimals = len(number.partition(".")[2])
            slack = min(Decimal(5).scaleb(scale[0] - decimals - 1), value / 20)
            lo, hi = value - slack, value + slack
        else:
            lo, hi = value * Decimal(str(band[0])), value * Decimal(str(band[1]))
        near = [(abs(v - value), n) for v, n in _between(_decimals(evidence[ANY_UNIT]), lo, hi)
                if not _YEAR.fullmatch(n)]
        return min(near)[1] if near else None

    return _rewrite(text, _FIGURE, closest)


_YEAR = re.compile(r"1[89]\d\d|20\d\d")
_WHOLE_FIGURE = re.compile(_FIGURE_RUN + r"(?!\.?\d)")  # whole: "6,772." is 6772, not 6
_DECIMAL_AND_UNIT = re.compile(_WHOLE_FIGURE.pattern + r"(?:\s*" + _UNIT_WORD + ")?")


# Digits that hold the sum of two figures of up to _LONGEST_FIGURE digits exactly.
_EXACT_DIGITS = 2 * _LONGEST_FIGURE + 2


def _resolve_decimals(text: str, evidence: Mapping[str, frozenset[str]]) -> str:
    """``text`` with each decimal the evidence does not state replaced by the evidence's number
    it rounds to at its own precision (within half its last digit), which the evidence writes
    to more places: an answer writes "$0.0000133" or "1.23 kg" for the evidence's
    "$0.0000133334" or "1.23456 kg", and that is no changed figure; so is a whole figure of a
    unit ("29 °C" for "29.1 °C")."""
    if not has_digit(text):
        return text
    stated = evidence[ANY_UNIT]

    def closest(match: re.Match[str]) -> str | None:
        number = match.group(1).replace(",", "")
        places = len(number.partition(".")[2])
        word = match.group(2)
        unit = _unit(word) if word else ANY_UNIT
        # a whole number rounds a decimal of its unit ("29 °C" for a forecast's 29.1 °C: a
        # probe's faithful answer halted), a bare one does not (a count, a year, a version)
        value = (_decimal(number) if (places or unit != ANY_UNIT) and number not in stated
                 else None)
        if value is None:
            return None
        # within 5 % too, and of its unit: "3.6 seconds" is no rounded "3.55 miles per kWh",
        # "0.2 mg" no "0.15 mg" (reviews of the first versions)
        with decimal.localcontext(prec=_EXACT_DIGITS):  # the bounds exact, to the last digit
            slack = min(Decimal(5).scaleb(-places - 1), value / 20)
            lo, hi = value - slack, value + slack
        pool = stated if unit == ANY_UNIT else evidence.get(unit, frozenset())
        near = [(abs(v - value), n) for v, n in _between(_decimals(pool), lo, hi)
                if len(n.partition(".")[2]) > places]
        return min(near)[1] if near else None

    return _rewrite(text, _DECIMAL_AND_UNIT, closest, group=1)


def _hedge_before(text: str, start: int) -> tuple[float, float] | None:
    """The band of the hedge right before the figure at ``start`` ("more than $1.5bn"), if any.
    Not "up to"'s: narrower than a rounded figure's own precision, it would read "up to $1.5
    billion" for $1.52 billion as a change."""
    before = text[max(0, start - 24):start].rstrip("".join(_CURRENCY) + " \t").lower()
    for hedge, band in _HEDGES.items():
        if before.endswith(hedge) and not before[:-len(hedge)][-1:].isalnum():
            return None if band is _ROUNDED_UP else band
    return None


def merge_quantities(*indexes: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """One index for evidence from several places: every number each states, per unit (a
    number one source states is not a conflict because another source states a different one)."""
    merged: dict[str, set[str]] = {}
    for index in indexes:
        for unit, numbers in index.items():
            merged.setdefault(unit, set()).update(numbers)
    return {unit: frozenset(numbers) for unit, numbers in merged.items()}


# A day of the week before a date ("Friday, May 16", "Thu 16th May"), read after
# canonical_dates has written the date day first.
_WEEKDAY_NAMES = {**{name: n for n, name in enumerate(_WEEKDAYS)},
                  "Mon": 0, "Tues": 1, "Tue": 1, "Wed": 2, "Thurs": 3, "Thur": 3, "Thu": 3,
                  "Fri": 4, "Sat": 5}  # not "Sun": "The Sun, 16 May 2024"
# Capitalised, so "wed 16 May" (married) is no Wednesday; not the end of a range of days
# ("open Tuesday to Sunday, 9 May to 30 June").
_WEEKDAY_WORD = re.compile(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sunday)")
_WEEKDAY_BEFORE = (r"(?<!to )(?<!through )(?<!until )(?<![-\u2013] )(?<![-\u2013])\b("
                   + "|".join(sorted(_WEEKDAY_NAMES, key=len, reverse=True)) + r")\b\.?,?\s+")
_WEEKDAY_DATE = re.compile(_WEEKDAY_BEFORE + r"(?:the\s+)?(\d{1,2}) (" + _MONTH_NAMES + r")\b")
# ... or its month first, as it is written before any other word ("Friday, September 21 they
# open"), which canonical_dates leaves as it is
_WEEKDAY_MONTH_DAY = re.compile(_WEEKDAY_BEFORE + r"(" + _MONTH_NAMES
                                + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?![\d:])")


# The key of a quantity index under which it keeps its times of day, in minutes past
# midnight: a time said to be in the morning ("3:00 am", figures.MORNING) or on the 24-hour
# clock's afternoon ("15:00") as itself, any other ("3:00") on both halves of the day.
CLOCKS = "@clocks"
_HALF_DAY = 12 * 60
_TIME_OF_DAY = re.compile(_CLOCK_PARTS.pattern + "(" + re.escape(MORNING) + r"\b)?")


def _times_of_day(canonical: str) -> Iterator[tuple[int, bool]]:
    """Each time of day of canonical text, in minutes past midnight, and whether it says which
    half of the day it is in."""
    if ":" not in canonical:
        return
    for m in _TIME_OF_DAY.finditer(canonical):
        hour, minutes = int(m.group(1)), int(m.group(2))
        if time_of_day(hour, minutes) is not None:
            yield hour * 60 + minutes, bool(m.group(3)) or not 1 <= hour <= 12


def _clock_index(canonical: str) -> set[str]:
    """The times of day of the evidence's canonical text (:data:`CLOCKS`)."""
    out: set[str] = set()
    for minutes, placed in _times_of_day(canonical):
        out.add(str(minutes))
        if not placed:
            out.add(str((minutes + _HALF_DAY) % (2 * _HALF_DAY)))
    return out


def other_half_of_day(window: str, evidence: Mapping[str, frozenset[str]]) -> bool:
    """The window says a time of day is in the morning or the afternoon ("2:40 am", "11 at
    night", "15:00") where the evidence gives that time only on the other half of the day
    ("2:40 pm", "11:00 AM", "3:00 AM"): a probe of schedules passed "Check-in is from 3:00 AM"
    against "from 3:00 PM" (the hour and minutes are the evidence's; the terms see a new time,
    one figure among the window's others)."""
    clocks = evidence.get(CLOCKS)
    if not clocks or (":" not in window and not _DAY_HALF_HINT.search(window)):
        return False
    for minutes, placed in _times_of_day(_quantity_text(window, halves=True)):
        if placed and str(minutes) not in clocks \
                and str((minutes + _HALF_DAY) % (2 * _HALF_DAY)) in clocks:
            return True
    return False


_DAY_HALF_HINT = re.compile(r"\d[ \t]?[AaPp]\.?[ \t]?[Mm]\b|\b(?:morning|evening|night|afternoon)"
                            r"\b", re.IGNORECASE)


def weekday_conflict(window: str, evidence: Mapping[str, frozenset[str]]) -> bool:
    """The window gives a date a day of the week ("Friday, May 16") that the date is not in
    any year the evidence gives it ("2024-05-16" was a Thursday): a blind probe's answer from
    a tracking API misnamed the day, which no word or figure shows (the evidence's dates are
    also read with their weekdays, :func:`~stream_guard.text.figures.evidence_readings`, so
    an answer's "Friday" elsewhere is only a new word)."""
    dates = [d for d in evidence.get(DATE_UNIT, ()) if len(d) == 8]
    if not dates or not _WEEKDAY_WORD.search(window):
        return False
    found = [(m.group(1), m.group(3), m.group(2))
             for m in _WEEKDAY_DATE.finditer(canonical_dates(window))]
    found += [(m.group(1), m.group(2), m.group(3)) for m in _WEEKDAY_MONTH_DAY.finditer(window)]
    for weekday, month_name, day_written in found:
        month = _MONTH_NUMBER[month_name.lower()]
        day = int(day_written)
        years = {int(d[:4]) for d in dates if d[4:] == f"{month:02d}{day:02d}"}
        try:
            weekdays = {datetime.date(year, month, day).weekday() for year in years}
        except ValueError:
            continue
        if weekdays and _WEEKDAY_NAMES[weekday] not in weekdays:
            return True
    return False


def quantity_conflict(window: str, evidence: Mapping[str, frozenset[str]]) -> bool:
    """The window gives a quantity of a unit for which the evidence gives a different one, and
    the evidence never states the window's number at all, or only as amounts of other measures
    (:func:`_stated`).

    "450 metres" against evidence saying "330 metres" (and never 450) is a contradiction, not
    merely missing support: swapped numbers are the commonest factual edit, and this rule fires
    only when the evidence talks about the same unit, which keeps it precise. A number the
    evidence does state is not a swap: documents give several figures of one unit ("870
    infected in all, 170 infections lately") and names carry numbers ("737 MAX 9 aircraft").
    A unit is the same unit under any of its names ("3 hrs" against "2 hours", "500 km"
    against "330 kilometres", "3 ft" against "5 feet"), and a bare "m" is millions ("1.2m
    visitors" against "1.5 million"), or metres before a length word ("500 m tall").
    """
    stated = evidence.get(ANY_UNIT, frozenset())
    for number, unit in quantities(window):
        if unit not in evidence:
            # time gone by that the evidence gives none of is read against its spans: "opened
            # 35 years ago" against "in business for 40 years" (a second review)
            unit = _span_unit(unit)
        readings = [(n, u, known) for n, u in _readings(number, unit, window)
                    for known in (evidence.get(name) for name in _UNIT_NAMES.get(u, (u,)))
                    if known is not None]
        if readings and not any(n in known or _stated(n, u, evidence, stated)
                                or _in_range(n, u, evidence) for n, u, known in readings) \
                and not _undated_day(number, unit, evidence.get(unit, frozenset()), stated):
            return True
    return False


def _strengths(canonical: str) -> Iterator[str]:
    """Each strength ``canonical`` text gives (:data:`_STRENGTH`), as "amount unit count
    per-unit"."""
    for match in _STRENGTH.finditer(canonical):
        before = canonical[max(0, match.start() - _STRENGTH_FIGURE_CHARS):match.start()]
        if (figure := _STRENGTH_FIGURE.search(before)) is None:
            continue
        per = match.group(3) or match.group(4).split()[-1]
        if (unit := _unit(match.group(1))) != ANY_UNIT and (of := _unit(per)) not in (
                ANY_UNIT, unit):
            yield (f"{plain_number(figure.group(1))} {unit} "
                   f"{plain_number(match.group(2) or '1')} {of}")


def _strength_of(strengths: frozenset[str], unit: str, per: str) -> Decimal | None:
    """How much of ``unit`` one of ``per`` holds, where the evidence gives one strength of the
    two (:data:`STRENGTHS`): none of several ("100 mg tablets" for children and "200 mg
    tablets" for adults say nothing of "4 tablets (800 mg)": a review)."""
    names, of = _UNIT_NAMES.get(unit, (unit,)), _UNIT_NAMES.get(per, (per,))
    found = set()
    for entry in strengths:
        amount, unit_a, count, per_a = entry.split(" ")
        if unit_a in names and per_a in of and (a := _decimal(amount)) is not None \
                and (n := _decimal(count)) is not None and n > 0:
            found.add(a / n)
    return found.pop() if len(found) == 1 else None


def _in_range(number: str, unit: str, evidence: Mapping[str, frozenset[str]]) -> bool:
    """Whether ``number`` of ``unit`` lies in a range of that unit the evidence gives
    (:data:`RANGES`): a leaflet's "Age 2-4 years: 7.5 ml" answers "at 3 years old, 7.5 ml" (a
    probe's faithful answer was contradicted by the evidence's other years)."""
    ranges = evidence.get(RANGES)
    if not ranges or (value := _decimal(number)) is None:
        return False
    names = _UNIT_NAMES.get(unit, (unit,))
    for entry in ranges:
        low, high, of = entry.split(" ", 2)
        if of in names and (lo := _decimal(low)) is not None \
                and (hi := _decimal(high)) is not None and lo < value < hi:
            return True
    return False


def _stated(number: str, unit: str, evidence: Mapping[str, frozenset[str]],
            stated: frozenset[str]) -> bool:
    """Whether the evidence states ``number`` in a way that may be the window's ``unit``: at
    all, unless the window's unit is a measure and the evidence gives the number only as
    amounts of measures (another unit of its own measure included). A recipe's "200 g of
    cheese" says nothing of an oven at "200 °C" where it says "180 °C" (it passed), while "170
    infections" may well be the window's "170 infected" (nouns are no measures)."""
    if number not in stated:
        return (unit != DATE_UNIT and _CONVERTS.get(_span_unit(unit)) is None
                and number in evidence.get(CLOCK_PARTS, ()))
    units = [u for u, numbers in evidence.items() if u != ANY_UNIT and number in numbers]
    span = _span_unit(unit)
    if _CONVERTS.get(span) is None:
        if span in _AMOUNT_UNITS:
            # an amount under a name the index does not tie to the evidence's ("200 degrees"
            # for its "200°C", "128 gigabytes" for "128 GB": a review of the rule below)
            return True
        # A count may be any count, but no amount of a measure: a price list's "10 GB of
        # storage" says nothing of an answer's "10 seats" where it gives the plan 5 (a
        # probe's swapped plan figure passed); a number it states bare might be anything.
        return any(_span_unit(u) not in _AMOUNT_UNITS for u in units)
    # Of the same measure in another unit is no statement of it either: a leaflet's "last 3
    # months of pregnancy" let "more than 3 days" pass for its "10 days" (a review); the
    # unit's other names were read before this (quantity_conflict's readings). The index's
    # own keys are no units: a list's "5." or a clock's "09:30" stated "5 minutes" and "30
    # minutes" through them (a review of this session's keys: seven caught errors passed);
    # a number it writes bare only is stated, as before.
    real = [u for u in units if not u.startswith("@")]
    if not real:
        return number in evidence.get(BARE, ())
    return any(_CONVERTS.get(_span_unit(u)) is None for u in real)


def unit_swapped(window: str, evidence: Mapping[str, frozenset[str]],
                 near: Sequence[str]) -> bool:
    """The window gives a figure in one unit of a measure where an evidence sentence near it
    (``near``: the sentences its premise was chosen from) gives the same figure of the same
    thing in another unit of that measure, and the evidence (``evidence``, its whole index)
    never gives it in the window's.

    "330 feet tall" against "330 metres tall", "takes 30 hours" against "takes 30 minutes",
    "30 years in detention" against "30 days in detention": the number is the evidence's, so
    :func:`quantity_conflict` (which lets a number the evidence states anywhere pass) finds
    nothing, and word coverage and the detector see one word changed. A unit of another system
    counts here (its figure would be another number, not this one), and a figure the evidence
    also gives in the window's unit does not ("330 metres (1,083 ft)" states both). "Of the
    same thing": a content word beside the figure is the same on both sides (two words before
    it, two after its unit); a policy's "4 weeks' notice" says nothing of an answer's "4 years
    of service", though both are near it.
    """
    found = [(number, unit, measure) for number, unit in quantities(window)
             if (measure := _MEASURE_OF.get(_span_unit(unit))) is not None
             and not any(number in evidence.get(name, ())
                         for name in _UNIT_NAMES.get(unit, (unit,)))]
    for number, unit, measure in found:
        beside = _beside(window, number, unit)
        for sentence in near:
            for unit_of, numbers in _sentence_quantities(sentence).items():
                if (number in numbers
                        and (other := _MEASURE_OF.get(_span_unit(unit_of))) is not None
                        and other[0] == measure[0] and other[1] != measure[1]
                        and not beside.isdisjoint(_beside(sentence, number, unit_of))):
                    return True
    return False


@functools.lru_cache(maxsize=4096)
def _sentence_quantities(sentence: str) -> dict[str, frozenset[str]]:
    """:func:`quantity_index` of one evidence sentence (they recur from window to window)."""
    return quantity_index(sentence)


_WORD_OR_FIGURE = re.compile(r"[A-Za-z]+|\d[\d,]*(?:\.\d+)?")
_BESIDE = 2


def _beside(text: str, number: str, unit: str) -> frozenset[str]:
    """The term keys of the content words beside ``number`` in ``unit`` (as :func:`quantities`
    writes them) wherever ``text`` gives it so: two words before it, and two after the unit;
    no unit's name. ("20 miles per hour within 20 metres": the miles' words are not the
    metres'.)"""
    tokens = _WORD_OR_FIGURE.findall(text)
    words = [w for i, t in enumerate(tokens) if t.replace(",", "") == number
             and i + 1 < len(tokens) and _unit(tokens[i + 1]) == unit
             for w in (*tokens[max(0, i - _BESIDE):i], *tokens[i + 2:i + 2 + _BESIDE])]
    return frozenset(k for k in term_keys(" ".join(words)) if k not in _MEASURE_OF
                     and not k[:1].isdigit())


# Names of one unit that converts to no other (another system is another claim, _MEASURES):
# still one unit under each name ("3 ft" against "5 feet" is a changed figure).
_OTHER_UNITS = (("foot", "feet", "ft"), ("inch", "inches"), ("pound", "lb", "lbs"),
                ("mile", "mi"), ("ounce", "oz"), ("gallon", "gal"), ("yard", "yd", "yds"))
# Every name of one unit, by each of its names as _unit reads them: a figure's unit under
# another name is still its unit ("km", "kilometre"); from the measures' table, which gives a
# unit's names the same size, and the units above.
_UNIT_NAMES: dict[str, tuple[str, ...]] = {
    **{name: tuple(other for other, size in _MEASURES.items() if size == _MEASURES[name])
       for name in _MEASURES},
    **{name: names for names in _OTHER_UNITS for name in names}}
# Each unit's measure and size, the other systems' units too (for :func:`unit_swapped`, which
# only tells sizes apart: their figures are never converted).
_MEASURE_OF: dict[str, tuple[str, float]] = {
    **_MEASURES,
    **dict.fromkeys(("foot", "feet", "ft"), ("length", 0.3048)),
    **dict.fromkeys(("inch", "inches"), ("length", 0.0254)),
    **dict.fromkeys(("yard", "yd", "yds"), ("length", 0.9144)),
    **dict.fromkeys(("mile", "mi"), ("length", 1609.344)),
    **dict.fromkeys(("lb", "lbs"), ("mass", 453.59237)),  # "pound" is money as often
    **dict.fromkeys(("ounce", "oz"), ("mass", 28.349523125)),
    **dict.fromkeys(("gallon", "gal"), ("volume", 3.785411784)),
}
# Units a figure converts between (their measure and size in its base unit): the lengths,
# masses, volumes and times of _MEASURE_OF, speeds by their distance ("19 km/h" is read with
# the unit "km", "12 mph" with "mph"), and temperatures (:func:`_converts`).
_CONVERTS: dict[str, tuple[str, float]] = {
    **_MEASURE_OF,
    "mph": ("length", 1609.344),
    **dict.fromkeys(("kph", "kmh"), ("length", 1000.0)),
    **dict.fromkeys(("degc", "degf"), ("temperature", 1.0)),
}
# Units no count is written in, under their symbols and names as :func:`_unit` reads them:
# :data:`_CONVERTS`' measures, temperatures, sizes of data, energy, power, frequencies, and
# shares (:func:`_stated`).
_AMOUNT_UNITS = frozenset({
    *_CONVERTS, "%", "percent", "per cent", "degree", "celsius", "fahrenheit", "kelvin",
    "kb", "mb", "gb", "tb", "pb", "kib", "mib", "gib", "tib", "byte", "kilobyte", "megabyte",
    "gigabyte", "terabyte", "petabyte", "kbps", "mbps", "gbps", "wh", "kwh", "mwh", "gwh",
    "watt-hour", "kilowatt-hour", "megawatt-hour", "gigawatt-hour", "w", "kw", "mw", "gw",
    "watt", "kilowatt", "megawatt", "gigawatt", "mah", "hz", "khz", "mhz", "ghz", "hertz",
    "kilohertz", "megahertz", "gigahertz", "v", "volt", "calory", "kcal"})
# A converted figure is within this share of its conversion ("72°F" for 22°C, 71.6°F; "12 mph"
# for 19 km/h, 11.8 mph), or of the wider one where the text hedges ("about 1,100 feet" for
# 330 metres, 1,083 feet); not rounded to its own last digit: "1 hour" for 45 minutes is wrong.
_CONVERSION_SLACK = Decimal("0.025")
_HEDGED_CONVERSION_SLACK = Decimal("0.06")
_HEDGE = re.compile(r"\b(?:" + _HEDGE_WORDS + r")\b|~", re.IGNORECASE)
# A bare "m" after a number ("1.2m visitors", "500 m") is millions or metres (or, rarely,
# minutes): a changed figure in millions is read as one, and one in metres where a length
# word follows ("500 m tall"); "2.1m people" against the evidence's "330 metres" is no
# contradiction (a review). Conversions never read it (_MEASURES).
_METRES_OR_MILLIONS = "m"
_METRES_BY_LENGTH = re.compile(
    r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)\s?m\b(?=\s+(?:tall|long|high|wide|deep|away|across|"
    r"in (?:length|height|width|depth)))")


def _metres_by_length(text: str) -> set[str]:
    """The numbers ``text`` gives in a bare "m" before a length word: metres."""
    return {match.group(1).replace(",", "") for match in _METRES_BY_LENGTH.finditer(text)}


def _readings(number: str, unit: str, window: str) -> list[tuple[str, str]]:
    """What a window's figure may mean, as (number, unit) pairs: itself, and for a bare "m"
    also its number in millions, and in metres where the window writes a length word after
    it (looked for only then: most windows have no bare "m")."""
    if unit != _METRES_OR_MILLIONS:
        return [(number, unit)]
    millions = _scaled_value(number, 6)
    return [(number, unit), *([] if millions is None else [(_digits_of(millions), "million")]),
            *([(number, "metre")] if number in _metres_by_length(window) else [])]


def _undated_day(number: str, unit: str, dates: frozenset[str], stated: frozenset[str]) -> bool:
    """A window's date that is no changed date: one with a year whose day the evidence states
    with no year at all (the year is new), or whose day the evidence states as a number of
    its own, in a form not read as a date ("June 3 for renovations", "Nov. 16", "3.6.2024"):
    as for any number the evidence states (see :func:`quantity_conflict`)."""
    if unit != DATE_UNIT or not number.isdigit():
        return False
    if str(int(number[-2:])) in stated or number[-2:] in stated:
        return True
    return (len(number) == 8 and number[4:] in dates
            and not any(len(d) == 8 and d.endswith(number[4:]) for d in dates))

