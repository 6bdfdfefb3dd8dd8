"""Numbers however they are written, as one canonical form: what terms and quantities compare.

"twenty - five" is "25", "$2.5bn" is "2,500,000,000", "15 per cent" is "15%", "9th of March" is
the date of "March 9", "Q3" is the third quarter and "1 1/2 cups" is "1.5 cups": an answer that
rewrites a figure of its source in another notation states the same figure, and one that
changes it states another. Pure text rewriting, shared by :mod:`stream_guard.text.terms` (keys)
and :mod:`stream_guard.text.quantities` (numbers with their units), which also read its
patterns.
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal

from stream_guard.text.cjk import CJK

# Decimal digits of other scripts (Arabic-Indic "٣٠", Persian "۳۰", Devanagari "३०", ...) as
# ASCII's, one character for one: the same figure however written (a review: "within ٣٠ days"
# was contradicted by evidence of "30 days", and an Arabic context's "٣٠" by an answer's "30").
_OTHER_DIGITS = {code: 0x30 + unicodedata.digit(chr(code)) for code in range(0x80, 0x20000)
                 if unicodedata.category(chr(code)) == "Nd"}
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")

_SMALL = {w: n for n, w in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"))}
_TENS = {w: 10 * n for n, w in enumerate(
    ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"), start=2)}
_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_NUMBER_WORD = "|".join([*_SMALL, *_TENS, "hundred", *_SCALES])
_ORDINAL = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth"
# A run of number words on one line, joined by spaces or hyphens (transcripts write "twenty -
# five"), with "and" allowed after "hundred" or a scale ("one hundred and five"), and not the
# start of an ordinal ("twenty-first"). Matched on lower-cased text: case-insensitive matching
# is ten times slower, and stream set-up runs it over whole contexts. (The lookahead on the
# first letter lets the scan skip most positions.)
# Read aloud, a number may also start with "a" ("a hundred and eighty degrees", where a number
# or money goes on: "a hundred times" stays words) and end in a decimal ("four point one five";
# not "at one point", an idiom).
_DIGIT_VALUE = {**{w: str(n) for w, n in _SMALL.items() if n < 10}, "oh": "0"}
_A_HUNDRED = (r"(?:a[ \t]+(?=(?:hundred|thousand)[ \t]+(?:and[ \t]+)?(?:"
              + _NUMBER_WORD + r"|pounds?|dollars?|euros?|quid|bucks?)\b))?")
_POINT = r"(?:[ \t]+point(?:[ \t]+(?:" + "|".join(_DIGIT_VALUE) + r"))+\b)?"
_SPELLED = re.compile(
    rf"\b(?=[abefhmnostz])(?!(?<=\bat )one[ \t]+point\b){_A_HUNDRED}(?:{_NUMBER_WORD})"
    rf"(?:(?:[ \t]*-[ \t]*|[ \t]+(?:and[ \t]+)?)(?:{_NUMBER_WORD}))*\b{_POINT}"
    rf"(?![ \t]*-?[ \t]*(?:{_ORDINAL})\b)")


def _digits(value: int) -> str:
    """A number as digits would write it: whole millions and billions keep their scale word
    ("2 million", as text in digits says it, so the scale stays the unit :func:`quantities`
    compares; :func:`canonical_figures` then writes it in full), anything else in full
    ("20000", which is how "20,000" is read)."""
    for scale, word in ((1_000_000_000, "billion"), (1_000_000, "million")):
        if value >= scale and value % scale == 0:
            return f"{value // scale} {word}"
    return str(value)


def _spelled_number(run: str) -> str:
    """The numbers a run of number words says: "twenty - five" -> "25", "twelve fifty" (a price
    read aloud) -> "12 50", "a hundred and eighty" -> "180", "four point one five" -> "4.15".
    A word that cannot continue the number so far starts the next one; "one" alone (mostly a
    pronoun) and a "and" that joins nothing stay words."""
    out: list[str] = []
    words: list[str] = []  # the words of the number being read
    total = current = 0
    last = ""  # kind of the previous word: small, tens, hundred, scale, and
    decimals: str | None = None  # the digits read after "point"

    def close() -> None:
        nonlocal total, current, last, decimals
        if last == "and":
            words.pop()
        if decimals:
            out.append(f"{total + current}.{decimals}")
        elif words:
            out.append("one" if words == ["one"] else _digits(total + current))
            if last == "and":
                out.append("and")
        words.clear()
        total = current = 0
        last = ""
        decimals = None

    for word in re.findall(r"[a-z]+", run.lower()):
        if decimals is not None:  # after "point" a run holds digits only (_POINT)
            decimals += _DIGIT_VALUE[word]
            continue
        if word == "point":
            decimals = ""
            continue
        if word == "a" and not words:  # "a hundred"
            current, last = 1, "small"
            words.append(word)
            continue
        if word == "and":
            if last not in ("hundred", "scale"):
                close()
                out.append("and")
                continue
            last = "and"
        elif word in _SMALL:
            value = _SMALL[word]
            if not ((last in ("", "hundred", "scale", "and") and current % 100 == 0)
                    or (last == "tens" and value < 10)):
                close()
            current += value
            last = "small"
        elif word in _TENS:
            if not (last in ("", "hundred", "scale", "and") and current % 100 == 0):
                close()
            current += _TENS[word]
            last = "tens"
        elif word == "hundred":
            if last not in ("small", "tens") or current >= 100:
                close()
                out.append(word)
                continue
            current *= 100
            last = "hundred"
        elif word in _SCALES:
            scale = _SCALES[word]
            if last in ("", "scale", "and") or total % (scale * 1000) != 0:
                close()
                out.append(word)
                continue
            total += current * scale
            current = 0
            last = "scale"
        else:  # not a number word (the run matched on text lower-cased differently)
            close()
            out.append(word)
            continue
        words.append(word)
    close()
    said = " ".join(out)
    return said if any(c.isdigit() for c in said) else run


# A figure written with a scale ("2.5 billion", "$1.2bn", "£5m") or as a percentage in words ("15
# per cent", "15 percent", "15-per-cent"): sources and answers write the same figure both ways
# ("£100,000 a week" and "£100k-a-week"; British news "per cent", answers "%"), and read token by
# token "100k" was a new number 100 and "15%" a new number beside "15 per cent". A lone "k", "m"
# or "b" scales for certain only straight after a currency amount ("$5m"); elsewhere it may be a
# unit ("100m" sprint, "10k" run, "401k", "7B model") or a scale ("1.5m people"), and both
# readings are kept where that is safe (see :func:`canonical_figures`).
_SCALE_EXPONENTS = {"thousand": 3, "k": 3, "million": 6, "mn": 6, "mln": 6, "m": 6,
                    "billion": 9, "bn": 9, "bln": 9, "b": 9, "trillion": 12, "tn": 12}
_SCALE_WORDS = {3: "thousand", 6: "million", 9: "billion", 12: "trillion"}
_CURRENCY = frozenset("$£€¥")
# A number not inside a word or after a point ("v2", ".5" are not); CJK letters are no word
# it is inside ("为280元": :mod:`stream_guard.text.cjk`). The check on what precedes comes
# after the first digit, so the scan can jump from digit to digit: twice as fast as a leading
# lookbehind, on every window and every stream's evidence.
_NUMBER_RUN = rf"(\d(?<![^\W{CJK}]\d)(?<!\.\d)\d*(?:[.,]\d+)*)"
# The same, not starting after a comma either: a pattern that needs something after the number
# would otherwise try again from each group of "1,1,1,...", quadratic in the run's length.
_FIGURE_RUN = rf"(\d(?<![^\W{CJK}]\d)(?<![.,]\d)\d*(?:[.,]\d+)*)"
_SCALES_AFTER = r"\s*(thousand|million|billion|trillion|bn|tn|mn|mln|bln)|(k|m|b)"
_SCALE = r"(?:" + _SCALES_AFTER + ")"
_FIGURE = re.compile(_FIGURE_RUN + r"(?:" + _SCALES_AFTER
                     + r"|(?:\s*|-)(%|per[\s-]?cent|percent|pct))(?![^\W_])")
# A range with one scale ("$1-2 billion", "1.5 to 2 million", "between 1.5 and 2 million"): its
# first number is scaled too, as "$1 billion to $2 billion" writes it.
_RANGE = re.compile(_FIGURE_RUN + r"(\s*(?:-|\u2013|to|and)\s*[$£€¥]?)(?=\d[\d.,]*" + _SCALE
                    + r"(?![^\W_]))")
# What every figure :data:`_FIGURE` rewrites has, searched first on the text as it is: most
# sentences have none, and the rewrite's pass over a lower-cased copy costs more (terms() runs on
# every evidence sentence).
_FIGURE_HINT = re.compile(r"\d(?:\s*(?i:thousand|million|billion|trillion|bn|tn|mn|mln|bln|%|per"
                          r"|pct)|-(?i:per|pct)|[kmbKMB](?![^\W_]))")
_LONGEST_FIGURE = 30  # digits; a longer run is no figure anyone scales (and Decimal has limits)


def _scaled_value(number: str, exponent: int) -> Decimal | None:
    value = _decimal(number.replace(",", ""))
    return None if value is None else value.scaleb(exponent)


def _digits_of(value: Decimal) -> str:
    """A value as the digits a figure written in full has: "2500000000", "1234.5"."""
    return format(value.normalize(), "f")


def _scale_of(text: str, match: re.Match[str]) -> tuple[int, bool] | None:
    """The power of ten a :data:`_FIGURE` match scales its number by, and whether that is
    certain (a scale word, or "k"/"m"/"b" after a currency sign); None for a percentage."""
    word = match.group(2) or match.group(3)
    if word is None:
        return None
    certain = match.group(3) is None or text[match.start() - 1:match.start()] in _CURRENCY
    return _SCALE_EXPONENTS[word], certain


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
# A date in digits: ISO ("2024-07-09"), or day and month either way round before a four-digit
# year ("03/03/2024", "09.07.2024"). Not a range of years ("2019-2020") nor a version.
_ISO_DATE = re.compile(r"(?<![\w.-])(1[89]\d\d|20\d\d)-(0?[1-9]|1[0-2])-(0?[1-9]|[12]\d|3[01])"
                       r"(?![\w-]|\.\d)")
_DMY_DATE = re.compile(r"(?<![\w./-])(\d{1,2})([/.])(\d{1,2})\2(1[89]\d\d|20\d\d)(?![\w/-]|\.\d)")
_DATE_HINT = re.compile(r"\d[-/.]\d{1,2}[-/.]\d")  # cheap: most text has no such date
_MONTH_NAMES = "|".join(_MONTHS)
_MONTH_NUMBER = {name.lower(): n for n, name in enumerate(_MONTHS, start=1)}
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"  # a day of a month: "9", "9th"
# The unit of a day of a month, its figure MMDD or YYYYMMDD: no word ("2.5 dates" has the unit
# "date", a count of dates).
DATE_UNIT = "@date"
# A day written after its month, or as an ordinal ("July 9", "July 9th", "the 9th of July").
# The day must end the date: "March 4 people" is a count in March, not the 4th; a word that
# goes on with the sentence may follow it, or a clause's subject.
_MONTH_DAY = re.compile(rf"\b({_MONTH_NAMES}) {_DAY}\b(?![\d:.,]\d)"
                        r"(?=\s*[,.;:!?)\]–—-]|\s*$|\s+(?:(?:19|20)\d\d|at|to|and|or|through|"
                        r"until|till|from|in|on|is|was|were|will|by"
                        # a clause's subject after it ("on December 26 the store opens", a
                        # probe of schedules: no date, and an answer's "December 27" passed)
                        r"|(?i:the|this|these|our|we|you|they|it|its|their|there|he|she|his|her"
                        r"|i|my|your|all|every|each|everything|everyone))\b)")
_DAY_OF_MONTH = re.compile(rf"\b{_DAY}(?: of)? ({_MONTH_NAMES})\b")
_DAY_HINT = re.compile(_MONTH_NAMES)
# A month's short name (capitalised: "mar" is a verb) before a day or a year, or after a day.
# "Jan", "Jun" and "Mar" are also names ("Action items: Jan 2, Jun 4": an adversarial review):
# a month only before a year or an ordinal day, or after a word that dates ("on Jan 5").
_SHORT_NAMES = r"(Feb|Apr|Jul|Aug|Sept?|Oct|Nov|Dec)"
_NAME_LIKE = r"(Jan|Jun|Mar)"
_DATING = r"(?:on|by|since|until|till|from|to|before|after|through|of|due|in|starting|ending)"
_SHORT_MONTH = re.compile(
    rf"\b{_SHORT_NAMES}\.?(?= \d)"
    rf"|(?:(?<=\d )(?<!\d\d\d )|(?<=\d(?:st|nd|rd|th) )){_SHORT_NAMES}\b"
    rf"|\b{_NAME_LIKE}\.?(?= (?:\d{{4}}\b|\d{{1,2}}(?:st|nd|rd|th)\b|\d{{1,2}}, \d{{4}}\b))"
    rf"|\b(?P<dating>{_DATING} ){_NAME_LIKE}\.?(?= \d{{1,2}}\b)")
_SHORT_HINT = re.compile(rf"\b(?:{_SHORT_NAMES}|{_NAME_LIKE})\b")
_MONTH_OF = {**{name[:3]: name for name in _MONTHS}, "Sept": "September"}


# A day of the week's short name, capitalised, before a figure ("Wed 8 Oct", "Sat, 12 July",
# "Sun 10:00") or in a range of them ("Mon-Fri", "Mon to Thurs"): the day, as a month's short
# name is its month (a probe of schedules: "Wed" was a new name for the evidence's
# "Wednesday"). Not alone, nor after "the": "Sun", "Sat" and "Wed" are words and names too
# ("in The Sun, 16 May 2024").
_SHORT_DAYS = r"(Mon|Tues?|Wed|Thu(?:rs?)?|Fri|Sat|Sun)"
_SHORT_WEEKDAY = re.compile(
    rf"(?<![Tt]he )\b{_SHORT_DAYS}\b(?:\.(?=[ \t]*\d))?(?=,?[ \t]*\d)"
    rf"|\b{_SHORT_DAYS}\b([ \t]*(?:[–—-]|to|through|thru)[ \t]*){_SHORT_DAYS}\b")
_SHORT_DAY_HINT = re.compile(rf"\b{_SHORT_DAYS}\b")
_WEEKDAY_OF = {**{day[:3]: day for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                          "Saturday", "Sunday")},
               "Tues": "Tuesday", "Thur": "Thursday", "Thurs": "Thursday"}


def has_month(text: str) -> bool:
    """Whether ``text`` names a month (capitalised, as dates write it)."""
    return _DAY_HINT.search(text) is not None


def canonical_dates(text: str) -> str:
    """``text`` with each date written one way, day before month in words ("2024-07-09",
    "July 9th, 2024" and "the 9th of July 2024" -> "9 July 2024"), so a date meets itself
    however it is written (a review's faithful answers that wrote an ISO date in words halted
    at once), and its day is a figure of its month: "16 November" against the evidence's "15
    November" is a changed figure (:func:`quantity_conflict`), as "16 km" against "15 km" is.
    Day and month in digits either way round ("03/03/2024") only where the numbers say which
    is which (one over 12, or both the same): "07/09/2024" is July or September; but
    "09.07.2024" is 9 July (dotted dates put the day first wherever they are written).
    Unchanged text is returned as the same object."""
    if _DATE_HINT.search(text):
        text = _digit_dates(text)
    if _SHORT_HINT.search(text):  # "Oct 4", "4 Oct.", "Sept. 20", "Jun 2024": a chat's dates
        text = _SHORT_MONTH.sub(_month_written_out, text)
    if _SHORT_DAY_HINT.search(text):  # "Wed 8 Oct", "Mon-Fri": the day's name written out
        text = _SHORT_WEEKDAY.sub(lambda m: (
            _WEEKDAY_OF[m.group(1)] if m.group(1)
            else _WEEKDAY_OF[m.group(2)] + m.group(3) + _WEEKDAY_OF[m.group(4)]), text)
    if not _DAY_HINT.search(text):
        return text
    # "1st-3rd March" -> "1st - 3rd March", "June 3-5" -> "3 June -5": the range's other day
    # stays a number of its own (a unit word "st-3" took it)
    text = _DAY_DASH.sub(r"\1 - \2", text)
    text = _MONTH_DAY.sub(lambda m: f"{m.group(2)} {m.group(1)}" + (
        " " if m.end() < len(text) and text[m.end()] in "–—-" else ""), text)
    return _DAY_OF_MONTH.sub(lambda m: f"{m.group(1)} {m.group(2)}", text)


def _month_written_out(match: re.Match[str]) -> str:
    """A :data:`_SHORT_MONTH` match with its month's name written out."""
    dating = match.group("dating") or ""
    return dating + _MONTH_OF[next(name for name in match.groups() if name and name != dating)]


def _digit_dates(text: str) -> str:
    def iso(match: re.Match[str]) -> str:
        year, month, day = match.groups()
        return f"{int(day)} {_MONTHS[int(month) - 1]} {year}"

    def either(match: re.Match[str]) -> str | None:
        first, second, year = int(match.group(1)), int(match.group(3)), match.group(4)
        dotted = match.group(2) == "."
        if first == second or (first > 12 >= second) or (dotted and second <= 12):
            day, month = first, second  # "09.07.2024": dots are day first wherever used
        elif second > 12 >= first:
            day, month = second, first
        else:
            return None
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return None
        return f"{day} {_MONTHS[month - 1]} {year}"

    text = _ISO_DATE.sub(iso, text)
    return _rewrite(text, _DMY_DATE, either)


# An amount with its currency's code ("GBP 500", "500 EUR") is the amount with its symbol
# ("£500"): the evidence's "£500" has no word "GBP", so the code read as a word the evidence
# lacks (a review's faithful answer halted on it). Only the codes whose symbol names no other
# currency: "CAD 500" against "USD 500" is another amount.
_SYMBOL_OF = {"USD": "$", "GBP": "£", "EUR": "€", "JPY": "¥"}  # not CAD for "$": another currency
_CODES = "|".join(_SYMBOL_OF)
_CODE_BEFORE = re.compile(rf"\b({_CODES}) ?(?=\d)")
_CODE_AFTER = re.compile(rf"(\d[\d,.]*) ?({_CODES})\b")
_CODE_HINT = re.compile(rf"\b(?:{_CODES})\b")


def _currency_codes(text: str) -> str:
    if not any(code in text for code in _SYMBOL_OF) or not _CODE_HINT.search(text):
        return text
    text = _CODE_BEFORE.sub(lambda m: _SYMBOL_OF[m.group(1)], text)
    return _CODE_AFTER.sub(lambda m: _SYMBOL_OF[m.group(2)] + m.group(1), text)


def canonical_figures(text: str, *, scale_as_unit: bool = False,
                      both_readings: bool = False) -> str:
    """``text`` with each scaled figure written in full ("2.5 billion" -> "2500000000"; a range's
    first number too, "$1-2 billion") and each percentage in words as "15%", so a figure meets
    itself however it is written. With ``scale_as_unit`` the scale stays after the number as its
    word ("$2.5bn" -> "2500000000 billion"): the unit :func:`quantities` compares, as it did when
    the figure was "2.5 billion". A figure whose "k", "m" or "b" may be a unit ("10k", "1.5m")
    stays as written; with ``both_readings`` (evidence: a reading more can only support) its
    scaled reading follows it ("10k 10000"); dates in digits are written in words
    (:func:`canonical_dates`); digits of other scripts are ASCII's. Unchanged text is returned
    as the same object."""
    if not text.isascii() and _OTHER_DIGIT.search(text) is not None:
        text = text.translate(_OTHER_DIGITS)
    text = _currency_codes(canonical_dates(text))
    text = _temperatures_and_quarters(text, both_readings)
    if "/" in text or not text.isascii():
        text = _fractions(text, both_readings)
    if both_readings:  # (a window's, where the evidence states them: resolve_hedged_numbers)
        text = parts_in_figures(text, both_readings=True)
    if has_digit(text):  # (not "m" in text: "2 PM ET" has none)
        if _DAY_PART_HINT.search(text):
            # "at 3 in the morning", "6 in the evening" in digits, as in words (a probe of
            # schedules: "Check-out is by 11 at night" passed against "by 11:00 AM")
            for _ in range(2):
                text = _rewrite(text, _DAY_PART, _day_part)
        text = _rewrite(text, _CLOCK_ZONE, _clock_zone)
        if _CLOCK_HINT.search(text):
            text = _rewrite(text, _CLOCK, _clock)
    if not _FIGURE_HINT.search(text):
        return text
    text = _range_firsts(text)

    def rewrite(match: re.Match[str]) -> str | None:
        number = match.group(1)
        if match.group(4):
            return number + "%"
        exponent, certain = _scale_of(text, match) or (0, False)
        value = _scaled_value(number, exponent)
        if value is None or not (certain or both_readings):
            return None
        digits = _digits_of(value)
        if scale_as_unit:
            digits += " " + _SCALE_WORDS[exponent]
        return digits if certain else f"{match.group()} {digits}"

    return _rewrite(text, _FIGURE, rewrite)


# A temperature one way however written: "−10°C", "-10 °C", "10 deg C" and "minus 10 degrees
# Celsius" are "minus 10 degc" (a review's faithful answer halted on "minus 10 degrees Celsius"
# for the sheet's "−10°C": "Celsius" was a new name, and the sheet's 10 had no unit). Celsius
# and Fahrenheit are two units, so a conversion ("350°F" for "180°C") is no changed figure; the
# sign stays a word, so "minus 10" is not "10". A degree of no scale ("45°", "5 deg.", an
# angle, a coordinate) is left as written.
# And a quarter of a year one way: "Q4", "4Q", "fourth quarter" and "4th-quarter" are "Q4", and
# "3Q20" is "Q3 2020" (earnings summaries write either; "Q4" was a new name beside "the fourth
# quarter", "1Q 2020" a bare "1"), and the evidence's also "quarter", which a window's "the
# quarter" reads.
_TEMPERATURE = re.compile(r"(?<=\d)[ \t]*(?:[°º][ \t]*|degrees?[ \t]+|deg\.?[ \t]*)"
                          r"(c|celsius|centigrade|f|fahrenheit)\b")
_TEMPERATURE_HINT = re.compile(r"[°º]|\d[ \t]*(?i:deg)")
# A minus sign, typographic or a hyphen, before a temperature ("-10 °C", "−10°C"); elsewhere
# both are one sign ("−5%" is the evidence's "-5%", "10−20 mg" its "10-20 mg": a review).
_MINUS = re.compile(r"(?<![\w.,)\]%-])-(?=\d[\d.,]*[ \t]*(?:[°º]|deg))")
_SIGN = re.compile(r"(?<![\w.,)\]%-])-(?=\d)")
_QUARTER = re.compile(r"\b(?:(first|second|third|fourth|1st|2nd|3rd|4th)[ \t-]+quarter"
                      r"|q([1-4])|([1-4])q(?:'?(\d{2}))?)\b")
_Q_NUMBER = re.compile(r"[Qq][1-4]\b|\b[1-4][Qq]")
_QUARTER_NUMBER = {"first": "1", "second": "2", "third": "3", "fourth": "4",
                   "1st": "1", "2nd": "2", "3rd": "3", "4th": "4"}


def _temperatures_and_quarters(text: str, both_readings: bool = False) -> str:
    """``text`` with its temperatures and quarters written one way (above; ``both_readings``:
    the evidence's); unchanged text is returned as the same object."""
    if "\u2212" in text:
        text = text.replace("\u2212", "-")
    if "-" in text:
        text = _rewrite(text, _MINUS, lambda match: "minus ")
        if both_readings:  # the evidence's "-5%" supports a window's "minus 5%" too
            text = _rewrite(text, _SIGN, lambda match: "minus -")
    if _TEMPERATURE_HINT.search(text):
        text = _rewrite(text, _TEMPERATURE, _temperature)
    if "uarter" in text or _Q_NUMBER.search(text):
        text = _rewrite(text, _QUARTER, _evidence_quarter if both_readings else _quarter)
    return text


def _temperature(match: re.Match[str]) -> str:
    return " degf" if match.group(1).startswith("f") else " degc"


def _quarter(match: re.Match[str]) -> str:
    word, q_first, q_last, year = match.groups()
    if q_last:  # "1q", "3q20": a broker's way
        return f"Q{q_last}" + (f" 20{year}" if year else "")
    return f"Q{q_first or _QUARTER_NUMBER[word]}"


def _evidence_quarter(match: re.Match[str]) -> str:
    return _quarter(match) + " quarter"


def _range_firsts(text: str) -> str:
    """``text`` with the first number of each range with one scale written in full ("$1-2
    billion" -> "$1000000000-2 billion"). Only a number written at that scale: not a year, a
    number with thousands commas or one of 1,000 or more ("in 2022 and 1.8 million", "from
    900,000 to 1.2 million", a first number already in full: a review)."""
    low = text.lower()  # the patterns are lower case (see _rewrite)

    def first_of_range(match: re.Match[str]) -> str | None:
        first = match.group(1)
        if "," in first or (_value(first) or 0) >= 1000:
            return None
        second = _FIGURE.match(low, match.end()) if len(low) == len(text) else None
        scale = None if second is None else _scale_of(text, second)
        if scale is None or not scale[1]:
            return None
        value = _scaled_value(match.group(1), scale[0])
        return None if value is None else _digits_of(value) + match.group(2)

    return _rewrite(text, _RANGE, first_of_range)


# A fraction, with its whole number where one comes first ("1 1/2 cups", "1-1/2 inch", "1 and
# 1/2 cups", "3/4 cup", "1½", "¾"): recipes and specifications write them, and read as numbers
# "1 1/2 cups" was 1 and 2 cups, and "1.5 cups" a contradiction. A window's only before a unit
# of measure (or as a fraction character): "4/5 stars", "8/10 tests", "page 1/2", "24/7",
# "9/11" and a date's "10/12" are scores, tallies and names, and "8 tests" meets "8/10 tests".
# The evidence's with its decimal beside it whatever follows, so that it supports a window
# that writes the amount either way ("1/4, 3/8 and 1/2 inch drive" and "1/4-inch").
_VULGAR = {"½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4), "⅕": (1, 5),
           "⅖": (2, 5), "⅗": (3, 5), "⅘": (4, 5), "⅙": (1, 6), "⅚": (5, 6), "⅛": (1, 8),
           "⅜": (3, 8), "⅝": (5, 8), "⅞": (7, 8)}
_MEASURE_AFTER = (r"(?=[ \t-]*(?:(?:cups?|tablespoons?|tbsps?|teaspoons?|tsps?|pints?|quarts?|"
                  r"gallons?|gal|ounces?|oz|pounds?|lbs?|inch(?:es)?|feet|foot|ft|yards?|miles?|"
                  r"mi|acres?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|kg|g|mm|cm|"
                  r"km|litres?|liters?|ml|sticks?|cloves?|slices?|servings?)\b|in\.|\"|″))")
_FRACTION_RUN = (r"(?<![\w/.,-])(?:(\d{1,3})(?:[ \t]+(?:and[ \t]+)?|-|(?=["
                 + "".join(_VULGAR) + r"])))?"
                 r"(?:([1-9]\d?)/([1-9]\d?)(?![\w/]|[.,]\d)")
_FRACTION = re.compile(_FRACTION_RUN + _MEASURE_AFTER + r"|([" + "".join(_VULGAR) + r"]))")
_ANY_FRACTION = re.compile(_FRACTION_RUN + r"|([" + "".join(_VULGAR) + r"]))")
_DENOMINATORS = frozenset({2, 3, 4, 5, 6, 8, 10, 12, 16, 32, 64})


# A half said after its whole: "3 and a half hours" is 3.5 hours, "an hour and a half" 1.5
# (a hike's "about 3 and a half hours" was read as a bare 3, and an answer's "210 minutes"
# halted against it). Number words are spelled out before ("two and a half" is 2.5 there).
# (Units whose plural is theirs with an "s"; not "a half-price ticket" nor "a half-marathon".)
_HALF_UNITS = ("minute|hour|day|week|month|year|mile|kilometre|kilometer|metre|meter|litre|liter"
               "|cup|teaspoon|tablespoon|pound|kilo|kilogram")
HALF_AFTER_WHOLE = re.compile(r"(?<![\w.,])(\d+)[ \t]+and[ \t]+a[ \t]+half\b(?!-)"
                               rf"|\b(?:an?|one)[ \t]+({_HALF_UNITS})[ \t]+and[ \t]+a[ \t]+half"
                               r"\b(?!-)")


def _and_a_half(match: re.Match[str]) -> str:
    whole, unit = match.groups()
    return f"{whole}.5" if whole else f"1.5 {unit}s"


# Parts of an hour said in words: "half an hour" is 30 minutes, "three quarters of an hour" 45,
# "an hour and a quarter" 75, "an hour and 14 minutes" 74 (a blind probe's faithful answers
# halted on each, against "45 minutes", "1 hour 45 minutes", "74 minutes").
_AN_HOUR = r"(?:an|one)[ \t]+hour"
_PART_OF_AN_HOUR = re.compile(
    rf"\b(?:(half[ \t]+an[ \t]+hour|a[ \t]+half[ \t]+hour)"
    rf"|(?:a|one)[ \t]+(quarter)[ \t]+of[ \t]+an[ \t]+hour"
    rf"|(three|3)[ \t]+quarters[ \t]+of[ \t]+an[ \t]+hour"
    rf"|{_AN_HOUR}[ \t]+and[ \t]+(?:a[ \t]+(quarter)|(three|3)[ \t]+quarters"
    rf"|(\d{{1,2}})[ \t]+(?:minutes?|mins?)))\b(?!-)")


def _part_of_an_hour(match: re.Match[str]) -> str:
    half, quarter, three, plus_quarter, plus_three, plus = match.groups()
    minutes = (30 if half else 15 if quarter else 45 if three else 75 if plus_quarter
               else 105 if plus_three else 60 + int(plus))
    return f"{minutes} minutes"


def parts_in_figures(text: str, *, both_readings: bool = False,
                     keep: Callable[[str], bool] | None = None) -> str:
    """``text`` with a half after its whole (:data:`HALF_AFTER_WHOLE`) and the parts of an hour
    said in words written as figures: ``both_readings`` (evidence) after the words, else in
    their place (a duration said in words alone, "an hour and a half", "half an hour", where
    ``keep``, given the figure and its unit, allows); unchanged text is returned as the same
    object."""

    def figure(said: str, match: re.Match[str], of_a_figure: bool) -> str | None:
        # A figure's half is always read with it ("3 and a half" is 3.5, not a 3: the
        # evidence's too); words alone ("an hour and a half") where ``keep`` allows, or after
        # themselves in the evidence (no figure of theirs to keep).
        if both_readings:
            return said if of_a_figure else f"{match.group()} {said}"
        return said if of_a_figure or keep is None or keep(said) else None

    if " half" in text:
        text = _rewrite(text, HALF_AFTER_WHOLE,
                        lambda m: figure(_and_a_half(m), m, m.group(1) is not None))
    if "hour" in text:
        text = _rewrite(text, _PART_OF_AN_HOUR, lambda m: figure(_part_of_an_hour(m), m, False))
    return text


def _fractions(text: str, both_readings: bool) -> str:
    """``text`` with each fraction written as a decimal ("1 1/2" -> "1.5", "⅓" -> "0.333");
    ``both_readings`` (evidence): every fraction, followed by its decimal."""

    def decimal(match: re.Match[str]) -> str | None:
        whole, top, bottom, vulgar = match.groups()
        numerator, denominator = _VULGAR[vulgar] if vulgar else (int(top), int(bottom))
        if denominator not in _DENOMINATORS or numerator >= denominator:
            return None
        value = f"{int(whole or 0) + numerator / denominator:.3f}".rstrip("0").rstrip(".")
        return f"{match.group()} {value}" if both_readings else value

    return _rewrite(text, _ANY_FRACTION if both_readings else _FRACTION, decimal)


# A time of day's "a.m."/"PM" and its zone, one way however written: "2 PM Eastern" is "2 p.m.
# ET" ("PM" was a new name, "p.m." nothing, "Eastern" another word). After a clock time only:
# elsewhere "the PM" is a prime minister, "Central" a bank's.
_ZONES = {**dict.fromkeys(("eastern", "est", "edt", "et"), "et"),
          **dict.fromkeys(("pacific", "pst", "pdt", "pt"), "pt"),
          **dict.fromkeys(("central", "cst", "cdt", "ct"), "ct")}
_CLOCK_ZONE = re.compile(r"(?<=\d)[ \t]?([ap])\.?[ \t]?m\b\.?(?:[ \t]+(" + "|".join(_ZONES)
                         + r")\b(?![ \t]+(?:europe|africa|australia|asia))"
                         + r"(?:[ \t]+(?:standard[ \t]+|daylight[ \t]+)?time\b)?)?")


# A time of day on the 24-hour clock, its hour without a leading zero: "5 pm", "5:00 pm" and
# "17:00" are "17:00", "08:00" and "8 am" are "8:00" (a blind probe of answers written from a
# tool's data halted on "open 5 pm to 10:30 pm" for its "17:00-22:30": "5" and "10" were new
# figures). A dot is a colon before "am"/"pm": "7.30pm" is 19:30, no 7.3 (a probe of schedules
# halted "until 7.30pm" for "until 7:30 PM"). A time without "am"/"pm" keeps its hour
# (:func:`evidence_readings` reads an evidence's afternoon hour on the 12-hour clock too).
_CLOCK = re.compile(r"(?<![\w.:,/])(?:(\d{1,2})(?::|\.(?=[0-5]\d[ \t]?[ap]m\b))([0-5]\d)"
                    r"(?:[ \t]?([ap])m\b\.?)?"
                    r"|(\d{1,2})[ \t]?([ap])m\b\.?)(?![\w/]|[:.]\d)")


_CLOCK_HINT = re.compile(r"\d(?::[0-5]\d|[ \t]?[AaPp]\.?[ \t]?[Mm]\b)")


def time_of_day(hour: int, minutes: int = 0, half: str | None = None) -> tuple[int, int] | None:
    """The (hour, minutes) on the 24-hour clock of a time written with ``hour`` and
    ``minutes`` and, on the 12-hour clock, ``half`` ("a" or "p", either case); None where it
    is no time of day ("28:25" is a lap, "13 pm" nothing). The one test of a time's validity
    for the figures, the quantities and the terms: each read times its own way before, and
    only two of them refused an hour past 23."""
    if minutes > 59:
        return None
    if half:
        if not 1 <= hour <= 12:
            return None
        return hour % 12 + (12 if half.lower() == "p" else 0), minutes
    return (hour, minutes) if hour <= 23 else None


def _clock(match: re.Match[str]) -> str | None:
    half = match.group(3) or match.group(5)
    time = time_of_day(int(match.group(1) or match.group(4)), int(match.group(2) or 0), half)
    if time is None:
        return None
    stop = "." if half and match.group().endswith(".") else ""
    # A morning said to be one keeps its "am" (MORNING): "3:00 AM" is no "3:00 PM", which the
    # evidence's "15:00" is also read as (a probe of schedules: "Check-in is from 3:00 AM"
    # passed against "from 3:00 PM").
    morning = MORNING if half and 1 <= time[0] <= 11 else ""
    return f"{time[0]}:{time[1]:02d}{morning}{stop}"


# What follows a time of day said to be in the morning, in canonical text ("3:00 am"): the
# terms read it as a time of its own (:func:`~stream_guard.text.terms.term_keys`), which an
# evidence's time on the other half of the day does not state.
MORNING = " am"


# A duration in hours and minutes ("2 hours 30 minutes", "2 hrs and 15 mins", "2h 15m"): one
# amount, which an answer gives whole as often, in either unit ("150 minutes", "2.5 hours",
# "two and a half hours"); read as its parts alone, each of those was contradicted by them.
# Not across a comma ("every 6 hours, 30 minutes before a meal" is two figures), and "m" for
# minutes only after "h" ("2h 30m": "5 hours, 20m below the summit" is metres; a review).
HOURS_AND_MINUTES = re.compile(
    r"(?<![\w.,])(\d{1,2})[ \t]*(?:(?:hours?|hrs?)\b[ \t]*(?:and[ \t]+)?"
    r"(?=\d{1,2}[ \t]*(?:minutes?|mins?)\b)|h[ \t]*(?=\d{1,2}[ \t]*(?:minutes?|mins?|m)\b))"
    r"(\d{1,2})[ \t]*(?:minutes?|mins?|m)\b", re.IGNORECASE)


def duration_readings(match: re.Match[str]) -> list[tuple[str, str]]:
    """The amounts a :data:`HOURS_AND_MINUTES` match states whole, as (figure, unit): its
    minutes, and its hours to two decimals ("2.5", "2.67": an answer's "about 2.7 hours" or
    "about three hours" rounds them); none where its minutes are no minutes of an hour."""
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes >= 60:
        return []
    return [(str(60 * hours + minutes), "minute"),
            (_digits_of(round(hours + Decimal(minutes) / 60, 2)), "hour")]


def evidence_readings(canonical: str, *, spelled_out: bool = False) -> str:
    """Evidence's canonical text (:func:`canonical_figures`) with the readings an answer may
    give of its times and dates: an afternoon hour on the 12-hour clock too ("15:45 3:45"),
    a date's day of the week after it ("21 September 2024 Saturday"), a currency's names
    after an amount in its symbol ("£436.40 pound quid": an answer says "436.40 pounds"), of
    "twice" ("twice 2": "renewed twice" is an answer's "two renewals") and of counts said in
    words ("couple of minutes 2", :data:`COUNT_WORDS`) or as what is left to a mark ("7 goals
    short of 100 93", :data:`SHORT_OF`), of a duration in hours and minutes whole ("2 hours 30
    minutes 150 minutes 2.5 hours", :data:`HOURS_AND_MINUTES`), of an hour a
    speaker names bare ("at 10 10:00 22:00 works") and of a sum said in pairs ("18 50 1850
    18.50"). For its words only
    (:func:`~stream_guard.text.terms.term_keys`): as figures, the added ones would be read as
    a time's or a year's quantities."""
    if ":" in canonical:
        # the 12-hour reading says it is the afternoon's: a morning's "3:00 am" is no "15:00"
        canonical = _rewrite(canonical, _AFTERNOON, lambda m: f"{m.group()} "
                             f"{int(m.group(1)) - 12}:{m.group(2)}{AFTERNOON}")
    if _DATE_IN_WORDS_HINT.search(canonical):
        canonical = _rewrite(canonical, _DATE_IN_WORDS, _weekday)
    if "0" in canonical:
        canonical = _rewrite(canonical, _TRAILING_ZEROS, lambda m: f"{m.group()} {m.group(1)}"
                             + (f".{m.group(2)}" if m.group(2) else "") + m.group(3))
    if any(symbol in canonical for symbol in _CURRENCY_NAMES):
        canonical = _rewrite(canonical, _SYMBOL_AMOUNT, lambda m: (
            f"{m.group()} {_CURRENCY_NAMES[m.group()[0]]}"))
    if "wice" in canonical:
        canonical = _rewrite(canonical, _TWICE, lambda m: f"{m.group()} 2")
    if "ouple" in canonical or "ozen" in canonical:
        canonical = _rewrite(canonical, COUNT_WORDS, lambda m: f"{m.group()} {count_value(m)}")
    if "short of" in canonical:
        canonical = _rewrite(canonical, SHORT_OF, lambda m: (
            None if (left := short_of_value(m)) is None else f"{m.group()} {left}"))
    if has_digit(canonical):  # the readings of figures said aloud (most sentences have none)
        canonical = _said_aloud(canonical, spelled_out)
        canonical = _rewrite(canonical, HOURS_AND_MINUTES, lambda m: " ".join(
            [m.group(), *(f"{figure} {unit}s" for figure, unit in duration_readings(m))]))
    return canonical


def _said_aloud(canonical: str, spelled_out: bool) -> str:
    """The evidence's readings of figures said aloud (:func:`evidence_readings`), each pattern
    only where its hint is in the text. Pairs, codes and "grand" only in text that spelled its
    numbers out (``spelled_out``): a table's "Widget 3 45" is no $3.45, "20 grand slam titles"
    no $20,000 (a review)."""
    if _BARE_HOUR_HINT.search(canonical):
        canonical = _rewrite(canonical, _BARE_HOUR, _hour_readings)
    if not spelled_out:
        return canonical
    if _SAID_IN_PAIRS_HINT.search(canonical):
        canonical = _rewrite(canonical, _SAID_IN_PAIRS, _pair_readings)
    if "grand" in canonical:
        canonical = _rewrite(canonical, _GRAND, lambda m: (
            f"{m.group()} {_digits_of(Decimal(m.group(1)) * 1000)}"))
    if _DIGIT_BY_DIGIT_HINT.search(canonical):
        canonical = _rewrite(canonical, _DIGIT_BY_DIGIT, lambda m: f"{m.group()} " + "".join(
            _SAID_DIGITS.get(part, part) for part in re.split(r"[ \t-]+", m.group())))
    return canonical


def _pair_readings(match: re.Match[str]) -> str:
    first, second = match.group(1), match.group(2)
    said = f"{match.group()} {first}{second} {first}.{second}"
    if int(first) <= 12 and int(second) < 60:  # "two-thirty": 2:30, on either half of the day
        said += f" {first}:{second} {int(first) + 12}:{second}"
    return said


# A sum said in pairs ("eighteen fifty", "three eighty", read "18 50", "3 80"): a summary
# writes it as the figure it is, £1,850 or £3.80 (which, the call's scale says); a time too
# ("two-thirty works": 2:30 pm). "Two grand" is 2,000.
_GRAND = re.compile(r"(?<![\w.,])(\d{1,3}(?:\.\d+)?)[ \t]+grand\b")
# A number said digit by digit, as a ticket, a phone number or an error code is ("error
# eight-oh-nine", "four-four-seven-one-two", read "8-oh-9", "4 4 7 one 2"): the summary writes
# the code, 809, INC44712.
_SAID_DIGIT = r"(?:\d|oh|one|zero)"
_DIGIT_BY_DIGIT = re.compile(rf"(?<![\w.,-]){_SAID_DIGIT}(?:[ \t-]+{_SAID_DIGIT}){{2,15}}"
                             r"(?![\w-]|[.,]\d)")
_DIGIT_BY_DIGIT_HINT = re.compile(
    r"[0-9](?=[ -](?:[0-9]|oh|one|zero)[ -])"
    r"|[0-9](?:(?<=oh[ -][0-9])|(?<=one[ -][0-9])|(?<=zero[ -][0-9]))")
_SAID_DIGITS = {"oh": "0", "one": "1", "zero": "0"}
_SAID_IN_PAIRS = re.compile(r"(?<![\w.,:/$£€¥-])(?<!\d )([1-9]\d?) ([1-9]\d)"
                            r"(?![\w:/%-]|[.,]\d|[ \t]\d)")
_SAID_IN_PAIRS_HINT = re.compile(r"\d \d")


# An hour a speaker names bare ("Wednesday at ten works", "I'll look at it after two", "I'm in
# from 9", "booked 9 till 2", "10 onwards", "around half 1"): a summary of the call writes it as
# the time it is ("10 a.m.", "2 p.m.", "1:30 pm"), on either half of the clock. Only after a
# word that places it in time, or before one that goes on with a time, and then before the end
# of its clause or a word that goes on with it ("at 10 people" is no time, nor "at 7.4");
# "half 11" (British: half past) is a time wherever it stands, but before "of".
_HOUR_GOES_ON = (r"(?=[ \t]*(?:[.,;!?)\n]|$)|[ \t]+(?:on|then|tomorrow|today|tonight|works?|is"
                 r"|or|and|so|sharp|ok|okay|latest|onwards|ish|till|until|tho|though|if)\b)")
_BARE_HOUR = re.compile(
    r"\b(?:(?:at|after|before|by|till|until|til|around|from|about|like)[ \t]+(half[ \t]+)?"
    r"(1[0-2]|[1-9])(?![.,:]\d)" + _HOUR_GOES_ON
    + r"|(half[ \t]+)?(1[0-2]|[1-9])(?=[ \t]+(?:till|until|onwards|sharp|ish)\b|-ish\b)"
    r"|(half[ \t]+)(1[0-2]|[1-9])(?![.,:]\d|\d|[ \t]+of\b))")
# (Hints that start with a digit: a scan for a character class is five times faster than one
# for a word's alternatives, on every evidence sentence with a figure.)
_BARE_HOUR_HINT = re.compile(r"[1-9](?:" + "|".join(
    f"(?<={word} [1-9])" for word in ("[Aa]t", "[Bb]y", "[Aa]fter", "[Bb]efore", "[Tt]ill",
                                      "[Tt]il", "[Uu]ntil", "[Aa]round", "[Ff]rom", "[Aa]bout",
                                      "[Ll]ike", "[Hh]alf"))
    + r")|[0-9](?= till| until| onwards| sharp| ish|-ish)")


def _hour_readings(match: re.Match[str]) -> str:
    """The hour's times: on the half of the day a word after it names ("at 7 tonight", "at 10
    tomorrow morning"), else on both."""
    half, hour_text = next((match.group(g), match.group(g + 1)) for g in (1, 3, 5)
                           if match.group(g + 1))
    hour, minutes = int(hour_text), "30" if half else "00"
    part = _DAY_PART_AFTER.match(match.string, match.end())
    said = match.group()
    if hour == 12 or part is None or part.group(1) == "morning":
        said += f" {hour}:{minutes}"
    if hour < 12 and (part is None or part.group(1) != "morning"):
        said += f" {hour + 12}:{minutes}"
    return said


_DAY_PART_AFTER = re.compile(r"[ \t]+(?:\w+[ \t]+)?(morning|tonight|evening|afternoon|night)\b")


_TWICE = re.compile(r"\btwice\b")
_CURRENCY_NAMES = {"$": "dollar buck", "£": "pound quid", "€": "euro", "¥": "yen"}
_SYMBOL_AMOUNT = re.compile(r"[$£€¥]\d[\d,]*(?:\.\d+)?")


# Counts said in words that are no number words: "couple of" (not "the couple"), "dozen" (not
# "dozens of"), "half a dozen"; group 1 the count, group 2 the word it counts. Evidence's
# only (its readings here, its quantities in text.quantities): an answer's "a couple of days"
# for its source's 3 stays words, as "a few" does.
COUNT_WORDS = re.compile(r"\b(half[ \t]+a[ \t]+dozen|dozen|couple[ \t]+of)[ \t]+"
                         r"([^\W\d_][\w-]*)")
_COUNT_VALUES = {"half": "6", "dozen": "12", "couple": "2"}


def count_value(match: re.Match[str]) -> str:
    """The figure a :data:`COUNT_WORDS` match says ("6" for "half a dozen")."""
    return _COUNT_VALUES[match.group(1).split()[0]]


# A figure said as what is left to another: "7 goals short of reaching 100" is 93 goals (an
# article's "seven goals short of a century", its highlight's "have scored 93 goals", was
# contradicted). Group 1 the shortfall, group 2 what it counts, group 3 the mark. Evidence's
# only, as :data:`COUNT_WORDS`.
SHORT_OF = re.compile(r"(?<![\w.,])(\d+(?:\.\d+)?)[ \t]+([^\W\d_][\w-]*)[ \t]+short[ \t]+of"
                      r"[ \t]+(?:(?:reaching|hitting|making|a|the)[ \t]+)?(\d+(?:\.\d+)?)"
                      r"(?![\w.,]\d|[\w%])")


def short_of_value(match: re.Match[str]) -> str | None:
    """The figure a :data:`SHORT_OF` match says (None: a shortfall no smaller than its mark)."""
    shortfall, mark = Decimal(match.group(1)), Decimal(match.group(3))
    return _digits_of(mark - shortfall) if mark > shortfall else None


# A figure written with trailing zeros ("960.00", "18.50") is also the figure without them: an
# answer's "$960" for a bill's "960.00", its "$18.5" for a total worked out as "$18.50".
_TRAILING_ZEROS = re.compile(r"(?<![\w.:,/])(\d{1,3}(?:,\d{3})+|\d+)\.(\d*?)0+(%?)"
                             r"(?![\w:/%]|[.,]\d)")
_AFTERNOON = re.compile(r"(?<![\w.:,/])(1[3-9]|2[0-3]):([0-5]\d)(?![\w/]|[:.]\d)")
AFTERNOON = " pm"  # after the 12-hour reading of an afternoon's time (evidence_readings)
# A date in words with its year (as :func:`canonical_dates` writes every date) names its day of
# the week: an answer writes "on Saturday" for a forecast's "2024-09-21".
_DATE_IN_WORDS = re.compile(r"\b(\d{1,2}) (" + "|".join(_MONTH_NUMBER)
                            + r")(,? )(1[89]\d\d|20\d\d)\b")
_DATE_IN_WORDS_HINT = re.compile(r"\d (?:" + "|".join(_MONTHS) + r"),? \d")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _weekday(match: re.Match[str]) -> str | None:
    month = _MONTH_NUMBER[match.group(2)]
    try:
        day = datetime.date(int(match.group(4)), month, int(match.group(1)))
    except ValueError:  # "30 February 2024"
        return None
    return (f"{match.group(1)} {_MONTHS[month - 1]}{match.group(3)}{match.group(4)} "
            f"{_WEEKDAYS[day.weekday()]}")


def _clock_zone(match: re.Match[str]) -> str:
    """The time's "am"/"pm", and its zone as a name ("ET"): a changed zone is a new name. A
    sentence's full stop stays ("opens at 9 a.m. Staff ..." ends there)."""
    zone = match.group(2)
    if zone:
        return f" {match.group(1)}m {_ZONES[zone].upper()}"
    return f" {match.group(1)}m" + ("." if match.group().endswith(".") else "")


def spell_out_numbers(text: str, *, zero_as_no: bool = False) -> str:
    """``text`` with numbers written in words given in digits, so evidence that spells a number
    out ("twenty - five machines", as transcripts and speech do) supports a window that writes
    it in digits ("25 machines"), and the other way round. With ``zero_as_no`` (a window's
    words, :func:`terms`), "zero" before a thing is "no" (below). Figures read aloud are
    written as text writes them (:func:`_written_figures`): a voice answer's "half past six in
    the evening" is its source's "18:30"."""
    low = text.lower()
    ordinals = (_rewrite(text, _ORDINAL_WORD, lambda match: _ordinal(match, text))
                if any(hint in low for hint in _ORDINAL_HINTS) else text)
    if not zero_as_no:
        spelled = _rewrite(ordinals, _SPELLED,
                           lambda match: _spelled_number(ordinals[slice(*match.span())]))
    else:
        # match.string is the copy _rewrite lowered once (a text of many "zero"s was lowered
        # again for each one: a review)
        def read(match: re.Match[str]) -> str:
            run = ordinals[slice(*match.span())]
            if match.group() == "zero" and _ZERO_THING.match(match.string, match.end()):
                return "no"
            return _spelled_number(run)

        spelled = _rewrite(ordinals, _SPELLED, read)
    return text if spelled is text else _written_figures(spelled)


# Ordinals in words: "the twenty-eighth of February" is its source's "28 February", "the
# eleventh" its "11th". "first" to "ninth" alone are a day only next to a month's name ("the
# sixth of February", "June first"), capitalised ("you may first" names no May): elsewhere
# "the first year" and "a second time" stay words; so does a "thirty-second ad" but after "the".
_ORDINAL_VALUE = {**{w: n for n, w in enumerate(_ORDINAL.split("|"), start=1)},
                  **{w: n for n, w in enumerate(
                      ("tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
                       "sixteenth", "seventeenth", "eighteenth", "nineteenth"), start=10)},
                  "twentieth": 20, "thirtieth": 30}
ORDINAL_WORDS = frozenset(_ORDINAL_VALUE)
_LOW_MONTHS = "|".join(_MONTH_NUMBER)
_ORDINAL_WORD = re.compile(
    r"\b(?=[efnst])(?:(twenty|thirty)[ \t]*-?[ \t]*)?(" + "|".join(_ORDINAL_VALUE) + r")\b"
    r"(?=[ \t]+(?P<of>of[ \t]+)?(?P<month>" + _LOW_MONTHS + r")\b)?")
_MONTH_BEFORE = re.compile(r"\b(?:" + _MONTH_NAMES + r")[ \t]+(?:the[ \t]+)?$")
_THE_BEFORE = re.compile(r"\bthe[ \t]+$", re.IGNORECASE)
_A_BEFORE = re.compile(r"\b(?:an?|one)[ \t]+$", re.IGNORECASE)  # "a tenth of": a fraction
_OF_AFTER = re.compile(r"[ \t]+of\b", re.IGNORECASE)


def _ordinal(match: re.Match[str], text: str) -> str | None:
    """The ordinal ``match`` (over ``text`` lower-cased) in digits, where it is one."""
    tens, unit = match.group(1), _ORDINAL_VALUE[match.group(2)]
    if tens and unit >= 10:  # "twenty tenth"
        return None
    value = unit + (_TENS[tens] if tens else 0)
    start = match.start()
    if _A_BEFORE.search(text, max(0, start - 4), start) and _OF_AFTER.match(text, match.end(2)):
        return None
    the = _THE_BEFORE.search(text, max(0, start - 8), start)
    named_month = (match.group("month") and text[match.start("month")].isupper()
                   and (match.group("of") or the))  # "the sixth of May", not "our second May"
    if unit < 10 and not (named_month or _MONTH_BEFORE.search(text, max(0, start - 16), start)
                          or (tens and (unit != 2 or the))):
        return None
    ending = "th" if 10 <= value % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
    return f"{value}{ending}"


# Figures as a voice answer speaks them, once its number words are digits, written as text
# writes them (a blind probe of answers written for speech: 19 of 60 faithful ones halted, each
# on a figure read aloud):
# - a time: "half past 6", "quarter to 8", "21 minutes past 8", "at 20 to 5", "5 o'clock",
#   "at 9 oh 5", "the 7 25 (express)", and "in the morning" / "in the evening" after one, as
#   "am" / "pm" (the clock then writes it on the 24-hour clock: "18:30");
# - money with its pence or cents: "24 pounds 60", "368 pounds and 96 pence", "12 dollars and
#   50 cents", "a pound 50" are "24.60 pounds", "368.96 pounds", "12.50 dollars", "1.50 pounds"
#   (the currency stays a word: "436 dollars 40" for "£436.40" names another currency);
# - a year read in two halves after a month or a word that dates: "January 20 26" is
#   "January 2026";
# - a half: "2 and a half hours" is "2.5 hours".
# Each form is one a writer does not use for anything else, and where one could be, the reading
# needs a word that times it: a bare "20 to 5", "30 minutes to 2", "9 oh 5" or "8 in the
# evening" only after "at", "by", "until" ("from 10 to 4" and "about five to ten" are ranges,
# "twenty to one" a ratio, "room nine oh two" a number, "five in the morning" a count, "pushed
# back 30 minutes to 2 pm" a delay; reviews found them), "the 2 50" only before what ends or
# times it ("the 7 25 express", "at 9 30 on Friday": "the 2 50 dollar fee" is a price), and
# money's last figure not before a measure or a unit of time ("5 dollars 10 years ago" is no
# $5.10, "2 pounds 50 grams" a weight), nor after "and" without its pence ("20 dollars and 3 of
# us"). A weight in pounds and ounces with the ounces unsaid ("weighed 7 pounds 8.") reads as
# money. Only text with a number in words is read for these (:func:`spell_out_numbers`):
# a figure read aloud is said in words.


def _after(*words: str) -> str:
    """A lookbehind: straight after one of ``words`` and a space (each fixed-width)."""
    return "(?:" + "|".join(rf"(?<=\b{word} )" for word in words) + ")"


_HOUR = r"(1[0-2]|[1-9]|one)"  # "one" stays a word when spelled out (a pronoun, mostly)
_TIMING_WORDS = ("at", "by", "until", "till", "before", "after", "at about", "at around", "it's",
                 "it’s")
_TIMED = _after(*_TIMING_WORDS)
_TIMED_SPAN = _after(*_TIMING_WORDS, "from", "between")  # "from 9 in the morning"
# What may follow a spoken time: its end, its part of the day, a day, another time, or what
# runs at it ("30 minutes after 5 failed attempts" is no 5:30).
_TIME_ENDS = (r"(?![:.,]\d)(?=[ \t]*(?:[.,;!?)]|$|(?:am|pm|a\.m|p\.m|in[ \t]+the|at[ \t]+night|"
              r"tonight|today|tomorrow|on|and|or|to|from|until|till|train|bus|express|service|"
              r"flight|ferry|sailing|departure|arrival|show|showing|screening|performance|slot|"
              r"appointment|tram|coach|boat|one)s?\b))")
_SPOKEN_TIME = re.compile(  # (the lookahead spares most positions the lookbehinds' tests)
    r"(?=[hqo\d])(?:\b(?:(half)[ \t]+(past|after)|(quarter)[ \t]+(past|after|to)|(?<!from )"
    r"(\d{1,2})[ \t]+minutes?[ \t]+(past)|" + _TIMED + r"(\d{1,2})[ \t]+minutes?[ \t]+(to)|"
    + _TIMED + r"(5|10|20|25)[ \t]+(past|to))[ \t]+"
    + _HOUR + r"\b" + _TIME_ENDS + r"|\b" + _HOUR + r"[ \t]+o['’]?clock\b|" + _TIMED_SPAN + _HOUR
    + r"[ \t]+oh[ \t]+(\d)\b" + _TIME_ENDS
    + r"|" + _after("at", "by", "until", "till", "from", "between", "the", "and") + _HOUR
    + r"[ \t]+([1-5]\d)\b" + _TIME_ENDS + ")")
# A part of the day after a time, or after an hour a word times (the second pass reads the
# hour after a first: "between 8 am and 6 in the evening").
_DAY_PART = re.compile(
    r"(?=\d)(?:(?<![\d.,:])(?=(?:1[0-2]|[1-9]):)|" + _TIMED_SPAN + "|"
    + _after("am and", "pm and", "am to", "pm to", "am until", "pm until") + r")"
    r"((?:1[0-2]|[1-9])(?::[0-5]\d)?)[ \t]+(?:in[ \t]+the[ \t]+(morning|afternoon|evening)"
    r"|at[ \t]+night)\b")
_MONEY_NAMES = ("pound", "quid", "dollar", "buck", "euro")
_SPOKEN_MONEY = re.compile(
    r"\b(\d(?<![\d,]\d)[\d,]*|one|a)[ \t]+(pound|quid|dollar|buck|euro)s?[ \t]+(?:(\d{1,2})[ \t]+"
    r"(?:pence|p|cents?)\b|and[ \t]+(\d{1,2})[ \t]+(?:pence|p|cents?)\b|(\d{1,2})\b(?![.,]\d)"
    r"(?![ \t]*(?:[-%]|(?:ounces?|oz|grams?|g|kilos?|kg|lbs?|stone|years?|months?|weeks?|days?|"
    r"hours?|minutes?|seconds?|times|people|of|percent|per[ \t]?cent|miles?|km|metres?|meters?|"
    r"feet|foot|inches)\b)))")
_SPOKEN_YEAR = re.compile(
    "(?:" + _after("in", "by", "of", "since", "until", "till", "from") + r"|(?<=\d\d\d\d to )"
    r"|\b(?P<month>" + _LOW_MONTHS + r")(?:[ \t]+\d{1,2}(?:st|nd|rd|th)?)?,?[ \t]+)"
    r"((?:19|20)[ \t]+\d\d)\b(?![:.,]\d|-)")
_AND_A_HALF = re.compile(r"\b(\d+|one)[ \t]+and[ \t]+a[ \t]+half\b")


def _written_figures(text: str) -> str:
    """``text`` (its number words in digits) with the figures it reads aloud written as text
    writes them (see above)."""
    # Each pattern only where a word it needs is in the text: most text with a number in words
    # reads none aloud, and five scans cost every such sentence of every stream's evidence.
    low = text.lower()
    if _TIME_HINT.search(low):
        text = _rewrite(text, _SPOKEN_TIME, _spoken_time)
    if _DAY_PART_HINT.search(low):
        for _ in range(2):  # "between 8 in the morning and 6 in the evening": the second after
            text = _rewrite(text, _DAY_PART, _day_part)
    if any(name in low for name in _MONEY_NAMES):
        text = _rewrite(text, _SPOKEN_MONEY, lambda m: (
            f"{1 if m.group(1) in ('one', 'a') else m.group(1)}."
            f"{int(m.group(3) or m.group(4) or m.group(5)):02d} {m.group(2)}"
            + ("" if m.group(2) == "quid" else "s")))
    if _YEAR_HINT.search(low):
        for _ in range(2):  # "from 2010 to 20 20": the second after the first
            text = _rewrite(text, _SPOKEN_YEAR, functools.partial(_year, text), group=2)
    if "half" in low:
        text = _rewrite(text, _AND_A_HALF, lambda m: (
            "1" if m.group(1) == "one" else m.group(1)) + ".5")
    return text


_TIME_HINT = re.compile(r"past|after|\bto\b|clock|\boh\b|(?:\d|\bone)[ \t]+[1-5]\d\b")
_DAY_PART_HINT = re.compile(r"in[ \t]+the[ \t]|night")
_YEAR_HINT = re.compile(r"\b(?:19|20)[ \t]+\d\d\b")
# The ordinals' own letters: a cheaper test than the pattern's scan, on every text.
_ORDINAL_HINTS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
                  "ninth", "tenth", "eleventh", "twelfth", "teenth", "tieth")


def _year(text: str, match: re.Match[str]) -> str | None:
    """The year read in halves, after a word that dates it or a month's name (capitalised:
    "you may 20 25" names no May)."""
    if match.group("month") and not text[match.start("month")].isupper():
        return None
    return "".join(match.group(2).split())


def _day_part(match: re.Match[str]) -> str:
    """The time with "am" or "pm": the morning's, and the night's before 5 or at 12, are am."""
    hour = int(match.group(1).split(":")[0])
    part = match.group(2)
    morning = part == "morning" or (part is None and (hour == 12 or hour < 5))
    return match.group(1) + (" am" if morning else " pm")


def _spoken_time(match: re.Match[str]) -> str | None:
    (half, half_way, quarter, quarter_way, minutes, minutes_way, minutes_to, to_way, bare,
     bare_way, hour, clock_hour, oh_hour, oh, hour_before, tens) = (
        "1" if group == "one" else group for group in match.groups())
    if clock_hour:  # "5 o'clock"
        return f"{clock_hour}:00"
    if oh_hour:  # "at 9 oh 5"
        return f"{oh_hour}:0{oh}"
    if hour_before:  # "at 7 25"
        return f"{hour_before}:{tens}"
    way = half_way or quarter_way or minutes_way or to_way or bare_way
    past = 30 if half else 15 if quarter else int(minutes or minutes_to or bare)
    if not 1 <= past <= 59:
        return None
    if way == "to":
        if past > 30:
            return None
        return f"{(int(hour) - 2) % 12 + 1}:{60 - past:02d}"
    return f"{hour}:{past:02d}"


# "zero" before a thing is "no" in a window's words: "zero credit" is the evidence's "no credit"
# (as the number 0 it was a new figure). Not before a measure ("zero percent", "zero degrees"),
# nor alone ("fell to zero"); and its figures (:func:`quantities`) keep the 0, so "zero deaths"
# against "3 deaths" is still a changed figure (a review).
_ZERO_THING = re.compile(r"[ \t]+(?!(?:per[ \t-]?cent|percent|pct|degrees?)\b)[a-z]")


def _rewrite(text: str, pattern: re.Pattern[str],
             replace: Callable[[re.Match[str]], str | None], group: int = 0) -> str:
    """``text`` with each match of ``pattern`` (``group`` of it) replaced by ``replace(match)``
    (None: left as it is). The pattern runs case-sensitively over a lower-cased copy, ten times
    faster than case-insensitive matching; a letter whose lower case is longer ("İ") stays as
    it is, so the copy's offsets are the text's. Unchanged text is returned as the same object.
    """
    low = text.lower()
    if len(low) != len(text):
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    out: list[str] = []
    done = 0
    for match in pattern.finditer(low):
        new = replace(match)
        if new is not None:
            start, end = match.span(group)
            out += (text[done:start], new)
            done = end
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)




_DAY_DASH = re.compile(r"\b(\d{1,2}(?:st|nd|rd|th)?)[–—-](\d{1,2}(?:st|nd|rd|th)?)\b")

_DIGIT = re.compile(r"\d")


def plain_number(number: str) -> str:
    """A number as the figure it is: no thousands commas, no zeros ending its decimals ("2.0
    liter" is the evidence's "2-liter", "4.50%" its "4.5%")."""
    number = number.replace(",", "")
    if number.count(".") == 1:  # not a version's or an address's ("1.2.10", "10.0.0.10")
        number = number.rstrip("0").rstrip(".")
    return number


def has_digit(text: str) -> bool:
    """Whether ``text`` writes any figure in digits (a cheap test before the figure rules)."""
    return _DIGIT.search(text) is not None


def _decimal(number: str) -> Decimal | None:
    """``number`` (digits and a point) as a Decimal; None for no number, or one too long to be
    a figure anyone scales."""
    if len(number) > _LONGEST_FIGURE:
        return None
    try:
        return Decimal(number)
    except ArithmeticError:
        return None


def _value(number: str) -> float | None:
    try:
        return float(number.replace(",", ""))
    except ValueError:
        return None

