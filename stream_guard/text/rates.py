"""Rates over calendar periods: an answer's "$300 a year" is its evidence's "$25 per month".

Answers restate a price, a wage or an allowance over another period than their source gives it
("The membership is $25 a month, which works out to $300 a year"; "2 GB a day is 14 GB a
week"), or over a number of periods ("£62 a day, so five full days is £310"). The amount is
stated nowhere in the evidence, so it read as a new figure and the window halted: a blind probe
of price pages, tariffs and payslips halted 32 of 39 faithful answers that did so, at fused
support as low as a wrong "$350 a year" got.

The evidence's rates are indexed (:func:`rates`, kept under :data:`RATES` in its quantity
index) as an amount, its unit (a currency sign, pence and cents as hundredths of it, or the
word after the figure) and its period: written after it ("$25 per month", "£4.50 a week",
"$9.99/mo", "€1,200 annually", "£15 p.a.", "$8/user/month", "£2,000 every 4 weeks"), or named
by what it is or how it is paid just before it ("a monthly fee of $25", "Annual membership:
€1,200", "Paid bi-weekly: $1,500"). A period may be several calendar ones ("4-weekly",
"semi-annual", "per 12 months": a year holds 13, 2 and 1 of them). A window's figure of the
same unit is worked out of one where it is that rate over a period the window names (after the
figure, or anywhere in it: "Over a year, that comes to $300"), or over a count of periods
("five full days"), by the usual reckonings only (12 months, 52 weeks or 365 days a year; 30,
31 or 30.44 days and 4.33 weeks a month; never 4 weeks a month; hours counted, never reckoned:
a working day has no fixed length), to its rounding (0.6 %) or, after a hedge, within 3.5 % on
the hedge's side ("nearly $300" is under it, "just over" above).

Which rate: one the window itself states ("At $25 per month, ... $300 a year"), the evidence's
only rate of that unit, or an hourly rate over the hours a period holds where the window states
both ("40 hours a week at $18 an hour for 52 weeks comes to $37,440 a year"); of the window's
own rates, only one it worked out (of a rate, or by its arithmetic: "€240 per user per year" of
€1,200 shared by 5). A review of the first version found that any rate let a wrong one through:
the wrong item's ("The annual plan costs $144 a year" where the monthly plan is $12 a month and
the annual plan $99), or a rate the answer merely gave ("At £2,000 a week, that comes to
£104,000 a year" of £2,000 paid 4-weekly). Nor are a dose reckoned (a regimen is no sum: "7
capsules once a week instead of one a day"), a salary given pro rata, or a bill the evidence
splits into instalments of its own ("10 monthly instalments"). The count a rate is taken over
goes with the result only where it is a period's usual length taken as such ("over about 30
days", "a 365-day year") and the evidence counts none of that period: "for 7 days, so 42
tablets" of a 5-day course stays a changed count. The count that names the evidence's own
period is no new figure ("$600 every 6 months" of a semi-annual premium).

A rate given over another period than the evidence's ("£15 a year" of a "£15 monthly fee") is
a conflict (:func:`period_swapped`), unless a sentence of the evidence that holds the amount
names that period too ("... gadget cover £15 p.a.").

Pure: regular expressions over canonical text (:func:`stream_guard.text.figures
.canonical_figures`), so numbers in words arrive as digits.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from stream_guard.text.figures import _decimal, plain_number
from stream_guard.text.terms import _normalize

# The keys of a quantity index under which it keeps its rates, as "amount unit period", and
# each amount of a unit with each period a sentence holding it names.
RATES = "@rates"
RATE_PERIODS = "@rate-periods"

# A period's name in the text -> the period.
_PERIOD_NAMES = {
    "hour": "hour", "hr": "hour", "day": "day", "week": "week", "wk": "week",
    "fortnight": "fortnight", "month": "month", "mo": "month", "quarter": "quarter",
    "year": "year", "yr": "year", "annum": "year", "hourly": "hour", "daily": "day",
    "weekly": "week", "fortnightly": "fortnight", "monthly": "month", "quarterly": "quarter",
    "yearly": "year", "annually": "year", "annual": "year", "pcm": "month", "p.a.": "year",
    "p.a": "year"}
# How many of the shorter period one of the longer is, by each reckoning an answer uses: a year
# is 12 months, 52 weeks or 365 days; a month 30, 31 or an average 30.44 days, and 4.33 or 4.35
# weeks (never 4: "$100 a week is $400 a month" is a wrong sum). Not hours.
_LENGTHS: dict[frozenset[str], tuple[Decimal, ...]] = {
    frozenset(pair): tuple(Decimal(str(x)) for x in factors) for pair, factors in (
        (("day", "week"), (7,)),
        (("day", "fortnight"), (14,)),
        (("week", "fortnight"), (2,)),
        (("day", "month"), (30, 31, 30.4375)),
        (("week", "month"), (52 / 12, 30.4375 / 7)),
        (("fortnight", "month"), (26 / 12, 30.4375 / 14)),
        (("day", "quarter"), (90, 91, 91.3125)),
        (("week", "quarter"), (13,)),
        (("fortnight", "quarter"), (6.5,)),
        (("month", "quarter"), (3,)),
        (("day", "year"), (365, 365.25)),
        (("week", "year"), (52, 365.25 / 7)),
        (("fortnight", "year"), (26, 365.25 / 14)),
        (("month", "year"), (12,)),
        (("quarter", "year"), (4,)))}
_ORDER = ("hour", "day", "week", "fortnight", "month", "quarter", "year")
# A shorter period's adverb, as a unit word of the quantity index ("10 monthly instalments")
_ADVERB_OF = {period: name for name, period in _PERIOD_NAMES.items()
              if name.endswith("ly") and period not in ("hour", "year")}
# The usual lengths in whole periods ("30 days", "12 months", "52 weeks", "365 days").
_USUAL_COUNTS = {(period, count) for pair, lengths in _LENGTHS.items() for period in pair
                 for count in lengths if count == count.to_integral_value()
                 and _ORDER.index(period) == min(_ORDER.index(p) for p in pair)}

_EXACT = Decimal("0.006")  # a worked-out rate's rounding: $4.99 a month is "$60 a year"
_HEDGED = Decimal("0.035")  # ... after "about", "roughly", "nearly", "just over", "~"

# Not inside a compound: "bi-weekly", "4-weekly", "six-monthly", "semi-annual" are other periods
_ALONE = r"(?<![\w-])"
_CALENDAR = r"(?:day|week|wk|fortnight|month|mo|quarter|year|yr|annum)"
_ADVERB_WORD = r"(?:hourly|daily|weekly|fortnightly|monthly|quarterly|yearly|annually|pcm)"
_PERIOD_WORD = rf"(?:hour|hr|{_CALENDAR})"
_PERIOD = rf"(?P<period>{_PERIOD_WORD})s?"
_WORD = r"[^\W\d_][\w'-]*"
# A figure: a currency sign, the number, and the word after it, its unit ("3 tablets", "2 GB
# of data", "4 hours of meeting-room time"), unless that word opens or names a period, or says
# how often ("£5 twice a week" is £10 a week).
_AMOUNT = (r"(?<![\w.,])(?P<sign>[$£€¥]?)[ \t]?"
           r"(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\d.,]\d)"
           r"(?:[ \t]*+-?[ \t]*+(?!(?:per|a|an|each|every|twice|thrice|" + _CALENDAR + "s?|"
           + _ADVERB_WORD + rf")\b)(?P<unit>[^\W\d_]+)(?:[ \t]++of(?:[ \t]++{_WORD}){{1,3}}?)?)?")
# What introduces a period after its amount ("per", "a", "an", "each", "every", "/"), after
# what the amount is for ("€20 per user per month", "$8/user/month").
_FOR_WHAT = (r"(?:(?:[ \t]++per[ \t]++|[ \t]*+/[ \t]*+)(?!" + _PERIOD_WORD + r"s?\b)[^\W\d_]+)?")
_PER = _FOR_WHAT + (r"(?:[ \t]*+/[ \t]*+|[ \t]++(?:per|a|an|each|every)(?:[ \t]++calendar)?"
                    r"[ \t]++)")
# Periods of several calendar ones, by their names ("paid bi-weekly", "a semi-annual premium")
_MULTIPLES = {"bi-weekly": "fortnight", "biweekly": "fortnight", "4-weekly": "4-week",
              "semi-monthly": "0.5-month", "twice-monthly": "0.5-month",
              "semi-annual": "6-month", "semi-annually": "6-month", "half-yearly": "6-month",
              "6-monthly": "6-month", "biannual": "6-month", "biannually": "6-month"}
_MULTIPLE_WORD = "|".join(sorted(_MULTIPLES, key=len, reverse=True))
_RATE_AFTER = re.compile(
    _AMOUNT + r"(?:" + _PER + _PERIOD + r"\b"
    r"|[ \t,]++(?:(?:billed|charged|paid|payable)[ \t]++)?" + _ALONE
    + rf"(?:(?P<adverb>{_ADVERB_WORD})|(?P<multiple>{_MULTIPLE_WORD}))\b"
    r"|[ \t]*+(?P<pa>p\.a\b\.?)"
    # "every 4 weeks", "per 12 months", "every other week"
    r"|[ \t,]++(?:(?:billed|charged|paid|payable)[ \t]++)?(?:every|per)[ \t]++"
    r"(?:(?P<every>\d+)|(?P<other>other))[ \t]++(?P<every_period>" + _PERIOD_WORD + r")s?\b)")
# What a period names before an amount, in the same clause: "a monthly fee of $25", "Annual
# membership: €1,200", "The annual plan costs $99". Only what is paid or allowed (a review:
# "Monthly payers spread the £240" is no £240 a month).
_ADJECTIVE_BEFORE = re.compile(
    _ALONE + r"(daily|weekly|fortnightly|monthly|quarterly|yearly|annual|" + _MULTIPLE_WORD
    + r")[ \t]++"
    r"(?:[\w-]+[ \t]++)?(?:fee|charge|cost|price|rate|payment|premium|subscription|membership"
    r"|rent|plan|pass|ticket|permit|salary|wage|allowance|budget|limit|cap|bill|instalment"
    r"|installment|contribution|dues|licen[cs]e)s?[ \t]*+(?:[:=–-]|of|is|are|costs?|at)?"
    r"[ \t]*+(?:(?:just|only)[ \t]++)?(?=[$£€¥]?\d)"
    # ... or how it is paid: "Paid bi-weekly: $1,500 gross"
    r"|\b(?:paid|billed|charged|payable)[ \t]++(daily|weekly|fortnightly|monthly|quarterly"
    r"|yearly|annually|" + _MULTIPLE_WORD + r")[ \t]*+[:,–-]?[ \t]*+(?=[$£€¥]?\d)")
_FIGURE = re.compile(_AMOUNT)
# A period the window names: with a count ("over 30 days", "a 30-day month", "five full
# days", "40 regular hours"), or alone ("a year", "annually").
_NAMED_PERIOD = re.compile(
    r"(?<![\w.,])(?P<count>\d+(?:\.\d+)?)(?![\d.,]\d)[ \t]*+-?[ \t]*+"
    r"(?:(?!" + _PERIOD_WORD + r"s?\b)[^\W\d_]+[ \t]++)?" + _PERIOD + r"\b"
    + r"|" + _ALONE + rf"(?P<alone>{_PERIOD_WORD})s?\b"
    + r"|" + _ALONE + rf"(?P<adverb>{_ADVERB_WORD}|annual)\b|(?P<pa>p\.a\b\.?)")
# What takes an amount over a count of periods, right before the count ("over about 30 days",
# "for 52 weeks", "x 12 months"), or a longer period right after "N-day", of which it is the
# length ("a 30-day month"): a reckoning, not a claim of its own ("covered after 12 months").
_RECKONED_OVER = re.compile(r"(?:\b(?:over|for|across|in|during|times|by)|[x×*])[ \t]++"
                            r"(?:(?:about|around|roughly|approximately|a|an|the|some)[ \t]++)?$")
_LENGTH_OF = re.compile(r"[ \t]++" + _PERIOD_WORD + r"\b")
_HEDGE = re.compile(r"(?:\b(about|around|roughly|approximately|nearly|almost|just over|"
                    r"just under|some|close to|circa)[ \t]++|(~)[ \t]*+)[$£€¥]?$")
_UNDER = frozenset({"nearly", "almost", "just under"})  # the true amount is under the figure
_OVER = frozenset({"just over"})  # ... or over it
# The unit of money an amount is in, whether signed or named, and its hundredths.
_MONEY = {"dollar": "$", "usd": "$", "buck": "$", "euro": "€", "eur": "€", "gbp": "£",
          "quid": "£", "yen": "¥", "jpy": "¥"}
_HUNDREDTHS = {"p": "£", "pence": "£", "penny": "£", "cent": "$", "ct": "$"}
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n")
_DOSES = frozenset({"tablet", "capsule", "caplet", "pill", "dose", "drop", "puff", "sachet",
                    "spray", "lozenge", "pastille", "injection", "patch", "suppository", "mg",
                    "mcg", "microgram", "milligram", "ml", "millilitre", "milliliter", "iu",
                    "unit"})
_PRO_RATA = re.compile(r"[^.;!?\n]{0,40}?\b(?:pro[ -]rata|fte|full[ -]time equivalent)\b")


class _Rate(NamedTuple):
    amount: Decimal
    unit: str
    period: str


class _Figure(NamedTuple):
    number: str  # as :func:`plain_number` writes it
    value: Decimal
    unit: str
    start: int


def _amount(match: re.Match[str]) -> tuple[Decimal, str] | None:
    """An amount's value and unit: its currency sign, else the word after it as a key; pence
    and cents as hundredths of their currency ("45p" is £0.45)."""
    try:
        value = Decimal(match["amount"].replace(",", ""))
    except InvalidOperation:
        return None
    if match["sign"]:
        return value, match["sign"]
    if not match["unit"]:
        return None
    key = _normalize(match["unit"])
    if key in _HUNDREDTHS:
        return value / 100, _HUNDREDTHS[key]
    return value, _MONEY.get(key, key)


def _figures(low: str) -> Iterator[_Figure]:
    for match in _FIGURE.finditer(low):
        if (read := _amount(match)) is not None:
            yield _Figure(plain_number(match["amount"]), read[0], read[1], match.start("amount"))


def _entry(amount: Decimal, unit: str, period: str) -> str:
    return f"{plain_number(str(amount))} {unit} {period}"


def rates(canonical: str) -> dict[str, frozenset[str]]:
    """The rates a canonical text gives (:data:`RATES`), and the periods named beside each of
    its amounts (:data:`RATE_PERIODS`), as "amount unit period" (the module's docstring)."""
    low = canonical.lower()
    given = {_entry(*rate) for _, rate, _ in _rates_in(low)}
    for match in _ADJECTIVE_BEFORE.finditer(low):
        figure = _FIGURE.match(low, match.end())
        if figure is not None and (read := _amount(figure)) is not None and read[0] and (
                _reckoned(low, figure.end(), read[1])):
            named = match.group(1) or match.group(2)
            given.add(_entry(read[0], read[1], _MULTIPLES.get(named) or _PERIOD_NAMES[named]))
    if not given:
        return {}
    beside = {_entry(figure.value, figure.unit, period)
              for sentence in _SENTENCE.split(low) for figure in _figures(sentence)
              for period in _periods_meant(sentence)}
    return {RATES: frozenset(given), RATE_PERIODS: frozenset(beside)}


def _rates_in(low: str) -> Iterator[tuple[int, _Rate, str | None]]:
    """Each amount written with its period after it, by where its number starts, with the
    count its period is written with ("6" of "every 6 months", "4" of "4-weekly"); not an
    amount of nothing, which is the same over every period ("£0 a month" is "£0 a year")."""
    for match in _RATE_AFTER.finditer(low):
        if (read := _amount(match)) is None or not read[0] or not _reckoned(
                low, match.end(), read[1]):
            continue
        count = None
        if match["every_period"]:
            every = Decimal(match["every"] or 2)
            if not every:
                continue  # "every 0 weeks" is no period
            period = _canonical(every, _PERIOD_NAMES[match["every_period"]])
            count = plain_number(match["every"]) if match["every"] else None
        elif match["multiple"]:
            period = _MULTIPLES[match["multiple"]]
            count = digits.group() if (digits := re.match(r"\d+", match["multiple"])) else None
        else:
            period = _PERIOD_NAMES[match["period"] or match["adverb"] or match["pa"]]
        yield match.start("amount"), _Rate(read[0], read[1], period), count


def _canonical(multiple: Decimal, base: str) -> str:
    """A period of ``multiple`` ``base`` periods, by its own name where it has one (12 months
    are a year, 2 weeks a fortnight), else "N-base" ("4-week", "6-month")."""
    if multiple == 1:
        return base
    for longer in _ORDER[_ORDER.index(base) + 1:]:
        if multiple in _LENGTHS.get(frozenset((base, longer)), ()):
            return longer
    return f"{plain_number(str(multiple))}-{base}"


def _span(period: str) -> tuple[Decimal, str]:
    """A period as a multiple of a calendar one: "4-week" is (4, "week"), "month" (1, "month")."""
    multiple, _, base = period.rpartition("-")
    return (Decimal(multiple) if multiple else Decimal(1)), base


def _reckoned(low: str, end: int, unit: str) -> bool:
    """Whether a rate ending at ``end`` may be reckoned over other periods: not a dose (a
    review: "7 capsules once a week instead of one a day" passed as 1 x 7; a medicine's
    regimen is no sum), nor a salary given pro rata (its full-time figure is no one's pay)."""
    return unit not in _DOSES and not _PRO_RATA.match(low, end)


def worked_out_rates(canonical: str, evidence: Mapping[str, frozenset[str]],
                     worked: AbstractSet[str] = frozenset()) -> set[str]:
    """The figures of a canonical window worked out of a rate (the module's docstring), as
    plain numbers, with the counts of periods they are reckoned over. ``worked``: the figures
    of the window its arithmetic worked out of others, which may be rates to work out from."""
    low = canonical.lower()
    written = list(_rates_in(low))
    own = {at: rate for at, rate, _ in written}
    given = list(_given(evidence.get(RATES, ())))
    if not given and len(own) < 2:
        return set()
    figures = list(_figures(low))
    amounts = Counter((figure.value, figure.unit) for figure in figures)
    units = Counter(rate.unit for rate in given)
    named = list(_named_periods(low))
    counted = [(count, period) for count, period, _ in named if count != 1]
    reckoned = {(count, period) for count, period, reckoning in named if reckoning}
    # an hourly rate over the hours a period holds, both of them stated in the window ("40 hours
    # a week at $18 an hour for 52 weeks comes to $37,440 a year")
    chained = [_Rate(pay.amount * hours.amount, pay.unit, hours.period)
               for pay in given if pay.period == "hour" and amounts[pay.amount, pay.unit]
               for hours in given if hours.unit == "hour" and amounts[hours.amount, "hour"]]
    stated = evidence.get("", frozenset())
    out: set[str] = set()
    worked_at: set[int] = set()  # where the figures worked out start
    # the count that names the evidence's period ("$600 every 6 months" of its "semi-annual
    # premium: $600", "paid 4-weekly") is no new figure either
    out.update(count for _, rate, count in written if count and rate in given)
    for figure in figures:
        if figure.number in stated:
            continue
        periods = ([(Decimal(1), own[figure.start].period), *counted] if figure.start in own
                   else [(count, period) for count, period, _ in named])
        # of a rate the window states (not this figure itself), the evidence's only rate of
        # its unit, or a rate the window worked out before this figure: of a rate, or by its
        # arithmetic ("£2.50 a week more", the difference of two) (a review: any rate the
        # window gave let a wrong one through, "At £2,000 a week, that comes to £104,000 a
        # year" of a £2,000 paid 4-weekly)
        operands = [rate for rate in given if rate.unit == figure.unit and (
                        units[rate.unit] == 1
                        or amounts[rate.amount, rate.unit] > (rate.amount == figure.value))]
        operands += [rate for rate in chained if rate.unit == figure.unit]
        operands += [rate for at, rate in own.items() if at < figure.start and (
                         at in worked_at or plain_number(str(rate.amount)) in worked)
                     and rate.unit == figure.unit]
        hedge = _hedge(low, figure.start)
        over = [(count, period) for rate in operands for count, period in periods
                if not _own_schedule(evidence, period, rate.period)
                and _worked_out(figure.value, hedge, rate, count, period)]
        if not over:
            continue
        out.add(figure.number)
        worked_at.add(figure.start)
        out.update(plain_number(str(count)) for count, period in over
                   if (count, period) in reckoned and (period, count) in _USUAL_COUNTS
                   and not evidence.get(period))
    return out


def _own_schedule(evidence: Mapping[str, frozenset[str]], period: str, rate_period: str) -> bool:
    """Whether the evidence splits a rate into counts of a shorter ``period`` of its own (a
    review: "paid in 10 monthly instalments" makes a year's bill no twelfth a month); not a
    count of the period itself ("a deposit of five weeks' rent" schedules nothing)."""
    if "-" in period + rate_period or _ORDER.index(period) >= _ORDER.index(rate_period):
        return False
    lengths = _LENGTHS.get(frozenset((period, rate_period)), ())
    return any(count not in lengths for n in evidence.get(_ADVERB_OF.get(period, ""), ())
               if (count := _decimal(n)) is not None and count != 1)


def _given(entries: Iterable[str]) -> Iterator[_Rate]:
    for entry in entries:
        amount, unit, period = entry.rsplit(" ", 2)
        yield _Rate(Decimal(amount), unit, period)


def _named_periods(low: str) -> Iterator[tuple[Decimal, str, bool]]:
    """Each period a text names, with its count (1 where it gives none) and whether that
    count is a reckoning (:data:`_RECKONED_OVER`)."""
    for match in _NAMED_PERIOD.finditer(low):
        if not match["count"]:
            yield Decimal(1), _PERIOD_NAMES[match["alone"] or match["adverb"] or match["pa"]], \
                False
            continue
        reckoning = bool(_RECKONED_OVER.search(low, 0, match.start("count"))
                         or _LENGTH_OF.match(low, match.end()))
        yield Decimal(match["count"]), _PERIOD_NAMES[match["period"]], reckoning


def _periods_meant(text: str) -> set[str]:
    """The periods a text names, a count of one that is the usual length of a longer one
    naming that too ("£15 per 12 months" is £15 a year)."""
    out: set[str] = set()
    for count, period, _ in _named_periods(text):
        out.add(period)
        out.update(longer for pair, lengths in _LENGTHS.items() if period in pair
                   and count in lengths for longer in pair - {period}
                   if _ORDER.index(longer) > _ORDER.index(period))
    return out


def _hedge(low: str, start: int) -> str | None:
    """The hedge right before a figure, if any ("~" as "about")."""
    match = _HEDGE.search(low, max(0, start - 20), start)
    return None if match is None else (match.group(1) or "about")


def _worked_out(value: Decimal, hedge: str | None, rate: _Rate, count: Decimal,
                period: str) -> bool:
    """Whether ``value`` (after ``hedge``) is ``rate`` over ``count`` ``period``s, by one of
    the reckonings of :data:`_LENGTHS` (a period of several calendar ones, "4-week", as that
    many: a year is 13 of them)."""
    if period == rate.period and count == 1:
        return False
    (times, base), (rate_times, rate_base) = _span(period), _span(rate.period)
    if base == rate_base:
        lengths: tuple[Decimal, ...] = (Decimal(1),)
    else:
        lengths = _LENGTHS.get(frozenset((base, rate_base)), ())
        if _ORDER.index(base) < _ORDER.index(rate_base):
            lengths = tuple(1 / x for x in lengths)
    for factor in (length * times / rate_times for length in lengths):
        exact = rate.amount * count * factor
        if hedge is None:
            if abs(value - exact) <= _EXACT * value:
                return True
        elif abs(value - exact) <= _HEDGED * value and (
                (hedge not in _UNDER or exact <= value) and (hedge not in _OVER or exact >= value)):
            return True
    return False


def period_swapped(canonical: str, evidence: Mapping[str, frozenset[str]]) -> bool:
    """Whether a canonical window gives one of its evidence's rates over another period than
    the evidence does ("£15 a year" of a "£15 monthly fee", "2 GB a month" of "2 GB of data per
    day"): the amount is the evidence's, so no figure conflicts, yet the claim is another. Not
    where a sentence of the evidence that holds the amount names the window's period too."""
    given = set(_given(evidence.get(RATES, ())))
    if not given:
        return False
    beside = evidence.get(RATE_PERIODS, frozenset())
    return any(rate not in given and _entry(*rate) not in beside
               and any(other._replace(period=rate.period) == rate for other in given)
               for _, rate, _ in _rates_in(canonical.lower()))
