"""CallbackConnection over real loopback sockets: what websockets' recv() queue guaranteed (order,
reassembly, UTF-8, fragment limit, the close handshake) holds when messages come by callback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from stream_guard.server import transport
from stream_guard.server.transport import CallbackConnection, Message


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

        def on_message(message: Message) -> None:
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
