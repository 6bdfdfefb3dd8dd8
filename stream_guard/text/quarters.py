"""Quarters of the year: a window that names one its evidence neither names nor implies,
where the evidence speaks of the quarters of a year.

An earnings call's summary that moves a figure to another quarter ("home deliveries for 1Q 2020
are predicted to hit between 2,400 and 2,600 units" of "home deliveries for the fourth quarter
of 2020 to reach between 2,400 and 2,600 units"; "AutoNation reported strong financial results
for Q4 2020" of a call on the third quarter) keeps every other word, and the detector reads the
quarter as one more detail. The swaps check (:mod:`stream_guard.text.swaps`) catches a quarter
swapped beside the same words of a near sentence, where the window's quarter is stated nowhere
in the evidence; this one catches it wherever it stands, as :mod:`stream_guard.text.places`
does a place: the evidence says which quarters it is about, and a window's quarter among none
of them is no reading of it. The fused score then treats the window as contradicted, as a
quantity conflict is (:func:`stream_guard.scoring.fusion.capped`).

Only where the evidence dates a quarter by its year ("the third quarter of 2020", "Q3 2020",
"2020 fourth quarter", "3Q20", "Q3 FY24"): a game's quarters ("Denver led after the third
quarter"), a moon's, a century's or a survey's Q1 are no quarters of a year, and an answer
may well name one the source leaves out ("at halftime" is the end of the second quarter). In
text that numbers questions or quartiles (Q1, Q3), only quarters written in words count.

What the evidence names includes what it lets a reader work out, so a faithful summary that
does so is not marked:

* the quarter before or after one it names, said in other words: "the prior quarter",
  "sequentially", "quarter-on-quarter", "next quarter";
* a list or a range: "the second and third quarters", "third- and fourth-quarter", "Q1
  through Q3", "from the second to the fourth quarter", "the first three quarters", "the
  first nine months"; a half: "the second half" holds the third and fourth quarters;
* a month of a year ("first power in March 2024" is Q1 2024);
* any quarter at all where the evidence names one by the date or months it ends or spans
  ("three months ended September 30", "the June quarter", "October to December"), counts
  back ("two quarters ago"), gives the year to date or speaks of every quarter: which one a
  summary may work out of it, this module does not follow.

Measured on ``summedits_train``, the dev tune halves, HaluEval's samples and the probes in
``docs/results/`` (``docs/quality-log.md``, the fifty-first session), and reviewed: the review's
faithful answers (``docs/results/quarters-review-51.jsonl``) are what the reading above was
widened for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# The keys of a quantity index (:func:`stream_guard.text.quantities.quantity_index`) under
# which the quarters its text names or implies are kept, as "1" to "4": where the text dates
# a quarter by its year, and where it does not. A collection's passages are indexed one by one
# and merged (:func:`~stream_guard.text.quantities.merge_quantities`): a quarter one passage
# names without a year ("Q2 revenue rose") is still a quarter of the evidence beside another
# passage's "third quarter of 2020", not one a window made up.
QUARTERS = "@quarters"
UNDATED_QUARTERS = "@quarters-undated"

_ORDINAL = r"first|second|third|fourth|1st|2nd|3rd|4th"
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4,
             "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}
_YEAR = r"(?:19|20)\d{2}"
_MONTH = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
# A range of months: "October to December", "Apr-Jun".
_MONTH_RANGE = rf"\b(?:{_MONTH})\.?(?:[ \t]*(?:-|–|to|through|thru)){{1,3}}[ \t]*(?:{_MONTH})\b"
# One quarter: "third quarter(s)", "third-quarter", "third fiscal quarter", "Q3", "Q3FY24",
# "Q3'20", "3Q", "3Q20", "2023Q3", "Qtr 3", "the final quarter of 2023" (4), "the opening
# quarter of the year" (1). Not "Q400" (an aircraft) nor "Q4 e-tron"'s like: the gate
# below asks the evidence for a quarter dated by its year.
_ONE = re.compile(
    rf"\b(?:({_ORDINAL})[ \t-]+(?:(?:fiscal|calendar)[ \t]+)?quarters?\b"
    r"|[Qq]([1-4])(?=\b|FY|fy|'\d{2}\b)|([1-4])[Qq](?=\b|'?\d{2}\b)"
    r"|(?:Qtr|QTR|qtr)\.?[ \t]?([1-4])\b|([1-4])T'?\d{2}\b"
    rf"|(final|last|closing|opening)[ \t]+quarter[ \t]+of[ \t]+(?:the[ \t]+year|{_YEAR})\b)"
    rf"|(?<={_YEAR})[ \t-]?[Qq]([1-4])\b", re.I)
_ENDS = {"final": 4, "last": 4, "closing": 4, "opening": 1}
# The evidence dates a quarter by its year ("third quarter of 2020", "Q3 2020", "2020 fourth
# quarter", "3Q20", "Q3 FY24"): it speaks of the quarters of a calendar or fiscal year, not of
# a game's, a moon's or a century's, nor of a survey's question 3.
_DATED = re.compile(
    rf"(?:quarters?|\b[Qq][1-4]|\b[1-4][Qq])\b[^.\n]{{0,15}}?(?:\b{_YEAR}|\bFY[ \t]?\d{{2,4}})\b"
    rf"|\b{_YEAR}[ \t-]{{1,3}}(?:(?:{_ORDINAL})[ \t-]+quarter|[Qq][1-4]\b)|{_YEAR}[Qq][1-4]\b"
    r"|\b[1-4][Qq]'?\d{2}\b|\b[Qq][1-4](?:'\d{2}|FY)", re.I)
# Several: "the second and third quarters", "first, second, and third quarters", "third- and
# fourth-quarter", "second or third quarter"; four at most (and a run of ordinals is read in
# linear time: unbounded, "third and " repeated 8,000 times took 16 s).
_LIST = re.compile(
    rf"\b((?:(?:{_ORDINAL})-?(?:[ \t]*,[ \t]*(?:(?:and|or|&)[ \t]+)?|[ \t]+(?:and|or|&)[ \t]+)"
    rf"(?:the[ \t]+)?){{1,3}}(?:{_ORDINAL}))[ \t-]+(?:(?:fiscal|calendar)[ \t]+)?quarters?\b",
    re.I)
# A range: "Q1 through Q3", "Q2-Q4", "from the second to the fourth quarter".
_RANGE = re.compile(
    rf"\b(?:[Qq]([1-4])|({_ORDINAL}))[ \t]*(?:-|–|to|through|thru)[ \t]*(?:the[ \t]+)?"
    rf"(?:[Qq]([1-4])|({_ORDINAL})[ \t-]+quarters?)\b", re.I)
# The first N quarters of a year, or months: "first three quarters", "first nine months".
_FIRST_N = re.compile(r"\bfirst[ \t]+(?:(two|three|2|3)[ \t]+quarters"
                      r"|(six|nine|6|9)[ \t-]+months)\b", re.I)
_COUNTS = {"two": 2, "three": 3, "2": 2, "3": 3, "six": 2, "nine": 3, "6": 2, "9": 3}
_HALF = re.compile(r"\b(?:(first|second|1st|2nd|front|back|latter)[ \t-]+half|([12])H|H([12]))\b",
                   re.I)
_FIRST_HALF = ("first", "1st", "front", "1")
# The quarter before a named one, or after it, said in other words.
_BEFORE = re.compile(
    r"\b(?:(?:prior|previous|last|preceding|linked|sequential)[ \t-]+quarter\b(?![ \t]+of\b)"
    r"|quarter[ \t]+(?:before|earlier)\b|sequentially\b|quarter[ \t-]+(?:on|over|to)[ \t-]+"
    r"quarter\b|QoQ\b)", re.I)
_AFTER = re.compile(r"\b(?:(?:next|coming|following|upcoming|subsequent)[ \t-]+quarter"
                    r"|quarter[ \t]+(?:after|ahead))\b", re.I)
# Evidence from which any quarter may be worked out: one named by the date or months it ends
# or spans ("three months ended September 30", "the June quarter", "the April-June quarter",
# "six months to June"), a count back ("two quarters ago"), the year to date, every quarter.
_ANY = re.compile(
    r"\bquarters?[ \t-]+(?:that[ \t]+)?end(?:ed|ing|s)\b"
    r"|\bmonths?[ \t]+(?:ended|ending|to|through|thru|until)\b"
    rf"|\b(?:{_MONTH})\.?[ \t]+quarter\b"
    r"|\bquarters[ \t]+(?:ago|earlier|before)\b|\byear[ \t-]+to[ \t-]+date\b|\bYTD\b"
    r"|\b(?:four|all|every|each)[ \t]+(?:of[ \t]+the[ \t]+)?(?:four[ \t]+)?quarters?\b"
    r"|\bconsecutive[ \t]+quarter"
    rf"|{_MONTH_RANGE}", re.I)
# A month of a year ("March 2024"), which lies in one quarter of it.
_MONTH_OF_YEAR = re.compile(rf"\b({_MONTH})\.?,?[ \t]+(?:\d{{1,2}}(?:st|nd|rd|th)?,?[ \t]+)?"
                            rf"{_YEAR}\b", re.I)
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
# Text that numbers other things Q1, Q2 ...: a survey's questions, a distribution's quartiles.
_OTHER_QS = re.compile(r"\b(?:quartiles?|questions?|percentiles?|survey|poll|respondents"
                       r"|answered)\b", re.I)
# What every reading above needs somewhere in the text: a word ("quarter", "qtr", "half",
# "month", "year to date", "YTD"), a quarter or half next to its number ("Q3", "3Q", "3T24",
# "2H", "H1"), a year ("March 2024") or a range of months ("October to December"). Most
# evidence holds none, and one pass for these costs a seventh of the readings that would each
# find nothing. Exact: a test holds the gated reading equal to the whole one on a fuzz of the
# readings' own words, and all 102,224 texts of the dev files and probes read the same.
_HINT_WORDS = ("quarter", "qtr", "half", "month", "ytd", "year")
_HINT_FORMS = re.compile(rf"[1-4][qht]|[qh][1-4]|(?:19|20)\d\d|{_MONTH_RANGE}", re.I)


def named_quarters(text: str) -> frozenset[int]:
    """The quarters ``text`` names one by one ("Q3", "third quarter", "3Q20"); in text that
    numbers questions or quartiles so, those written in words alone."""
    found = _ONE.finditer(text)
    if _OTHER_QS.search(text):
        return frozenset(_ORDINALS[m.group(1).lower()] for m in found if m.group(1))
    return frozenset(_one(m) for m in found)


def evidence_quarters(text: str) -> dict[str, frozenset[str]]:
    """The quarters ``text`` names or lets a reader work out (module docstring), as "1" to
    "4", under :data:`QUARTERS` where it dates one by its year, else under
    :data:`UNDATED_QUARTERS`; empty where it names none."""
    if not _may_name_quarters(text):
        return {}
    key = QUARTERS if _DATED.search(text) else UNDATED_QUARTERS
    found = _implied(text)
    return {key: frozenset(str(q) for q in found)} if found else {}


def _may_name_quarters(text: str) -> bool:
    """Whether ``text`` holds what some reading of :func:`_implied` needs (``_HINT_WORDS``)."""
    low = text.lower()
    return any(word in low for word in _HINT_WORDS) or _HINT_FORMS.search(text) is not None


def _implied(text: str) -> set[int]:
    if _ANY.search(text):
        return {1, 2, 3, 4}
    # every quarter it writes, Q-forms too even beside a survey's words: what the evidence
    # states is read widely, what a window claims narrowly
    named = {_one(m) for m in _ONE.finditer(text)}
    found = set(named)
    for match in _LIST.finditer(text):
        found.update(_ORDINALS[w.lower()] for w in re.findall(_ORDINAL, match.group(1), re.I))
    for match in _RANGE.finditer(text):
        low = int(match.group(1)) if match.group(1) else _ORDINALS[match.group(2).lower()]
        high = int(match.group(3)) if match.group(3) else _ORDINALS[match.group(4).lower()]
        found.update(range(min(low, high), max(low, high) + 1))
    for match in _FIRST_N.finditer(text):
        found.update(range(1, _COUNTS[(match.group(1) or match.group(2)).lower()] + 1))
    for match in _HALF.finditer(text):
        half = (match.group(1) or match.group(2) or match.group(3)).lower()
        found.update((1, 2) if half in _FIRST_HALF else (3, 4))
    for match in _MONTH_OF_YEAR.finditer(text):  # "first power in March 2024": Q1 2024
        found.add((_MONTHS.index(match.group(1)[:3].lower()) // 3) + 1)
    if _BEFORE.search(text):
        found.update(q - 1 if q > 1 else 4 for q in named)
    if _AFTER.search(text):
        found.update(q + 1 if q < 4 else 1 for q in named)
    return found


def quarter_conflict(window: str, evidence: Mapping[str, frozenset[str]]) -> bool:
    """The window names a quarter the evidence neither names nor implies, where it names
    others (``evidence``: a quantity index, which keeps them under :data:`QUARTERS` and
    :data:`UNDATED_QUARTERS`)."""
    stated = evidence.get(QUARTERS)
    if not stated:
        return False
    stated |= evidence.get(UNDATED_QUARTERS, frozenset())
    if len(stated) == 4:
        return False
    return any(str(q) not in stated for q in named_quarters(window))


def _one(match: re.Match[str]) -> int:
    word, q_first, q_last, qtr, trimester, end, after_year = match.groups()
    if word:
        return _ORDINALS[word.lower()]
    if end:
        return _ENDS[end.lower()]
    return int(q_first or q_last or qtr or trimester or after_year)
