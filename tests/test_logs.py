"""The server's log: JSON lines, websockets' own failures among them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import orjson
import pytest

from stream_guard import logs


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
