"""The demo's scripted answer, streamed to a server on the default tier and shipped detector.

The README's demo and voice example run on the default settings; this pins that the shipped
detector (not only the lexical tier) halts the scenario's fabricated sentence (the lifetime
warranty that covers accidental damage, which the evidence limits to one year and excludes)
at its first character, and lets every true sentence before it through.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stream_guard.config import Settings
from tests.conftest import make_settings, running_server
from tests.wsclient import open_ws, recv, send, stream_text

pytestmark = pytest.mark.slow  # the shipped detector

SCENARIO = Path(__file__).resolve().parents[1] / "clients" / "js" / "demo" / "scenario.json"


def _default_settings(tmp_path: Path, model_cache: Path) -> Settings:
    """The default settings, without verdict deadlines: these tests pin what the shipped
    detector decides, and on a loaded test machine a window past its deadline gets the lexical
    tier's verdict instead (a CI run under load missed a halt that way); as `stream-guard eval`
    replays."""
    return make_settings(tmp_path, tier="cascade", cache_dir=model_cache, verdict_deadline_ms=0)
CLAIM = "Every purchase also comes with a lifetime warranty"


async def test_default_detector_halts_the_demo_fabrication(tmp_path: Path,
                                                           model_cache: Path) -> None:
    scenario = json.loads(SCENARIO.read_text())
    answer: str = scenario["answer"]
    settings = _default_settings(tmp_path, model_cache)
    assert settings.detector == "default" and settings.threshold is None
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "demo", answer, context=scenario["evidence"], piece=5)
    halt = next(f for f in frames if f["type"] == "halt")
    assert halt["at"] == answer.index(CLAIM)
    # The passages the halting window was checked against, the warranty terms first.
    assert halt["evidence"] and halt["evidence"][0]["id"] == "warranty#0"
    before = [f for f in frames if f["type"] == "verdict" and f["end"] <= answer.index(CLAIM)]
    assert len(before) == 3 and all(f["label"] == "supported" for f in before)
    assert frames[-1]["type"] == "done" and frames[-1]["halted"] is True


PROTOCOL = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"


async def test_the_protocol_docs_example_is_what_the_server_answers(
        tmp_path: Path, model_cache: Path) -> None:
    """docs/protocol.md's example, replayed on the default settings: its offsets were one
    short of the server's (a review found it). Evidence and scores are the docs' to abridge;
    every other field must be as shown."""
    block = PROTOCOL.read_text().split("## Example", 1)[1].split("```")[1]
    lines = [line.split(" ", 1) for line in block.strip().splitlines()]
    sent = [json.loads(text) for arrow, text in lines if arrow == "→"]
    shown = [json.loads(text.replace("[…]", "null")) for arrow, text in lines if arrow == "←"]
    settings = _default_settings(tmp_path, model_cache)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        got = []
        for frame in sent:
            await send(ws, frame)
            if frame["type"] == "delta" and frame["seq"] == 1:  # the docs show answers here
                got += [await recv(ws) for _ in range(3)]
        while not got or got[-1]["type"] != "done":
            got.append(await recv(ws))
    assert len(got) == len(shown)
    for frame, doc in zip(got, shown, strict=True):
        for key in ("evidence", "score"):
            if key in doc:
                assert key in frame
                frame.pop(key), doc.pop(key)
        assert frame == doc


CURIE = ["Marie Curie was a physicist and chemist born in Warsaw in 1867. She won the Nobel "
         "Prize in Physics in 1903 with Pierre Curie and Henri Becquerel, and the Nobel Prize "
         "in Chemistry in 1911."]


@pytest.mark.parametrize("opener", [
    "A few highlights:", "Great question! Let me explain.", "### Key achievements",
    "Based on the provided context, here is the answer."])
async def test_an_answers_opener_is_not_a_claim(opener: str, tmp_path: Path,
                                                model_cache: Path) -> None:
    """Openers like these halted faithful answers at offset 0, before their first fact (a
    review found it); a false claim after one halts at its own first character."""
    settings = _default_settings(tmp_path, model_cache)
    async with running_server(settings) as server:
        for claim, halts in (("She won the Nobel Prize in Physics in 1903.", False),
                             ("She won the Nobel Prize in Physics in 1925.", True)):
            answer = f"{opener}\n{claim} "
            async with open_ws(server.port) as ws:
                frames = await stream_text(ws, "s", answer, context=CURIE, piece=5)
            halt = [f for f in frames if f["type"] == "halt"]
            assert [h["at"] for h in halt] == ([answer.index(claim)] if halts else [])


REFUNDS = ["Refunds: you can return items within 30 days of delivery for a full refund, "
           "provided they are unused and in their original packaging. Q3 2024 results: "
           "revenue rose 12% to $4.8 billion and the operating margin was 18.5%.",
           "The XR-7 battery charges fully in 2 hours; a quick charge to 50% takes 35 minutes. "
           "The XR-7 weighs 1.2 kg.",
           "The community library opened on 2024-07-09. It lends books for 21 days."]


@pytest.mark.parametrize("answer, wrong", [
    # a markdown table's head (column names) halted faithful tables at offset 0
    ("| Metric | Value |\n|---|---|\n| Revenue | $4.8 billion |\n"
     "| Operating margin | 18.5% |\n", None),
    ("Here is a summary:\n\n| Metric | Value |\n| :--- | ---: |\n| Revenue | $4.8 billion |\n",
     None),
    ("| Metric | Value |\n|---|---|\n| Revenue | $9.1 billion |\n", "| Revenue | $9.1"),
    # a support answer's empathy opener and closers halted it at offset 0 or at its end
    ("I understand your frustration. You can return items within 30 days of delivery. "
     "Would you like me to start a return for you?", None),
    ("You can return items within 30 days of delivery. Sorry for the inconvenience! "
     "Feel free to reach out if you need anything else.", None),
    ("I understand your frustration. You can return items within 90 days of delivery. "
     "Happy shopping!", "You can return items within 90"),
    # a figure in another unit is the evidence's (it was halted as contradicted)
    ("The XR-7 battery charges fully in 120 minutes. The XR-7 weighs 1,200 grams.", None),
    ("The XR-7 battery charges fully in 150 minutes.", "The XR-7 battery charges fully in 150"),
    # a date written another way is the same date (an ISO date in words halted at once)
    ("The community library opened on July 9, 2024.", None),
    ("The community library opened on July 9, 2023.", "The community library opened on July 9"),
])
async def test_realistic_answers_halt_only_at_their_false_claim(
        answer: str, wrong: str | None, tmp_path: Path, model_cache: Path) -> None:
    """A review's realistic answers halted on what states nothing new: a table's column
    names, a support answer's empathy line, offer or closer, a figure converted to another
    unit. They pass; a false row or claim beside them still halts at its own first
    character."""
    settings = _default_settings(tmp_path, model_cache)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "s", answer, context=REFUNDS, piece=5)
    halt = [f for f in frames if f["type"] == "halt"]
    assert [h["at"] for h in halt] == ([] if wrong is None else [answer.index(wrong)])


MANUALS = ["Do not use aerosol cooking sprays in the basket; they damage the non-stick coating. "
           "Use a pump oil mister or brush oil on the food instead. Let the appliance cool for "
           "30 minutes before cleaning.",
           "Compute (x86): $0.0000166667 per GB-second. Compute (Arm): $0.0000133334 per "
           "GB-second. The Pro plan costs $866 per month.",
           "Parliament responded quickly. Within 18 days it passed legislation enabling the "
           "Metropolitan Board of Works to fund a new sewer system."]


@pytest.mark.parametrize("answer, wrong", [
    # a short sentence leaning on what follows still halts with it where that one is false
    ("Yes. Let it cool for 10 minutes before cleaning.", "Yes. Let"),
    ("No. Let it cool for 10 minutes before cleaning.", "No. Let"),
    ("It's best not to. Let it cool for 10 minutes before cleaning.", "It's best not"),
    # figures written to fewer places, or money after a hedge, are the evidence's
    ("Arm compute costs $0.0000133 per GB-second against $0.0000167 for x86.", None),
    ("The Pro plan costs about $870 per month.", None),
    ("The Pro plan costs about $620 per month.", "The Pro plan costs about $620"),
])
async def test_leaning_sentences_and_rounded_figures_halt_only_when_false(
        answer: str, wrong: str | None, tmp_path: Path, model_cache: Path) -> None:
    """A second set of realistic answers (docs/results/realistic-probe2.jsonl) halted on a
    short sentence that leans on the question ("It's best not to.") and on figures rounded
    to fewer places or money after a hedge ("about $870"). They pass; a false claim halts."""
    settings = _default_settings(tmp_path, model_cache)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "s", answer, context=MANUALS, piece=5)
    halt = [f for f in frames if f["type"] == "halt"]
    assert [h["at"] for h in halt] == ([] if wrong is None else [answer.index(wrong)])


PROBE2 = Path(__file__).resolve().parents[1] / "docs" / "results" / "realistic-probe2.jsonl"


@pytest.mark.parametrize("record_id", ["p2-appliance-07", "p2-course-05"])
async def test_a_short_sentence_leaning_on_the_question_is_judged_with_the_next(
        record_id: str, tmp_path: Path, model_cache: Path) -> None:
    """Faithful answers of the probe that opened with "It's best not to." and "Not
    necessarily." halted there: alone, such a sentence lacks the words its evidence uses."""
    record = next(r for r in map(json.loads, PROBE2.read_text().splitlines())
                  if r["id"] == record_id)
    assert record["label"] == 0
    settings = _default_settings(tmp_path, model_cache)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "s", record["response"], context=[record["context"]],
                                   piece=5)
    assert [f for f in frames if f["type"] == "halt"] == []


LONG_PROBES = [Path(__file__).resolve().parents[1] / "docs" / "results" / name
               for name in ("long-answer-probe.jsonl", "long-answer-probe2.jsonl")]


@pytest.mark.parametrize("record_id", [
    "lp1-walkingstudy-f1", "lp1-walkingstudy-f2", "lp1-obituary-f1",
    "lp2-marrowick-history-f2", "lp2-salt-archive-review-f2", "lp2-marrowick-history-e2",
    "lp3-keynote-f1", "lp3-railway-f2"])
async def test_long_answers_open_without_halting_on_what_they_announce(
        record_id: str, tmp_path: Path, model_cache: Path) -> None:
    """Faithful long answers (docs/results/long-answer-probe*.jsonl) halted on an opener:
    "Here's a summary of the obituary.", a sentence announcing what follows ("The article
    points to several limitations."), a paragraph's short topic sentence ("Money was also a
    problem."), or "just over eight years" for 8.3 read as a changed figure. They pass; a
    planted error right after such an opener still halts, in a window that holds it."""
    record = next(r for probe in LONG_PROBES
                  for r in map(json.loads, probe.read_text().splitlines())
                  if r["id"] == record_id)
    settings = _default_settings(tmp_path, model_cache)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "s", record["response"], context=[record["context"]],
                                   piece=20)
    halts = [f for f in frames if f["type"] == "halt"]
    if record["label"] == 0:
        assert halts == []
    else:
        (halt,) = halts
        assert halt["at"] <= record["onset"] < halt["window"]["end"]


PLANS = ["Acme Basic costs $19 per month and includes 1 user seat. Acme Pro costs $49 per month "
         "and includes 5 user seats. Acme Enterprise costs $199 per month and includes unlimited "
         "seats."]
SUPPORT = ["Orders ship within 2 business days. Returns are accepted within 30 days if the item "
           "is unused. Gift cards cannot be returned."]


async def test_the_users_own_time_gone_by_is_not_the_policys_span(
        tmp_path: Path, model_cache: Path) -> None:
    """A review: "You bought your hiking boots 12 days ago.", restating the user's prompt, was
    contradicted by the policy's "within 30 days"."""
    prompt = "I bought a pair of hiking boots 12 days ago and they're still unworn. Can I return?"
    async with running_server(_default_settings(tmp_path, model_cache)) as server, \
            open_ws(server.port) as ws:
        frames = await stream_text(ws, "s", "You bought your hiking boots 12 days ago. Returns "
                                   "are accepted within 30 days if the item is unused.",
                                   context=SUPPORT, piece=5, prompt=prompt)
    assert frames[-1]["type"] == "done" and frames[-1]["halted"] is False, frames


@pytest.mark.parametrize(("context", "answer"), [
    # a table's head of attributes, checked with its first row (alone it halted at 0)
    (PLANS, "Here's how the plans compare:\n\n| Plan | Price | Seats |\n|---|---|---|\n"
            "| Basic | $19/month | 1 |\n| Pro | $49/month | 5 |\n"),
    # a support bot's talk around its claims
    (SUPPORT, "Hi there! How can I help you today?"),
    (SUPPORT, "Sure thing! Let me look into that for you. One moment... Okay, orders ship "
              "within 2 business days. Is there anything else you need?"),
    (SUPPORT, "Hi Maria,\n\nThanks for reaching out. Returns are accepted within 30 days if the "
              "item is unused.\n\nBest regards,\nThe Acme Support Team"),
])
async def test_faithful_support_answers_are_not_halted(
        tmp_path: Path, model_cache: Path, context: list[str], answer: str) -> None:
    """A review's faithful answers, each halted on the default detector at a table's head, a
    greeting, a hold or a signature."""
    async with running_server(_default_settings(tmp_path, model_cache)) as server, \
            open_ws(server.port) as ws:
        frames = await stream_text(ws, "s", answer, context=context, piece=5)
    assert frames[-1]["type"] == "done" and frames[-1]["halted"] is False, frames
