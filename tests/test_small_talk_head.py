"""The small-talk head: small talk on the listener's life told from claims by its meaning.

On the real packaged embedder and the shipped head (``stream_guard/models/detector/
small_talk.json``), and through a real server on the default detector: a faithful answer that
opens with small talk in words no list holds is not halted, and a claim in a friendly line
still is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stream_guard.models.embedder import SentenceEmbedder
from stream_guard.models.small_talk import SmallTalkHead, load_small_talk_head, pieces
from tests.conftest import make_settings, running_server
from tests.wsclient import open_ws, stream_text

pytestmark = pytest.mark.slow  # the packaged embedder and the shipped detector


def _head() -> SmallTalkHead:
    head = load_small_talk_head()
    assert head is not None, "the package ships the small-talk head"
    return head


def test_the_head_is_tied_to_the_embedder_it_was_fitted_on(minilm: SentenceEmbedder) -> None:
    head = _head()
    assert head.reads(minilm)
    assert head.weights.shape == (minilm.dim,)
    other = SmallTalkHead("another model", head.weights, head.bias, head.threshold)
    assert not other.reads(minilm)
    again = SmallTalkHead.from_json(head.to_json())
    assert again.fingerprint == head.fingerprint and again.threshold == head.threshold
    assert np.allclose(again.weights, head.weights, atol=1e-6)


def test_a_line_is_read_whole_and_clause_by_clause() -> None:
    assert pieces("Sounds like a blast!") == ["Sounds like a blast!"]
    line = "Happy birthday — the rooftop pool is heated all year round!"
    assert pieces(line) == [line, "Happy birthday", "the rooftop pool is heated all year round"]


@pytest.mark.parametrize("line", [
    "Poor Biscuit, that must be really worrying for you.",
    "I'm sorry Biscuit is poorly — I really hope he perks up soon.",
])
def test_small_talk_in_words_of_its_own(minilm: SentenceEmbedder, line: str) -> None:
    from stream_guard.text.stance import chats_about_listener
    from stream_guard.text.terms import term_keys

    assert not chats_about_listener(line, term_keys(line), frozenset())  # no formula of it
    assert _head().small_talk(minilm, [line]) == [True]


@pytest.mark.parametrize("line", [
    "Happy birthday — the rooftop pool is heated all year round!",
    "How cool, Tom Hardy played the lead role!",
    "It's a great movie.",  # an opinion, which BEGIN counts as unattributable
    "Safe travels — the ferry crossing takes about ninety minutes.",
    "The Eiffel Tower is made of gold.",
])
def test_claims_in_a_friendly_line_are_not(minilm: SentenceEmbedder, line: str) -> None:
    assert _head().small_talk(minilm, [line]) == [False]


VET = ("Biscuit's appointment: consultations cost £48 and include a weight check. Repeat "
       "prescriptions are ready 48 hours after you order them. The surgery is open 8am to 7pm "
       "on weekdays.")
PROMPT = "My dog Biscuit isn't well and I'm worried. How much is a consultation?"


@pytest.mark.parametrize(("answer", "halted"), [
    ("Poor Biscuit, that must be really worrying for you. A consultation costs £48, and it "
     "includes a weight check.", False),
    # a claim in the friendly line: it is checked as any other (and its figure is wrong)
    ("Poor Biscuit, a consultation is just £30, so that's one less worry for you. A "
     "consultation includes a weight check.", True),
])
async def test_small_talk_through_the_server(tmp_path: Path, model_cache: Path, answer: str,
                                             halted: bool) -> None:
    settings = make_settings(tmp_path, tier="cascade", embedder="minilm",
                             cache_dir=model_cache, verdict_deadline_ms=0)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "vet", answer, context=[{"id": "vet", "text": VET}],
                                   prompt=PROMPT)
    first = next(f for f in frames if f["type"] == "verdict")
    assert first["end"] < answer.index("A consultation")  # the friendly line, on its own
    assert (first["label"] == "supported") is not halted
    assert [f["at"] for f in frames if f["type"] == "halt"] == ([0] if halted else [])
    assert frames[-1]["type"] == "done" and frames[-1]["halted"] is halted


def test_the_written_data_and_the_fit() -> None:
    """The head's written lines are labelled both ways in equal numbers, and the fit it is
    trained with separates what is separable."""
    import json

    from stream_guard.train.small_talk import WRITTEN, fit

    rows = [json.loads(line) for line in WRITTEN.read_text(encoding="utf-8").splitlines()]
    assert {r["label"] for r in rows} == {0, 1}
    assert sum(r["label"] for r in rows) * 2 == len(rows)
    assert len({r["text"] for r in rows}) == len(rows)
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(1.0, 0.3, (40, 8)), rng.normal(-1.0, 0.3, (200, 8))])
    y = np.array([1.0] * 40 + [0.0] * 200)
    w, b = fit(x.astype(np.float32), y)
    assert ((x @ w + b > 0) == (y == 1)).all()


async def test_calibration_scores_windows_as_the_server_does(tmp_path: Path,
                                                              model_cache: Path) -> None:
    """The policy is fitted on supports the calibration computes (``train.calibrate``): they
    must be the server's, small-talk head and prompt included. The calibration built its engine
    without the head and without the prompt, so the tune simulation halted the friendly line
    below where the server passes it."""
    from stream_guard.dataset import Record
    from stream_guard.train.calibrate import WindowScorer, score_windows, window_support

    answer = ("Poor Biscuit, that must be really worrying for you. A consultation costs £48, "
              "and it includes a weight check.")
    # Every window's score the detector's fused one, as the calibration computes it (a window
    # settled without the detector gets the lexical fusion's score, and the same decision).
    settings = make_settings(tmp_path, tier="cascade", embedder="minilm",
                             cache_dir=model_cache, verdict_deadline_ms=0, settle_windows=False)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "vet", answer, context=[VET], prompt=PROMPT)
    served = [(f["start"], f["end"], f["score"]) for f in frames if f["type"] == "verdict"]
    scorer = WindowScorer.load(cache_dir=model_cache)
    record = Record("vet", "probe", VET, PROMPT, answer, 0, None)
    windows = score_windows(scorer.engine, [record], scorer.pipeline)
    fusion = scorer.engine.fusion[0] if scorer.engine.fusion else None
    computed = [(w.start, w.end, window_support(w.aligned.signals, w.model_support, fusion)[0])
                for w in windows]
    assert [(s, e) for s, e, _ in served] == [(s, e) for s, e, _ in computed]
    assert served[0][2] >= 0.9  # the friendly line, read as small talk
    for (_, _, got), (_, _, want) in zip(served, computed, strict=True):
        assert got == pytest.approx(want, abs=1e-3)
