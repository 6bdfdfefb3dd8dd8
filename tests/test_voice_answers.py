"""Answers written for speech, streamed to a server on the default tier and shipped detector.

A voice assistant's answer says its figures as they are spoken: "twenty-one minutes past
eight", "twenty-four pounds sixty", "the twenty-eighth of February twenty twenty-five". Read
word by word against a source that writes "08:21", "£24.60" and "28 February 2025", each was
one or two new numbers (a blind probe: 19 of 60 faithful spoken answers halted). Read as text
writes them (:func:`stream_guard.text.figures.spell_out_numbers`), a faithful spoken answer
streams to its end, and a changed time is a figure the evidence does not state.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import stream_on_detector

pytestmark = pytest.mark.slow  # the shipped detector

RAIL = ["Northvale Rail, weekday timetable. The express departs Brackley at 07:25 and arrives "
        "in Castleford at 08:21. Anytime Day Return: £24.60. Off-Peak Day Return: £16.80, "
        "valid on trains after 09:30."]
VET = ["Appointment reminder: Biscuit is booked for Wednesday 21 January 2026 at 16:40 with "
       "nurse Amy. Annual booster: £62.00. Please arrive 5 minutes early."]
BILL = ["BrightSpark Energy electricity bill. Total due: £368.96. Your Direct Debit of £115.00 "
        "will be taken on or after 28 February 2025."]



@pytest.mark.parametrize(("context", "faithful", "wrong", "changed"), [
    (RAIL, "Sure. The express leaves Brackley at seven twenty-five in the morning and gets into "
           "Castleford at twenty-one minutes past eight. An anytime day return is twenty-four "
           "pounds sixty, or sixteen pounds eighty off-peak after half past nine.",
     "Sure. The express leaves Brackley at seven twenty-five in the morning and gets into "
     "Castleford at twenty-one minutes past nine. An anytime day return is twenty-four "
     "pounds sixty, or sixteen pounds eighty off-peak after half past nine.", "twenty-one"),
    (VET, "Biscuit's appointment is on Wednesday the twenty-first of January at twenty to five "
          "with nurse Amy. The booster is sixty-two pounds, and please arrive five minutes "
          "early.",
     "Biscuit's appointment is on Wednesday the twenty-first of January at twenty to six "
     "with nurse Amy. The booster is sixty-two pounds, and please arrive five minutes early.",
     "twenty to six"),
    (BILL, "Okay, so your total comes to three hundred and sixty-eight pounds and ninety-six "
           "pence. A hundred and fifteen pounds goes out by Direct Debit on or after the "
           "twenty-eighth of February twenty twenty-five.", None, None),
])
async def test_a_faithful_spoken_answer_streams_to_its_end_and_a_changed_time_is_unsupported(
        tmp_path: Path, model_cache: Path, context: list[str], faithful: str,
        wrong: str | None, changed: str | None) -> None:
    frames = await stream_on_detector(tmp_path, model_cache, faithful, context, piece=4)
    verdicts = [f for f in frames if f["type"] == "verdict"]
    assert not [f for f in frames if f["type"] == "halt"]
    assert verdicts and all(f["label"] == "supported" for f in verdicts)
    assert frames[-1]["type"] == "done" and frames[-1]["halted"] is False
    if wrong is None or changed is None:
        return
    frames = await stream_on_detector(tmp_path, model_cache, wrong, context, piece=4)
    at = wrong.index(changed)
    verdict = next(f for f in frames if f["type"] == "verdict" and f["start"] <= at < f["end"])
    # The time the evidence does not state marks its window; whether one window below the
    # threshold halts is the halt policy's to say (a supported sentence follows it here).
    assert verdict["label"] == "unsupported"
    assert all(f["label"] == "supported" for f in frames
               if f["type"] == "verdict" and f is not verdict)
