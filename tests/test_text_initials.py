"""Initials: an answer's acronym of a name its evidence spells out is the evidence's name
(faithful news summaries halted on "WA" for "Western Australia"); a word that spells a name's
initials, a slice of a longer name, a name spelled out for an acronym and an acronym of no name
the evidence holds are not. Through a real server with the shipped detector as well."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream_guard.evidence.premise import EvidenceSentence, SentenceIndex
from stream_guard.scores import Evidence
from stream_guard.text.initials import initialisms_known, name_initials
from stream_guard.text.terms import term_keys, terms
from tests.conftest import stream_on_detector


def _keys(evidence: str) -> frozenset[str]:
    return term_keys(evidence) | name_initials(evidence)


@pytest.mark.parametrize(("evidence", "window", "known"), [
    ("They were found in remote bushland in Western Australia.", "in remote WA bushland",
     {"wa"}),
    ("The final payment on a property in the United Arab Emirates.", "a property in the UAE",
     {"uae"}),  # "The" only opens the name
    ("He is a nephew of John F. Kennedy.", "a nephew of JFK", {"jfk"}),
    ("He is a nephew of John F Kennedy.", "a nephew of JFK", {"jfk"}),
    ("President John F. Kennedy spoke.", "JFK spoke", {"jfk"}),  # a title before the name
    ("The Department of Defense said so.", "the DOD said so", {"dod"}),
    ("The Professional Footballers' Association chief said so.", "says PFA chief", {"pfa"}),
    ("Manchester United Football Club confirmed it.", "MUFC confirmed it", {"mufc"}),
    ("Queues at Automated Teller Machines.", "queues at ATMs", {"atm"}),  # made plural
    ("Because of Martin Luther King Jr. Day, pickup runs late.", "because of MLK Day",
     {"mlk"}),  # the sentence's first word and a name's suffix are no initials of it
])
def test_an_acronym_of_a_name_the_evidence_spells_out_is_that_name(
        evidence: str, window: str, known: set[str]) -> None:
    assert initialisms_known(window, _keys(evidence)) == known


@pytest.mark.parametrize(("evidence", "window"), [
    ("Volunteers of the Wild Animal Rescue fed them.", "the war ended"),  # a word, not "WAR"
    ("The property is in the United Arab Emirates.", "a property in the USA"),  # no such name
    ("She moved to Western Australia. The family followed.", "found in WAT"),
    # a slice of a longer name names something else (a review)
    ("Manchester United Football Club confirmed it.", "The UFC confirmed it"),
    ("Real Madrid Chief Executive Jose Sanchez spoke.", "the MCE spoke"),
    ("Los Angeles Police Department officers came.", "AP officers came"),
    # nor across a sentence that ends in an initial (a review: "Vitamin D. Take")
    ("Take Vitamin D. Take one capsule daily.", "Take VDT daily"),
    # acronyms of words in lower case are not read
    ("Queues at automated teller machines.", "queues at ATMs"),
])
def test_a_word_a_slice_or_another_acronym_is_no_name(evidence: str, window: str) -> None:
    assert initialisms_known(window, _keys(evidence)) == set()


@pytest.mark.parametrize(("evidence", "window"), [
    ("Analysts at MS cut their price target.", "Analysts at Microsoft Securities cut it."),
    ("The CDC issued guidance.", "The Canadian Dental Council issued guidance."),
    ("FREE delivery on all orders over £50.", "Fiona Reed's Electrical Emporium delivers."),
    ("The FDA approved it in March.", "The Food and Drug Administration approved it."),
])
def test_a_name_spelled_out_for_an_acronym_is_read_word_by_word(evidence: str,
                                                                  window: str) -> None:
    """A review of the first version, which credited a name whose initials were an acronym of
    the evidence: the wrong expansions a model makes passed. Spelled out, a name's words are
    its own (the right expansion halts as before, unless the evidence spells it out too)."""
    assert initialisms_known(window, _keys(evidence)) == set()


def test_a_names_initials_are_keys_no_word_has() -> None:
    keys = name_initials("They moved to Western Australia. The Family Court agreed.")
    assert "^wa" in keys and "^fc" in keys
    assert "^wat" not in keys and "^atf" not in keys  # "Australia. The" is no run
    assert all(k.startswith("^") for k in keys) and not keys & term_keys("wa fc")


def test_the_premise_finds_the_sentence_that_spells_an_acronym_out() -> None:
    """The model reads the sentence that names the acronym, not the evidence's opening."""
    passage = Evidence(id="p", text="", score=1.0, source="context")
    sentences = [EvidenceSentence.of(text, passage) for text in (
        "The couple left Perth on Friday.", "Their dog was with them.",
        "Police found their campsite in bushland in Western Australia.")]
    premise = SentenceIndex(sentences).focus(terms("Their tent was pitched in WA."))
    assert premise.sentences[0].text.startswith("Police found their campsite")


@pytest.mark.slow  # the shipped detector
@pytest.mark.parametrize(("context", "answer"), [
    ("Police said the couple's campsite and both vehicles were found intact in remote bushland "
     "in Western Australia on Tuesday, three days after they were reported missing.",
     "Their campsite and vehicles were found intact in remote WA bushland."),
    ("The cheque had been the final payment on a new property in the United Arab Emirates, the "
     "court heard.", "The cheque was the final payment on a new property in the UAE."),
])
async def test_a_faithful_summarys_acronym_does_not_halt(context: str, answer: str,
                                                         tmp_path: Path,
                                                         model_cache: Path) -> None:
    """Both halted before, at fused support 0.04 and 0.09 (the acronym a new name)."""
    frames = await stream_on_detector(tmp_path, model_cache, answer, [context])
    assert not [f for f in frames if f["type"] == "halt"]


@pytest.mark.slow  # the shipped detector
async def test_an_acronym_of_another_name_still_halts(tmp_path: Path,
                                                      model_cache: Path) -> None:
    context = ("The cheque had been the final payment on a new property in the United Arab "
               "Emirates, the court heard.")
    answer = "The cheque was the final payment on a new property in the USA."
    frames = await stream_on_detector(tmp_path, model_cache, answer, [context])
    assert [f["at"] for f in frames if f["type"] == "halt"] == [0]
