"""Acronyms an answer writes for words its evidence spells out (stream_guard.text.acronyms)."""

from __future__ import annotations

import pytest

from stream_guard.metrics import Metrics
from stream_guard.protocol.frames import ContextItem
from stream_guard.scoring.engine import CheckJob, EngineConfig, GroundingEngine, StreamRequest
from stream_guard.text.acronyms import Initials, capitalised_tokens, spelled_out
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
    assert Initials(EVIDENCE).spell(acronym) is spelled


def test_only_tokens_written_in_capitals_are_read_as_acronyms() -> None:
    found = capitalised_tokens("The NLI model, the EU and the DoD funded NGOs; Nli and Hello no.")
    assert found == {"nli": "NLI", "eu": "EU", "dod": "DOD", "ngo": "NGO"}


def test_an_acronym_is_looked_up_only_where_the_evidence_does_not_know_it() -> None:
    asked: list[int] = []

    def initials() -> Initials:
        asked.append(1)
        return Initials(EVIDENCE)

    keys = frozenset({"nli", "model", "benchmark"})
    window = "The NLI model was tested on three benchmarks."
    assert spelled_out(terms(window), window, keys, initials) == frozenset()
    assert not asked  # the evidence writes "NLI" itself: its own term
    window = "The NLI model was tested by the WTO."
    assert spelled_out(terms(window), window, frozenset({"model"}), initials) == {"nli"}
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
