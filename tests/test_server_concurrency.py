"""Many streams at once without cross-talk, and a graceful shutdown with windows in flight."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus

from stream_guard.config import Settings
from stream_guard.protocol.paths import STREAM_PATH
from stream_guard.server.app import Server
from stream_guard.state.memory import MemoryStateStore
from tests.conftest import running_server
from tests.wsclient import (
    API_KEY,
    FILLER,
    eventually,
    http,
    open_ws,
    raw_request,
    recv,
    scheduled,
    schema_errors,
    send,
    stream_text,
    until_closed,
)

CONNECTIONS = 13
STREAMS_PER_CONNECTION = 8  # the default cap: 104 streams in all

_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"


def word(n: int) -> str:
    """A pronounceable made-up name, different for every ``n`` below 343,000."""
    letters = []
    for _ in range(3):
        n, c = divmod(n, len(_CONSONANTS))
        n, v = divmod(n, len(_VOWELS))
        letters += [_CONSONANTS[c], _VOWELS[v]]
    return "".join(letters).capitalize()


@dataclass
class Plan:
    """One stream of the crowd: its own evidence, its own text, where (if at all) it halts."""

    conn: int
    sid: str
    doc_id: str
    context: str
    sentences: list[str]
    bad: int | None  # index of the unsupported sentence

    @property
    def text(self) -> str:
        return "".join(self.sentences)

    @property
    def pieces(self) -> list[str]:
        """The deltas: cut anywhere, at a different size on each connection."""
        size = 3 + self.conn % 9
        return [self.text[k:k + size] for k in range(0, len(self.text), size)]

    def spans(self) -> list[tuple[int, int]]:
        out, pos = [], 0
        for s in self.sentences:
            out.append((pos, pos + len(s.rstrip())))
            pos += len(s)
        return out


def make_plan(conn: int, slot: int) -> Plan:
    i = conn * STREAMS_PER_CONNECTION + slot
    n = [word(i * 10 + j) for j in range(5)]
    height, year = 1000 + 7 * i, 1500 + i
    first = f"The beacon of {n[0]} {n[1]} rises {height} metres above {n[2]}. "
    second = f"Its lamp was first lit in {year} by {n[3]} {n[4]}. "
    # Nothing of this is in any stream's evidence: a halt wherever it appears.
    bad = (f"{word(200_000 + i * 10)} {word(200_001 + i * 10)} sold {90_000 + i} "
           f"{word(200_002 + i * 10)} tickets. ")
    # A stream scored against another stream's evidence would halt on its first sentence:
    # the names and numbers that carry most of the weight are this stream's alone.
    sentences, bad_at = [first, second], [None, 0, 1, 2][i % 4]
    if bad_at is not None:
        sentences.insert(bad_at, bad)
    return Plan(conn, f"s{slot}", f"doc-{conn}-{slot}", first + second, sentences, bad_at)


async def run_connection(port: int, plans: list[Plan], *, padded: bool = False
                         ) -> dict[str, list[dict[str, Any]]]:
    """Open every plan's stream on one connection, interleave their deltas, end them all.
    ``padded``: each context gets a second item of filler, too large for the lexical tier's
    on-loop check, so windows of all streams share the scheduler's batches."""
    frames: dict[str, list[dict[str, Any]]] = defaultdict(list)
    async with open_ws(port) as ws:
        for p in plans:
            context: list[Any] = [{"id": p.doc_id, "text": p.context}]
            if padded:
                context += [{"id": f"{p.doc_id}-filler", "text": FILLER}]
            await send(ws, {"type": "start", "stream_id": p.sid, "context": context,
                            "options": {"mode": "holdback"}})
        pieces = {p.sid: p.pieces for p in plans}
        for seq in range(max(len(v) for v in pieces.values())):
            for p in plans:
                if seq < len(pieces[p.sid]):
                    await send(ws, {"type": "delta", "stream_id": p.sid, "seq": seq,
                                    "text": pieces[p.sid][seq]})
        for p in plans:
            await send(ws, {"type": "end", "stream_id": p.sid})
        done = 0
        while done < len(plans):
            frame = await recv(ws, timeout=30)
            assert schema_errors(frame) == [], frame
            frames[frame["stream_id"]].append(frame)
            done += frame["type"] == "done"
    return frames


def check_stream(plan: Plan, frames: list[dict[str, Any]]) -> None:
    kinds = [f["type"] for f in frames]
    assert kinds[0] == "started" and kinds[-1] == "done" and kinds.count("done") == 1
    spans = plan.spans()
    verdicts = [f for f in frames if f["type"] == "verdict"]
    last = len(spans) - 1 if plan.bad is None else plan.bad
    assert [(v["start"], v["end"]) for v in verdicts] == spans[:last + 1], plan.sid
    assert [v["label"] == "supported" for v in verdicts] == [
        i != plan.bad for i in range(last + 1)]
    for v in verdicts:  # evidence from this stream's own context only (its filler included)
        assert {e["id"].split("#")[0].removesuffix("-filler")
                for e in v["evidence"]} == {plan.doc_id}
    ups = [f["upto"] for f in frames if f["type"] == "release"]
    assert ups == sorted(set(ups))
    halts = [f for f in frames if f["type"] == "halt"]
    errors = [f for f in frames if f["type"] == "error"]
    if plan.bad is None:
        assert halts == [] and errors == [] and ups[-1] == len(plan.text)
    else:
        (halt,) = halts
        start, end = spans[plan.bad]
        assert (halt["at"], halt["text"]) == (start, plan.text[start:end])
        assert halt["window"] == {"start": start, "end": end}
        assert not ups or ups[-1] <= start
        # deltas still in flight when the halt came are refused, nothing else is
        assert all(e["code"] == "stream_halted" for e in errors)
        assert kinds.index("halt") > max(kinds.index("verdict"), 0)
    # the text is what was taken: the deltas refused after a halt are not part of it
    refused = plan.pieces[len(plan.pieces) - len(errors):] if errors else []
    assert frames[-1] == {"type": "done", "stream_id": plan.sid, "halted": plan.bad is not None,
                          "chars": len(plan.text) - sum(map(len, refused)),
                          "windows": len(verdicts)}


@pytest.mark.parametrize("padded", [False, True], ids=["checked-on-loop", "batched"])
async def test_a_hundred_concurrent_streams_without_cross_talk(
        settings_factory: Callable[..., Settings], padded: bool) -> None:
    """Deadlines off: on a busy test machine 104 streams' windows can all miss 150 ms, and
    the fallback would answer them outside the batches whose lane this checks."""
    plans = [[make_plan(c, s) for s in range(STREAMS_PER_CONNECTION)]
             for c in range(CONNECTIONS)]
    async with running_server(settings_factory(verdict_deadline_ms=0)) as server:
        assert server.engine is not None
        lanes: list[bool] = []  # per window checked: on the event loop's thread?
        process = server.engine._process

        def recording(jobs: Any) -> Any:
            lanes.extend([threading.current_thread() is threading.main_thread()] * len(jobs))
            return process(jobs)

        server.engine._process = recording  # type: ignore[method-assign]
        results = await asyncio.wait_for(asyncio.gather(
            *(run_connection(server.port, conn_plans, padded=padded)
              for conn_plans in plans)), 120)
        for conn_plans, frames in zip(plans, results, strict=True):
            assert set(frames) == {p.sid for p in conn_plans}
            for plan in conn_plans:
                check_stream(plan, frames[plan.sid])
        total = CONNECTIONS * STREAMS_PER_CONNECTION
        # the lane the parameter asks for: contexts too large for the loop are all batched;
        # small ones are checked on the loop, at most ON_LOOP_CHECKS_PER_TURN a turn (the rest
        # of a turn's, batched)
        assert (not any(lanes)) if padded else any(lanes)
        assert server.metrics.streams_started._value.get() == total
        assert server.metrics.streams_done._value.get() == total


# --- graceful shutdown --------------------------------------------------------------------------

CONTEXT = ["The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris, France."]
IN_FLIGHT = "The Eiffel Tower was completed in 1889. It is 330 metres tall. It was"


async def open_streams(ws: ClientConnection, sids: list[str]) -> None:
    for sid in sids:
        # Padded: its windows go through the scheduler, where the tests hold them in flight.
        await send(ws, {"type": "start", "stream_id": sid, "context": scheduled(CONTEXT)})
        await send(ws, {"type": "delta", "stream_id": sid, "seq": 0, "text": IN_FLIGHT})
    await send(ws, {"type": "ping"})  # everything before it has been taken
    frames = [await recv(ws) for _ in range(len(sids) + 1)]
    assert frames[-1] == {"type": "pong"}
    assert [f["type"] for f in frames[:-1]] == ["started"] * len(sids)


async def test_graceful_shutdown(settings_factory: Callable[..., Settings]) -> None:
    # Each window waits up to a second for its batch to fill: still in flight at shutdown.
    settings = settings_factory(batch_max_wait_ms=1000, batch_max_size=4096,
                                shutdown_grace_s=10)
    async with running_server(settings) as server, open_ws(server.port) as one, \
            open_ws(server.port) as two:
        await open_streams(one, ["a", "b"])
        await open_streams(two, ["c"])
        # two sockets accepted before the drain, to ask questions while it lasts
        assert server._ws is not None
        sockets = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(2)]
        await eventually(lambda: len(server._ws.handler_tasks) == 4)  # type: ignore[union-attr]

        stopping = asyncio.create_task(server.shutdown())
        await eventually(lambda: server.draining)
        status, body = await raw_request(*sockets[0], ["GET /readyz HTTP/1.1", "Host: x"])
        assert (status, body["status"], body["checks"]["accepting"]) == (503, "not_ready", False)
        status, body = await raw_request(*sockets[1], [
            f"GET {STREAM_PATH} HTTP/1.1", "Host: x", "Upgrade: websocket",
            "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version: 13", f"Authorization: Bearer {API_KEY}"])
        assert (status, body["error"]) == (503, "draining")
        # The port still listens through the drain, so a new client (and a balancer's probe)
        # is told why instead of being refused at TCP.
        with pytest.raises(InvalidStatus) as refused:
            async with open_ws(server.port):
                pass
        assert refused.value.response.status_code == 503
        status, _ = await raw_request(*await asyncio.open_connection("127.0.0.1", server.port),
                                      ["GET /readyz HTTP/1.1", "Host: x"])
        assert status == 503

        for ws, sids in ((one, ["a", "b"]), (two, ["c"])):
            frames, code, reason = await until_closed(ws, timeout=30)
            assert (code, reason) == (1001, "server shutting down")
            assert all(schema_errors(f) == [] for f in frames)
            by_stream: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for f in frames:
                by_stream[f["stream_id"]].append(f)
            assert sorted(by_stream) == sids
            for sid in sids:
                kinds = [f["type"] for f in by_stream[sid]]
                # the windows in flight were finished and sent before the stream's done
                assert kinds[-1] == "done" and kinds.count("verdict") >= 1
                assert set(kinds[:-1]) == {"verdict"}
                assert by_stream[sid][-1] == {
                    "type": "done", "stream_id": sid, "halted": False, "chars": len(IN_FLIGHT),
                    "windows": kinds.count("verdict"), "drained": True}
        await asyncio.wait_for(stopping, 30)
        assert server.metrics.streams_done._value.get() == 3


class SlowSlots(MemoryStateStore):
    """The in-memory store whose connection slot leases take as long as a slow Redis round
    trip (until ``lease_done``), with a way to see that one is being taken; and a count of the
    readiness probes it answered."""

    def __init__(self) -> None:
        super().__init__()
        self.leasing = asyncio.Event()
        self.lease_done = asyncio.Event()
        self.probes = 0

    async def acquire_slot(self, scope: str, holder: str, limit: int, ttl_s: float) -> bool:
        if scope == "ready-probe":
            self.probes += 1
            await asyncio.sleep(0.5)  # long enough for every request of a burst to come
        else:
            self.leasing.set()
            await self.lease_done.wait()
        return await super().acquire_slot(scope, holder, limit, ttl_s)


async def test_a_connection_whose_slots_are_leased_as_the_drain_begins_is_closed(
        settings_factory: Callable[..., Settings]) -> None:
    """A connection upgraded before the drain but still leasing its slots when it began used
    to join the server's connections after the drain had taken them: it was never drained,
    could open streams, and the process exit cut it without a close frame."""
    store = SlowSlots()
    server = Server(settings_factory(shutdown_grace_s=2), store=store)
    await server.start()
    await server.wait_ready()
    stopping: asyncio.Task[None] | None = None
    try:
        async with open_ws(server.port) as ws:
            await asyncio.wait_for(store.leasing.wait(), 10)
            stopping = asyncio.create_task(server.shutdown())
            await eventually(lambda: server.draining)
            store.lease_done.set()
            await send(ws, {"type": "start", "stream_id": "late", "context": CONTEXT})
            frames, code, reason = await until_closed(ws)
        assert frames == [] and (code, reason) == (1001, "server shutting down")
        await asyncio.wait_for(stopping, 10)
        assert not server.connections
        # its slots were given back, not left to expire
        assert await store.acquire_slot(f"node:{server.node}", "probe", 1, 1.0)
    finally:
        store.lease_done.set()
        if stopping is None:
            await server.shutdown(grace=1.0)


async def test_a_client_gone_during_the_drain_does_not_hold_the_shutdown(
        settings_factory: Callable[..., Settings]) -> None:
    """The drain waited for the connection's streams to end, which a client that left never
    does: shutdown then waited out its whole grace with no connection left."""
    server = Server(settings_factory(shutdown_grace_s=120))
    await server.start()
    await server.wait_ready()
    stopping: asyncio.Task[None] | None = None
    try:
        async with open_ws(server.port) as ws:
            await send(ws, {"type": "start", "stream_id": "s", "context": CONTEXT})
            assert (await recv(ws))["type"] == "started"
            stopping = asyncio.create_task(server.shutdown())
            await eventually(lambda: server.draining)
        await asyncio.wait_for(stopping, 60)  # half its grace: it ended with the connection
        assert not server.connections
    finally:
        if stopping is None:
            await server.shutdown(grace=1.0)


async def test_messages_held_behind_a_backlog_are_charged_when_they_arrived(
        settings_factory: Callable[..., Settings]) -> None:
    """A client within its message rate whose messages the server held (its windows waiting
    for the scorer) lost them to rate_limited when they were released in one burst, and every
    delta after a dropped one to bad_seq: the rate is the client's, by arrival."""
    settings = settings_factory(max_windows_in_flight=1, batch_max_wait_ms=1000,
                                batch_max_size=4096, verdict_deadline_ms=0,
                                rate_per_s=12, rate_burst=2)
    answer = ("The Eiffel Tower is in Paris, France. It is 330 metres tall. It was completed "
              "in 1889. The tower is in Paris. ")
    words = re.findall(r"\S+\s*", answer)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        await send(ws, {"type": "start", "stream_id": "s", "context": scheduled(CONTEXT)})
        assert (await recv(ws))["type"] == "started"
        for seq, word in enumerate(words):  # a word a delta, 10 a second: within the rate
            await send(ws, {"type": "delta", "stream_id": "s", "seq": seq, "text": word})
            await asyncio.sleep(0.1)
        await send(ws, {"type": "end", "stream_id": "s"})
        frames = []
        while not frames or frames[-1]["type"] != "done":
            frames.append(await asyncio.wait_for(recv(ws), 30))
    assert [f for f in frames if f["type"] == "error"] == []
    assert frames[-1]["chars"] == len(answer)


async def test_a_delta_held_behind_the_backlog_counts_its_wait_in_the_halt_latency(
        settings_factory: Callable[..., Settings]) -> None:
    """A review: on a backend's shared connection, one user's long answer held another's
    delta for 1.5 s, and the halt latency metric started when the held delta was handed over:
    it showed 50 ms. It starts when the delta was read, as the client sees it."""
    settings = settings_factory(max_windows_in_flight=1, batch_max_wait_ms=500,
                                batch_max_size=4096, verdict_deadline_ms=0)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        for sid in ("long", "short"):
            await send(ws, {"type": "start", "stream_id": sid, "context": scheduled(CONTEXT)})
            assert (await recv(ws))["type"] == "started"
        await send(ws, {"type": "delta", "stream_id": "long", "seq": 0,
                        "text": "The Eiffel Tower is in Paris. It is 330 metres tall. It was "
                                "completed in 1889. The tower is tall. "})
        sent = time.perf_counter()
        await send(ws, {"type": "delta", "stream_id": "short", "seq": 0,
                        "text": "Napoleon Bonaparte designed its golden spiral staircases in "
                                "1712 for Venetian merchants. The"})  # held behind "long"
        while (frame := await asyncio.wait_for(recv(ws), 30))["type"] != "halt":
            pass
        seen = time.perf_counter() - sent
        assert frame["stream_id"] == "short"
        latency = server.metrics.halt_latency
        (count,) = [s.value for s in latency.collect()[0].samples if s.name.endswith("_count")]
        (total,) = [s.value for s in latency.collect()[0].samples if s.name.endswith("_sum")]
    assert count == 1 and seen > 1.0  # it waited behind "long"'s windows
    assert seen - 0.3 < total <= seen  # from its reading to its writing, within the client's


async def test_concurrent_readiness_probes_share_one_store_probe(
        settings_factory: Callable[..., Settings]) -> None:
    """/readyz, which the shipped proxies expose to anyone, took and let go a slot lease in
    the store for every request: a flood of probes was a flood of store writes."""
    store = SlowSlots()
    async with running_server(settings_factory(), store=store) as server:
        before = store.probes
        answers = await asyncio.gather(*(http(server.port, "GET", "/readyz")
                                         for _ in range(20)))
        assert {a.status for a in answers} == {200}
        assert store.probes - before <= 2  # one, and perhaps the watcher's own in flight


async def test_a_cancelled_streams_evidence_is_not_prepared_for_no_one(
        settings_factory: Callable[..., Settings]) -> None:
    """Evidence set-up is one queue for the whole server. Streams started and cancelled in a
    loop left their set-up queued, so one client could delay every other client's next stream
    by seconds (a review measured 11 s after 200 pairs); a stream that is stopped, or whose
    connection is gone, now takes its set-up out of the queue."""
    async with running_server(settings_factory()) as server:
        assert server.engine is not None
        prepared = 0
        prepare = server.engine.prepare

        def counted(request: Any) -> Any:
            nonlocal prepared
            prepared += 1
            return prepare(request)

        server.engine.prepare = counted  # type: ignore[method-assign]
        context = [f"Sentence number {i} of a long context about towers." for i in range(256)]
        async with open_ws(server.port) as ws:
            for i in range(40):
                await ws.send(orjson.dumps({"type": "start", "stream_id": f"s{i}",
                                            "context": context}).decode())
                await send(ws, {"type": "cancel", "stream_id": f"s{i}"})
            await send(ws, {"type": "ping"})
            while (await recv(ws))["type"] != "pong":
                pass
        async with open_ws(server.port) as ws:  # the set-up queue is free for the next client
            frames = await stream_text(ws, "next", "The Eiffel Tower was completed in 1889. ",
                                       context=CONTEXT)
            assert frames[-1]["type"] == "done"
        assert prepared < 20, prepared  # was 41: every cancelled stream's, then the next one's


async def test_a_client_that_hangs_up_mid_stream_is_released(
        settings_factory: Callable[..., Settings], caplog: pytest.LogCaptureFixture) -> None:
    settings = settings_factory(batch_max_wait_ms=1000, batch_max_size=4096,
                                max_connections=1)
    async with running_server(settings) as server:
        for _ in range(3):  # with a leaked slot the second round would be closed 1013
            async with open_ws(server.port) as ws:
                await open_streams(ws, ["a", "b"])
                assert len(server.connections) == 1
            await eventually(lambda: not server.connections)
        assert server.metrics.connections_active._value.get() == 0
        assert server.metrics.streams_done._value.get() == 0
        # the windows of the vanished streams were dropped, never scored
        await eventually(lambda: server.metrics.queue_depth._value.get() == 0)
        assert server.metrics.batch_size._sum.get() == 0
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_large_delta_lets_other_clients_in_and_keeps_its_own_order(
        settings_factory: Callable[..., Settings]) -> None:
    """A 60 KB delta of one-letter sentences ("A. A. A.", the costliest text to segment)
    used to be segmented in one go, holding the event loop for over 100 ms. It is segmented a
    slice per loop turn: another client's ping sent after it is answered before it is done,
    and the big delta's own later messages (its end, a ping) wait for it, in order. Four such
    deltas queue up first, so the other client's ping has their whole time to arrive in (one
    left a race with a slow client, once, right after a load test). The big stream's own pong
    may come before or after its ``done``: a ping read while the last windows are in flight is
    answered at once (docs/protocol.md); asserting ``done`` first failed once in CI."""
    delta = "A. " * 20_000
    text = delta * 4
    async with running_server(settings_factory(tier="lexical")) as server, \
            open_ws(server.port) as big, open_ws(server.port) as other:
        await send(big, {"type": "start", "stream_id": "big", "context": ["A. B. C."]})
        assert (await recv(big))["type"] == "started"
        await send(other, {"type": "ping"})
        assert await recv(other) == {"type": "pong"}  # connected and answered
        for seq in range(4):
            await send(big, {"type": "delta", "stream_id": "big", "seq": seq, "text": delta})
        await send(big, {"type": "end", "stream_id": "big"})
        await send(big, {"type": "ping"})
        await send(other, {"type": "ping"})
        arrivals: list[str] = []

        async def other_pong() -> None:
            assert await recv(other) == {"type": "pong"}
            arrivals.append("other pong")

        async def big_frames() -> list[dict[str, Any]]:
            frames: list[dict[str, Any]] = []
            while {"done", "pong"} - {f["type"] for f in frames}:
                frames.append(await recv(big))
                if frames[-1]["type"] in ("done", "pong"):
                    arrivals.append(f"big {frames[-1]['type']}")
            return frames

        _, frames = await asyncio.gather(other_pong(), big_frames())
        assert arrivals[0] == "other pong"
        assert sorted(arrivals[1:]) == ["big done", "big pong"]
        frames = [f for f in frames if f["type"] != "pong"]
        done = frames[-1]
        assert done["type"] == "done" and done["chars"] == len(text) and not done["halted"]
        verdicts = [f for f in frames if f["type"] == "verdict"]
        assert len(verdicts) == done["windows"] > 100
        assert [v["start"] for v in verdicts] == sorted(v["start"] for v in verdicts)
        assert verdicts[-1]["end"] == len(text.rstrip())
