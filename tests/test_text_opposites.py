"""A claim that copies an evidence sentence with one word swapped for one that excludes it, or
with a negation added or dropped: the lexical mark, the cap it earns, and the halt through a
real server with the shipped detector (which scores such a swap as supported)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stream_guard.scoring.fusion import CONFLICT_CONTRADICTION, Signals, capped
from stream_guard.text.opposites import are_opposites, base_forms, excludes, says_opposite
from stream_guard.text.terms import term_keys
from tests.conftest import halt_on_detector

OFFER = ("The agent called Mr. Johnson to offer him a wide range of insurance plans that fit his "
         "specific needs. Premiums increased by 4 percent at the beginning of the year.")


def swaps(window: str, evidence: str = OFFER) -> bool:
    return says_opposite(window, evidence.split(". "), term_keys(evidence))


def negates(window: str, sentences: list[str]) -> bool:
    return says_opposite(window, sentences, term_keys(" ".join(sentences)))


@pytest.mark.parametrize(("a", "b"), [("wide", "narrow"), ("increased", "decrease"),
                                      ("gains", "loss"), ("oldest", "newer"),
                                      ("general", "specific"), ("beginning", "end"),
                                      ("bigger", "smaller"), ("rose", "fell"),
                                      ("disabled", "enable"), ("unaccompanied", "accompanied")])
def test_wordnet_opposes_the_words_in_any_of_their_forms(a: str, b: str) -> None:
    assert are_opposites(a, b) and are_opposites(b, a)


@pytest.mark.parametrize(("a", "b"), [("wide", "broad"), ("small", "accumulated"),
                                      ("good", "angry"), ("increase", "rise")])
def test_synonyms_and_distant_words_are_no_opposites(a: str, b: str) -> None:
    """Not the satellites of an opposite cluster: they made "small" the opposite of
    "accumulated" and "good" of "angry"."""
    assert not are_opposites(a, b)


def test_base_forms_undo_inflections() -> None:
    assert {"old", "big", "widen", "decrease", "rise"} <= (
        base_forms("oldest") | base_forms("bigger") | base_forms("widened")
        | base_forms("decreasing") | base_forms("rose"))


@pytest.mark.parametrize(("new", "old"), [("after", "before"), ("without", "with"),
                                          ("under", "over"), ("fewer", "more"),
                                          ("third", "second"), ("green", "blue"),
                                          ("tuesday", "monday"), ("13.1", "13.8"),
                                          ("rejected", "approved"), ("banned", "allowed"),
                                          ("losses", "profit"), ("four", "five"),
                                          ("07", "8"), ("western", "east"),
                                          ("mandatory", "voluntary"),
                                          ("optional", "obligatory")])
def test_function_words_closed_classes_and_figures_exclude_one_another(new: str,
                                                                       old: str) -> None:
    assert excludes(new, old)


@pytest.mark.parametrize(("new", "old"), [("13.8", "13.8"), ("after", "after"),
                                          ("the", "a"), ("cliff", "clifftop"),
                                          ("verification", "validation"), ("5", "km"),
                                          ("07", "7"), ("7th", "7"), ("western", "west")])
def test_words_that_do_not_exclude(new: str, old: str) -> None:
    assert not excludes(new, old)


def test_a_swap_needs_the_sentence_otherwise_copied() -> None:
    assert swaps("The agent offered him a narrow range of insurance plans.")
    assert swaps("Premiums increased by 4 percent at the end of the year.")
    assert swaps("Premiums decreased by 4 percent at the beginning of the year.")
    assert not swaps("The agent offered him a wide range of insurance plans.")  # the same
    assert not swaps("Premiums increased by 4 percent.")
    # an opposite with nothing copied around it is no swap this check can judge
    assert not swaps("Narrow plans are rare.")


EARNINGS = ("The capital ratio was 13.8 percent at the end of the third quarter. The bundle is "
            "offered for $90 a month to the first 20 customers, and 30 more get a discount. "
            "The route is 5 km long. The phone was unveiled on June 7, 2010, and released on "
            "June 24, 2010.")


@pytest.mark.parametrize("window", [
    "The capital ratio was 13.8 percent at the end of the second quarter.",
    "The capital ratio was 13.1 percent at the end of the third quarter.",
    "The phone was released on June 25, 2010.",
])
def test_an_ordinal_or_a_figure_swapped_for_another_is_a_swap(window: str) -> None:
    assert swaps(window, EARNINGS)


@pytest.mark.parametrize("window", [
    "The capital ratio was 13.8 percent at the end of the third quarter.",
    # the other figure is the source's too ("30 more"), and so is the date's day
    "The bundle is offered for $90 a month to the first 30 customers.",
    "The phone was released on June 7th 2010.",
    # a figure beside another unit is a conversion, the quantity check's to judge
    "The route is 3.1 miles long.",
])
def test_a_figure_the_source_states_or_in_another_unit_is_no_swap(window: str) -> None:
    assert not swaps(window, EARNINGS)


@pytest.mark.parametrize(("evidence", "window"), [
    ("Take the tablets with or after food.", "Take the tablets with or before food."),
    ("Contractor bids came in well over budget.", "Contractor bids came in well under budget."),
    ("Mean blood pressure fell by 8.4 mmHg in the low-sodium group.",
     "Mean blood pressure rose by 8.4 mmHg in the low-sodium group."),
    ("Both nap groups recalled more word pairs than the wake group.",
     "Both nap groups recalled fewer word pairs than the wake group."),
    ("The late opening takes place on the first Thursday of each month.",
     "The late opening takes place on the first Friday of each month."),
])
def test_swaps_of_every_kind(evidence: str, window: str) -> None:
    assert swaps(window, evidence)


@pytest.mark.parametrize(("evidence", "window"), [
    # the swapped-in word is the evidence's too, said of something else
    ("Prices rose in the first quarter and fell in the second quarter.",
     "Prices fell in the first quarter."),
    # a comparison turned round states the same fact
    ("The new tank is larger than the old one.", "The old tank is smaller than the new one."),
    ("Sales in March were higher than in May.", "Sales in May were lower than in March."),
    # names are the detector's: a nickname, a title, a variant spelling
    ("The agent told John Johnson about the plan.", "The agent told Mr. Johnson about the plan."),
    ("Robert Smith chairs the board.", "Bob Smith chairs the board."),
    ("An American fell from the clifftop.", "A Canadian fell from the clifftop."),
    ("The striker joined a club in Belgium last year.",
     "The striker joined a Belgian club last year."),
    # the opposite under a negation is a paraphrase
    ("The hotel is closed on Mondays.", "The hotel is not open on Mondays."),
    # ... also where a reply's "No" opens it (a fresh probe's faithful answer)
    ("Rent is 1,150 pounds per calendar month, excluding council tax and utilities.",
     "No \u2014 the 1,150 pounds a month doesn't include council tax or utilities."),
    # a question to the listener states nothing
    ("The store opens early on Saturdays.", "Would you like to know if the store opens late on "
                                            "Saturdays?"),
])
def test_paraphrases_with_opposite_words_are_no_swap(evidence: str, window: str) -> None:
    assert not swaps(window, evidence)


@pytest.mark.parametrize(("evidence", "window"), [
    # a review's faithful answers a broader version marked; the first, a copy of the second
    # sentence, whose "after" has no term key to find it by
    (["Orders placed before 2 pm ship the same day.",
      "Orders placed after 2 pm ship the next business day."],
     "Orders placed after 2 pm ship the next business day."),
    (["The older model has a larger screen and a heavier body."],
     "The newer model has a smaller screen and a lighter body."),
    (["On Monday the dollar rose against the euro."],
     "On Monday the euro fell against the dollar."),
    (["Keep the door closed at night."], "Avoid leaving the door open at night."),
    (["Nothing is open after 10 pm in the village."],
     "Everything is closed after 10 pm in the village."),
    (["The offer is invalid after June 30."], "The offer is valid until June 30."),
    (["The museum isnt open on Mondays."], "The museum is closed on Mondays."),
    (["Refunds are not available after 30 days."],
     "Sorry, no \u2014 refunds are available only before 30 days."),
    (["The shop closes at 7:00 pm."], "The shop closes at 19:00."),
    (["Revenue for FY2024 rose 4%."], "Revenue for FY24 rose 4%."),
    (["The salary is $85,000 a year."], "The salary is $85k a year."),
    (["The price is 1.000 euros."], "The price is 1,000 euros."),
    (["The bag is grey with a red strap."], "The bag is gray with a red strap."),
    (["Storms moved north-east across the region."], "Storms moved northeast across the region."),
    (["The village lies on the Rhine near Basel."], "The village sits on the Rhine near Basel."),
    (["The results will be published shortly."], "The results will be published before long."),
    (["The fees are listed in the table below for reference."],
     "The fees are listed in the table above for reference."),
    (["Orders placed before 2 pm ship the same day."], "What about orders placed after 2 pm?"),
])
def test_what_a_review_found_marked_is_no_swap(evidence: list[str], window: str) -> None:
    assert not says_opposite(window, evidence, term_keys(" ".join(evidence)))


def test_text_past_the_cap_is_not_aligned() -> None:
    """The alignment's cost grows with the product of the lengths (worse on repetitive text:
    a review's 800-word window took 16 s): a window or sentence past 120 tokens is not
    aligned, even where it would be a swap."""
    sentence = " ".join(["buy low sell high"] * 40) + " and prices rose."
    assert says_opposite("Prices fell, buy low sell high.", ["Prices rose, buy low sell high."],
                          term_keys("Prices rose, buy low sell high."))
    assert not says_opposite(sentence.replace("rose", "fell"), [sentence], term_keys(sentence))


def test_the_cap_needs_no_detector() -> None:
    """The detector does not read antonyms, which is why the check exists: the window is
    capped as contradicted whatever it scores, and on the lexical path too."""
    swap = Signals(1.0, 1.0, False, 0.0, False, False, opposite_swap=True)
    for model in (0.95, None):
        assert capped(swap, 0.8, 0.0, model) == (
            pytest.approx(1 - CONFLICT_CONTRADICTION), CONFLICT_CONTRADICTION)


@pytest.mark.slow  # the shipped detector
async def test_an_opposite_swap_is_halted_as_contradicted(tmp_path: Path,
                                                          model_cache: Path) -> None:
    """SummEdits' edit the default tier let through: the offer's "wide range" made "narrow"."""
    answer = ("The agent called Mr. Johnson about insurance. He offered him a narrow range of "
              "insurance plans that fit his specific needs.")
    halt = await halt_on_detector(tmp_path, model_cache, answer, [OFFER])
    assert halt["at"] == answer.index("He offered") and halt["reason"] == "contradicted"
    assert "wide range" in halt["evidence"][0]["text"]


def test_the_word_caches_are_bounded() -> None:
    """A client chooses the words a window holds: what is kept of them must not grow with
    the server's uptime (a review's stress of 20,000 windows of random words)."""
    from stream_guard.text import opposites

    for cached in (opposites.base_forms, opposites._excluded_by, opposites._sentence_reading):
        assert cached.cache_info().maxsize is not None


POISON = ("But the authorities, which have launched an investigation into the mysterious wave of "
          "illnesses, have not found any evidence of poison.")


@pytest.mark.parametrize(("window", "sentence"), [
    ("The authorities, which have launched an investigation, have found evidence of poison.",
     POISON),  # dropped, with its determiner
    ("The company did not discuss the merger with its board.",
     "The company discussed the merger with its board."),  # added, the verb inflected
    ("Gift cards can be refunded at any store.", "Gift cards cannot be refunded at any store."),
    ("The issue could not result in a loss of propulsion while driving.",
     "The issue could result in a loss of propulsion while driving."),
    ("The plan has no annual fee for members.", "The plan has an annual fee for members."),
    ("The method extracts the uncertainties of features in no layers of the network.",
     "The method extracts the uncertainties of features in each layer of the network."),
])
def test_a_copy_with_a_negation_added_or_dropped_negates_its_sentence(window: str,
                                                                     sentence: str) -> None:
    assert negates(window, [sentence])


@pytest.mark.parametrize(("window", "sentence"), [
    ("The museum is not open on Mondays.", "The museum is closed on Mondays."),  # an antonym
    ("Both have unlimited data and 24/7 phone support.",  # not what "no" denied
     "Both plans: no data caps, 24/7 phone support, and a 30-day guarantee."),
    ("Clean the filter and make sure the drain hose isn't kinked.",
     "Clean the filter and check the drain hose for kinks."),
    ("The film was due to be broadcast by Sky earlier this month.",
     "The film might not be broadcast by Sky Atlantic."),  # a possibility
    ("The store does not open until 10 on Sundays.", "The store opens at 10 on Sundays."),
    ("The average selling price is not expected to exceed $460,000.",
     "We expect the average selling price to stay below $460,000."),
    ("Did the company not discuss the merger with its board?",
     "The company discussed the merger with its board."),  # a question
    ("The company did not discuss the merger with its board.",
     "The company failed to discuss the merger with its board."),  # negated otherwise
])
def test_a_negation_in_other_words_or_with_company_is_no_denial(window: str,
                                                                sentence: str) -> None:
    assert not negates(window, [sentence])


@pytest.mark.parametrize(("window", "sentence"), [
    # A probe of policies: a condition both state, and the negation the copy's one change (the
    # detector scored the first 0.71 supported)
    ("Earrings cannot be returned unless they are faulty.",
     "Earrings can be returned unless they are faulty."),
    ("Pre-existing medical conditions are covered unless you have declared them.",
     "Pre-existing medical conditions are not covered unless you have declared them."),
    ("This applies if you are made redundant.",
     "This does not apply if you are made redundant."),
])
def test_a_clean_copy_with_the_same_condition_negates_its_sentence(window: str,
                                                                  sentence: str) -> None:
    assert negates(window, [sentence])


@pytest.mark.parametrize(("window", "sentence"), [
    # the condition's own polarity changed too: the same claim
    ("You will not be charged if you cancel.", "You will be charged if you do not cancel."),
    # more than the negation changed beside the condition
    ("You can return earrings unless they are faulty.",
     "Earrings cannot be returned unless they are faulty."),
    ("Earrings cannot be returned at all unless they are faulty.",
     "Earrings can be returned unless they are faulty."),
    # the condition on one side only
    ("Earrings cannot be returned unless they are faulty.", "Earrings can be returned."),
])
def test_a_condition_with_other_changes_or_on_one_side_is_no_denial(window: str,
                                                                   sentence: str) -> None:
    assert not negates(window, [sentence])


def test_the_sentence_that_says_what_the_window_says_is_its_source() -> None:
    """Of two sentences the window copies as much of, the one of its polarity wins."""
    window = "The company did not discuss the merger with its board."
    assert not negates(window, ["The company discussed the merger with its board.",
                                "The company did not discuss the merger with its board."])


@pytest.mark.slow  # the shipped detector
async def test_a_dropped_negation_is_halted_as_contradicted(tmp_path: Path,
                                                            model_cache: Path) -> None:
    """SummEdits' edit the default tier let through: "have not found any evidence of poison"
    made "have found evidence of poison"."""
    answer = ("Authorities have launched an investigation into the wave of illnesses. The "
              "authorities, which have launched an investigation, have found evidence of poison.")
    halt = await halt_on_detector(tmp_path, model_cache, answer, [POISON])
    assert halt["at"] == answer.index("The authorities") and halt["reason"] == "contradicted"


def test_a_reviews_faithful_answers_are_not_negations_and_its_wrong_ones_are() -> None:
    """A review wrote 151 faithful answers to trip the negation check (merges of two
    sentences, "not X but Y", "no pool and gym", "NO" for nitric oxide, "case no. 3", a vote of
    no confidence, counterfactuals, paraphrases, answers opened with "No") and 24 wrong ones;
    the first version marked 18 of the faithful."""
    review = Path(__file__).with_name("data") / "direction_negation_review.jsonl"
    cases = [json.loads(line) for line in review.read_text(encoding="utf-8").splitlines()]
    for case in (c for c in cases if c["rule"] == "negation"):
        assert negates(case["window"], case["evidence"]) != case["faithful"], case
