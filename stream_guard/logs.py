"""JSON logs: one line per event, machine-parseable, with a connection id where there is one and,
in a worker of ``serve --workers``, the worker's index.

Tickets, keys and streamed text are never passed to the logger by the server (a halted window's
text only with the ``log_text`` setting), so nothing here has to scrub them.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import orjson

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}


class JsonFormatter(logging.Formatter):
    def __init__(self, worker: int | None = None) -> None:
        """``worker``: the index of the worker whose lines these are, put on each of them (a
        review: with ``--workers N`` nothing said which worker wrote a line)."""
        super().__init__()
        self.worker = worker

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        if self.worker is not None:
            entry["worker"] = self.worker
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure(level: str = "info", worker: int | None = None) -> None:
    """``worker``: this process is that worker of ``serve --workers`` (:class:`JsonFormatter`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(worker))
    root = logging.getLogger("stream_guard")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # websockets logs a client's bad handshake at debug level and its own life ("server
    # listening") at info, which our own lines already say; what it logs at error level is a
    # failure on the server's side (our request hook or connection handler raised, a keepalive
    # ping failed), which must reach the log as a JSON line like any other.
    ws_log = logging.getLogger("websockets")
    ws_log.handlers[:] = [handler]
    ws_log.setLevel(logging.ERROR)
    ws_log.propagate = False
