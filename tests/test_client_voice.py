"""The voice frontend example (clients/python/voice_frontend.py) against a real server."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator

import pytest

from stream_guard.client import GuardClient
from stream_guard.server.app import Server
from tests.conftest import load_example
from tests.wsclient import API_KEY

voice = load_example("voice_frontend")

# Speech faster than the scripted LLM, so the speaker is idle whenever a sentence completes:
# the case in which observe mode speaks an unverified sentence at once.
FAST_SPEECH = 3000.0  # characters per second
TOKEN_DELAY = 0.01


async def test_holdback_speaks_no_unverified_audio_and_observe_does(server: Server) -> None:
    scenario = voice.load_scenario()
    reports = {}
    async with GuardClient(f"ws://127.0.0.1:{server.port}", api_key=API_KEY) as client:
        for mode in ("observe", "holdback"):
            reports[mode] = await asyncio.wait_for(voice.speak_guarded(
                client, voice.scripted_llm(scenario["answer"], TOKEN_DELAY),
                scenario["evidence"], mode=mode, sink=voice.TimedSink(FAST_SPEECH)), 30)
    observe, holdback = reports["observe"], reports["holdback"]
    claim = "Every purchase also comes with a lifetime warranty"
    assert holdback.halted and holdback.halt_at == scenario["answer"].index(claim)
    assert holdback.unverified_audio_ms == 0
    assert holdback.spoken and not any("lifetime" in s for s in holdback.spoken)
    assert holdback.spoken[-1].startswith("Standard shipping")
    # (Holdback's first audio waits for the first sentence's verdict, observe's does not: a
    # cost of milliseconds, measured by the example itself, not asserted between two runs,
    # whose token timings differ by as much under load.)
    assert observe.first_audio_ms is not None and holdback.first_audio_ms is not None

    assert observe.halted and observe.halt_at == holdback.halt_at
    assert any(s.startswith(claim) for s in observe.spoken)
    assert observe.unverified_audio_ms > 0
    # Unverified audio starts after the offending text arrived and stops at the halt.
    assert observe.halt_delay_ms is not None
    assert observe.unverified_audio_ms <= observe.halt_delay_ms + 20
    assert not any("Zurich" in s for s in observe.spoken)  # dropped from the queue, never said


async def test_an_answer_that_fails_midway_is_silenced(server: Server) -> None:
    """When the guarded answer fails (the LLM's stream, or the connection to stream-guard),
    the sentence playing is cut and nothing queued is spoken: it was never verified."""
    plays: list[tuple[str, bool]] = []

    class RecordingSink(voice.TimedSink):
        async def play(self, audio: voice.Audio) -> None:
            try:
                await super().play(audio)
            except asyncio.CancelledError:
                plays.append((audio.text, True))
                raise
            plays.append((audio.text, False))

    async def breaking_llm() -> AsyncIterator[str]:
        for token in ("The warranty lasts two years. ", "Returns are free. ", "And"):
            yield token
            await asyncio.sleep(0.05)
        raise RuntimeError("the LLM's stream broke")

    scenario = voice.load_scenario()
    async with GuardClient(f"ws://127.0.0.1:{server.port}", api_key=API_KEY) as client:
        with pytest.raises(RuntimeError, match="stream broke"):
            await asyncio.wait_for(voice.speak_guarded(
                client, breaking_llm(), scenario["evidence"], mode="observe",
                sink=RecordingSink(10.0)), 5)
    await asyncio.sleep(0.2)
    assert plays == [("The warranty lasts two years.", True)]


async def test_cut_stops_the_sentence_playing_at_once() -> None:
    sink = voice.TimedSink(10.0)  # a 30-character sentence lasts 3 s
    speaker = voice.Speaker(sink)
    speaker.say(voice.Utterance(0, 30, "A" * 30))
    speaker.say(voice.Utterance(31, 40, "B" * 9))
    await asyncio.sleep(0.1)
    speaker.cut_from(10)
    await asyncio.wait_for(speaker.finish(), 1)
    [played] = speaker.played
    assert played.cut and 0.05 < played.played_s < 0.5 and played.duration_s == 3.0


@pytest.mark.parametrize("silence", ["cut", "stop"])
async def test_a_sentence_cut_while_it_is_synthesized_is_not_played(silence: str) -> None:
    """A review: a halt (or a stop) that came while the sentence was being synthesized (0.2 s
    for espeak-ng) let it play in full."""
    class SlowSynthesis(voice.TimedSink):
        async def synthesize(self, text: str) -> voice.Audio:
            await asyncio.sleep(0.2)
            return await super().synthesize(text)

    speaker = voice.Speaker(SlowSynthesis(100.0))
    speaker.say(voice.Utterance(0, 30, "A" * 30))
    await asyncio.sleep(0.05)
    if silence == "cut":
        speaker.cut_from(0)
        await asyncio.wait_for(speaker.finish(), 1)
    else:
        await asyncio.wait_for(speaker.stop(), 1)
    assert speaker.played == []


def test_sentences_keep_their_offsets() -> None:
    text = 'First one.  Second, "quoted." Third without end'
    sentences = voice.Sentences()
    out = []
    for i in range(0, len(text), 4):
        out += sentences.feed(text[i:i + 4])
    out += sentences.flush()
    assert [u.text for u in out] == ["First one.", 'Second, "quoted."', "Third without end"]
    assert all(text[u.start:u.end] == u.text for u in out)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
async def test_espeak_sink_synthesizes_timed_audio() -> None:
    audio = await voice.EspeakSink().synthesize("Refunds go back to your original payment method.")
    assert audio.wav is not None and 1.0 < audio.duration_s < 6.0
