"""A claim that copies an evidence sentence with the opposite polarity: the lexical mark, and
the halt through a real server with the shipped detector (which reads the negation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream_guard.scoring.fusion import (
    CONFLICT_CONTRADICTION,
    POLARITY_MODEL_MAX,
    Signals,
    capped,
)
from stream_guard.text.polarity import flips_polarity, judged, negated
from stream_guard.text.terms import term_keys
from tests.conftest import stream_on_detector

POLICY = ("Customers may request a refund within 30 days of purchase. Refunds are paid to the "
          "original payment method within 5 business days. Gift cards cannot be refunded.")


def flips(window: str, evidence: str = POLICY) -> bool:
    sentences = [(s, term_keys(s)) for s in evidence.split(". ")]
    return flips_polarity(term_keys(window), window, sentences)


@pytest.mark.parametrize("text", ["Gift cards cannot be refunded.", "It isn't open.",
                                  "It isn\u2019t open.", "It isn\u2018t open.",
                                  "No refunds are paid.", "She never came back.",
                                  "It isnt open.", "They dont ship abroad."])
def test_negations_are_read(text: str) -> None:
    assert negated(text)


@pytest.mark.parametrize("text", ["Gift cards can be refunded.", "Knowledge is power.",
                                  "Another note on the snow.", "He lives at No. 10.",
                                  "He is deciding whether or not to sue.",
                                  "It is not only fast but cheap.",
                                  "Not really, it is a formal language.",
                                  "No, it opened in 1889.", "No \u2014 it opened in 1889.",
                                  "No - it opened in 1889.", "Sorry, no \u2014 it opened in 1889.",
                                  "Unfortunately no, it opened in 1889.",
                                  "There is no doubt it opened."])
def test_words_that_only_contain_a_negation_are_not_one(text: str) -> None:
    assert not negated(text)


@pytest.mark.parametrize("text", [
    "The trial failed to reduce deaths.", "She was unable to walk.", "A non-refundable fee.",
    "The plan excludes dental care.", "It opens only after 10.", "No more than 7 kg.",
    "It does not open until 10 am.", "Neither the gym nor the spa is open.",
    "You will be charged unless you cancel.", "Smoking is prohibited.", "Is it open today?",
    "Not all flights offer Wi-Fi.", "There were zero complaints."])
def test_polarity_is_not_judged_where_negation_has_company(text: str) -> None:
    """Words that negate otherwise or change a negation's reach, and questions: where the
    detector's low score is no evidence of a flip, the check abstains."""
    assert not judged(text)


def test_a_flip_needs_the_same_claim_with_the_other_polarity() -> None:
    assert flips("Gift cards can be refunded.")
    assert flips("Refunds are not paid to the original payment method.")
    assert not flips("Gift cards cannot be refunded.")  # the same polarity
    assert not flips("Refunds are paid within 5 business days.")
    # another claim that happens to negate: too few of its words in any one sentence
    assert not flips("Shipping is not free for orders under 20 dollars.")
    assert not flips("Not cards.")  # one content word is no claim to compare


@pytest.mark.parametrize(("evidence", "window"), [
    # A probe of policies: a condition both texts state left the flip unjudged, and passed.
    ("You must repay the enhanced element. This does not apply if you are made redundant.",
     "This applies if you are made redundant."),
    ("Pre-existing medical conditions are not covered unless you have declared them.",
     "Pre-existing medical conditions are covered unless you have declared them."),
    ("Earrings can be returned unless they are faulty.",
     "Earrings cannot be returned unless they are faulty."),
    ("Bags must not weigh more than 7 kg.", "Bags must weigh more than 7 kg."),
])
def test_a_flip_with_the_same_condition_on_both_sides_is_one(evidence: str,
                                                             window: str) -> None:
    assert flips(window, evidence)


@pytest.mark.parametrize(("evidence", "window"), [
    # the condition moved the negation elsewhere: the same polarity
    ("You will be charged if you do not cancel.", "You will not be charged if you cancel."),
    # a word of reach on one side only
    ("Earrings cannot be returned unless they are faulty.", "Earrings can be returned."),
    ("Earrings cannot be returned.", "Earrings can be returned only if they are faulty."),
    # "some" of one and not of the others may both hold
    ("Some items cannot be returned.", "Some items can be returned."),
    ("Are pets not allowed if they are small?", "Pets are allowed if they are small."),
    # two negations are two denials as often as a double negative (a second review)
    ("Luggage over 23 kg is not accepted at the gate and cannot be checked in online.",
     "Luggage over 23 kg cannot be checked in online."),
])
def test_a_condition_on_one_side_or_a_some_is_not_judged(evidence: str, window: str) -> None:
    assert not flips(window, evidence)


def test_the_cap_needs_the_detector_to_agree() -> None:
    flip = Signals(1.0, 1.0, False, 0.0, False, False, polarity_flip=True)
    assert capped(flip, 0.6, 0.0, POLARITY_MODEL_MAX / 2) == (
        pytest.approx(1 - CONFLICT_CONTRADICTION), CONFLICT_CONTRADICTION)
    assert capped(flip, 0.6, 0.0, POLARITY_MODEL_MAX * 2) == (0.6, 0.0)
    assert capped(flip, 0.6, 0.0, None) == (0.6, 0.0)  # the lexical tier alone: no cap


@pytest.mark.slow  # the shipped detector
async def test_a_negated_policy_is_halted_as_contradicted(tmp_path: Path,
                                                          model_cache: Path) -> None:
    """A new user's first collection: "Gift cards can be refunded." against "Gift cards cannot
    be refunded." passed (fused 0.44: every content word is in the evidence)."""
    answer = "Refunds are paid within 5 business days. Gift cards can be refunded."
    frames = await stream_on_detector(tmp_path, model_cache, answer, [POLICY])
    halt = next(f for f in frames if f["type"] == "halt")
    assert halt["at"] == answer.index("Gift cards") and halt["reason"] == "contradicted"
    assert "Gift cards cannot be refunded." in halt["evidence"][0]["text"]
    first = next(f for f in frames if f["type"] == "verdict")
    assert first["label"] == "supported"


@pytest.mark.parametrize(("evidence", "window"), [
    # Paraphrases a review found capped as contradicted when polarity was "has a negation
    # word": the detector scores each below 0.1, so the lexical judgement must be right.
    ("The trial failed to reduce mortality in elderly patients.",
     "The trial did not reduce mortality in elderly patients."),
    ("The patient was unable to walk after the surgery.",
     "The patient could not walk after the surgery."),
    ("The account requires two-factor authentication.",
     "The account cannot be used without two-factor authentication."),
    ("The library is open every day except Sunday.", "The library is not open on Sunday."),
    ("The bank declined to comment on the report.", "The bank did not comment on the report."),
    ("The senator refused to answer questions.", "The senator would not answer questions."),
    ("The update removed support for older printers.",
     "The update no longer supports older printers."),
    ("The plan excludes dental care.", "The plan does not include dental care."),
    # the negation belongs to the other clause
    ("Refunds are not available, but exchanges are available.", "Exchanges are available."),
    ("The Prime Minister lives at 10 Downing Street.",
     "The Prime Minister lives at No. 10 Downing Street."),
    # found on HaluEval summaries the detector never trained on
    ("The world No 1 has a win record of 17-0 since the start of the year.",
     "World No 1 has not been beaten since the start of the year."),
    ("It is impossible for users to know what they are smoking.",
     "Users do not know what they are smoking."),
    # from a second review's 272 faithful answers written around negation, which a broader
    # version of the rule halted a quarter of
    ("The hotel does not allow pets or smoking.", "The hotel allows neither pets nor smoking."),
    ("You will be charged unless you cancel before the trial ends.",
     "If you do not cancel before the trial ends, you will be charged."),
    ("The museum opens at 9 am on weekdays.", "The museum does not open until 9 am on weekdays."),
    ("Carry-on bags may weigh at most 7 kg.", "Carry-on bags may weigh no more than 7 kg."),
    ("Passengers must not use mobile phones during takeoff.",
     "Passengers are forbidden to use mobile phones during takeoff."),
    ("There were 0 complaints about the new billing system.",
     "There were no complaints about the new billing system."),
    ("Parking is free of charge for hotel guests.",
     "There is no charge for parking for hotel guests."),
    ("Pets are not allowed in the rental apartments.",
     "Are pets allowed in the rental apartments?"),
    ("Applicants must be at least 18 years old.", "Applicants must not be under 18 years old."),
])
def test_a_faithful_paraphrase_keeps_its_polarity(evidence: str, window: str) -> None:
    assert not flips(window, evidence)
