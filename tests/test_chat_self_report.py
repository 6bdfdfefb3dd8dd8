"""A chat answer that restates what the user said of themselves, streamed to a server on the
default tier and shipped detector (:mod:`stream_guard.text.self_report`).

The user's news ("My daughter Maisie just turned 7 and lost her first tooth") has no other
source than their prompt; restated, it halted faithful answers (blind chat probe 8: 29 of 40).
It is now evidence for the answer, cited as ``prompt#0``; what the user asked, heard or wants is
not, nor is their news evidence for a perk the answer grants them or for what they asked for
reported done.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings, running_server
from tests.wsclient import open_ws, stream_text

pytestmark = pytest.mark.slow  # the shipped detector

CLINIC = ["Routine check-ups for children under 16 cost £28 and include a clean and fluoride "
          "varnish. Appointments run Monday to Friday, 8:30am-5:30pm, and Saturdays 9am-1pm."]
MAISIE = ("My daughter Maisie just turned 7 and lost her very first tooth last night. How "
          "much is a check-up?")
PROBE2 = Path(__file__).resolve().parents[1] / "docs" / "results" / "self-report-probe2.jsonl"
PRICE = "A check-up for children under 16 costs £28 and includes a clean and fluoride varnish."


async def _stream(tmp_path: Path, model_cache: Path, answer: str, prompt: str | None,
                  context: list[Any]) -> list[dict[str, Any]]:
    settings = make_settings(tmp_path, tier="cascade", cache_dir=model_cache,
                             verdict_deadline_ms=0)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        return await stream_text(ws, "chat", answer, context=context, piece=6, prompt=prompt)


def _halt(frames: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((f for f in frames if f["type"] == "halt"), None)


async def test_restating_the_users_own_news_streams_to_its_end(tmp_path: Path,
                                                               model_cache: Path) -> None:
    answer = "Maisie has just turned 7 and lost her very first tooth last night! " + PRICE
    frames = await _stream(tmp_path, model_cache, answer, MAISIE, CLINIC)
    assert _halt(frames) is None
    assert frames[-1]["type"] == "done" and frames[-1]["halted"] is False
    first = next(f for f in frames if f["type"] == "verdict")
    assert first["label"] == "supported"
    assert first["evidence"][0]["id"] == "prompt#0"
    # without the prompt the same news has no source
    frames = await _stream(tmp_path, model_cache, answer, None, CLINIC)
    assert _halt(frames) is not None


async def test_news_told_without_its_i_is_the_users_too(tmp_path: Path,
                                                        model_cache: Path) -> None:
    """Chat leaves the "I" out ("Just got back from Japan"): such a sentence is the user's
    news as much as one that says it."""
    prompt = "Just got back from two weeks in Japan with my son Kenji! How much is a check-up?"
    answer = "Welcome back from your two weeks in Japan with Kenji! " + PRICE
    frames = await _stream(tmp_path, model_cache, answer, prompt, CLINIC)
    assert _halt(frames) is None
    first = next(f for f in frames if f["type"] == "verdict")
    assert first["label"] == "supported" and first["evidence"][0]["id"] == "prompt#0"
    frames = await _stream(tmp_path, model_cache, answer, None, CLINIC)
    assert _halt(frames) is not None


async def test_a_perk_made_up_for_the_users_news_is_not_supported_by_it(tmp_path: Path,
                                                             model_cache: Path) -> None:
    answer = ("Children who have just lost their first tooth get their check-up free this "
              "month! Appointments run on Saturdays from 9am to 1pm.")
    frames = await _stream(tmp_path, model_cache, answer, MAISIE, CLINIC)
    perk = next(f for f in frames if f["type"] == "verdict")
    assert perk["start"] == 0 and perk["label"] != "supported"
    assert not [e for e in perk["evidence"] if e["id"].startswith("prompt")]


@pytest.mark.parametrize(("prompt", "context", "answer", "wrong"), [
    ("I heard the museum is free on Sundays. What time does it open?",
     ["The museum is open daily from 10am to 6pm. Admission is 12 euros for adults."],
     "The museum is free on Sundays. It opens at 10am.", "The museum is free"),
    ("We're moving to a house 15 miles away on Saturday the 22nd. Please book us a "
     "3-person crew for that morning. How much will it run?",
     ["Moving Day Movers: a 3-person crew costs $169 per hour, 3 hours minimum. A $100 "
      "deposit holds your date; bookings are confirmed by email once it is paid."],
     "We've booked a 3-person crew for the morning of Saturday the 22nd at $169 per hour.",
     "We've booked"),
    ("I returned order 4471 last week and I'd like a refund. When will I get it?",
     ["Refunds are issued within 14 days of a returned item being received at our warehouse."],
     "Your refund for order 4471 has been processed. Refunds are issued within 14 days of the "
     "returned item reaching our warehouse.", "Your refund"),
])
async def test_what_the_user_heard_or_asks_for_is_no_evidence(
        tmp_path: Path, model_cache: Path, prompt: str, context: list[str], answer: str,
        wrong: str) -> None:
    halt = _halt(await _stream(tmp_path, model_cache, answer, prompt, context))
    assert halt is not None and halt["at"] == answer.index(wrong)




async def test_an_action_reported_done_halts_though_the_next_line_is_true(
        tmp_path: Path, model_cache: Path) -> None:
    """Blind self-report probe 2, ``selfb-26-d``: the assistant says it put the twins on the
    Saturday list, which nothing attests. The window scores 0.09, below the threshold but not
    clearly, and the next line (the price) is supported, which reset the run: no halt. A
    transaction reported done halts at once (``WindowScore.firm``)."""
    record = next(r for r in map(json.loads, PROBE2.read_text().splitlines())
                  if r["id"] == "selfb-26-d")
    frames = await _stream(tmp_path, model_cache, record["response"], record["prompt"],
                           [record["context"]])
    halt = _halt(frames)
    assert halt is not None and halt["at"] == record["onset"]
    assert 0.05 < halt["score"] < 0.18  # not clearly unsupported: the firm rule halted it
