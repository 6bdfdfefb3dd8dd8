"""Acronyms an answer writes for words its evidence spells out (stream_guard.text.acronyms)."""

from __future__ import annotations

import pytest

from stream_guard.metrics import Metrics
from stream_guard.protocol.frames import ContextItem
from stream_guard.scoring.engine import CheckJob, EngineConfig, GroundingEngine, StreamRequest
from stream_guard.text.acronyms import Initials, capitalised_tokens, expansions
from stream_guard.text.terms import terms

EVIDENCE = [
    "We fine-tune a model for natural language inference on three benchmarks.",
    "The European Union and the Department of Defense met the World Health Organization.",
    "It was an important day for everyone.",
]


@pytest.mark.parametrize(("acronym", "spelled"), [
    ("NLI", True),   # a run of content words
    ("EU", True),    # two capitalised words
    ("DOD", True),   # a joiner between capitalised words gives its letter ...
    ("DD", True),    # ... or none
    ("WHO", True),
    ("WTO", False),  # another organisation
    ("AI", False),   # two initials of any words ("an important") say nothing
    ("FLI", False),  # not a run: "fine-tune ... language inference"
    ("MNL", False),  # the letters out of order
])
def test_a_run_of_the_evidences_words_spells_an_acronym(acronym: str, spelled: bool) -> None:
    assert bool(Initials(EVIDENCE).expand(acronym)) is spelled


def test_an_acronym_expands_to_the_terms_of_its_run() -> None:
    initials = Initials(EVIDENCE)
    assert [t.key for t in initials.expand("NLI")] == ["natural", "language", "inference"]
    assert [t.key for t in initials.expand("DOD")] == ["department", "defense"]


def test_only_tokens_written_in_capitals_are_read_as_acronyms() -> None:
    found = capitalised_tokens("The NLI model, the EU and the DoD funded NGOs; Nli and Hello no.")
    assert found == {"nli": "NLI", "eu": "EU", "dod": "DOD", "ngo": "NGO"}


def test_the_evidences_initials_are_read_only_for_a_window_that_writes_an_acronym() -> None:
    asked: list[int] = []

    def initials() -> Initials:
        asked.append(1)
        return Initials(EVIDENCE)

    window = "The model was tested on three benchmarks by Nli."
    assert expansions(terms(window), window, initials) == {}
    assert not asked
    window = "The NLI model was tested by the WTO."
    assert list(expansions(terms(window), window, initials)) == ["nli"]
    assert asked == [1]


def test_an_acronym_for_the_evidences_words_is_no_new_name() -> None:
    engine = GroundingEngine(EngineConfig(tier="lexical"), Metrics())
    evidence = engine.prepare(StreamRequest(
        "t", [ContextItem("paper", " ".join(EVIDENCE))], None))
    spelled, other = engine.align([
        CheckJob(evidence, "The NLI model was fine-tuned on three benchmarks.", ""),
        CheckJob(evidence, "The NLX model was fine-tuned on three benchmarks.", "")])
    assert spelled.signals.novel_specifics == 0.0
    assert other.signals.novel_specifics > 0.0


def test_an_acronym_finds_the_sentence_that_spells_it_out() -> None:
    # a probe's earnings summary: "EPS" found the one sentence that writes it (guidance), not
    # the one with the figures the summary's growth rate is worked out of
    call = ("Revenue was $1.42 billion, up 8% from a year ago. Adjusted earnings per share came "
            "in at $1.87, compared with $1.64 in the third quarter of last year. We are keeping "
            "our adjusted EPS guidance unchanged at $7.10 to $7.30, because the higher revenue "
            "is offset by integration costs.")
    engine = GroundingEngine(EngineConfig(tier="lexical"), Metrics())
    evidence = engine.prepare(StreamRequest("t", [ContextItem("call", call)], None))
    aligned, = engine.align([CheckJob(
        evidence, "Adjusted EPS rose about 14% year over year.", "")])
    assert any("$1.87" in s.text for s in aligned.premise.sentences)
    assert not aligned.signals.conflict  # (1.87 - 1.64) / 1.64 is 14.0 %
