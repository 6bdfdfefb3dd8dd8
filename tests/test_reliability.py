"""Regressions for the six holes black-box probes found (issue 14), each over a real socket and,
where Redis is involved, a real redis-server that the test stops and starts.

1. per-IP cap after a Redis restart     4. a rate-abused connection's slot after its close
2. open fail mode behind a balancer     5. deltas taken during a drain
3. every handshake answer documented    6. handshake churn per IP
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

from stream_guard.client.errors import (
    RETRYABLE_HANDSHAKE_STATUSES,
    AuthError,
    HandshakeRefusedError,
)
from stream_guard.client.link import TransientConnectFailure, open_link
from stream_guard.server.app import Server
from tests.conftest import make_settings, running_server
from tests.redis_server import RedisServer, free_port
from tests.wsclient import (
    API_KEY,
    eventually,
    http,
    open_ws,
    recv,
    recv_until,
    send,
    until_closed,
    wait_ready,
    ws_url,
)

ROOT = Path(__file__).resolve().parents[1]
CONTEXT = ["The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris, France."]
GOOD = "The Eiffel Tower was completed in 1889. It is 330 metres tall. "
UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


def rejections(server: Server, reason: str) -> float:
    return float(server.metrics.rejections.labels(reason)._value.get())


@asynccontextmanager
async def workers(tmp_path: Path, n: int, **overrides: Any) -> AsyncIterator[list[Server]]:
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(running_server(make_settings(tmp_path, **overrides)))
               for _ in range(n)]


async def admitted(stack: AsyncExitStack, port: int, **kwargs: Any) -> ClientConnection | None:
    """Open a connection; kept open (on ``stack``) when admitted, None when closed 1013."""
    ws = await stack.enter_async_context(open_ws(port, **kwargs))
    try:
        await send(ws, {"type": "ping"})  # the close may come before it is sent
        assert await recv(ws) == {"type": "pong"}
    except ConnectionClosed as exc:
        assert exc.rcvd is not None and exc.rcvd.code == 1013, exc
        return None
    return ws


# --- 1. per-IP cap across a Redis restart ------------------------------------------------------

@pytest.mark.redis
async def test_per_ip_cap_holds_across_a_redis_restart(tmp_path: Path,
                                                        redis: RedisServer) -> None:
    """Redis restarted without persistence forgets every lease; the open connections must be
    counted again before the scope admits anyone (it used to admit a whole cap more)."""
    async with workers(tmp_path, 2, redis_url=redis.url, max_connections_per_ip=4,
                       lease_ttl_s=1.5) as (a, b), AsyncExitStack() as stack:
        for _ in range(3):
            assert await admitted(stack, a.port) is not None
        redis.stop()
        redis.start()  # same port, empty
        # Worker b holds none of the three: it must not take the emptied scope for free. Keep
        # trying for several renewal rounds (a round is lease_ttl_s / 3).
        extra = []
        for i in range(30):
            ws = await admitted(stack, (a, b)[i % 2].port)
            if ws is not None:
                extra.append(ws)
            await asyncio.sleep(0.1)
        assert len(extra) == 1  # 3 old + 1 new = the cap of 4, never more
        assert rejections(a, "state_recovering") + rejections(b, "state_recovering") >= 1
        # the count is true: one old connection closes, exactly one slot frees up
        await extra[0].close()
        await eventually(lambda: len(a.connections) + len(b.connections) == 3)
        assert await admitted(stack, b.port) is not None
        assert await admitted(stack, a.port) is None


# --- 2. open fail mode behind a load balancer --------------------------------------------------

@pytest.mark.redis
async def test_open_fail_mode_stays_ready_and_issues_tickets(tmp_path: Path,
                                                             redis: RedisServer) -> None:
    async with workers(tmp_path, 2, redis_url=redis.url, redis_fail_mode="open",
                       max_connections_per_ip=2, lease_ttl_s=1.5) as (a, b), \
            AsyncExitStack() as stack:
        redis.stop()
        ready = await http(a.port, "GET", "/readyz")
        assert ready.status == 200  # a balancer keeps the replica
        assert ready.json()["degraded"] == ["state"]
        minted = await http(a.port, "POST", "/v1/tickets", {"Authorization": f"Bearer {API_KEY}"})
        assert minted.status == 200
        ticket = minted.json()["ticket"]
        # signed: redeemed on another worker than the one that minted it, once per worker
        ws = await admitted(stack, b.port, key=None, query=f"ticket={ticket}")
        assert ws is not None
        replay = await http(b.port, "GET", f"/v1/stream?ticket={ticket}", UPGRADE)
        assert replay.status == 401
        # caps hold per worker
        assert await admitted(stack, b.port) is not None
        assert await admitted(stack, b.port) is None
        # back: the connections admitted meanwhile are counted in the shared scope again
        # (after the settle period that follows a wipe: half the lease TTL)
        redis.start()
        await b.leases.renew()
        await asyncio.sleep(1.0)
        assert await admitted(stack, a.port) is None  # b's two fill the shared per-IP cap
        assert rejections(a, "ip_capacity") == 1
    # a fallback ticket is refused in closed mode (never issued there)
    async with workers(tmp_path, 1, redis_url=redis.url) as (c,):
        refused = await http(c.port, "GET", f"/v1/stream?ticket={ticket}", UPGRADE)
        assert refused.status == 401


# --- 3. every handshake answer documented and typed --------------------------------------------

def documented_statuses() -> dict[int, str]:
    """The "Handshake answers" table of docs/protocol.md: status -> retry column."""
    text = (ROOT / "docs" / "protocol.md").read_text()
    section = text.split("### Handshake answers", 1)[1].split("\n## ", 1)[0]
    return {int(m[1]): m[2].strip() for m in re.finditer(r"^\| (\d{3}) \|[^|]*\|([^|]*)\|",
                                                          section, re.M)}


def js_statuses() -> dict[int, bool]:
    text = (ROOT / "clients" / "js" / "stream-guard.js").read_text()
    table = text.split("HANDSHAKE_STATUSES = Object.freeze({", 1)[1].split("});", 1)[0]
    return {int(m[1]): m[2] == "true" for m in re.finditer(r"(\d{3}): (true|false)", table)}


async def connect_error(url: str, headers: dict[str, str] | None = None) -> Exception:
    try:
        link = await open_link(url, headers or {}, open_timeout=5, max_delta_chars=1000,
                               max_frame_bytes=65536)
    except Exception as exc:  # the point is which one
        return exc
    await link.close()
    raise AssertionError("the upgrade was accepted")


@pytest.mark.redis
async def test_every_handshake_refusal_is_documented_and_typed(tmp_path: Path,
                                                               redis: RedisServer) -> None:
    docs = documented_statuses()
    retryable = {s for s, retry in docs.items() if retry.startswith("yes")}
    assert {400, 401, 403, 404, 426, 429, 503} <= set(docs)
    # both clients agree with the docs on what is worth retrying
    assert retryable == set(RETRYABLE_HANDSHAKE_STATUSES) & set(docs)
    assert js_statuses() == {s: s in retryable for s in docs}

    async with workers(tmp_path, 1, redis_url=redis.url, redis_fail_mode="closed",
                       allowed_origins="https://app.example", handshake_rate_per_s=0.05,
                       handshake_burst=5) as (a,):
        minted = await http(a.port, "POST", "/v1/tickets", {"Authorization": f"Bearer {API_KEY}"})
        ticket = minted.json()["ticket"]
        url = ws_url(a.port)
        redis.stop()
        # closed mode, Redis down: a ticket cannot be checked -> 503 with Retry-After
        refused = await http(a.port, "GET", f"/v1/stream?ticket={ticket}", UPGRADE)
        assert (refused.status, refused.headers.get("retry-after")) == (503, "1")
        exc = await connect_error(ws_url(a.port, f"ticket={ticket}"))
        assert isinstance(exc, TransientConnectFailure) and exc.retry_after == 1
        exc = await connect_error(url, {"Authorization": "Bearer wrong-key-xxxxxxxxxxxx"})
        assert isinstance(exc, AuthError) and exc.status == 401
        exc = await connect_error(url, {"Origin": "https://evil.example"})
        assert isinstance(exc, AuthError) and exc.status == 403
        wrong_path = url.replace("/v1/stream", "/v1/nope")
        exc = await connect_error(wrong_path, {"Authorization": f"Bearer {API_KEY}"})
        assert isinstance(exc, HandshakeRefusedError) and exc.status == 404
        not_upgrade = await http(a.port, "GET", "/v1/stream", {
            "Upgrade": "h2c", "Connection": "Upgrade", "Authorization": f"Bearer {API_KEY}"})
        assert not_upgrade.status == 426  # the library's own answer, documented too
        exc = await connect_error(url)  # the 6th upgrade from this address
        assert isinstance(exc, TransientConnectFailure) and exc.retry_after == 20
        for status in (refused.status, 401, 403, 404, not_upgrade.status, 429):
            assert status in docs


# --- 4. a rate-abused connection gives its slot back at the close handshake --------------------

async def test_rate_abused_connection_frees_its_slot_after_the_close_handshake(
        tmp_path: Path) -> None:
    # close_timeout_s is long: a server that stops reading would hold the slot that long.
    settings = make_settings(tmp_path, rate_per_s=0.1, rate_burst=5, rate_strikes=3,
                             max_connections_per_ip=1, close_timeout_s=120)
    async with running_server(settings) as server, AsyncExitStack() as stack:
        async with open_ws(server.port) as ws:
            for _ in range(300):  # far more than are read before the 1008
                await send(ws, {"type": "ping"})
            frames, code, _ = await until_closed(ws, timeout=30)
        assert code == 1008 and frames.count({"type": "pong"}) == 5
        # the client answered the close and shut its socket: the slot is free at once
        await eventually(lambda: not server.connections, timeout=20)
        assert await admitted(stack, server.port) is not None


# --- 5. deltas taken during a drain ------------------------------------------------------------

async def test_deltas_read_during_a_drain_are_scored_or_refused(tmp_path: Path) -> None:
    async with running_server(make_settings(tmp_path)) as server, \
            open_ws(server.port) as ws, open_ws(server.port) as idle:
        for sock, sid in ((ws, "s1"), (idle, "quiet")):
            await send(sock, {"type": "start", "stream_id": sid, "context": CONTEXT})
            assert (await recv(sock))["type"] == "started"
        stopping = asyncio.create_task(server.shutdown(grace=3.0))
        await eventually(lambda: server.draining)
        # a delta read after SIGTERM is taken and scored, a new stream is refused with a
        # typed code, and done reports what was taken
        await send(ws, {"type": "delta", "stream_id": "s1", "seq": 0, "text": GOOD})
        await send(ws, {"type": "start", "stream_id": "s2", "context": CONTEXT})
        await send(ws, {"type": "end", "stream_id": "s1"})
        frames = await recv_until(ws, "done", "s1")
        assert [f["label"] for f in frames if f["type"] == "verdict"] == ["supported"] * 2
        assert [f for f in frames if f["type"] == "error"] == [{
            "type": "error", "code": "draining", "stream_id": "s2",
            "message": "the server is shutting down and takes no new streams; start it on a "
                       "new connection"}]
        assert frames[-1] == {"type": "done", "stream_id": "s1", "halted": False,
                              "chars": len(GOOD), "windows": 2}
        frames, code, _ = await until_closed(ws)
        assert (frames, code) == ([], 1001)
        # a stream that never ends gets done (nothing taken) when the grace runs out
        frames, code, _ = await until_closed(idle)
        assert frames == [{"type": "done", "stream_id": "quiet", "halted": False, "chars": 0,
                           "windows": 0, "drained": True}]
        assert code == 1001
        await asyncio.wait_for(stopping, 10)


async def test_a_second_stop_signal_ends_the_drain_at_once(tmp_path: Path) -> None:
    """A review: a second SIGINT or SIGTERM during the drain changed nothing, and the process
    waited out the whole grace (60 s here). It ends the drain at once, as uvicorn's second
    Ctrl-C: the open stream gets done, its socket closes 1001, the process exits 0."""
    port = free_port()
    log = tmp_path / "serve.log"
    proc = _serve(port, tmp_path, log)
    try:
        await wait_ready(port)
        async with open_ws(port) as ws:
            await send(ws, {"type": "start", "stream_id": "s", "context": CONTEXT})
            assert (await recv(ws))["type"] == "started"
            await send(ws, {"type": "delta", "stream_id": "s", "seq": 0, "text": "The tower"})
            proc.send_signal(signal.SIGINT)
            await eventually(lambda: '"draining"' in log.read_text(), timeout=10)
            began = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            frames, code, _ = await until_closed(ws, timeout=10)
            assert frames == [{"type": "done", "stream_id": "s", "halted": False, "chars": 9,
                               "windows": 0, "drained": True}]
            assert code == 1001
        assert await asyncio.to_thread(proc.wait, 10) == 0
        assert time.monotonic() - began < 10
        assert "second stop signal: ending the drain now" in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _serve(port: int, tmp_path: Path, log: Path) -> subprocess.Popen[bytes]:
    """``stream-guard serve`` on ``port`` with a grace of 60 s, its log in ``log``."""
    env = {**os.environ, "STREAM_GUARD_PORT": str(port), "STREAM_GUARD_TIER": "lexical",
           "STREAM_GUARD_EMBEDDER": "none", "STREAM_GUARD_API_KEYS": f"{API_KEY}:tenant-a",
           "STREAM_GUARD_DATA_DIR": str(tmp_path / "data"), "STREAM_GUARD_SHUTDOWN_GRACE_S": "60"}
    with log.open("wb") as sink:
        return subprocess.Popen([sys.executable, "-m", "stream_guard", "serve"], env=env,
                                stdout=subprocess.DEVNULL, stderr=sink)


# --- 6. handshake churn ------------------------------------------------------------------------

async def churn(port: int, times: int, ip: str | None = None) -> list[int]:
    """Connect, ping, close ``times`` times; 101 for each upgrade, else the HTTP status."""
    statuses = []
    headers = {"X-Forwarded-For": ip} if ip else None
    for _ in range(times):
        try:
            async with open_ws(port, headers=headers) as ws:
                await send(ws, {"type": "ping"})
                await recv(ws)
            statuses.append(101)
        except InvalidStatus as exc:
            statuses.append(exc.response.status_code)
            assert exc.response.headers["Retry-After"] == "2"
    return statuses


@pytest.mark.parametrize("shared", [False, pytest.param(True, marks=pytest.mark.redis)])
async def test_handshake_churn_is_rate_limited_per_ip(tmp_path: Path, shared: bool,
                                                      request: pytest.FixtureRequest) -> None:
    limits = {"handshake_rate_per_s": 0.5, "handshake_burst": 6,
              "trusted_proxies": "127.0.0.1"}
    if shared:
        limits["redis_url"] = request.getfixturevalue("redis").url
    async with workers(tmp_path, 2 if shared else 1, **limits) as servers:
        first, last = servers[0], servers[-1]
        # 6 cycles pass (across both workers when they share Redis), the 7th gets 429
        assert await churn(first.port, 3, "198.51.100.7") == [101] * 3
        assert await churn(last.port, 4, "198.51.100.7") == [101] * 3 + [429]
        assert sum(rejections(s, "handshake_rate") for s in servers) == 1
        # other addresses are not affected
        assert await churn(first.port, 2, "198.51.100.8") == [101] * 2


async def test_an_address_closed_for_abuse_waits_before_it_reconnects(tmp_path: Path) -> None:
    """Flooding restarted at once on a fresh connection (a fresh message bucket) costs a
    handshake and a whole burst per round; the address is held back instead."""
    settings = make_settings(tmp_path, rate_per_s=0.1, rate_burst=2, rate_strikes=2,
                             abuse_penalty_s=30, handshake_refusal_delay_s=0,
                             trusted_proxies="127.0.0.1")
    abuser = {"X-Forwarded-For": "198.51.100.9"}
    async with running_server(settings) as server:
        async with open_ws(server.port, headers=abuser) as ws:
            for _ in range(10):
                await send(ws, {"type": "ping"})
            _, code, _ = await until_closed(ws)
        assert code == 1008
        refused = await http(server.port, "GET", "/v1/stream",
                             {**UPGRADE, **abuser, "Authorization": f"Bearer {API_KEY}"})
        assert refused.status == 429 and 25 <= int(refused.headers["retry-after"]) <= 30
        assert rejections(server, "penalty") == 1
        async with AsyncExitStack() as stack:  # other addresses are not held back
            assert await admitted(stack, server.port,
                                  headers={"X-Forwarded-For": "198.51.100.10"}) is not None


async def test_one_oversized_message_does_not_lock_its_address_out(tmp_path: Path) -> None:
    """A backend serving many users from one address sent one user's oversized message and
    was refused every connection for the whole penalty (a review). A malformed message is a
    strike: the address is held back at the third within the penalty's time."""
    settings = make_settings(tmp_path, max_frame_bytes=1024, abuse_penalty_s=30,
                             handshake_refusal_delay_s=0, trusted_proxies="127.0.0.1")
    backend = {"X-Forwarded-For": "198.51.100.11"}
    upgrade = {**UPGRADE, **backend, "Authorization": f"Bearer {API_KEY}"}
    async with running_server(settings) as server:
        for strike in (1, 2, 3):
            async with open_ws(server.port, headers=backend) as ws:
                await ws.send("x" * 2000)
                _, code, _ = await until_closed(ws)
            assert code == 1009
            if strike < 3:  # its next connection is served
                async with open_ws(server.port, headers=backend) as ws:
                    await send(ws, {"type": "ping"})
                    assert await recv(ws) == {"type": "pong"}
        refused = await http(server.port, "GET", "/v1/stream", upgrade)
        assert refused.status == 429
        assert rejections(server, "penalty") == 1
        assert server.metrics.penalties.labels("frame_too_large")._value.get() == 1


async def test_an_address_over_its_cap_is_refused_for_that_before_any_server_slot(
        tmp_path: Path) -> None:
    """The server's slot was leased before the address's: an address over its cap held a
    server slot while being refused (other addresses were turned away "server at capacity"
    during its bursts, a review saw), and was itself told the server was full, counted as
    ``capacity``, the documented scale-out alert. The address's cap is checked first now."""
    settings = make_settings(tmp_path, max_connections=2, max_connections_per_ip=1,
                             trusted_proxies="127.0.0.1")
    a, b = {"X-Forwarded-For": "198.51.100.20"}, {"X-Forwarded-For": "198.51.100.21"}
    async with running_server(settings) as server, AsyncExitStack() as stack:
        assert await admitted(stack, server.port, headers=a) is not None
        assert await admitted(stack, server.port, headers=b) is not None
        ws = await stack.enter_async_context(open_ws(server.port, headers=a))
        _, code, reason = await until_closed(ws)
        assert (code, reason) == (1013, "too many connections from this address")
        assert rejections(server, "ip_capacity") == 1 and rejections(server, "capacity") == 0


def test_a_refused_handshake_is_held_up_to_its_retry_after(tmp_path: Path) -> None:
    """The tarpit holds a 429 for handshake_refusal_delay_s, at most the Retry-After it sends
    (whole seconds): it was capped at the unrounded 1 / rate, 0.25 s at the default rate, while
    the docs, the setting and Retry-After all said 1 s."""
    from stream_guard.server.http import refusal_delay

    assert refusal_delay(make_settings(tmp_path)) == 1.0
    assert refusal_delay(make_settings(tmp_path, handshake_refusal_delay_s=5)) == 1.0
    assert refusal_delay(make_settings(tmp_path, handshake_refusal_delay_s=5,
                                       handshake_rate_per_s=0.2)) == 5.0
    assert refusal_delay(make_settings(tmp_path, handshake_refusal_delay_s=0)) == 0.0


async def test_trickled_request_heads_are_bounded_per_address(tmp_path: Path) -> None:
    """A client that opens sockets and trickles a head into each was counted by no limit
    until its heads timed out: a review held 4,556 from one address, the server's memory
    337 MB -> 1 GB. Past 4 x MAX_CONNECTIONS_PER_IP heads begun and not whole, a socket is
    closed as it opens; a whole head still gets its connection once one of them is gone."""
    settings = make_settings(tmp_path, max_connections_per_ip=1, handshake_timeout_s=30.0)
    async with running_server(settings) as server, AsyncExitStack() as stack:
        trickling = []
        for _ in range(4):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /v1/stream HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 1000)
            await writer.drain()
            trickling.append((reader, writer))
        await asyncio.sleep(0.1)
        assert len(server.heads) == 4
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, unanswered
        writer.close()
        assert rejections(server, "heads_in_progress") == 1
        with pytest.raises(InvalidMessage):
            await stack.enter_async_context(open_ws(server.port))  # nor a whole one
        _, first = trickling.pop()
        first.close()
        await first.wait_closed()
        await asyncio.sleep(0.1)
        assert len(server.heads) == 3
        assert await admitted(stack, server.port) is not None
        for _, writer in trickling:
            writer.close()
        await asyncio.sleep(0.1)
        assert len(server.heads) == 0  # a head let go with its socket


async def test_at_the_total_of_heads_the_oldest_trickler_is_closed(tmp_path: Path) -> None:
    """Tricklers on many addresses held every head the server takes, and each new client was
    closed unanswered while they did. At the total the head that has waited longest is closed
    for the newcomer (a whole head takes milliseconds: the oldest are a trickler's)."""
    settings = make_settings(tmp_path, max_connections_per_ip=100, handshake_timeout_s=30.0)
    async with running_server(settings) as server, AsyncExitStack() as stack:
        server.heads.total = 3
        trickling = []
        for _ in range(3):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /v1/stream HTTP/1.1\r\nHost: x\r\n")
            await writer.drain()
            trickling.append((reader, writer))
        await asyncio.sleep(0.1)
        assert await admitted(stack, server.port) is not None  # a whole head: served
        oldest, _ = trickling[0]
        assert await asyncio.wait_for(oldest.read(), 5) == b""  # closed for it
        assert rejections(server, "heads_in_progress") == 1
        for _, writer in trickling:
            writer.close()
