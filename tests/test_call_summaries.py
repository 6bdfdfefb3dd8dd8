"""Summaries of calls and meetings, streamed to a server on the default tier and shipped
detector.

People talking money leave off the thousands everyone in the room knows ("we're tracking to
spend about 196", "let's list at 515"); a summary of the call writes them back ("$196,000",
"$515,000"). Read as new figures, those were 4 of the 6 false halts of a blind probe of call
and meeting summaries (docs/results/transcript-probe.jsonl). A sum the call says at no scale
is now read as said (:func:`stream_guard.text.quantities.read_unscaled`), and a sum it never
says is still a figure the evidence does not state.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import stream_on_detector

pytestmark = pytest.mark.slow  # the shipped detector

LISTING = ["Nicole: Thanks for hopping on. So, comparables: the house on Birch Lane sold for "
           "$510,000 last month.\nGreg: Right.\nNicole: I was initially thinking we list at "
           "525, but honestly, if we list at 515 I think we get multiple offers.\nGreg: I was "
           "hoping for more like 540.\nAmara: Let's go with 515.\nNicole: Great. Photos on the "
           "8th, and I'll send the listing agreement tonight."]



async def test_a_summary_that_writes_back_the_thousands_a_call_left_unsaid_streams_to_its_end(
        tmp_path: Path, model_cache: Path) -> None:
    faithful = ("They agreed to list the house at $515,000. Nicole had first suggested "
                "$525,000 and Greg had hoped for $540,000. Nicole will send the listing "
                "agreement tonight.")
    frames = await stream_on_detector(tmp_path, model_cache, faithful, LISTING, piece=8)
    assert not [f for f in frames if f["type"] == "halt"]
    assert frames[-1]["type"] == "done" and frames[-1]["halted"] is False

    wrong = faithful.replace("$515,000", "$505,000")
    frames = await stream_on_detector(tmp_path, model_cache, wrong, LISTING, piece=8)
    at = wrong.index("$505,000")
    verdict = next(f for f in frames if f["type"] == "verdict" and f["start"] <= at < f["end"])
    # The sum the call never says marks its window; whether one window below the threshold
    # halts is the halt policy's to say (supported sentences follow it here).
    assert verdict["label"] == "unsupported"
