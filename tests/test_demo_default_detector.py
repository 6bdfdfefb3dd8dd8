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

from tests.conftest import make_settings, running_server
from tests.wsclient import open_ws, stream_text

pytestmark = pytest.mark.slow  # the shipped detector

SCENARIO = Path(__file__).resolve().parents[1] / "clients" / "js" / "demo" / "scenario.json"
CLAIM = "Every purchase also comes with a lifetime warranty"


async def test_default_detector_halts_the_demo_fabrication(tmp_path: Path,
                                                           model_cache: Path) -> None:
    scenario = json.loads(SCENARIO.read_text())
    answer: str = scenario["answer"]
    settings = make_settings(tmp_path, tier="cascade", cache_dir=model_cache)
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
