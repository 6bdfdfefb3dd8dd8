"""The shared caps when Redis misbehaves in ways short of stopping: wiped, full, hung; and open
fail mode's per-worker caps. Each over real sockets against a real redis-server of the test's
own, each a regression of a hole a black-box review found (the caps were overshot, or a hung
Redis cost a handshake two timeouts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from redis.asyncio import Redis
from websockets.exceptions import ConnectionClosed

from stream_guard.guard.tickets import new_ticket, ticket_hash
from stream_guard.state.base import StateUnavailable
from stream_guard.state.redis_store import RedisStateStore
from tests.conftest import make_settings, running_server
from tests.redis_server import RedisServer
from tests.test_reliability import UPGRADE, admitted, rejections
from tests.wsclient import API_KEY, http, open_ws, recv, send

pytestmark = pytest.mark.redis


@contextlib.asynccontextmanager
async def admin(redis: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis.url)
    try:
        yield client
    finally:
        await client.aclose()


async def test_a_readiness_probe_does_not_cut_short_the_settle_after_a_wipe(
        tmp_path: Path, redis: RedisServer) -> None:
    """After Redis restarts empty, no new connection is admitted for half a lease TTL (the open
    ones are not counted again yet). The readiness probe used to take its probe lease with a
    1 ms TTL, and the store takes the TTL of whoever first sees the wipe as the settle period:
    a balancer's /readyz right after the wipe ended it at once and the cap was overshot."""
    settings = make_settings(tmp_path, redis_url=redis.url, max_connections_per_ip=2,
                             lease_ttl_s=8.0)
    async with running_server(settings) as server, AsyncExitStack() as stack, \
            admin(redis) as r:
        for _ in range(2):
            assert await admitted(stack, server.port) is not None
        await r.flushall()  # what a restart without persistence leaves
        assert (await http(server.port, "GET", "/readyz")).status == 503  # counts not true
        for _ in range(3):
            assert await admitted(stack, server.port) is None
        assert rejections(server, "state_recovering") == 3
        assert len(server.connections) == 2


async def test_no_ticket_is_minted_or_spent_while_the_counts_settle(
        tmp_path: Path, redis: RedisServer) -> None:
    """A review: for 15 s after a Redis restart, tickets were minted, and spent by upgrades
    that were then closed 1013 as they opened. While the counts settle (closed fail mode) a
    ticket request and an upgrade with a ticket get 503 (retryable) and the ticket is kept.
    The settle period is half a lease TTL from whoever first sees the wipe (a background
    renewal may): 5 s here, as CI once took over 2 s from the wipe to the first probe."""
    settings = make_settings(tmp_path, redis_url=redis.url, lease_ttl_s=10.0)
    bearer = {"Authorization": f"Bearer {API_KEY}"}
    async with running_server(settings) as server, AsyncExitStack() as stack, \
            admin(redis) as r:
        await r.flushall()  # what a restart without persistence leaves
        # A ticket minted before anything has seen the wipe (the window this cannot close),
        # put as the ticket endpoint puts it: a request here found the wipe already seen
        # when a renewal round had run in between (CI, once).
        ticket = new_ticket()
        await server.store.put_ticket(ticket_hash(ticket), server.keys.tenant(API_KEY), 30)
        assert (await http(server.port, "GET", "/readyz")).status == 503
        minted = await http(server.port, "POST", "/v1/tickets", bearer)
        assert minted.status == 503 and minted.headers["retry-after"] == "1"
        assert rejections(server, "state_recovering") == 1  # counted (an operator review)
        upgrade = await http(server.port, "GET", f"/v1/stream?ticket={ticket}", UPGRADE)
        assert upgrade.status == 503 and "not used" in upgrade.json()["message"]
        deadline = time.monotonic() + 15
        while (await http(server.port, "GET", "/readyz")).status != 200:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        assert await admitted(stack, server.port, key=None, query=f"ticket={ticket}") is not None


async def test_tickets_refused_in_an_outage_say_the_store_is_unavailable(
        tmp_path: Path, redis: RedisServer) -> None:
    """With Redis simply down (closed fail mode), once a readiness check has found it so, a
    ticket request and an upgrade with a ticket are refused as the store being unavailable,
    as deployment.md's table of reasons says: a review found them counted
    ``state_recovering`` and told "while the shared state recovers", a wipe's words, while
    ``stream_guard_state_store_up`` read 0."""
    settings = make_settings(tmp_path, redis_url=redis.url)
    bearer = {"Authorization": f"Bearer {API_KEY}"}
    async with running_server(settings) as server:
        ticket = (await http(server.port, "POST", "/v1/tickets", bearer)).json()["ticket"]
        redis.stop()
        assert (await http(server.port, "GET", "/readyz")).status == 503
        minted = await http(server.port, "POST", "/v1/tickets", bearer)
        assert minted.status == 503 and minted.headers["retry-after"] == "1"
        assert "store is unavailable" in minted.json()["message"]
        upgrade = await http(server.port, "GET", f"/v1/stream?ticket={ticket}", UPGRADE)
        assert upgrade.status == 503
        assert upgrade.json()["message"] == ("the shared state store is unavailable; retry "
                                             "(the ticket was not used)")
        assert rejections(server, "state_unavailable") == 2
        assert rejections(server, "state_recovering") == 0
        assert server.metrics.state_up._value.get() == 0


async def test_open_fail_mode_says_it_is_degraded_while_the_counts_settle(
        tmp_path: Path, redis: RedisServer) -> None:
    """Open fail mode admits on each worker's own caps while the counts settle after a wipe,
    as in an outage; /readyz said 200 with no "degraded" then, unlike in an outage (a
    review)."""
    settings = make_settings(tmp_path, redis_url=redis.url, redis_fail_mode="open",
                             lease_ttl_s=8.0)
    async with running_server(settings) as server, AsyncExitStack() as stack, \
            admin(redis) as r:
        assert await admitted(stack, server.port) is not None
        assert "degraded" not in (await http(server.port, "GET", "/readyz")).json()
        await r.flushall()
        ready = await http(server.port, "GET", "/readyz")
        assert ready.status == 200 and ready.json()["degraded"] == ["state"]
        assert await admitted(stack, server.port) is not None  # on this worker's own caps


async def test_a_full_redis_counts_as_unavailable(tmp_path: Path, redis: RedisServer,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """Redis out of memory under 'noeviction' refuses writes, which deployment.md counts as
    unreachable. The acquire script's first write used to be one that frees memory, which Redis
    lets through and then checks nothing more: slots were still taken while renewals were
    refused, so caps stopped holding and /readyz stayed 200. Losing readiness and getting it
    back are logged (an operator review: a replica out of the pool, nothing in its log)."""
    caplog.set_level(logging.INFO, logger="stream_guard")
    settings = make_settings(tmp_path, redis_url=redis.url, max_connections_per_ip=2)
    async with running_server(settings) as server, AsyncExitStack() as stack, \
            admin(redis) as r:
        assert await admitted(stack, server.port) is not None
        store = RedisStateStore.from_url(redis.url)
        await r.config_set("maxmemory-policy", "noeviction")
        await r.config_set("maxmemory", 1)
        try:
            with pytest.raises(StateUnavailable):
                await store.acquire_slot("scope", "holder", 10, 30.0)
            ready = await http(server.port, "GET", "/readyz")
            # closed fail mode: not ready, and the checks say why ("degraded" is open mode's)
            assert ready.status == 503 and ready.json()["checks"]["state"] is False
            assert "degraded" not in ready.json()
            assert await admitted(stack, server.port) is None
            assert rejections(server, "state_unavailable") == 1
        finally:
            await r.config_set("maxmemory", 0)
            await store.close()
        assert await store.acquire_slot("scope", "holder", 10, 30.0)  # writable again
        assert (await http(server.port, "GET", "/readyz")).status == 200
        assert await admitted(stack, server.port) is not None
    lines = [(r.getMessage(), getattr(r, "failing", None)) for r in caplog.records
             if r.getMessage() in ("not ready", "ready again")]
    assert lines == [("not ready", ["state"]), ("ready again", None)]


async def test_a_server_started_with_the_store_away_says_when_it_is_ready(
        tmp_path: Path, redis: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    """A review: started while Redis was down, the server logged "shared state store
    unreachable", and then nothing when Redis came back and /readyz turned 200 (the first
    ready was not logged, only a return to it). It says "ready" then, once."""
    caplog.set_level(logging.INFO, logger="stream_guard")
    redis.stop()
    async with running_server(make_settings(tmp_path, redis_url=redis.url)) as server:
        assert (await http(server.port, "GET", "/readyz")).status == 503
        redis.start()
        deadline = time.monotonic() + 15
        while (await http(server.port, "GET", "/readyz")).status != 200:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        lines = [r.getMessage() for r in caplog.records if r.name == "stream_guard.server"]
    assert "shared state store unreachable" in lines
    readiness = [line for line in lines if line in ("ready", "ready again", "not ready")]
    assert readiness == ["ready"]
    assert lines.index("shared state store unreachable") < lines.index("ready")


async def test_open_fail_mode_counts_connections_admitted_before_the_outage(
        tmp_path: Path, redis: RedisServer) -> None:
    """With Redis gone, open fail mode allows MAX_CONNECTIONS_PER_IP per address on each
    worker. Connections admitted through Redis before the outage count: they used to be
    left out, so a worker already at the cap admitted a whole cap more."""
    settings = make_settings(tmp_path, redis_url=redis.url, redis_fail_mode="open",
                             max_connections_per_ip=2)
    async with running_server(settings) as server, AsyncExitStack() as stack:
        for _ in range(2):
            assert await admitted(stack, server.port) is not None
        redis.stop()
        for _ in range(2):
            assert await admitted(stack, server.port) is None
        assert rejections(server, "ip_capacity") == 2
        assert len(server.connections) == 2


async def test_a_hung_redis_costs_a_handshake_one_timeout(tmp_path: Path,
                                                          redis: RedisServer) -> None:
    """deployment.md: a hung Redis is noticed within its 1 s timeout. A handshake asks the
    store twice (the handshake bucket, then the slot), and used to wait out the timeout on
    each; after one timed-out call the server now skips the store for that long. The bound
    asserted is that contract (one timeout, not two), not a performance figure."""
    settings = make_settings(tmp_path, redis_url=redis.url)
    async with running_server(settings) as server, AsyncExitStack() as stack:
        assert await admitted(stack, server.port) is not None
        redis.pause()
        try:
            began = time.monotonic()
            async with open_ws(server.port) as ws:
                with pytest.raises(ConnectionClosed) as closed:
                    await send(ws, {"type": "ping"})
                    await recv(ws)
            assert time.monotonic() - began < 1.8
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
            assert rejections(server, "state_unavailable") == 1
        finally:
            redis.resume()
        await asyncio.sleep(1.0)  # the skip lapses; Redis answers again
        assert await admitted(stack, server.port) is not None


async def test_an_address_that_answers_no_redis_is_a_store_unavailable(tmp_path: Path) -> None:
    """A Redis URL that reaches another service (a wrong port, a failover address pointing
    elsewhere) made redis-py raise InvalidResponse, which escaped the store as itself: every
    handshake and /readyz was a 500, and the lease keeper died for good. It is the store
    being unavailable, and the fail mode answers it."""
    async def not_redis(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.read(100)
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
        writer.close()

    fake = await asyncio.start_server(not_redis, "127.0.0.1", 0)
    url = f"redis://127.0.0.1:{fake.sockets[0].getsockname()[1]}/0"
    try:
        store = RedisStateStore.from_url(url)
        with pytest.raises(StateUnavailable):
            await store.acquire_slot("scope", "holder", 10, 30.0)
        await store.close()
        async with running_server(make_settings(tmp_path, redis_url=url)) as server:
            ready = await http(server.port, "GET", "/readyz")
            assert ready.status == 503 and ready.json()["checks"]["state"] is False
            upgrade = await http(server.port, "GET", "/v1/stream", {
                "Authorization": f"Bearer {API_KEY}", "Upgrade": "websocket",
                "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
            assert upgrade.status != 500
    finally:
        fake.close()
        await fake.wait_closed()
