"""Places: which names name places apart (WordNet's cities, countries, states and counties), a
place swapped into a copied sentence, a place the evidence does not name where it names
another, a figure given in another unit of its measure, and the halts they earn through a real
server with the shipped detector (which reads "in London" for "in Paris" as one more detail)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stream_guard.scoring.fusion import CONFLICT_CONTRADICTION, Signals, capped
from stream_guard.text.opposites import says_opposite
from stream_guard.text.places import (
    PLACES,
    UNLISTED,
    named,
    names_another_place,
    other_places,
    sentence_places,
)
from stream_guard.text.quantities import quantity_index, unit_swapped
from stream_guard.text.terms import term_keys
from stream_guard.train.wordnet import places
from tests.conftest import halt_on_detector, make_settings, running_server
from tests.wsclient import open_ws, stream_text

TOWER = ["The Eiffel Tower is 330 metres tall.", "It was completed in 1889 in Paris."]


def _names_another(window: str, evidence: list[str] = TOWER) -> bool:
    found = frozenset().union(*map(sentence_places, evidence))
    return names_another_place(window, found, term_keys(" ".join(evidence)))


@pytest.mark.parametrize(("a", "b"), [("london", "paris"), ("manchester", "london"),
                                      ("new york", "los angeles"), ("japan", "india"),
                                      ("scotland", "england"), ("essex", "kent"),
                                      ("new york", "texas")])
def test_places_of_one_kind_that_hold_neither_are_apart(a: str, b: str) -> None:
    assert other_places(a, b) and other_places(b, a)


@pytest.mark.parametrize(("a", "b"), [
    ("london", "england"),  # within
    ("aleppo", "syria"),
    ("kiev", "kyyiv"),  # one place's names
    ("france", "europe"),  # another level: WordNet does not put France in Europe
    ("paris", "texas"),  # Paris, Texas
    ("london", "london"),
    ("london", "atlantis"),  # no place WordNet lists
])
def test_places_within_one_another_of_other_kinds_or_unknown_are_not(a: str, b: str) -> None:
    assert not other_places(a, b) and not other_places(b, a)


@pytest.mark.parametrize(("text", "found"), [
    ("It was completed in 1889 in Paris.", {"paris"}),
    ("Flights from New York to Los Angeles.", {"new york", "los angeles"}),
    ("Real Madrid beat AC Milan at home.", set()),  # part of another name
    ("The Bank of India raised rates.", set()),
    ("The London-based firm hired him.", set()),  # part of a word
    ("Nice weather today.", set()),  # a common word opening a sentence
    ("The UK and the U.K. are abbreviations.", set()),
    ("Jackson said so.", set()),  # a name WordNet also gives people, with no word of place
    ("She moved to Jackson last year.", {"jackson"}),
    ("PARIS is written in capitals.", set()),
    ("It supplies 15% of Kenya's electricity.", {"kenya"}),  # possessed
])
def test_the_places_a_text_names_on_their_own(text: str, found: set[str]) -> None:
    assert named(text) == found


@pytest.mark.parametrize("window", [
    "The Eiffel Tower is in London.",
    "The Eiffel Tower is 330 metres tall and located in Madrid.",
    "The Eiffel Tower was built near Berlin.",
])
def test_a_place_the_evidence_does_not_name_beside_one_it_does(window: str) -> None:
    assert _names_another(window)


def test_a_word_of_a_name_stands_for_no_place_the_evidence_names_otherwise() -> None:
    """"Carolina" is in both Carolinas' names: beside South Carolina, North Carolina is
    another state, not the one the word stood for."""
    evidence = ["The plant moved from South Carolina to Texas, where Carolina growers sell."]
    assert _names_another("The plant moved from North Carolina to Texas.", evidence)
    assert not _names_another("The plant moved from South Carolina to Texas.", evidence)


@pytest.mark.parametrize(("window", "evidence"), [
    ("The Eiffel Tower is in Paris.", TOWER),
    ("The Eiffel Tower is in France.", TOWER),  # Paris lies within it
    ("Is the Eiffel Tower in London?", TOWER),  # a question states nothing
    ("Real Madrid played there.", TOWER),
    ("The tower is in Switzerland.", ["The jet surfing shot was taken at a Swiss lake."]),
    ("The town is in Switzerland.", ["The draw was made in Nyon, in the Swiss canton."]),
    ("It is in London.", ["The museum holds 4000 paintings."]),  # the evidence names no place
    ("The Eiffel Tower is in Europe.", TOWER),  # another level
    # a capital or a city for its government or team: no word of place before it
    ("Beijing said the talks in Geneva had been constructive.",
     ["Chinese officials said the talks in Geneva had been constructive."]),
    ("Boston beat the Heat 110-98 in Miami on Saturday.",
     ["The Celtics beat the Heat 110-98 in Miami on Saturday."]),
    # the evidence names it by its people, an abbreviation or with its accents
    ("Negotiators from the United States met their counterparts in Mexico.",
     ["American negotiators met their counterparts in Mexico on Tuesday."]),
    ("The deal was signed in the United Kingdom and in Norway.",
     ["The UK and Norway signed a new fishing deal in Oslo."]),
    ("The bank has offices in Zurich and Geneva.", ["The bank has offices in Zürich and Geneva."]),
    # the evidence names a place the table does not list: the window's may be it, or hold it
    ("The summit was held in Kiev, and delegates then travelled to Warsaw.",
     ["The summit was held in Kyiv, and delegates then travelled to Warsaw."]),
    ("The company is based in New York.",
     ["The company is based in Brooklyn and opened an office in Boston last year."]),
    # the evidence names it by a word of its name alone
    ("Officials from Saudi Arabia met Iranian diplomats in Iraq last week.",
     ["Saudi officials met Iranian diplomats in Iraq last week."]),
    ("Carmakers from South Korea have opened three plants in Mexico since 2015.",
     ["Korean carmakers have opened three plants in Mexico since 2015."]),
])
def test_a_place_the_evidence_names_holds_or_does_not_compare_is_not(
        window: str, evidence: list[str]) -> None:
    assert not _names_another(window, evidence)


@pytest.mark.parametrize("window", [
    "It was completed in 1889 in Berlin.",  # the sentence's last word
    "The Eiffel Tower was completed in 1889 in London.",  # a loose copy, placed before
    "It was completed in 1889 in New York.",  # two words for one
    "Rome hosted the games in 1960 with great success.",  # the first word
])
def test_a_place_swapped_into_a_copied_sentence_is_a_swap(window: str) -> None:
    evidence = [*TOWER, "Paris hosted the games in 1960 with great success."]
    assert says_opposite(window, evidence, term_keys(" ".join(evidence)))


@pytest.mark.parametrize("window", [
    "It was completed in 1889 in France.",  # Paris lies within it
    "It was completed in 1889 in Paris.",
    "It was completed in 1889 in nice weather.",
    "It was completed in 1889 in London, its rival.",  # no copied word after the swap
])
def test_a_place_within_the_other_or_no_place_is_no_swap(window: str) -> None:
    assert not says_opposite(window, TOWER, term_keys(" ".join(TOWER)))


def test_a_place_the_user_named_is_no_other_place() -> None:
    """An answer that puts a place the user's prompt names back ("From Denver, ..." for "I'm
    flying from Denver", a plan and so no evidence) contradicts nothing; another place beside
    it still does."""
    evidence = ["The nonstop flight to Chicago takes 2 hours 30 minutes.",
                "Flights to Boston and Miami leave every hour."]
    places = frozenset().union(*map(sentence_places, evidence))
    keys = term_keys(" ".join(evidence))
    window = "From Denver, the nonstop flight to Chicago takes 2 hours 30 minutes."
    assert names_another_place(window, places, keys)
    assert not names_another_place(window, places, keys, asked=named("I'm flying from Denver."))
    assert names_another_place("It leaves from Dallas.", places, keys,
                               asked=named("I'm flying from Denver."))


def test_an_evidence_sentence_names_places_by_people_abbreviation_or_unlisted() -> None:
    assert sentence_places("American negotiators met in Mexico.") == {"america", "mexico"}
    assert sentence_places("The US and Canada signed.") == {"united states", "canada"}
    assert sentence_places("The summit was held in Kyiv in March.") == {UNLISTED}
    assert sentence_places("It opened in March in Paris.") == {"paris"}
    # an abbreviation of a place the table does not list names none (it raised KeyError
    # in the check that reads the evidence's places)
    evidence = "Flights from the UAE land in Paris."
    assert sentence_places(evidence) == {"paris"}
    assert names_another_place("It lands in London.", sentence_places(evidence),
                               term_keys(evidence))


NEAR = ["Delivery takes 30 minutes.", "The bag weighs 2 kg.", "The trail is 12 km long.",
        "He spent 30 days in detention.", "Requests longer than 3 days need 4 weeks' notice.",
        "The tower is 330 metres (1,083 ft) tall."]


@pytest.mark.parametrize("window", [
    "Delivery takes 30 hours.", "The bag weighs 2 lbs.", "The trail is 12 miles long.",
    "He was ordered to spend another 30 years in detention.",
])
def test_a_figure_in_another_unit_of_its_measure_is_swapped(window: str) -> None:
    assert unit_swapped(window, quantity_index(" ".join(NEAR)), NEAR)


@pytest.mark.parametrize("window", [
    "Delivery takes 30 minutes.",
    "The tower is 1,083 feet tall.",  # the evidence gives it in that unit too
    "With 4 years of service you earn 20 days.",  # "4 weeks' notice" is another thing
    "The trail is 12 kilometres long.",  # one unit's two names
    "The trail is 12 m long.",  # a bare "m" is no unit here
    "Sending the bag costs 2 pounds.",  # money as often as mass
    "Drive at 20 miles per hour within 20 metres of the trail.",  # the metres' words
])
def test_a_figure_the_evidence_gives_so_or_of_another_thing_is_not(window: str) -> None:
    assert not unit_swapped(window, quantity_index(" ".join(NEAR)), NEAR)


def test_the_unit_check_needs_the_sentences_near_the_window() -> None:
    assert not unit_swapped("Delivery takes 30 hours.", quantity_index(" ".join(NEAR)), ())


def test_another_place_is_capped_without_the_detector() -> None:
    """The detector reads "in London" for "in Paris" as one more detail: the window is capped
    as contradicted whatever it scores, and on the lexical path too."""
    moved = Signals(1.0, 1.0, False, 0.0, False, False, other_place=True)
    for model in (0.95, None):
        assert capped(moved, 0.8, 0.0, model) == (
            pytest.approx(1 - CONFLICT_CONTRADICTION), CONFLICT_CONTRADICTION)


def test_places_are_built_from_wordnet_files(tmp_path: Path) -> None:
    """Instances of WordNet's locations of a kind compared (by the nearest hypernym that names
    one), with the places each lies within followed up; names written in lower case or given
    to people marked; abbreviations, directions and places of no such kind left out."""
    header = "  1 This software and database is being provided to you\n"
    (tmp_path / "data.noun").write_text(
        header
        + "00000001 15 n 01 city 0 001 @ 00000009 n 0000 | a large town\n"
        "00000002 15 n 01 country 0 000 | a nation\n"
        "00000003 15 n 02 London 0 Greater_London 0 002 @i 00000001 n 0000 "
        "#p 00000005 n 0000 | capital\n"
        "00000004 15 n 02 Manchester 0 UK 0 001 @i 00000001 n 0000 | a city\n"
        "00000005 15 n 01 England 0 002 @i 00000002 n 0000 #p 00000006 n 0000 | a country\n"
        "00000006 15 n 01 United_Kingdom 0 001 @i 00000002 n 0000 | a kingdom\n"
        "00000007 15 n 01 Europe 0 001 @i 00000008 n 0000 | a continent\n"
        "00000008 15 n 01 continent 0 000 | a land mass\n"
        "00000009 15 n 01 municipality 0 000 | an urban area\n"
        "00000010 15 n 01 North 0 001 @i 00000002 n 0000 | a region\n"
        "00000011 18 n 01 London 0 001 @i 00000012 n 0000 | a writer\n"
        "00000012 18 n 01 writer 0 000 | one who writes\n")
    (tmp_path / "data.adj").write_text(header + "00000013 00 a 01 north 0 000 | northern\n")
    for name in ("data.verb", "data.adv"):
        (tmp_path / name).write_text(header)
    built = places(tmp_path)
    names = built["names"]
    assert isinstance(names, dict)
    assert sorted(names) == ["england", "greater london", "london", "manchester",
                             "united kingdom"]
    kinds = built["kinds"]
    within = built["within"]
    assert isinstance(kinds, list) and isinstance(within, list)
    london, england, kingdom = names["london"][0], names["england"][0], names["united kingdom"][0]
    assert kinds[london] == "city" and kinds[england] == "country"
    assert sorted(within[london]) == sorted([england, kingdom]) and within[kingdom] == []
    assert built["people"] == ["london"] and built["common"] == []
    committed = json.loads(PLACES.read_text(encoding="utf-8"))
    assert "Princeton University" in committed["license"]
    assert "paris" in committed["names"] and "china" in committed["common"]


@pytest.mark.slow  # the shipped detector
@pytest.mark.parametrize(("answer", "wrong"), [
    ("The Eiffel Tower was completed in 1889. It is in London.", "It is in London."),
    ("The Eiffel Tower was completed in 1889. It was completed in 1889 in Berlin.",
     "It was completed in 1889 in Berlin."),
    ("The Eiffel Tower was completed in 1889. The Eiffel Tower is 330 feet tall.",
     "The Eiffel Tower is 330 feet tall."),
])
async def test_the_quickstarts_tower_moved_or_measured_otherwise_halts(
        answer: str, wrong: str, tmp_path: Path, model_cache: Path) -> None:
    """The README Quickstart's context, and the claims a new user tries first against it: each
    passed before (fused support 0.21 to 0.65 against the threshold 0.18)."""
    halt = await halt_on_detector(tmp_path, model_cache, answer,
                                  [" ".join(TOWER)])
    assert halt["at"] == answer.index(wrong) and halt["reason"] == "contradicted"


@pytest.mark.slow  # the shipped detector
async def test_the_users_own_place_in_the_answer_does_not_halt(tmp_path: Path,
                                                               model_cache: Path) -> None:
    """The ``start`` frame's prompt reaches the place check: "From Denver" answers "I'm flying
    from Denver"; without the prompt the same answer halts as another place."""
    context = ["The nonstop flight to Chicago takes 2 hours 30 minutes. Flights to Boston and "
               "Miami leave every hour."]
    answer = "From Denver, the nonstop flight to Chicago takes 2 hours 30 minutes."
    settings = make_settings(tmp_path, tier="cascade", cache_dir=model_cache,
                             verdict_deadline_ms=0)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        asked = await stream_text(ws, "a", answer, context=context, piece=5,
                                  prompt="I'm flying from Denver. How long is the flight?")
        bare = await stream_text(ws, "b", answer, context=context, piece=5)
    assert not [f for f in asked if f["type"] == "halt"]
    assert [(f["at"], f["reason"]) for f in bare if f["type"] == "halt"] == [(0, "contradicted")]


@pytest.mark.parametrize("sentence", [
    "It was completed in 1889 in Paris.", "The Swiss team met American buyers in the U.K.",
    "She moved to Brooklyn after a year in Kyiv.", "Real Madrid beat AC Milan 3-1.",
    "Zürich and Geneva are the largest Swiss cities.", "No place is named here at all."])
def test_an_evidence_sentences_places_are_the_same_read_with_its_index_keys(
        sentence: str) -> None:
    """The engine hands a sentence's keys over (it indexed the sentence by them): read again,
    they were a fifth of a 3,000-row table's setup."""
    assert sentence_places(sentence, term_keys(sentence)) == sentence_places(sentence)
