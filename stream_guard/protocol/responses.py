"""The HTTP responses the server answers with on its WebSocket port: JSON bodies, and the
Retry-After a refusal carries. Built without a socket (websockets' ``Response`` is a plain
value); the server's routes (:mod:`stream_guard.server.http`) and its transport, which refuses
a bad request head before websockets reads it, send them.
"""

from __future__ import annotations

import http
import math
from typing import Any

import orjson
from websockets.datastructures import Headers
from websockets.http11 import Response


def json_response(status: int, body: dict[str, Any],
                  extra: list[tuple[str, str]] | None = None) -> Response:
    """A JSON response, never cached (probes, tickets and refusals are all of the moment)."""
    payload = orjson.dumps(body)
    headers = Headers([("Content-Type", "application/json"),
                       ("Content-Length", str(len(payload))), ("Cache-Control", "no-store"),
                       *(extra or [])])
    return Response(status, http.HTTPStatus(status).phrase, headers, payload)


def retry_after(seconds: float) -> int:
    """The Retry-After a refusal sends for a wait of ``seconds``: whole seconds, at least 1."""
    return max(1, math.ceil(seconds))


def error_response(status: int, error: str, message: str, retry_after_s: float | None = None,
                   extra: list[tuple[str, str]] | None = None) -> Response:
    """The JSON error every refusal sends (``{"error", "message"}``), with Retry-After when
    the wait is known, and any ``extra`` headers."""
    headers = list(extra or [])
    if retry_after_s is not None:
        headers.append(("Retry-After", str(retry_after(retry_after_s))))
    return json_response(status, {"error": error, "message": message}, headers)
