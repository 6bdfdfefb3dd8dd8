"""The cascade through the server: the lexical tier settles clear windows, the model the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream_guard.models.cross_encoder import load_detector
from stream_guard.scoring.base import Pair
from tests.conftest import make_settings, running_server
from tests.test_models_cross_encoder import THREE_WAY, _save_tiny
from tests.wsclient import http, open_ws, stream_text

pytestmark = pytest.mark.slow

CONTEXT = "The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris."


async def test_model_tier_judges_what_the_lexical_tier_cannot_settle(
        tmp_path: Path, model_cache: Path) -> None:
    detector = _save_tiny(tmp_path / "tiny-nli", model_cache, arch="bert", id2label=THREE_WAY)
    settings = make_settings(tmp_path, tier="cascade", detector=str(detector),
                             cache_dir=model_cache, threshold=0.0, contradiction_threshold=1.0)
    covered = "The Eiffel Tower was completed in 1889. "
    vague = "Visitors often describe the view as breathtaking. "
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "s1", covered + vague, context=[CONTEXT])
        first, second = [f for f in frames if f["type"] == "verdict"]
        metrics = (await http(server.port, "GET", "/metrics")).body.decode()
    # fully covered: settled by the lexical tier with full coverage
    assert first["score"] == 1.0
    # not covered: the model's support for (evidence, window), the previous window as context
    scorer = load_detector(str(detector), cache_dir=model_cache, backend="onnx", device="cpu")
    expected = scorer.score_pairs([Pair(CONTEXT, vague.strip(), covered.strip())])[0].support
    assert second["score"] == pytest.approx(expected, abs=1e-3)
    assert second["evidence"][0]["score"] == pytest.approx(expected, abs=1e-3)
    assert 'stream_guard_tier_decisions_total{tier="lexical"} 1.0' in metrics
    assert 'stream_guard_tier_decisions_total{tier="model"} 1.0' in metrics
