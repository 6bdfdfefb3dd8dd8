"""CallbackConnection over real loopback sockets: what websockets' recv() queue guaranteed (order,
reassembly, UTF-8, fragment limit, the close handshake) holds when messages come by callback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import struct
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.connection import Connection
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from stream_guard.protocol.errors import TOO_MANY_FRAMES_REASON
from stream_guard.protocol.inbox import Message
from stream_guard.server import transport
from stream_guard.server.transport import CallbackConnection
from tests.wsclient import RawClient, frame


class Recorder:
    """A connection handler that attaches after ``delay`` and records what it is given."""

    def __init__(self, delay: float = 0.0, stop_after: int | None = None) -> None:
        self.delay = delay
        self.stop_after = stop_after
        self.messages: list[Message] = []
        self.lost = asyncio.Event()
        self.conn: CallbackConnection | None = None

    async def __call__(self, ws: ServerConnection) -> None:
        assert isinstance(ws, CallbackConnection)
        self.conn = ws
        await asyncio.sleep(self.delay)

        def on_message(message: Message, arrived: float) -> None:
            self.messages.append(message)
            if self.stop_after is not None and len(self.messages) >= self.stop_after:
                ws.stop_delivery()
                asyncio.get_running_loop().create_task(ws.close(1000, "enough"))

        ws.deliver_to(on_message, self.lost.set)
        await self.lost.wait()


@asynccontextmanager
async def server(handler: Callable[[ServerConnection], object],
                 close_timeout: float = 10) -> AsyncIterator[str]:
    async with serve(handler, "127.0.0.1", 0,  # type: ignore[arg-type]
                     create_connection=CallbackConnection, max_size=2**16,
                     close_timeout=close_timeout) as srv:
        port = next(iter(srv.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


async def test_messages_arrive_in_order_whole_and_typed() -> None:
    rec = Recorder()
    async with server(rec) as url, connect(url) as ws:
        await ws.send("one")
        await ws.send(["fr", "ag", "mented"])  # one text message in three frames
        await ws.send(b"\x00bin")
        await ws.send("élan ✓")
        await ws.close()
        await asyncio.wait_for(rec.lost.wait(), 5)
    assert rec.messages == ["one", "fragmented", b"\x00bin", "élan ✓"]


async def test_messages_sent_before_the_handler_attaches_are_kept_in_order() -> None:
    rec = Recorder(delay=0.3)
    async with server(rec) as url, connect(url) as ws:
        for i in range(transport.MAX_EARLY_MESSAGES * 3):  # enough to pause reading
            await ws.send(f"m{i}")
        await asyncio.sleep(0.6)
        await ws.close()
        await asyncio.wait_for(rec.lost.wait(), 5)
    assert rec.messages == [f"m{i}" for i in range(transport.MAX_EARLY_MESSAGES * 3)]


async def test_held_messages_wait_in_order_and_pings_are_answered_meanwhile(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An owner with too much of a client's work in hand holds its messages: they arrive after
    ``release``, in order, none lost; until the held ones pass ``MAX_HELD_BYTES`` the socket is
    still read, so a ping (websockets' keepalive, the client's) is answered while they wait;
    past it reading pauses (TCP backpressure)."""
    monkeypatch.setattr(transport, "MAX_HELD_BYTES", 100)
    rec = Recorder()
    async with server(rec) as url, connect(url) as ws:
        await ws.send("first")
        await asyncio.wait_for(_until(lambda: rec.messages == ["first"]), 5)
        assert rec.conn is not None
        rec.conn.hold()
        await ws.send("a" * 40)
        await ws.send("b" * 40)
        await asyncio.wait_for(await ws.ping(), 5)  # answered: 80 held, under the budget
        assert not rec.conn._paused and rec.messages == ["first"]
        await ws.send("c" * 40)  # 120 held: reading pauses
        await asyncio.wait_for(_until(lambda: rec.conn is not None and rec.conn._paused), 5)
        await ws.send("d" * 40)  # waits in the socket, unread
        rec.conn.release()
        await asyncio.wait_for(_until(lambda: len(rec.messages) == 5), 5)
        assert not rec.conn._paused
        await ws.close()
    assert rec.messages == ["first", "a" * 40, "b" * 40, "c" * 40, "d" * 40]


async def _hold_until_paused(ws: Any, rec: Recorder) -> None:
    """One message taken, then reading held and three more sent: 120 bytes held, reading
    pauses (MAX_HELD_BYTES 100)."""
    await ws.send("first")
    await asyncio.wait_for(_until(lambda: rec.messages == ["first"]), 5)
    assert rec.conn is not None
    rec.conn.hold()
    for part in "abc":
        await ws.send(part * 40)
    await asyncio.wait_for(_until(lambda: rec.conn is not None and rec.conn._paused), 5)


async def test_a_pause_for_held_messages_does_not_count_against_the_keepalive(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With reading paused (held messages past ``MAX_HELD_BYTES``) the client's pong waits
    unread behind its messages: websockets' keepalive closed such a client 1011 "keepalive
    ping timeout" after ``ping_timeout``, and it lost what it had sent (a review). The pause
    does not count; time reading does."""
    monkeypatch.setattr(transport, "MAX_HELD_BYTES", 100)
    rec = Recorder()
    async with serve(rec, "127.0.0.1", 0,  # type: ignore[arg-type]
                     create_connection=CallbackConnection, ping_interval=0.25,
                     ping_timeout=0.5) as srv:
        url = f"ws://127.0.0.1:{next(iter(srv.sockets)).getsockname()[1]}"
        async with connect(url, ping_interval=None) as ws:
            await _hold_until_paused(ws, rec)
            assert rec.conn is not None
            await asyncio.sleep(2.0)  # four ping timeouts with the pong unread
            rec.conn.release()
            await asyncio.wait_for(_until(lambda: len(rec.messages) == 4), 5)
            await asyncio.sleep(1.0)  # reading again: pongs come back in time
            assert rec.conn.protocol.state is State.OPEN
            await ws.send("last")
            await asyncio.wait_for(_until(lambda: rec.messages[-1:] == ["last"]), 5)
    assert rec.messages == ["first", "a" * 40, "b" * 40, "c" * 40, "last"]


async def test_a_client_reset_while_reading_is_paused_is_seen_by_the_next_ping(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """While reading is paused the socket is not read, so a client's reset is seen only by a
    write: with nothing else written (verdicts off) and the keepalive waiting for a pong that
    waits unread, the connection was kept until its held messages were taken (a review). A
    ping goes out each ``ping_interval`` while paused: the reset is seen at the next one."""
    monkeypatch.setattr(transport, "MAX_HELD_BYTES", 100)
    rec = Recorder()
    async with serve(rec, "127.0.0.1", 0,  # type: ignore[arg-type]
                     create_connection=CallbackConnection, ping_interval=0.25,
                     ping_timeout=0.5) as srv:
        sock = socket.create_connection(("127.0.0.1", next(iter(srv.sockets)).getsockname()[1]))
        sock.setblocking(False)
        async with connect("ws://127.0.0.1", sock=sock, ping_interval=None) as ws:
            await _hold_until_paused(ws, rec)
            await asyncio.sleep(1.0)  # pings went out; their pongs wait unread
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            ws.transport.abort()
            await asyncio.wait_for(rec.lost.wait(), 2)  # held: until released
    assert rec.messages == ["first"]


async def test_a_client_that_stops_reading_is_dropped_once_the_keepalive_gives_up() -> None:
    """A client that stops reading (frozen, or cut off without a reset) with more unread than
    the transport's high-water mark: websockets' keepalive failed it, then waited for the
    write buffer to drain before its close timeout began, so the connection stayed open until
    the idle timeout. Now it goes within ``ping_interval + ping_timeout + close_timeout``."""
    rec = Recorder()
    async with serve(rec, "127.0.0.1", 0,  # type: ignore[arg-type]
                     create_connection=CallbackConnection, ping_interval=0.25,
                     ping_timeout=0.25, close_timeout=0.5) as srv, \
            _small_buffered_client(srv, max_queue=1, close_timeout=0.1):
        # max_queue=1: the client library stops reading once one message waits unread
        await asyncio.wait_for(_until(lambda: rec.conn is not None), 5)
        assert rec.conn is not None
        rec.conn.transport.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        for _ in range(2000):  # 2 MB that do not compress, far more than sockets hold
            rec.conn.write_text(os.urandom(500).hex().encode())
        assert rec.conn.transport.get_write_buffer_size() > 2**16
        await asyncio.wait_for(rec.lost.wait(), 5)
        assert rec.conn.protocol.close_sent is not None
        assert (rec.conn.protocol.close_sent.code,
                rec.conn.protocol.close_sent.reason) == (1011, "keepalive ping timeout")


async def test_a_client_reading_a_long_backlog_slowly_is_kept() -> None:
    """The pong of a ping queued behind a backlog comes back only once the client has read
    the backlog, which may take longer than ``ping_timeout``: while the client takes what was
    written, it is alive, and that time does not count (as in websockets, which sends the ping
    only once the buffer drains). The server writing meanwhile, faster than the client reads,
    does not hide the reading (the buffer grows, the client still takes bytes)."""
    rec = Recorder()
    async with serve(rec, "127.0.0.1", 0,  # type: ignore[arg-type]
                     create_connection=CallbackConnection, ping_interval=0.25,
                     ping_timeout=0.75, close_timeout=0.5) as srv, \
            _small_buffered_client(srv, max_queue=4) as ws:
        await asyncio.wait_for(_until(lambda: rec.conn is not None), 5)
        conn = rec.conn
        assert conn is not None
        conn.transport.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        written = 0

        def write(count: int) -> None:
            nonlocal written
            for _ in range(count):
                assert conn.write_text(f"{written:06d}{os.urandom(497).hex()}".encode())
                written += 1

        write(300)
        loop = asyncio.get_running_loop()
        started = loop.time()
        read = 0
        while loop.time() - started < 3 * 0.75:
            message = await ws.recv()
            assert message[:6] == f"{read:06d}"
            read += 1
            await asyncio.sleep(0.003)
            if read % 2 == 0:
                write(3)  # 1.5 written for each one read: the buffer never shrinks
        assert conn.unread_bytes() > 0
        while read < written:
            assert (await ws.recv())[:6] == f"{read:06d}"
            read += 1
        await asyncio.sleep(1.0)  # idle now: pongs come back at once
        assert conn.protocol.state is State.OPEN and not rec.lost.is_set()


async def test_a_close_a_frozen_client_leaves_stalled_is_ended_at_the_close_deadline() -> None:
    """A client that stopped reading sends a close frame, then nothing: the server's close
    frame cannot reach it. websockets' ``ping()`` ended such a close at its deadline on the
    keepalive's way; queueing pings without it must not lose that."""
    rec = Recorder()
    async with serve(rec, "127.0.0.1", 0,  # type: ignore[arg-type]
                     create_connection=CallbackConnection, ping_interval=0.25,
                     ping_timeout=0.25, close_timeout=0.5) as srv, \
            _small_buffered_client(srv, max_queue=1, close_timeout=100) as ws:
        await asyncio.wait_for(_until(lambda: rec.conn is not None), 5)
        assert rec.conn is not None
        rec.conn.transport.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        for _ in range(2000):
            rec.conn.write_text(os.urandom(500).hex().encode())
        ws.protocol.send_close(1000, "bye")
        ws.send_data()
        await asyncio.wait_for(rec.lost.wait(), 5)
        ws.transport.abort()


@asynccontextmanager
async def _small_buffered_client(srv: Server, **options: Any) -> AsyncIterator[ClientConnection]:
    """A client whose socket receives into 4 KiB: what it does not read stays on the server."""
    port = next(iter(srv.sockets)).getsockname()[1]
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    async with connect(f"ws://127.0.0.1:{port}", sock=sock, ping_interval=None,
                       **options) as ws:
        yield ws


async def _until(predicate: Callable[[], bool]) -> None:
    while not predicate():  # noqa: ASYNC110 - polling state that has no event
        await asyncio.sleep(0.005)


async def test_invalid_utf8_across_fragments_closes_1007() -> None:
    rec = Recorder()
    async with server(rec) as url, connect(url) as ws:
        await ws.send("fine")
        await ws.send([b"ok \xe2", b"\x28\xa1"], text=True)  # the split sequence is invalid
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
    await asyncio.wait_for(rec.lost.wait(), 5)
    assert rec.messages == ["fine"]


async def test_too_many_fragments_closes_1009(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport, "MAX_FRAGMENTS", 4)
    rec = Recorder()
    async with server(rec) as url, connect(url) as ws:
        await ws.send([str(i) for i in range(6)])
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert rec.messages == []


async def test_after_stop_delivery_messages_are_dropped_and_the_close_completes() -> None:
    rec = Recorder(stop_after=2)
    async with server(rec) as url, connect(url) as ws:
        for i in range(5):
            await ws.send(f"m{i}")
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
    await asyncio.wait_for(rec.lost.wait(), 5)
    assert rec.messages == ["m0", "m1"]


async def test_a_refused_connection_closes_at_once_even_with_reading_paused() -> None:
    """The handler refuses without ever attaching, after the client filled the early buffer
    (reading paused): the server reads again, so the close handshake completes instead of
    waiting out the server's close_timeout (60 s here, past the 5 s the client waits)."""
    refused = asyncio.Event()

    async def refuse(ws: ServerConnection) -> None:
        await refused.wait()
        await ws.close(1013, "try again later")

    async with server(refuse, close_timeout=60) as url, connect(url) as ws:
        for i in range(transport.MAX_EARLY_MESSAGES * 3):
            await ws.send(f"m{i}")
        await asyncio.sleep(0.2)
        refused.set()
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        await asyncio.wait_for(ws.wait_closed(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013


# --- the direct framing path -------------------------------------------------------------------
async def test_messages_split_and_joined_across_reads_arrive_whole_and_in_order() -> None:
    rec = Recorder()
    async with server(rec) as url, RawClient.connect(url) as raw:
        first = frame(Opcode.TEXT, b"first")  # through websockets; direct framing starts after
        long = frame(Opcode.TEXT, "ü".encode() * 200)  # a 2-byte length, cut inside the header
        two = frame(Opcode.TEXT, b"two") + frame(Opcode.BINARY, b"\x00\x01")  # one read
        await raw.write(first, long[:1], long[1:3], long[3:100], long[100:] + two[:4], two[4:])
        await raw.write(frame(Opcode.TEXT, b"last"))
        await asyncio.sleep(0.1)
        assert rec.conn is not None and rec.conn._framer is not None
    assert rec.messages == ["first", "ü" * 200, "two", b"\x00\x01", "last"]


async def test_control_frames_and_fragments_between_direct_frames_go_through_websockets() -> None:
    rec = Recorder()
    async with server(rec) as url, RawClient.connect(url) as raw:
        await raw.write(frame(Opcode.TEXT, b"a"), frame(Opcode.TEXT, b"b"))
        await raw.write(frame(Opcode.PING, b"hi") + frame(Opcode.TEXT, b"c"))
        pong = await raw.frame()
        assert (pong.opcode, pong.data) == (Opcode.PONG, b"hi")
        await raw.write(frame(Opcode.TEXT, b"fr", fin=False), frame(Opcode.CONT, b"ag", fin=False)
                        + frame(Opcode.CONT, b"ment", fin=True) + frame(Opcode.TEXT, b"d"))
        await raw.write(frame(Opcode.CLOSE, (1000).to_bytes(2, "big")))
        close = await raw.frame()
        assert close.opcode is Opcode.CLOSE and close.data[:2] == (1000).to_bytes(2, "big")
    await asyncio.wait_for(rec.lost.wait(), 5)
    assert rec.messages == ["a", "b", "c", "fragment", "d"]


@pytest.mark.parametrize(("bad", "code"), [
    (frame(Opcode.TEXT, b"ok \xe2\x28\xa1"), 1007),  # invalid UTF-8
    (frame(Opcode.TEXT, b"x" * (2**16 + 1)), 1009),  # over max_size, refused from its header
    (frame(Opcode.TEXT, b"x" * (2**16 + 1))[:20], 1009),  # even before its payload arrives
    (frame(Opcode.TEXT, b"unmasked", mask=False), 1002),
    (frame(Opcode.TEXT, b"rsv1", rsv1=True), 1002),  # no extension was negotiated
    (frame(Opcode.CONT, b"no start"), 1002),
])
async def test_bad_frames_after_direct_framing_started_close_with_websockets_codes(
        bad: bytes, code: int) -> None:
    rec = Recorder()
    async with server(rec) as url, RawClient.connect(url) as raw:
        await raw.write(frame(Opcode.TEXT, b"a"), frame(Opcode.TEXT, b"b"))
        assert rec.conn is not None and rec.conn._framer is not None
        await raw.write(bad + frame(Opcode.TEXT, b"never"))
        close = await raw.frame()
        assert close.opcode is Opcode.CLOSE
        assert int.from_bytes(close.data[:2], "big") == code
    await asyncio.wait_for(rec.lost.wait(), 5)
    assert rec.messages == ["a", "b"]


@pytest.mark.parametrize("flood", [
    frame(Opcode.PONG, b"") * 20_000,  # unrequested pongs, allowed one by one by RFC 6455
    frame(Opcode.PING, b"") * 20_000,  # each answered with a pong
    (frame(Opcode.TEXT, b"{", fin=False) + frame(Opcode.CONT, b"", fin=False) * 998
     + frame(Opcode.CONT, b"}")) * 20,  # messages of 1,000 fragments
], ids=["pongs", "pings", "fragments"])
async def test_a_flood_of_control_frames_or_fragments_closes_1008_unread(flood: bytes) -> None:
    """A review: one client's flood of empty pongs (6 bytes each), pings, or messages in
    1,000 fragments went to websockets' parser unbounded, and held every other connection of
    the worker for seconds. Past the frame budget the connection closes 1008, and the rest
    of the flood is never parsed; a neighbour's ping and messages go on."""
    rec, neighbour = Recorder(), Recorder()
    async with server(rec) as url, RawClient.connect(url) as raw:
        await raw.write(frame(Opcode.TEXT, b"a"), frame(Opcode.PING, b"hi"))
        assert (await raw.frame()).opcode is Opcode.PONG
        await raw.write(flood + frame(Opcode.TEXT, b"never"))
        while (answer := await raw.frame()).opcode is Opcode.PONG:
            pass  # the pings within the budget are answered
        assert answer.opcode is Opcode.CLOSE
        assert int.from_bytes(answer.data[:2], "big") == 1008
        assert answer.data[2:].decode() == TOO_MANY_FRAMES_REASON
        async with server(neighbour) as other, connect(other) as ws:
            await ws.send("b")
            await asyncio.wait_for(ws.ping(), 5)
    await asyncio.wait_for(rec.lost.wait(), 5)
    # the whole messages within the budget (4 of the 20 in fragments) are taken
    assert rec.messages[0] == "a" and set(rec.messages[1:]) <= {"{}"}
    assert len(rec.messages) < 10


async def test_a_flood_after_a_fragment_sent_with_the_request_closes_1008() -> None:
    """A second review: a fragment written with the upgrade request, its message never
    finished, kept the budget from starting (it began only between whole messages), and the
    pong flood after it went to websockets unbounded."""
    rec = Recorder()
    async with server(rec) as url, RawClient.connect(
            url, pipelined=frame(Opcode.TEXT, b"{", fin=False)) as raw:
        await raw.write(frame(Opcode.PONG, b"") * 20_000)
        close = await raw.frame()
        assert close.opcode is Opcode.CLOSE and close.data[2:].decode() == "too many " \
            "control frames or fragments"


async def test_a_flood_while_the_connection_closes_is_dropped() -> None:
    """A second review: once the server had sent its close (here for a message too large),
    websockets read on for the client's close frame, and a pong flood then was parsed until
    the close timeout (10 s here). Past the budget the socket is dropped at once."""
    rec = Recorder()
    async with server(rec) as url, RawClient.connect(url) as raw:
        await raw.write(frame(Opcode.TEXT, b"x" * (2**16 + 1)))  # over max_size: closed 1009
        assert (await raw.frame()).opcode is Opcode.CLOSE
        began = time.monotonic()
        with contextlib.suppress(ConnectionError):
            for _ in range(20):
                raw.writer.write(frame(Opcode.PONG, b"") * 1000)
                await raw.writer.drain()
        async with asyncio.timeout(5):
            assert await raw.reader.read() == b""  # the server hung up
    assert time.monotonic() - began < 5


async def test_whole_messages_do_not_count_against_the_frame_budget() -> None:
    """A second review: with compression on (which browsers offer), every message went
    through websockets' parser and counted as a control frame: a client within its message
    rate was closed 1008 at 2,000 messages a second. Messages sent whole are not counted."""
    rec = Recorder()
    async with server(rec) as url, connect(url, compression="deflate") as ws:
        assert ws.protocol.extensions  # permessage-deflate negotiated
        for i in range(transport.FRAME_BURST + 2000):
            await ws.send(str(i))
        await ws.send("last")
        await asyncio.wait_for(ws.ping(), 5)
    await asyncio.wait_for(rec.lost.wait(), 5)
    assert len(rec.messages) == transport.FRAME_BURST + 2001


def test_waits_for_frame_tells_a_frame_boundary_from_a_half_read_frame() -> None:
    protocol = ServerProtocol()
    protocol.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                          b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          b"Sec-WebSocket-Version: 13\r\n\r\n")
    protocol.send_response(protocol.accept(protocol.events_received()[0]))
    assert transport.waits_for_frame(protocol.parser)
    whole = frame(Opcode.TEXT, b"x" * 300)
    protocol.receive_data(whole[:8])  # the header, consumed; nothing buffered, payload to come
    assert not protocol.reader.buffer and not transport.waits_for_frame(protocol.parser)
    protocol.receive_data(whole[8:])
    assert transport.waits_for_frame(protocol.parser)


@pytest.mark.parametrize(("head", "code"), [
    (bytes([0x81, 126]) + (60000).to_bytes(2, "big"), 1002),  # unmasked
    (bytes([0x83, 0x80 | 126]) + (60000).to_bytes(2, "big") + b"kkkk", 1002),  # opcode 3
    (bytes([0x80, 0x80 | 126]) + (60000).to_bytes(2, "big") + b"kkkk", 1009),  # fragments
])
async def test_a_bad_frame_is_refused_from_its_header_not_after_its_payload(
        head: bytes, code: int) -> None:
    """Found in review: the connection waited for a refused frame's whole declared payload
    (up to max_size held in its buffer) before websockets saw the frame. The last case is a
    continuation that would take a fragmented message past max_size."""
    rec = Recorder()
    async with server(rec) as url, RawClient.connect(url) as raw:
        await raw.write(frame(Opcode.TEXT, b"a"), frame(Opcode.TEXT, b"b"))
        assert rec.conn is not None and rec.conn._framer is not None
        if code == 1009:
            await raw.write(frame(Opcode.TEXT, b"x" * 60000, fin=False))
        await raw.write(head)  # the header alone
        close = await raw.frame()
        assert close.opcode is Opcode.CLOSE and int.from_bytes(close.data[:2], "big") == code
    assert rec.messages == ["a", "b"]


async def test_a_frame_in_many_small_reads_is_appended_not_joined_again() -> None:
    """Found in review: each read re-copied the whole incomplete frame (quadratic in its size
    for a client that trickles it); the pieces are now appended until the frame is complete."""
    rec = Recorder()
    async with server(rec) as url, RawClient.connect(url) as raw:
        await raw.write(frame(Opcode.TEXT, b"a"), frame(Opcode.TEXT, b"b"))
        conn = rec.conn
        assert conn is not None and conn._framer is not None
        whole = frame(Opcode.TEXT, b"y" * 3000)
        await raw.write(whole[:10], whole[10:1000])
        framer = conn._framer
        assert framer is not None
        assert framer._need == len(whole) and framer.pending == 1000
        partial = framer._partial
        await raw.write(whole[1000:2000])
        assert framer._partial is partial and len(partial) == 2000  # the same buffer, grown
        await raw.write(whole[2000:] + frame(Opcode.TEXT, b"z"))
        await asyncio.sleep(0.05)
        assert conn._framer is framer and not framer.pending
    assert rec.messages == ["a", "b", "y" * 3000, "z"]


# --- direct framing against websockets' own parser, however the reads split ------------------
_HEAD = (b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
_MAX = 2**16 + 100  # max_size: the 65535/65536 length forms fit, one more byte does not


class _Transport:
    """Enough of an asyncio transport for a connection fed by hand."""

    def __init__(self) -> None:
        self.closing = False

    def write(self, data: bytes) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def abort(self) -> None:
        self.closing = True

    close = abort

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        pass


def _open_protocol() -> tuple[ServerProtocol, Request]:
    protocol = ServerProtocol(max_size=_MAX)
    protocol.receive_data(_HEAD)
    request = protocol.events_received()[0]
    assert isinstance(request, Request)
    protocol.send_response(protocol.accept(request))
    protocol.data_to_send()
    return protocol, request


def _parsed_by_websockets(data: bytes) -> tuple[list[Message], int | None]:
    """The messages websockets' own parser finds in ``data`` (fed at once), up to the first
    invalid text message, and the close code it sends (1007 for that message)."""
    protocol, _ = _open_protocol()
    protocol.receive_data(data)
    messages: list[Message] = []
    fragments: list[Frame] = []
    for event in protocol.events_received():
        if not isinstance(event, Frame) or event.opcode not in (Opcode.TEXT, Opcode.BINARY,
                                                                Opcode.CONT):
            continue
        fragments.append(event)
        if not event.fin:
            continue
        payload = b"".join(fragment.data for fragment in fragments)
        opcode, fragments = fragments[0].opcode, []
        if opcode is Opcode.BINARY:
            messages.append(payload)
            continue
        try:
            messages.append(payload.decode())
        except UnicodeDecodeError:
            return messages, protocol.close_sent.code if protocol.close_sent else 1007
    return messages, protocol.close_sent.code if protocol.close_sent else None


def _delivered(data: bytes, cuts: list[int]) -> tuple[list[Message], int | None]:
    """What a CallbackConnection delivers of ``data`` read in pieces split at ``cuts``; after
    each read, all that websockets parses of what was read so far (nothing waits for more)."""
    protocol, request = _open_protocol()
    conn = CallbackConnection(protocol, None, ping_interval=None, ping_timeout=None)
    # websockets' Connection's: ServerConnection's would start a handler (there is no server)
    Connection.connection_made(conn, cast(asyncio.Transport, _Transport()))
    conn.request, conn._head = request, None
    conn._framer = conn._direct_framer()
    assert conn._framer is not None
    messages: list[Message] = []
    conn.deliver_to(lambda message, _: messages.append(message), lambda: None)
    for start, stop in zip([0, *cuts], [*cuts, len(data)], strict=True):
        conn.data_received(data[start:stop])
        delivered = messages, protocol.close_sent.code if protocol.close_sent else None
        assert delivered == _parsed_by_websockets(data[:stop]), stop
    return delivered


def _client_frames(rng: random.Random) -> bytes:
    """A client's frames: data frames of every length form, pings and pongs, fragmented
    messages (with control frames between fragments, text split inside a character), and at
    most one bad frame at the end, followed by one that must not be delivered."""

    def size(cap: int = _MAX) -> int:
        return min(cap, rng.choice([0, 1, 2, 125, 126, 127, 65535, 65536, rng.randint(0, 300),
                                    rng.randint(0, 3000), rng.randint(0, cap)]))

    def payload(text: bool, n: int) -> bytes:
        if not text:
            return rng.randbytes(min(n, 500)) + bytes(max(0, n - 500))
        unit = "".join(rng.choice("aé€😀@ ") for _ in range(50)).encode()
        return (unit * (n // len(unit) + 1))[:n].decode(errors="ignore").encode()

    def control() -> Frame:
        return Frame(rng.choice([Opcode.PING, Opcode.PONG]), rng.randbytes(rng.choice([0, 4, 125])))

    frames: list[Frame] = []
    for _ in range(rng.randint(1, 10)):
        text, kind = rng.random() < 0.6, rng.random()
        if kind < 0.6:
            frames.append(Frame(Opcode.TEXT if text else Opcode.BINARY, payload(text, size())))
        elif kind < 0.75:
            frames.append(control())
        else:
            whole = payload(text, size(20_000))
            cuts = sorted(rng.randint(0, len(whole)) for _ in range(rng.randint(0, 3)))
            parts = [whole[a:b] for a, b in zip([0, *cuts], [*cuts, len(whole)], strict=True)]
            for i, part in enumerate(parts):
                first = Opcode.TEXT if text else Opcode.BINARY
                frames.append(Frame(first if i == 0 else Opcode.CONT, part,
                                    fin=i == len(parts) - 1))
                if i < len(parts) - 1 and rng.random() < 0.3:
                    frames.append(control())
    raw = [f.serialize(mask=True, extensions=[]) for f in frames]
    if rng.random() < 0.6:
        raw.append(rng.choice([
            frame(Opcode.TEXT, payload(True, size(300)) + rng.choice([b"\xc3", b"\xed\xa0\x80"])),
            frame(Opcode.TEXT, b"ok", fin=False) + frame(Opcode.CONT, b"\xc3"),
            frame(Opcode.BINARY, bytes(_MAX + 1)),
            frame(Opcode.TEXT, b"unmasked", mask=False),
            frame(Opcode.TEXT, b"rsv1", rsv1=True),
            frame(Opcode.CONT, b"no start")]))
        raw.append(frame(Opcode.TEXT, b"never"))
    return b"".join(raw)


async def test_direct_framing_delivers_what_websockets_parses_however_reads_split() -> None:
    """A differential check of the direct framing (written while looking for a fuzz-test flake
    that turned out to be the test's own): random client frames, read whole, a byte at a time
    (where short), and split at random points (inside headers, masking keys, payloads, between
    frames), give the messages and close code websockets' own parser gives."""
    rng = random.Random(6455)
    for _ in range(60):
        data = _client_frames(rng)
        expected = _parsed_by_websockets(data)
        splits = [[], *([list(range(1, len(data)))] if len(data) < 400 else []),
                  list(range(1, min(len(data), 24)))]
        splits += [sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 30))))
                   for _ in range(4)]
        for cuts in splits:
            assert _delivered(data, cuts) == expected, (data[:64], cuts[:20])
