"""Another row's value: an answer that names one row of a tool's list and gives another's."""

from __future__ import annotations

import json

import pytest

from stream_guard.evidence.structured import read
from stream_guard.text.rows import RowIndex, value_tokens
from stream_guard.text.terms import terms
from tests.test_evidence_structured import HOSTS

FLIGHTS = json.dumps({"flights": [
    {"flight_number": "BA1442", "gate": "A10", "departs": "11:20", "delay_minutes": 0},
    {"flight_number": "BA117", "gate": "B42", "departs": "12:05", "delay_minutes": 45}]})
HOURS = ("| Day | Opens | Closes |\n|---|---|---|\n" + "".join(
    f"| {day} | 11:00 | {close} |\n" for day, close in (
        ("Monday", "21:30"), ("Tuesday", "21:30"), ("Wednesday", "21:30"),
        ("Thursday", "21:30"), ("Friday", "23:00"), ("Saturday", "23:00"))))
ITEMS = json.dumps({"items": [{"sku": "KB-87", "name": "Mechanical keyboard", "price_eur": 89.0},
                              {"sku": "MS-12", "name": "Wireless mouse", "price_eur": 24.5}]})
FLIGHT_KEYED = json.dumps({"flights": [{"flight": "LH 401", "gate": "Z25"},
                                       {"flight": "LH 403", "gate": "Z18"}]})
BILL = ("service,usage,cost_usd\nAmazon EC2,8760 hours,3102.48\nAmazon S3,48500 GB,1115.50\n"
        "Amazon CloudFront,22000 GB,1870.00\n")

DATED = json.dumps({"forecast": [
    {"date": "2024-06-16", "precip_prob_pct": 70, "condition": "Light rain"},
    {"date": "2024-06-17", "precip_prob_pct": 40, "condition": "Cloudy"}]})
YEARS = json.dumps({"history": [{"date": "2023-06-17", "precip_prob_pct": 70},
                                {"date": "2024-06-17", "precip_prob_pct": 40}]})


def _other_row(context: str, window: str) -> bool:
    index = RowIndex(read(context).fields)
    return index.other_row(frozenset(t.key for t in terms(window)), window)


@pytest.mark.parametrize(("context", "window", "other"), [
    (FLIGHTS, "BA117 leaves from gate A10.", True),
    (FLIGHTS, "BA117 departs at 11:20 am.", True),
    (HOURS, "On Friday it closes at 9:30 pm.", True),  # every other weekday's hour
    (BILL, "Amazon S3 cost $1,870 this month.", True),
    # its own values, however written
    (FLIGHTS, "BA117 leaves from gate B42 at 12:05 pm, 45 minutes late.", False),
    (HOURS, "On Friday it's open until 11 pm.", False),
    (BILL, "Amazon S3 came to $1,115.50.", False),
    # two rows named (a comparison), or a row named only in part, or none
    (FLIGHTS, "BA1442 leaves from A10 and BA117 from B42.", False),
    (BILL, "After Amazon EC2, CloudFront ($1,870.00) and S3 are the biggest.", False),
    (FLIGHTS, "It leaves from gate A10.", False),
    (HOSTS, "db-01 is critical, unlike the web hosts at 92.4% and 88.1% CPU.", False),
    (HOSTS, "web-03 is at 92.4% CPU.", True),  # web-01's: the words they share name neither
    # a figure no row holds, or the named row's own value beside the other's
    (FLIGHTS, "BA117 leaves from gate C7.", False),
    (FLIGHTS, "BA117 was moved from gate A10 to B42.", False),
    # rows named by a hyphenated code, as a window's terms read it (a probe: "MS-12" never
    # named its row), and a list of flights keyed "flight"
    (ITEMS, "The MS-12 costs €89.00.", True),
    (ITEMS, "The MS-12 costs €24.50.", False),
    (FLIGHT_KEYED, "LH 401 departs from gate Z18.", True),
    (FLIGHT_KEYED, "LH 401 departs from gate Z25.", False),
    # rows named by a date, named by a window without its year (a probe: "On June 17" named
    # no row of a forecast keyed "2024-06-17"); two years' same day is a name of two rows
    (DATED, "On June 17 there is a 70% chance of rain.", True),
    (DATED, "On 17 June 2024 the chance of rain is 70%.", True),
    (DATED, "On June 17 there is a 40% chance of rain.", False),
    (DATED, "Rain is likely on June 16 (70%) and less so on June 17 (40%).", False),
    (DATED, "The 17th has a 70% chance of rain.", False),
    (YEARS, "On June 17 there was a 70% chance of rain.", False),
])
def test_a_value_of_another_row(context: str, window: str, other: bool) -> None:
    assert _other_row(context, window) is other


STATUS_ROWS = (("web1", "OK"), ("web2", "DOWN"), ("db1", "OK"), ("db2", "DOWN"),
               ("cache1", "DOWN"))
STATUSES = {
    "json": json.dumps({"hosts": [{"name": h, "status": v} for h, v in STATUS_ROWS]}),
    "csv": "hostname,status\n" + "".join(f"{h},{v}\n" for h, v in STATUS_ROWS),
    "markdown": "| host | status |\n|---|---|\n" + "".join(
        f"| {h} | {v} |\n" for h, v in STATUS_ROWS)}


@pytest.mark.parametrize("shape", sorted(STATUSES))
@pytest.mark.parametrize(("window", "other"), [
    ("web1 is DOWN.", True),  # web2's status: a review found it passing (a word, no code)
    ("web1 has been down since Tuesday.", True),
    ("`web1` is DOWN.", True),  # marks closing the name (a probe: they passed)
    ("**web1** is DOWN.", True),
    ('"web1" is DOWN.', True),
    ("- **web1**: DOWN", True),
    ("`web1` is OK.", False),
    ("web1 is OK.", False),
    ("web2 is down.", False),
    ("web1 was down yesterday but is OK now.", False),  # its own status said too
    ("web1 is not down.", False),
    ("web1 is OK, unlike web2, which is DOWN.", False),
    ("web2 and db2 are DOWN.", False),  # two rows
    ("It is DOWN.", False),  # none named
])
def test_a_category_of_another_row(shape: str, window: str, other: bool) -> None:
    """A status, a tier: a column of words of a few values, some rows sharing one. A CSV of
    such columns is a table too (it had to have a column of figures)."""
    assert _other_row(STATUSES[shape], window) is other


@pytest.mark.parametrize("shape", sorted(STATUSES))
@pytest.mark.parametrize(("window", "wrong"), [
    ("3 of the 5 hosts are OK.", True),  # 2 are: a review found it passing
    ("Three out of five hosts are OK.", True),
    ("All 5 hosts are OK.", True),
    ("2 of the 5 hosts are OK.", False),
    ("3 of the 5 hosts are DOWN.", False),
    ("3 of the 5 hosts are not OK.", False),  # counts the others
    ("3 of the 4 disks are OK.", False),  # another list's count
    ("All hosts are OK.", False),  # a column's name may be two lists': not judged
    ("2 of the 5 hosts are OK and 3 are DOWN.", False),
    ("Not quite: 3 of the 5 hosts answered. web2 is DOWN.", False),  # a count, then a status
    ("At least 1 of the 5 hosts is DOWN.", False),  # a bound
    ("web2 has been DOWN since 4/5.", False),  # a date
    ("web2 is DOWN as 1 of the 5 hosts behind the balancer.", False),  # a row among others
    ("Only 3 of the 5 hosts are OK.", True),
])
def test_a_category_counted_otherwise(shape: str, window: str, wrong: bool) -> None:
    index = RowIndex(read(STATUSES[shape]).fields)
    assert index.miscounts(window) is wrong
    assert index.contradicts(frozenset(t.key for t in terms(window)), window) is wrong


def test_a_category_that_is_a_word_of_rows_names() -> None:
    """A role of "web" for web-01 and web-02: the word names rows by kind, and a row's own name
    does not say its role."""
    from tests.test_evidence_structured import HOSTS

    assert _other_row(HOSTS, "web-02 is CRITICAL.")  # db-01's status
    assert not _other_row(HOSTS, "cache-01 sits behind the web hosts.")
    assert not _other_row(HOSTS, "web-02 is OK.")


USERS = json.dumps({"users": [{"name": n, "country": c, "plan": plan} for n, c, plan in (
    ("Priya Shah", "IN", "pro"), ("Hans Weber", "DE", "free"), ("Maria Rossi", "IT", "pro"),
    ("John Smith", "US", "team"), ("Emily Brown", "US", "team"), ("Raj Patel", "IN", "free"))]})
CLASSES = json.dumps({"classes": [{"class": c, "day": d} for c, d in (
    ("Yoga", "Tuesday"), ("Pilates", "Sunday"), ("Spin", "Tuesday"), ("Boxing", "Sunday"))]})


@pytest.mark.parametrize(("context", "window", "other"), [
    # a category word that is a word of speech, not said of the row (a review of the first
    # version: each halted)
    (USERS, "Hans Weber signed up in March.", False),
    (USERS, "John Smith's invoice is in your inbox.", False),
    (USERS, "Raj Patel asked us about an invoice last week.", False),
    (USERS, "Maria Rossi can log in with her email address.", False),
    (USERS, "Maria Rossi is in Rome this week.", False),
    (STATUSES["json"], "It's OK to restart web1 now.", False),
    (STATUSES["json"], "web2 needs its backups set up again.", False),
    (CLASSES, "Yoga starts at 6 pm; book your spot by Sunday.", False),
    # ... and said of it
    (USERS, "Hans Weber is on the pro plan.", False),  # "pro" not right after the verb
    (USERS, "Hans Weber (pro) asked about invoices.", True),
    (CLASSES, "Yoga is on Sunday.", False),  # "on": a preposition between
    (STATUSES["json"], "web1 (DOWN) needs a look.", True),
    # a second review: a possessive, "has" or "as" before a noun, a time after a word of speech
    (USERS, "Priya Shah's team has grown to 12 people.", False),
    (USERS, "Hans Weber, as team lead, can add seats.", False),
    (USERS, "Hans Weber has team experience from his last job.", False),
    (USERS, "Hans Weber is in today.", False),
])
def test_a_category_said_of_its_row_only(context: str, window: str, other: bool) -> None:
    assert _other_row(context, window) is other


def test_a_row_name_is_a_whole_word_and_marks_after_it_cost_no_time() -> None:
    """Room 1 is not suite 41's; a run of marks after a name made the pattern backtrack for
    seconds (a review), with the server's loop: these windows must finish at once."""
    rooms = json.dumps({"rooms": [{"room": f"Room {n}", "state": s} for n, s in (
        (1, "ready"), (2, "dirty"), (3, "ready"), (4, "dirty"))]})
    assert not _other_row(rooms, "Room 1 is ready; suite 41 is dirty.")
    index = RowIndex(read(STATUSES["json"]).fields)
    for mark in ("- ", ": ", "( ", "\u2014 "):
        window = "web1 " + mark * 200 + "92% load"
        assert not index.contradicts(frozenset(t.key for t in terms(window)), window)


@pytest.mark.parametrize("text", [
    "Mon, closed\nTue, open\nWed, open\nThu, open\n",  # no header: its first line is a row
    "web1, DOWN\nweb2, OK\nweb3, OK\ndb1, DEGRADED\n",
    "Austin, TX\nDallas, TX\nHouston, TX\nBoston, MA\n",
    "Springfield, IL\nChicago, IL\nPeoria, IL\n",
    "Attendees\nAna, Ben, Chloe\nDan, Ben, Eve\nFay, Gus, Eve\n",
])
def test_lines_of_commas_with_no_header_stay_prose(text: str) -> None:
    assert not read(text).fields


def test_a_column_of_answers_or_of_distinct_words_is_no_category() -> None:
    backups = json.dumps({"hosts": [{"name": h, "backed_up": b} for h, b in (
        ("web1", "yes"), ("web2", "no"), ("db1", "yes"))]})
    assert not _other_row(backups, "Yes, web2 is fine.")
    recipe = "Ingredients,how\nflour,sifted\nsugar,packed\nbutter,softened\n"
    assert not read(recipe).fields  # no word said twice: commas, not a table


CALENDAR = json.dumps({"events": [
    {"title": "Standup", "start": "09:30", "end": "09:45"},
    {"title": "Lunch", "start": "12:30", "end": "13:30"},
    {"title": "1:1 with Priya", "start": "14:00", "end": "14:30"}]})
PLANS = ("| Plan | Price | Seats |\n|---|---|---|\n| Starter | $19 | 5 |\n| Business | $49 | 25 |\n"
         "| Enterprise | $129 | 100 |")
FORECAST = json.dumps({"days": [{"day": d, "low_c": low, "rain_pct": rain} for d, low, rain in (
    ("Monday", 11, 10), ("Tuesday", 13, 60), ("Wednesday", 15, 20))]})
ORDER = json.dumps({"items": [{"name": "Office Chair", "quantity": 2, "ships": "2024-05-15"},
                              {"name": "Desk Lamp", "quantity": 15, "ships": "2024-05-20"}]})


@pytest.mark.parametrize(("context", "window"), [
    # a window that relates its row to others or to a bound (an adversarial review)
    (CALENDAR, "After lunch you're free until 2 pm."),
    (CALENDAR, "Your next meeting after lunch is at 2 pm."),
    (CALENDAR, "Lunch runs until 1:30, leaving you 30 minutes before your 2 pm meeting."),
    (HOURS, "Except on Friday, it closes at 9:30 pm."),
    (PLANS, "With 25 users, Starter would not be enough."),
    (PLANS, "Enterprise is more than double the price of the $49 plan."),
    (PLANS, "Business is the cheapest plan with 100 seats or fewer."),
    (ORDER, "The Office Chair ships on May 15."),  # a day of a month, not the lamp's 15
    (FORECAST, "Expect lows of 11 to 15°C, with Tuesday the rainiest at 60%."),
])
def test_a_faithful_window_relating_rows(context: str, window: str) -> None:
    assert not _other_row(context, window)


def test_the_same_rows_given_another_rows_value() -> None:
    assert _other_row(CALENDAR, "Lunch starts at 2 pm.")
    assert _other_row(PLANS, "Starter costs $49 a month.")
    assert _other_row(ORDER, "The Office Chair quantity is 15.")
    assert _other_row(FORECAST, "Tuesday will have a low of 15°C.")


def test_small_counts_and_prose_have_no_rows() -> None:
    """A whole number below 10 is any row's (a count, a rank); prose has no rows at all."""
    ranks = "| Team | Rank | Points |\n|---|---|---|\n| Ajax | 1 | 40 |\n| PSV | 2 | 38 |\n"
    assert not _other_row(ranks, "PSV is ranked 1 in the table.")
    assert _other_row(ranks, "PSV has 40 points.")
    assert not RowIndex(read("The Eiffel Tower is 330 metres tall.").fields)
    ids = json.dumps([{"id": 17, "price": "$45.10"}, {"id": 18, "price": "$12.99"},
                      {"id": 19, "price": "9" * 5000}])  # past int()'s digits: no crash
    assert not _other_row(ids, "Two of them cost $12.99 and 17 are in stock.")  # no name


def test_value_tokens_read_figures_as_the_evidence_writes_them() -> None:
    assert value_tokens("It leaves at 5 pm from gate A10, $1,870.00, 92.4%.") == [
        "17:00", "a10", "1870", "92.4%"]


SOLAR = ("| Month | Produced (kWh) | Exported (kWh) | Bill |\n|---|---:|---:|---:|\n"
         "| Jun 2024 | 812 | 341 | $41.20 |\n| Jul 2024 | 845 | 332 | $39.80 |\n"
         "| Aug 2024 | 778 | 290 | $44.10 |\n| Sep 2024 | 651 | 214 | $52.60 |\n")
READINGS = "\n".join(json.dumps({"sensor_id": "GH3", "ts": f"2024-04-14T{h:02d}:00:00Z",
                                 "temp_c": t, "battery_v": 3.7})
                     for h, t in ((6, 14.2), (8, 17.8), (10, 21.5), (12, 24.9)))


def _derived(context: str, window: str,
             previous: str = "") -> tuple[set[str], set[str], set[str]]:
    """What a window works out of ``context``'s rows, over all columns: as it is, only as a
    result, and shares in percent; written as plain numbers to two places (shares to one)."""
    from stream_guard.evidence.structured import column_use
    from stream_guard.text.quantities import quantity_index

    reading = read(context)
    index = RowIndex(reading.fields, column_use, quantity_index(reading.prose))
    works = index.derived(frozenset(t.key for t in terms(window)), window, previous)
    return ({f"{x:.2f}" for w in works for x in w.plain},
            {f"{x:.2f}" for w in works for x in w.cued},
            {f"{x:.1f}" for w in works for x in w.shares})


def test_what_a_window_works_out_of_the_rows_it_points_at() -> None:
    """A run of months named by their full names, a difference between two named rows, a
    row's share of its column, and a measure's average, as they are; a row's difference with
    any other row's, and its amounts of one unit against each other, only as a result; rows
    the window before points at count for a sum of all of them."""
    plain, _, shares = _derived(SOLAR, "Over June–August you generated 2,435 kWh.")
    assert {"2435.00", "811.67", "34.00", "125.10"} <= plain  # sums, averages, differences
    assert "26.3" in shares  # June's 812 of 3,086
    plain, cued, _ = _derived(SOLAR, "July exported 513 kWh less than it produced.")
    assert "513.00" in cued and "513.00" not in plain  # 845 - 332, one row's two amounts
    assert "194.00" in cued  # July's 845 against September's 651
    plain, _, _ = _derived(SOLAR, "Together they cost $80.90.", previous="June and August")
    assert "85.30" in plain and "80.90" not in plain  # 41.20 + 44.10; a wrong sum is not
    plain, _, _ = _derived(READINGS, "The average was 19.6°C.")
    assert "19.60" in plain  # a temperature is averaged, not added up
    plain, _, _ = _derived(READINGS, "The highest was 24.9°C.")
    assert "78.40" not in plain  # ... never its total


def test_no_derivation_without_rows_pointed_at_nor_of_small_whole_numbers() -> None:
    """Without a row named or quoted only a column's average is worked out; no whole number
    below 10 ever is (of a few rows some difference is 2), nor anything of ids or years; a
    negative amount keeps its sign."""
    plain, cued, shares = _derived(SOLAR, "You generated 2,435 kWh.")
    assert plain == {"771.50", "294.25", "44.42"} and not cued and not shares
    plain, cued, _ = _derived(FLIGHTS, "BA117 is 45 minutes late.")
    assert not {x for x in plain | cued if float(x) < 10 and float(x).is_integer()}
    assert not RowIndex(read(FLIGHTS).fields).derived(frozenset({"ba117"}), "BA117")
    spending = ("item,amount\nGroceries,-84.20\nRefund,45.00\nCafe,-12.40\n")
    plain, _, _ = _derived(spending, "Groceries, the refund and the cafe came to $51.60.")
    assert "51.60" in plain and "141.60" not in plain  # the net, not the sum of sizes
