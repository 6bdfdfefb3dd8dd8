"""A window that names a quarter of the year its evidence neither names nor implies
(text.quarters): what the evidence is read to name, the mark, and the halt through a real
server with the shipped detector."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream_guard.text import quarters
from stream_guard.text.quantities import merge_quantities, quantity_index
from stream_guard.text.quarters import (
    QUARTERS,
    UNDATED_QUARTERS,
    evidence_quarters,
    named_quarters,
    quarter_conflict,
)
from tests.conftest import halt_on_detector, random_texts, stream_on_detector

CALL = ("Same-store total variable gross profit per vehicle retailed increased $966 or 28% "
        "compared to the prior year. Adjusted SG&A as a percentage of gross profit was 64.4% in "
        "the third quarter of 2020, an 800 basis point improvement compared to the third "
        "quarter of 2019. We plan to build over 100 AutoNation USA pre-owned stores.")
GUIDANCE = ("We are anticipating home deliveries for the fourth quarter of 2020 to reach between "
            "2,400 and 2,600 units. We expect the average selling price for 2020 fourth quarter "
            "unit deliveries to again exceed $460,000.")


def conflicts(window: str, evidence: str) -> bool:
    return quarter_conflict(window, quantity_index(evidence))


@pytest.mark.parametrize(("text", "quarters"), [
    ("results for Q3 2020", {3}),
    ("the third-quarter margin and the fourth fiscal quarter", {3, 4}),
    ("3Q20 deliveries against 4Q'19", {3, 4}),
    ("the 2nd quarter", {2}),
    # no quarter of a year
    ("a quarter of the staff", set()),
    ("the first quarterly dividend", set()),
    ("see FAQ1", set()),
    ("four Q400 turboprops", set()),
    ("the closing quarter of 2023, Qtr 2 and 2023Q3", {2, 3, 4}),
    # in text that numbers questions or quartiles so, the words alone
    ("the lower quartile (Q1) of third-quarter waits", {3}),
])
def test_the_quarters_a_text_names(text: str, quarters: set[int]) -> None:
    assert named_quarters(text) == quarters


@pytest.mark.parametrize(("evidence", "quarters"), [
    ("Sales rose in the second and third quarters of 2024.", "23"),
    ("Sales rose in the first, second, and third quarters of 2024.", "123"),
    ("Third- and fourth-quarter 2024 sales rose.", "34"),
    ("Margins held from Q1 through Q3 2024.", "123"),
    ("Margins held in Q2-Q4 2024.", "234"),
    ("Sales for the first nine months of 2024 rose 4%, and 6% in Q3 2024.", "123"),
    ("Orders doubled in the second half of 2024 after a weak Q1 2024.", "134"),
    ("Deliveries for the final quarter of 2024 rose.", "4"),
    ("Q3FY24 revenue rose, as did 2Q24's.", "23"),
    # a survey's evidence: its Q-forms still name what it states
    ("Respondents to the Q3 2024 survey were more upbeat than in the fourth quarter of 2023.",
     "34"),
    # the quarter before a named one, or after it, in other words
    ("Third quarter 2020 margins fell, as in the prior quarter.", "23"),
    ("Q4 2020 revenue rose 3% sequentially.", "34"),
    ("Fourth quarter 2020 revenue rose, and we expect more next quarter.", "14"),
    # a quarter named by the months or the date it ends: any may be meant
    ("Revenue for the three months ended June 30 rose; the fourth quarter of 2024 looks weaker.",
     "1234"),
    ("Apple's fiscal Q1 2024 covers the October-to-December period.", "1234"),
    ("Year-to-date sales rose 5% after Q3 2024.", "1234"),
    # no quarter dated by its year: a game's, a moon's or a century's quarters
    ("Denver led by 9 after the third quarter and won in the fourth.", ""),
    ("The moon reaches its last quarter on Friday.", ""),
    ("The house was built in the first quarter of the 18th century.", ""),
    ("No quarter here.", ""),
])
def test_what_the_evidence_names_or_implies(evidence: str, quarters: str) -> None:
    assert evidence_quarters(evidence).get(QUARTERS, frozenset()) == frozenset(quarters)
    assert quantity_index(evidence).get(QUARTERS, frozenset()) == frozenset(quarters)


@pytest.mark.parametrize(("evidence", "quarters"), [
    ("Denver led by 9 after the third quarter and won in the fourth.", "3"),
    ("Q2 revenue rose 4% on the prior quarter.", "12"),
    ("Margins held through the second half.", "34"),
    ("No quarter here.", ""),
])
def test_quarters_named_without_a_year_are_kept_apart(evidence: str, quarters: str) -> None:
    """Text that dates no quarter marks nothing alone, but what it names is kept: beside
    another passage's dated quarters it is still evidence."""
    found = evidence_quarters(evidence)
    assert QUARTERS not in found
    assert found.get(UNDATED_QUARTERS, frozenset()) == frozenset(quarters)


def test_a_collection_passage_without_a_year_still_names_its_quarter() -> None:
    """A collection's passages are indexed one by one and merged: the second quarter one of
    them names is the evidence's as much as the dated third quarter of another."""
    merged = merge_quantities(quantity_index("Q2 revenue rose 4% to $310 million."),
                              quantity_index("Revenue for the third quarter of 2020 fell."))
    assert not quarter_conflict("Revenue rose in the second quarter.", merged)
    assert not quarter_conflict("Revenue fell in Q3 2020.", merged)
    assert quarter_conflict("Revenue rose in the fourth quarter.", merged)
    # undated passages alone never mark
    assert not quarter_conflict("Revenue rose in the fourth quarter.",
                                quantity_index("Q2 revenue rose 4% to $310 million."))


@pytest.mark.parametrize("window", [
    "AutoNation reported strong financial results for Q4 2020, with improved adjusted SG&A.",
    "Home deliveries for 1Q 2020 are predicted to hit between 2,400 and 2,600 units.",
    "The average selling price for second-quarter deliveries should exceed $460,000.",
])
def test_a_quarter_the_evidence_does_not_name_is_marked(window: str) -> None:
    assert conflicts(window, CALL if "AutoNation" in window else GUIDANCE)


@pytest.mark.parametrize(("window", "evidence"), [
    ("AutoNation reported strong results for Q3 2020.", CALL),
    ("Home deliveries for 4Q20 should reach 2,400 to 2,600 units.", GUIDANCE),
    # the evidence names no quarter of a year: nothing to read the window's against
    ("Deliveries rose in the third quarter.", "Deliveries rose 12% this year."),
    ("Margins improved in Q3.", "Margins improved in the second half of the year."),
    ("Murray scored 18 in the second quarter.", "Murray scored 18 in the third quarter."),
    ("Second-quarter revenue rose, as it did in Q1.",
     "Revenue rose in the first two quarters of 2024."),
    # Q1 and Q2 of a survey are its questions
    ("In the Q3 2024 survey, 41% answered yes to Q2.", "In the third quarter 2024 survey, 41% "
     "said yes to the second question."),
])
def test_a_quarter_it_names_or_implies_is_not(window: str, evidence: str) -> None:
    assert not conflicts(window, evidence)


def test_no_text_of_quarters_breaks_the_check() -> None:
    """Random runs of the check's own words."""
    pieces = ("Q3", "3Q", "third", "quarter", "quarters", "and", "through", "-", "first",
              "nine", "months", "half", "prior", "next", "ended", "fiscal", ",", "2020", "4Q'20")
    for evidence, window in random_texts(pieces, seed=60):
        conflicts(window, evidence)


def _read_whole(text: str) -> dict[str, frozenset[str]]:
    """The reading without the gate on what it needs (``quarters._may_name_quarters``)."""
    found = quarters._implied(text)
    key = QUARTERS if quarters._DATED.search(text) else UNDATED_QUARTERS
    return {key: frozenset(str(q) for q in found)} if found else {}


def test_the_gate_on_what_a_reading_needs_changes_no_reading() -> None:
    """Random runs of every reading's own words and forms, glued and apart, read the same
    with and without the gate; plain prose is gated out."""
    pieces = ("Q3", "q1", "3Q", "4q", "Qtr", "2T24", "1H", "h2", "second", "half", "third",
              "quarter", "QUARTERS", "first", "nine", "months", "ended", "Year", "to", "date",
              "YTD", "2020", "March", "Oct", "-", "through", "Dec", "prior", "next", "sales",
              "the", "every", "consecutive", "June", "ago", "FY24", "may", ",", "1", "4")
    for first, second in random_texts(pieces, seed=62):
        for text in (first, second, first.replace(" ", ""), second.replace(" ", "-")):
            assert evidence_quarters(text) == _read_whole(text), text
    assert not quarters._may_name_quarters("The board met on Tuesday and approved it. " * 50)


def test_a_long_text_is_read_in_linear_time() -> None:
    """A list of ordinals with no "quarters" after it must not backtrack."""
    assert evidence_quarters("Q3 2024. " + "first, " * 20_000 + "second half") == {
        QUARTERS: frozenset("34")}
    assert not conflicts("Sales rose in Q3.", "Q3 2024 " + "third and " * 20_000 + "quarter")


async def test_another_quarter_halts_on_the_default_detector(
        tmp_path: Path, model_cache: Path) -> None:
    """The detector's pair scored it 0.48 and the fused support 0.25, over the threshold of
    0.18, with nothing of the window contradicted: the quarter was one more detail."""
    halt = await halt_on_detector(
        tmp_path, model_cache, "AutoNation reported strong financial results for Q4 2020, "
        "with improved adjusted SG&A.", [CALL])
    assert halt["reason"] == "contradicted"


async def test_its_faithful_version_passes(tmp_path: Path, model_cache: Path) -> None:
    frames = await stream_on_detector(
        tmp_path, model_cache, "AutoNation reported strong financial results for Q3 2020, "
        "with improved adjusted SG&A.", [CALL])
    assert not [f for f in frames if f["type"] == "halt"]
