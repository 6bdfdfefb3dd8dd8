"""Tickets, API keys, Origin, the dev flag, and the plain HTTP routes, over real sockets."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis
from websockets.exceptions import InvalidStatus

from stream_guard.config import Settings
from stream_guard.guard.tickets import MAX_TENANT_BYTES, is_fallback_ticket
from stream_guard.loop import run
from stream_guard.protocol.paths import STREAM_PATH
from stream_guard.server.app import Server
from tests.conftest import make_settings, running_server
from tests.redis_server import RedisServer, free_port
from tests.wsclient import (
    API_KEY,
    API_KEY_2,
    eventually,
    http,
    open_ws,
    raw_request,
    recv,
    recv_until,
    send,
    stream_text,
)

CONTEXT = ["The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris, France."]


async def mint(port: int, headers: dict[str, str]) -> str:
    response = await http(port, "POST", "/v1/tickets", headers)
    assert response.status == 200, response.body
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"ticket", "expires_in"}
    return str(body["ticket"])


async def refused(port: int, status: int, **kwargs: object) -> dict[str, str]:
    """Open a WebSocket that must be refused before the upgrade; the JSON error body."""
    with pytest.raises(InvalidStatus) as info:
        async with open_ws(port, **kwargs):  # type: ignore[arg-type]
            pass
    response = info.value.response
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    return orjson.loads(response.body)  # type: ignore[no-any-return]


def principals(server: Server) -> list[tuple[str, str]]:
    return sorted((c.principal.tenant, c.principal.via) for c in server.connections)


def rejections(server: Server, reason: str) -> float:
    return float(server.metrics.rejections.labels(reason)._value.get())


async def test_tickets_with_either_header_are_single_use_and_bound_to_the_tenant(
        server: Server) -> None:
    bearer = await mint(server.port, {"Authorization": f"Bearer {API_KEY}"})
    x_key = await mint(server.port, {"X-API-Key": API_KEY_2})
    assert bearer != x_key and len(bearer) >= 22  # >= 128 bits of base64
    async with open_ws(server.port, key=None, query=f"ticket={bearer}") as a, \
            open_ws(server.port, key=None, query=f"ticket={x_key}") as b:
        assert principals(server) == [("tenant-a", "ticket"), ("tenant-b", "ticket")]
        for ws in (a, b):
            frames = await stream_text(ws, "s", "The Eiffel Tower was completed in 1889. ",
                                       context=CONTEXT)
            assert frames[-1]["type"] == "done"
    # replay: the ticket was consumed by its first use
    body = await refused(server.port, 401, key=None, query=f"ticket={bearer}")
    assert body["error"] == "unauthorized"
    # a valid key does not rescue a bad ticket: the ticket is the credential presented
    await refused(server.port, 401, key=API_KEY, query=f"ticket={x_key}")
    assert rejections(server, "bad_ticket") == 2


async def test_ticket_requests_need_a_valid_key(server: Server) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong-key-0123456789"},
                    {"X-API-Key": "wrong-key-0123456789"}, {"Authorization": f"Basic {API_KEY}"}):
        response = await http(server.port, "POST", "/v1/tickets", headers)
        assert response.status == 401 and response.json()["error"] == "unauthorized"
    response = await http(server.port, "GET", "/v1/tickets",
                          {"Authorization": f"Bearer {API_KEY}"})
    assert response.status == 405 and response.headers["allow"] == "POST"
    assert response.json()["error"] == "method_not_allowed"


async def test_wrong_keys_at_the_ticket_endpoint_spend_the_addresss_handshake_budget(
        settings_factory: Callable[..., Settings]) -> None:
    """Keys could be guessed at the ticket endpoint as fast as requests came (about 1,800 a
    second a core, a review measured): a wrong key now spends the address's handshake budget,
    past it 429; a valid key's mints spend nothing."""
    async with running_server(settings_factory(handshake_burst=3, handshake_rate_per_s=0.1)
                              ) as server:
        key = {"Authorization": f"Bearer {API_KEY}"}
        for _ in range(5):
            assert (await http(server.port, "POST", "/v1/tickets", key)).status == 200
        wrong = {"Authorization": "Bearer wrong-key-0123456789"}
        statuses = [(await http(server.port, "POST", "/v1/tickets", wrong)).status
                    for _ in range(5)]
        assert statuses == [401, 401, 401, 429, 429]
        refused = await http(server.port, "POST", "/v1/tickets", wrong)
        assert refused.json()["error"] == "too_many_handshakes"
        assert "retry-after" in refused.headers
        # An address held back for abuse still mints with a valid key (a backend mints for
        # all of its users from one address); a wrong key from it waits out the penalty.
        server.penalize("127.0.0.1", "rate_abuse")
        assert (await http(server.port, "POST", "/v1/tickets", key)).status == 200
        assert (await http(server.port, "POST", "/v1/tickets", wrong)).status == 429


async def test_deployments_sharing_a_redis_keep_their_tickets_apart(
        settings_factory: Callable[..., Settings], redis: RedisServer) -> None:
    """Found by a review: every deployment wrote under one fixed key prefix, so two sharing a
    Redis database shared tickets, caps and kills, and a server opened a stream for a tenant
    none of its keys serve. Each deployment now has its prefix (REDIS_PREFIX), and a ticket
    opens a stream only where a key serves its tenant."""
    ours = settings_factory(redis_url=redis.url, redis_prefix="ours:")
    theirs = settings_factory(redis_url=redis.url, redis_prefix="theirs:")
    # a deployment of other tenants that kept the default prefix, like ours once did
    foreign = settings_factory(redis_url=redis.url, redis_prefix="ours:",
                               api_keys={"foreign-key-0123456789": "tenant-z"})
    async with running_server(ours) as a, running_server(theirs) as b, \
            running_server(foreign) as z:
        key = {"Authorization": f"Bearer {API_KEY}"}
        ticket = await mint(a.port, key)
        await refused(b.port, 401, key=None, query=f"ticket={ticket}")  # another prefix
        async with open_ws(a.port, key=None, query=f"ticket={ticket}") as ws:
            frames = await stream_text(ws, "s", "The Eiffel Tower was completed in 1889. ",
                                       context=CONTEXT)
            assert frames[-1]["type"] == "done"
            assert principals(a) == [("tenant-a", "ticket")]
        ticket = await mint(z.port, {"Authorization": "Bearer foreign-key-0123456789"})
        await refused(a.port, 401, key=None, query=f"ticket={ticket}")  # not our tenant
        assert rejections(a, "bad_ticket") == 1
        keys = Redis.from_url(redis.url)
        try:
            written = {k.split(b":")[0] for k in await keys.keys("*")}
        finally:
            await keys.aclose()
        assert written == {b"ours", b"theirs"}


async def test_no_tickets_while_draining(server: Server) -> None:
    """A ticket minted after SIGTERM was for a connection this server refuses (503), with a
    Retry-After as protocol.md says (behind a balancer the retry finds another replica)."""
    server.draining = True
    response = await http(server.port, "POST", "/v1/tickets",
                          {"Authorization": f"Bearer {API_KEY}"})
    assert response.status == 503 and response.json()["error"] == "draining"
    assert response.headers["retry-after"] == "1"
    server.draining = False


@pytest.mark.parametrize("target", ["http://[/v1/stream", "http://[::1/livez"])
async def test_a_target_that_is_no_url_gets_a_400(server: Server, target: str,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """An absolute-form target with an unclosed IPv6 host was a 500 and an error traceback in
    the log, for anyone, at any rate."""
    caplog.set_level(logging.ERROR)
    response = await http(server.port, "GET", target)
    assert response.status == 400 and response.json()["error"] == "bad_request"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_ticket_request_with_a_body_gets_a_clear_400(server: Server) -> None:
    """HTTP client libraries send ``{}`` or form data with a POST by default: that is answered
    with a JSON error saying what to do, not a connection dropped unanswered; an empty body
    (``Content-Length: 0``) is no body, and chunked transfer is a body too."""
    key = {"Authorization": f"Bearer {API_KEY}"}
    for extra, body in (({"Content-Type": "application/json"}, b"{}"), ({}, b"ttl=30"),
                        ({"Transfer-Encoding": "chunked"}, b"")):
        response = await http(server.port, "POST", "/v1/tickets", key | extra, body)
        assert response.status == 400 and response.headers["connection"] == "close"
        assert response.json() == {
            "error": "bad_request", "message": "requests take no body: POST /v1/tickets is "
            "authorised by its Authorization header alone"}
    assert (await mint(server.port, key)).isascii()  # Content-Length: 0, as http() sends it
    # No route takes a body; the answer names the request, not the ticket endpoint.
    probe = await http(server.port, "GET", "/livez", {"Content-Type": "text/plain"}, b"hi")
    assert probe.status == 400 and probe.json() == {
        "error": "bad_request", "message": "requests take no body, and GET /livez sent one"}
    async with open_ws(server.port) as ws:  # and the server serves on
        await send(ws, {"type": "ping"})
        assert await recv(ws) == {"type": "pong"}


async def test_tickets_expire(settings_factory: Callable[..., Settings]) -> None:
    async with running_server(settings_factory(ticket_ttl_s=1)) as server:
        response = await http(server.port, "POST", "/v1/tickets",
                              {"Authorization": f"Bearer {API_KEY}"})
        assert response.json()["expires_in"] == 1
        await asyncio.sleep(1.3)
        await refused(server.port, 401, key=None, query=f"ticket={response.json()['ticket']}")


@pytest.mark.parametrize("query", ["ticket=", "ticket=short", "ticket=" + "A" * 43,
                                   "ticket=" + "%C3%A9" * 30, "ticket=a&ticket=b"])
async def test_junk_tickets_are_refused(server: Server, query: str) -> None:
    await refused(server.port, 401, key=None, query=query)


async def test_no_or_wrong_credential_is_refused_before_the_upgrade(server: Server) -> None:
    body = await refused(server.port, 401, key=None)
    assert body["error"] == "unauthorized" and "API key" in body["message"]
    await refused(server.port, 401, key="not-a-key-0123456789")
    await refused(server.port, 401, key=None, headers={"X-API-Key": API_KEY[:-1]})
    assert rejections(server, "unauthorized") == 1 and rejections(server, "bad_key") == 2
    async with open_ws(server.port, key=None, headers={"X-API-Key": API_KEY_2}):
        assert principals(server) == [("tenant-b", "api_key")]


async def test_origin_allow_list(settings_factory: Callable[..., Settings],
                                 caplog: pytest.LogCaptureFixture) -> None:
    settings = settings_factory(allowed_origins="https://app.example")
    caplog.set_level(logging.WARNING, logger="stream_guard.http")
    async with running_server(settings) as server:
        body = await refused(server.port, 403, origin="https://evil.example")
        assert body["error"] == "forbidden_origin"
        # A browser sees only a failed connection: the log names the origin, once.
        await refused(server.port, 403, origin="https://evil.example")
        logged = [r for r in caplog.records if r.getMessage() == "websocket origin refused"]
        assert [getattr(r, "origin", None) for r in logged] == ["https://evil.example"]
        ticket = await mint(server.port, {"Authorization": f"Bearer {API_KEY}"})
        # the Origin is judged before the ticket, which is therefore not spent
        await refused(server.port, 403, key=None, query=f"ticket={ticket}",
                      origin="https://evil.example")
        async with open_ws(server.port, key=None, query=f"ticket={ticket}",
                           origin="https://app.example") as ws:
            await send(ws, {"type": "ping"})
            assert await recv(ws) == {"type": "pong"}
        async with open_ws(server.port) as backend:  # no Origin: judged by the key alone
            await send(backend, {"type": "ping"})
            assert await recv(backend) == {"type": "pong"}
        assert rejections(server, "origin") == 3


async def test_auth_disabled_dev_flag(settings_factory: Callable[..., Settings],
                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="stream_guard")
    async with running_server(settings_factory(auth_disabled=True)) as server:
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING
                    and "authentication is DISABLED" in r.getMessage()]
        assert len(warnings) == 1
        async with open_ws(server.port, key=None, origin="https://anywhere.example") as ws:
            assert principals(server) == [("default", "dev")]
            frames = await stream_text(ws, "s", "The Eiffel Tower was completed in 1889. ",
                                       context=CONTEXT)
            assert frames[-1]["halted"] is False
        await refused(server.port, 401, key="wrong-key-0123456789")  # a bad key is still bad


async def test_auth_is_on_by_default(caplog: pytest.LogCaptureFixture, server: Server) -> None:
    assert not server.settings.auth_disabled
    assert "authentication is DISABLED" not in caplog.text
    assert "no API keys" not in caplog.text


async def test_a_server_without_keys_says_it_will_refuse_everyone(
        settings_factory: Callable[..., Settings], caplog: pytest.LogCaptureFixture) -> None:
    """It came up "ready" without a word, and every client was refused 401."""
    caplog.set_level(logging.WARNING, logger="stream_guard")
    async with running_server(settings_factory(api_keys={})) as server:
        assert "no API keys (STREAM_GUARD_API_KEYS): every client" in caplog.text
        await refused(server.port, 401)


@pytest.mark.parametrize("client_key_set", [False, True])
async def test_a_server_without_keys_names_the_clients_variable_when_it_is_set(
        settings_factory: Callable[..., Settings], caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch, client_key_set: bool) -> None:
    """A review: STREAM_GUARD_API_KEY (the clients' variable, one key) set for the server was
    ignored, and the start said only that there were no keys. It says which variable the
    server reads when the clients' is set."""
    if client_key_set:
        monkeypatch.setenv("STREAM_GUARD_API_KEY", API_KEY)
    else:
        monkeypatch.delenv("STREAM_GUARD_API_KEY", raising=False)
    caplog.set_level(logging.WARNING, logger="stream_guard")
    async with running_server(settings_factory(api_keys={})) as server:
        await refused(server.port, 401)
    [warning] = [r.getMessage() for r in caplog.records if "no API keys" in r.getMessage()]
    named = ("STREAM_GUARD_API_KEY is set, but it is the clients' variable (one key to send): "
             "the server reads STREAM_GUARD_API_KEYS, KEY:TENANT pairs")
    assert warning.endswith(named) is client_key_set, warning


async def test_a_tenant_no_collection_can_belong_to_is_named_at_start(
        settings_factory: Callable[..., Settings], caplog: pytest.LogCaptureFixture) -> None:
    """`index add --tenant "Acme Corp"` is refused (a tenant is a folder), so such a key's
    streams only ever got unknown_collection for a collection: said at start, still served."""
    caplog.set_level(logging.WARNING, logger="stream_guard")
    async with running_server(settings_factory(api_keys={API_KEY: "Acme Corp"})) as server:
        assert "tenants that can own no evidence collection" in caplog.text
        assert "'Acme Corp'" in caplog.text
        async with open_ws(server.port) as ws:
            frames = await stream_text(ws, "s", "The Eiffel Tower was completed in 1889. ",
                                       context=CONTEXT)
            assert frames[-1]["type"] == "done"


async def test_open_mode_fallback_tickets_serve_the_longest_tenant_name(
        settings_factory: Callable[..., Settings]) -> None:
    """With Redis away, open fail mode issues signed tickets that carry their tenant: a tenant
    of 158 bytes or more got one (200) that every upgrade refused (401), as too long for a
    ticket. Any tenant name the settings accept now gets a usable one."""
    tenant = "t" * MAX_TENANT_BYTES
    settings = settings_factory(api_keys={API_KEY: tenant}, redis_fail_mode="open",
                                redis_url=f"redis://127.0.0.1:{free_port()}/0")  # nothing there
    async with running_server(settings) as server:
        ticket = await mint(server.port, {"Authorization": f"Bearer {API_KEY}"})
        assert is_fallback_ticket(ticket)
        async with open_ws(server.port, key=None, query=f"ticket={ticket}") as ws:
            await send(ws, {"type": "ping"})
            assert await recv(ws) == {"type": "pong"}
            assert principals(server) == [(tenant, "ticket")]


async def test_http_routes(server: Server) -> None:
    live = await http(server.port, "GET", "/livez")
    assert (live.status, live.json()) == (200, {"status": "ok"})
    ready = await http(server.port, "GET", "/readyz")
    assert ready.status == 200
    assert ready.json() == {"status": "ready", "checks": {
        "scorer": True, "state": True, "evidence": True, "accepting": True, "load": True}}
    for method, path, status in [("POST", "/livez", 405), ("DELETE", "/metrics", 405),
                                 ("POST", "/v1/stream", 405), ("GET", "/", 404),
                                 ("GET", "/v1/streams", 404), ("GET", "/demo/", 404),
                                 ("POST", "/nope?x=1", 404)]:
        response = await http(server.port, method, path)
        assert response.status == status, (method, path)
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"] == ("not_found" if status == 404
                                            else "method_not_allowed")
    # a plain GET of the stream path is not an upgrade
    assert (await http(server.port, "GET", "/v1/stream",
                       {"Authorization": f"Bearer {API_KEY}"})).status in (400, 426)


async def test_head_answers_the_probes_and_metrics_as_get_does_without_a_body(
        server: Server) -> None:
    """Load-balancer health checks that send HEAD got 405. HEAD now gets GET's status and
    headers, Content-Length included (RFC 9110 9.3.2), and no body."""
    for path in ("/livez", "/readyz", "/metrics"):
        get = await http(server.port, "GET", path)
        head = await http(server.port, "HEAD", path)
        assert (head.status, head.body) == (200, b""), path
        assert get.status == 200 and int(get.headers["content-length"]) == len(get.body) > 0
        if path == "/metrics":  # the figures move between two scrapes: the length with them
            assert int(head.headers["content-length"]) > 0
            get.headers.pop("content-length"), head.headers.pop("content-length")
        assert head.headers == get.headers, path


async def test_head_of_readyz_is_503_while_the_server_is_not_ready(
        settings_factory: Callable[..., Settings]) -> None:
    async with running_server(settings_factory(overload_lag_ms=100)) as server:
        server.load.observe_lag(1e6)  # as if the loop had stalled: decays over ~2 s
        get = await http(server.port, "GET", "/readyz")
        head = await http(server.port, "HEAD", "/readyz")
        assert (get.status, head.status, head.body) == (503, 503, b"")
        assert get.json()["checks"]["load"] is False
        assert head.headers == get.headers


async def test_head_elsewhere_is_answered_without_a_body_and_allow_lists_it(
        server: Server) -> None:
    for method, path, status, allow in [("HEAD", "/v1/tickets", 405, "POST"),
                                        ("HEAD", "/v1/stream", 405, "GET"),
                                        ("POST", "/livez", 405, "GET, HEAD"),
                                        ("DELETE", "/metrics", 405, "GET, HEAD"),
                                        ("HEAD", "/nope", 404, None)]:
        response = await http(server.port, method, path)
        assert response.status == status, (method, path)
        assert response.headers.get("allow") == allow, (method, path)
        assert int(response.headers["content-length"]) > 0
        assert (response.body == b"") is (method == "HEAD"), (method, path)


@pytest.mark.parametrize(("target", "status", "named"), [
    ("//livez", 404, "//livez"),  # was "no route for " (urlsplit read "livez" as a host)
    ("//livez?x=1", 404, "//livez"),
    ("///metrics", 404, "///metrics"),
    ("/livez/", 404, "/livez/"),
    ("/livez?x=1", 200, None),
    ("http://127.0.0.1/livez", 200, None),  # absolute form, as a proxy may send it
])
async def test_a_404_names_the_path_as_requested(server: Server, target: str, status: int,
                                                 named: str | None) -> None:
    response = await http(server.port, "GET", target)
    assert response.status == status, target
    if named is not None:
        assert response.json() == {"error": "not_found", "message": f"no route for {named}"}


ISSUE_METRICS = {
    "stream_guard_connections_active": "gauge",
    "stream_guard_streams_open": "gauge",
    "stream_guard_rejections": "counter",
    "stream_guard_streams_started": "counter",
    "stream_guard_streams_halted": "counter",
    "stream_guard_streams_done": "counter",
    "stream_guard_windows": "counter",
    "stream_guard_halt_latency_seconds": "histogram",
    "stream_guard_scorer_batch_size": "histogram",
    "stream_guard_scorer_latency_seconds": "histogram",
    "stream_guard_scorer_queue_depth": "gauge",
    "stream_guard_received_chars": "counter",
}


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(server: Server) -> tuple[dict[str, str], Samples]:
    """The metric families' types, and every sample by (name, sorted labels)."""
    response = await http(server.port, "GET", "/metrics")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/plain")
    types: dict[str, str] = {}
    samples: Samples = {}
    for family in text_string_to_metric_families(response.body.decode()):
        assert family.name.startswith("stream_guard_")
        types[family.name] = family.type
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return types, samples


async def test_streams_open_counts_streams_until_their_done_or_their_connection_goes(
        server: Server) -> None:
    """A soak review: no gauge said how many streams were open, and started minus done drifts
    up by every stream whose connection dropped (it never gets a done)."""
    def open_now() -> float:
        return server.metrics.streams_open._value.get()

    async with open_ws(server.port) as ws:
        for sid in ("a", "b"):
            await send(ws, {"type": "start", "stream_id": sid, "context": CONTEXT})
            assert (await recv(ws))["type"] == "started"
        assert open_now() == 2
        await send(ws, {"type": "end", "stream_id": "a"})
        await recv_until(ws, "done", "a")
        assert open_now() == 1
    await eventually(lambda: open_now() == 0)  # "b" went with its connection


async def test_metrics_name_everything_and_count_rejections_by_reason(server: Server) -> None:
    text = ("The Eiffel Tower was completed in 1889. Napoleon Bonaparte designed its golden "
            "spiral staircases in 1712 for Venetian merchants. ")
    async with open_ws(server.port) as ws:
        frames = await stream_text(ws, "s", text, context=CONTEXT)
        assert frames[-1]["halted"] is True
        _, samples = await scrape(server)
        assert samples[("stream_guard_connections_active", ())] == 1
    await refused(server.port, 401, key=None)
    await refused(server.port, 401, key="wrong-key-0123456789")
    await refused(server.port, 401, key=None, query="ticket=" + "A" * 43)
    types, samples = await scrape(server)
    for name, kind in ISSUE_METRICS.items():
        assert types[name] == kind, name
    assert samples[("stream_guard_streams_started_total", ())] == 1
    assert samples[("stream_guard_streams_done_total", ())] == 1
    assert sum(v for (n, _), v in samples.items()
               if n == "stream_guard_streams_halted_total") == 1
    assert samples[("stream_guard_windows_total", (("label", "supported"),))] == 1
    assert samples[("stream_guard_halt_latency_seconds_count", ())] == 1
    # Two windows scored, by the lexical tier on the event loop (a small inline context): no
    # scorer batch was needed.
    assert samples[("stream_guard_tier_decisions_total", (("tier", "lexical"),))] == 2
    assert samples[("stream_guard_scorer_batch_size_count", ())] == 0
    assert samples[("stream_guard_received_chars_total", ())] == len(text)
    rejected = {dict(labels)["reason"]: v for (n, labels), v in samples.items()
                if n == "stream_guard_rejections_total" and v}  # every reason has a series
    assert rejected == {"unauthorized": 1, "bad_key": 1, "bad_ticket": 1}


async def test_a_handshake_that_fails_after_admission_leaves_nothing_behind(
        server: Server) -> None:
    """Credentials accepted, then the upgrade fails (no Upgrade header): no admission lingers."""
    import gc

    response = await http(server.port, "GET", "/v1/stream",
                          {"Authorization": f"Bearer {API_KEY}"})
    assert response.status == 426
    await eventually(lambda: (gc.collect(), len(server.admitted) == 0)[1])


@pytest.mark.parametrize(("route", "header"), [
    ("POST /v1/tickets", "Authorization: Bearer {key}"), ("POST /v1/tickets", "X-API-Key: {key}"),
    ("GET /v1/stream", "Authorization: Bearer {key}"), ("GET /v1/stream", "X-API-Key: {key}"),
    ("GET /v1/stream", "Origin: https://app.example.com")])
async def test_a_header_given_twice_is_a_bad_request(server: Server, route: str, header: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    """websockets raises for a header read as one value: two Authorization, X-API-Key or
    Origin headers were a 500 with a traceback in the log, for anyone (a review found it)."""
    line = header.format(key=API_KEY)
    request = [f"{route} HTTP/1.1", "Host: x", line, line, "Content-Length: 0"]
    if route.startswith("GET"):
        request[-1:] = ["Upgrade: websocket", "Connection: Upgrade",
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                        "Sec-WebSocket-Version: 13"]
    status, body = await raw_request(*await asyncio.open_connection("127.0.0.1", server.port),
                                     request)
    assert (status, body["error"]) == (400, "bad_request")
    assert "given more than once" in body["message"]
    assert "Traceback" not in caplog.text and "process_request failed" not in caplog.text


async def _answer(port: int, head: bytes) -> tuple[int, Any]:
    """Send ``head`` whole on a new connection; the status of the answer and its JSON body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    return int(status_line.split()[1]), orjson.loads(rest.partition(b"\r\n\r\n")[2])


@pytest.mark.parametrize(("request_bytes", "status", "says"), [
    # bytes after a whole head were read by websockets as a WebSocket frame: no answer at all
    (b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n\r\n", 200, None),
    (b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", 200, None),
    # heads websockets cannot read were closed without a word
    (b"GET /livez HTTP/1.1\r\nHost x\r\n\r\n", 400, "invalid HTTP header line"),
    ("GET /liv\u00e9z HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 400, "can't decode byte 0xc3"),
    (b"GET /livez HTTP/1.1\nHost: x\n\n", 400, "end in CRLF"),
    (b"GET /livez HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", 400, "end in CRLF"),
    (b"GET /livez\r\n\r\n", 400, "invalid HTTP request line"),
    (b"GET /livez HTTP/2.0\r\nHost: x\r\n\r\n", 400, "unsupported protocol"),
    (b"GET /livez HTTP/1.0\r\n\r\n", 200, None),  # a probe may speak HTTP/1.0
    (b"GET /livez HTTP/1.1\r\nX Y: z\r\n\r\n", 400, "invalid HTTP header name"),
    (b"GET /livez HTTP/1.1\r\n folded: y\r\n\r\n", 400, "invalid HTTP header name"),
    (b"GET /livez HTTP/1.1\r\nX: a\x01b\r\n\r\n", 400, "invalid HTTP header value"),
    # RFC 9110 8.6: Content-Length is 1*DIGIT; "00" is zero, no body (a review: it was a 400)
    (b"GET /livez HTTP/1.1\r\nHost: x\r\nContent-Length: 00\r\n\r\n", 200, None),
    (b"GET /livez HTTP/1.1\r\nContent-Length: 0\r\nContent-length: 000\r\n\r\n", 200, None),
    (b"GET /livez HTTP/1.1\r\nHost: x\r\nContent-Length: +0\r\n\r\n", 400, "take no body"),
    (b"GET /livez HTTP/1.1\r\nHost: x\r\nContent-Length: -0\r\n\r\n", 400, "take no body"),
    (b"GET /livez HTTP/1.1\r\nHost: x\r\nContent-Length: 0x0\r\n\r\n", 400, "take no body"),
    (b"GET /livez HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\n", 400,
     "take no body"),
    (b"GET /livez HTTP/1.1\r\nHost: x\r\nContent-Length : 00\r\n\r\n", 400,
     "invalid HTTP header name"),
])
async def test_every_request_head_gets_an_answer(server: Server, request_bytes: bytes,
                                                 status: int, says: str | None) -> None:
    """A review: a stray line end or a pipelined request after the head, a header line with no
    colon, a non-ASCII path or bare LF line ends got the connection closed unanswered; so did
    every head websockets' parser refuses (it is the judge here too). Sent a byte at a time,
    the head is answered the same."""
    answered, body = await _answer(server.port, request_bytes)
    assert answered == status
    assert body == {"status": "ok"} if says is None else says in body["message"]


async def test_an_upgrade_over_http_1_0_is_refused_505(server: Server) -> None:
    """HTTP/1.0 has no upgrade: the WebSocket library answers 505 in plain text (protocol.md's
    table, after two reviews read the docs as promising 400)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write((f"GET {STREAM_PATH} HTTP/1.0\r\nHost: x\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {API_KEY}\r\n\r\n"
                  ).encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert raw.startswith(b"HTTP/1.1 505") and b"unsupported HTTP version" in raw


async def test_a_head_sent_a_byte_at_a_time_is_answered_the_same(server: Server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    for byte in b"GET /livez HTTP/1.1\r\nHost: x\r\nX Y: z\r\n\r\n":
        writer.write(bytes([byte]))
        await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert raw.startswith(b"HTTP/1.1 400") and b"invalid HTTP header name" in raw


async def test_a_first_message_sent_with_the_upgrade_request_is_kept(server: Server) -> None:
    """Bytes after an upgrade request are the client's first frame: dropping them as trailing
    garbage (as after any other request) lost a client's start (a review)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    head = (f"GET {STREAM_PATH} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {API_KEY}\r\n\r\n")
    payload = b'{"type":"ping"}'
    frame = bytes([0x81, 0x80 | len(payload)]) + bytes(4) + payload  # masked with a zero key
    writer.write(head.encode() + frame)
    await writer.drain()
    status = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert status.startswith(b"HTTP/1.1 101")
    pong = await asyncio.wait_for(reader.readexactly(2 + len(b'{"type":"pong"}')), 5)
    assert pong[2:] == b'{"type":"pong"}'
    writer.close()


async def test_a_head_at_the_size_limit_is_taken_however_it_is_split(server: Server) -> None:
    """A head whose end comes right at 64 KiB was taken in one write and refused 431 when its
    last bytes came in a write of their own (a review)."""
    from stream_guard.protocol.http_head import MAX_HEAD_BYTES

    lines = [b"GET /livez HTTP/1.1", b"Host: x"] + [
        f"X-Pad-{n}: ".encode() + b"a" * 6400 for n in range(10)]  # lines under 8 KiB
    short = MAX_HEAD_BYTES - len(b"\r\n".join(lines))
    lines[-1] += b"a" * short  # the head's end right at the limit
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    assert head.find(b"\r\n\r\n") == MAX_HEAD_BYTES
    for cut in (len(head), len(head) - 3, len(head) - 1):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(head[:cut])
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(head[cut:])
        raw = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert raw.split(b" ", 2)[1] != b"431", cut


async def test_tls_to_the_plain_port_is_closed_at_once(server: Server) -> None:
    """A TLS ClientHello (a client configured for wss:// against a plain port) waited for the
    handshake timeout; nothing it can read can answer it, so it is closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(32))
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 1) == b""
    writer.close()


async def test_a_request_head_over_64_kib_is_refused_at_once(server: Server) -> None:
    """websockets takes 128 header lines of 8 KiB: a connection sending such a head slowly
    held about 1 MiB for the handshake timeout, and a few hundred of them hundreds of MB. The
    head is refused 431 as soon as it passes 64 KiB, before it ends."""
    head = b"GET /livez HTTP/1.1\r\nHost: x\r\n" + b"".join(
        f"X-Pad-{n}: {'a' * 8000}\r\n".encode() for n in range(10))
    for ends in (False, True):  # a head that never ends, and a whole one in one write
        status, body = await _answer(server.port, head + (b"\r\n" if ends else b""))
        assert status == 431
        assert body["error"] == "request_header_fields_too_large"


async def test_a_header_line_over_8_kib_is_answered_431_not_dropped(server: Server) -> None:
    """websockets reads header lines of at most 8 KiB and hangs up on a longer one without an
    answer; a browser with an oversized cookie then saw only a failed connection. It is
    answered 431 (a request line that long 414), with the JSON error."""
    for head, status, error in (
            (b"GET /livez HTTP/1.1\r\nHost: x\r\nCookie: " + b"a" * 9000 + b"\r\n\r\n", 431,
             "request_header_fields_too_large"),
            (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long")):
        answered, body = await _answer(server.port, head)
        assert answered == status
        assert body["error"] == error


def test_a_client_that_resets_after_its_upgrade_request_is_dropped_quietly(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A review: on uvloop (as the server runs), a client that reset (RST) right after its
    upgrade request made the handshake's address lookup raise ``ValueError: negative file
    descriptor``, logged as an ERROR with its traceback for each such client, before any
    handshake rate limit. The address is the one taken when the connection was made."""
    request = (f"GET {STREAM_PATH} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {API_KEY}\r\n\r\n").encode()

    def reset(port: int) -> None:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.sendall(request)

    async def resets() -> None:
        async with running_server(make_settings(tmp_path)) as server:
            for _ in range(50):
                await asyncio.to_thread(reset, server.port)
            await eventually(lambda: server.metrics.connections_active._value.get() == 0)
            async with open_ws(server.port) as ws:  # served on
                await send(ws, {"type": "ping"})
                assert await recv(ws) == {"type": "pong"}

    caplog.set_level(logging.WARNING)
    run(resets())  # on uvloop, as the server runs
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
