"""Holidays on a fixed date: an answer's "Boxing Day" is its evidence's "26 December".

Shops, councils, banks and transport write their festive notices by date ("closed on 25 and 26
December") or by name ("Christmas Eve 9am-1pm"), and answers name the other ("closed on Boxing
Day as well as Christmas Day"; "On 24 December it's open 9am until 1pm"). Either way the answer's
words or date were new to the evidence, and a faithful answer halted.

The holidays read are those on one date every year (Christmas Eve and Day, Boxing Day, New
Year's Eve and Day, Valentine's Day, St Patrick's Day, Halloween, Bonfire Night, Canada Day, the
Fourth of July, Bastille Day, Juneteenth, Veterans and Remembrance Day, ...); not those that
move (Easter, Thanksgiving, Mother's Day, a May Day bank holiday), nor "Christmas" alone, which
is as often the season, nor a name that is no date's: "Independence Day" is many countries'
(and a film's), and Epiphany another calendar's too.

- Where a text names one, its figures are read with the holiday's date beside the name
  (:func:`with_dates`, for the quantity index and for a window's figures): the evidence's
  "Christmas Eve" states 24 December, and a window's "Christmas Day" against an evidence that
  gives 24 December only is a changed date, as "25 December" is. Not where the name's sentence
  gives a date of its own, the day meant ("Remembrance Day service: Sunday 10 November"; "the
  New Year's Day bank holiday on Monday 2 January"), nor a name that only places something
  before or after it ("to arrive before Christmas Day"), nor another calendar's ("Orthodox
  Christmas Day"): a review found each let a wrong date pass or halted a right one.
- An evidence sentence is indexed by the words of the holidays on the dates it gives and by the
  dates of the holidays it names (:func:`holiday_keys`), so that either word is known.

A wrong claim about a day's hours ("closes at 2 p.m. on Christmas Day" of "Christmas Eve 6
a.m.-2 p.m.; Christmas Day closed") reads as right words and figures once the day is known, and
only the detector can see it (a blind probe's misses, which halted before by luck: the day's
name was new).

Pure: regular expressions over the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from collections.abc import Set as AbstractSet

from stream_guard.text.figures import _MONTH_NUMBER, _MONTHS, has_digit
from stream_guard.text.terms import term_keys

# (name, the pattern it is written by, month, day)
_TABLE: tuple[tuple[str, str, int, int], ...] = (
    ("Christmas Eve", r"(?:christmas|xmas) eve", 12, 24),
    ("Christmas Day", r"(?:christmas|xmas) day", 12, 25),
    ("Boxing Day", r"boxing day", 12, 26),
    ("St Stephen's Day", r"(?:st\.? |saint )stephen'?s day", 12, 26),
    ("New Year's Eve", r"new year'?s eve", 12, 31),
    ("Hogmanay", r"hogmanay", 12, 31),
    ("New Year's Day", r"new year'?s day", 1, 1),
    ("Burns Night", r"burns night", 1, 25),
    ("Australia Day", r"australia day", 1, 26),
    ("Waitangi Day", r"waitangi day", 2, 6),
    ("Valentine's Day", r"(?:st\.? |saint )?valentine'?s day", 2, 14),
    ("St David's Day", r"(?:st\.? |saint )david'?s day", 3, 1),
    ("International Women's Day", r"international women'?s day", 3, 8),
    ("St Patrick's Day", r"(?:st\.? |saint )patrick'?s day", 3, 17),
    ("April Fools' Day", r"april fools'? day", 4, 1),
    ("Earth Day", r"earth day", 4, 22),
    ("St George's Day", r"(?:st\.? |saint )george'?s day", 4, 23),
    ("Anzac Day", r"anzac day", 4, 25),
    ("Cinco de Mayo", r"cinco de mayo", 5, 5),
    ("Juneteenth", r"juneteenth", 6, 19),
    ("Canada Day", r"canada day", 7, 1),
    ("Fourth of July", r"(?:fourth|4th) of july", 7, 4),
    ("Bastille Day", r"bastille day", 7, 14),
    ("Halloween", r"hallowe'?en", 10, 31),
    ("All Saints' Day", r"all saints'? day", 11, 1),
    ("Bonfire Night", r"bonfire night", 11, 5),
    ("Guy Fawkes Night", r"guy fawkes (?:night|day)", 11, 5),
    ("Veterans Day", r"veterans'? day", 11, 11),
    ("Remembrance Day", r"remembrance day", 11, 11),
    ("Armistice Day", r"armistice day", 11, 11),
    ("St Andrew's Day", r"(?:st\.? |saint )andrew'?s day", 11, 30),
)
_NAMES = re.compile(r"\b(?:" + "|".join(rf"(?P<h{i}>{pattern})"
                                        for i, (_, pattern, _, _) in enumerate(_TABLE))
                    + r")\b(?! eve\b)", re.IGNORECASE)  # not "Christmas Eve Eve"
# A name that is no fixed date here: another calendar's or country's ("Orthodox Christmas Day",
# "Chinese New Year's Day"), or a reference point rather than the day ("to arrive before
# Christmas Day", "reopens after Boxing Day", "in time for Valentine's Day").
_NOT_THE_DATE = re.compile(r"\b(?:orthodox|coptic|ethiopian|armenian|julian|lunar|chinese|"
                           r"before|after|ahead of|in time for|leading up to|around|near|over|"
                           r"during|throughout|until after)[ \t]+(?:the[ \t]+)?$",
                           re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.!?;\n]")
# Apostrophes as written ("New Year’s Day"), read as "'".
_QUOTES = str.maketrans("’‘", "''")
_MONTH_ALTERNATION = "|".join(_MONTHS)
# A date, or a list or range of days of one month ("25 and 26 December", "December 24-26")
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DAYS = rf"{_DAY}(?:(?:\s*,\s*(?:and\s+)?|\s+(?:and|or|to)\s+|\s*[&–-]\s*){_DAY})*"
_DATE = re.compile(rf"\b(?:({_MONTH_ALTERNATION})\.?\s+({_DAYS})\b"
                   rf"|({_DAYS})\s+(?:of\s+)?({_MONTH_ALTERNATION})\b)")
# Each holiday's date as a text writes it, and the keys of the names of each date's holidays:
# not the words any day's name has ("day", "eve", "night", "st"), which as keys of a dated
# sentence drew windows that merely say "a day ahead" to it (a whole-set measure: a sentence
# "(from 1 March)", St David's Day, became a made-up answer's premise and passed it); a
# window's own holiday names are known whole where the evidence gives their dates
# (:func:`holiday_words_known`).
_GENERIC = term_keys("day eve night st saint")
_DATE_OF = [f"{day} {_MONTHS[month - 1]}" for _, _, month, day in _TABLE]
_DATE_KEYS = [term_keys(date) for date in _DATE_OF]
_KEYS_ON: dict[tuple[int, int], frozenset[str]] = {}
for _name, _, _month, _day in _TABLE:
    _KEYS_ON[_month, _day] = _KEYS_ON.get((_month, _day), frozenset()) | (
        term_keys(_name) - _GENERIC)


def _which(match: re.Match[str]) -> int:
    """The row of :data:`_TABLE` a match of :data:`_NAMES` names."""
    return int(next(k for k, v in match.groupdict().items() if v is not None)[1:])


def _read_names(text: str) -> Iterator[tuple[re.Match[str], int]]:
    """Each holiday ``text`` names as a date, with its row of :data:`_TABLE`: not one that is
    no fixed date here (:data:`_NOT_THE_DATE`), nor one whose sentence gives a date of its
    own, which is the day meant ("Remembrance Day service: Sunday 10 November", "the New
    Year's Day bank holiday on Monday 2 January", "Bonfire Night fireworks on Saturday 2
    November": a review found the fixed date read beside them let a wrong answer's "11
    November" pass, and halted a right one)."""
    if not _might_name(text):
        return
    dated = _dated(text)
    for match in _NAMES.finditer(text):
        if _NOT_THE_DATE.search(text, max(0, match.start() - 20), match.start()):
            continue
        if dated:
            start = max((m.end() for m in _CLAUSE_END.finditer(text, 0, match.start())),
                        default=0)
            end = m.start() if (m := _CLAUSE_END.search(text, match.end())) else len(text)
            if _DATE.search(text, start, end):
                continue
        yield match, _which(match)


def _dated(text: str) -> bool:
    """Whether ``text`` may give a date (a cheap scan before :data:`_DATE`)."""
    return has_digit(text) and any(month in text for month in _MONTHS)


def with_dates(text: str) -> str:
    """``text`` with each holiday it names as a date followed by that date ("Boxing Day (26
    December)"), for the figures read from it."""
    text = text.translate(_QUOTES)
    out: list[str] = []
    at = 0
    for match, row in _read_names(text):
        out.append(f"{text[at:match.end()]} ({_DATE_OF[row]})")
        at = match.end()
    return "".join(out) + text[at:] if out else text


def holiday_keys(text: str) -> frozenset[str]:
    """The keys an evidence sentence is indexed by beside its words: those of the holidays on
    the dates it gives, and those of the dates of the holidays it names."""
    text = text.translate(_QUOTES)
    keys: set[str] = set()
    for _, row in _read_names(text):
        keys |= _DATE_KEYS[row]
    for match in _DATE.finditer(text) if _dated(text) else ():
        month, days = (match.group(1), match.group(2)) if match.group(1) else (
            match.group(4), match.group(3))
        for day in re.findall(r"\d+", days):
            keys |= _KEYS_ON.get((_MONTH_NUMBER[month.lower()], int(day)), frozenset())
    return frozenset(keys)


def holiday_words_known(window_text: str, evidence_keys: AbstractSet[str]) -> frozenset[str]:
    """The keys of the window's holiday names whose dates the evidence gives ("day" of "Boxing
    Day" where the evidence says "26 December"): the words every day's name has are no keys of
    a dated sentence (:data:`_GENERIC`)."""
    out: set[str] = set()
    for match, row in _read_names(window_text.translate(_QUOTES)):
        if _DATE_KEYS[row] <= evidence_keys:
            out |= term_keys(match.group())
    return frozenset(out)


# A word of each name, one of which a text must hold to name any: one scan of the text in
# lower case before the names' alternation (most text names none; a table's thousands of rows
# are each a sentence).
_HINTS = ("christmas", "xmas", "boxing", "stephen", "new year", "hogmanay", "burns",
          "australia", "waitangi", "valentine", "david", "women", "patrick", "fools", "earth",
          "george", "anzac", "cinco", "juneteenth", "canada", "of july", "bastille", "hallowe",
          "saints", "bonfire", "fawkes", "veteran", "remembrance", "armistice", "andrew")


_HINT = re.compile("|".join(map(re.escape, _HINTS)))


def _might_name(text: str) -> bool:
    return _HINT.search(text.lower()) is not None
