"""A window that denies, in other words, what an evidence clause near it asserts
(text.denials): the mark, what it leaves alone, and the halt through a real server with the
shipped detector."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream_guard.text.denials import denies_near
from stream_guard.text.polarity import negated_heads
from stream_guard.text.terms import term_keys
from tests.conftest import evidence_sentences, random_texts, stream_on_detector

STORES = ("We plan to build over 100 AutoNation USA pre-owned stores, with over 50 completed by "
          "the end of 2025. Same-store used vehicle gross profit increased $602 compared to the "
          "prior year.")
FARES = ("Checked bags are not included in Light fares and cost €30 per bag when added online. "
         "Classic and Flex fares include one 23 kg checked bag.")
RACE = ("Runners must collect their race packs, including bib and timing chip, from the Expo at "
        "the Corn Exchange on Friday or Saturday between 10 am and 7 pm.")
LABELS = ("The labels of plant-based milk alternatives may soon include a voluntary statement "
          "conveying how their nutrient compositions compare with dairy milk.")


def denies(window: str, evidence: str) -> bool:
    return denies_near(window, evidence_sentences(evidence), term_keys(evidence))


@pytest.mark.parametrize(("window", "evidence"), [
    ("The company doesn't plan to expand by building over 100 AutoNation USA pre-owned stores "
     "by the end of 2025.", STORES),
    ("Packs can't be collected on race day, so get to the Expo at the Corn Exchange.", RACE),
    ("Runners never collect their race packs from the Expo at the Corn Exchange.", RACE),
    # the word denied in another of its forms
    ("Plant-based milk labels will soon include a statement that does not compare their "
     "nutrient compositions with dairy milk.", LABELS),
])
def test_a_denial_of_what_a_near_clause_asserts_is_marked(window: str, evidence: str) -> None:
    assert denies(window, evidence)


@pytest.mark.parametrize(("window", "evidence"), [
    # borne out by a clause that denies it, whatever another asserts of something else
    ("Light fares don't include a checked bag: it's €30 per bag online.", FARES),
    # asserted, not denied
    ("The company plans to build over 100 AutoNation USA pre-owned stores by 2025.", STORES),
    # too few words shared with the asserting clause
    ("The company does not plan to sell its headquarters.", STORES),
    # a negation that contrasts, is quantified, or bounded
    ("Runners collect packs at the Expo at the Corn Exchange, not at the race start.", RACE),
    ("Not every runner must collect their race packs from the Expo at the Corn Exchange.", RACE),
    ("Runners cannot collect their race packs from the Expo at the Corn Exchange unless "
     "they show ID.", RACE),
    # two negations, a question
    ("No runner can't collect their race packs from the Expo at the Corn Exchange.", RACE),
    ("Can't runners collect their race packs from the Expo at the Corn Exchange?", RACE),
    # the negation bears on another clause's word
    ("Runners collect their race packs from the Expo at the Corn Exchange, but bags are not "
     "allowed.", RACE),
    # of another thing the evidence names (a review's: the detector scored these below 0.1)
    ("The base model doesn't support wireless charging.",
     "The Pro model supports wireless charging at 15 W. The base model charges by cable only."),
    ("The Trailhead camping kit, with its tent and stove, does not include fuel canisters.",
     "The Trailhead camping kit includes a tent, two sleeping bags and a stove. Fuel canisters "
     "are sold separately."),
    # bounded, contrasted, an obligation or a part denied, an idiom that asserts
    ("The Hallam Museum does not open before 9 am on weekdays.",
     "The Hallam Museum opens at 9 am on weekdays."),
    ("Unlike the glass carafe, the base unit is not dishwasher safe.",
     "The glass carafe is dishwasher safe. Wipe the base unit with a damp cloth."),
    ("Applicants for the summer internship need not submit references by May 1.",
     "Applicants for the summer internship must submit a CV and a cover letter by May 1."),
    ("The Riverside festival isn't just about live music this summer.",
     "The Riverside festival features live music this summer, with street food and crafts."),
    ("The reviewer can't recommend the hotel's rooftop restaurant enough.",
     "The reviewer highly recommends the hotel's rooftop restaurant."),
    # what the negation bears on, past a possessive
    ("The kettle recall was not the company's first product recall this year.",
     "The kettle recall is the company's second product recall this year."),
])
def test_what_is_no_denial_of_a_near_clause_is_left_alone(window: str, evidence: str) -> None:
    assert not denies(window, evidence)


def test_a_negation_bears_on_no_word_past_its_phrase() -> None:
    assert negated_heads("Cake is allowed, though balloons are not, and bookings need notice.") \
        == frozenset()
    assert negated_heads("Gift cards cannot be refunded.") == frozenset({"refunded"})
    # ... but past an aside, and past whose it is
    assert negated_heads("Gift cards are not, however, refundable.") == frozenset({"refundable"})
    assert negated_heads("It was not the company's first recall.") == frozenset({"first"})


_PIECES = ("not", "no", "never", "n't", "don't", "plan", "plans", "planned", "build", "stores",
           "over", "100", "unless", "only", "every", ",", ".", "?", ";", "but", "—", "the",
           "company", "Expo", "collect", "packs", "included", "include", "")


def test_no_text_of_negations_and_clauses_breaks_the_check() -> None:
    """Random runs of the check's own words."""
    for evidence, window in random_texts(_PIECES, seed=59):
        denies(window, evidence)


def test_a_run_of_spaces_is_read_in_linear_time() -> None:
    """The clause pattern backtracked over a long run of spaces (PDF text): 2.3 s for 8,000."""
    assert not denies("The company doesn't plan to build" + " " * 50_000 + "stores.", STORES)


def test_a_long_window_and_sentence_are_read() -> None:
    evidence = " ".join(["We plan to build over 100 stores by 2025 and"] * 400) + "."
    window = "The company doesn't plan to build over 100 stores by 2025."
    assert denies(window, evidence)


async def test_a_denial_in_other_words_halts_on_the_default_detector(
        tmp_path: Path, model_cache: Path) -> None:
    """Without the check the detector's pair scored it 0.04, but the fused support was 0.32,
    over the threshold of 0.18: the copied words outweighed it."""
    frames = await stream_on_detector(
        tmp_path, model_cache, "The company doesn't plan to expand by building over 100 "
        "AutoNation USA pre-owned stores by the end of 2025.", [STORES])
    halts = [f for f in frames if f["type"] == "halt"]
    assert halts and halts[0]["reason"] == "contradicted"


async def test_its_faithful_paraphrase_passes(tmp_path: Path, model_cache: Path) -> None:
    frames = await stream_on_detector(
        tmp_path, model_cache, "The company plans to expand by building over 100 AutoNation "
        "USA pre-owned stores by the end of 2025.", [STORES])
    assert not [f for f in frames if f["type"] == "halt"]
