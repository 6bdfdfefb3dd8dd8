"""A figure said to move the other way from the evidence: the changes read, the conflict, what
is left alone, and the halt through a real server with the shipped detector (which scores
"decreased by 17%" against "up 17%" as supported)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stream_guard.scoring.fusion import signals
from stream_guard.text.direction import (
    FELL,
    FROM_TO,
    ROSE,
    UNPLACED,
    changes,
    moved_otherwise,
)
from stream_guard.text.quantities import quantity_index
from stream_guard.text.terms import term_keys, terms
from tests.conftest import halt_on_detector

EARNINGS = ("Third quarter adjusted earnings per share was $0.34, up 17% from $0.29 in the third "
            "quarter of last year. Net sales fell by $3 million to $441 million. Gross margin "
            "saw a 70 basis points increase. Operating costs rose to 12% of sales.")


@pytest.mark.parametrize(("text", "rose", "fell"), [
    ("Sales rose 4.2 percent.", {"4.2%"}, set()),
    ("Revenue was up by $5 million.", {"$5M"}, set()),
    ("Margin dropped nearly 3 points.", set(), {"3pt"}),
    ("a 12% decline in visits", set(), {"12%"}),
    ("an increase of 250 basis points", {"250bp"}, set()),
    ("Costs grew 9 per cent while prices slipped 0.4%.", {"9%"}, {"0.4%"}),
    ("a $3 million cut", set(), {"$3M"}),
    ("LDL rose slightly, by 3%, and the margin widened 120 basis points.", {"3%", "120bp"},
     set()),
    ("The margin narrowed by 40 basis points.", set(), {"40bp"}),
])
def test_a_change_and_its_amount_are_read_in_each_shape(text: str, rose: set[str],
                                                        fell: set[str]) -> None:
    found = changes(text)
    assert found.get(ROSE, frozenset()) == rose and found.get(FELL, frozenset()) == fell


def test_the_figures_a_change_went_from_and_to_are_read_in_order() -> None:
    assert changes("Admissions dropped to 211 from 263.")[FROM_TO] == {"263>211"}
    assert changes("Revenue rose by 12% from $5 million to $5.6 million.")[FROM_TO] == {"5>5.6"}
    # a span, and years, are no change
    assert not changes("The period stretched from 8,000 to 5,000 BC.")
    assert not changes("Sales grew from 2019 to 2021.")


def test_a_change_said_to_go_the_other_way_between_the_same_figures_conflicts() -> None:
    evidence = quantity_index("Admissions dropped to 211 from 263. The yield slipped to 41% "
                              "from 43%. The era stretched from 8,000 to 5,000 BC.")
    assert moved_otherwise("Admissions rose from 211 to 263.", evidence)
    assert moved_otherwise("The yield rose to 43% from 41%.", evidence)
    assert not moved_otherwise("Admissions fell from 263 to 211.", evidence)
    assert not moved_otherwise("Beads date from 5,000 to 8,000 years ago.", evidence)


@pytest.mark.parametrize("text", [
    "Unemployment rose to 5.1% in May.",  # a level reached
    "Inflation fell from 9% last year.",  # a level left
    "Discounts of up to 40% apply.",  # a limit
    "The drug cut pain more than 300 times.",  # no amount of change after the verb
    "Costs were 5% lower than last year.",  # a comparison, which may be turned round
    "Shares did not fall 5% as feared.",  # a change denied
    "Shares didn't fall 5% as feared.",
    "Revenue hasn’t grown 5% this year.",
    "Sales grew in 2019.",  # a year, no amount
])
def test_levels_limits_comparisons_and_denials_are_no_changes(text: str) -> None:
    assert not changes(text)


def test_a_figure_said_to_move_the_other_way_conflicts() -> None:
    evidence = quantity_index(EARNINGS)
    assert moved_otherwise("Adjusted EPS decreased by 17% year over year.", evidence)
    assert moved_otherwise("Net sales rose $3 million.", evidence)
    assert moved_otherwise("Gross margin fell 70 basis points.", evidence)
    # the figure, not what it is of: a reversed figure said of another measure is no more
    # supported ("headcount" is not in the evidence at all)
    assert moved_otherwise("Headcount fell 17% in the quarter.", evidence)


@pytest.mark.parametrize("window", [
    "Adjusted EPS grew 17% year over year.",  # the same way, another word
    "EPS saw a 17% increase.",
    "Net sales slid by $3 million.",
    "Operating costs fell 12%.",  # the evidence's 12% is a level, no change
])
def test_a_change_the_evidence_states_the_same_way_or_not_at_all_does_not(window: str) -> None:
    assert not moved_otherwise(window, quantity_index(EARNINGS))


def test_a_figure_the_evidence_moves_both_ways_is_no_conflict() -> None:
    """Two measures, each moved by 5% (one up, one down): either way round is stated."""
    evidence = quantity_index("Revenue rose 5% while costs fell 5%.")
    assert not moved_otherwise("Costs fell 5%.", evidence)
    assert not moved_otherwise("Revenue fell 5%.", evidence)


def test_the_conflict_is_a_quantity_conflict_of_the_lexical_signals() -> None:
    """Scored as a figure the evidence states otherwise: capped as contradicted, on the
    lexical tier too (``fusion.capped``)."""
    window = "Adjusted EPS decreased by 17% year over year."
    found = signals(terms(window), window, term_keys(EARNINGS), term_keys(EARNINGS),
                    quantity_index(EARNINGS))
    assert found.conflict


@pytest.mark.slow  # the shipped detector
async def test_a_reversed_change_is_halted_as_contradicted(tmp_path: Path,
                                                          model_cache: Path) -> None:
    """SummEdits' earnings-call edit the default tier let through: "up 17%" made "decreased"."""
    answer = ("The company's adjusted earnings per share were $0.34 in the third quarter. "
              "Adjusted earnings per share decreased by 17% from the third quarter of last year.")
    halt = await halt_on_detector(tmp_path, model_cache, answer, [EARNINGS])
    assert halt["at"] == answer.index("Adjusted earnings per share decreased")
    assert halt["reason"] == "contradicted"


REVIEW = Path(__file__).with_name("data") / "direction_negation_review.jsonl"
# The review's wrong answers the rule leaves alone on purpose: a loss, and unemployment, may be
# said as the opposite change of income and employment; a verb with its object before "by".
LEFT_ALONE = frozenset(("Net loss widened 30% to $7 million.",
                        "Unemployment rose 0.3 percentage points.",
                        "The company cut its dividend by 10%."))


def test_a_reviews_faithful_answers_are_not_marked_and_its_wrong_ones_are() -> None:
    """A review wrote 103 faithful answers to trip the rule (two measures moved by one amount,
    complements, round trips, "shed" and "4% lower", "make up 40%", negative growth) and 22
    wrong ones; the first version marked 49 of the faithful."""
    cases = [json.loads(line) for line in REVIEW.read_text(encoding="utf-8").splitlines()]
    for case in (c for c in cases if c["rule"] == "direction"):
        marked = moved_otherwise(case["window"], quantity_index(case["evidence"]))
        assert marked == (not case["faithful"] and case["window"] not in LEFT_ALONE), case


def test_a_figure_the_evidence_also_writes_outside_a_change_is_no_conflict() -> None:
    """"closed 4% lower" is not read as a change (its subject may be turned round elsewhere),
    so the evidence may say the window's "fell 4%" there: the check abstains."""
    evidence = quantity_index("Shares closed 4% lower on Friday after rising 4% on Thursday.")
    assert "4" in evidence[UNPLACED] and "4%" in evidence[ROSE]
    assert not moved_otherwise("Shares fell 4% on Friday.", evidence)
