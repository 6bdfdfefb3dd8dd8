"""Structured evidence as sentences: a tool's JSON, a table, a record of "key: value" lines.

An agent answers from what its tools returned: a flight-status API's JSON, a CSV of
transactions, a markdown table of nutrition facts, a listing's "Rent: $2,150/month" lines. The
premise builder (:mod:`stream_guard.evidence.premise`) chooses *sentences*, and the detector was
trained to compare a claim with sentences; raw structure gives it neither. A JSON document is
one "sentence" of braces and quotes cut at 600 characters; a table's rows lose their header (a
row "| Heat | 25 | 22 |" says nothing of quarters); "key: value" lines without full stops run
together into one sentence of every field. A blind probe of answers written from such data
(``docs/results/structured-probe.jsonl``) had 60 % of its faithful answers halted.

So structure is read as what it states, one field per sentence, with what the field belongs
to: ``{"flights": [{"flight_number": "BA117", "gate": "B42"}]}`` is "BA117 gate: B42.", a
table's cell is its row's first cell, its column's header and its value ("Heat Q1: 25."), and
a "key: value" line ends as a sentence. Booleans are "yes" and "no" (an answer says "has free
WiFi", not "true"); a number in a field named as a percentage carries its "%" ("Disk pct:
94%.", which an answer's "94% full" meets). Text that is not structured is returned as it is
(the same object), so prose evidence is read exactly as before; a text that mixes prose with a
table or a block of fields has only those parts rewritten.

A list's items and a table's rows are also what an answer works out of them: after them come
sentences of how many there are, how many hold each value of a column of categories, and each
amount column's total, in all and per category (:func:`_aggregates`). :func:`read` gives, beside
the sentences, each row's values (:class:`Field`), for the check that an answer does not give
one row another's (:mod:`stream_guard.text.rows`).

Pure: the server reads a stream's context through it (:mod:`stream_guard.scoring.engine`), a
collection's documents as they are chunked (:mod:`stream_guard.evidence.store`), and the trainer
its records' contexts (:mod:`stream_guard.train.pairs`): one reading everywhere.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from decimal import Decimal
from typing import Any, NamedTuple

from stream_guard.text.rows import is_category_column

# A value that names the object it belongs to, by its field's name (or its name's last word):
# a list's items are told apart by these ("BA117 gate: B42.", not "Gate: B42." five times).
_NAMING = ("name", "title", "label", "id", "code", "number", "day", "date", "symbol", "sku",
           "item", "product", "team", "player", "host", "hostname", "city", "station", "type",
           "flight")
# A field whose number is a percentage ("precip_probability": 20 is "20%").
_PERCENT_WORDS = frozenset(("pct", "percent", "percentage", "probability", "%"))
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
# The units an API writes at the end of a field's name, as a text writes them with the number
# ("temp_c": 22 is "Temp: 22 °C.", "msrp_usd": 47990 "Msrp: $47990."): an answer's "22°C,
# about 72°F" then meets a temperature (text.quantities converts it), its "$47,990" an amount.
# Not the letters or words that name several things ("m": metres, minutes, months, millions;
# "min": "salary_min"; "s"); "c" and "f" only after a temperature's word ("temp_c", not
# "vitamin_c"), "min" and "s" after a duration's ("runtime_min", "duration_s").
_UNITS = {
    "celsius": "{} °C", "fahrenheit": "{} °F",
    **dict.fromkeys(("kmh", "kph"), "{} km/h"), "mph": "{} mph", "km": "{} km",
    **dict.fromkeys(("mi", "miles"), "{} miles"), "kg": "{} kg", "g": "{} g",
    **dict.fromkeys(("lb", "lbs"), "{} lb"), "cm": "{} cm", "mm": "{} mm",
    **dict.fromkeys(("usd", "dollars"), "${}"), "eur": "€{}", "gbp": "£{}",
    **dict.fromkeys(("mins", "minutes"), "{} minutes"),
    **dict.fromkeys(("hrs", "hours"), "{} hours"), "days": "{} days",
    **dict.fromkeys(("sec", "secs", "seconds"), "{} seconds"), "ms": "{} ms",
    "kwh": "{} kWh", "kw": "{} kW", "wh": "{} Wh", "gb": "{} GB", "mb": "{} MB", "tb": "{} TB",
}
_DURATION_WORDS = frozenset(("runtime", "duration", "delay", "time", "length", "wait", "eta",
                             "travel", "drive", "walk", "cook", "prep", "total", "layover",
                             "timeout", "elapsed", "latency", "interval"))
_TEMPERATURE_WORDS = frozenset(("temp", "temperature", "like", "point", "high", "low", "max",
                                "min", "avg", "mean", "water", "air", "surface"))
# The header of a two-column table whose rows are fields: the row's first cell names it.
_GENERIC_VALUE = frozenset(("", "value", "values", "detail", "details", "description", "spec",
                            "specs", "specification", "info", "information", "data", "setting"))
_TIMESTAMP = re.compile(r"\b(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?"
                        r"(?:Z|[+-]\d{2}:?\d{2})?\b")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_UNIT_IN_BRACKETS = re.compile(r"([^()]*)\(([^()]+)\)")
_SEPARATORS = re.compile(r"[_\s]+")
# "| a | b |" rows and their "|---|:--:|" separator.
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
# "Rent: $2,150/month", "  - name: db-01", "cpu_pct: 92.4": a short key, then a value.
_FIELD = re.compile(r"^(?P<indent>\s*)(?P<dash>-\s+)?(?P<key>[A-Za-z][\w .()/#&%'-]{0,39}?)"
                    r"\s*:(?:\s+(?P<value>\S.{0,199})|\s*)$")
_KEY_WORDS = 5  # a key of more words than this is a sentence with a colon, not a field
# A block of "key: value" lines is a record with at least this many fields, none repeated (a
# transcript's "Anna: ..." lines repeat their speakers: they are not rewritten).
_RECORD_FIELDS = 3
_SHORT_VALUE_WORDS = 6  # a field's value; longer ones are sentences
_TERMINAL = (".", "!", "?")  # a value ending so ends its sentence already
_CSV_ROWS = 3  # a header and two rows at least
_CSV_PREAMBLE = 2  # lines a CSV may follow (a title, "period: ..."), read as they are
_CSV_HEADER_WORDS = 4  # a header cell of more words is prose with commas
_PLAIN_FIGURE = re.compile(r"[-+]?[$€£]?-?\d[\d,]*(?:\.\d+)?%?")  # no header's name
_FIGURE_CELL = re.compile(r"[-+]?[$€£]?-?\d[\d,]*(?:\.\d+)?%?"
                          r"|\d{4}-\d{2}-\d{2}(?:[T ][\d:.+\-Z]*)?")
# A cell that is an amount a column may be added up over: a number, a currency sign before it.
_AMOUNT = re.compile(r"(?P<sign>-?)(?P<currency>[$€£]?)(?P<minus>-?)(?P<number>\d[\d,]*(?:\.\d+)?)")
# Columns of measures, averaged and compared but not added up: temperatures, ratings, bounds.
_MEASURED = frozenset(("c", "f", "celsius", "fahrenheit", "temp", "temperature", "rating",
                       "score", "aqi", "index", "humidity", "pressure", "max", "min", "high",
                       "low"))
# Columns whose numbers are no amounts to add up: names, years, ranks, positions ("order_id",
# "zip"), shares, and the measures.
_NO_TOTAL = frozenset((*_NAMING, *_MEASURED, "year", "zip", "postcode", "phone", "rank",
                       "version", "lat", "latitude", "lon", "lng", "longitude", "seed",
                       "position", "pos", "no", "pct", "percent", "percentage", "port",
                       "like"))
# A table's row of its own total ("Total", "Grand total", "Subtotal"), by any of its values.
_TOTAL_ROW = re.compile(r"(?:grand |sub-?)?totals?\b", re.IGNORECASE)
_AGGREGATE_ROWS = 2  # a column is added up over at least this many rows
_COUNT_ROWS = 3  # ... and its values counted over at least this many
_COUNT_VALUES = 12  # a column of more distinct values than this is no category
_COUNT_WORDS = 3  # nor one of longer values


# A list of what a rule leaves out, under a heading that holds its negation: "What is not
# covered: accidental damage; cosmetic damage; filters and hoses.", "We will not pay for:" and
# items a line each. Its items say nothing alone ("accidental damage"): each is read as a
# sentence with the heading's predicate ("Accidental damage is not covered.") so that the
# checks of polarity and the detector see the negation (a probe of policies: "Accidental damage
# is covered." passed as supported against the list, and was contradicted against the same said
# in sentences). The heading: a short line or sentence opening, with a negation or an exclusion.
_EXCLUDING = re.compile(r"\b(?:not|no|never|cannot|exclu\w*)\b|n't\b", re.IGNORECASE)
_HEADING_WORDS = 10
# ... and where the items follow the heading ("We will not pay for: wear and tear"), it ends
# asking for them: a preposition, "you", "if", or a verb of what a rule covers ("The minister
# did not say: reporters asked twice; she left." is no list).
_HEADING_GAP = re.compile(r"\b(?:for|on|in|to|with|by|from|after|during|about|against|of|at|if"
                         r"|when|you|cover|include|accept|refund|allow|permit|insure|pay"
                         r"|offer|provide|sell|ship|deliver)s?$", re.IGNORECASE)
# Where the heading's first words stand for its items, each item takes their place ("The
# following cannot be returned: earrings" is "earrings cannot be returned"); "Not covered" and
# "Exclusions" say what the items are ("accidental damage is not covered").
_HEADING_SUBJECT = re.compile(r"^(?:what|(?:the following|these)(?: (?!(?:are|is|can|cannot|will"
                              r"|may|must|do|does|won't|aren't|isn't|can't)\b)[a-z]+)?)\s+(?=\S)",
                              re.IGNORECASE)
_HEADING_STATE = re.compile(r"^(?:(?:not|never)\s+\w+(?:ed|able|ible)|exclu\w+)$", re.IGNORECASE)
# On one line: the heading, then at least two items split by ";" (or, where the heading names
# what its items are, by commas and a last "and" or "or").
_INLINE_LIST = re.compile(r"(?:^|(?<=[.!?]\s))(?P<head>[A-Z][^.:;!?\n]{2,80}):[ \t]+"
                          r"(?P<items>[^\n]+?)(?P<end>\.(?=\s|$)|$)", re.MULTILINE)
# An item that is no list item but a clause: one opening with a condition or a conjunction
# ("pre-existing conditions, except those you have declared"), or, under a heading whose items
# are things ("Not covered:", "We don't deliver to:"), one that states something itself ("the
# Isle of Man; Northern Ireland is delivered in 5 days"). A list with one is read as written
# (a review: its heading's negation went to "Northern Ireland is delivered in 5 days").
_CLAUSE_OPENING = re.compile(r"(?:except|unless|if|when|whenever|provided|but|which|that"
                             r"|though|although|as long as)\b", re.IGNORECASE)
# ... a verb of its own, not one a relative word puts in its clause ("items that were left
# unattended" is an item: a fourth review saw such a list read as written, and its other
# items' negation lost; "events that were cancelled are refunded" states something: a fifth)
_FINITE = re.compile(r"\b(?:is|are|was|were|will|would|can|could|may|might|must|shall|should"
                     r"|has|have|had|does|did|isn't|aren't|won't|can't)\b", re.IGNORECASE)
_RELATIVE_BEFORE = re.compile(r"\b(?:that|which|who|whose|where)(?:\s+\w+)?\s*$", re.IGNORECASE)
_SERIAL_AND = re.compile(r"^(?:and|or)\s+", re.IGNORECASE)  # "theft; loss; and damage by pets"
_ITEMS_ARE_VERBS = re.compile(r"\b(?:you|if|when)$", re.IGNORECASE)  # "Do not take if you:"
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u2013]|\d{1,2}[.)])\s+(?P<item>\S.*)")
_LAST_ITEM = re.compile(r",?\s+(?:and|or)\s+")


class Field(NamedTuple):
    """One value of a list's item or a table's row: the row's name, the column's words, the
    value as its sentence gives it."""

    row: str
    column: str
    value: str


class Reading(NamedTuple):
    """A text's structure as sentences (``prose``: the text itself where it has none) and the
    values of the rows it lists (``fields``: :mod:`stream_guard.text.rows` checks an answer
    does not give one row's value for another)."""

    prose: str
    fields: tuple[Field, ...] = ()


def as_prose(text: str) -> str:
    """``text`` with its structured parts as sentences (see the module docstring); ``text``
    itself where it has none."""
    return read(text).prose


# How much longer than its text a reading may be. Each leaf's sentence repeats its key path,
# and each cell's its row's first cell: 34 KB of deeply nested JSON read as 15 M characters,
# whose set-up took both set-up lanes for 23 s and stalled every client's new streams (a
# review). Real data reads at most about 6 times its length (the probes' contexts); past
# this, the text is evidence as it is written.
_MAX_GROWTH = 16
_GROWTH_FLOOR = 1_000  # a small text may read longer: '{"a": {"b": [1, 2, 3]}}'


def read(text: str) -> Reading:
    """``text`` read as :func:`as_prose` reads it, with its rows' fields; the text itself where
    its reading would be far longer than it (:data:`_MAX_GROWTH`)."""
    reading = _read(text)
    if len(reading.prose) > _MAX_GROWTH * max(len(text), _GROWTH_FLOOR):
        return Reading(text)
    return reading


def _read(text: str) -> Reading:
    found: list[Field] = []
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            data = _json(stripped)
            if data is not None:
                return Reading(_block(_json_sentences(data, found)), tuple(found))
            rows = _json_lines(stripped)
            if rows is not None:
                sentences = [s for row in rows for s in _json_sentences(row, found, named=True)]
                aggregates = _aggregates("", [_row(r) for r in rows if isinstance(r, dict)])
                return Reading(_block(sentences + aggregates), tuple(found))
        except RecursionError:  # nested past what a walk may follow: read as it is
            return Reading(text)
    if "\n" not in stripped:
        return Reading(_excluded_items(text))
    lines = stripped.split("\n")
    for start in range(min(_CSV_PREAMBLE, len(lines) - _CSV_ROWS) + 1):
        # a CSV, or one after a line or two of its own ("billing_cycle: 2024-10-05 to
        # 2024-11-04", a title): a blind probe's report of data by app was read as prose. No
        # line with a comma or a tab is one: it is the table's own header, or a sentence
        # ("Attendees: Ana, Ben, Chloe"; a CSV whose first row has no number: a review)
        if start and any("," in line or "\t" in line for line in lines[:start]):
            break
        table = _csv("\n".join(lines[start:]))
        if table is not None:
            preamble = [line.strip() for line in lines[:start] if line.strip()]
            return Reading(_block([line if line.endswith(_TERMINAL) else line + "."
                                   for line in preamble]
                                  + _table_sentences(table[0], table[1:], found)), tuple(found))
    lines = text.split("\n")
    out = _tables_and_records(lines, found)
    return Reading(_excluded_items(text if out is None else "\n".join(out)), tuple(found))


def _excluded_items(text: str) -> str:
    """``text`` with each list under a heading that holds a negation read as one sentence per
    item (:data:`_EXCLUDING`); ``text`` itself where it has none."""
    if not _EXCLUDING.search(text) or ":" not in text:
        return text
    lines = text.split("\n")
    out: list[str] = []
    changed = False
    i = 0
    while i < len(lines):
        line = lines[i]
        head = line.strip()[:-1] if line.rstrip().endswith(":") else None
        if head is not None and _excluding_heading(head):
            end = i + 1
            items = []
            while end < len(lines) and (bullet := _BULLET.match(lines[end])):
                items.append(bullet.group("item"))
                end += 1
            if len(items) > 1 and _listed(head, items):
                out.append(" ".join(_item_sentence(head, item) for item in items))
                changed, i = True, end
                continue
        rewritten = _INLINE_LIST.sub(_inline_list, line)
        changed = changed or rewritten != line
        out.append(rewritten)
        i += 1
    return "\n".join(out) if changed else text


def _excluding_heading(head: str) -> bool:
    head = head.strip()
    return (len(head.split()) <= _HEADING_WORDS and _EXCLUDING.search(head) is not None
            and (_HEADING_SUBJECT.match(head) is not None or _HEADING_STATE.match(head) is not None
                 or _HEADING_GAP.search(head) is not None))


def _inline_list(match: re.Match[str]) -> str:
    head, listed = match.group("head"), match.group("items")
    if not _excluding_heading(head):
        return match.group()
    items = [item.strip() for item in listed.split(";")]
    if len(items) < 2 and (_HEADING_SUBJECT.match(head) or _HEADING_STATE.match(head.strip())):
        # "earrings, swimwear and personalised items": an item of its own may hold a comma
        # ("damage caused by misuse, neglect or accident": each is excluded all the same)
        *first, last = listed.split(",")
        items = [*first, *_LAST_ITEM.split(last, maxsplit=1)] if first else []
        items = [item.strip() for item in items]
    if len(items) < 2 or not all(items) or not _listed(head, items):
        return match.group()
    return " ".join(_item_sentence(head, item) for item in items)


def _listed(head: str, items: list[str]) -> bool:
    """Whether ``items`` are a list's items, none a clause (:data:`_CLAUSE_OPENING`)."""
    verbs = _ITEMS_ARE_VERBS.search(head.strip()) is not None
    return not any(_CLAUSE_OPENING.match(item) or (not verbs and _states(item))
                   for item in (_SERIAL_AND.sub("", item.strip()) for item in items))


def _states(item: str) -> bool:
    """Whether an item has a finite verb of its own, not a relative clause's (:data:`_FINITE`)."""
    return any(_RELATIVE_BEFORE.search(item, max(0, verb.start() - 40), verb.start()) is None
               for verb in _FINITE.finditer(item))


def _item_sentence(head: str, item: str) -> str:
    """An item of a list with its heading's predicate: in the place of the heading's subject
    ("The following cannot be returned" and "earrings"), as the subject of a state it names
    ("Not covered"), else after it ("We will not pay for" and "wear and tear")."""
    item = _SERIAL_AND.sub("", item.strip()).rstrip(".;,")
    head = head.strip()
    if subject := _HEADING_SUBJECT.match(head):
        sentence = f"{item} {head[subject.end():]}"
    elif _HEADING_STATE.match(head):
        state = "excluded" if head.lower().startswith("exclu") else head.lower()
        sentence = f"{item} is {state}"
    else:
        sentence = f"{head} {item}"
    return sentence[:1].upper() + sentence[1:] + "."


def _block(sentences: list[str]) -> str:
    """Sentences a paragraph apart: the splitter ends a sentence at a line's full stop only
    after a word ("Beds: 2.\nBaths: 1." is one sentence to it: "2." may be a list's number)."""
    return "\n\n".join(sentences)


def _json(text: str) -> Any:
    """The JSON ``text`` holds, its numbers as written ("9400111899223344556677" stays a
    tracking number, "2910000000000.0" is not re-printed)."""
    try:
        data = json.loads(text, parse_float=str)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, (dict, list)) else None


def _json_lines(text: str) -> list[Any] | None:
    """JSON Lines: each line an object (an API's log, a tool's rows)."""
    rows = []
    for line in text.splitlines():
        if line.strip():
            data = _json(line.strip())
            if data is None:
                return None
            rows.append(data)
    return rows or None


def _json_sentences(data: Any, found: list[Field], *, named: bool = False) -> list[str]:
    out: list[str] = []
    _walk(data, "", out, found, named=named)
    return out


def _walk(value: Any, owner: str, out: list[str], found: list[Field], *, named: bool) -> None:
    """Each scalar of ``value`` as one sentence, after ``owner`` (the words of what holds it).
    An object in a list (``named``) is named by its naming field where it has one; its
    scalars are that row's ``found`` fields."""
    if isinstance(value, dict):
        name = _name_of(value) if named else None
        prefix = name if name is not None else owner
        for key, field in value.items():
            words = _key_words(str(key))
            if isinstance(field, (dict, list)):
                _walk(field, _join(prefix, words), out, found, named=False)
            elif name is not None and field == name:
                out.append(_sentence(_join(owner, words), _scalar(field, words)))
            else:
                given = _scalar(field, words)
                if name is not None:
                    found.append(Field(name, words, given))
                out.append(_sentence(_join(prefix, words), given))
    elif isinstance(value, list):
        if all(not isinstance(item, (dict, list)) for item in value):
            out.append(_sentence(owner, ", ".join(_scalar(item, owner) for item in value)
                                 or "none"))
        else:
            for item in value:
                _walk(item, owner, out, found, named=True)
            out.extend(_aggregates(owner, [_row(item) for item in value
                                           if isinstance(item, dict)]))
    else:
        out.append(_sentence(owner, _scalar(value, owner)))


def _row(obj: dict[str, Any]) -> dict[str, str]:
    """An object's scalar fields as a table's row: its fields' words, their values as read."""
    out = {}
    for key, field in obj.items():
        if not isinstance(field, (dict, list)):
            words = _key_words(str(key))
            out[words] = _scalar(field, words)
    return out


def _aggregates(owner: str, rows: list[dict[str, str]]) -> list[str]:
    """What an answer works out of a list's rows, as sentences after them: how many rows there
    are ("hosts count: 5."), each amount column's total ("total amount: -$21.60.") and how many
    rows hold each value of a column of categories ("hosts status OK: 2 of 5.").

    Realistic answers from a tool's rows add them up ("your dining total is $106.75") and count
    them ("2 of the 5 hosts are OK"); the result, stated nowhere, halted them as a new figure
    (a blind probe: ``docs/results/structured-probe*.jsonl``). A wrong total or count is still
    a figure the data does not give. Only amounts are added (no names, years, dates, ports,
    temperatures or percentages), only short repeated values counted; the sentences name what
    they count, so an answer's "5 hosts" meets "hosts count: 5". A table's own total rows
    ("Subtotal", "Total") are neither counted nor added (an invoice's lines and its "Total"
    would add up to twice the bill)."""
    rows = [row for row in rows if not any(_TOTAL_ROW.match(v) for v in row.values())]
    if len(rows) < _AGGREGATE_ROWS:
        return []
    n = len(rows)
    out = [_sentence(_join(owner, "count"), str(n))]
    amounts: dict[str, list[tuple[dict[str, str], re.Match[str]]]] = {}
    categories: list[tuple[str, Counter[str]]] = []
    columns: dict[str, list[tuple[dict[str, str], str]]] = {}  # one pass: rows' keys may differ
    for row in rows:
        for key, v in row.items():
            if v not in ("", "none"):
                columns.setdefault(key, []).append((row, v))
    for column, values in columns.items():
        if len(values) < _AGGREGATE_ROWS:
            continue
        found = [(row, m) for row, v in values if (m := _AMOUNT.fullmatch(v)) is not None]
        if len(found) == len(values) and adds_up(column):
            amounts[column] = found
            continue
        counted = Counter(v for _, v in values)
        if len(counted) < len(values) and len(counted) <= _COUNT_VALUES:  # rows in groups
            categories.append((column, counted))
            if n >= _COUNT_ROWS and all(len(v.split()) <= _COUNT_WORDS for v in counted):
                out.extend(_sentence(_join(owner, f"{column} {value}"), f"{k} of {n}")
                           for value, k in counted.items())
    for column, found in amounts.items():
        places = max(len(m["number"].partition(".")[2]) for _, m in found)
        total = _total([m for _, m in found], places)
        if total is not None:
            out.append(_sentence(_join(owner, f"total {column}"), total))
        for category, counted in categories:  # "Dining total amount: -$106.75."
            out.extend(_sentence(_join(owner, f"{value} total {column}"), total)
                       for value, k in counted.items() if k > 1 and (total := _total(
                           [m for row, m in found if row.get(category) == value], places))
                       is not None)
    return out


def adds_up(column: str) -> bool:
    """Whether a column of numbers, by its name, holds amounts an answer adds up or takes
    apart (not names, ids, years, ports, temperatures, ratings, percentages, bounds)."""
    return column.lower().rsplit(" ", 1)[-1] not in _NO_TOTAL


def column_use(column: str) -> str:
    """What an answer works out of a column of numbers, by its name: "amount" (sums,
    differences, shares, averages), "measure" (a temperature, a score, a high: differences and
    averages) or "" (nothing: names, ids, years, ports, percentages)."""
    if adds_up(column):
        return "amount"
    return "measure" if column.lower().rsplit(" ", 1)[-1] in _MEASURED else ""


def _total(amounts: list[re.Match[str]], places: int) -> str | None:
    """The sum of amounts of one currency (or none), to ``places`` (their column's most),
    written as they are: "-$21.60"; None for amounts of several currencies."""
    if len({m["currency"] for m in amounts}) != 1:
        return None
    if amounts[0]["currency"] and places:
        places = max(places, 2)  # "$18.50", not "$18.5"
    total = sum((-1 if m["sign"] or m["minus"] else 1) * Decimal(m["number"].replace(",", ""))
                for m in amounts)
    sign = "-" if total < 0 else ""
    return f"{sign}{amounts[0]['currency']}{abs(total):.{places}f}"


def _name_of(obj: dict[str, Any]) -> str | None:
    for key, value in obj.items():
        words = _key_words(str(key)).lower().split()
        if (words and words[-1] in _NAMING and isinstance(value, (str, int))
                and not isinstance(value, bool) and str(value).strip()):
            return str(value).strip()
    return None


def _key_words(key: str) -> str:
    """A field's name as words: "delay_minutes" and "delayMinutes" are "delay minutes", a
    header's "Produced (kWh)" is "produced kwh" (its unit last, as :func:`_sentence` reads
    it)."""
    unit = _UNIT_IN_BRACKETS.fullmatch(key.strip()) if key.rstrip().endswith(")") else None
    symbol = unit.group(2).strip().lower().lstrip("°") if unit is not None else ""
    if unit is not None and symbol in (*_UNITS, "c", "f"):
        return f"{_key_words(unit.group(1).strip())} {symbol}"
    if _CAMEL.search(key):
        key = _CAMEL.sub(" ", key).lower()
    return _SEPARATORS.sub(" ", key).strip()


def _join(owner: str, words: str) -> str:
    """``words`` after what holds them, of which the last :data:`_OWNER_CHARS` (from a word's
    start): a path 50 keys deep, or a row's long first cell, repeated in each of its fields'
    sentences built a reading hundreds of times its text before :func:`read` could refuse it
    (238 MB for 64 KB of JSON: a review)."""
    if len(owner) > _OWNER_CHARS:
        tail = owner[-_OWNER_CHARS:]
        owner = tail.partition(" ")[2] or tail
    return f"{owner} {words}".strip()


_OWNER_CHARS = 120


def _scalar(value: Any, field: str) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None:
        return "none"
    return _value(" ".join(str(value).split()), field)


def _timestamps(value: str) -> str:
    """An ISO timestamp as its date and its time of day, as the API's reader says them
    ("2024-05-15T14:17:00-04:00" is "2024-05-15 14:17": "2:17 pm on May 15"); the offset
    goes, the time is the one written."""
    return _TIMESTAMP.sub(r"\1 \2", value) if "T" in value else value


def _percent(value: str, field: str) -> str:
    """A bare number in a field named as a percentage, with its "%"."""
    if _NUMBER.fullmatch(value) and not _PERCENT_WORDS.isdisjoint(
            field.lower().replace("%", " % ").split()):
        return value + "%"
    return value


def _value(value: str, field: str) -> str:
    """A table's or a record's value: "true"/"false" (or "Yes"/"No") as "yes"/"no", a
    percentage's "%"."""
    lowered = value.lower()
    if lowered in ("true", "false", "yes", "no"):
        return "yes" if lowered in ("true", "yes") else "no"
    return _percent(_timestamps(value), field)


def _sentence(subject: str, value: str) -> str:
    """``subject: value.``, closed (a paragraph of its own: :func:`_block`; its names keep their
    case, "db-02", "iPhone"); a unit its field's name ends in goes with its number."""
    words = subject.rsplit(" ", 1)
    unit = _UNITS.get(words[-1].lower()) if len(words) == 2 else None
    before = words[0].rsplit(" ", 1)[-1].lower() if len(words) == 2 else ""
    if words[-1].lower() in ("c", "f") and before in _TEMPERATURE_WORDS:
        unit = "{} °" + words[-1].upper()
    elif words[-1].lower() == "min" and before in _DURATION_WORDS:
        unit = "{} minutes"
    elif words[-1].lower() == "s" and before in _DURATION_WORDS:
        unit = "{} seconds"
    if unit is not None and _NUMBER.fullmatch(value):
        sign, number = ("-", value[1:]) if value.startswith("-") else ("", value)
        subject, value = words[0], sign + unit.format(number)
    text = f"{subject}: {value}" if subject else value
    return text if text.endswith(_TERMINAL) else text + "."


def _csv(text: str) -> list[list[str]] | None:
    """A CSV (or tab-separated) text: a header of short cells, every row as wide."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < _CSV_ROWS:
        return None
    delimiter = "\t" if "\t" in lines[0] else ","
    if delimiter not in lines[0]:
        return None
    try:
        rows = list(csv.reader(lines, delimiter=delimiter))
    except csv.Error:  # a quote opened and never closed runs past the module's cell limit
        return None  # (128 KiB): prose with a comma in its first line, no table (a review)
    width = len(rows[0])
    if width < 2 or any(len(row) != width for row in rows):
        return None
    if any(not cell.strip() or len(cell.split()) > _CSV_HEADER_WORDS or cell.strip()[-1] in "."
           or _PLAIN_FIGURE.fullmatch(cell.strip()) for cell in rows[0]):
        return None
    # A header names its columns, and some column below it is figures, or categories (one
    # word each, some of them the same: "web1,OK" "web2,DOWN" "db1,OK"): lines that merely
    # share their commas ("2 cups flour, sifted", "Paris, France") are no table.
    columns = [[row[k].strip() for row in rows] for k in range(width)]
    if not any(all(_FIGURE_CELL.fullmatch(cell) for cell in column[1:]) for column in columns) \
            and not (_heads(columns) and any(is_category_column(c[1:]) for c in columns)):
        return None
    return rows


def _heads(columns: list[list[str]]) -> bool:
    """Whether the first line is a header, not a row: some cell of it is shaped as no cell
    below it ("host" over "web1", "status" over "OK"). "web1, DOWN" over "web2, OK" (or "Mon,
    closed" over "Tue, open") is a list with no header, whose first line a table would lose."""
    return any(_shape(column[0]) not in {_shape(cell) for cell in column[1:]}
               and column[0].lower() not in {cell.lower() for cell in column[1:]}
               for column in columns)


def _shape(cell: str) -> str:
    """A cell's shape: its runs of capitals, small letters and digits ("web1" "a9", "DOWN" "A",
    "Closed" "Aa")."""
    return _SHAPE_RUN.sub(lambda run: "A" if run[0][0].isupper() else "a" if run[0][0].islower()
                          else "9", cell.strip())


_SHAPE_RUN = re.compile(r"[A-Z]+|[a-z]+|\d+")


def _table_sentences(header: list[str], rows: list[list[str]], found: list[Field]) -> list[str]:
    """Each cell as "<row's first cell> <column>: <value>." (a row of one cell as it is), and
    one of the row's ``found`` fields."""
    columns = [_key_words(h.strip()) for h in header]
    out: list[str] = []
    for row in rows:
        values = [c.strip() for c in row]
        if len(values) < 2:
            out.extend(_sentence("", c) for c in values if c)
            continue
        if len(columns) == 2 and columns[1].lower() in _GENERIC_VALUE:  # "| Spec | Value |"
            out.append(_sentence(values[0], _value(values[1], values[0])))
            continue
        for column, cell in zip(columns[1:], values[1:], strict=False):
            if cell:
                given = _value(cell, column)
                found.append(Field(values[0], column, given))
                out.append(_sentence(_join(values[0], column), given))
    if len(columns) == 2 and columns[1].lower() in _GENERIC_VALUE:
        return out
    return out + _aggregates("", [{column: _value(cell.strip(), column)
                                   for column, cell in zip(columns, row, strict=False)}
                                  for row in rows if len(row) >= 2])


def cells(line: str) -> list[str]:
    """A markdown table row's cells."""
    return line.strip().strip("|").split("|")


def _tables_and_records(lines: list[str], found: list[Field]) -> list[str] | None:
    """The lines with their markdown tables and "key: value" records as sentences; None where
    there are neither. Each line is read as a field once."""
    out: list[str] = []
    changed = False
    fields = [_field(line) for line in lines]
    speakers = _speakers(fields)
    i = 0
    while i < len(lines):
        if (_TABLE_ROW.match(lines[i]) and i + 1 < len(lines)
                and _TABLE_RULE.match(lines[i + 1])):
            end = i + 2
            while end < len(lines) and _TABLE_ROW.match(lines[end]):
                end += 1
            out.extend(("", _block(_table_sentences(cells(lines[i]),
                                                    [cells(r) for r in lines[i + 2:end]],
                                                    found)), ""))
            changed, i = True, end
            continue
        end = i
        while end < len(lines) and fields[end] is not None:
            end += 1
        block = [m for m in fields[i:end] if m is not None]
        if _is_record(block, speakers):
            out.extend(("", _block(_record_sentences(block, found)), ""))
            changed, i = True, end
            continue
        # a block that is no record is kept whole (read once: not again from each line)
        out.extend(lines[i:max(end, i + 1)])
        i = max(end, i + 1)
    return out if changed else None


def _field(line: str) -> re.Match[str] | None:
    match = _FIELD.match(line)
    if match is None or len(match.group("key").split()) > _KEY_WORDS:
        return None
    return match


def _speakers(fields: list[re.Match[str] | None]) -> frozenset[str]:
    """The keys of top-level "key: value" lines that recur in the text: a transcript's
    speakers ("Project Manager: ..."), whose turns are no record's fields however they fall."""
    keys = Counter(m.group("key").lower() for m in fields
                   if m is not None and not m.group("dash") and not m.group("indent")
                   and m.group("value"))
    return frozenset(k for k, n in keys.items() if n > 1)


def _is_record(fields: list[re.Match[str]], speakers: frozenset[str]) -> bool:
    """Enough fields with values, most of them short (a list of "Mei: restore the rate limit
    and add a test." actions is sentences already), none repeated, or repeated only by the
    items of a list; none a speaker's turn."""
    valued = [m for m in fields if m.group("value")]
    keys = [m.group("key").lower() for m in valued]
    short = sum(len(m.group("value").split()) <= _SHORT_VALUE_WORDS for m in valued)
    return (len(keys) >= _RECORD_FIELDS and 2 * short > len(keys)
            and speakers.isdisjoint(keys)
            and (len(set(keys)) == len(keys) or any(m.group("dash") for m in valued)))


def _record_sentences(fields: list[re.Match[str]], found: list[Field]) -> list[str]:
    """Each "key: value" line as a sentence, after what holds it: the section a "key:" line
    opens ("thresholds:", then "  disk_pct: 90"), or the list item a "- name: db-01" line
    opens (then "    disk_pct: 94"); a list's items are a table's rows (:func:`_aggregates`,
    after the record)."""
    out: list[str] = []
    # (indent, words, the row of a list's item) of the open sections and items
    owners: list[tuple[int, str, dict[str, str] | None]] = []
    lists: dict[str, list[dict[str, str]]] = {}  # a list's items' rows, by what holds it
    for match in fields:
        indent = len(match.group("indent"))
        while owners and owners[-1][0] >= indent + (1 if match.group("dash") else 0):
            owners.pop()
        words = _key_words(match.group("key"))
        raw = match.group("value")
        owner, row = (owners[-1][1], owners[-1][2]) if owners else ("", None)
        value = _value(raw.strip(), words) if raw is not None else None
        if match.group("dash"):
            item = {} if value is None else {words: value}
            lists.setdefault(owner, []).append(item)
            owners.append((indent + 1, raw.strip() if raw else words, item))
            if value is not None:
                out.append(_sentence(words, value))
        elif value is None:
            owners.append((indent, _join(owner, words), None))
        else:
            if row is not None:
                row[words] = value
                found.append(Field(owners[-1][1], words, value))
            out.append(_sentence(_join(owner, words), value))
    return out + [s for owner, rows in lists.items() for s in _aggregates(owner, rows)]
