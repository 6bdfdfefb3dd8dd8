"""A paraphrase that puts another figure, or an opposite, where a sentence of its source has
one, beside the same words (text.swaps): the mark, what it leaves alone, and the halt through
a real server with the shipped detector."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream_guard.text.swaps import swapped_beside
from stream_guard.text.terms import term_keys
from tests.conftest import evidence_sentences, halt_on_detector, random_texts, stream_on_detector

MINE = ("An open-pit copper mine collapsed in northern Chile on Tuesday, killing at least three "
        "workers and leaving 14 missing, the regional governor said. The mine reopened in 2016 "
        "after a strike closed it for eight months.")
CALL = ("Turning to the outlook, our revenue forecast for 2025 remains in the range of $2.4 "
        "billion to $2.6 billion. Net orders increased 31% year over year to $640 million, "
        "driven by the data-centre business.")
SHOP = ("The Basic party costs £14 per child with a minimum of 10 children. Children aged 6 to "
        "12 may join the climbing session. Drivers aged 21 or over may hire the minibus.")


def swapped(window: str, evidence: str) -> bool:
    return swapped_beside(window, evidence_sentences(evidence), term_keys(evidence))


@pytest.mark.parametrize("window", [
    # a year, a count, money, a percentage, each beside the sentence's words
    "The mine had reopened in 2014 after a strike shut it for eight months.",
    "The mine, shut by a strike for eight months, reopened in 2014.",
    "A copper mine in Chile collapsed, killing at least three workers and leaving 19 missing.",
    "The company expects its 2025 revenue forecast to stay in the range of $2.4 billion to "
    "$2.9 billion.",
    "Net orders increased 13% from a year earlier, to $640 million.",
    "The revenue forecast for 2026 remains between $2.4 billion and $2.6 billion.",
    # an opposite
    "Net orders decreased 31% year over year, to $640 million.",
])
def test_a_figure_or_word_put_in_another_s_place_is_marked(window: str) -> None:
    evidence = MINE if "mine" in window.lower() else CALL
    assert swapped(window, evidence)


@pytest.mark.parametrize(("window", "evidence"), [
    # the figures and words are the sentence's
    ("A copper mine in Chile collapsed, killing at least three workers and leaving 14 missing.",
     MINE),
    ("Net orders rose 31% year over year to $640 million.", CALL),
    # inside a range, within a bound
    ("An 8-year-old can join the climbing session.", SHOP),
    ("Drivers aged 25 may hire the minibus.", SHOP),
    # worked out, or for the reader
    ("For 12 children, the Basic party would be £168.", SHOP),
    ("Your party for 12 children costs £168 in total.", SHOP),
    # a date's day, a code's number
    ("The mine reopened on 3 March 2016 after a strike closed it.", MINE),
    # a question states nothing
    ("Did the mine reopen in 2014 after a strike closed it?", MINE),
    # a comparison's opposite states the same
    ("Net orders decreased less than revenue, which increased 31% year over year.", CALL),
    # other words around it, and another clause
    ("The strike lasted eight months, and 2014 was a record year for the region.", MINE),
    # hedged, or a difference worked out
    ("Net orders increased about 30% year over year to $640 million.", CALL),
    ("Net orders increased 31% year over year, $40 million more than the data-centre "
     "business.", CALL),
    # placed by the word after it alone, in a clause of other words
    ("Installation can be finished by mid-June if the order is signed by May 20.",
     "We can complete installation before the busy summer season starts in mid-June. Orders "
     "must be signed by May 20."),
])
def test_what_is_no_swap_is_not_marked(window: str, evidence: str) -> None:
    assert not swapped(window, evidence)


def test_a_negation_or_a_word_that_negates_leaves_words_alone() -> None:
    evidence = "The team struggled to keep track of its equipment across six sites."
    assert not swapped("The team kept losing track of its equipment across six sites.",
                       evidence)
    assert not swapped("The company's orders did not decrease 31% year over year.", CALL)


def test_forms_of_one_word_and_bounds_of_versions_are_no_swaps() -> None:
    evidence = "Today the company employs 148 people across the UK and Ireland."
    assert not swapped("Today the company has 148 employees across the UK and Ireland.",
                       evidence)
    evidence = "Spatial audio needs app version 4.2 or later on supported headphones."
    assert not swapped("Spatial audio works with app version 4.3 on supported headphones.",
                       evidence)
    assert swapped("Spatial audio needs app version 3.2 on supported headphones.", evidence)


def test_one_event_told_from_its_other_side_is_no_swap() -> None:
    evidence = ("Acme Corp bought the Riverside factory from Zenith Industries in 2019 for $40 "
                "million.")
    assert not swapped("Zenith Industries sold the Riverside factory to Acme Corp in 2019 for "
                       "$40 million.", evidence)


@pytest.mark.parametrize(("window", "evidence"), [
    # a difference, a sum, a quotient, a complement of the sentence's figures
    ("The price of the annual pass rose $10 this year.",
     "The price of the annual pass rose from $40 to $50 this year."),
    ("A family ticket for four people costs $60, and parking is free.",
     "A family ticket for two adults and two children costs $60."),
    ("The dinner for eight guests cost $50 per guest, including wine.",
     "The dinner for eight guests cost $400 in total, including wine."),
    ("In the council vote, 30% of members voted against the plan.",
     "In the council vote, 70% of members voted for the plan and the rest against it."),
])
def test_a_figure_worked_out_of_the_sentence_s_is_no_swap(window: str, evidence: str) -> None:
    assert not swapped(window, evidence)


COFFEE = ("Starbucks opened its first branch in Italy in 2018, causing outcry and prompting "
          "calls for a boycott. The next coffee trend involves olive oil and it's launching in "
          "Italy on Wednesday, with a stall in Palermo's Ballaro market.")


def test_a_place_put_in_another_s_place_is_marked() -> None:
    """The places check abstains here: the evidence also names a place its table does not
    list (Ballaro)."""
    window = "Starbucks' olive oil coffee trend is launching in France on Wednesday."
    assert swapped(window, COFFEE)
    assert not swapped(window.replace("France", "Italy"), COFFEE)
    # the window names the sentence's place too: it may say of both
    assert not swapped("Its olive oil coffee is launching in Italy and France on Wednesday.",
                       COFFEE)
    assert not swapped("Starbucks, which opened in Italy in 2018, is launching its olive oil "
                       "coffee in France on Wednesday.", COFFEE)


DELIVERIES = ("Additionally, we have agreed with Boeing to accelerate 12 737 MAX 9 aircraft "
              "deliveries into 2021. The James Webb Space Telescope team at Vantor Labs said "
              "the XR-7 drone weighs 1.2 kg. The bakery will be closed on October 31 for a "
              "private event, the European Commission said.")


@pytest.mark.parametrize("window", [
    # summedits_train's edits: a name the evidence states nowhere, in the sentence's frame
    "Additionally, the company has agreed with Embraer to accelerate 12 737 MAX 9 aircraft "
    "deliveries.",
    "The James Gunn Space Telescope team at Vantor Labs said the drone weighs 1.2 kg.",
    "The James Webb Space Telescope team at Orbis Labs said the XR-7 drone weighs 1.2 kg.",
])
def test_a_name_put_in_another_s_place_is_marked(window: str) -> None:
    assert swapped(window, DELIVERIES)


@pytest.mark.parametrize("window", [
    "Additionally, the company has agreed with Boeing to accelerate 12 737 MAX 9 aircraft "
    "deliveries.",
    # the same name written otherwise, or misspelt: the probes' and HaluEval's faithful answers
    "The James Webb Space Telescope team at Vantor Labs said the XR7 drone weighs 1.2 kg.",
    "The James Webb Space Telescope team at Vantour Labs said the XR-7 drone weighs 1.2 kg.",
    # a date's other name; a name and its acronym; a people's name for its place
    "The bakery will be closed on Halloween for a private event, the European Commission said.",
    "The bakery will be closed on October 31 for a private event, the EU Commission said.",
    # a prefix: a short form of the name
    "The James Webb Space Telescope team at Vantor said the XR-7 drone weighs 1.2 kg.",
    # a title is no name
    "Additionally, Mr. Boeing has agreed to accelerate 12 737 MAX 9 aircraft deliveries.",
])
def test_a_name_written_otherwise_is_no_swap(window: str) -> None:
    assert not swapped(window, DELIVERIES)


@pytest.mark.parametrize(("evidence", "window"), [
    # an adversarial review's faithful answers (docs/results/names-review-52.jsonl), one of
    # each kind it found marked at the rule's first version
    ("Microsoft co-founder William Gates said on Tuesday the foundation would double its "
     "malaria budget.", "Microsoft co-founder Bill Gates said on Tuesday the foundation would "
     "double its malaria budget."),
    ("Libyan leader Muammar Gaddafi ruled the country for 42 years before his death in 2011.",
     "Libyan leader Muammar Qadhafi ruled the country for 42 years before his death in 2011."),
    ("The ruling was welcomed by Ukrainian President Volodymyr Zelensky on Tuesday evening.",
     "The ruling was welcomed by Ukrainian President Vladimir Zelensky on Tuesday evening."),
    ("The team said Shohei Ohtani signed a record contract with the Los Angeles club in 2018.",
     "The team said Shohei \u014ctani signed a record contract with the Los Angeles club in "
     "2018."),
    ("The firm hired PricewaterhouseCoopers to audit its accounts after the finance chief "
     "resigned.", "The firm hired PwC to audit its accounts after the finance chief resigned."),
    ("Police said Sgt Mark Jones found the stolen van abandoned near the station on Friday.",
     "Police said Sergeant Mark Jones found the stolen van abandoned near the station on "
     "Friday."),
    ("On Sunday, Francis told pilgrims in St Peter's Square that the war must end.",
     "On Sunday, the Pontiff told pilgrims in St Peter's Square that the war must end."),
    ("Under the Agreement, the Tenant shall pay the rent monthly in advance by bank transfer.",
     "Under the Agreement, the Renter must pay the rent monthly in advance by bank transfer."),
    # list markers, capitals throughout, a headline
    ("The Fed raised rates by a quarter point on Wednesday, citing sticky inflation.",
     "\u2705 Officials raised rates by a quarter point on Wednesday, citing sticky inflation."),
    ("The Fed raised rates by a quarter point on Wednesday, citing sticky inflation.",
     "1) Officials raised rates by a quarter point on Wednesday, citing sticky inflation."),
    ("On Thursday the ECB raised its key rate by 25 basis points to fight inflation.",
     "ON THURSDAY THE BANK RAISED ITS KEY RATE BY 25 BASIS POINTS TO FIGHT INFLATION."),
    ("Boeing Speeds Up Copa Deliveries. Boeing agreed on Tuesday to deliver 12 jets to Copa.",
     "Boeing Hastens Copa Deliveries"),
    # one time zone, era or language under two names
    ("The rocket lifted off at 14:00 GMT on Friday from the launch site in French Guiana.",
     "The rocket lifted off at 14:00 UTC on Friday from the launch site in French Guiana."),
    ("The city was founded around 800 AD by traders from the coast, the museum says.",
     "The city was founded around 800 CE by traders from the coast, the museum says."),
    ("The new ambassador speaks fluent Farsi and Arabic and served in Tehran for six years.",
     "The ambassador speaks fluent Persian and Arabic and served in Tehran for six years."),
    # a plural acronym for the run of names it stands for
    ("Withdrawals at Automated Teller Machines abroad cost \u00a32 each.",
     "Withdrawals at ATMs abroad cost \u00a32 each."),
])
def test_one_name_written_another_way_is_no_swap(evidence: str, window: str) -> None:
    assert not swapped(window, evidence)


@pytest.mark.parametrize(("evidence", "window"), [
    # the review's swaps the first version missed: a suffix read as a people's name, a
    # spelling rule applied to acronyms
    ("Analysts at Goldman said the rally in bank shares would fade by the end of the year.",
     "Analysts at Barclays said the rally in bank shares would fade by the end of the year."),
    ("Team principal Fred Vasseur said Ferrari would bring an upgraded floor to the race.",
     "Team principal Fred Vasseur said Mercedes would bring an upgraded floor to the race."),
    ("The satellite was built by NASA engineers and will monitor sea ice for five years.",
     "The satellite was built by NOAA engineers and will monitor sea ice for five years."),
    ("The interview aired on NBC on Sunday evening and drew 9 million viewers.",
     "The interview aired on CNBC on Sunday evening and drew 9 million viewers."),
    ("Orders placed before 2 pm Eastern time ship the same day, the store says.",
     "Orders placed before 2 pm Pacific time ship the same day, the store says."),
    # a run of names for another, framed by the words around the runs
    ("Apple chief executive Tim Cook said on Monday the company would expand its services.",
     "Apple chief executive Satya Nadella said the company would expand its services."),
    ("Activists dumped yellow and blue paint in front of the Russian embassy in London.",
     "Activists dumped yellow and blue paint in front of the London Mexican embassy."),
])
def test_another_name_in_the_frame_is_a_swap(evidence: str, window: str) -> None:
    assert swapped(window, evidence)


def test_a_name_opening_a_sentence_is_no_name() -> None:
    """A capital where a sentence opens says nothing: "Shares" is no name there."""
    evidence = "Revenue rose in May, the board said. Shares of Altira fell 4% on the news."
    assert not swapped("Earnings rose in May, the board said.", evidence)


def test_basis_points_are_percentage_points() -> None:
    evidence = "Gross margin contracted 120 basis points to 38.6% on higher freight costs."
    assert not swapped("Gross margin contracted 1.2 percentage points to 38.6% on higher "
                       "freight costs.", evidence)


def test_a_range_the_window_states_is_held_to_the_sentences_ends() -> None:
    evidence = ("We currently anticipate non-GAAP earnings per diluted share in the range of "
                "$1.30 to $1.40 for the fourth quarter.")
    assert swapped("The company anticipates non-GAAP earnings per diluted share in the range "
                   "of $1.30 to $1.38 for the fourth quarter.", evidence)
    assert not swapped("The company anticipates non-GAAP earnings per diluted share of about "
                       "$1.35 for the fourth quarter.", evidence)


_PIECES = ("2016", "2014", "$2.4", "billion", "to", "-", "–", "between", "and", "14", "19",
           "missing", "mine", "reopened", "increased", "decreased", "not", "more", "than",
           "over", "at least", ",", ".", "?", "your", "Q3", "third quarter", "0", "0.0",
           "99999999999999999999", "£", "%", "1990s", "2024-05-20", "9:30", "CS 301",
           "Boeing", "Embraer", "EU", "XR-7", "Mr.", "Halloween", "October 31")


def test_no_text_of_figures_and_opposites_breaks_the_check() -> None:
    """Random runs of the check's own words."""
    for evidence, window in random_texts(_PIECES, seed=58):
        swapped(window, evidence)


def test_a_long_window_and_sentence_are_read_in_bounded_time() -> None:
    evidence = " ".join(["Net orders increased 31% year over year to $640 million"] * 400)
    window = " ".join(["Net orders decreased 13% year over year to $604 million"] * 400)
    assert not swapped(window, evidence)  # beyond the tokens read: no claim about one thing


async def test_a_changed_year_in_a_paraphrase_halts_on_the_default_detector(
        tmp_path: Path, model_cache: Path) -> None:
    """Without the check the detector passed it (fused support 0.19 over a threshold of
    0.18)."""
    halt = await halt_on_detector(
        tmp_path, model_cache, "The copper mine, which had been closed for eight months by a "
        "strike, reopened in 2014.", [MINE])
    assert halt["reason"] == "contradicted"


async def test_its_faithful_paraphrase_passes(tmp_path: Path, model_cache: Path) -> None:
    frames = await stream_on_detector(
        tmp_path, model_cache, "The copper mine, which had been closed for eight months by a "
        "strike, reopened in 2016.", [MINE])
    assert not [f for f in frames if f["type"] == "halt"]


COPA = ("During the quarter, we agreed with Boeing to accelerate the delivery of 12 737 MAX 9 "
        "that were originally intended to be delivered starting in 2025. We will receive two of "
        "these aircraft in 2022 for a total of seven MAX 9 deliveries next year.")


async def test_a_swapped_name_halts_on_the_default_detector(
        tmp_path: Path, model_cache: Path) -> None:
    """summedits_train's edit: the detector passed it, the name one more detail."""
    halt = await halt_on_detector(
        tmp_path, model_cache, "Additionally, the company has agreed with Embraer to "
        "accelerate 12 737 MAX 9 aircraft deliveries.", [COPA])
    assert halt["reason"] == "contradicted"


async def test_the_faithful_name_passes(tmp_path: Path, model_cache: Path) -> None:
    frames = await stream_on_detector(
        tmp_path, model_cache, "Additionally, the company has agreed with Boeing to "
        "accelerate 12 737 MAX 9 aircraft deliveries.", [COPA])
    assert not [f for f in frames if f["type"] == "halt"]
