"""The model tier through the server: one (premise, window) pair per window, the fused score,
and degraded verdicts when the model cannot meet a window's deadline."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from stream_guard.dataset import Record
from stream_guard.evidence.context import context_sentences
from stream_guard.evidence.premise import SentenceIndex
from stream_guard.metrics import Metrics
from stream_guard.models.cross_encoder import load_detector
from stream_guard.oversight.policy import Bands
from stream_guard.scores import Pair
from stream_guard.scoring.engine import EngineConfig, GroundingEngine
from stream_guard.scoring.fusion import (
    LEXICAL_FEATURES,
    MODEL_FEATURES,
    Fusion,
    window_support,
)
from stream_guard.text.terms import terms
from stream_guard.train.calibrate import ScoredWindow, WindowScorer, score_windows
from tests.conftest import make_settings, running_server
from tests.scorers import LexicalScorer
from tests.test_models_cross_encoder import THREE_WAY, _save_tiny
from tests.wsclient import http, open_ws, recv, send, stream_text

pytestmark = pytest.mark.slow

CONTEXT = "The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris."
COVERED = "The Eiffel Tower was completed in 1889. "
VAGUE = "Visitors often describe the view as breathtaking. "


def _premise(window: str) -> str:
    return SentenceIndex(context_sentences([("c", CONTEXT)])).focus(
        terms(window)).text


async def test_every_window_is_one_focused_pair_for_the_model(
        tmp_path: Path, model_cache: Path) -> None:
    detector = _save_tiny(tmp_path / "tiny-nli", model_cache, arch="bert", id2label=THREE_WAY)
    settings = make_settings(tmp_path, tier="cascade", detector=str(detector),
                             cache_dir=model_cache, threshold=0.0, contradiction_threshold=1.0)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "s1", COVERED + VAGUE, context=[CONTEXT])
        verdicts = [f for f in frames if f["type"] == "verdict"]
        metrics = (await http(server.port, "GET", "/metrics")).body.decode()
    scorer = load_detector(str(detector), cache_dir=model_cache, backend="onnx", device="cpu")
    for frame, window, previous in zip(verdicts, (COVERED, VAGUE), ("", COVERED.strip()),
                                       strict=True):
        # no fusion shipped with this model: the window's support is the model's probability
        # (of the pair with the window before it as context: the model does not say it was
        # trained without)
        expected = scorer.score_pairs([Pair(_premise(window), window.strip(), previous)])[0].support
        assert frame["score"] == pytest.approx(expected, abs=1e-3)
        assert "degraded" not in frame
    assert verdicts[0]["evidence"][0]["id"] == "ctx-0#0"
    assert 'stream_guard_tier_decisions_total{tier="model"} 2.0' in metrics


async def test_the_shipped_fusion_combines_model_and_lexical_signals(
        tmp_path: Path, model_cache: Path) -> None:
    detector = _save_tiny(tmp_path / "tiny", model_cache, arch="bert", id2label=THREE_WAY)
    # support = sigmoid(10 * coverage - 5): the model's weight is 0, coverage decides
    weights = [0.0] * len(MODEL_FEATURES)
    weights[MODEL_FEATURES.index("coverage")] = 10.0
    (detector / "detector.json").write_text(json.dumps({"threshold": 0.5, "fusion": {
        "model": {"features": list(MODEL_FEATURES), "weights": weights, "bias": -5.0},
        "lexical": {"features": list(LEXICAL_FEATURES), "weights": [0.0] * len(LEXICAL_FEATURES),
                    "bias": 0.0}}}))
    # no deadline: on a loaded machine a late window is scored by the lexical fusion alone
    # (degraded), whose weights here are all 0
    settings = make_settings(tmp_path, tier="cascade", detector=str(detector),
                             cache_dir=model_cache, verdict_deadline_ms=0)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "s1", COVERED + VAGUE, context=[CONTEXT])
    first, second = [f for f in frames if f["type"] == "verdict"]
    assert first["score"] == pytest.approx(1 / (1 + math.exp(-5)), abs=1e-3)
    assert second["score"] < 0.05 and second["label"] == "unsupported"
    assert frames[-1]["halted"] is True


async def test_windows_past_their_deadline_get_degraded_lexical_verdicts(
        tmp_path: Path, model_cache: Path) -> None:
    """Overload over a real socket: with a deadline no model turn can meet, windows are scored
    by the lexical tier, marked degraded, and every stream still finishes with all verdicts."""
    detector = _save_tiny(tmp_path / "tiny", model_cache, arch="bert", id2label=THREE_WAY)
    settings = make_settings(tmp_path, tier="cascade", detector=str(detector),
                             cache_dir=model_cache, threshold=0.5, verdict_deadline_ms=0.001)
    sentences = [COVERED, "It is 330 metres tall. ", "It stands in Paris. "] * 4
    async with running_server(settings) as server, open_ws(server.port) as ws:
        for n in range(6):
            await send(ws, {"type": "start", "stream_id": f"s{n}", "context": [CONTEXT]})
        for n in range(6):
            for seq, sentence in enumerate(sentences):
                await send(ws, {"type": "delta", "stream_id": f"s{n}", "seq": seq,
                                "text": sentence})
            await send(ws, {"type": "end", "stream_id": f"s{n}"})
        done: dict[str, dict[str, object]] = {}
        verdicts = []
        while len(done) < 6:
            frame = await recv(ws)
            if frame["type"] == "verdict":
                verdicts.append(frame)
            elif frame["type"] == "done":
                done[str(frame["stream_id"])] = frame
        metrics = (await http(server.port, "GET", "/metrics")).body.decode()
    assert len(verdicts) == 6 * len(sentences)
    degraded = [v for v in verdicts if v.get("degraded") is True]
    assert degraded, "no window was degraded although no deadline could be met"
    assert all(v["label"] == "supported" for v in degraded)  # covered text: no halt on noise
    assert all(d["halted"] is False for d in done.values())
    assert "stream_guard_degraded_windows_total" in metrics


@pytest.mark.parametrize(("tier", "setting", "detector", "expected"), [
    ("cascade", None, True, True),  # the detector's calibration decides
    ("cascade", None, None, False),  # a detector without one: off
    ("cascade", False, True, False),  # the operator's setting wins
    ("lexical", None, True, False),  # no model, no detector calibration
    ("lexical", True, None, True),
])
def test_run_at_end_comes_from_settings_else_the_detector(
        tier: str, setting: bool | None, detector: bool | None, expected: bool) -> None:
    engine = GroundingEngine(EngineConfig(tier=tier, run_at_end=setting), Metrics(),
                             model=LexicalScorer(), model_run_at_end=detector)
    assert engine.run_at_end is expected


async def test_the_opposites_table_is_read_as_the_engine_is_built(tmp_path: Path) -> None:
    """A review: the 213 KB word table was read by the first window the model checked, on the
    scheduler's thread and inside that window's verdict deadline."""
    from stream_guard.scoring.factory import build_engine
    from stream_guard.text import opposites

    opposites._tables.cache_clear()
    engine = await build_engine(make_settings(tmp_path, tier="cascade", embedder="none"),
                                Metrics())
    try:
        assert opposites._tables.cache_info().currsize == 1
    finally:
        await engine.close()


@pytest.mark.parametrize(("instances", "threads", "expected"), [
    (3, 0, 3),  # asked for
    (0, 1, 1),  # threads the settings fix: one instance unless asked
])
async def test_the_engine_runs_the_model_instances_the_settings_give(
        tmp_path: Path, instances: int, threads: int, expected: int) -> None:
    from stream_guard.scoring.factory import build_engine

    engine = await build_engine(make_settings(tmp_path, tier="cascade", embedder="none",
                                              model_instances=instances,
                                              intra_op_threads=threads), Metrics())
    try:
        assert engine.scheduler.instances == expected
    finally:
        await engine.close()


async def test_a_lexical_engine_runs_one_instance_and_resolves_no_device(tmp_path: Path) -> None:
    """A review: choosing the instances resolved the device for every tier, so a lexical
    server (no model) asked for CUDA on a host without it refused to start."""
    from stream_guard.scoring.factory import build_engine

    engine = await build_engine(make_settings(tmp_path, tier="lexical", embedder="none",
                                              device="cuda", model_instances=0), Metrics())
    try:
        assert engine.scheduler.instances == 1
    finally:
        await engine.close()


# Answers to one context, each window of a kind the engine settles or must not: copies,
# rewordings, a figure changed, a negation added, names and figures the evidence never states.
SETTLE_CONTEXT = ("The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris. "
                  "Gustave Eiffel's company designed and built the tower. It is not open "
                  "at night in winter. About seven million people visit it every year.")
SETTLE_ANSWERS = (
    "The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris.",
    "About seven million people visit it every year. It is not open at night in winter.",
    "The tower rises 330 metres over Paris. Its builder was Gustave Eiffel's firm.",
    "The Eiffel Tower is 450 metres tall. It was completed in 1925 in Lyon.",
    "It is open at night in winter. Gustave Eiffel's company did not build the tower.",
    "Marguerite Vandelay sold it to Orlaith Kettleborn for 14 million francs in 1902.",
    "Visitors often describe the view as breathtaking. Tickets sell out fast in summer.",
)


@pytest.fixture(scope="module")
def settling(model_cache: Path) -> tuple[GroundingEngine, list[ScoredWindow]]:
    """The shipped detector's engine (as the calibration builds it) and every window of the
    answers above, aligned and scored by the detector."""
    scorer = WindowScorer.load(cache_dir=model_cache)
    records = [Record(f"r{n}", "test", SETTLE_CONTEXT, None, answer, 0, None)
               for n, answer in enumerate(SETTLE_ANSWERS)]
    return scorer.engine, score_windows(scorer.engine, records, scorer.pipeline)


def test_a_settled_window_gets_the_verdict_the_detector_would_give(
        settling: tuple[GroundingEngine, list[ScoredWindow]]) -> None:
    """The shipped detector and fusion: every window the engine settles without the detector
    falls in the halt policy's band, with the contradiction, that the detector's own score
    gives it (so no decision changes), and the windows settled and those sent to it are both
    there."""
    engine, windows = settling
    assert engine.fusion is not None
    bands = engine.bands()
    assert bands == Bands(engine.threshold, engine.threshold - engine.clear_margin,
                          engine.settings.contradiction_threshold)
    settled = 0
    for w in windows:
        fixed = engine.settled(w.aligned)
        if fixed is None:
            continue
        settled += 1
        scored = window_support(w.aligned.signals, w.model_support, engine.fusion[0])
        assert bands.verdict(fixed.support, fixed.contradiction) is bands.verdict(*scored), \
            w.aligned.text
        assert not fixed.degraded
        assert fixed.evidence  # the passages its premise came from, as a scored window's
    assert 0 < settled < len(windows)
    by_text = {w.aligned.text: engine.settled(w.aligned) for w in windows}
    copied = by_text["The Eiffel Tower is 330 metres tall."]
    assert copied is not None and copied.support >= engine.threshold
    dropped = by_text["It is open at night in winter."]  # a negation dropped before a copy
    assert dropped is not None and dropped.contradiction >= 0.8
    # a negation the polarity cap weighs by the detector's score, and a rewording: ask it
    assert by_text["Gustave Eiffel's company did not build the tower."] is None
    assert by_text["The tower rises 330 metres over Paris."] is None


def test_no_window_is_settled_off_or_with_a_fusion_weighing_the_detector_down(
        settling: tuple[GroundingEngine, list[ScoredWindow]]) -> None:
    """``settle_windows`` off (as ``stream-guard eval`` runs, for the detector's own scores),
    nothing is settled; nor with a fusion whose weight on the detector is negative, where the
    polarity cap no longer moves one way with its score (a review settled a window supported
    that the detector's 0.05 contradicted)."""
    shipped, windows = settling
    assert shipped.fusion is not None
    assert any(shipped.settled(w.aligned) is not None for w in windows)
    model, lexical = shipped.fusion
    down = Fusion(model.features, tuple(-w if f == "model_logit" else w for f, w in
                                        zip(model.features, model.weights, strict=True)),
                  model.bias)
    for config, fusion in ((dataclasses.replace(shipped.settings, settle_windows=False),
                            shipped.fusion), (shipped.settings, (down, lexical))):
        engine = GroundingEngine(config, Metrics(), model=shipped.model,
                                 model_threshold=shipped.threshold,
                                 model_clear_margin=shipped.clear_margin, fusion=fusion)
        assert all(engine.settled(w.aligned) is None for w in windows)


async def test_the_server_skips_the_detector_for_a_settled_window(
        tmp_path: Path, model_cache: Path) -> None:
    """Over a real socket, default settings (no deadline: no window is degraded): a copied
    sentence is settled by the lexical tier, a claim the evidence does not make goes to the
    detector."""
    settings = make_settings(tmp_path, tier="cascade", cache_dir=model_cache,
                             verdict_deadline_ms=0)
    answer = ("The Eiffel Tower is 330 metres tall. Visitors often describe the view as "
              "breathtaking.")
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "s1", answer, context=[SETTLE_CONTEXT])
        metrics = (await http(server.port, "GET", "/metrics")).body.decode()
        first, second = [f for f in frames if f["type"] == "verdict"]
        assert first["label"] == "supported" and "degraded" not in first
        assert second["label"] == "unsupported" and frames[-1]["halted"] is True
        assert 'stream_guard_tier_decisions_total{tier="lexical"} 1.0' in metrics
        assert 'stream_guard_tier_decisions_total{tier="model"} 1.0' in metrics
        # A stream with a halt threshold of its own is settled by it: at 0.9 the detector's
        # score of the copy could fall on either side, so it is asked.
        await stream_text(ws, "s2", answer.split(". ")[0] + ". ", context=[SETTLE_CONTEXT],
                          options={"threshold": 0.9})
        metrics = (await http(server.port, "GET", "/metrics")).body.decode()
    assert 'stream_guard_tier_decisions_total{tier="lexical"} 1.0' in metrics
    assert 'stream_guard_tier_decisions_total{tier="model"} 2.0' in metrics
    assert "stream_guard_degraded_windows_total 0.0" in metrics
