"""Property-based fuzzing of a live server: whatever a client sends, it gets error frames or a
proper close code, the server never fails, and other clients are served normally afterwards."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, settings
from hypothesis import given as hypothesis_given
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from stream_guard.protocol.errors import ErrorCode, ProtocolError
from stream_guard.protocol.frames import Ping, parse_client_frame
from stream_guard.server.app import Server
from tests.conftest import make_settings, running_server
from tests.wsclient import open_ws, recv, schema_errors, send, stream_text

CONTEXT = ["The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris, France."]
ERROR_CODES = {c.value for c in ErrorCode}

fuzz_settings = settings(max_examples=200, deadline=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture])


class FuzzClient:
    """One connection shared by a test's examples; reopened only after the server closed it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.ws: ClientConnection | None = None
        self._opener: Any = None

    async def connection(self) -> ClientConnection:
        if self.ws is None:
            self._opener = open_ws(self.port)
            self.ws = await self._opener.__aenter__()
        return self.ws

    async def exchange(self, message: str | bytes, *, text: bool | None = None) -> int | None:
        """Send ``message``, then a ping; every frame up to the ping's pong must be a valid frame.

        Returns the close code if the server closed the connection instead of answering.
        A pong names no ping, so when ``message`` is itself a ping (a fuzzed frame can be, and
        ``st.binary()`` draws byte constants of the code under test, such as loadtest's
        ``b'{"type":"ping"}'``) its pong comes first: returning on it left the ping's pong
        unread, and every later exchange returned on the previous one's pong, before its own
        message was answered (an invalid text frame's 1007 then showed as the next example's).
        """
        ws = await self.connection()
        pongs = 1 + is_ping(message, text)
        try:
            await ws.send(message, text=text)
            await send(ws, {"type": "ping"})
            while True:
                frame = await recv(ws)
                assert schema_errors(frame) == [], frame
                if frame["type"] == "pong":
                    pongs -= 1
                    if pongs == 0:
                        return None
                if frame["type"] == "error":
                    assert frame["code"] in ERROR_CODES
        except ConnectionClosed:
            code = ws.close_code
            await self.aclose()
            return code

    async def aclose(self) -> None:
        if self._opener is not None:
            await self._opener.__aexit__(None, None, None)
        self.ws = self._opener = None


def is_ping(message: str | bytes, text: bool | None) -> bool:
    """Whether the server takes ``message``, sent as ``ws.send(message, text=text)`` sends it,
    as a ``ping`` (it answers a pong)."""
    if isinstance(message, bytes):
        if not text:
            return False  # a binary frame
        try:
            message = message.decode()
        except UnicodeDecodeError:
            return False
    elif text is False:
        return False
    try:
        return isinstance(parse_client_frame(message), Ping)
    except ProtocolError:
        return False


@pytest.fixture
async def fuzzed(tmp_path: Path, caplog: pytest.LogCaptureFixture
                 ) -> AsyncIterator[tuple[Server, FuzzClient]]:
    """A server and a fuzzing client; afterwards the server must be unharmed."""
    caplog.set_level(logging.WARNING, logger="stream_guard")
    async with running_server(make_settings(tmp_path)) as server:
        client = FuzzClient(server.port)
        yield server, client
        await client.aclose()
        # a different client still completes a normal stream on the same server
        async with open_ws(server.port) as ws:
            frames = await stream_text(ws, "after", "The Eiffel Tower was completed in 1889. "
                                       "It is 330 metres tall. ", context=CONTEXT)
            assert [f["label"] for f in frames if f["type"] == "verdict"] == [
                "supported", "supported"]
            assert frames[-1]["type"] == "done" and frames[-1]["halted"] is False
        failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert failures == [], [r.getMessage() for r in failures]


# --- strategies ---------------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
              st.floats(), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=6)
stream_ids = st.one_of(st.sampled_from(["s0", "s1", "s2"]), json_values)
FIELDS = ["stream_id", "seq", "text", "context", "collection", "options", "prompt", "extra"]
frames = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(["start", "delta", "end", "cancel", "ping"]),
                       json_values)},
    optional={
        "stream_id": stream_ids,
        "seq": st.one_of(st.integers(min_value=-2, max_value=2**60), json_values),
        "text": st.one_of(st.text(max_size=60), json_values),
        "context": st.one_of(st.lists(st.one_of(
            st.text(max_size=60), st.fixed_dictionaries({"text": st.text(max_size=40)}),
            json_values), max_size=3), json_values),
        "collection": json_values,
        "prompt": json_values,
        "options": st.one_of(st.fixed_dictionaries({}, optional={
            "mode": st.one_of(st.just("holdback"), json_values),
            "threshold": st.one_of(st.floats(), json_values),
            "verdicts": json_values}), json_values),
        "extra": json_values,
    })


def dumps(value: Any) -> str:
    """JSON as a careless client writes it: NaN, Infinity and 70-bit integers included."""
    return json.dumps(value, ensure_ascii=False)


json_ish = st.one_of(
    st.text(max_size=200),
    json_values.map(dumps),
    st.tuples(frames.map(dumps), st.integers(0, 200), st.text(max_size=3)).map(
        lambda t: t[0][:t[1]] + t[2] + t[0][t[1]:]),  # a frame with junk spliced in
    st.sampled_from(['{"type": "delta", "stream_id": "s0", "seq": 1' + "0" * 400 + "}",
                     '{"type": "ping"' + "}" * 2, "[" * 5000, '{"a":' * 2000 + "1" + "}" * 2000,
                     '{"type": "\\ud800"}', "\ufeff{}"]),
)


# --- the fuzzers --------------------------------------------------------------------------------

@fuzz_settings
@hypothesis_given(frame=frames)
async def test_random_frames(fuzzed: tuple[Server, FuzzClient], frame: dict[str, Any]) -> None:
    _, client = fuzzed
    assert await client.exchange(dumps(frame)) is None


@settings(fuzz_settings, max_examples=150)
@hypothesis_given(message=json_ish)
async def test_json_ish_text(fuzzed: tuple[Server, FuzzClient], message: str) -> None:
    _, client = fuzzed
    assert await client.exchange(message) is None


@fuzz_settings
@hypothesis_given(data=st.binary(max_size=300), as_text=st.booleans())
@example(data=b'{"type":"ping"}', as_text=True)  # a ping of its own: two pongs to read
@example(data=b"\xc3", as_text=True)  # ... and the next exchange still sees its own 1007
@example(data=b"@", as_text=True)  # ... and the one after that a new connection
async def test_random_bytes(fuzzed: tuple[Server, FuzzClient], data: bytes,
                            as_text: bool) -> None:
    """Binary frames are refused with an error; bytes in a text frame that are not UTF-8 close
    the connection 1007, and the next example opens a new one."""
    _, client = fuzzed
    try:
        data.decode()
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    assert await client.exchange(data, text=as_text) == (1007 if as_text and not utf8 else None)


@settings(fuzz_settings, max_examples=40)
@hypothesis_given(script=st.lists(frames, min_size=1, max_size=6))
async def test_random_sequences_on_real_streams(fuzzed: tuple[Server, FuzzClient],
                                                script: list[dict[str, Any]]) -> None:
    """Random frames between the valid steps of real streams: starts, deltas and ends that do
    take effect, so the fuzzed frames meet open, halted and ended streams."""
    _, client = fuzzed
    ws = await client.connection()
    for sid in ("s0", "s1"):
        await send(ws, {"type": "cancel", "stream_id": sid})  # whatever an earlier example left
        await send(ws, {"type": "start", "stream_id": sid, "context": CONTEXT})
    for n, frame in enumerate(script):
        assert await client.exchange(dumps(frame)) is None
        await send(ws, {"type": "delta", "stream_id": "s0", "seq": n,
                        "text": "The Eiffel Tower was completed in 1889. Napoleon sold it. "})
    assert await client.exchange(dumps({"type": "end", "stream_id": "s0"})) is None
