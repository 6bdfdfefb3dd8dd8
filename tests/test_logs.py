"""The server's log: JSON lines, websockets' own failures among them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from stream_guard import logs
from tests.conftest import make_settings, running_server
from tests.wsclient import open_ws, stream_text


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What ``logs.configure`` writes (its handler's stream swapped for a buffer), undone
    after."""
    saved = {name: (lg.handlers[:], lg.level, lg.propagate) for name in ("stream_guard",
                                                                          "websockets")
             for lg in [logging.getLogger(name)]}
    logs.configure("info")
    out = io.StringIO()
    handler = logging.getLogger("stream_guard").handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(out)
    yield out
    for name, (handlers, level, propagate) in saved.items():
        lg = logging.getLogger(name)
        lg.handlers[:], lg.level, lg.propagate = handlers, level, propagate


def test_websockets_failures_are_json_lines_and_its_chatter_is_not(
        log_output: io.StringIO) -> None:
    """websockets logs a failure on the server's side (a request hook or connection handler
    that raised) at error level: it must be in the log, as JSON with its traceback, while its
    info lines (which repeat ours) are not. It was silenced altogether, so a Redis refusing
    writes turned every handshake into an HTTP 500 with nothing logged."""
    ws_log = logging.getLogger("websockets.server")
    ws_log.info("server listening on 127.0.0.1:8765")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        ws_log.error("connection handler failed", exc_info=True)
    logging.getLogger("stream_guard.server").info("listening", extra={"port": 8765})
    entries = [orjson.loads(line) for line in log_output.getvalue().splitlines()]
    assert [(e["logger"], e["event"]) for e in entries] == [
        ("websockets.server", "connection handler failed"), ("stream_guard.server", "listening")]
    assert "RuntimeError: boom" in entries[0]["exc"] and entries[0]["level"] == "error"
    assert entries[1]["port"] == 8765


@pytest.mark.parametrize("log_text", [False, True])
async def test_a_halt_is_logged_with_its_text_only_when_log_text_is_on(
        log_output: io.StringIO, tmp_path: Path, log_text: bool) -> None:
    """``STREAM_GUARD_LOG_TEXT`` was documented but read by nothing: the halt line never
    carried the text. Off, no streamed text reaches the log (it may be personal data); on, the
    halted window's text does, for an operator investigating a halt."""
    text = ("The Eiffel Tower was completed in 1889. Napoleon Bonaparte designed its golden "
            "spiral staircases in 1712 for Venetian merchants. ")
    async with running_server(make_settings(tmp_path, log_text=log_text)) as server, \
            open_ws(server.port) as ws:
        frames = await stream_text(ws, "s1", text, context=[
            "The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris, France."])
    assert frames[-1]["halted"] is True
    entries = [orjson.loads(line) for line in log_output.getvalue().splitlines()]
    halts = [e for e in entries if e["event"] == "stream halted"]
    assert len(halts) == 1 and halts[0]["at"] == text.index("Napoleon")
    assert halts[0]["auth"] == "api_key"  # how the connection proved its tenant
    if log_text:
        assert halts[0]["text"].startswith("Napoleon Bonaparte designed")
    else:
        assert "text" not in halts[0]
        assert "Napoleon" not in log_output.getvalue()
