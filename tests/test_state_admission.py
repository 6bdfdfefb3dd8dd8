"""The connection caps and handshake buckets (state/admission.py) against real stores, without
a server: the in-memory store, and a Redis store with no Redis behind it (refused at once)."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from stream_guard.metrics import Metrics
from stream_guard.state.admission import (
    STATE_RECOVERING,
    STATE_UNAVAILABLE,
    ConnectionGate,
    state_refusal,
)
from stream_guard.state.base import StateStore
from stream_guard.state.leases import SlotLeases
from stream_guard.state.memory import MemoryStateStore
from stream_guard.state.redis_store import RedisStateStore
from tests.conftest import make_settings
from tests.redis_server import RedisServer, free_port


def gate(tmp_path: Path, store: StateStore, **settings: object) -> ConnectionGate:
    s = make_settings(tmp_path, **settings)
    return ConnectionGate(s, store, SlotLeases(store, s.lease_ttl_s), Metrics(), "node-1")


def rejected(g: ConnectionGate, reason: str) -> float:
    return float(g.metrics.rejections.labels(reason)._value.get())


async def test_an_address_over_its_cap_is_refused_until_a_slot_is_let_go(tmp_path: Path) -> None:
    g = gate(tmp_path, MemoryStateStore(), max_connections_per_ip=2, max_connections=10)
    assert await g.take_slots("c1", "10.0.0.1") is None
    assert await g.take_slots("c2", "10.0.0.1") is None
    assert await g.take_slots("c3", "10.0.0.1") == "too many connections from this address"
    assert await g.take_slots("c4", "10.0.0.2") is None  # another address
    assert rejected(g, "ip_capacity") == 1
    await g.release_slots("c1")
    assert await g.take_slots("c5", "10.0.0.1") is None


async def test_the_replica_cap_counts_every_address(tmp_path: Path) -> None:
    g = gate(tmp_path, MemoryStateStore(), max_connections_per_ip=5, max_connections=2)
    assert await g.take_slots("c1", "10.0.0.1") is None
    assert await g.take_slots("c2", "10.0.0.2") is None
    assert await g.take_slots("c3", "10.0.0.3") == "server at capacity"
    # the refused address's slot was let go with the refusal: it is not held
    await g.release_slots("c1")
    assert await g.take_slots("c4", "10.0.0.3") is None
    assert rejected(g, "capacity") == 1


async def test_closed_fail_mode_refuses_while_the_store_cannot_answer(tmp_path: Path) -> None:
    store = RedisStateStore.from_url(f"redis://127.0.0.1:{free_port()}/0", retries=0)
    g = gate(tmp_path, store, redis_fail_mode="closed")
    try:
        assert await g.take_slots("c1", "10.0.0.1") == "shared state unavailable; retry later"
        assert rejected(g, "state_unavailable") == 1
        # the breaker, now open, refuses the next at once without asking the store
        assert await g.take_slots("c2", "10.0.0.1") == "shared state unavailable; retry later"
        assert await g.handshake_allowed("10.0.0.1")  # this worker's own bucket decides
    finally:
        await store.close()


@pytest.mark.redis
async def test_closed_fail_mode_tells_counts_recovering_from_an_outage(
        tmp_path: Path, redis: RedisServer) -> None:
    """The counts settling after a wipe are refused as recovering, a store that does not
    answer as unavailable: state_refusal tells them apart, for a connection here as for a
    ticket request (server/http.py), which chose on its own before."""
    assert state_refusal(recovering=False) is STATE_UNAVAILABLE
    assert state_refusal(recovering=True) is STATE_RECOVERING
    store = RedisStateStore.from_url(redis.url)
    admin = Redis.from_url(redis.url)
    g = gate(tmp_path, store, redis_fail_mode="closed", lease_ttl_s=10.0)
    try:
        assert await g.take_slots("c1", "10.0.0.1") is None
        await admin.flushall()  # what a restart without persistence leaves
        assert await g.take_slots("c2", "10.0.0.1") == "shared state recovering; retry later"
        assert (rejected(g, "state_recovering"), rejected(g, "state_unavailable")) == (1, 0)
    finally:
        await admin.aclose()
        await store.close()

async def test_open_fail_mode_counts_against_this_workers_own_caps(tmp_path: Path) -> None:
    store = RedisStateStore.from_url(f"redis://127.0.0.1:{free_port()}/0", retries=0)
    g = gate(tmp_path, store, redis_fail_mode="open", max_connections_per_ip=2)
    try:
        assert await g.take_slots("c1", "10.0.0.1") is None
        assert await g.take_slots("c2", "10.0.0.1") is None
        assert await g.take_slots("c3", "10.0.0.1") == "too many connections from this address"
        await g.release_slots("c2")
        assert await g.take_slots("c4", "10.0.0.1") is None
    finally:
        await store.close()


async def test_open_fail_mode_lets_go_of_an_address_refused_at_the_replica_cap(
        tmp_path: Path) -> None:
    """An address's own slot, taken on this worker while the store was away, was kept when the
    replica's cap refused the connection: 16 such refusals (behind a proxy, every client's)
    locked the address out for a day (a review)."""
    store = RedisStateStore.from_url(f"redis://127.0.0.1:{free_port()}/0", retries=0)
    g = gate(tmp_path, store, redis_fail_mode="open", max_connections_per_ip=3,
             max_connections=2)
    try:
        assert await g.take_slots("c1", "10.0.0.1") is None
        assert await g.take_slots("c2", "10.0.0.1") is None
        for refused in ("c3", "c4", "c5"):
            assert await g.take_slots(refused, "10.0.0.2") == "server at capacity"
        await g.release_slots("c1")
        assert await g.take_slots("c6", "10.0.0.2") is None
    finally:
        await store.close()


async def test_the_handshake_bucket_is_charged_on_this_worker_first(tmp_path: Path) -> None:
    g = gate(tmp_path, MemoryStateStore(), handshake_burst=2, handshake_rate_per_s=0.01)
    assert [await g.handshake_allowed("10.0.0.1") for _ in range(3)] == [True, True, False]
    assert await g.handshake_allowed("10.0.0.2")
