"""Example voice frontend: speak a guarded LLM answer sentence by sentence, cut speech on a halt.

Speech cannot be retracted: once a sentence was heard, a halt comes too late. This example makes
that measurable. It streams the demo's scripted answer (clients/js/demo/scenario.json) through
stream-guard with :func:`stream_guard.client.guard`, turns the text it may use into speech one
sentence at a time, and on a halt stops the audio at once and drops every queued sentence that
reaches the halt offset. It then reports how many milliseconds of *unverified* audio (text from
the halt offset on) reached the listener:

* holdback mode only ever speaks released (verified) text, so that number is 0 by construction,
  at the price of waiting for each sentence's verdict before speaking it;
* observe mode speaks each sentence the moment it is complete, so an unsupported sentence plays
  until the halt arrives (for a run of unsupported windows, until the next window is judged).

Audio: ``espeak-ng`` when installed (``espeak-ng --stdout`` to WAV, played with ``aplay``,
``paplay`` or ``pw-play`` when one exists, otherwise timed by the WAV's length); without it a
timed sink "plays" at a speaking rate of 15 characters per second.

    STREAM_GUARD_API_KEY=dev-key-change-me-0001 \\
        python clients/python/voice_frontend.py --server ws://127.0.0.1:8765 --mode both
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from stream_guard.client import AuthError, Event, GuardClient, Halt, Mode, guard
from stream_guard.client.errors import GuardClientError

SCENARIO = Path(__file__).resolve().parents[1] / "js" / "demo" / "scenario.json"
SPEAKING_RATE = 15.0  # characters per second, a typical TTS voice
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+")
_WORD = re.compile(r"\S+\s*")


# --- audio ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Audio:
    text: str
    duration_s: float
    wav: bytes | None = None


class AudioSink(Protocol):
    """Turns text into audio and plays it. ``play`` must stop the sound at once when cancelled."""

    async def synthesize(self, text: str) -> Audio: ...

    async def play(self, audio: Audio) -> None: ...


class TimedSink:
    """No sound: "plays" for as long as a voice speaking ``chars_per_s`` would take."""

    def __init__(self, chars_per_s: float = SPEAKING_RATE) -> None:
        self.chars_per_s = chars_per_s

    async def synthesize(self, text: str) -> Audio:
        return Audio(text, len(text) / self.chars_per_s)

    async def play(self, audio: Audio) -> None:
        await asyncio.sleep(audio.duration_s)


class EspeakSink:
    """espeak-ng speech; played by the first audio player found, else timed by its length."""

    PLAYERS = (("aplay", "-q", "-"), ("paplay",), ("pw-play", "-"))

    def __init__(self, voice: str = "en", words_per_min: int = 175) -> None:
        self.voice = voice
        self.words_per_min = words_per_min
        self.player = next((p for p in self.PLAYERS if shutil.which(p[0])), None)

    @staticmethod
    def available() -> bool:
        return shutil.which("espeak-ng") is not None

    async def synthesize(self, text: str) -> Audio:
        proc = await asyncio.create_subprocess_exec(
            "espeak-ng", "--stdout", "-v", self.voice, "-s", str(self.words_per_min), text,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        wav, _ = await proc.communicate()
        return Audio(text, wav_duration(wav), wav)

    async def play(self, audio: Audio) -> None:
        if self.player is None or audio.wav is None:
            await asyncio.sleep(audio.duration_s)
            return
        proc = await asyncio.create_subprocess_exec(
            *self.player, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL)
        try:
            await proc.communicate(audio.wav)
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()  # the cut: the sound stops now, not at the end of the sentence
            await proc.wait()
            raise


def wav_duration(wav: bytes) -> float:
    """Seconds of audio in a PCM WAV (espeak-ng streams a header with unknown sizes)."""
    if len(wav) < 44 or wav[:4] != b"RIFF":
        return 0.0
    channels = int.from_bytes(wav[22:24], "little")
    rate = int.from_bytes(wav[24:28], "little")
    bits = int.from_bytes(wav[34:36], "little")
    data = wav.find(b"data")
    frame = channels * bits // 8
    if data < 0 or not rate or not frame:
        return 0.0
    return (len(wav) - data - 8) / frame / rate


# --- sentences --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Utterance:
    """A sentence and its ``[start, end)`` offsets in the stream's text."""

    start: int
    end: int
    text: str


class Sentences:
    """Cuts incoming text into complete sentences, keeping their offsets."""

    def __init__(self) -> None:
        self._buffer = ""
        self._offset = 0

    def feed(self, text: str) -> list[Utterance]:
        self._buffer += text
        out = []
        while (match := _SENTENCE_END.search(self._buffer)) is not None:
            out.extend(self._take(match.end()))
        return out

    def flush(self) -> list[Utterance]:
        """The rest as a sentence: at the end, or where the text is known to end a window."""
        return self._take(len(self._buffer))

    def _take(self, upto: int) -> list[Utterance]:
        taken, self._buffer = self._buffer[:upto], self._buffer[upto:]
        start, self._offset = self._offset, self._offset + len(taken)
        spoken = taken.strip()
        if not spoken:
            return []
        lead = len(taken) - len(taken.lstrip())
        return [Utterance(start + lead, start + lead + len(spoken), spoken)]


# --- speaking ---------------------------------------------------------------------------------

@dataclass(slots=True)
class Played:
    utterance: Utterance
    began: float  # perf_counter() when the audio started
    duration_s: float
    played_s: float
    cut: bool


class Speaker:
    """Speaks utterances in order on one audio sink; ``cut_from`` silences everything unverified."""

    def __init__(self, sink: AudioSink, on_speak: Callable[[Utterance], None] | None = None
                 ) -> None:
        self.sink = sink
        self.played: list[Played] = []
        self._on_speak = on_speak
        self._queue: deque[Utterance] = deque()
        self._wake = asyncio.Event()
        self._current: tuple[Utterance, asyncio.Task[None]] | None = None
        # Text from here on is silenced, the sentence being synthesized too (None: nothing is)
        self._cut_at: int | None = None
        self._closed = False
        self._task = asyncio.create_task(self._run())

    def say(self, utterance: Utterance) -> None:
        self._queue.append(utterance)
        self._wake.set()

    def cut_from(self, offset: int) -> None:
        """Drop queued sentences reaching ``offset`` and stop the one playing if it does; one
        being synthesized is not played (a review: it was, in full, after a halt)."""
        self._cut_at = offset if self._cut_at is None else min(self._cut_at, offset)
        self._queue = deque(u for u in self._queue if u.end <= offset)
        if self._current is not None and self._current[0].end > offset:
            self._current[1].cancel()

    async def finish(self) -> None:
        """Speak what is queued, then stop."""
        self._closed = True
        self._wake.set()
        await self._task

    async def stop(self) -> None:
        """Silence at once: nothing queued is spoken, the sentence playing is cut."""
        self.cut_from(-1)
        await self.finish()

    async def _run(self) -> None:
        while True:
            if not self._queue:
                if self._closed:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            utterance = self._queue.popleft()
            audio = await self.sink.synthesize(utterance.text)
            if self._cut_at is not None and utterance.end > self._cut_at:
                continue  # cut while it was synthesized
            if self._on_speak is not None:
                self._on_speak(utterance)
            playing = asyncio.create_task(self.sink.play(audio))
            self._current = (utterance, playing)
            began = time.perf_counter()
            await asyncio.wait([playing])
            self._current = None
            self.played.append(Played(utterance, began, audio.duration_s,
                                      time.perf_counter() - began, playing.cancelled()))


# --- the frontend -----------------------------------------------------------------------------

@dataclass
class VoiceReport:
    """What one spoken answer cost.

    ``unverified_audio_ms``: audio of text from the halt offset on that reached the listener.
    ``halt_delay_ms``: from the first offending character leaving the LLM to the halt arriving.
    ``first_audio_ms``: from the first token leaving the LLM to the first sound (what holdback
    costs: the first sentence's verdict). ``audio_ms``: all audio played. ``spoken``: the
    sentences heard (a cut one marked "[cut]").
    """

    mode: str
    halted: bool
    halt_at: int | None
    reason: str | None
    unverified_audio_ms: float
    halt_delay_ms: float | None
    first_audio_ms: float | None
    audio_ms: float
    spoken: list[str] = field(default_factory=list)


async def speak_guarded(client: GuardClient, tokens: AsyncIterator[str],
                        context: Sequence[Any], *, mode: Mode, sink: AudioSink,
                        on_speak: Callable[[Utterance], None] | None = None) -> VoiceReport:
    """Stream ``tokens`` through stream-guard and speak what ``mode`` allows."""
    arrivals: list[tuple[int, float]] = []  # (end offset of a token, when it left the LLM)
    halt_seen: list[tuple[Halt, float]] = []
    speaker = Speaker(sink, on_speak)
    sentences = Sentences()

    async def timed(source: AsyncIterator[str]) -> AsyncIterator[str]:
        chars = 0
        async for token in source:
            chars += len(token)
            arrivals.append((chars, time.perf_counter()))
            yield token

    def on_event(event: Event) -> None:
        if isinstance(event, Halt):
            halt_seen.append((event, time.perf_counter()))
            speaker.cut_from(event.at)

    try:
        async with guard(timed(tokens), client, context=context, mode=mode,
                         on_event=on_event) as pieces:
            async for piece in pieces:
                # A release ends at a window (sentence) boundary: speak it without waiting.
                ready = sentences.feed(piece) + (sentences.flush() if mode == "holdback" else [])
                for utterance in ready:
                    speaker.say(utterance)
    except BaseException:
        # Oversight lost mid-answer (the server gone, the task cancelled): what is queued was
        # never verified, so it is not spoken, and the speaker's task does not outlive us.
        await speaker.stop()
        raise
    result = pieces.result
    assert result is not None
    if not result.halted:
        for utterance in sentences.flush():
            speaker.say(utterance)
    await speaker.finish()
    return _report(mode, speaker.played, halt_seen, arrivals)


def _report(mode: str, played: list[Played], halt_seen: list[tuple[Halt, float]],
            arrivals: list[tuple[int, float]]) -> VoiceReport:
    halt, halt_time = halt_seen[0] if halt_seen else (None, 0.0)
    unverified = 0.0
    if halt is not None:
        for p in played:
            u = p.utterance
            if u.end <= halt.at:
                continue
            verified_s = p.duration_s * max(0, halt.at - u.start) / (u.end - u.start)
            unverified += max(0.0, p.played_s - verified_s)
    delay = None
    if halt is not None:
        first = next((t for end, t in arrivals if end > halt.at), None)
        delay = None if first is None else (halt_time - first) * 1000
    first_audio = (played[0].began - arrivals[0][1]) * 1000 if played and arrivals else None
    return VoiceReport(
        mode, halt is not None, halt.at if halt else None, halt.reason if halt else None,
        round(unverified * 1000, 1), None if delay is None else round(delay, 1),
        None if first_audio is None else round(first_audio, 1),
        round(sum(p.played_s for p in played) * 1000, 1),
        [p.utterance.text + (" [cut]" if p.cut else "") for p in played])


# --- command line -----------------------------------------------------------------------------

def load_scenario(path: Path = SCENARIO) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


async def scripted_llm(text: str, token_delay_s: float,
                       sentence_pause_s: float = 0.0) -> AsyncIterator[str]:
    """The scenario's answer as an LLM streams it: a word per ``token_delay_s``."""
    for token in _WORD.findall(text):
        await asyncio.sleep(token_delay_s)
        yield token
        if sentence_pause_s and _SENTENCE_END.search(token):
            await asyncio.sleep(sentence_pause_s)


async def _main(args: argparse.Namespace) -> int:
    scenario = load_scenario()
    sink: AudioSink
    if args.sink == "espeak" or (args.sink == "auto" and EspeakSink.available()):
        sink = EspeakSink()
    else:
        sink = TimedSink(args.rate)
    print(f"audio: {type(sink).__name__}", file=sys.stderr)
    modes: list[Mode] = ["observe", "holdback"] if args.mode == "both" else [args.mode]
    async with GuardClient(args.server, api_key=os.environ.get("STREAM_GUARD_API_KEY")) as client:
        for mode in modes:
            print(f"--- {mode}", file=sys.stderr)
            report = await speak_guarded(
                client, scripted_llm(scenario["answer"], args.token_delay, args.sentence_pause),
                scenario["evidence"], mode=mode, sink=sink,
                on_speak=lambda u: print(f"  speaking: {u.text}", file=sys.stderr))
            print(json.dumps(asdict(report)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="ws://127.0.0.1:8765")
    parser.add_argument("--mode", choices=("observe", "holdback", "both"), default="both")
    parser.add_argument("--sink", choices=("auto", "espeak", "timed"), default="auto")
    parser.add_argument("--rate", type=float, default=SPEAKING_RATE,
                        help="timed sink: characters spoken per second")
    parser.add_argument("--token-delay", type=float, default=0.05,
                        help="seconds between the scripted LLM's tokens (words)")
    parser.add_argument("--sentence-pause", type=float, default=0.0,
                        help="extra seconds the scripted LLM waits after each sentence")
    try:
        return asyncio.run(_main(parser.parse_args(argv)))
    except GuardClientError as exc:  # said in one line, not as a traceback
        hint = " (STREAM_GUARD_API_KEY: a key of that server)" if isinstance(exc, AuthError) else ""
        print(f"\nerror: {exc}{hint}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
