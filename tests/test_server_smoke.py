"""End-to-end: a real server on loopback, a real websockets client, the lexical tier."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from stream_guard.config import Settings
from stream_guard.server.app import Server
from tests.conftest import running_server
from tests.wsclient import http, open_ws, recv, send, stream_text

CONTEXT = ["The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris, France."]


async def test_supported_stream_completes_without_halt(server: Server) -> None:
    async with open_ws(server.port) as ws:
        frames = await stream_text(ws, "s1", "The Eiffel Tower was completed in 1889. "
                                   "It is 330 metres tall.", context=CONTEXT)
    types = [f["type"] for f in frames]
    assert types[0] == "started" and types[-1] == "done"
    verdicts = [f for f in frames if f["type"] == "verdict"]
    assert [v["label"] for v in verdicts] == ["supported", "supported"]
    assert frames[-1] == {"type": "done", "stream_id": "s1", "halted": False, "chars": 62,
                          "windows": 2}


async def test_unsupported_claim_halts_at_its_window(server: Server) -> None:
    text = ("The Eiffel Tower was completed in 1889. Napoleon Bonaparte designed its golden "
            "spiral staircases in 1712 for Venetian merchants. ")
    async with open_ws(server.port) as ws:
        frames = await stream_text(ws, "s1", text, context=CONTEXT)
    halts = [f for f in frames if f["type"] == "halt"]
    assert len(halts) == 1
    assert halts[0]["at"] == text.index("Napoleon")
    assert halts[0]["text"].startswith("Napoleon")
    assert frames[-1]["halted"] is True


@pytest.mark.parametrize("marks", [("[1]", "[2]"), ("¹", "²"), ("[^1]", "[^2]")])
async def test_citation_markers_neither_join_sentences_nor_move_their_scores(
        server: Server, marks: tuple[str, str]) -> None:
    """A review: a RAG answer's "[1]" after each sentence hid its full stop (one window for the
    paragraph) and, read as unknown words, lowered every score; with markers the windows and
    their scores are those of the same sentences without."""
    plain = ["The Eiffel Tower was completed in 1889.", "It is 330 metres tall."]
    marked = f"{plain[0]}{marks[0]} {plain[1]}{marks[1]}"
    async with open_ws(server.port) as ws:
        without = await stream_text(ws, "s1", " ".join(plain), context=CONTEXT)
        cited = await stream_text(ws, "s2", marked, context=CONTEXT)
    scores = [[(v["label"], v["score"]) for v in frames if v["type"] == "verdict"]
              for frames in (without, cited)]
    assert len(scores[0]) == 2 and scores[0] == scores[1]


async def test_probes_and_metrics(server: Server) -> None:
    assert (await http(server.port, "GET", "/livez")).status == 200
    ready = await http(server.port, "GET", "/readyz")
    assert ready.status == 200 and ready.json()["status"] == "ready"
    metrics = await http(server.port, "GET", "/metrics")
    assert metrics.status == 200 and b"stream_guard_connections_active" in metrics.body
    missing = await http(server.port, "GET", "/nope")
    assert missing.status == 404 and missing.json()["error"] == "not_found"


async def test_an_answer_says_it_closes_the_connection(server: Server) -> None:
    """Each plain route answers one request and closes (RFC 9112 9.6: say so), so a client
    that would reuse the connection opens another (a fuzzing review: a second request on it
    went unanswered)."""
    for method, path in (("GET", "/livez"), ("GET", "/readyz"), ("HEAD", "/readyz"),
                         ("GET", "/metrics"), ("POST", "/v1/tickets"), ("GET", "/nope"),
                         ("DELETE", "/livez")):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        length = "Content-Length: 0\r\n" if method == "POST" else ""
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\n{length}\r\n".encode())
        raw = await asyncio.wait_for(reader.read(), 10)  # to the close
        writer.close()
        head = raw.partition(b"\r\n\r\n")[0].decode("latin-1").lower().split("\r\n")
        assert head[0].startswith("http/1.1 ") and head.count("connection: close") == 1, head


async def test_ping_pong(server: Server) -> None:
    async with open_ws(server.port) as ws:
        await send(ws, {"type": "ping"})
        assert await recv(ws) == {"type": "pong"}


async def test_scrapes_that_come_together_share_one_render(server: Server) -> None:
    """A render runs in the thread pool that stream set-up uses too; a flood of scrapes used
    to start one render each."""
    renders = 0
    render = server.metrics.render

    def counted() -> bytes:
        nonlocal renders
        renders += 1
        time.sleep(0.3)  # a render reading many workers' files
        return render()

    server.metrics.render = counted  # type: ignore[method-assign]
    answers = await asyncio.gather(*(http(server.port, "GET", "/metrics") for _ in range(10)))
    assert {a.status for a in answers} == {200}
    assert len({a.body for a in answers}) == 1 and b"stream_guard_" in answers[0].body
    assert renders == 1


async def test_a_worker_told_to_stop_while_loading_never_listens(
        settings_factory: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker of ``serve --workers`` opens the port once its scorer is loaded; one stopped
    while loading opened it anyway once the load ended, took connections and only then
    drained (a review). Now it stops without listening, and its store is closed."""
    import stream_guard.scoring.factory as factory

    gate = asyncio.Event()
    build = factory.build_engine

    async def slow(*args: Any) -> Any:
        await gate.wait()
        return await build(*args)

    monkeypatch.setattr(factory, "build_engine", slow)
    server = Server(settings_factory(), reuse_port=True)
    starting = asyncio.create_task(server.start())
    await asyncio.sleep(0.1)
    assert server._ws is None  # loading: not listening
    server._stop_requested.set()
    await asyncio.wait_for(starting, 5)
    assert server._ws is None
    gate.set()
    await server.shutdown()


async def test_the_demo_files_are_served_with_their_types(
        settings_factory: Callable[..., Settings]) -> None:
    """The demo's files as a browser needs them (a README walk saw the client's type
    declarations served as Qt Linguist's ``.ts``); nothing outside ``clients/js``."""
    from tests.conftest import running_server

    async with running_server(settings_factory(serve_demo=True)) as srv:
        page = await http(srv.port, "GET", "/demo/demo/index.html")
        assert page.status == 200 and page.headers["content-type"] == "text/html"
        script = await http(srv.port, "GET", "/demo/demo/demo.js")
        assert script.status == 200 and script.headers["content-type"] == "text/javascript"
        types = await http(srv.port, "GET", "/demo/stream-guard.d.ts")
        assert types.status == 200 and types.headers["content-type"].startswith("text/plain")
        assert (await http(srv.port, "GET", "/demo/../../pyproject.toml")).status == 404


@pytest.mark.parametrize("path", ["/demo/a\x00b", "/demo/" + "a" * 300])
async def test_a_demo_path_no_file_can_have_is_404(
        settings_factory: Callable[..., Settings], caplog: pytest.LogCaptureFixture,
        path: str) -> None:
    """A review: a NUL byte in the request target or a file name over the file system's
    limit made the demo's lookup raise (500, and an ERROR traceback each); such a path names
    no file: 404 JSON, as any other unknown path."""
    from tests.conftest import running_server

    caplog.set_level(logging.WARNING)
    async with running_server(settings_factory(serve_demo=True)) as srv:
        answer = await http(srv.port, "GET", path)
        assert (answer.status, answer.json()["error"]) == (404, "not_found")
        assert (await http(srv.port, "GET", "/demo/demo/index.html")).status == 200
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_server_that_owns_its_process_freezes_its_start_up_heap(
        settings_factory: Callable[..., Settings]) -> None:
    """Start-up's objects live as long as the process, and each full garbage collection
    walked them again with the interpreter held (tens of ms on a 2-core host): the serve
    command's and a worker's server takes them out of its reach once ready; a server that
    shares its process (a test's, the eval tool's) leaves the collector as it is."""
    gc.unfreeze()
    try:
        async with running_server(settings_factory()):
            assert gc.get_freeze_count() == 0
        server = Server(settings_factory(), owns_process=True)
        await server.start()
        await server.wait_ready()
        try:
            assert gc.get_freeze_count() > 0
        finally:
            await server.shutdown(grace=1.0)
    finally:
        gc.unfreeze()
