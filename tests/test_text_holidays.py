"""Holidays on a fixed date: an answer's "Boxing Day" is its evidence's "26 December", and its
"24 December" the evidence's "Christmas Eve" (a blind probe of festive notices halted 13 of 32
faithful answers that named the other); a holiday on another date than the evidence's is a
changed date. Through a real server with the shipped detector as well."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream_guard.evidence.premise import EvidenceSentence, SentenceIndex
from stream_guard.scores import Evidence
from stream_guard.text.holidays import holiday_keys, holiday_words_known, with_dates
from stream_guard.text.quantities import quantity_conflict, quantity_index
from stream_guard.text.terms import term_keys, terms
from tests.conftest import halt_on_detector, stream_on_detector


def test_a_holiday_is_read_with_its_date() -> None:
    assert with_dates("Closed on Boxing Day and New Year’s Day; Halloween trail.") == (
        "Closed on Boxing Day (26 December) and New Year's Day (1 January); Halloween "
        "(31 October) trail.")


@pytest.mark.parametrize("text", [
    "Our Christmas opening hours are below.",  # "Christmas" alone is as often the season
    "Closed on Easter Monday and Thanksgiving.",  # holidays that move
    "Real Christmas trees can be left out.",
    # a review: a date of its own is the day meant; another calendar's or country's day; a
    # reference point; a film
    "Remembrance Day service: Sunday 10 November.",
    "The New Year's Day bank holiday is on Monday 2 January.",
    "Orthodox Christmas Day is celebrated by our Kyiv team.",
    "Order by the 18th to arrive before Christmas Day.",
    "Our offices close on Independence Day.",
    "We're closed on Christmas Eve Eve for a staff party.",
])
def test_no_season_and_no_moving_holiday_is_a_date(text: str) -> None:
    assert with_dates(text) == text and not holiday_keys(text)


def test_a_named_holiday_is_read_where_its_sentence_gives_no_date() -> None:
    assert "(26 December)" in with_dates("Closed on Boxing Day. Open again on 27 December.")


def test_an_evidence_sentence_holds_the_words_of_its_dates_holidays_and_the_reverse() -> None:
    assert {"boxing"} <= holiday_keys("We are closed on 25 and 26 December.")
    assert {"christma"} <= holiday_keys("No service on December 25.")
    assert term_keys("24 December") <= holiday_keys("Christmas Eve 9am–1pm; closed after.")
    # not the words every day's name has: "a day ahead" is drawn to no dated sentence
    assert not holiday_keys("Price list (from 1 March).") & term_keys("day st saint")


def test_a_windows_holiday_is_known_whole_where_the_evidence_gives_its_date() -> None:
    evidence = term_keys("We are closed on 25 and 26 December.") | holiday_keys(
        "We are closed on 25 and 26 December.")
    assert holiday_words_known("Closed on Boxing Day.", evidence) == term_keys("Boxing Day")
    assert not holiday_words_known("Closed on Christmas Eve.", evidence)


@pytest.mark.parametrize(("evidence", "window", "conflict"), [
    ("We close at 4pm on 24 December and are closed on 25 and 26 December.",
     "It is closed on Boxing Day as well as Christmas Day.", False),
    ("Christmas Eve 9am–1pm; Christmas Day closed; Boxing Day 10am–4pm.",
     "On 24 December it's open 9am until 1pm.", False),
    ("Branches will close at 1 p.m. on Tuesday, December 24.",
     "Branches close at 1 p.m. on Christmas Day.", True),
    ("The Spooky Trail runs on 31 October from 4pm to 8pm.",
     "The Spooky Trail is on Bonfire Night, 4pm to 8pm.", True),
    ("Fares are free on December 31 from 6 p.m.", "Fares are free from 6 p.m. on New Year's Day.",
     True),
])
def test_a_holiday_is_its_date_to_the_figures(evidence: str, window: str,
                                              conflict: bool) -> None:
    assert quantity_conflict(window, quantity_index(evidence)) is conflict


def test_the_premise_finds_the_sentence_with_the_holidays_date() -> None:
    passage = Evidence(id="p", text="", score=1.0, source="context")
    sentences = [EvidenceSentence.of(text, passage) for text in (
        "A dozen red roses costs £45.", "Delivery is £6.95.",
        "Order by 12 February for guaranteed delivery on 14 February.")]
    premise = SentenceIndex(sentences).focus(terms("Order early for Valentine's Day."))
    assert premise.sentences[0].text.startswith("Order by 12 February")


_PHARMACY = ("Greenway Pharmacy festive hours: Christmas Eve 9am–1pm; Christmas Day closed; "
             "Boxing Day 10am–4pm; New Year's Day closed. For urgent medicines when we are "
             "closed, call NHS 111.")


@pytest.mark.slow  # the shipped detector
@pytest.mark.parametrize("answer", [
    "On 24 December it's open 9am until 1pm.",
    "The pharmacy is closed on 25 December, so call NHS 111 for urgent medicines.",
])
async def test_a_faithful_dated_answer_does_not_halt(tmp_path: Path, model_cache: Path,
                                                     answer: str) -> None:
    """Both halted before (fused support 0.18 and 0.13: the date a new figure)."""
    frames = await stream_on_detector(tmp_path, model_cache, answer, [_PHARMACY])
    assert not [f for f in frames if f["type"] == "halt"]


@pytest.mark.slow  # the shipped detector
async def test_another_holidays_date_halts(tmp_path: Path, model_cache: Path) -> None:
    halt = await halt_on_detector(tmp_path, model_cache,
                                  "On 23 December it's open 9am until 1pm.", [_PHARMACY])
    assert halt["at"] == 0 and halt["reason"] == "contradicted"
