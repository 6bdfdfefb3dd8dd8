"""Rows: whether an answer gives one row's value for another's.

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
by kind ("db-01 is critical, unlike the web hosts at 92.4%" for web-01). Only figures and codes
are read as values (a word such as "OK" or "web" is every other row's), not a whole number below
10 (a count, a rank, a number of days is any row's), not a day beside a month's name, and only
where every row that holds it is another row ("closes at 9:30 pm on Friday" for a week whose
other days close at 21:30). A window that names two rows (a comparison) or none (a pronoun's)
is not judged, nor one that sets its row against others or a condition ("except on Friday",
"more than double the $49 plan": :data:`_CONTRASTING`), nor a value in a clause that relates it
to another or to a bound, or negates it ("free until 2 pm", "peaked at 1,350 before dipping":
:data:`_RELATING`).

Pure: built once per stream from the fields :func:`stream_guard.evidence.structured.read` finds,
looked up per window.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from collections.abc import Set as AbstractSet

from stream_guard.text.figures import canonical_figures, plain_number
from stream_guard.text.terms import term_keys

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

    __slots__ = ("_by_key", "_by_value", "_names", "_values", "_words")

    def __init__(self, fields: Iterable[tuple[str, str, str]]) -> None:
        """``fields``: (row's name, column, value), as
        :class:`~stream_guard.evidence.structured.Field` gives them."""
        names: dict[str, frozenset[str]] = {}
        values: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        holders: dict[str, set[tuple[str, str]]] = defaultdict(set)
        read: dict[str, list[str]] = {}  # a column's values recur row after row
        for row, column, value in fields:
            if row not in names:
                names[row] = term_keys(row)
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
        # Each row under the rarest key of its name: a window names it only if it gives that key
        # ("17" of "Item 17", not "item", which names every row).
        rows_of = Counter(key for keys in self._names.values() for key in keys)
        by_key: dict[str, list[str]] = defaultdict(list)
        for row, keys in self._names.items():
            by_key[min(keys, key=lambda k: (rows_of[k], k))].append(row)
        self._by_key = dict(by_key)
        self._values = values
        self._by_value = dict(holders)  # a value's (row, column) holders

    def __bool__(self) -> bool:
        return bool(self._by_value)

    def other_row(self, window_keys: AbstractSet[str], window_text: str) -> bool:
        """Whether a window of these term keys and this text names one row and gives another's
        value of a column the named row has its own value in (see the module docstring)."""
        if not self._by_value or _CONTRASTING.search(window_text):
            return False
        named = {row for key in window_keys for row in self._by_key.get(key, ())
                 if self._names[row] <= window_keys}
        if len(named) != 1:
            return False
        (row,) = named
        own = self._values[row]
        text = _DAY_OF_MONTH.sub(" ", window_text)
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


def _words(keys: AbstractSet[str]) -> frozenset[str]:
    """The words of a name's keys, two letters or more: "web-01" is "web", so "the web hosts"
    names web-01 in part."""
    return frozenset(w for key in keys for w in _LETTERS.findall(key) if len(w) > 1)


def value_tokens(text: str) -> list[str]:
    """The figures and codes ``text`` gives, as :data:`_TOKEN` reads them."""
    canonical = _THOUSANDS.sub("", canonical_figures(text).lower())
    return [plain_number(m.group().rstrip(".:-/")) for m in _TOKEN.finditer(canonical)]
