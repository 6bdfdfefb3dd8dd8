"""Every limit and its close code, on a real server with small limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus
from websockets.frames import Opcode

from stream_guard.config import Settings, SettingsError
from stream_guard.oversight.session import Session
from stream_guard.server.app import Server
from tests.conftest import make_settings, running_server
from tests.wsclient import (
    API_KEY,
    RawClient,
    eventually,
    frame,
    open_ws,
    recv,
    send,
    stream_text,
    until_closed,
)

CONTEXT = ["The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris, France."]


def rejections(server: Server, reason: str) -> float:
    return float(server.metrics.rejections.labels(reason)._value.get())


async def start_stream(ws: ClientConnection) -> None:
    """Stream "s" started against :data:`CONTEXT`."""
    await send(ws, {"type": "start", "stream_id": "s", "context": CONTEXT})
    assert (await recv(ws))["type"] == "started"


async def ping(ws: ClientConnection) -> None:
    await send(ws, {"type": "ping"})
    assert await recv(ws) == {"type": "pong"}


@asynccontextmanager
async def serve(factory: Callable[..., Settings], **overrides: Any) -> AsyncIterator[Server]:
    async with running_server(factory(**overrides)) as server:
        yield server


async def test_global_connection_cap(settings_factory: Callable[..., Settings]) -> None:
    async with serve(settings_factory, max_connections=2) as server, AsyncExitStack() as stack:
        held = [await stack.enter_async_context(open_ws(server.port)) for _ in range(2)]
        for ws in held:
            await ping(ws)
        async with open_ws(server.port) as third:  # the upgrade succeeds: browsers see why
            frames, code, reason = await until_closed(third)
        assert (frames, code, reason) == ([], 1013, "server at capacity")
        assert rejections(server, "capacity") == 1
        await held[0].close()
        await eventually(lambda: len(server.connections) == 1)
        async with open_ws(server.port) as again:
            await ping(again)
        await ping(held[1])


async def test_per_ip_connection_cap(settings_factory: Callable[..., Settings]) -> None:
    async with serve(settings_factory, max_connections_per_ip=1) as server, \
            open_ws(server.port) as first:
        await ping(first)
        # without trusted proxies an X-Forwarded-For header changes nothing
        async with open_ws(server.port, headers={"X-Forwarded-For": "198.51.100.7"}) as ws:
            frames, code, reason = await until_closed(ws)
        assert (frames, code) == ([], 1013) and "this address" in str(reason)
        assert rejections(server, "ip_capacity") == 1
        await ping(first)


async def test_per_ip_cap_behind_a_trusted_proxy(
        settings_factory: Callable[..., Settings]) -> None:
    async with serve(settings_factory, max_connections_per_ip=1,
                     trusted_proxies="127.0.0.0/8") as server:
        def via(client: str) -> Any:
            return open_ws(server.port, headers={"X-Forwarded-For": client})

        async with via("198.51.100.7") as a, via("198.51.100.8") as b:
            await ping(a)
            await ping(b)
            assert sorted(c.ip for c in server.connections) == ["198.51.100.7", "198.51.100.8"]
            # a client that forges its own header is still known by the address the proxy saw
            async with via("203.0.113.1, 198.51.100.7") as spoofed:
                _, code, _ = await until_closed(spoofed)
            assert code == 1013
        assert rejections(server, "ip_capacity") == 1


async def test_frame_too_large(settings_factory: Callable[..., Settings]) -> None:
    async with serve(settings_factory, max_frame_bytes=1024) as server:
        async with open_ws(server.port) as ws:
            await ws.send("x" * 1024)  # at the limit: an ordinary bad frame
            assert (await recv(ws))["code"] == "bad_frame"
            await ws.send("é" * 600)  # 600 characters, 1200 bytes
            frames, code, reason = await until_closed(ws)
        assert [f["code"] for f in frames] == ["frame_too_large"]
        assert "1024 bytes" in frames[0]["message"]
        assert (code, reason) == (1009, "frame too large")
        async with open_ws(server.port) as ws:
            await ws.send(b"\x00" * 2000)
            frames, code, _ = await until_closed(ws)
        assert [f["code"] for f in frames] == ["frame_too_large"] and code == 1009
        # far beyond the limit the library refuses the message before it is even buffered
        async with open_ws(server.port) as ws:
            await ws.send("x" * (4 * 1024 + 1))
            frames, code, _ = await until_closed(ws)
        assert (frames, code) == ([], 1009)
        await eventually(lambda: rejections(server, "frame_too_large") == 3)


async def test_a_fault_ending_the_streams_for_a_close_closes_1011(
        settings_factory: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """A message too large ends the connection's open streams before it closes 1009; should
    ending them fail (a fault of ours), the connection closes 1011 at once, the fault is
    logged, and the server goes on serving."""
    def broken(self: Session[Any]) -> None:
        raise RuntimeError("injected fault")

    monkeypatch.setattr(Session, "end_for_close", broken)
    async with serve(settings_factory, max_frame_bytes=1024) as server:
        async with open_ws(server.port) as ws:
            await start_stream(ws)
            await ws.send("x" * 2000)
            frames, code, reason = await until_closed(ws)
        assert [f.get("code") for f in frames] == ["frame_too_large"]
        assert (code, reason) == (1011, "internal error")
        assert "ending the streams for a close failed" in caplog.text
        async with open_ws(server.port) as ws:
            frames = await stream_text(ws, "next", "It is 330 metres tall. ", context=CONTEXT)
            assert frames[-1]["type"] == "done"


async def test_character_budget(settings_factory: Callable[..., Settings]) -> None:
    """A spent budget drains the connection: the stream on it goes on (as many characters
    again) and ends with its done, a new stream is refused (``draining``), then 1001; beyond
    twice the budget a delta is refused and the connection closed 1009."""
    async with serve(settings_factory, max_chars_per_connection=100) as server:
        async with open_ws(server.port) as ws:
            await start_stream(ws)
            await send(ws, {"type": "delta", "stream_id": "s", "seq": 0, "text": "a" * 60})
            await send(ws, {"type": "delta", "stream_id": "s", "seq": 1, "text": "b" * 40})
            await send(ws, {"type": "start", "stream_id": "s2", "context": CONTEXT})
            await send(ws, {"type": "delta", "stream_id": "s", "seq": 2, "text": " c."})
            await send(ws, {"type": "end", "stream_id": "s"})
            frames, code, reason = await until_closed(ws)
        errors = [(f["code"], f["stream_id"]) for f in frames if f["type"] == "error"]
        assert errors == [("draining", "s2")]
        assert frames[-1]["type"] == "done" and frames[-1]["chars"] == 103
        assert "drained" not in frames[-1]
        assert (code, reason) == (1001, "character budget spent")
        async with open_ws(server.port) as ws:
            await start_stream(ws)
            for seq in range(3):
                await send(ws, {"type": "delta", "stream_id": "s", "seq": seq, "text": "a" * 70})
            frames, code, reason = await until_closed(ws)
        assert [(f["type"], f.get("code")) for f in frames if f["type"] == "error"] == [
            ("error", "budget_exceeded")]
        assert (code, reason) == (1009, "character budget spent")
        assert rejections(server, "budget") == 1
        assert server.metrics.chars_received._value.get() == 103 + 140


TRUE = "The Eiffel Tower was completed in 1889. "
FALSE_TAIL = "It is 450 metres tall"  # no full stop: only the stream's end makes it a window


@pytest.mark.parametrize(("violation", "code"), [
    ("oversize", 1009), ("flood", 1008), ("budget", 1009)])
async def test_a_connection_closed_for_the_clients_doing_still_answers_what_it_took(
        settings_factory: Callable[..., Settings], violation: str, code: int) -> None:
    """A fuzzing review: a message too large on another stream (or a flood, or twice the
    budget) closed the connection at once; the halt owed for a fabrication already taken was
    dropped and no ``done`` came, so an observe-mode client kept it on screen. Now nothing more
    is taken, the server ends each open stream itself (its last words become its last window),
    scores it, and sends its halt and ``done`` (``drained``) before the close."""
    limits = {"oversize": {"max_frame_bytes": 2048},
              "flood": {"rate_per_s": 0.1, "rate_burst": 3, "rate_strikes": 2},
              "budget": {"max_chars_per_connection": 40}}[violation]
    async with serve(settings_factory, **limits) as server, open_ws(server.port) as ws:
        await start_stream(ws)
        await send(ws, {"type": "delta", "stream_id": "s", "seq": 0, "text": TRUE})
        await send(ws, {"type": "delta", "stream_id": "s", "seq": 1, "text": FALSE_TAIL})
        if violation == "oversize":
            await send(ws, {"type": "start", "stream_id": "t", "context": ["x " * 1500]})
        elif violation == "flood":
            for _ in range(6):
                await send(ws, {"type": "ping"})
        else:
            await send(ws, {"type": "delta", "stream_id": "s", "seq": 2, "text": "y" * 30})
        frames, closed, _ = await until_closed(ws)
    assert closed == code
    halts = [f for f in frames if f["type"] == "halt"]
    assert [(h["stream_id"], h["at"]) for h in halts] == [("s", len(TRUE))]
    assert frames[-1] == {"type": "done", "stream_id": "s", "halted": True,
                          "chars": len(TRUE) + len(FALSE_TAIL), "windows": 2, "drained": True}


async def test_a_close_for_the_clients_doing_during_a_drain_says_its_own_code(
        settings_factory: Callable[..., Settings]) -> None:
    """The budget spent (a drain, which would close 1001), then a message too large: the
    close is the message's (1009), after the stream's halt and done."""
    async with serve(settings_factory, max_chars_per_connection=40,
                     max_frame_bytes=2048) as server, open_ws(server.port) as ws:
        await start_stream(ws)
        await send(ws, {"type": "delta", "stream_id": "s", "seq": 0, "text": TRUE})  # spent
        await send(ws, {"type": "delta", "stream_id": "s", "seq": 1, "text": FALSE_TAIL})
        await send(ws, {"type": "start", "stream_id": "t", "context": ["x " * 1500]})
        frames, closed, reason = await until_closed(ws)
    assert (closed, reason) == (1009, "frame too large")
    assert [(h["stream_id"], h["at"]) for h in frames if h["type"] == "halt"] == [("s", len(TRUE))]
    assert frames[-1]["type"] == "done" and frames[-1]["drained"] is True


async def test_a_shutdown_during_a_close_for_the_clients_doing_lets_it_finish(
        settings_factory: Callable[..., Settings]) -> None:
    """A shutdown that comes while a connection closes for its client's doing waits for that
    close: the stream's halt and done arrive, and the close says the client's code."""
    async with serve(settings_factory, max_frame_bytes=2048) as server, \
            open_ws(server.port) as ws:
        await start_stream(ws)
        await send(ws, {"type": "delta", "stream_id": "s", "seq": 0, "text": TRUE + FALSE_TAIL})
        await send(ws, {"type": "start", "stream_id": "t", "context": ["x " * 1500]})
        stopping = asyncio.ensure_future(server.shutdown(grace=5.0))
        frames, closed, _ = await until_closed(ws)
        await stopping
    assert closed == 1009
    assert [(h["stream_id"], h["at"]) for h in frames if h["type"] == "halt"] == [("s", len(TRUE))]
    assert frames[-1]["type"] == "done" and frames[-1]["drained"] is True


async def test_a_client_gone_during_a_close_for_its_doing_leaves_nothing_behind(
        settings_factory: Callable[..., Settings]) -> None:
    async with serve(settings_factory, max_frame_bytes=2048) as server:
        async with open_ws(server.port) as ws:
            await start_stream(ws)
            await send(ws, {"type": "delta", "stream_id": "s", "seq": 0,
                            "text": "The Eiffel Tower was completed in 1889. " * 30})
            await send(ws, {"type": "start", "stream_id": "t", "context": ["x " * 1500]})
            ws.transport.abort()  # gone without a close handshake
        await eventually(lambda: server.metrics.connections_active._value.get() == 0)
        async with open_ws(server.port) as again:  # the server serves on
            await ping(again)


async def test_connection_lifetime_lets_its_streams_finish(
        settings_factory: Callable[..., Settings]) -> None:
    """The lifetime's close cut every stream in flight: a chat backend on one long-lived
    connection lost its answers once an hour. Now the connection drains: its stream goes on
    to its done, a new stream is refused (``draining``: start it on a new connection)."""
    async with serve(settings_factory, max_lifetime_s=1, idle_timeout_s=30) as server:
        async with open_ws(server.port) as ws:
            await start_stream(ws)
            text = "The Eiffel Tower was completed in 1889. It is 330 metres tall. "
            for seq, i in enumerate(range(0, len(text), 4)):
                await send(ws, {"type": "delta", "stream_id": "s", "seq": seq,
                                "text": text[i:i + 4]})
                await asyncio.sleep(0.1)  # past the lifetime while the answer streams
            await send(ws, {"type": "start", "stream_id": "s2", "context": CONTEXT})
            await send(ws, {"type": "end", "stream_id": "s"})
            frames, code, reason = await until_closed(ws)
        assert [(f["code"], f["stream_id"]) for f in frames if f["type"] == "error"] == [
            ("draining", "s2")]
        assert frames[-1] == {"type": "done", "stream_id": "s", "halted": False,
                              "chars": len(text), "windows": 2}
        assert (code, reason) == (1001, "connection lifetime reached")
        assert rejections(server, "lifetime") == 1


@pytest.mark.parametrize("drain", ["shutdown", "lifetime"])
async def test_a_drain_checks_the_text_after_the_last_sentence_before_its_done(
        settings_factory: Callable[..., Settings], drain: str) -> None:
    """A review: a stream that had sent "... It is 450 metres tall and made of gold" (no
    sentence end, no ``end``) got a drain's ``done`` with that text never checked, though in
    observe mode it was on the user's screen; an idle timeout halted it. In the last second
    of the grace the server ends the stream itself and scores its last window; a frame the
    client sends for it then is refused ``draining``, not taken."""
    text = "The Eiffel Tower was completed in 1889. It is 450 metres tall and made of gold"
    async with serve(settings_factory, shutdown_grace_s=1.5, idle_timeout_s=30,
                     max_lifetime_s=1 if drain == "lifetime" else 3600) as server, \
            open_ws(server.port) as ws:
        await start_stream(ws)
        await send(ws, {"type": "delta", "stream_id": "s", "seq": 0, "text": text})
        assert (await recv(ws))["type"] == "verdict"  # the first sentence
        if drain == "shutdown":
            stopping = asyncio.create_task(server.shutdown(grace=1.5))
        frames, code, reason = await until_closed(ws)
        if drain == "shutdown":
            await stopping
    verdict, halt, done = frames
    assert (verdict["type"], verdict["start"], verdict["label"]) == ("verdict", 40,
                                                                     "contradicted")
    assert (halt["type"], halt["at"]) == ("halt", 40)
    assert done == {"type": "done", "stream_id": "s", "halted": True, "chars": len(text),
                    "windows": 2, "drained": True}
    assert (code, reason) == (1001, "server shutting down" if drain == "shutdown"
                              else "connection lifetime reached")


async def test_a_single_excess_message_is_rate_limited(
        settings_factory: Callable[..., Settings]) -> None:
    async with serve(settings_factory, rate_per_s=0.1, rate_burst=5, rate_strikes=50) as server:
        async with open_ws(server.port) as ws:
            for _ in range(7):
                await send(ws, {"type": "ping"})
            frames = [await recv(ws) for _ in range(7)]
            assert frames[:5] == [{"type": "pong"}] * 5
            # each excess message is answered and dropped; the connection stays open
            for frame in frames[5:]:
                assert frame["type"] == "error" and frame["code"] == "rate_limited"
                assert "stream_id" not in frame
        assert rejections(server, "rate_limited") == 2
        assert rejections(server, "rate_abuse") == 0


async def test_repeated_rate_abuse_closes_1008(settings_factory: Callable[..., Settings]) -> None:
    async with serve(settings_factory, rate_per_s=0.1, rate_burst=2, rate_strikes=3) as server:
        async with open_ws(server.port) as ws:
            for _ in range(10):
                await send(ws, {"type": "ping"})
            frames, code, reason = await until_closed(ws)
        assert frames == [{"type": "pong"}] * 2 + [
            {"type": "error", "code": "rate_limited",
             "message": "message rate limit exceeded; this message was dropped"}] * 2
        assert (code, reason) == (1008, "too many rate-limited messages")
        assert rejections(server, "rate_abuse") == 1


async def test_idle_timeout(settings_factory: Callable[..., Settings]) -> None:
    async with serve(settings_factory, idle_timeout_s=0.6) as server:
        async with open_ws(server.port) as ws:
            await ping(ws)
            frames, code, reason = await until_closed(ws)
        assert (frames, code, reason) == ([], 1001, "idle timeout")
        assert rejections(server, "idle") == 1


async def test_an_idle_timeout_answers_what_the_open_stream_took(
        settings_factory: Callable[..., Settings]) -> None:
    """A review: a client gone quiet mid-sentence was closed 1001 with the tail it had sent
    unscored, and no halt or ``done``. Its stream is ended as for a close for the client's
    doing: the tail is its last window, scored, and halt and ``done`` come before the close."""
    async with serve(settings_factory, idle_timeout_s=0.6) as server, \
            open_ws(server.port) as ws:
        await start_stream(ws)
        await send(ws, {"type": "delta", "stream_id": "s", "seq": 0, "text": TRUE + FALSE_TAIL})
        frames, code, reason = await until_closed(ws)
    assert (code, reason) == (1001, "idle timeout")
    assert [(h["stream_id"], h["at"]) for h in frames if h["type"] == "halt"] == [("s", len(TRUE))]
    assert frames[-1] == {"type": "done", "stream_id": "s", "halted": True,
                          "chars": len(TRUE) + len(FALSE_TAIL), "windows": 2, "drained": True}
    assert rejections(server, "idle") == 1


async def test_connection_lifetime(settings_factory: Callable[..., Settings]) -> None:
    async with serve(settings_factory, max_lifetime_s=1, idle_timeout_s=30) as server:
        async with open_ws(server.port) as ws:
            async def chatter() -> None:
                while True:
                    await send(ws, {"type": "ping"})
                    await asyncio.sleep(0.1)

            busy = asyncio.create_task(chatter())
            frames, code, reason = await until_closed(ws)
            busy.cancel()
        assert frames and all(f == {"type": "pong"} for f in frames)
        assert (code, reason) == (1001, "connection lifetime reached")
        assert rejections(server, "lifetime") == 1 and rejections(server, "idle") == 0


@pytest.mark.parametrize("opening", [b"", b"GET /v1/stream HTTP/1.1\r\nHost: x\r\n"])
async def test_handshake_timeout(settings_factory: Callable[..., Settings],
                                 opening: bytes) -> None:
    async with serve(settings_factory, handshake_timeout_s=1.0) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(opening)
        await writer.drain()
        async with asyncio.timeout(10):  # the server hangs up; it never answers
            assert await reader.read() == b""
        writer.close()
        async with open_ws(server.port) as ws:
            await ping(ws)


async def test_invalid_utf8_closes_1007(server: Server) -> None:
    async with open_ws(server.port) as ws:
        await ws.send(b'{"type": "ping", "x": "\xff\xfe"}', text=True)  # a text frame, not UTF-8
        frames, code, _ = await until_closed(ws)
    assert (frames, code) == ([], 1007)
    await eventually(lambda: rejections(server, "invalid_utf8") == 1)
    async with open_ws(server.port) as ws:
        await ping(ws)


async def test_a_flood_of_pongs_closes_1008_and_holds_the_address_back(
        tmp_path: Path) -> None:
    """A review: one client's flood of empty pongs held the worker's other connections for
    seconds (a halt 10 s late). Past the frame budget (test_transport) the connection closes
    1008, counted, and its address waits out the abuse penalty like a rate-limit abuser."""
    settings = make_settings(tmp_path, abuse_penalty_s=10, handshake_refusal_delay_s=0)
    async with running_server(settings) as server:
        async with open_ws(server.port) as victim, open_ws(server.port) as flooder:
            for _ in range(20_000):
                flooder.protocol.send_pong(b"")
            flooder.transport.write(b"".join(flooder.protocol.data_to_send()))
            frames, code, reason = await until_closed(flooder)
            assert (frames, code, reason) == ([], 1008, "too many control frames or fragments")
            await ping(victim)
        await eventually(lambda: rejections(server, "frame_flood") == 1)
        assert server.metrics.penalties.labels("frame_flood")._value.get() == 1


@pytest.mark.parametrize("flood", [
    frame(Opcode.PING, b"") * 5000,
    (frame(Opcode.TEXT, b'{"type":', fin=False) + frame(Opcode.CONT, b"", fin=False) * 998
     + frame(Opcode.CONT, b'"ping"}')) * 5,  # messages of 1,000 fragments (pongs answer them)
], ids=["pings", "fragments"])
async def test_a_flood_of_control_frames_still_answers_what_the_connection_took(
        tmp_path: Path, flood: bytes) -> None:
    """A review: a flood of WebSocket pings closed the connection 1008 at once, and the open
    stream's text already taken (shown in observe mode) got no verdict, halt or ``done``,
    where a flood of messages gets them. Now reading stops at the flood, the stream is ended
    and checked, and only then the close; the address is held back all the same."""
    settings = make_settings(tmp_path, abuse_penalty_s=10, handshake_refusal_delay_s=0)
    async with running_server(settings) as server, RawClient.connect(
            f"ws://127.0.0.1:{server.port}", target="/v1/stream", key=API_KEY) as raw:
        def message(frame_: dict[str, Any]) -> bytes:
            return frame(Opcode.TEXT, orjson.dumps(frame_))

        await raw.write(message({"type": "start", "stream_id": "s",
                                 "context": ["The Eiffel Tower is 330 metres tall."]}),
                        message({"type": "delta", "stream_id": "s", "seq": 0,
                                 "text": "It is 450 metres tall and made of gold"}))
        await asyncio.sleep(0.5)
        raw.writer.write(flood)
        kinds: list[str | int] = []
        while (answer := await raw.frame()).opcode is not Opcode.CLOSE:
            if answer.opcode is Opcode.TEXT and (kind := orjson.loads(answer.data)["type"]) \
                    != "pong":
                kinds.append(kind)
        kinds.append(int.from_bytes(answer.data[:2], "big"))
        assert answer.data[2:].decode() == "too many control frames or fragments"
        await eventually(lambda: not server.connections)
    assert kinds == ["started", "verdict", "halt", "done", 1008]
    assert rejections(server, "frame_flood") == 1
    assert server.metrics.penalties.labels("frame_flood")._value.get() == 1


@asynccontextmanager
async def _not_reading(server: Server) -> AsyncIterator[ClientConnection]:
    """A client that stops reading, with small kernel buffers on both sides (no autotuning to
    megabytes) so that its unread frames soon pile up in the server's own buffer."""
    import socket

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.setblocking(False)
    # max_queue=1: the client library stops reading the socket once a message waits
    async with open_ws(server.port, sock=sock, max_queue=1, close_timeout=1) as idle:
        await eventually(lambda: len(server.connections) == 1)
        (conn,) = server.connections
        conn.ws.transport.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        yield idle


async def _ping_until_refused(server: Server, idle: ClientConnection) -> None:
    """Pings (each answered by a pong nobody reads) until the server gives up on the client."""
    for _ in range(200):
        for _ in range(200):
            await send(idle, {"type": "ping"})
        if rejections(server, "not_reading"):
            break
        await asyncio.sleep(0.01)
    assert rejections(server, "not_reading") == 1


async def test_a_client_that_does_not_read_is_closed_1008(
        settings_factory: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch) -> None:
    # Frames are written at once, not queued: a client that stops reading fills the socket
    # buffers, then the server's; past the cap its connection is closed, and nobody else waits.
    import stream_guard.server.transport as transport

    monkeypatch.setattr(transport, "MAX_UNREAD_BYTES", 16 * 1024)
    async with serve(settings_factory, rate_per_s=1e6, rate_burst=10**6) as server, \
            _not_reading(server) as idle, open_ws(server.port) as other:
        await _ping_until_refused(server, idle)
        await ping(other)  # the others are served meanwhile
        frames, code, reason = await until_closed(idle, timeout=30)  # reads again
        assert {f["type"] for f in frames} == {"pong"}
        assert (code, reason) == (1008, "the client does not read its frames")
        await ping(other)


async def test_a_client_that_does_not_read_is_held_back_like_an_abuser(
        settings_factory: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch) -> None:
    """A review: a client closed 1008 for leaving the server's own frames unread (pongs here)
    reconnected at once, though protocol.md holds its address back for ``abuse_penalty_s``,
    as the transport's own not-reading close did: both closes are one, counted and charged."""
    import stream_guard.server.transport as transport

    monkeypatch.setattr(transport, "MAX_UNREAD_BYTES", 16 * 1024)
    async with serve(settings_factory, rate_per_s=1e6, rate_burst=10**6, abuse_penalty_s=10,
                     handshake_refusal_delay_s=0, close_timeout_s=1.0) as server:
        async with _not_reading(server) as idle:
            await _ping_until_refused(server, idle)
            _, code, reason = await until_closed(idle, timeout=30)
            assert (code, reason) == (1008, "the client does not read its frames")
        assert server.metrics.penalties.labels("not_reading")._value.get() == 1
        with pytest.raises(InvalidStatus) as refused:  # its address waits
            async with open_ws(server.port):
                pass
        assert refused.value.response.status_code == 429
        assert rejections(server, "penalty") == 1
        assert rejections(server, "not_reading") == 1  # counted once


async def test_a_client_that_never_reads_again_is_dropped_after_the_close_timeout(
        settings_factory: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch) -> None:
    # Unread frames past websockets' own write limit (32 KiB) stall its close handshake on the
    # buffer that never drains: the server must still let go within its close timeout, freeing
    # the connection slot.
    import stream_guard.server.transport as transport

    monkeypatch.setattr(transport, "MAX_UNREAD_BYTES", 96 * 1024)
    async with serve(settings_factory, rate_per_s=1e6, rate_burst=10**6,
                     close_timeout_s=1.0) as server:
        async with _not_reading(server) as idle:
            await _ping_until_refused(server, idle)
            await eventually(lambda: not server.connections, timeout=5)
        async with open_ws(server.port) as again:
            await ping(again)


async def test_a_client_flooding_websocket_pings_unread_is_closed_1008(
        settings_factory: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch) -> None:
    """websockets answers each WebSocket ping with a pong; a client that sends pings and reads
    nothing piled those up in the server's memory (hundreds of MB, a review) until the
    keepalive gave up, since only the server's own frames were checked: now reading checks
    too, and the socket is dropped at the close deadline."""
    import stream_guard.server.transport as transport

    monkeypatch.setattr(transport, "MAX_UNREAD_BYTES", 16 * 1024)
    async with serve(settings_factory, close_timeout_s=1.0) as server, \
            _not_reading(server) as idle, open_ws(server.port) as other:
        for _ in range(3):  # their pongs fill the client's queue: it reads no more
            await send(idle, {"type": "ping"})
        for n in range(400):
            if rejections(server, "not_reading"):
                break
            for k in range(20):
                await idle.ping(f"{n}-{k}".encode().ljust(125, b"x"))
            await asyncio.sleep(0.01)
        assert rejections(server, "not_reading") == 1
        await eventually(lambda: len(server.connections) == 1, timeout=10)  # the other's
        await ping(other)


# --- one connection's backlog ---------------------------------------------------------------------

# A long answer in one message: 300 windows, each a sentence of the context (whose 300
# sentences are more than the lexical tier checks on the event loop: the windows are queued).
LONG_ANSWER = "".join(f"Filler fact {i} concerns item {i}. " for i in range(300))
LONG_CONTEXT = [LONG_ANSWER]


async def test_a_connection_waits_with_its_windows_and_every_window_is_answered(
        settings_factory: Callable[..., Settings]) -> None:
    """A client that sends far more windows at once than ``max_windows_in_flight`` gets no more
    than that into the shared queue (its further messages wait unread), and still gets a
    verdict for every window, in order, and its ``done``; a second client is served meanwhile."""
    async with serve(settings_factory, max_windows_in_flight=4, verdict_deadline_ms=0,
                     batch_max_wait_ms=20) as server:
        scheduler = server.engine.scheduler
        deepest = 0

        async def watch_depth() -> None:
            nonlocal deepest
            while True:
                deepest = max(deepest, scheduler.depth)
                await asyncio.sleep(0.001)

        watcher = asyncio.create_task(watch_depth())
        async with open_ws(server.port) as flood, open_ws(server.port) as other:
            await send(flood, {"type": "start", "stream_id": "big", "context": LONG_CONTEXT})
            assert (await recv(flood))["type"] == "started"
            await send(flood, {"type": "delta", "stream_id": "big", "seq": 0,
                               "text": LONG_ANSWER})
            await send(flood, {"type": "end", "stream_id": "big"})
            await send(flood, {"type": "ping"})  # read only once the backlog is answered
            served = await stream_text(other, "small", "Filler fact 7 concerns item 7.",
                                       context=LONG_CONTEXT)
            assert served[-1] == {"type": "done", "stream_id": "small", "halted": False,
                                  "chars": 30, "windows": 1}
            frames = [await recv(flood) for _ in range(302)]
        watcher.cancel()
    assert frames.count({"type": "pong"}) == 1  # held while the backlog waited, not lost
    frames.remove({"type": "pong"})
    verdicts = frames[:300]
    assert [v["start"] for v in verdicts] == [LONG_ANSWER.index(f"Filler fact {i} ")
                                              for i in range(300)]
    assert all(v["label"] == "supported" for v in verdicts)
    assert frames[300] == {"type": "done", "stream_id": "big", "halted": False,
                           "chars": len(LONG_ANSWER), "windows": 300}
    assert 0 < deepest <= 4 + 1  # this client's four, and the other client's one window


async def test_a_halt_behind_a_backlog_still_hands_over_the_messages_held(
        settings_factory: Callable[..., Settings]) -> None:
    """A halt drops its stream's queued windows; the client's messages held behind them were
    then never handed over: no error for its later deltas, no done, no pong (a review)."""
    async with (serve(settings_factory, max_windows_in_flight=4,
                      verdict_deadline_ms=0) as server, open_ws(server.port) as ws):
        await send(ws, {"type": "start", "stream_id": "h",
                        "context": [*LONG_CONTEXT, "The hall is 330 metres long."]})
        assert (await recv(ws))["type"] == "started"
        wrong = "The hall is 450 metres long. "  # contradicted: halts at once
        await send(ws, {"type": "delta", "stream_id": "h", "seq": 0,
                        "text": wrong + LONG_ANSWER})
        await send(ws, {"type": "delta", "stream_id": "h", "seq": 1, "text": "More. "})
        await send(ws, {"type": "end", "stream_id": "h"})
        await send(ws, {"type": "ping"})
        frames: list[dict[str, Any]] = []
        while not frames or frames[-1]["type"] != "pong":
            frames.append(await asyncio.wait_for(recv(ws), 10))
    kinds = [f["type"] for f in frames]
    assert "halt" in kinds and kinds.index("halt") < kinds.index("done")
    assert [f["code"] for f in frames if f["type"] == "error"] == ["stream_halted"]
    assert frames[-2]["type"] == "done" and frames[-2]["halted"] is True


async def test_a_cancel_behind_a_backlog_is_taken_at_once_with_its_held_frames(
        settings_factory: Callable[..., Settings]) -> None:
    """A cancel used to wait its turn behind every window its stream had sent ahead, so a
    client that abandoned an answer still paid for (and waited out) all of them. Now it is
    taken as it arrives: ``done`` (cancelled) comes before most verdicts, the stream's held
    delta and end go with it (not taken: ``chars`` says so, and no error answers them), and
    the other stream's held frames and the ping keep their order."""
    async with (serve(settings_factory, max_windows_in_flight=4, verdict_deadline_ms=0,
                      batch_max_wait_ms=50) as server, open_ws(server.port) as ws):
        for sid in ("a", "b"):
            await send(ws, {"type": "start", "stream_id": sid, "context": LONG_CONTEXT})
            assert (await recv(ws))["type"] == "started"
        await send(ws, {"type": "delta", "stream_id": "a", "seq": 0, "text": LONG_ANSWER})
        await send(ws, {"type": "delta", "stream_id": "a", "seq": 1, "text": "More. "})
        await send(ws, {"type": "delta", "stream_id": "b", "seq": 0,
                        "text": "Filler fact 3 concerns item 3. "})
        await send(ws, {"type": "end", "stream_id": "a"})
        await send(ws, {"type": "cancel", "stream_id": "a"})
        await send(ws, {"type": "end", "stream_id": "b"})
        await send(ws, {"type": "ping"})
        frames: list[dict[str, Any]] = []
        while {"type": "pong"} not in frames or not any(
                f["type"] == "done" and f["stream_id"] == "b" for f in frames):
            frames.append(await asyncio.wait_for(recv(ws), 30))
    done_a = next(f for f in frames if f["type"] == "done" and f["stream_id"] == "a")
    before = frames[:frames.index(done_a)]
    scored = [f for f in before if f["type"] == "verdict"]
    assert done_a == {"type": "done", "stream_id": "a", "halted": False, "cancelled": True,
                      "chars": len(LONG_ANSWER), "windows": len(scored)}
    assert len(scored) < 100  # of 300: it did not wait for them (4 at a time, 50 ms batches)
    after = frames[frames.index(done_a) + 1:]
    assert not any(f.get("stream_id") == "a" for f in after)  # nothing more, no error
    assert [f["type"] for f in after if f.get("stream_id") == "b"] == ["verdict", "done"]
    assert {"type": "pong"} in after and not any(f["type"] == "error" for f in frames)


async def test_a_client_reset_while_its_messages_are_held_is_let_go_with_its_work(
        settings_factory: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch) -> None:
    """A review: a client ahead of its windows (its messages held, the socket no longer read)
    with verdicts off, so that nothing was written to it, reset its connection after the
    keepalive's ping; the reset went unseen until its backlog was scored (up to two minutes
    on a loaded server), its address's slot held. Now a ping goes out each interval while the
    socket is not read: the reset is seen, the connection let go and its work dropped."""
    import socket
    import struct

    import stream_guard.server.app as app
    import stream_guard.server.transport as transport

    monkeypatch.setattr(app, "PING_INTERVAL_S", 0.3)
    monkeypatch.setattr(transport, "MAX_HELD_BYTES", 1000)
    async with serve(settings_factory, max_windows_in_flight=1, verdict_deadline_ms=0,
                     batch_max_wait_ms=50) as server:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.setblocking(False)
        async with open_ws(server.port, sock=sock, ping_interval=None) as ws:
            await send(ws, {"type": "start", "stream_id": "s", "context": LONG_CONTEXT,
                            "options": {"verdicts": False}})
            assert (await recv(ws))["type"] == "started"
            for seq in range(4):  # 1,200 windows scored one at a time: a minute's work
                await send(ws, {"type": "delta", "stream_id": "s", "seq": seq,
                                "text": LONG_ANSWER})
            (conn,) = server.connections
            await eventually(lambda: conn.ws._paused)
            await asyncio.sleep(1.0)  # the keepalive's ping waits for a pong it cannot read
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            ws.transport.abort()  # a reset
        await eventually(lambda: not server.connections, timeout=3)
        assert server.metrics.connections_active._value.get() == 0
        await eventually(lambda: server.engine.scheduler.depth == 0, timeout=1)
        scored = server.metrics.verdict_latency._sum.get()
        await asyncio.sleep(0.5)
        assert server.metrics.verdict_latency._sum.get() == scored  # nothing more for it


async def test_no_idle_close_while_the_server_owes_verdicts(
        settings_factory: Callable[..., Settings]) -> None:
    """The idle clock is for clients that leave a connection open with nothing to do: one
    waiting for the verdicts of windows it sent is not idle, however long they take."""
    async with serve(settings_factory, idle_timeout_s=0.2, max_windows_in_flight=1,
                     verdict_deadline_ms=0, batch_max_wait_ms=5) as server:
        async with open_ws(server.port) as ws:
            await send(ws, {"type": "start", "stream_id": "s", "context": LONG_CONTEXT})
            assert (await recv(ws))["type"] == "started"
            await send(ws, {"type": "delta", "stream_id": "s", "seq": 0, "text": LONG_ANSWER})
            await send(ws, {"type": "end", "stream_id": "s"})
            frames, code, reason = await until_closed(ws, timeout=60)
        assert [f["type"] for f in frames] == ["verdict"] * 300 + ["done"]
        assert (code, reason) == (1001, "idle timeout")  # once nothing more was owed
        assert rejections(server, "idle") == 1


async def test_a_port_in_use_is_a_settings_error_naming_the_settings(
        settings_factory: Callable[..., Settings]) -> None:
    """``stream-guard serve`` prints a SettingsError as one line and exits 2: a taken port must
    be one, not an OSError traceback."""
    async with serve(settings_factory) as first:
        second = Server(settings_factory(port=first.port))
        with pytest.raises(SettingsError, match=(
                rf"cannot listen on 127\.0\.0\.1:{first.port} \(--host/--port, "
                r"STREAM_GUARD_HOST/STREAM_GUARD_PORT or the config file\): "
                r".*address already in use")):
            await second.start()
