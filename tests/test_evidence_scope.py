"""Evidence scoping: a window naming the K-123 is not checked against the K-200's sheet."""

from __future__ import annotations

import asyncio

import pytest

from stream_guard.evidence.context import context_sentences
from stream_guard.evidence.premise import (
    EvidenceSentence,
    SentenceIndex,
    passage_sentences,
    unique_sentences,
)
from stream_guard.evidence.scope import numbered_names, scoped_sentences
from stream_guard.metrics import Metrics
from stream_guard.protocol.frames import ContextItem
from stream_guard.scores import Evidence
from stream_guard.scoring.engine import CheckJob, EngineConfig, GroundingEngine, StreamRequest
from stream_guard.scoring.fusion import CONFLICT_CONTRADICTION
from stream_guard.text.terms import Term, terms


def sheet(model: str, kg: str, watts: int) -> str:
    return (f"The Vantor {model} blender weighs {kg} kg. Its motor is rated at {watts} watts. "
            "It ships with a two-year warranty.")


SHEETS = [("K-200", sheet("K-200", "5.1", 800)), ("K-123", sheet("K-123", "3.2", 800)),
          ("K-310", sheet("K-310", "4.4", 1200))]


def scoped(sentences: list[EvidenceSentence], window: list[Term]) -> list[EvidenceSentence] | None:
    return scoped_sentences(SentenceIndex(sentences), numbered_names(window))


def documents(sentences: list[EvidenceSentence] | None) -> set[str]:
    assert sentences is not None
    return {s.passage.document for s in sentences}


def test_documents_about_another_numbered_variant_are_left_out() -> None:
    sentences = context_sentences(SHEETS)
    kept = scoped(sentences, terms("The K-123 motor is rated at 1200 watts."))
    assert documents(kept) == {"K-123"}
    # The sentence all three sheets share stays, in the kept sheet's own copy.
    assert "Its motor is rated at 800 watts." in {s.text for s in kept or []}


def test_nothing_is_left_out_without_a_reason() -> None:
    sentences = context_sentences(SHEETS)
    # no numbered name in the window: nearly every window
    assert scoped(sentences, terms("The motor is rated at 800 watts.")) is None
    # no document names the window's thing: the name is new, the lexical signals see it
    assert scoped(sentences, terms("The K-999 weighs 3.2 kg.")) is None
    # a document naming both the window's thing and another is about the window's thing too
    both = [*SHEETS, ("compare", "The K-123 is lighter than the K-310.")]
    kept = scoped(context_sentences(both), terms("The K-123 weighs 3.2 kg."))
    assert documents(kept) == {"K-123", "compare"}
    # a window naming two products keeps both sheets
    kept = scoped(sentences, terms("The K-123 is lighter than the K-310."))
    assert documents(kept) == {"K-123", "K-310"}


def test_one_document_is_never_split_against_itself() -> None:
    # One long text naming the F-22 in one chunk and the F-35 in another: chunks of one document.
    passages = [Evidence("jets.md#0", "The F-35 first flew in 2006. It is a stealth fighter."),
                Evidence("jets.md#1", "The F-22 entered service in 2005. Unlike it, the "
                                      "newer jet carries 8,300 kg of fuel internally.")]
    assert scoped(unique_sentences(map(passage_sentences, passages)),
                            terms("The F-35 carries 8,300 kg of fuel internally.")) is None


def test_a_false_figure_from_a_neighbouring_sheet_is_a_contradiction() -> None:
    # Inline context holding a catalogue page of sheets, as a retriever hands them over.
    engine = GroundingEngine(EngineConfig(tier="lexical"), Metrics())
    evidence = engine.prepare(StreamRequest("t", [ContextItem(i, t) for i, t in SHEETS], None))

    async def score(text: str) -> tuple[float, float, list[str]]:
        s = await engine.check(evidence, text, "")
        return s.support, s.contradiction, [e.document for e in s.evidence]

    async def main() -> None:
        try:
            support, contradiction, cited = await score("The Vantor K-123 weighs 5.1 kg.")
            assert contradiction == CONFLICT_CONTRADICTION and support < engine.threshold
            assert cited == ["K-123"]
            _, contradiction, cited = await score("The K-123 motor is rated at 1200 watts.")
            assert contradiction == CONFLICT_CONTRADICTION and cited == ["K-123"]
            support, contradiction, cited = await score("The Vantor K-123 weighs 3.2 kg.")
            assert support >= engine.threshold and contradiction == 0.0 and cited[0] == "K-123"
            support, _, cited = await score("The K-123 motor is rated at 800 watts.")
            assert support >= engine.threshold and cited == ["K-123"]
        finally:
            await engine.close()

    asyncio.run(main())


def test_a_name_no_document_gives_leaves_nothing_out_for_its_sake() -> None:
    # The window names the GPT-4, which a document names, and the Claude-2, which none does as
    # such ("Claude 2"): the Claude-3 page is not about another Claude-2, it holds the figure.
    items = [("gpt4", "GPT-4 scores 86.4% on the MMLU benchmark."),
             ("claude", "Anthropic's Claude-3 family succeeds Claude 2, which scored 78.5% on "
                        "MMLU.")]
    window = terms("Claude-2 scored 78.5% on MMLU, below the 86.4% of GPT-4.")
    assert scoped(context_sentences(items), window) is None
    # The name the documents do give still scopes: the K-200's sheet stays out for the K-123.
    kept = scoped(context_sentences(SHEETS), terms("The K-123 and K-999 weigh 3.2 kg."))
    assert documents(kept) == {"K-123"}


def test_a_document_naming_another_variant_in_passing_is_no_sibling_and_stays() -> None:
    # A shared policy that names a model as an example is about every model.
    policy = ("policy", "Warranty policy. Every Vantor blender, from the entry K-200 upward, "
                        "comes with a two-year warranty. Returns are accepted within 30 days.")
    kept = scoped(context_sentences([*SHEETS, policy]),
                            terms("The K-123 can be returned within 30 days."))
    assert documents(kept) == {"K-123", "policy"}  # the K-200's and K-310's sheets still out
    # An article's chunks sent as items of their own: the second compares the jet with the F-22.
    chunks = [("jets-0", "The F-35 first flew in 2006. It is a stealth fighter."),
              ("jets-1", "The F-22 entered service in 2005. Unlike it, the newer jet carries "
                         "8,300 kg of fuel internally.")]
    assert scoped(context_sentences(chunks),
                            terms("The F-35 carries 8,300 kg of fuel internally.")) is None
    # A sheet of figures alone is a sibling.
    kept = scoped(context_sentences([*SHEETS, ("K-400", "K-400: 3.2 kg, 800 W.")]),
                            terms("The K-123 weighs 3.2 kg."))
    assert documents(kept) == {"K-123"}


def test_a_true_claim_from_a_shared_policy_is_not_halted() -> None:
    engine = GroundingEngine(EngineConfig(tier="lexical"), Metrics())
    items = [*SHEETS, ("policy", "Every Vantor blender, from the entry K-200 upward, is covered "
                                 "for two years. Returns are accepted within 30 days.")]
    evidence = engine.prepare(StreamRequest("t", [ContextItem(i, t) for i, t in items], None))

    async def main() -> None:
        try:
            s = await engine.check(evidence, "The K-123 can be returned within 30 days.", "")
            assert s.support >= engine.threshold and s.contradiction == 0.0
            assert "policy" in {e.document for e in s.evidence}
        finally:
            await engine.close()

    asyncio.run(main())


def test_an_item_without_an_id_is_one_document() -> None:
    # Its chunks are "#0", "#1", ...: one document, never split against itself.
    assert Evidence("#3", "x").document == "" and Evidence("a#b#2", "x").document == "a#b"
    assert Evidence("plain", "x").document == "plain"


def test_copies_of_a_sentence_are_indexed_once() -> None:
    # 256 identical items: every copy kept (scoping may need any), one indexed, packed once.
    items = [(f"i{n}", SHEETS[0][1]) for n in range(256)]
    index = SentenceIndex(context_sentences(items))
    assert len(index.sentences) == 3 * 256 and len(index) == 3
    premise = index.focus(terms("Its motor is rated at 800 watts and it weighs 5.1 kg."))
    assert len({s.text for s in premise.sentences}) == len(premise.sentences) == 2


def test_a_stream_scopes_its_evidence_once_per_set_of_names() -> None:
    engine = GroundingEngine(EngineConfig(tier="lexical"), Metrics())
    evidence = engine.prepare(StreamRequest("t", [ContextItem(i, t) for i, t in SHEETS], None))
    engine.align([CheckJob(evidence, "The K-123 weighs 3.2 kg.", ""),
                  CheckJob(evidence, "The K-123 is rated at 800 watts.", ""),
                  CheckJob(evidence, "Blenders are loud.", "")])
    # keyed by the names, and whether the user's own words are in (no prompt here)
    assert list(evidence.scoped) == [(frozenset({"k-123"}), False)]
    first = evidence.scoped[(frozenset({"k-123"}), False)]
    assert first is not None and {s.passage.document for s in first[0].sentences} == {"K-123"}
    engine.align([CheckJob(evidence, "The K-123 ships with a warranty.", "")])
    assert evidence.scoped[(frozenset({"k-123"}), False)] is first


def test_each_passage_is_read_for_quantities_once_however_many_names_are_scoped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A review: every new set of names read the quantities of all the text it kept again (a
    third of a second a window over a 60 KB table shared by every sheet), and a stream could
    name another in every window. Passages are read once; a scope merges theirs."""
    from stream_guard.scoring import engine as engine_module

    table = " ".join(f"Part {i} weighs {i}.5 kg." for i in range(30))
    items = [*SHEETS, ("parts", table)]
    reads: list[str] = []
    read = engine_module.quantity_index

    def counted(text: str) -> dict[str, frozenset[str]]:
        reads.append(text)
        return read(text)

    monkeypatch.setattr(engine_module, "quantity_index", counted)
    monkeypatch.setattr(engine_module, "SCOPES_PER_STREAM", 1)  # every new name, a new scope
    engine = GroundingEngine(EngineConfig(tier="lexical"), Metrics())
    evidence = engine.prepare(StreamRequest("t", [ContextItem(i, t) for i, t in items], None))
    reads.clear()
    for _ in range(3):
        for model in ("K-200", "K-123", "K-310"):
            engine.align([CheckJob(evidence, f"The {model} weighs 9 kg.", "")])
    assert len([text for text in reads if text.startswith("Part 0")]) == 1
    assert len(reads) == len(set(reads))  # each passage (sheets, the table's chunks), once
    scope = evidence.scoped[(frozenset({"k-310"}), False)]
    assert scope is not None and scope[1]["kg"] >= {"4.4", "0.5", "29.5"}
    assert "5.1" not in scope[1]["kg"]  # the K-200's weight is no figure of the K-310's


def test_a_figure_split_between_two_chunks_of_a_document_is_read_whole() -> None:
    """A review: read passage by passage, a scope lost the unit of a figure whose document was
    chunked mid-phrase ("$30 | million"), and the true claim conflicted. A scope reads each
    document it keeps whole, as the stream's evidence is read."""
    from stream_guard.scoring.engine import _scoped
    from stream_guard.text.quantities import (
        drop_worked_out,
        quantity_conflict,
        quantity_index,
        resolve_hedged_numbers,
    )

    items = [(f"d{i}", f"The K-{i} sheet. " + " ".join(
        f"variant {j} weighs {j * 7} kg and costs ${j * 3} million and is {j} m tall"
        for j in range(1, 14))) for i in range(1, 4)]
    index = SentenceIndex(context_sentences(items))
    scope = _scoped(index, frozenset({"k-2"}), {})
    assert scope is not None and len({s.passage.id for s in scope[0].sentences}) > 1
    assert scope[1] == quantity_index(
        "\n".join(dict.fromkeys(s.passage.text for s in scope[0].sentences)))
    window = "The K-2 variant 10 costs $30 million."
    read = drop_worked_out(resolve_hedged_numbers(window, scope[1]), scope[1])
    assert not quantity_conflict(read, scope[1])
