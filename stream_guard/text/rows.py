"""Rows: whether an answer gives one row's value for another's, and what it works out of them.

An agent answers from a list its tool returned: flights and their gates, hosts and their disks,
a bill's lines. Mixing two rows up is an error such answers make (blind probes of answers
from tools' data: ``docs/results/structured-probe*.jsonl``), and no other signal sees it. "BA117
leaves from gate A10." against a list in which BA1442 leaves from A10 and BA117 from B42 has
every word and figure of the evidence, and the detector reads "BA117 gate: B42." and "BA1442
gate: A10." as two sentences of the same shape.

So a window that names exactly one row (every word of its name: "BA117", "web-03", "Amazon S3")
and gives a value that is another row's, of a column the named row holds a value of its own in,
where the window gives none of the named row's own values of that column and no word of the
other row's name but those the two names share, gives the other row's value
(:meth:`RowIndex.other_row`): an enumeration names its rows in part ("the vendor lunch at 12:30,
the dentist at 5:30" for "Lunch with vendor (Datadog)" and "Dentist"), a comparison names them
by kind ("db-01 is critical, unlike the web hosts at 92.4%" for web-01). Figures and codes are
read as values (a word such as "web" is every other row's), and the words of a column of
categories (a status, a tier: "web1 is DOWN" for a list in which web1 is OK), not a whole
number below 10 (a count, a rank, a number of days is any row's), not a day beside a month's
name, and only where every row that holds it is another row ("closes at 9:30 pm on Friday" for
a week whose other days close at 21:30). A count of a category given otherwise than the rows
give it ("3 of the 5 hosts are OK" where 2 are) contradicts them too (:meth:`RowIndex.
miscounts`). A window that names two rows (a comparison) or none (a pronoun's)
is not judged, nor one that sets its row against others or a condition ("except on Friday",
"more than double the $49 plan": :data:`_CONTRASTING`), nor a value in a clause that relates it
to another or to a bound, or negates it ("free until 2 pm", "peaked at 1,350 before dipping":
:data:`_RELATING`).

The rows also give what an answer works out of them (:meth:`RowIndex.derived`): a difference,
a sum or an average of the rows it names, a share of a column's total. Such a figure is stated
nowhere, and read as a new one it halted faithful answers ("Over June–August you generated
2,435 kWh").

Pure: built once per stream from the fields :func:`stream_guard.evidence.structured.read` finds,
looked up per window.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from decimal import Decimal, InvalidOperation
from itertools import combinations
from typing import NamedTuple

from stream_guard.text.figures import canonical_figures, plain_number, spell_out_numbers
from stream_guard.text.terms import STOPWORDS, _normalize, term_keys, terms

# A window that sets its row against others, or against a condition, is not judged: "except on
# Friday it closes at 9:30", "more than double the $49 plan", "if you need more than 10 GB",
# "with 25 users Starter would not be enough" (an adversarial review halted each).
_CONTRASTING = re.compile(
    r"\b(?:except|unlike|versus|vs|compared|whereas|while|than|if|unless|enough|instead|rather|"
    r"otherwise)\b", re.IGNORECASE)
# ... nor a clause that relates its value to another row's or to a bound, or negates it: "free
# until 2 pm" (the next event's start), "peaked at 1,350 before dipping", "Tuesday the rainiest
# at 60%", "leaving you 30 minutes before your 2 pm meeting", "lows of 11 to 15°C" (a range).
_RELATING = re.compile(
    r"\b(?:after|before|until|till|til|next|previous|prior|then|following|between|other|others|"
    r"both|all|range|ranges|ranging|peak|peaks|peaked|leaving|remaining|gap|free|more|less|"
    r"fewer|over|under|above|below|exceeds?|exceeding|beyond|within|up to|at least|at most|"
    r"minimum|maximum|not|no|never|without|\w+n't|highest|lowest|largest|smallest|biggest|"
    r"cheapest|priciest|most|least|best|worst|longest|shortest|earliest|latest|fastest|slowest|"
    r"busiest|\w+iest|warmest|coldest|hottest|nearest|farthest|furthest|top|bottom|twice|"
    r"double|triple|half|highs|lows)\b|\d\s*(?:to|through|-)\s*\d", re.IGNORECASE)  # "11 to 15°C"
# Where a window's clauses part: punctuation (not inside "9:30" or "1,870"), dashes, and the
# conjunctions that join clauses.
_CLAUSES = re.compile(r"[,;:](?=\s|$)|[()\u2013\u2014]|\s-\s|\b(?:and|but|so)\b", re.IGNORECASE)
# A number beside a month's name is a day of a date, not a row's value ("ships May 15").
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\.?"  # "Sept", "Dec."
_DAY_OF_MONTH = re.compile(rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b"
                           rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?!\w)",
                           re.IGNORECASE)
# A figure or a code as a value gives it ("21:30", "a10", "98.50", "92.4%"), in canonical text
# (:func:`~stream_guard.text.figures.canonical_figures`: "9:30 pm" is "21:30"), lower case,
# thousands' commas dropped.
_TOKEN = re.compile(r"(?<![\w.])\w*\d[\w.:%/-]*")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_LETTERS = re.compile(r"[^\W\d_]+")


class RowIndex:
    """The rows of a stream's structured evidence: their names' term keys, their values'
    tokens by column."""

    __slots__ = ("_by_key", "_by_value", "_categories", "_category_counts", "_columns",
                 "_name_words", "_names", "_row_amounts", "_rows_by_amount", "_values", "_words")

    def __init__(self, fields: Iterable[tuple[str, str, str]],
                 column_use: Callable[[str], str] | None = None,
                 quantities: Mapping[str, frozenset[str]] | None = None) -> None:
        """``fields``: (row's name, column, value), as
        :class:`~stream_guard.evidence.structured.Field` gives them; ``column_use``: what an
        answer works out of a column of numbers, by its name ("amount": sums, differences,
        shares, averages; "measure", a temperature or a score: differences and averages; "":
        nothing, an id or a year), for :meth:`derived` (None: it works nothing out);
        ``quantities``: the evidence's numbers by unit
        (:func:`~stream_guard.text.quantities.quantity_index`), which tell a column's unit."""
        fields = list(fields)
        names: dict[str, frozenset[str]] = {}
        values: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        holders: dict[str, set[tuple[str, str]]] = defaultdict(set)
        read: dict[str, list[str]] = {}  # a column's values recur row after row
        for row, column, value in fields:
            if row not in names:
                names[row] = _name_keys(row)
            found = read.get(value)
            if found is None:
                found = read[value] = value_tokens(value)
            if len(found) != 1:  # a date ("15 May 2024"), a list: no one value
                continue
            token = found[0]
            values[row][column].add(token)
            if not (token.isdigit() and len(token) == 1):  # "3": a count, a rank, days
                holders[token].add((row, column))
        # A name of figures alone ("17", an id) is no name a window gives: any "17" would be it.
        self._names = {row: keys for row, keys in names.items()
                       if any(c.isalpha() for key in keys for c in key)}
        self._words = {row: _words(keys) for row, keys in self._names.items()}
        self._name_words = frozenset(w.lower() for words in self._words.values() for w in words)
        # Each row under the rarest key of its name: a window names it only if it gives that key
        # ("17" of "Item 17", not "item", which names every row).
        rows_of = Counter(key for keys in self._names.values() for key in keys)
        by_key: dict[str, list[str]] = defaultdict(list)
        for row, keys in self._names.items():
            by_key[min(keys, key=lambda k: (rows_of[k], k))].append(row)
        self._by_key = dict(by_key)
        self._values = {row: dict(columns) for row, columns in values.items()}
        self._by_value = dict(holders)  # a value's (row, column) holders
        self._categories = _category_columns(fields)
        self._category_counts = {column: Counter(values.values())
                                 for column, values in self._categories.items()}
        self._columns = (_number_columns(fields, read, column_use, quantities or {})
                         if column_use is not None else {})
        rows_by_amount: dict[str, set[str]] = defaultdict(set)
        row_amounts: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for (_, units, adds), cells in self._columns.items():
            for row, token, number in cells:
                rows_by_amount[token].add(row)
                if adds:
                    row_amounts[row].append((units[0], number))
        self._rows_by_amount = dict(rows_by_amount)
        self._row_amounts = dict(row_amounts)

    def __bool__(self) -> bool:
        return bool(self._by_value or self._categories)

    def other_row(self, window_keys: AbstractSet[str], window_text: str) -> bool:
        """Whether a window of these term keys and this text names one row and gives another's
        value of a column the named row has its own value in (see the module docstring)."""
        if not (self._by_value or self._categories) or _CONTRASTING.search(window_text):
            return False
        named = {row for key in window_keys for row in self._by_key.get(key, ())
                 if self._names[row] <= window_keys}
        if len(named) != 1:
            return False
        (row,) = named
        own = self._values.get(row, {})
        text = _DAY_OF_MONTH.sub(" ", window_text)
        if self._other_category(row, text):
            return True
        given = set(value_tokens(text))  # the window's values; those judged are in plain clauses
        judged = {token for clause in _CLAUSES.split(text) if not _RELATING.search(clause)
                  for token in value_tokens(clause)}
        mine = set().union(*own.values())
        words = _words(window_keys) - self._words[row]
        for token in judged - mine:
            held = self._by_value.get(token, ())
            if (held and all(column in own and not (self._words.get(other, frozenset()) & words)
                             for other, column in held)
                    and not any(own[column] & given for _, column in held)):
                return True
        return False

    def contradicts(self, window_keys: AbstractSet[str], window_text: str) -> bool:
        """Whether the window says otherwise than the rows: another row's value
        (:meth:`other_row`) or a count of a category they give otherwise (:meth:`miscounts`)."""
        return self.other_row(window_keys, window_text) or self.miscounts(window_text)

    def miscounts(self, window_text: str) -> bool:
        """Whether a clause counts the rows of one category otherwise than the rows do: "3 of
        the 5 hosts are OK" or "all 5 hosts are OK" where 2 of the 5 are (a README walk found
        both passing; the count sentences, "hosts status OK: 2 of 5.", state the 3 of DOWN too,
        so no other check reads the 3 as new). Judged only where the clause names one value of
        one column of categories, counts out of all the column's rows, and negates nothing ("3
        of the 5 hosts are not OK" counts the others)."""
        if not self._categories or _CONTRASTING.search(window_text):
            return False
        for clause in _COUNT_CLAUSES.split(window_text):
            if _NEGATED.search(clause) or _HEDGED.search(clause):
                continue
            said = {w.lower() for w in _LETTERS.findall(clause)}
            counted = spell_out_numbers(clause)
            for column, counts in self._category_counts.items():
                named = said & counts.keys()
                if len(named) != 1:
                    continue
                (value,) = named
                total, count = len(self._categories[column]), counts[value]
                of = _COUNT_OF.match(counted)  # what the clause is about: "3 of the 5 hosts"
                if of is not None and int(of["whole"]) == total and int(of["part"]) != count:
                    return True
                every = _ALL_OF.match(counted)
                if every is not None and count != total and int(every["whole"]) == total:
                    return True
        return False

    def _other_category(self, row: str, text: str) -> bool:
        """Whether ``text``, naming ``row``, says it is of another category of a column of them
        (:func:`_category_columns`): "web1 is DOWN" for a list in which web1 is OK and web2
        DOWN (a review found such a swap passing: a status is no figure or code, so the rule
        above never read it). Only a value said of the row (its name, then at most a verb of
        being or a mark: "web1 is DOWN", "web1 has been down since Tuesday", "web1 (DOWN)"), in
        a plain clause, where the window says none of the row's own values: category words are
        words of speech too, and a country code "IN" or a status "OK" stands in any sentence
        ("Hans signed up in March", "It's OK to restart web1 now"). A word of speech ("in",
        "up", "down") is judged only as the end of what is said of the row ("web1 is down
        since Tuesday", not "Maria is in Rome"); a value that is a word of rows' names ("web" of
        web-01, a role) is not judged."""
        said = {w.lower() for w in _LETTERS.findall(text)} - self._words[row]  # not its name
        own = {values[row] for values in self._categories.values() if row in values}
        if not said or own & said:
            return False
        others = {v for values in self._categories.values() if row in values
                  for v in values.values()} - own - self._name_words
        last = re.escape(row.split()[-1])
        breaks = [0, *(m.end() for m in _CLAUSES.finditer(text)), len(text)]
        for match in re.finditer(rf"(?<!\w){last}(?!\w){_OF_ROW}(?P<value>[^\W\d_]+)", text,
                                 re.IGNORECASE):
            value = match["value"].lower()
            at = match.start("value")
            clause = text[max(b for b in breaks if b <= at):min(b for b in breaks if b > at)]
            if (value in others and not _RELATING.search(clause)
                    and (value not in STOPWORDS or _SAID_LAST.match(text, match.end()))):
                return True
        return False

    def derived(self, window_keys: AbstractSet[str], window_text: str,
                previous: str = "") -> list[ColumnWork]:
        """What a window works out of each column of numbers of the evidence's rows
        (:class:`ColumnWork`): the column's average ("the class average on the final was
        83"); of the rows the window names or quotes a value of, the differences between two
        of them ("Ballard costs $370 more than Fremont"), their average, and of amounts the
        sums and averages of the rows from one to another in the data's order ("over
        June–August you generated 2,435 kWh"), and with those the ``previous`` window points
        at, their sum ("Together they're worth $393.03"); and each such row's and run's share
        of the column's total ("YouTube alone is roughly 46%"). Given as a result only
        ("$37.50 under", "2,232 miles since"), also the difference between the one row it
        points at and any other row's, or a row's amounts of one unit against each other.

        Realistic answers from a tool's rows compute, and the result, stated nowhere, halted
        them (blind probes: ``docs/results/structured-probe*.jsonl``). Only rows the window
        points at take part, no whole number below 10 is worked out (of any few rows some
        difference is 2), and what is worked out without a cue is of few pairs: an adversarial
        review found a wrong "12 assists" passing as 34 appearances less 22 goals, and a wrong
        difference of months as another pair's."""
        if not self._columns:
            return []
        previous_keys = term_keys(previous) if previous else frozenset()
        now = self._pointed(window_keys, window_text)
        if len(now) > _ANCHORS:
            now = set()
        pointed = now | self._pointed(previous_keys, previous)
        if len(pointed) > _ANCHORS:
            pointed = now
        named_keys = window_keys | previous_keys
        out = []
        for (_, units, adds), cells in self._columns.items():
            values = [value for _, _, value in cells]
            total = sum(values)
            anchors = [i for i, (row, _, _) in enumerate(cells) if row in now]
            together = [values[i] for i, (row, _, _) in enumerate(cells) if row in pointed]
            plain = {total / len(values)}
            plain.update(abs(values[a] - values[b]) for a, b in combinations(anchors, 2))
            runs = [values[a:b + 1] for a, b in combinations(anchors, 2)] if adds else []
            if len(together) > 1:
                runs.append(together)
            sums = [sum(run) for run in runs]
            plain.update(run_total / len(run) for run_total, run in zip(sums, runs, strict=True))
            cued: set[float] = set()
            if len(anchors) == 1 and len(values) <= _DIFFERENCE_ROWS:  # two: theirs alone
                cued.update(abs(values[anchors[0]] - v) for v in values)
            shares: list[float] = []
            if adds:
                plain.update(sums)
                if total > 0:
                    shares = [part * 100 / total
                              for part in [values[i] for i in anchors] + sums]
            out.append(ColumnWork(units, not named_keys.isdisjoint(units), _worked(plain),
                                  _worked(cued), sorted(shares)))
        for row in now:  # a row's amounts of one unit against each other, as a result
            for (unit, a), (other, b) in combinations(self._row_amounts.get(row, ()), 2):
                if unit == other:
                    out.append(ColumnWork((unit,), False, [], _worked({abs(a - b)}), []))
        return out

    def _pointed(self, keys: AbstractSet[str], text: str) -> set[str]:
        """The rows ``text`` (its term ``keys``) names, or quotes a number of."""
        if not text:
            return set()
        pointed = {row for key in keys for row in self._by_key.get(key, ())}
        for token in value_tokens(text):
            holders = self._rows_by_amount.get(token, ())
            if len(holders) <= _ANCHORS and not (token.isdigit() and len(token) == 1):
                pointed.update(holders)
        return pointed


class ColumnWork(NamedTuple):
    """What a window works out of one column of numbers (:meth:`RowIndex.derived`)."""

    units: tuple[str, ...]  # its unit ("": money, bare numbers), then the words of its name
    named: bool  # the window, or the one before, says a word of its name or unit
    plain: list[float]  # sorted: what it works out as it is
    cued: list[float]  # sorted: ... only as a result ("more", "less", "since", "=")
    shares: list[float]  # sorted: shares of its total, in percent


def _worked(found: set[float]) -> list[float]:
    """``found`` as sizes (a net of -$51.60 is "$51.60" spent), sorted, without zero and whole
    numbers below 10 (any few rows differ by 2)."""
    return sorted({abs(x) for x in found} - {0.0} - set(map(float, range(-9, 10))))


_ANCHORS = 8  # more rows pointed at (a figure common to many): none is
_NEGATIVE = re.compile(r"\s*(?:[-\u2212(]|[$€£]\s*-)")
_DIFFERENCE_ROWS = 100  # a row's difference with any other row's, as a result, up to this many
_LARGEST = Decimal(10) ** 15  # a number this long is an id, not an amount (and floats hold it)
_NUMBER_ROWS = 500  # a longer column is no list an answer works figures out of by hand


def _number_columns(fields: list[tuple[str, str, str]], tokens_of: Mapping[str, list[str]],
                    column_use: Callable[[str], str], quantities: Mapping[str, frozenset[str]],
                    ) -> dict[tuple[str, tuple[str, ...], bool], list[tuple[str, str, float]]]:
    """Each column whose every value is one plain number, of two rows or more up to
    :data:`_NUMBER_ROWS` (``tokens_of``: each value's :func:`value_tokens`), that ``column_use``
    works something out of, with its units and
    whether it adds up: its (row, value token, value) in order. Its unit is the one
    ``quantities`` give every value of it under ("Produced: 812 kWh."), else none (money, bare
    numbers: ""), then each word of its name ("cellular mb", "kwh used")."""
    columns: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    broken: set[str] = set()
    for row, column, value in fields:
        if column in broken:
            continue
        found = tokens_of[value]
        try:
            number = Decimal(found[0]) if len(found) == 1 else None
        except InvalidOperation:
            number = None
        if (number is None or not number.is_finite() or abs(number) >= _LARGEST
                or not column_use(column)):
            broken.add(column)
            continue
        sign = -1.0 if _NEGATIVE.match(value) else 1.0  # "-$45.00", "(45.00)", "−3 °C"
        columns[column].append((row, found[0], sign * float(number)))
    out: dict[tuple[str, tuple[str, ...], bool], list[tuple[str, str, float]]] = {}
    for column, cells in columns.items():
        if column in broken or not 2 <= len(cells) <= _NUMBER_ROWS:
            continue
        tokens = {token for _, token, _ in cells}
        unit = min((u for u, numbers in quantities.items()  # its other keys open with "@"
                    if u and u[0] != "@" and tokens <= numbers), default="")
        words = [w for w in map(_normalize, column.split()) if w not in STOPWORDS and w != unit]
        out[column, (unit, *dict.fromkeys(words)), column_use(column) == "amount"] = cells
    return out


_COUNT = r"\d+"  # counts in words are read as digits first (spell_out_numbers)
# A clause that opens with "3 of the 5", "only two out of five" (not "3/5": a date as often;
# not "web2 is DOWN as 1 of the 5 hosts", a row among the others)
_COUNT_OF = re.compile(rf"\W*(?:(?:and|so|but|only|just|exactly|in\s+all|overall)\s+)*"
                       rf"(?P<part>{_COUNT})\s+(?:out\s+)?of\s+(?:the\s+|your\s+|all\s+)?"
                       rf"(?P<whole>{_COUNT})\b", re.IGNORECASE)
# A count given as a bound, not as the count ("at least 1 of the 5 hosts is down")
_HEDGED = re.compile(r"\b(?:at\s+least|at\s+most|more\s+than|fewer\s+than|less\s+than|over"
                     r"|under|about|around|roughly|nearly|almost|up\s+to|approximately)\b",
                     re.IGNORECASE)
# A clause that opens with "all 5 hosts", "all of the 5 hosts" (not "after all"; not "all hosts":
# a column of one name may be two lists' ("hosts" and "disks" both have a "status"), whose
# count together is no list's)
_ALL_OF = re.compile(rf"\W*(?:and\s+|so\s+|but\s+)?all\s+(?:of\s+)?(?:the\s+|your\s+)?"
                     rf"(?P<whole>{_COUNT})\b", re.IGNORECASE)
# A count and the category it counts are in one clause of one sentence ("four of the six jobs
# succeeded. mail-archive failed" counts no failure).
_COUNT_CLAUSES = re.compile(rf"{_CLAUSES.pattern}|[.!?](?=\s|$)", re.IGNORECASE)
_NEGATED = re.compile(r"\b(?:not|no|never|none|nothing|without)\b|n['’]t\b", re.IGNORECASE)


def _category_columns(fields: Iterable[tuple[str, str, str]]) -> dict[str, dict[str, str]]:
    """The columns of categories: each row's value a word of letters (a status, a tier: "OK",
    "DOWN", "pending"), of three rows or more, with two values or more and one shared by
    several rows; by column, each row's value in lower case. Not a column of answers to a
    question ("yes", "none", "true": a window says them in passing)."""
    columns: dict[str, dict[str, str]] = defaultdict(dict)
    broken: set[str] = set()
    for row, column, value in fields:
        if column in broken or row in columns[column]:
            broken.add(column)
            continue
        columns[column][row] = value.strip()
    return {column: {row: v.lower() for row, v in values.items()}
            for column, values in columns.items()
            if column not in broken and len(values) >= _CATEGORY_ROWS
            and is_category_column(list(values.values()))}


def is_category_column(values: list[str]) -> bool:
    """Whether a column's values are categories: each a word of letters (a status, a tier),
    not an answer to a question ("yes", "none", "true"), two values or more, one of them
    shared by several rows. A CSV is read as a table by such a column too
    (:func:`stream_guard.evidence.structured.read`)."""
    words = [v.lower() for v in values]
    if not all(_CATEGORY.fullmatch(w) and w not in _NOT_CATEGORIES for w in words):
        return False
    counts = Counter(words)
    return len(counts) >= 2 and max(counts.values()) >= 2


_CATEGORY = re.compile(r"[^\W\d_]{2,20}")  # one word of letters, as _LETTERS reads a window
# Between a row's name and the category said of it: marks closing the name ("`lint` failed",
# "**web1** is DOWN": a probe's answers passed), verbs of being, "now", "still", marks; each
# such word apart, with no backtracking into them (a review: a run of " - - -" after a name
# took seconds, and the server's loop with it).
_OF_ROW = (r"[`*_\"'\u2019\u201d]*+(?>(?:[^\w\n]+(?:is|are|was|were|(?:has|have|had)\s+been"
           r"|being|now|still|currently"
           r"|shows?|showing|reports?|reported|(?:marked|listed)\s+as|went|goes|stays?"
           r"|remains?)\b)*)(?:\s*[:(\-\u2013\u2014]\s*|\s+)")
# A word of speech as a category is the end of what is said of the row: a clause's end, or a
# time from when after it ("web1 is down since Tuesday"; not "Hans is in today").
_SAID_LAST = re.compile(r"\s*(?:$|[.,;:!?)]|(?:since|again|right now|at the moment)\b)",
                        re.IGNORECASE)
_CATEGORY_ROWS = 3
_NOT_CATEGORIES = frozenset({"yes", "no", "true", "false", "none", "null", "unknown"})


# A row named by a date, as canonical text writes it ("2024-06-17" is "17 June 2024"; a weekday
# may open it): a window names it by its day and month, with or without the year ("On June 17
# there is a 70% chance of rain" named no row of a forecast keyed by ISO dates, and gave the
# 16th's 70% for the 17th's 40% unjudged: a probe of developer and agent answers). Rows of one
# day and month in two years are then one name, which a window names both of: not judged.
_DATED_NAME = re.compile(r"(?:[^\W\d_]+,?\s+)?\d{1,2}\s+(?:January|February|March|April|May|June"
                         r"|July|August|September|October|November|December),?\s+(?P<year>\d{4})")


def _name_keys(row: str) -> frozenset[str]:
    """The term keys a window names ``row`` by, as a window's keys read (:func:`terms`): a
    date's without its year (:data:`_DATED_NAME`)."""
    keys = frozenset(t.key for t in terms(row))
    dated = _DATED_NAME.fullmatch(canonical_figures(row.strip()))
    return keys - {dated["year"]} if dated is not None else keys


def _words(keys: AbstractSet[str]) -> frozenset[str]:
    """The words of a name's keys, two letters or more: "web-01" is "web", so "the web hosts"
    names web-01 in part."""
    return frozenset(w for key in keys for w in _LETTERS.findall(key) if len(w) > 1)


def value_tokens(text: str) -> list[str]:
    """The figures and codes ``text`` gives, as :data:`_TOKEN` reads them."""
    canonical = _THOUSANDS.sub("", canonical_figures(text).lower())
    return [plain_number(m.group().rstrip(".:-/")) for m in _TOKEN.finditer(canonical)]
