"""Absence statements ("The policy doesn't say whether ..."): what they say is left out, the
check against the evidence, the floor on the fused score, and a real server that lets a
faithful abstention through on the default detector while a false one still halts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stream_guard.scoring.fusion import (
    ABSENCE_MAX_CONTRADICTION,
    ABSENCE_SUPPORT,
    CONFLICT_CONTRADICTION,
    Signals,
    capped,
    signals,
)
from stream_guard.text.absence import beside_absence, borne_out, left_out
from stream_guard.text.quantities import quantity_index
from stream_guard.text.terms import term_keys, terms
from tests.conftest import make_settings, running_server
from tests.wsclient import open_ws, stream_text

SPECS = ("Aero 14 laptop. Display: 14-inch OLED, 2880 x 1800, 90 Hz. Ports: 2x USB-C "
         "(Thunderbolt 4), 1x USB-A, headphone jack. Battery: 75 Wh, up to 12 hours. "
         "Weight: 1.3 kg.")
LEAVE = ("Employees with one year of service receive 16 weeks of paid parental leave. Leave "
         "must be taken within 12 months of the birth or adoption.")


@pytest.mark.parametrize("window", [
    "The policy doesn't say whether international orders have a different return window.",
    "I don't know whether the Aero 14 has a touchscreen; the spec sheet doesn't mention it.",
    "I'm afraid the information I have doesn't mention an airport shuttle.",
    "The policy doesn't mention whether leave can be extended unpaid beyond the 16 weeks, so "
    "I'd check with HR on that.",
    "Unfortunately, the context provided doesn't specify the parking fee. You may want to "
    "contact the hotel directly.",
    "There's no HDMI port listed in the specs.",
    "An airport shuttle isn't mentioned in the hotel's information.",
    "A fitness center isn't listed here.",
    "No children's menu is listed, so I can't say whether one is available.",
    "This excerpt is silent on cross-border travel, so I can't say whether driving into Canada "
    "is allowed.",
    "I couldn't find that — public computers don't come up in the policy.",
    "Sorry, I don't have that information.",
    "I\u2019m unable to find shuttle information in the guide.",
    "I'm not able to find anything about cancellations in this policy.",
    "I cannot find anything about pets in the lease.",
    "The lease isn\u2018t clear about parking.",
    "Lockers and storage don't feature in the house rules.",
    "I can't tell from the syllabus.",
    "Lockers and storage don't feature in the house rules.",
    # a search for anything of the kind, or information said to be missing: only a source
    # holds information, so it need not be named
    "I don't see anything about coffee or other refreshments.",
    "I'm not seeing anything about accommodation.",
    "I can't find any reference to telehealth or video visits here.",
    "There's no mention of a mobile app for any of the plans.",
    "Unfortunately there's no information on water temperature.",
    # a verb of saying in the passive, with a source that only tells
    "Nap times aren't mentioned in this part of the handbook, so I can't say.",
    "Home office or business equipment isn't specifically dealt with in the summary.",
    "No noise level is given on the spec sheet, so I can't tell you how many decibels it runs "
    "at.",
    # the speaker's inability, then what is sought or nothing: "tell you", "answer that one"
    "The visitor information page doesn't mention ski lessons or a ski school at all, so I "
    "can't tell you whether beginner lessons are available.",
    "There's nothing in the rider FAQ about accidents or insurance cover, so I'm not able to "
    "answer that one.",
    "I couldn't tell you; the FAQ doesn't say how long any service takes.",
    "I don't know of one — student pricing isn't mentioned.",
    "I don't know whether the venue has its own parking — the FAQ doesn't bring it up.",
    # the source lacks it (covered, included, part of, appear in, has no), beside the
    # speaker's own inability to tell: an abstention probe's faithful answers halted on these
    "Nap times aren't covered in this part of the handbook, so I can't say.",
    "I don't know — voltage and plug type aren't part of this spec sheet.",
    "The release notes don't cover pricing or licensing, so I can't tell whether the update is "
    "free.",
    "I can't determine that from the text provided; Wi-Fi for visitors isn't part of this "
    "visitor policy.",
    "Garage door openers don't appear in the summary at all, so I can't say whether one would "
    "be covered.",
    "Not sure, sorry. Pets aren't covered on that page.",
    "That isn't something these membership terms cover — there's no mention of showers or "
    "towels, so I can't tell you.",
    "The newsletter doesn't include a lunch menu, so I can't tell you what's being served.",
    "From this contract summary I can't tell whether there's a data cap — usage limits "
    "aren't mentioned anywhere in it.",
    "There's no information here about COVID boosters.",
    # naming nothing at all, and nothing else, an abstention states nothing to halt
    "I don't know.",
    "Not sure, sorry.",
    "No idea, I'm afraid.",
    "I couldn't tell you.",
    # a referral to who would know
    "Nap times aren't mentioned in the handbook. The centre director should be able to tell "
    "you.",
    "The page doesn't say. HR or the finance team would know.",
])
def test_absence_statements_are_found(window: str) -> None:
    assert left_out(window) is not None


@pytest.mark.parametrize("window", [
    # claims about the world: not the source's subject, or a verb that is a term, not saying
    "The warranty does not cover accidental damage.",
    "It doesn't cover damage from improper use.",
    "The plan does not include dental care.",
    "They did not discuss any way to reduce costs.",
    "The company did not state its revenue.",
    # something stated besides the absence
    "The policy doesn't say, but returns are free.",
    "There's no HDMI port listed in the specs, so you'd need an adapter for HDMI.",
    # the speaker's ignorance of something named, with no source: talk about the speaker, as
    # knowledge-grounded dialogue counts it (BEGIN: "I'm not sure how good they are.")
    "I'm not sure how good they are.",
    "I can't say how much you'd receive.",
    "I'm not sure what else I can say about it.",
    "I don't know whether the Aero 14 has a touchscreen.",
    # the speaker's ignorance with a claim beside it
    "I'm not sure, they had a funny story about how football was different in the 1960s.",
    "The page doesn't mention TV bundles, and the price stays fixed for 24 months.",
    "If you do not meet the rules for women players, you would not have to take them out.",
    # no source, no verb only text has: a claim about the world
    "Refunds are not given for sale items.",
    "There is no parking at the hotel.",
    # a negation that bears on what the source rules is the source's term
    "The policy doesn't cover flood damage.",
    "Pets aren't allowed here.",
    "Breakfast isn't included in the rate, according to the page.",
    "Flood damage isn't covered in the policy.",
    "Flood damage isn't covered by the policy.",
    "Flood damage isn't covered, and the page doesn't mention earthquakes.",
    # ... and what a source lacks, told without the speaker's inability to tell: its term
    "Nap times aren't covered in this part of the handbook.",
    "Pre-existing conditions aren't part of your policy summary.",
    "The plan summary doesn't include dental care, so you'd pay for it yourself.",
    "The policy summary has no flood cover, so I can't say more.",
    "Flood damage isn't covered by the policy, so I can't say whether you'd be paid.",
    # what someone will do is a claim, not a referral
    "The policy doesn't say. The team will know more next week.",
    "The page doesn't list it. Staff will help you load the car.",
    "The page doesn't list it. The bank will call you.",
])
def test_other_sentences_are_no_absence_statements(window: str) -> None:
    assert left_out(window) is None


@pytest.mark.parametrize(("window", "evidence", "expected"), [
    ("I don't know whether the Aero 14 has a touchscreen; the spec sheet doesn't mention it.",
     SPECS, True),
    ("The spec sheet doesn't list an HDMI port.", SPECS, True),
    # what it calls missing is there: a false abstention, scored as any window
    ("The spec sheet doesn't mention the battery life.", SPECS + " Battery life is good.",
     False),
    ("The spec sheet doesn't list a USB-A port.", SPECS, False),
    # the source lacks it, and the speaker cannot tell: what it names must be missing too
    ("Voltage and plug type aren't part of this spec sheet, so I can't say.", SPECS, True),
    ("The battery isn't covered in this spec sheet, so I can't tell you its capacity.", SPECS,
     False),
    # nothing named to check: it states nothing
    ("Sorry, I can't tell from the spec sheet.", SPECS, True),
    # what it names is all there: a false abstention, scored as any window
    ("I couldn't find the battery capacity in the specs.", SPECS + " Capacity: 75 Wh.", False),
    # a presupposed figure is still a claim: 20 weeks where the policy gives 16
    ("The policy doesn't mention whether leave can be extended beyond the 20 weeks.", LEAVE,
     False),
    ("The policy doesn't mention whether leave can be extended unpaid beyond the 16 weeks, so "
     "I'd check with HR on that.", LEAVE, True),
])
def test_the_evidence_must_bear_the_absence_out(window: str, evidence: str,
                                                expected: bool) -> None:
    assert borne_out(window, term_keys(evidence)) is expected


def test_the_floor_lifts_an_absence_borne_out_and_yields_to_a_conflict() -> None:
    window = "The policy doesn't mention whether leave can be extended unpaid beyond the 16 weeks."
    found = signals(terms(window), window, term_keys(LEAVE), term_keys(LEAVE),
                    quantity_index(LEAVE))
    assert found.absence_borne_out
    assert capped(found, 0.05, 0.2) == (ABSENCE_SUPPORT, 0.2)
    # a detector with a contradiction class that finds it contradicted: no floor
    assert capped(found, 0.05, ABSENCE_MAX_CONTRADICTION) == (0.05, ABSENCE_MAX_CONTRADICTION)
    assert capped(found, 0.97, 0.0) == (0.97, 0.0)
    conflicting = Signals(0.5, 0.5, True, 0.0, False, False, absence_borne_out=True)
    support, contradiction = capped(conflicting, 0.5)
    assert support == pytest.approx(1 - CONFLICT_CONTRADICTION)
    assert contradiction == CONFLICT_CONTRADICTION
    wrong = "The policy doesn't mention whether leave can be extended beyond the 20 weeks."
    assert not signals(terms(wrong), wrong, term_keys(LEAVE), term_keys(LEAVE),
                       quantity_index(LEAVE)).absence_borne_out


LEASE = ("Residential Lease, 14 Alder St. Rent of $1,450 is due on the 1st of each month. "
         "Tenants may not sublease the unit without the landlord's written consent. No animals "
         "other than service animals are permitted.")
MENU = ("Lunch menu. Chicken satay with peanut sauce, $14. Pad thai with crushed cashews and "
        "tamarind, $13. Green curry with tofu, $12.")
TRIAL = ("In a 12-week trial of 400 adults with moderate asthma, those given Breathex had 30% "
         "fewer flare-ups than those on placebo.")


@pytest.mark.parametrize(("window", "evidence"), [
    # a review's false claims that an earlier version floored: a negated term of the source's
    ("The lease doesn't prohibit subletting.", LEASE),
    ("Nothing in the lease forbids dogs.", LEASE),
    # a claim after the absence
    ("The lease doesn't say, which means dogs are fine.", LEASE),
    ("The lease doesn't mention it, meaning cats are welcome.", LEASE),
    ("The spec sheet doesn't list a fan because the Aero 14 is fanless.", SPECS),
    ("I can't find the fee in the lease, it was removed last year.", LEASE),
    # a world claim about what the source describes
    ("There are no nuts in any dish on the menu.", MENU),
    ("No improvement was shown.", TRIAL),
    # what a question word takes for granted
    ("The lease doesn't say why the landlord sold the building.", LEASE),
    ("The lease doesn't say who caused the flood damage in the basement.", LEASE),
    # a second review's: a claim joined by "and", a comma or a parenthesis
    ("The lease doesn't mention pets and says dogs are welcome.", LEASE),
    ("The lease says nothing about pets, dogs are welcome.", LEASE),
    ("There's no mention of pets in the lease and cats are welcome.", LEASE),
    ("The lease doesn't mention pets (dogs are fine).", LEASE),
    ("The lease doesn't mention pets, dogs being fine.", LEASE),
    ("I can't say for sure, the landlord usually lets tenants keep cats per the lease.", LEASE),
    # the world's claims in the source's words
    ("The results don't indicate any benefit from Breathex.", TRIAL),
    ("The report says he didn't mention the bribe.", TRIAL),
    ("The CEO was not worried about the quarterly losses in the report.", TRIAL),
    ("No one was hurt in the warehouse fire mentioned in the article.", TRIAL),
    ("Nothing was stolen from the house in the burglary described in the report.", TRIAL),
    ("The policy doesn't provide coverage for floods.", LEASE),
])
def test_claims_beside_or_inside_an_absence_are_not_floored(window: str, evidence: str) -> None:
    assert not borne_out(window, term_keys(evidence))


@pytest.mark.parametrize(("window", "evidence", "expected"), [
    # beside a clause that names what is left out, the speaker's "whether ..." or "which ..."
    # asks the user's question again: its words need not be missing ("permitted" is in the
    # lease), its figures must be there
    ("The lease doesn't address parking at all, so I can't tell you whether it's permitted.",
     LEASE, True),
    ("The lease doesn't address parking, so I can't tell you whether the $90 permit applies.",
     LEASE, False),
    ("Colour options aren't listed in these specifications — I'm not able to tell you which "
     "finishes are available.", SPECS, True),
    # the question's words may show the evidence answers it, never that it does not: "prices"
    # is missing, "children" and "ticket" are there (a probe's false abstention)
    ("The page doesn't list any children's prices, so I can't tell you what a ticket for a "
     "child would cost.", "Lift tickets: adults $89, children aged 6 to 12 $49.", False),
    # ... and what it names as left out is there: a false abstention
    ("The lease doesn't address parking, so I can't tell you whether it's permitted.",
     LEASE + " Parking: one space per unit.", False),
])
def test_the_user_s_question_asked_again_is_no_claim(window: str, evidence: str,
                                                      expected: bool) -> None:
    assert borne_out(window, term_keys(evidence)) is expected


COUNCIL = ("The council met on Tuesday. The budget for 2024 was approved at 3.2 million. The new "
           "library opens in June.")
ORDER = ("Your order #4417 shipped on May 3 via UPS. Returns are accepted within 30 days. Contact "
         "support@shop.com for help.")
RECIPE = ("Ingredients: 2 cups wheat flour, 1 cup whole milk, 100 g butter, 2 eggs, a handful of "
          "almonds.")
INSURANCE = ("Your travel insurance documents: medical cover up to 1 million, baggage cover up to "
             "2,000, trip cancellation.")


@pytest.mark.parametrize(("window", "evidence"), [
    # a review's false claims shaped like the phrasings read since: the world's news
    ("No details about the suspect were released by police.", COUNCIL),
    ("Nothing about the merger was announced.", COUNCIL),
    ("There was no information about casualties given by police.", COUNCIL),
    ("There is no word on the ceasefire from Israel.", COUNCIL),
    ("There is no information on refunds as they were discontinued.", COUNCIL),
    ("There are no survivors listed.", COUNCIL),
    # what a company or a person found or did, not a search of the source
    ("We are not seeing any outages right now.", ORDER),
    ("I am not seeing any charges on your account.", ORDER),
    ("We did not find any defects in the batch.", ORDER),
    ("I do not see any issue with returning it.", ORDER),
    ("I cannot see a problem there.", ORDER),
    ("We did not confirm that.", ORDER),
    ("I did not see it.", ORDER),
    ("I do not know of any.", ORDER),
    # what a recipe, a listing or an insurance holds, not what a text says
    ("Dairy is not included in this recipe.", RECIPE),
    ("Nuts are not part of this recipe.", RECIPE),
    ("Gluten is not found in this recipe.", RECIPE),
    ("Pre-existing conditions are not covered in your insurance documents.", INSURANCE),
    ("Overtime pay is not part of the contract.", INSURANCE),
    ("Bills are not included in the listing.", INSURANCE),
    ("Nap times aren't covered in the handbook as they were dropped last year.", INSURANCE),
    # a second review's: a telling source of a policy's terms, a claim before the passive, a
    # place of the user's or the world's, a second clause that reports what someone found
    ("Pre-existing conditions are not covered in your policy summary.", INSURANCE),
    ("Cosmetic surgery is not covered in the benefits guide.", INSURANCE),
    ("Lunch isn't covered in the guide's fee.", INSURANCE),
    ("Pets aren't allowed and aren't mentioned in the handbook.", INSURANCE),
    ("Flood damage was excluded last year and isn't mentioned in the handbook.", INSURANCE),
    ("There is no information on the ceasefire from Israel.", COUNCIL),
    ("I couldn't find anything about the suspect online.", COUNCIL),
    ("There is nothing on your account.", ORDER),
    ("I don't see anything on your account.", ORDER),
    ("I can't find any details on your reservation.", ORDER),
    ("There's no information on that; we did not find any defects in the batch.", ORDER),
    ("There's no mention of outages, and we're not seeing any right now.", ORDER),
    ("Batteries are not in the pack.", RECIPE),
])
def test_a_review_s_false_claims_are_not_floored(window: str, evidence: str) -> None:
    assert not borne_out(window, term_keys(evidence))



RESTAURANT = ("Osteria Verdello. Dietary needs: vegetarian dishes are marked on the menu. Most "
              "pasta dishes can be prepared with gluten-free spaghetti on request. Talks are "
              "not our thing. Access: the restaurant is on two levels, stairs only.")


@pytest.mark.parametrize("window", [
    # a claim after the speaker's question, once the question has its verb, is a clause of its
    # own: it is not the question's, and not floored with it (a review: all three passed)
    "From the menu I can't confirm whether wine is served, and the chef trained in Naples for "
    "a decade.",
    "The page doesn't mention vegan options, so I can't tell you whether they're available, and "
    "the kitchen uses only organic produce from its own farm.",
    "The page doesn't mention an airport shuttle, so I can't say whether one runs, or the "
    "restaurant is a ten-minute walk from the station.",
])
def test_a_claim_after_the_speaker_s_question_is_no_part_of_it(window: str) -> None:
    assert not borne_out(window, term_keys(RESTAURANT))
    assert beside_absence(window, term_keys(RESTAURANT)) is None


@pytest.mark.parametrize(("window", "claims"), [
    # a fact of the source, then what it does not say: the fact is scored alone
    ("The page says vegetarian dishes are marked on the menu, but it doesn't mention vegan "
     "options, so I can't confirm what's available for vegans.",
     "The page says vegetarian dishes are marked on the menu."),
    ("Vegetarian dishes are marked on the menu and pasta can be gluten-free; there's no "
     "information here about halal meat.",
     "Vegetarian dishes are marked on the menu and pasta can be gluten-free."),
    # the speaker's question cut at "and" is the question's, not a claim
    ("Vegetarian dishes are marked, but nothing in the page addresses corkage, so I can't "
     "confirm whether wine and beer would be allowed.", "Vegetarian dishes are marked."),
])
def test_a_fact_beside_a_true_abstention_is_scored_alone(window: str, claims: str) -> None:
    assert beside_absence(window, term_keys(RESTAURANT)) == claims


@pytest.mark.parametrize("window", [
    # no claim beside it: the abstention is judged whole (borne_out)
    "The page doesn't mention vegan options, so I can't confirm what's available.",
    # no absence: a claim
    "Vegetarian dishes are marked on the menu.",
    # what it says is left out is there, in part: a false abstention, scored whole with the
    # claim beside it
    "Vegetarian dishes are marked, but the page doesn't mention access for wheelchairs.",
    "Vegetarian dishes are marked, but the page doesn't mention gluten-free pasta.",
    # the speaker's "I can't confirm" names nothing left out
    "Vegetarian dishes are marked, so I can't confirm it.",
    # a claim after the abstention may lean on what it names: a review's false claims
    "I can't find the fee in the policy, it was removed last year.",
    "I couldn't find anything in the terms about descaling, which voids the warranty.",
    "Nothing in the page addresses corkage. Vegetarian dishes are marked.",
])
def test_nothing_is_scored_apart_without_a_true_abstention_beside_it(window: str) -> None:
    assert beside_absence(window, term_keys(RESTAURANT)) is None


def test_a_long_run_of_blanks_reads_as_one_space() -> None:
    """A padded table cell with a negation: the clause pattern took 0.65 s on 330 blanks (a
    review), on the event loop for the lexical tier; on these 5,000 it would not return. The
    blanks are read as one space."""
    assert left_out("The FAQ" + " " * 5000 + "doesn't list it.") == ("The FAQ doesn't list it",)
    cell = "| HDMI | the FAQ doesn't list it"
    assert left_out(cell + " " * 5000 + "|") == left_out(cell + " |") is not None
    # a clause of many negations is no absence statement, and is not scanned after each one
    assert left_out("no " * 200 + "mention in the policy") is None


@pytest.mark.slow  # the shipped detector
async def test_a_faithful_abstention_passes_and_a_false_claim_halts(
        tmp_path: Path, model_cache: Path) -> None:
    """Through a real server on the default detector: an answer that says what the spec sheet
    does not hold is not halted; the same start with a made-up port is."""
    honest = ("The Aero 14 has a 14-inch OLED display and weighs 1.3 kg. I don't know whether "
              "it has a touchscreen; the spec sheet doesn't mention it.")
    made_up = ("The Aero 14 has a 14-inch OLED display and weighs 1.3 kg. It also has a "
               "full-size HDMI 2.1 port and an SD card reader.")
    passed, halted = await _streamed_on_the_specs(tmp_path, model_cache, honest, made_up)
    # it passes by the floor, not by chance: the abstention is read as one
    assert borne_out(honest[honest.index("I don't"):], term_keys(SPECS))
    assert not [f for f in passed if f["type"] == "halt"]
    assert [f["label"] for f in passed if f["type"] == "verdict"] == ["supported", "supported"]
    halt = next(f for f in halted if f["type"] == "halt")
    assert halt["at"] == made_up.index("It also")


@pytest.mark.slow  # the shipped detector
async def test_a_fact_beside_a_true_abstention_passes_and_a_false_one_halts(
        tmp_path: Path, model_cache: Path) -> None:
    """Through a real server on the default detector: a fact of the spec sheet and what it does
    not say, in one sentence, is not halted; a made-up fact beside the same true abstention
    is."""
    honest = ("The Aero 14 weighs 1.3 kg, but the spec sheet doesn't mention a fingerprint "
              "reader, so I can't confirm whether it has one.")
    made_up = ("The Aero 14 has a full-size HDMI 2.1 port, but the spec sheet doesn't mention "
               "a fingerprint reader, so I can't confirm whether it has one.")
    passed, halted = await _streamed_on_the_specs(tmp_path, model_cache, honest, made_up)
    assert beside_absence(honest, term_keys(SPECS)) == "The Aero 14 weighs 1.3 kg."
    assert not [f for f in passed if f["type"] == "halt"]
    assert next(f for f in halted if f["type"] == "halt")["at"] == 0


async def _streamed_on_the_specs(tmp_path: Path, model_cache: Path, honest: str, made_up: str
                                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The frames of two answers streamed against the spec sheet through a real server on the
    default detector, verdicts on time whatever the host's load."""
    settings = make_settings(tmp_path, tier="cascade", cache_dir=model_cache,
                             verdict_deadline_ms=0)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        return (await stream_text(ws, "honest", honest, context=[SPECS], piece=7),
                await stream_text(ws, "made-up", made_up, context=[SPECS], piece=7))



KETTLE = ("Brewmaster kettle - warranty terms. Your kettle is guaranteed for 2 years from the "
          "date of purchase against faults in materials and workmanship. Keep your receipt. "
          "The warranty does not cover limescale damage. Cafe menu: the kids' menu has toast "
          "and juice for 3 pounds.")


@pytest.mark.parametrize(("window", "expected"), [
    # a document is named by its topic, whose words the evidence holds: not what is missing,
    # as the subject or where it was searched
    ("The warranty terms don't say anything about descaling.", True),
    ("The kettle warranty terms don't mention a replacement jug.", True),
    ("A replacement jug isn't mentioned in the kettle warranty terms.", True),
    # what it names is there, whatever the source is called
    ("The warranty terms don't mention any guarantee against faults.", False),
    ("The warranty terms don't mention limescale damage.", False),
    # a source word after the negation is what is missing (a review)
    ("The leaflet doesn't say anything about the kids' menu, so I can't tell you more.", False),
])
def test_a_source_s_name_is_not_what_it_leaves_out(window: str, expected: bool) -> None:
    """A blind probe's right abstentions halted where the source's own name ("the warranty
    terms", "the tariff sheet", "the entry requirements page") shared words with the evidence:
    they were counted as what the window said was missing."""
    assert borne_out(window, term_keys(KETTLE)) is expected


@pytest.mark.parametrize("window", [
    "The leaflet doesn't say anything about drinking alcohol while taking Brufenol, so I can't "
    "answer that from it.",
    "The guide doesn't give opening times for the museum, so I can't say when it opens.",
    "The summary doesn't go into parking, so I can't tell you whether there is any.",
])
def test_more_ways_of_saying_the_source_leaves_it_out(window: str) -> None:
    """Phrasings a blind probe's right abstentions used, each read as a claim before: what is
    missing going on after "while" ("while taking Brufenol"), and a source that only tells not
    giving or going into it, beside the speaker's inability."""
    assert left_out(window) is not None


@pytest.mark.parametrize("window", [
    # "while" with a claim of its own (a review: each passed as part of what is missing)
    "The leaflet doesn't mention grapefruit juice, while drinking a little wine with it causes "
    "no problems.",
    "The leaflet doesn't mention grapefruit juice while drinking a little wine with it causes "
    "no problems.",
    # a source's term, and things of the world that documents are also called (a review)
    "Your policy doesn't cover flooding, so I can't tell you more.",
    "There's no expiry shown on the card.",
    "No, there's no charger in the box.",
    "It doesn't include meals, so I can't say.",
    # what a source that only tells gives, told, with no inability beside it
    "The guide doesn't give opening times for the museum.",
])
def test_the_new_phrasings_still_need_what_made_them_absence_statements(window: str) -> None:
    assert left_out(window) is None
