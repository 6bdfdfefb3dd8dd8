"""How long the evidence's times of day last: an answer's "open for 8 hours" of "9am-5pm".

Opening hours, sessions, shifts and timetables give times of day ("Monday to Friday 9am-5pm,
Saturday 10am-2pm"; "The workshop runs from 9:30 am to 12:00 pm"; "departs at 08:15 and
arrives at 11:45"), and answers say how long ("On Saturdays it is open for four hours"; "The
workshop lasts two and a half hours"). The length was stated nowhere, so it read as a new
figure and a faithful answer halted (22 of 40 in a blind probe).

The evidence's spans (:func:`clock_spans`, kept in its quantity index under :data:`SPANS`)
are the lengths of its ranges of times: two times joined by a dash, "to", "until", "till",
"through" or "between ... and" ("9am-5pm", "10:00–14:00", "from 10.30am until 12.30pm",
"7-10am", "noon to 3pm", "10pm-2am" over midnight); two ranges of one day one after the other
("8:00-12:00 and 13:00-17:00" is 8 hours); a range less a break inside it ("8:00-17:00, closed
for lunch 12:00-13:00"); from a time inside a range, in its sentence or the next, to the
range's end or from its start ("9.30am to 6pm (last entry 4.30pm)": an hour and a half before
closing); and a start and an end of one subject a timetable cues ("starts at 10:00 and ends at
12:30", "leave from the steps at 10:30 and return by 12:45"). A time that does not say its
half of the day ("8:00-12:00", "12:00-3:00") is read on the half that keeps the range within
one day. Not read: a list of departures ("7:15 – 8:45 – 10:15"), a label's number before a dash
("Session 1 – 9:00"), paces, ratios and verses ("5:30-6:00 per km", "1:10", "5:10-5:48": a
time without its half before 6 o'clock), alternative slots, two subjects' times ("The museum
opens at 10:00 and the café closes at 16:00"), a sentence of local times or flights (its two
times may be in two zones), nor a timetable's start and end in a text of time zones.

Each span keeps the words of its own clause ("Saturday", "the workshop ... on Tuesday"; a
week's days also as "weekday" or "weekend"), of its sentence, and its two times; the lengths
the evidence states as figures are kept with their clauses' words too. Each duration of a
window (hours, minutes, both, or in words: "8 hours", "2.5-hour", "3 hours 30 minutes", "90
minutes", "an hour and a half") is compared with the spans its clause is tied to
(:func:`_tied`): those whose times the window names; else a stated length it names (the
quantities then judge it: "The maximum stay ... is 12 hours" of "Maximum stay is 3 hours");
else those whose clause it names by the most words no other span has, then the most of their
sentence's ("On Saturdays", "Ferry B ... Cowes"); else those whose sentence it shares a word
with ("open"). A review of the first version, which compared a length with every span, found
a dose's "every 12 hours" and a "30-minute walk" passing as a pharmacy's 8am-8pm and a lunch's
12:00-12:30. Equal to one of them, to the half minute or, after a hedge, within a quarter of
an hour or a twentieth on the hedge's side ("nearly 4 hours" of 3 h 50 min; "under 3 hours" a
bound), it is no new figure (:func:`drop_spans`). A length tied by its own words or times to
spans none of which it equals ("On Saturdays it is open for six hours"; "nine hours, from
22:00 to 06:00") contradicts them (:func:`span_conflict`), unless the evidence states that
length. Weekly totals (five days of eight hours) are not reckoned, and a span of another item
the window cannot tell by a word ("Tour A", "Tour B") may pass for it.

Pure: regular expressions over the text.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from stream_guard.text.figures import (
    _PART_OF_AN_HOUR,
    HALF_AFTER_WHOLE,
    HOURS_AND_MINUTES,
    _part_of_an_hour,
    spell_out_numbers,
)
from stream_guard.text.terms import term_keys

# The key of a quantity index under which it keeps the evidence's spans, each as
# "hours|its clause's keys|its sentence's keys|its two times in minutes|s if stated"
# (:class:`_Span`).
SPANS = "@clock-spans"

_DAY = 24 * 60
_HALF = 12 * 60
# A time of day as written: "9am", "9 a.m.", "9:30am", "9.30 pm", "09:00", "17:30", "noon".
_TIME = (r"(?:(?<![\w:.,$£€/])(\d{1,2})(?:([:.])([0-5]\d))?(?!\d|[:.,]\d)"
         r"(?:\s?([AaPp])\.?\s?[Mm]\b\.?)?|\b(noon|midday|midnight)\b)")
_JOIN = r"(?:\s*[-–—]\s*|\s+(?:to|until|till|through|thru)\s+)"
_RANGE = re.compile(r"(?:\b(between)\s+)?" + _TIME + r"(?(1)\s+and\s+|" + _JOIN + r")" + _TIME,
                    re.IGNORECASE)
# Two ranges of one day, one after the other: a split shift, a lunch break between
_TOGETHER = re.compile(r"\s*(?:and|&)\s*$", re.IGNORECASE)
# A range inside another that is a break from it: "8:00-17:00, closed for lunch 12:00-13:00"
_BREAK = re.compile(r"\b(?:closed|closes|lunch|break|pause|except)\b", re.IGNORECASE)
# A label before a range's bare start: "Session 1 – 9:00", "Lot 7 - 11:30", "No. 3 to 5pm"
_LABEL_BEFORE = re.compile(r"(?:\b[A-Z][\w.]*|#)\s*$")
# A timetable's start and end of one subject: a word of starting before the first time
# ("departs at", "leave from the cathedral steps at", "the 16:15 ferry"), one of ending before
# the next ("arrives at Fishbourne at", "ends approx.", "return by"), no new subject between.
_START_CUE = re.compile(r"(?:\b(?:departs?|departing|leaves?|leaving|starts?|starting|begins?|"
                        r"beginning|opens?|opening|kicks? off|commences?|collect|pick[- ]?up|"
                        r"check[- ]?in)"
                        r"\b[^\d:;]{0,40}|\bthe\s+)$", re.IGNORECASE)
_END_CUE = re.compile(r"\b(?:arrives?|arriving|reach(?:es)?|gets? in|ends?|finish(?:es)?|"
                      r"closes?|lands?|returns?|drop[- ]?off|wraps? up|concludes?|terminates?|"
                      r"check[- ]?out)"
                      r"\b[^\d:;]{0,40}$", re.IGNORECASE)
_NEW_SUBJECT = re.compile(r"\b(?:the|a|an|our|its|their|this)\s+\w", re.IGNORECASE)
_CUED_GAP = 90
_MOST_RANGES = 8  # more ranges in one sentence: no lengths from a time inside one
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])|[;\n]")
# A clause ends at a comma, a bracket or "and" before a day ("Saturday 9am-5pm and Sunday
# 10am-4pm" are two days' clauses)
_NEXT_DAY = r"\s(?:and|&)\s+(?=(?i:mon|tue|wed|thu|fri|sat|sun))"
_CLAUSE_END = re.compile(r"[,;(]|\.\s|" + _NEXT_DAY + "|$")
_CLAUSE_START = re.compile(r"[,;)]\s*|" + _NEXT_DAY + "|^")
# Where a sentence speaks of local times or flights, its two times may be in two zones (a
# range in one zone is one: "10:00-10:45 AM Pacific Time"); where a text speaks of zones at
# all, a timetable's start and end may be
_TWO_ZONES = re.compile(r"\b(?:[Ll]ocal(?: times?)?|[Ff]light|[Ff]lies|[Ff]lying)\b")
_ZONE = re.compile(r"\b(?:[Ll]ocal(?: times?)?|[Tt]ime[- ]?zones?|(?:GMT|UTC)(?:[+-]\d+)?|"
                   r"[ECMP][SD]?T|BST|CES?T|JST|AE[SD]T|(?:Pacific|Mountain|Central|Eastern|"
                   r"Atlantic) (?:[Ss]tandard |[Dd]aylight )?[Tt]ime|[Ff]light|[Ff]lies|"
                   r"[Ff]lying)\b")
# What a range's clause starts after: a heading ("Opening hours: Monday", not "07:00") or
# what is open ("Our helpline is open Monday to Friday": "helpline" is the sentence's)
_HEADING = re.compile(r"(?<!\d):(?=\s)|\b(?:is|are)\s+open\b", re.IGNORECASE)
# Words that tie a window to no range in particular; and those that tie it to a range's
# sentence but not to one range of it ("open" to the opening hours, not to Saturday's)
_LOOSE = frozenset({"hour", "hr", "time", "daily", "day", "minute", "min", "last", "run",
                    "long", "take"})
_OF_ALL = frozenset({"open", "close"})
_DAY_GROUPS = {"weekday": frozenset({"monday", "friday"}),
               "weekend": frozenset({"saturday", "sunday"})}
_SAME = {"opening": "open", "opens": "open", "closed": "close", "closing": "close",
         "closes": "close", "mon": "monday", "tue": "tuesday", "tues": "tuesday",
         "wed": "wednesday", "thu": "thursday", "thur": "thursday", "thurs": "thursday",
         "fri": "friday", "sat": "saturday", "sun": "sunday"}


@dataclass(frozen=True, slots=True)
class _Span:
    """A length of the evidence's: of a range of its times, or ``stated`` as a figure ("a
    maximum stay of 3 hours"; stated lengths are the quantities' to check, and a window tied
    to one is left to them)."""

    hours: Decimal
    clause: frozenset[str]
    sentence: frozenset[str]
    times: frozenset[int]
    stated: bool = False

    def entry(self) -> str:
        return "|".join((_figure(self.hours), " ".join(sorted(self.clause)),
                         " ".join(sorted(self.sentence)),
                         " ".join(map(str, sorted(self.times))), "s" if self.stated else ""))

    @classmethod
    def of(cls, entry: str) -> _Span:
        hours, clause, sentence, times, stated = entry.split("|")
        return cls(Decimal(hours), frozenset(clause.split()), frozenset(sentence.split()),
                   frozenset(int(t) for t in times.split()), stated == "s")


def _figure(hours: Decimal) -> str:
    return format(round(hours, 4).normalize(), "f")


def clock_spans(text: str) -> set[str]:
    """The spans of ``text`` (see the module), as :data:`SPANS` keeps them."""
    if not _HINT.search(text):
        return set()
    spans: list[_Span] = []
    sentences = _SENTENCE_END.split(text)
    for sentence, after in itertools.zip_longest(sentences, sentences[1:], fillvalue=""):
        if not _TWO_ZONES.search(sentence):
            spans.extend(_ranges(sentence, after))
    if not _ZONE.search(text):
        spans.extend(_cued(text))
    spans = [span for span in spans if 0 < span.hours < 24]
    if spans:
        for sentence in sentences:
            if _UNIT_HINT.search(sentence):
                spans.extend(_stated(sentence))
    return {span.entry() for span in spans}


def _stated(sentence: str) -> Iterator[_Span]:
    """The lengths ``sentence`` states as figures, with their clauses' words."""
    spelled = spell_out_numbers(sentence)
    keys = _words(spelled) - _LOOSE
    for d in _durations(spelled):
        yield _Span(d.hours, _clause_keys(spelled, d.start, d.end), keys, frozenset(), True)


_HINT = re.compile(r"\d[:.]\d\d|\d\s?[AaPp]\.?\s?[Mm]\b|noon|midday|midnight", re.IGNORECASE)


def _ranges(sentence: str, after: str = "") -> Iterator[_Span]:
    """The spans of the ranges of one sentence, of two adjacent ones together, of one less
    another inside it, and from a range's start or to its end from a time inside it that this
    sentence or the one ``after`` it gives ("9.30am to 6pm (last entry 4.30pm)": an hour and a
    half before closing; "open 7am-10pm. Last wash 9pm.")."""
    matches = list(_RANGE.finditer(sentence))
    if not matches:  # (most sentences: no keys read)
        return
    keys = _words(sentence) - _LOOSE
    found: list[tuple[re.Match[str], int, int]] = []  # the range, its start and end, minutes
    for match in matches:
        bare = match.group(2) is not None and match.group(3) is None and not match.group(5)
        if _listed(sentence, match) or (bare and not _bare_start(sentence, match)):
            continue
        start, end = _time(match, 2, bare_ok=True), _time(match, 7, early_ok=True)
        if start is None or end is None:
            continue
        clause = _clause_keys(sentence, match.start(), match.end())
        for begin, length in _lengths(start, end, shortest=bare):
            times = frozenset({begin % _DAY, (begin + length) % _DAY})
            yield _Span(Decimal(length) / 60, clause, keys, times)
            found.append((match, begin, begin + length))
    for (a, a_start, a_end), (b, b_start, b_end) in itertools.pairwise(found):
        if a is b:
            continue
        together = _TOGETHER.match(sentence[a.end():b.start()]) and b_start >= a_end
        inside = (a_start <= b_start and b_end <= a_end and (b_start, b_end) != (a_start, a_end)
                  and _BREAK.search(sentence, a.end(), b.start()) is not None)
        if together or inside:
            length = (a_end - a_start) + (b_end - b_start if together else b_start - b_end)
            yield _Span(Decimal(length) / 60, _clause_keys(sentence, a.start(), a.end()), keys,
                        frozenset({a_start % _DAY, a_end % _DAY}))
    if len(found) > _MOST_RANGES:
        return  # (a table's times, no schedule's last entry)
    for text in (sentence, after):
        ranged = [r.span() for r in (matches if text is sentence else _RANGE.finditer(text))]
        for m in re.finditer(_TIME, text, re.IGNORECASE):
            if (at := _time(m, 1)) is None or any(a <= m.start() < b for a, b in ranged):
                continue  # (a time of a range is no time inside another: "...; Saturday 9-12")
            for _, begin, finish in found:
                within = [t for t in sorted(_both_halves(at)) if begin < t < finish <= _DAY]
                if within:
                    clause = _clause_keys(text, m.start(), m.end())
                    t = within[0]
                    yield _Span(Decimal(finish - t) / 60, clause, keys,
                                frozenset({t, finish % _DAY}))
                    yield _Span(Decimal(t - begin) / 60, clause, keys, frozenset({begin, t}))


def _listed(sentence: str, match: re.Match[str]) -> bool:
    """Whether the range is two of a list of times ("7:15 – 8:45 – 10:15")."""
    return bool(_THEN_TIME.match(sentence, match.end(), match.end() + _NEAR)
                or _TIME_THEN.search(sentence, max(0, match.start() - _NEAR), match.start()))


_THEN_TIME = re.compile(_JOIN + _TIME, re.IGNORECASE)
_TIME_THEN = re.compile(_TIME + _JOIN + "$", re.IGNORECASE)
_NEAR = 40  # how far a list's next time or a clause's bounds are looked for (a table of
# thousands of ranges in one sentence is read in linear time)
_CLAUSE_CHARS = 200


def _bare_start(sentence: str, match: re.Match[str]) -> bool:
    """Whether an hour alone starts a range: "7-10am", "between 8 and 10pm", "from 9 to
    5:30pm"; not a label's number ("Session 1 – 9:00", "Lot 7 - 11:30")."""
    if match.group(1):
        return True
    joiner = sentence[match.end(2):match.start(7)]
    return not _LABEL_BEFORE.search(sentence, 0, match.start(2)) and (
        joiner.strip().isalpha() or joiner.strip() == joiner)


def _words(text: str) -> frozenset[str]:
    """The keys of ``text``'s words, not of its figures (a window's "2" ties it to nothing)."""
    return frozenset(_SAME.get(k, k) for k in term_keys(text) if not k[:1].isdigit())


def _clause_keys(sentence: str, first: int, last: int) -> frozenset[str]:
    """The keys of the words of the range's own clause ("Saturday", "the workshop ... on
    Tuesday"; after a heading's colon or what is open, "Harbour Books opening hours: Monday to
    Friday", "Our helpline is open Monday to Friday", their words are the sentence's), less
    those that tie to no one range; a week's days are its weekdays ("Monday to Friday") or its
    weekend."""
    low = max(0, first - _CLAUSE_CHARS)
    start = max((m.end() for m in _CLAUSE_START.finditer(sentence, low, first)), default=low)
    before = sentence[start:first]
    heading = _HEADING.split(before)
    if len(heading) > 1 and heading[-1].strip():
        before = heading[-1]
    end = _CLAUSE_END.search(sentence, last, last + _CLAUSE_CHARS)
    keys = _words(before + " " + sentence[last:end.start() if end else last + _CLAUSE_CHARS])
    return keys - _LOOSE - _OF_ALL | _day_groups(keys)


def _day_groups(keys: frozenset[str]) -> frozenset[str]:
    return frozenset(group for group, days in _DAY_GROUPS.items() if days <= keys)


def _time(match: re.Match[str], group: int, *, bare_ok: bool = False, early_ok: bool = False
          ) -> tuple[int, bool] | None:
    """The time of :data:`_TIME`'s groups from ``group`` on: minutes past midnight, and
    whether it says which half of the day it is in; None where it is no time of day: an hour
    alone but where ``bare_ok`` (a range's start), "9.30" without its half (a figure), "28:25"
    (a lap), a time before 6 without its half but where ``early_ok`` (a range's end: "10:00-2:00";
    else a pace or a ratio, "5:30 per km", "1:10")."""
    word = match.group(group + 4)
    if word is not None:
        return (0 if word.lower() == "midnight" else _HALF), True
    hour, mark, minutes, half = (match.group(group + i) for i in range(4))
    if hour is None:
        return None
    h, m = int(hour), int(minutes or 0)
    if half:
        if not 1 <= h <= 12:
            return None
        return (h % 12 + (12 if half.lower() == "p" else 0)) * 60 + m, True
    if mark is None:
        return (h % 12 * 60, False) if bare_ok and 1 <= h <= 12 else None
    if mark == "." or h > 23 or (h < 6 and not hour.startswith("0") and not early_ok):
        return None
    return h * 60 + m, hour.startswith("0") or h >= 13


def _lengths(start: tuple[int, bool], end: tuple[int, bool], *, shortest: bool = False
             ) -> list[tuple[int, int]]:
    """(start, length) of a range on the halves of the day its times may be in: over midnight
    only where both say their half; else within one day ("12:00" no midnight), the shortest
    reading ("10:00-2:00" is four hours; ``shortest``, of an hour alone: "between 8 and 10 pm"
    is two), but both where one time of the 24-hour clock leaves the other either
    ("6:00-22:00")."""
    def readings(time: tuple[int, bool]) -> list[int]:
        if time[1] or time[0] >= _HALF:
            return [time[0]]
        return [time[0], time[0] + _HALF]

    if start[1] and end[1]:
        return [(start[0], (end[0] - start[0]) % _DAY or _DAY)]
    found = sorted({(e - s, s) for s in readings(start) for e in readings(end) if s < e})
    if not found:
        return []
    if (start[1] or end[1]) and not shortest:
        return [(s, length) for length, s in found]
    return [(found[0][1], found[0][0])]


def _cued(text: str) -> Iterator[_Span]:
    """The spans from each start to the end the text cues next, of one subject."""
    times = [m for m in re.finditer(_TIME, text, re.IGNORECASE) if _time(m, 1) is not None]
    for first, second in itertools.pairwise(times):
        if second.start() - first.end() > _CUED_GAP or not _START_CUE.search(
                text, max(0, first.start() - 60), first.start()):
            continue
        cue = _END_CUE.search(text, first.end(), second.start())
        if cue is None or _NEW_SUBJECT.search(text, first.end(), cue.start()):
            continue
        start, end = _time(first, 1), _time(second, 1, early_ok=True)
        if start is None or end is None or not (readings := _lengths(start, end)):
            continue
        sentence_start = max(0, text.rfind(".", 0, first.start()) + 1)
        keys = _words(text[sentence_start:second.end()]) - _LOOSE
        begin, length = min(readings, key=lambda r: r[1])  # (a timetable's own half)
        yield _Span(Decimal(length) / 60, keys - _OF_ALL, keys,
                    frozenset({begin % _DAY, (begin + length) % _DAY}))


# A window's duration: hours and minutes together, or one of them
_HOURS = re.compile(r"(?<![\w.,:])(\d+(?:\.\d+)?)[\s-]*(?:hours?|hrs?|h)\b", re.IGNORECASE)
_MINUTES = re.compile(r"(?<![\w.,:])(\d+)[\s-]*(?:minutes?|mins?)\b", re.IGNORECASE)
# "2 and a quarter hours", "3 and three quarters hours" (figures reads an hour and a quarter)
_QUARTERS = re.compile(r"(?<![\w.,])(\d+)[ \t]+and[ \t]+(?:(a[ \t]+quarter)|three[ \t]+quarters)"
                       r"[ \t]+hours?\b", re.IGNORECASE)
_UNIT_AFTER = re.compile(r"[ \t-]*(hours?|hrs?|minutes?|mins?)\b", re.IGNORECASE)
_UNIT_HINT = re.compile(r"\b(?:hours?|hrs?|h|minutes?|mins?)\b", re.IGNORECASE)
_HEDGE = re.compile(r"\b(about|around|roughly|approximately|approx\.?|some|close to|nearly|"
                    r"almost|just under|under|less than|just over|a little over|a bit over|over"
                    r"|more than|at least)(?:\s+an?)?\s*$|~\s*$", re.IGNORECASE)
# How a hedged figure may stand to the span: near it, just under or over it (within the
# slack below), or a bound it is under or over ("under 3 hours" of 2 h 30 min)
_NEAR_SIDE = {"nearly": -1, "almost": -1, "just under": -1,
              "just over": 1, "a little over": 1, "a bit over": 1}
_BOUND = {"under": (Decimal("0.67"), Decimal(1)), "less than": (Decimal("0.67"), Decimal(1)),
          "over": (Decimal(1), Decimal("1.5")), "more than": (Decimal(1), Decimal("1.5")),
          "at least": (Decimal(1), Decimal("1.5"))}
_SLACK = Decimal(1) / 120  # to the half minute
_HEDGED_SLACK = Decimal(1) / 4  # ... after a hedge, a quarter of an hour
_HEDGED_SHARE = Decimal("0.05")  # ... or a twentieth of the span
_MOST_DURATIONS = 12  # more in one window: none is read


@dataclass(frozen=True, slots=True)
class _Duration:
    start: int
    end: int
    hours: Decimal
    hedge: str | None


def _durations(spelled: str) -> list[_Duration]:
    """The durations of a window's spelled-out text, in hours, each once."""
    found: list[tuple[int, int, Decimal]] = []
    for m in _PART_OF_AN_HOUR.finditer(spelled):
        found.append((m.start(), m.end(), Decimal(_part_of_an_hour(m).split()[0]) / 60))
    for m in HALF_AFTER_WHOLE.finditer(spelled):  # "an hour and a half", "7 and a half hours"
        if m.group(2) == "hour":
            found.append((m.start(), m.end(), Decimal("1.5")))
        elif m.group(1) and (unit := _UNIT_AFTER.match(spelled, m.end())):
            found.append((m.start(), m.end(), (int(m.group(1)) + Decimal("0.5")) / (
                60 if unit.group(1).lower().startswith("m") else 1)))
    for m in _QUARTERS.finditer(spelled):
        found.append((m.start(), m.end(),
                      int(m.group(1)) + Decimal("0.25" if m.group(2) else "0.75")))
    for m in HOURS_AND_MINUTES.finditer(spelled):
        found.append((m.start(), m.end(), int(m.group(1)) + Decimal(int(m.group(2))) / 60))
    taken = sorted((start, end) for start, end, _ in found)
    for pattern, per_hour in ((_HOURS, 1), (_MINUTES, 60)):
        for m in pattern.finditer(spelled):
            if not any(start <= m.start() < end for start, end in taken):
                found.append((m.start(), m.start() + len(m.group(1)),
                              Decimal(m.group(1)) / per_hour))
    if len(found) > _MOST_DURATIONS:
        return []
    out, last = [], -1
    for start, end, hours in sorted(found):
        if start >= last and hours > 0:
            out.append(_Duration(start, end, hours, _hedge(spelled, start)))
            last = end
    return out


def _hedge(spelled: str, start: int) -> str | None:
    match = _HEDGE.search(spelled, max(0, start - 24), start)
    return None if match is None else (match.group(1) or "about").lower()


def _tied(window: str, spans: frozenset[str], timed_by: str | None = None
          ) -> tuple[list[_Span], bool]:
    """The spans a window (or a clause of it) is tied to, and whether it names them (by their
    times, or by words no other span has: "class" of a timetable's classes and of the hours
    members may attend them names neither). Those whose times it names ("the 9:45 bus"), with
    those it names by a word of their clause none of those has ("the zoo ... last entry at
    4.30pm"); else a stated length it names by words no range's clause has (then the
    quantities judge it); else the spans whose clause it shares the most words no other has
    with ("Ferry B ... to reach Cowes", "On Saturdays"), then the most words of their sentence
    ("open"); else those whose sentence it shares a word with. ``timed_by``: the text whose
    times count (the whole window's, for a clause of it)."""
    all_spans = _parsed(spans)
    keys = _words(window)
    keys |= _day_groups(keys)
    times: set[int] = set()
    for m in re.finditer(_TIME, window if timed_by is None else timed_by, re.IGNORECASE):
        if (at := _time(m, 1)) is not None:
            times.update(_both_halves(at))
    if timed := [s for s in all_spans if s.times & times]:
        named = frozenset().union(*(s.clause for s in timed))
        return timed + [s for s in all_spans if s not in timed and not s.stated
                        and s.clause & keys - named], True
    own = [s for s in all_spans if s.clause & keys]
    if own:
        # a word distinguishes a span where no other's clause has it (a time's two lengths,
        # to a range's end and from its start, are one's)
        counts = Counter(k for words in {s.clause for s in own} for k in words & keys)
        scored = [((len({k for k in s.clause & keys if counts[k] == 1}), len(s.sentence & keys)),
                   s) for s in own]
        ranges = frozenset().union(*(s.clause for s in all_spans if not s.stated))
        if stated := [s for s in own if s.stated and s.clause & keys - ranges]:
            return stated, True  # "the maximum stay ... is 12 hours" of "Maximum stay is 3 hours"
        best = max(score for score, s in scored if not s.stated) if any(
            not s.stated for s in own) else None
        chosen = [s for score, s in scored if score == best and not s.stated]
        return chosen or own, bool(chosen) and best is not None and best[0] > 0
    return [s for s in all_spans if s.sentence & keys and not s.stated], False


@functools.lru_cache(maxsize=64)  # an evidence's spans, read once for all its windows
def _parsed(spans: frozenset[str]) -> tuple[_Span, ...]:
    return tuple(_Span.of(entry) for entry in spans)


def _tied_to(spelled: str, duration: _Duration, spans: frozenset[str]
             ) -> tuple[list[_Span], bool]:
    """The spans one duration of a window is tied to: by its own clause ("the last wash is an
    hour and a half before closing" beside "open 15 hours a day"), else by the window's."""
    start = max(m.end() for m in _CLAUSE_START.finditer(spelled, 0, duration.start))
    end = _CLAUSE_END.search(spelled, duration.end)
    tied = _tied(spelled[start:end.start() if end else None], spans, spelled)
    return tied if tied[0] else _tied(spelled, spans)


def _both_halves(time: tuple[int, bool]) -> set[int]:
    return {time[0] % _DAY} if time[1] else {time[0] % _DAY, (time[0] + _HALF) % _DAY}


def drop_spans(text: str, spans: frozenset[str]) -> str:
    """``text`` (spelled out, :func:`~stream_guard.text.figures.spell_out_numbers`) without
    each duration that is one of the spans it is tied to; ``text`` itself where none is. A
    duration in words ("an hour and a half") that is one goes whole; one that is none stays
    words, as the quantities read them."""
    if not _UNIT_HINT.search(text):
        return text
    spelled = spell_out_numbers(text)
    drop = []
    for d in _durations(spelled):
        tied, _ = _tied_to(spelled, d, spans)
        if not any(s.stated for s in tied) and any(_is(d, s.hours) for s in tied):
            drop.append(d)
    if not drop:
        return text
    for d in reversed(drop):
        spelled = spelled[:d.start] + spelled[d.end:]
    return spelled


def span_conflict(window: str, evidence: Mapping[str, frozenset[str]]) -> bool:
    """The window gives a duration of a range it names by its own words or times ("On
    Saturdays it is open for six hours" of "Saturday 10am-2pm") that is none of that range's
    spans, nor a length the evidence states of that unit."""
    spans = evidence.get(SPANS)
    if not spans or not _UNIT_HINT.search(window):
        return False
    stated = [Decimal(n) for n in evidence.get("hour", frozenset()) if _is_number(n)] + [
        Decimal(n) / 60 for n in evidence.get("minute", frozenset()) if _is_number(n)]
    spelled = spell_out_numbers(window)
    for d in _durations(spelled):
        tied, own = _tied_to(spelled, d, spans)
        if own and not any(s.stated for s in tied) and d.hedge not in _BOUND and not any(
                _is(d, hours) for hours in (*(s.hours for s in tied), *stated)):
            return True
    return False


def _is_number(figure: str) -> bool:
    return figure.replace(".", "", 1).isdigit()


def _is(duration: _Duration, span: Decimal) -> bool:
    """Whether ``duration``, after its hedge, is ``span`` hours."""
    value, hedge = duration.hours, duration.hedge
    if hedge is None:
        return abs(value - span) <= _SLACK
    if (bound := _BOUND.get(hedge)) is not None:
        return bound[0] * value <= span <= bound[1] * value and span != value
    side = _NEAR_SIDE.get(hedge)
    return abs(value - span) <= max(_HEDGED_SLACK, _HEDGED_SHARE * span) and (
        side is None or (span - value) * side > 0)
