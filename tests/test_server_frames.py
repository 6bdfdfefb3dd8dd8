"""Every server frame type and every error code, over a real socket to a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
import pytest

from stream_guard.config import Settings
from stream_guard.metrics import Metrics
from stream_guard.scores import Pair, PairScore, PairScorer
from stream_guard.scoring.engine import Alignment, CheckJob, EngineConfig, GroundingEngine
from stream_guard.server.app import Server
from tests.conftest import running_server
from tests.scorers import LexicalScorer
from tests.wsclient import (
    open_ws,
    recv,
    recv_until,
    scheduled,
    schema_errors,
    send,
    stream_text,
)

CONTEXT = ["The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris, France."]
GOOD = "The Eiffel Tower was completed in 1889. It is 330 metres tall. "
BAD = "Napoleon Bonaparte designed its golden spiral staircases in 1712 for Venetian merchants. "
TAIL = "The tower still stands"  # starts another sentence, so BAD is complete


def check_frames(frames: list[dict[str, Any]]) -> None:
    for frame in frames:
        assert schema_errors(frame) == [], frame


async def expect_error(ws: Any, code: str, stream_id: str | None = None) -> dict[str, Any]:
    frame = await recv(ws)
    assert frame["type"] == "error" and frame["code"] == code, frame
    assert frame.get("stream_id") == stream_id
    assert frame["message"]
    check_frames([frame])
    return frame


async def test_holdback_stream_gets_started_verdicts_releases_done(server: Server) -> None:
    async with open_ws(server.port) as ws:
        frames = await stream_text(ws, "s1", GOOD, context=CONTEXT,
                                   options={"mode": "holdback"})
    check_frames(frames)
    assert frames[0] == {"type": "started", "stream_id": "s1"}
    verdicts = [f for f in frames if f["type"] == "verdict"]
    assert [v["label"] for v in verdicts] == ["supported", "supported"]
    assert [GOOD[v["start"]:v["end"]] for v in verdicts] == [
        "The Eiffel Tower was completed in 1889.", "It is 330 metres tall."]
    assert all(e["id"] == "ctx-0#0" for v in verdicts for e in v["evidence"])
    ups = [f["upto"] for f in frames if f["type"] == "release"]
    assert ups == sorted(set(ups)) and ups[-1] == len(GOOD)
    assert frames[-1] == {"type": "done", "stream_id": "s1", "halted": False,
                          "chars": len(GOOD), "windows": 2}


async def test_a_claim_in_a_markdown_block_is_held_back_and_halts(server: Server) -> None:
    """A review: an answer wrapped in ```markdown was taken for code, released unchecked in
    holdback mode and never halted. Its sentences are checked; the fences are not claims."""
    text = f"Here it is:\n```markdown\n{GOOD}\n{BAD}\n```\n"
    async with open_ws(server.port) as ws:
        frames = await stream_text(ws, "s1", text, context=CONTEXT,
                                   options={"mode": "holdback"})
    check_frames(frames)
    (halt,) = [f for f in frames if f["type"] == "halt"]
    assert halt["at"] == text.index("Napoleon")
    assert max(f["upto"] for f in frames if f["type"] == "release") <= halt["at"]
    assert frames[-1]["halted"] is True


async def test_observe_mode_has_no_releases_and_verdicts_can_be_off(server: Server) -> None:
    async with open_ws(server.port) as ws:
        observe = await stream_text(ws, "a", GOOD, context=CONTEXT)
        quiet = await stream_text(ws, "b", GOOD + BAD, context=CONTEXT,
                                  options={"verdicts": False, "mode": "holdback"})
    assert "release" not in [f["type"] for f in observe]
    assert [f["type"] for f in observe].count("verdict") == 2
    check_frames(quiet)
    assert "verdict" not in [f["type"] for f in quiet]
    assert [f["type"] for f in quiet if f["type"] != "release"] == ["started", "halt", "done"]


async def test_halt_then_stream_halted_then_done(server: Server) -> None:
    text = GOOD + BAD + TAIL
    async with open_ws(server.port) as ws:
        await stream_text(ws, "s1", text, context=CONTEXT, piece=10, end=False)
        frames = await recv_until(ws, "halt", "s1")
        check_frames(frames)
        halt = frames[-1]
        assert halt["at"] == len(GOOD) and halt["text"] == BAD.strip()
        assert halt["reason"] in ("unsupported", "unsupported_run", "contradicted")
        assert halt["window"] == {"start": len(GOOD), "end": len(GOOD + BAD.strip())}
        assert [f["label"] for f in frames if f["type"] == "verdict"][-1] != "supported"
        next_seq = -(-len(text) // 10)
        await send(ws, {"type": "delta", "stream_id": "s1", "seq": next_seq, "text": "More."})
        await expect_error(ws, "stream_halted", "s1")
        await send(ws, {"type": "end", "stream_id": "s1"})
        done = await recv(ws)
        assert done == {"type": "done", "stream_id": "s1", "halted": True, "chars": len(text),
                        "windows": done["windows"]} and done["windows"] >= 3
        # the id is free again once the stream is done
        await send(ws, {"type": "start", "stream_id": "s1", "context": CONTEXT})
        assert await recv(ws) == {"type": "started", "stream_id": "s1"}


async def test_a_delta_cut_inside_an_emoji_is_taken_and_the_stream_goes_on(
        server: Server) -> None:
    """A client that cuts its text between the two halves of an emoji sends each half as a
    lone escaped surrogate (JavaScript's JSON.stringify does); the frame was refused as
    invalid JSON, its text lost and every later delta refused bad_seq. Each half is read as
    U+FFFD, and the stream's offsets count it as one character, as the client's did."""
    async with open_ws(server.port) as ws:
        await send(ws, {"type": "start", "stream_id": "e", "context": CONTEXT})
        assert (await recv(ws))["type"] == "started"
        pieces = ['"The tower is 330 metres tall. \\ud83d"',
                  '"\\ude00 It was completed in 1889."']
        for seq, piece in enumerate(pieces):
            await ws.send(f'{{"type": "delta", "stream_id": "e", "seq": {seq}, "text": {piece}}}')
        await send(ws, {"type": "end", "stream_id": "e"})
        frames = await recv_until(ws, "done", "e")
    assert not [f for f in frames if f["type"] == "error"]
    assert frames[-1]["chars"] == len("The tower is 330 metres tall. ") + 2 + len(
        " It was completed in 1889.")


async def test_ping_and_cancel(server: Server) -> None:
    async with open_ws(server.port) as ws:
        await send(ws, {"type": "ping"})
        assert await recv(ws) == {"type": "pong"}
        await stream_text(ws, "c", "The Eiffel Tower was compl", context=CONTEXT, end=False)
        assert await recv(ws) == {"type": "started", "stream_id": "c"}
        await send(ws, {"type": "cancel", "stream_id": "c"})
        done = await recv(ws)
        assert done == {"type": "done", "stream_id": "c", "halted": False, "chars": 26,
                        "windows": 0, "cancelled": True}
        check_frames([done])
        await send(ws, {"type": "delta", "stream_id": "c", "seq": 4, "text": "x"})
        await expect_error(ws, "unknown_stream", "c")


async def test_every_client_error_code_leaves_the_connection_open(server: Server) -> None:
    async with open_ws(server.port) as ws:
        await ws.send("{not json")
        assert "invalid JSON" in (await expect_error(ws, "bad_frame"))["message"]
        await ws.send(b'{"type": "ping"}')
        assert "binary" in (await expect_error(ws, "bad_frame"))["message"]
        await ws.send("[1, 2]")
        await expect_error(ws, "bad_frame")
        await send(ws, {"type": "launch", "stream_id": "x"})
        await expect_error(ws, "unknown_type", "x")
        await send(ws, {"type": "start", "stream_id": "x", "context": CONTEXT, "colour": 1})
        assert "colour" in (await expect_error(ws, "bad_frame", "x"))["message"]
        await send(ws, {"type": "start", "stream_id": "x", "context": CONTEXT,
                        "options": {"speed": 2}})
        assert "speed" in (await expect_error(ws, "bad_frame", "x"))["message"]
        await send(ws, {"type": "start", "stream_id": "x"})
        await expect_error(ws, "bad_frame", "x")  # nothing to check against
        await send(ws, {"type": "start", "stream_id": "x", "context": ["  ", {"text": ""}]})
        await expect_error(ws, "bad_frame", "x")
        # nor does text that is all zero-width or punctuation (a review found U+200B accepted)
        await send(ws, {"type": "start", "stream_id": "x", "context": ["\u200b\u200b", "..."]})
        await expect_error(ws, "bad_frame", "x")
        await send(ws, {"type": "start", "stream_id": "x", "collection": "wiki",
                        "context": CONTEXT})
        assert "wiki" in (await expect_error(ws, "unknown_collection", "x"))["message"]
        for kind in ("end", "cancel"):
            await send(ws, {"type": kind, "stream_id": "ghost"})
            await expect_error(ws, "unknown_stream", "ghost")
        await send(ws, {"type": "delta", "stream_id": "ghost", "seq": 0, "text": "x"})
        await expect_error(ws, "unknown_stream", "ghost")
        await send(ws, {"type": "start", "stream_id": "d", "context": CONTEXT})
        assert await recv(ws) == {"type": "started", "stream_id": "d"}
        await send(ws, {"type": "start", "stream_id": "d", "context": CONTEXT})
        await expect_error(ws, "duplicate_stream", "d")
        await send(ws, {"type": "delta", "stream_id": "d", "seq": 1, "text": "The Eiffel"})
        assert "expected seq 0, got 1" in (await expect_error(ws, "bad_seq", "d"))["message"]
        await send(ws, {"type": "delta", "stream_id": "d", "seq": 0, "text": "The Eiffel"})
        await send(ws, {"type": "delta", "stream_id": "d", "seq": 0, "text": " Tower"})
        await expect_error(ws, "bad_seq", "d")
        await send(ws, {"type": "delta", "stream_id": "d", "seq": 1, "text": " Tower"})
        await send(ws, {"type": "end", "stream_id": "d"})
        frames = await recv_until(ws, "done", "d")
        assert frames[-1]["chars"] == len("The Eiffel Tower")
        await send(ws, {"type": "ping"})
        assert await recv(ws) == {"type": "pong"}
    errors = server.metrics.errors_sent
    assert errors.labels("bad_frame")._value.get() == 8
    assert errors.labels("unknown_stream")._value.get() == 3


async def test_an_error_frame_echoes_little_of_a_long_unknown_name(server: Server) -> None:
    """A review: a 60 KB ping whose one field is named by 30,000 U+0085 was answered by a
    150 KB bad_frame (the name echoed whole, escaped twice); the echo is cut, as an unknown
    type's is."""
    async with open_ws(server.port, max_size=2**22) as ws:
        await ws.send('{"type":"ping","' + "\u0085" * 30_000 + '":1}')
        answer = await ws.recv()
        assert len(answer) < 400
        assert orjson.loads(answer)["code"] == "bad_frame"
        await send(ws, {"type": "ping"})
        assert await recv(ws) == {"type": "pong"}


async def test_integers_written_as_whole_floats_are_taken(server: Server) -> None:
    """A review: docs/protocol.schema.json's integers (JSON Schema's) include 1.0 and 1e2,
    but the server refused "seq": 0.0 and a context "id": 7.0 bad_frame; a client whose JSON
    writer gives whole numbers so could stream nothing."""
    async with open_ws(server.port) as ws:
        await ws.send('{"type":"start","stream_id":"f","context":[{"id":7.0,"text":%s}]}'
                      .replace("%s", orjson.dumps(CONTEXT[0]).decode()))
        assert await recv(ws) == {"type": "started", "stream_id": "f"}
        for seq, text in enumerate((GOOD[:20], GOOD[20:])):
            await ws.send('{"type":"delta","stream_id":"f","seq":%s,"text":%s}'
                          .replace("%s", f"{seq:.1f}", 1)
                          .replace("%s", orjson.dumps(text).decode(), 1))
        await send(ws, {"type": "end", "stream_id": "f"})
        frames = await recv_until(ws, "done", "f")
    check_frames(frames)
    assert [f["type"] for f in frames if f["type"] == "error"] == []
    verdicts = [f for f in frames if f["type"] == "verdict"]
    assert [v["label"] for v in verdicts] == ["supported", "supported"]
    assert {e["id"] for v in verdicts for e in v["evidence"]} == {"7#0"}
    assert frames[-1]["chars"] == len(GOOD)


async def test_too_many_streams(settings_factory: Callable[..., Settings]) -> None:
    async with running_server(settings_factory(max_streams_per_connection=2)) as server, \
            open_ws(server.port) as ws:
        for sid in ("a", "b"):
            await send(ws, {"type": "start", "stream_id": sid, "context": CONTEXT})
            assert await recv(ws) == {"type": "started", "stream_id": sid}
        await send(ws, {"type": "start", "stream_id": "c", "context": CONTEXT})
        assert "at most 2" in (await expect_error(ws, "too_many_streams", "c"))["message"]
        await send(ws, {"type": "end", "stream_id": "a"})
        assert (await recv(ws))["type"] == "done"
        await send(ws, {"type": "start", "stream_id": "c", "context": CONTEXT})
        assert await recv(ws) == {"type": "started", "stream_id": "c"}
        # the cap is per connection
        async with open_ws(server.port) as other:
            await send(other, {"type": "start", "stream_id": "a", "context": CONTEXT})
            assert await recv(other) == {"type": "started", "stream_id": "a"}


async def test_delta_after_end_is_refused(settings_factory: Callable[..., Settings]) -> None:
    # Windows wait up to a second for their batch (a context too large to check on the loop),
    # so the stream is still open (ended, not done) when the late delta arrives.
    settings = settings_factory(batch_max_wait_ms=1000, batch_max_size=4096)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        await stream_text(ws, "s", GOOD, context=scheduled(CONTEXT), piece=100, end=False)
        await send(ws, {"type": "end", "stream_id": "s"})
        await send(ws, {"type": "delta", "stream_id": "s", "seq": 1, "text": "late"})
        assert await recv(ws) == {"type": "started", "stream_id": "s"}
        assert "ended" in (await expect_error(ws, "bad_frame", "s"))["message"]
        await send(ws, {"type": "end", "stream_id": "s"})
        assert "already ended" in (await expect_error(ws, "bad_frame", "s"))["message"]
        frames = await recv_until(ws, "done", "s")
        assert [f["type"] for f in frames] == ["verdict", "verdict", "done"]
        assert frames[-1]["chars"] == len(GOOD)
        await send(ws, {"type": "delta", "stream_id": "s", "seq": 1, "text": "later"})
        await expect_error(ws, "unknown_stream", "s")


@asynccontextmanager
async def serving(settings: Settings, model: PairScorer,
                  engine_type: type[GroundingEngine] = GroundingEngine
                  ) -> AsyncIterator[tuple[Server, Metrics]]:
    """A server whose detector is ``model`` (a stand-in that fails or records what it reads),
    and its metrics."""
    metrics = Metrics()
    engine = engine_type(EngineConfig.from_settings(settings), metrics, model=model,
                         model_threshold=0.5)
    server = Server(settings, engine=engine, metrics=metrics)
    await server.start()
    try:
        yield server, metrics
    finally:
        await server.shutdown(grace=1.0)


class ExplodingScorer:
    """A model tier that fails on one kind of window, as a broken model would."""

    name = "exploding"

    def score_pairs(self, pairs: Sequence[Pair]) -> list[PairScore]:
        if any("Zeppelin" in p.hypothesis for p in pairs):
            raise RuntimeError("model exploded")
        return LexicalScorer().score_pairs(pairs)


class BrokenAlignment(GroundingEngine):
    """An engine whose own reading of one kind of window fails (a bug outside the model)."""

    def align(self, jobs: Sequence[CheckJob], *, read_talk: bool = True) -> list[Alignment]:
        if any("Zeppelin" in job.text for job in jobs):
            raise RuntimeError("alignment exploded")
        return super().align(jobs, read_talk=read_talk)


ZEPPELIN = "A Zeppelin flew over Berlin in 1909. " + GOOD


async def test_a_window_the_model_fails_on_gets_the_lexical_verdict_marked_degraded(
        settings_factory: Callable[..., Settings]) -> None:
    """A failing model (a GPU out of memory) must not let its windows pass unchecked: the
    fabricated first sentence halts on the lexical tier's verdict, as past a deadline."""
    settings = settings_factory(tier="cascade", batch_max_wait_ms=0)
    async with serving(settings, ExplodingScorer()) as (server, metrics), \
            open_ws(server.port) as ws:
        frames = await stream_text(ws, "s", ZEPPELIN, context=CONTEXT, piece=len(ZEPPELIN),
                                   options={"mode": "holdback"})
    check_frames(frames)
    assert not [f for f in frames if f["type"] == "error"]
    verdicts = [f for f in frames if f["type"] == "verdict"]
    assert verdicts[0]["start"] == 0 and verdicts[0]["degraded"] is True
    assert verdicts[0]["label"] == "unsupported"
    (halt,) = [f for f in frames if f["type"] == "halt"]
    assert halt["at"] == 0 and halt["degraded"] is True
    assert not [f for f in frames if f["type"] == "release"]
    assert metrics.degraded_windows._value.get() == 1


@pytest.mark.parametrize("mode", ["observe", "holdback"])
async def test_a_window_that_cannot_be_scored_is_an_internal_error(
        settings_factory: Callable[..., Settings], mode: str) -> None:
    """A window the server cannot score at all (an unreadable collection, a bug) is reported;
    observe mode goes on without it, while holdback mode halts there (``unchecked``) rather
    than release it: a review saw a damaged collection release a false claim."""
    settings = settings_factory(tier="cascade", batch_max_wait_ms=0)
    async with serving(settings, LexicalScorer(), BrokenAlignment) as (server, _), \
            open_ws(server.port) as ws:
        # the failing window is scored in a batch of its own (the segmenter decides a
        # boundary once the next word is complete: "The E")
        await stream_text(ws, "s", ZEPPELIN[:42], context=CONTEXT, piece=42, end=False,
                          options={"mode": mode})
        frames = await recv_until(ws, "error", "s")
        await send(ws, {"type": "delta", "stream_id": "s", "seq": 1, "text": ZEPPELIN[42:]})
        await send(ws, {"type": "end", "stream_id": "s"})
        frames += await recv_until(ws, "done", "s")
    check_frames(frames)
    errors = [f for f in frames if f["type"] == "error"]
    assert len(errors) >= 1 and errors[0]["code"] == "internal"
    assert errors[0]["stream_id"] == "s" and "RuntimeError" in errors[0]["message"]
    assert "0-36" in errors[0]["message"]
    verdicts = [f for f in frames if f["type"] == "verdict"]
    if mode == "observe":  # the stream goes on without the window: the rest is scored
        assert len(errors) == 1
        assert [v["start"] for v in verdicts] == [37, 37 + GOOD.index("It")]
        assert "halt" not in [f["type"] for f in frames]
        assert frames[-1] == {"type": "done", "stream_id": "s", "halted": False,
                              "chars": len(ZEPPELIN), "windows": 2}
        return
    (halt,) = [f for f in frames if f["type"] == "halt"]
    assert halt == {"type": "halt", "stream_id": "s", "at": 0, "text": ZEPPELIN[:36],
                    "reason": "unchecked", "score": None, "evidence": [],
                    "window": {"start": 0, "end": 36}}
    assert not [f for f in frames if f["type"] == "release"] and not verdicts
    assert frames[-1]["halted"] is True


async def test_frames_are_json_text(server: Server) -> None:
    async with open_ws(server.port) as ws:
        await send(ws, {"type": "ping"})
        raw = await ws.recv()
        assert isinstance(raw, str) and orjson.loads(raw) == {"type": "pong"}


async def test_spoken_and_rounded_figures_are_read_as_the_evidence_states_them(
        server: Server) -> None:
    # A transcript spells numbers out; a summary writes digits and rounds. Neither is a new
    # figure, and a figure the hedge does not allow still is a contradiction.
    context = ["Professor C: they got twenty - five machines , and all of them ran for "
               "three hundred and thirty hours ."]
    async with open_ws(server.port) as ws:
        frames = await stream_text(ws, "ok", "They got 25 machines that ran for more than "
                                   "300 hours. ", context=context)
        verdicts = [f for f in frames if f["type"] == "verdict"]
        assert [v["label"] for v in verdicts] == ["supported"]
        assert frames[-1]["halted"] is False
        frames = await stream_text(ws, "bad", "They got 25 machines that ran for more than "
                                   "400 hours. ", context=context)
        assert next(f for f in frames if f["type"] == "halt")["reason"] == "contradicted"


class RecordingScorer:
    """The lexical scorer as the model tier, keeping every pair the engine sends it."""

    name = "recording"

    def __init__(self) -> None:
        self.pairs: list[Pair] = []

    def score_pairs(self, pairs: Sequence[Pair]) -> list[PairScore]:
        self.pairs += pairs
        return LexicalScorer().score_pairs(pairs)


async def test_the_detector_is_given_the_window_before_as_context(
        settings_factory: Callable[..., Settings]) -> None:
    """A detector trained with context (a model a user brings, or STREAM_GUARD_DETECTOR_CONTEXT)
    judges "It was completed in 1889." with the sentence before it; the engine sent every pair
    bare, so the setting did nothing."""
    settings = settings_factory(tier="cascade", batch_max_wait_ms=0)
    scorer = RecordingScorer()
    async with serving(settings, scorer) as (server, _), open_ws(server.port) as ws:
        await stream_text(ws, "s", "The Eiffel Tower is in Paris. It was completed in 1889.",
                          context=["The Eiffel Tower is in Paris. It was completed in 1889."],
                          piece=7)
    assert [(p.hypothesis, p.context) for p in scorer.pairs] == [
        ("The Eiffel Tower is in Paris.", ""),
        ("It was completed in 1889.", "The Eiffel Tower is in Paris.")]
