"""Sentences about the conversation, on the shipped detector through a real server.

A grounded answer that slips into the speaker's own tastes ("my favorite ...") halts by default,
as knowledge-grounded dialogue benchmarks count such a sentence as not attributable; with
``conversation_checks`` off (a persona bot) the same answer passes on the same calibration, and
a closing of service talk ("I hope this helps!") never halts either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings, running_server
from tests.wsclient import open_ws, stream_text

pytestmark = pytest.mark.slow  # the shipped detector

EVIDENCE = [{"id": "kb", "text": "Green is the color between blue and yellow on the visible "
             "spectrum. It is evoked by light with a wavelength of roughly 495 to 570 nm."}]
FACT = "Green lies between blue and yellow on the visible spectrum. "
TASTE = "My favorite color is green, I like how it sits between blue and yellow."
CLOSING = " I hope this helps!"


async def _frames(tmp_path: Path, cache: Path, text: str, **settings: Any
                  ) -> list[dict[str, Any]]:
    # no verdict deadlines: a window past one on a loaded machine gets the lexical verdict
    config = make_settings(tmp_path, tier="cascade", cache_dir=cache,
                           **{"verdict_deadline_ms": 0, **settings})
    async with running_server(config) as server, open_ws(server.port) as ws:
        return await stream_text(ws, "s", text, context=EVIDENCE, piece=6)


async def test_the_speakers_taste_halts_by_default(tmp_path: Path, model_cache: Path) -> None:
    frames = await _frames(tmp_path, model_cache, FACT + TASTE)
    halt = next(f for f in frames if f["type"] == "halt")
    assert halt["at"] == len(FACT)


async def test_off_for_a_persona_bot(tmp_path: Path, model_cache: Path) -> None:
    frames = await _frames(tmp_path, model_cache, FACT + TASTE, conversation_checks=False)
    assert not any(f["type"] == "halt" for f in frames)
    assert frames[-1]["type"] == "done" and frames[-1]["halted"] is False


async def test_a_closing_of_service_talk_is_not_checked(tmp_path: Path,
                                                        model_cache: Path) -> None:
    frames = await _frames(tmp_path, model_cache, FACT + CLOSING)
    verdicts = [f for f in frames if f["type"] == "verdict"]
    assert [v["end"] for v in verdicts] == [len(FACT) - 1]  # the fact alone was scored
    assert frames[-1]["type"] == "done" and frames[-1]["halted"] is False
