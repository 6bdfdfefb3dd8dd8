"""The runnable Python examples in clients/python against a real server, so they cannot rot."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.error
import urllib.request

import pytest

from stream_guard.server.app import Server
from tests.conftest import load_example
from tests.wsclient import API_KEY

guard_llm = load_example("guard_llm")


@pytest.mark.parametrize("mode", ["observe", "holdback"])
async def test_guard_llm_example_reports_the_halt(server: Server, mode: str,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("STREAM_GUARD_API_KEY", API_KEY)
    assert await guard_llm.run(f"ws://127.0.0.1:{server.port}", mode, 0.001) == 1
    out = capsys.readouterr().out
    answer, _, report = out.partition("-- halted")
    assert "Standard shipping takes 3 to 5 business days" in answer
    assert ("lifetime warranty" in answer) == (mode == "observe")
    assert "(unsupported" in report or "(contradicted" in report
    assert ("retract what was shown" in report) == (mode == "observe")
    assert "-- evidence warranty" in report


demo_backend = load_example("demo_backend")


async def test_demo_backend_says_whether_a_page_should_retry_its_ticket(server: Server) -> None:
    """A key stream-guard refuses is the backend's setup, final (500); a server that cannot be
    reached may be restarting (503): the page's client stops, or backs off, by the status."""

    def post(guard_url: str, key: str) -> tuple[int, str]:
        backend = demo_backend.BackendServer(("127.0.0.1", 0), guard_url, key)
        thread = threading.Thread(target=backend.serve_forever, daemon=True)
        thread.start()
        request = urllib.request.Request(
            f"http://127.0.0.1:{backend.server_address[1]}/ticket", method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())["ticket"]
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())["error"]
        finally:
            backend.shutdown()
            backend.server_close()
            thread.join(5)

    url = f"http://127.0.0.1:{server.port}"
    status, ticket = await asyncio.to_thread(post, url, API_KEY)
    assert status == 200 and ticket
    status, error = await asyncio.to_thread(post, url, "not-a-key-of-this-server")
    assert status == 500 and "refused this backend's key" in error
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    status, error = await asyncio.to_thread(post, closed, API_KEY)
    assert status == 503 and "no answer" in error
