"""The HTTP answers and request paths of the protocol, without sockets (the routes that send
them are tested through real servers in test_server_*.py)."""

from __future__ import annotations

import orjson
import pytest

from stream_guard.protocol.paths import request_path
from stream_guard.protocol.responses import error_response, json_response, retry_after


@pytest.mark.parametrize(("target", "path"), [
    ("/livez", "/livez"),
    ("/livez?x=1", "/livez"),
    ("//livez", "//livez"),  # origin-form: not a host
    ("http://host:8765/v1/stream?ticket=t", "/v1/stream"),  # absolute-form, as proxies send
    ("http://[/v1/stream", None),  # no URL: an unclosed IPv6 host
])
def test_the_path_of_a_request_target(target: str, path: str | None) -> None:
    assert request_path(target) == path


def test_retry_after_is_whole_seconds_and_at_least_one() -> None:
    assert [retry_after(s) for s in (0.0, 0.25, 1.0, 1.01, 9.5)] == [1, 1, 1, 2, 10]


def test_an_error_is_json_never_cached_with_its_retry_after() -> None:
    response = error_response(429, "too_many_handshakes", "slow down", retry_after_s=0.3)
    assert response.status_code == 429 and response.reason_phrase == "Too Many Requests"
    assert orjson.loads(response.body) == {"error": "too_many_handshakes",
                                           "message": "slow down"}
    assert response.headers["Retry-After"] == "1"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Length"] == str(len(response.body))
    plain = json_response(200, {"status": "ok"}, [("Connection", "close")])
    assert "Retry-After" not in plain.headers and plain.headers["Connection"] == "close"
