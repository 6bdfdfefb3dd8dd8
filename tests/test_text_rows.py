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
BILL = ("service,usage,cost_usd\nAmazon EC2,8760 hours,3102.48\nAmazon S3,48500 GB,1115.50\n"
        "Amazon CloudFront,22000 GB,1870.00\n")


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
])
def test_a_value_of_another_row(context: str, window: str, other: bool) -> None:
    assert _other_row(context, window) is other


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
