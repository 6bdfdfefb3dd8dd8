"""A chat answer's pleasantries, streamed to a server on the default tier and shipped detector.

A chat or voice frontend's answers end (or open) with thanks, "you're welcome", "glad I could
help" or a goodbye. None of them is a claim, and scored against the evidence they halted
faithful answers at their last sentence (the detector gives them 0.01-0.08). They are talk
(:mod:`stream_guard.text.stance`): not scored, so the answer streams to its end, while a false
claim beside them still halts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_settings, running_server
from tests.wsclient import open_ws, stream_text

pytestmark = pytest.mark.slow  # the shipped detector

CONTEXT = ["The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris."]
FACT = "It was completed in 1889 in Paris. "
CLOSINGS = ["Glad I could help!", "Thanks for chatting with me!",
            "You're welcome! Have a good day.", "Hope you enjoy your visit!", "Cheers!",
            "Safe travels, Maria!", "Oh no, so sorry to hear that! Hang in there!"]


@pytest.mark.parametrize("closing", CLOSINGS)
async def test_a_faithful_chat_answer_with_a_pleasantry_streams_to_its_end(
        tmp_path: Path, model_cache: Path, closing: str) -> None:
    settings = make_settings(tmp_path, tier="cascade", cache_dir=model_cache,
                             verdict_deadline_ms=0)
    answer = FACT + closing
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "chat", answer, context=CONTEXT, piece=4)
    assert [f for f in frames if f["type"] == "halt"] == []
    verdicts = [f for f in frames if f["type"] == "verdict"]
    # the fact is checked, the pleasantry is not
    assert [(f["start"], f["label"]) for f in verdicts] == [(0, "supported")]
    assert frames[-1]["type"] == "done" and frames[-1]["halted"] is False


async def test_a_false_claim_beside_a_pleasantry_still_halts(tmp_path: Path,
                                                            model_cache: Path) -> None:
    settings = make_settings(tmp_path, tier="cascade", cache_dir=model_cache,
                             verdict_deadline_ms=0)
    answer = "Thanks for asking! It is 450 metres tall. Glad I could help!"
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "chat", answer, context=CONTEXT, piece=4)
    halt = next(f for f in frames if f["type"] == "halt")
    assert halt["at"] == answer.index("It is 450")


async def test_a_wish_for_what_the_evidence_never_mentions_halts(tmp_path: Path,
                                                                 model_cache: Path) -> None:
    """A wish presupposes what it wishes for: "Enjoy the free breakfast!" says there is one."""
    settings = make_settings(tmp_path, tier="cascade", cache_dir=model_cache,
                             verdict_deadline_ms=0)
    answer = FACT + "Enjoy the free rooftop breakfast!"
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "chat", answer, context=CONTEXT, piece=4)
    halt = next(f for f in frames if f["type"] == "halt")
    assert halt["at"] == answer.index("Enjoy")
