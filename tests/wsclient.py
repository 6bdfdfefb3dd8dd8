"""Small helpers the tests use to talk to a real server over loopback."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode

from stream_guard.scoring.engine import INLINE_LEXICAL_MAX_SENTENCES

API_KEY = "test-key-aaaaaaaaaaaaaaaa"
API_KEY_2 = "test-key-bbbbbbbbbbbbbbbb"


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


async def http(port: int, method: str, path: str, headers: dict[str, str] | None = None,
               body: bytes = b"") -> HttpResponse:
    """A plain HTTP/1.1 request over a real socket (no client library in between)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    if not raw:  # accepted, then closed unanswered (a proxy in front of a closed listener)
        raise ConnectionResetError(f"{method} {path}: connection closed without a response")
    head, _, payload = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for line in header_lines:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return HttpResponse(int(status_line.split()[1]), hdrs, payload)


async def wait_ready(port: int, timeout: float = 60) -> None:
    """Until ``GET /readyz`` on ``port`` answers 200 (a server process started apart)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (await http(port, "GET", "/readyz")).status == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise TimeoutError(f"server on {port} not ready")


def metric_samples(body: str) -> dict[str, float]:
    """``name{labels}`` -> value for every sample of a /metrics page."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return out


def ws_url(port: int, query: str = "") -> str:
    return f"ws://127.0.0.1:{port}/v1/stream" + (f"?{query}" if query else "")


def open_ws(port: int, *, key: str | None = API_KEY, query: str = "",
            headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
    hdrs = dict(headers or {})
    if key is not None:
        hdrs["Authorization"] = f"Bearer {key}"
    return connect(ws_url(port, query), additional_headers=hdrs, open_timeout=10, **kwargs)


async def send(ws: ClientConnection, frame: dict[str, Any]) -> None:
    await ws.send(orjson.dumps(frame).decode())


async def recv(ws: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    return orjson.loads(await asyncio.wait_for(ws.recv(), timeout))  # type: ignore[no-any-return]


async def recv_until(ws: ClientConnection, type_: str, stream_id: str | None = None,
                     timeout: float = 15.0) -> list[dict[str, Any]]:
    """Frames received up to and including the first of ``type_`` (for ``stream_id``)."""
    frames = []
    while True:
        frame = await recv(ws, timeout)
        frames.append(frame)
        if frame["type"] == type_ and (stream_id is None or frame.get("stream_id") == stream_id):
            return frames


async def stream_text(ws: ClientConnection, sid: str, text: str, *, context: list[Any],
                      piece: int = 7, options: dict[str, Any] | None = None,
                      end: bool = True, collection: str | None = None,
                      prompt: str | None = None) -> list[dict[str, Any]]:
    """Start a stream, send ``text`` in ``piece``-sized deltas, end it; frames until done."""
    start: dict[str, Any] = {"type": "start", "stream_id": sid, "context": context}
    if collection is not None:
        start["collection"] = collection
    if prompt is not None:
        start["prompt"] = prompt
    if options:
        start["options"] = options
    await send(ws, start)
    for seq, i in enumerate(range(0, len(text), piece)):
        await send(ws, {"type": "delta", "stream_id": sid, "seq": seq, "text": text[i:i + piece]})
    if not end:
        return []
    await send(ws, {"type": "end", "stream_id": sid})
    return await recv_until(ws, "done", sid)


async def until_closed(ws: ClientConnection, timeout: float = 15.0
                       ) -> tuple[list[dict[str, Any]], int | None, str | None]:
    """Every frame received until the server closes, then the close code and reason it sent."""
    frames = []
    async with asyncio.timeout(timeout):
        try:
            while True:
                frames.append(orjson.loads(await ws.recv()))
        except ConnectionClosed:
            pass
    return frames, ws.close_code, ws.close_reason


async def eventually(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``predicate()`` holds: for server state that has no event to wait on."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - polling is the point
            await asyncio.sleep(0.005)


@functools.lru_cache(maxsize=16)
def _server_frame_validator(kind: str) -> Any:
    import jsonschema  # test dependency: the schema is the contract the frames must meet

    schema = orjson.loads((Path(__file__).resolve().parents[1] / "docs" /
                           "protocol.schema.json").read_bytes())
    name = f"server_{kind}" if f"server_{kind}" in schema["$defs"] else "server_frame"
    cls = jsonschema.validators.validator_for(schema)
    return cls({"$ref": f"#/$defs/{name}", "$defs": schema["$defs"]})


def schema_errors(frame: dict[str, Any]) -> list[str]:
    """Why ``frame`` is not a server frame of docs/protocol.schema.json (empty when it is)."""
    kind = frame.get("type")
    validator = _server_frame_validator(kind if isinstance(kind, str) else "")
    return [e.message for e in validator.iter_errors(frame)]


# A context item of more sentences than the lexical tier checks on the event loop.
FILLER = " ".join(f"Filler fact {i} concerns item {i}."
                  for i in range(INLINE_LEXICAL_MAX_SENTENCES))


def scheduled(context: list[str]) -> list[str]:
    """``context`` padded with :data:`FILLER`, so that its windows go through the scheduler
    (whose batch wait a test can stretch to keep windows in flight)."""
    return [*context, FILLER]


async def raw_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      request: list[str]) -> tuple[int, dict[str, Any]]:
    """Send an HTTP request on an already open socket; the status and the JSON body."""
    writer.write(("\r\n".join(request) + "\r\n\r\n").encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    return int(status_line.split()[1]), orjson.loads(rest.partition(b"\r\n\r\n")[2])


@contextlib.asynccontextmanager
async def quiet_relay(port: int, *, stall: bool = False,
                      ) -> AsyncIterator[tuple[int, asyncio.Event]]:
    """A TCP relay to ``port`` that, once its event is set, reads and drops everything in both
    directions: a server process stopped (SIGSTOP), or a network path gone quiet with no FIN.
    With ``stall`` it reads nothing more instead, so the socket buffers fill: a stopped
    process's socket."""
    quiet = asyncio.Event()
    pipes: list[asyncio.Task[None]] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if stall and quiet.is_set():
                    await asyncio.Event().wait()  # until cancelled
                if not quiet.is_set():
                    writer.write(data)
                    await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()  # cancelled too: the server sees its client go

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
        pipes.extend([asyncio.ensure_future(pipe(reader, upstream_writer)),
                      asyncio.ensure_future(pipe(upstream_reader, writer))])

    relay = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield relay.sockets[0].getsockname()[1], quiet
    finally:
        relay.close()
        for task in pipes:
            task.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)


class RawClient:
    """A WebSocket client over a plain socket that writes exactly the bytes a test chooses, each
    write as its own TCP segment, so the server's reads split and join frames as the test says."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, url: str, pipelined: bytes = b"", *, target: str = "/",
                      key: str | None = None) -> AsyncIterator[RawClient]:
        """``pipelined``: frames written with the request, before its answer; ``target`` and
        ``key``: the request target and the API key (a stream-guard server's upgrade)."""
        port = int(url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        auth = f"Authorization: Bearer {key}\r\n".encode() if key is not None else b""
        writer.write(f"GET {target} HTTP/1.1\r\n".encode() + b"Host: 127.0.0.1\r\n"
                     b"Upgrade: websocket\r\nConnection: Upgrade\r\n" + auth +
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     b"Sec-WebSocket-Version: 13\r\n\r\n" + pipelined)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 101")
        try:
            yield cls(reader, writer)
        finally:
            writer.close()

    async def write(self, *pieces: bytes) -> None:
        for piece in pieces:
            self.writer.write(piece)
            await self.writer.drain()
            await asyncio.sleep(0.02)  # a separate read on the server

    async def frame(self) -> Frame:
        """The next frame from the server (unmasked, as servers send)."""
        head = await asyncio.wait_for(self.reader.readexactly(2), 5)
        length = head[1] & 0x7F
        if length == 126:
            length = int.from_bytes(await self.reader.readexactly(2), "big")
        data = await self.reader.readexactly(length)
        return Frame(Opcode(head[0] & 0x0F), data)


def frame(opcode: Opcode, data: bytes, fin: bool = True, rsv1: bool = False,
          mask: bool = True) -> bytes:
    raw = Frame(opcode, data, fin=fin).serialize(mask=mask, extensions=[])
    return bytes([raw[0] | (0x40 if rsv1 else 0)]) + raw[1:]  # websockets will not set RSV1
