"""One suite for both state stores, against a real redis-server for the Redis one.

Redis comes from ``STREAM_GUARD_TEST_REDIS_URL`` (CI starts one) or, failing that, a
redis-server on PATH started here. The fault tests always start their own, because they kill
it. Without Redis the Redis cases skip, except under ``CI`` where they fail: a green CI run
must have exercised Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, NoReturn

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from stream_guard.config import Settings
from stream_guard.state import (
    KillSubscription,
    KillTarget,
    MemoryStateStore,
    SlotLeases,
    SlotsRecovering,
    StateStore,
    StateUnanswered,
    StateUnavailable,
    TokenBucket,
    create_store,
)
from stream_guard.state import leases as leases_module
from stream_guard.state.base import Lease
from stream_guard.state.redis_store import RedisStateStore
from tests.redis_server import RedisServer, redis_server_binary
from tests.wsclient import eventually


def _redis_missing(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so Redis tests must run, not skip")
    pytest.skip(reason)


def _own_server() -> RedisServer:
    binary = redis_server_binary()
    if binary is None:
        _redis_missing("no redis-server on PATH")
    server = RedisServer(binary)
    server.start()
    return server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("STREAM_GUARD_TEST_REDIS_URL")
    if url:
        yield url
        return
    server = _own_server()
    yield server.url
    server.close()


RedisStores = Callable[..., RedisStateStore]


@pytest.fixture
async def redis_stores() -> AsyncIterator[RedisStores]:
    """Makes Redis stores, each under a fresh key prefix unless given one to share; afterwards
    deletes their keys (a shared server stays clean) and closes them."""
    made: list[RedisStateStore] = []

    def make(url: str, prefix: str | None = None) -> RedisStateStore:
        made.append(RedisStateStore.from_url(
            url, prefix=prefix or f"sg-test:{uuid.uuid4().hex}:"))
        return made[-1]

    yield make
    for s in made:
        with contextlib.suppress(RedisError):  # a fault test that failed may leave it down
            async for key in s._r.scan_iter(match=s._prefix + "*"):
                await s._r.delete(key)
        await s.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest,
                redis_stores: RedisStores) -> AsyncIterator[StateStore]:
    if request.param == "redis":
        yield redis_stores(request.getfixturevalue("redis_url"))
        return
    memory = MemoryStateStore()
    yield memory
    await memory.close()


async def _next_kill(subscription: KillSubscription, timeout_s: float = 3.0) -> KillTarget:
    return await asyncio.wait_for(subscription.__anext__(), timeout_s)


# --- tickets -------------------------------------------------------------------------------

async def test_ticket_is_single_use(store: StateStore) -> None:
    await store.put_ticket("h1", "acme", ttl_s=30)
    assert await store.redeem_ticket("h1") == "acme"
    assert await store.redeem_ticket("h1") is None  # a replay is refused
    assert await store.redeem_ticket("never-issued") is None


async def test_ticket_expires(store: StateStore) -> None:
    await store.put_ticket("short", "acme", ttl_s=0.2)
    await store.put_ticket("long", "acme", ttl_s=30)
    await asyncio.sleep(0.3)
    assert await store.redeem_ticket("short") is None
    assert await store.redeem_ticket("long") == "acme"


async def test_concurrent_redeems_have_one_winner(store: StateStore) -> None:
    await store.put_ticket("race", "acme", ttl_s=30)
    results = await asyncio.gather(*(store.redeem_ticket("race") for _ in range(20)))
    assert results.count("acme") == 1 and results.count(None) == 19


# --- connection slots ----------------------------------------------------------------------

async def test_slot_limit_and_release(store: StateStore) -> None:
    assert [await store.acquire_slot("global", h, 3, 30) for h in "abc"] == [True] * 3
    assert not await store.acquire_slot("global", "d", 3, 30)
    assert await store.acquire_slot("global", "a", 3, 30)  # held already: a renewal
    assert await store.acquire_slot("ip:192.0.2.1", "d", 3, 30)  # other scopes are separate
    await store.release_slot("global", "b")
    await store.release_slot("global", "b")  # twice is harmless
    await store.release_slot("global", "nobody")
    assert await store.acquire_slot("global", "d", 3, 30)
    assert not await store.acquire_slot("global", "e", 3, 30)


async def test_a_dead_workers_slots_are_given_back_by_their_prefix(store: StateStore) -> None:
    """A worker restarted after a crash gives back what its predecessor held (their holders
    share the prefix ``NODE/wINDEX/``), in every scope, instead of leaving the caps taken for
    a lease TTL; another worker's and another replica's stay."""
    for holder in ("n1/w0/a", "n1/w0/b", "n1/w1/c", "n2/w0/d"):
        assert await store.acquire_slot("node:n1", holder, 10, 30)
    assert await store.acquire_slot("ip:192.0.2.1", "n1/w0/a", 10, 30)
    assert await store.acquire_slot("ip:192.0.2.2", "n1/w1/c", 10, 30)
    assert await store.acquire_slot("ip:192.0.2.3", "n1/w0/b", 10, 30)
    assert await store.release_holders("n1/w0/") == 4
    assert await store.release_holders("n1/w0/") == 0  # nothing left to give
    assert [await store.acquire_slot("node:n1", h, 4, 30) for h in ("x", "y", "z")] == [
        True, True, False]  # n1/w1/c and n2/w0/d kept theirs: 4 taken
    assert await store.acquire_slot("ip:192.0.2.1", "other", 1, 30)  # given back there
    assert not await store.acquire_slot("ip:192.0.2.2", "other", 1, 30)  # n1/w1/c's, kept


async def test_release_holders_reads_a_prefix_literally(store: StateStore) -> None:
    """Holders and scopes are matched as text: a store prefix or holder with glob characters
    (``*``, ``[``) gives back only its own."""
    assert await store.acquire_slot("node:[a]", "n*/w0/a", 10, 30)
    assert await store.acquire_slot("node:[a]", "nx/w0/b", 10, 30)
    assert await store.release_holders("n*/") == 1
    assert not await store.acquire_slot("node:[a]", "other", 1, 30)  # nx/w0/b's, kept


@pytest.mark.redis
async def test_release_holders_keeps_to_its_own_key_prefix(redis_url: str,
                                                          redis_stores: RedisStores) -> None:
    """The scopes are found by a SCAN pattern: a deployment whose key prefix has glob
    characters (``sg[1]:`` would match ``sg1:``) leaves another deployment's slots alone."""
    tag = uuid.uuid4().hex
    ours, theirs = redis_stores(redis_url, f"t{tag}[1]:"), redis_stores(redis_url, f"t{tag}1:")
    for store in (ours, theirs):
        assert await store.acquire_slot("node:n1", "n1/w0/a", 1, 30)
    assert await ours.release_holders("n1/w0/") == 1
    assert not await theirs.acquire_slot("node:n1", "other", 1, 30)  # still held there


async def test_slot_of_a_crashed_holder_expires(store: StateStore) -> None:
    assert await store.acquire_slot("global", "crashed", 1, ttl_s=0.2)
    assert not await store.acquire_slot("global", "next", 1, ttl_s=0.2)
    await asyncio.sleep(0.3)  # "crashed" never renews
    assert await store.acquire_slot("global", "next", 1, ttl_s=0.2)


async def test_renewal_keeps_a_slot_past_its_ttl(store: StateStore) -> None:
    leases = [("global", "alive"), ("ip:192.0.2.1", "alive")]
    for scope, holder in leases:
        assert await store.acquire_slot(scope, holder, 1, ttl_s=0.3)
    for _ in range(6):  # 0.6 s, twice the TTL
        await asyncio.sleep(0.1)
        assert await store.renew_slots(leases, ttl_s=0.3) == []
        assert not await store.acquire_slot("global", "other", 1, ttl_s=0.3)
    await asyncio.sleep(0.4)  # renewals stop: the lease lapses and its slot is free
    assert await store.acquire_slot("global", "other", 1, ttl_s=0.3)
    await store.release_slot("global", "other")
    # a late renewal reports the lapse and takes the slots again (the connection is alive)
    assert await store.renew_slots(leases, ttl_s=0.3) == leases
    assert not await store.acquire_slot("global", "other", 1, ttl_s=0.3)
    assert await store.renew_slots([], ttl_s=0.3) == []


async def test_slot_leases_stay_alive_until_released(store: StateStore) -> None:
    leases = SlotLeases(store, ttl_s=0.3)
    assert await leases.acquire("global", "c1", 1)
    assert not await leases.acquire("global", "c2", 1)
    renewing = asyncio.create_task(leases.run())
    await asyncio.sleep(0.7)  # past two TTLs
    assert not await store.acquire_slot("global", "c2", 1, 0.3)
    await leases.release("global", "c1")
    assert len(leases) == 0
    assert await store.acquire_slot("global", "c2", 1, 0.3)
    leases.stop()
    await asyncio.wait_for(renewing, 1.0)


async def test_slot_leases_retake_lost_slots_even_past_the_limit(store: StateStore) -> None:
    leases = SlotLeases(store, ttl_s=30)
    assert await leases.acquire("global", "c1", 2)
    assert await leases.acquire("ip:192.0.2.1", "c1", 1)
    # The store forgets both (a Redis restarted empty); someone else fills the ip scope.
    await store.release_slot("global", "c1")
    await store.release_slot("ip:192.0.2.1", "c1")
    assert await store.acquire_slot("ip:192.0.2.1", "other", 1, 30)
    await leases.renew()
    # c1's connection is still open: it is counted again, past the limit, so the over-full
    # scope admits no one until the count is true again.
    assert len(leases) == 2
    assert not await store.acquire_slot("ip:192.0.2.1", "c2", 1, 30)
    await store.release_slot("ip:192.0.2.1", "other")
    assert not await store.acquire_slot("ip:192.0.2.1", "c2", 1, 30)  # c1 still holds it
    await leases.release("ip:192.0.2.1", "c1")
    assert await store.acquire_slot("ip:192.0.2.1", "c2", 1, 30)
    assert await store.acquire_slot("global", "c2", 2, 30)
    assert not await store.acquire_slot("global", "c3", 2, 30)  # c1 was taken again

    leases.track("global", "admitted-while-down", 3)  # fail-open admission
    await leases.renew()
    assert not await store.acquire_slot("global", "c4", 3, 30)


# --- token buckets -------------------------------------------------------------------------

def test_token_bucket_arithmetic() -> None:
    # Rate 8/s and times in eighths keep the float arithmetic exact.
    bucket = TokenBucket.full(rate_per_s=8, burst=5, now=100.0)
    assert [bucket.take(100.0) for _ in range(6)] == [True] * 5 + [False]
    assert bucket.take(100.125)  # 1/8 s at 8/s is one token
    assert not bucket.take(100.125)
    assert not bucket.take(99.0)  # a clock that went backwards credits nothing
    assert bucket.full_at() == 100.75
    assert bucket.take(200.0, cost=5)  # refill stops at the burst
    assert not bucket.take(200.0)
    assert not TokenBucket.full(10, 5, 0.0).take(0.0, cost=6)  # more than a burst: never
    with pytest.raises(ValueError):
        TokenBucket.full(0, 5, 0.0)


async def test_bucket_burst_then_refill(store: StateStore) -> None:
    # A slow refill (2 tokens/s), so a busy machine's pauses between calls refill nothing.
    burst = [await store.take("conn:1", rate_per_s=2, burst=5) for _ in range(5)]
    assert burst == [True] * 5
    drained = time.monotonic()
    assert not await store.take("conn:1", rate_per_s=2, burst=5)
    assert await store.take("conn:2", rate_per_s=2, burst=5)  # keys are separate
    await asyncio.sleep(0.75)  # at least 1.5 tokens
    refilled = [await store.take("conn:1", rate_per_s=2, burst=5) for _ in range(5)]
    elapsed = time.monotonic() - drained
    assert refilled[0]
    # No more than the elapsed time paid for (plus the fraction left when it was drained).
    assert 1 <= sum(refilled) <= 1 + elapsed * 2


async def test_bucket_cost(store: StateStore) -> None:
    assert not await store.take("k", rate_per_s=1, burst=5, cost=6)  # can never be paid
    assert await store.take("k", rate_per_s=1, burst=5, cost=3)
    assert not await store.take("k", rate_per_s=1, burst=5, cost=3)  # refused: spends nothing
    assert await store.take("k", rate_per_s=1, burst=5, cost=2)
    with pytest.raises(ValueError):
        await store.take("k", rate_per_s=0, burst=5)


# --- kill switch ---------------------------------------------------------------------------

def test_kill_target() -> None:
    tenant_kill = KillTarget(tenant="acme")
    assert tenant_kill.matches("acme", "s1") and not tenant_kill.matches("other", "s1")
    one = KillTarget(tenant="acme", stream_id="s1")
    assert one.matches("acme", "s1") and not one.matches("acme", "s2")
    assert not one.matches("other", "s1")
    assert KillTarget(stream_id="s1").matches("anyone", "s1")
    assert KillTarget.from_json(one.to_json()) == one
    with pytest.raises(ValueError):
        KillTarget()
    for bad in (b"nope", b"[1]", b'{"tenant": 5}', b"{}"):
        with pytest.raises(ValueError):
            KillTarget.from_json(bad)


async def test_kills_reach_every_subscriber_in_order(store: StateStore) -> None:
    await store.publish_kill(KillTarget(tenant="before"))  # before subscribing: not delivered
    first = await store.subscribe_kills()
    second = await store.subscribe_kills()
    kills = [KillTarget(tenant="acme"), KillTarget(tenant="acme", stream_id="s9")]
    for kill in kills:
        await store.publish_kill(kill)
    for subscription in (first, second):
        assert [await _next_kill(subscription) for _ in kills] == kills
    async with second:
        pass
    assert [k async for k in second] == []  # closed: iteration ends
    await store.publish_kill(KillTarget(stream_id="s10"))
    assert await _next_kill(first) == KillTarget(stream_id="s10")
    await store.close()  # ends the remaining subscriptions
    assert [k async for k in first] == []


@pytest.mark.redis
async def test_kills_over_resp3(redis_url: str, redis_stores: RedisStores) -> None:
    """The one reply whose shape depends on the protocol a deployment's URL may choose."""
    store = redis_stores(redis_url + ("&" if "?" in redis_url else "?") + "protocol=3")
    subscription = await store.subscribe_kills()
    await store.publish_kill(KillTarget(tenant="acme"))
    assert await _next_kill(subscription) == KillTarget(tenant="acme")


async def test_ping(store: StateStore) -> None:
    assert await store.ping()


# --- Redis only: several workers, outages --------------------------------------------------

@pytest.mark.redis
async def test_two_stores_on_one_redis_share_state(redis_url: str,
                                                   redis_stores: RedisStores) -> None:
    a = redis_stores(redis_url)
    b = redis_stores(redis_url, prefix=a._prefix)  # a second worker of the same deployment
    await a.put_ticket("t", "acme", ttl_s=30)
    assert await b.redeem_ticket("t") == "acme"
    assert await a.redeem_ticket("t") is None

    await a.put_ticket("race", "acme", ttl_s=30)
    results = await asyncio.gather(*(s.redeem_ticket("race") for s in [a, b] * 10))
    assert results.count("acme") == 1 and results.count(None) == 19

    assert await a.acquire_slot("global", "w1-c1", 2, 30)
    assert await b.acquire_slot("global", "w2-c1", 2, 30)
    assert not await a.acquire_slot("global", "w1-c2", 2, 30)
    await b.release_slot("global", "w2-c1")
    assert await a.acquire_slot("global", "w1-c2", 2, 30)

    assert await a.take("tenant:acme", rate_per_s=0.1, burst=1)
    assert not await b.take("tenant:acme", rate_per_s=0.1, burst=1)

    subscription = await b.subscribe_kills()
    await a.publish_kill(KillTarget(tenant="acme"))
    assert await _next_kill(subscription) == KillTarget(tenant="acme")


@pytest.mark.redis
async def test_create_store_follows_settings(redis_url: str) -> None:
    memory = create_store(Settings())
    assert isinstance(memory, MemoryStateStore)
    await memory.close()
    shared = create_store(Settings().replace(redis_url=redis_url))
    assert isinstance(shared, RedisStateStore)
    assert await shared.ping()
    await shared.close()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = _own_server()
    yield server
    server.close()


@pytest.mark.redis
async def test_lost_redis_fails_fast_and_recovers(own_redis: RedisServer,
                                                  redis_stores: RedisStores,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    store = redis_stores(own_redis.url)
    await store.put_ticket("t", "acme", ttl_s=30)
    assert await store.acquire_slot("global", "c1", 5, 30)
    own_redis.stop()

    calls: list[Callable[[], Awaitable[Any]]] = [
        lambda: store.put_ticket("t2", "acme", 30),
        lambda: store.redeem_ticket("t"),
        lambda: store.acquire_slot("global", "c2", 5, 30),
        lambda: store.renew_slots([("global", "c1")], 30),
        lambda: store.release_slot("global", "c1"),
        lambda: store.take("k", 1, 1),
        lambda: store.publish_kill(KillTarget(tenant="acme")),
    ]
    for call in calls:
        started = time.monotonic()
        with pytest.raises(StateUnavailable):
            await call()
        assert time.monotonic() - started < 2.0
    started = time.monotonic()
    assert not await store.ping()
    assert time.monotonic() - started < 2.0

    leases = SlotLeases(store, ttl_s=2.0)
    await leases.renew()  # an outage is logged, not raised
    await leases.release("global", "c1")
    leases.track("cap", "c9", 1)
    with caplog.at_level(logging.INFO, logger="stream_guard"):
        for _ in range(3):  # a round a second, for the outage: logged once (a review: 28
            await leases.renew()  # lines in 15 s buried the one that said the store was away)
        own_redis.start()  # same port, empty: nothing was persisted
        assert await store.ping()
        await leases.renew()  # takes the slot of the connection admitted during the outage
    said = [r.getMessage() for r in caplog.records]
    assert len([m for m in said if m.startswith("could not renew 1 slot lease(s)")]) == 1
    assert "slot leases renewed again: the store is back" in said
    # The store knows it was wiped: for one renewal period (half the TTL) no new holder is
    # admitted, because other workers may not have taken their lost leases again yet.
    with pytest.raises(SlotsRecovering):
        await store.acquire_slot("global", "c2", 5, 2.0)
    assert await store.redeem_ticket("t") is None
    await store.put_ticket("t3", "acme", ttl_s=30)
    assert await store.redeem_ticket("t3") == "acme"
    await asyncio.sleep(1.1)  # the settle period is over
    assert not await store.acquire_slot("cap", "c10", 1, 30)  # c9 counted: the scope is full
    assert await store.acquire_slot("global", "c2", 5, 30)


@pytest.mark.redis
async def test_redis_that_refuses_writes_is_unavailable(
        own_redis: RedisServer, redis_stores: RedisStores,
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Redis that answers PING but refuses every write (memory full under noeviction; the
    same for a failed snapshot or an ACL) serves no handshake: it must read as unavailable, so
    the fail mode, readiness and the state metrics apply, and it is logged."""
    from redis.asyncio import Redis

    from stream_guard.state import redis_store

    monkeypatch.setattr(redis_store, "_last_refusal_log", {})  # logged by an earlier test

    store = redis_stores(own_redis.url)
    assert await store.ping()
    admin = Redis.from_url(own_redis.url)
    await admin.config_set("maxmemory-policy", "noeviction")
    await admin.config_set("maxmemory", "1")
    try:
        assert not await store.ping()
        for call in (lambda: store.put_ticket("t", "acme", 30),
                     lambda: store.acquire_slot("global", "c1", 5, 30),
                     lambda: store.take("k", 1, 1),
                     lambda: store.publish_kill(KillTarget(tenant="acme"))):
            with pytest.raises(StateUnavailable, match="maxmemory"):
                await call()
        assert any("refuses" in r.getMessage() for r in caplog.records)
    finally:
        await admin.config_set("maxmemory", "0")
        await admin.aclose()
    assert await store.ping()
    await store.put_ticket("t", "acme", 30)
    assert await store.redeem_ticket("t") == "acme"


@pytest.mark.redis
async def test_hung_redis_times_out_quickly(own_redis: RedisServer,
                                            redis_stores: RedisStores) -> None:
    store = redis_stores(own_redis.url)
    assert await store.acquire_slot("global", "c1", 5, 30)
    own_redis.pause()
    try:
        started = time.monotonic()
        with pytest.raises(StateUnavailable):
            await store.acquire_slot("global", "c2", 5, 30)
        assert time.monotonic() - started < 2.0  # one socket timeout (1 s), no retries
    finally:
        own_redis.resume()
    assert await store.acquire_slot("global", "c2", 5, 30)


@pytest.mark.redis
async def test_a_slot_acquired_after_its_caller_gave_up_is_given_back(
        own_redis: RedisServer, redis_stores: RedisStores) -> None:
    """A stalled Redis (a slow command, a fork, DEBUG SLEEP) runs what it had read once it
    wakes: a handshake whose acquire timed out was refused, and its slot was taken all the
    same, by no connection, until the lease lapsed (a review: after three 1.3 s stalls, 7
    slots of an address with no connection open, for 29 s; with a cap of 4, "too many
    connections from this address" for all that time). The caller gives it back at the
    first round that reaches the store."""
    await _a_slot_taken_late_is_given_back(own_redis, redis_stores, "ip:192.0.2.7", ttl_s=30,
                                           stall_s=0.0)


@pytest.mark.redis
async def test_a_slot_acquired_late_is_given_back_after_a_stall_past_the_lease_ttl(
        own_redis: RedisServer, redis_stores: RedisStores) -> None:
    """A second review: Redis runs a late acquire with its own clock, so the slot's lease ends
    a TTL after Redis wakes, not a TTL after the caller gave up. A stall past the TTL made
    the caller drop the slot as lapsed at its first round, unreleased, while Redis held it for
    another TTL (a cap of 1: the address refused for all that time)."""
    # the stall outlasts the TTL from when the caller gave up
    await _a_slot_taken_late_is_given_back(own_redis, redis_stores, "ip:192.0.2.8", ttl_s=2,
                                           stall_s=2.5)


async def _a_slot_taken_late_is_given_back(own_redis: RedisServer, redis_stores: RedisStores,
                                           key: str, *, ttl_s: float, stall_s: float) -> None:
    """An acquire refused while Redis is paused (its slot taken when Redis wakes), the pause
    lasting ``stall_s`` after the refusal: the slot is held until the keeper's next round
    gives it back."""
    store = redis_stores(own_redis.url)
    leases = SlotLeases(store, ttl_s=ttl_s)
    assert await leases.acquire(key, "earlier", 2)  # connected, scripts loaded
    await leases.release(key, "earlier")
    own_redis.pause()
    try:
        with pytest.raises(StateUnavailable):
            await leases.acquire(key, "refused", 1)
        await asyncio.sleep(stall_s)
    finally:
        own_redis.resume()
    other = redis_stores(own_redis.url, store._prefix)  # another worker's view of the cap
    assert not await other.acquire_slot(key, "next", 1, ttl_s)  # taken late: held
    await leases.renew()  # the keeper's next round
    assert await other.acquire_slot(key, "next", 1, ttl_s)
    assert leases._synced and not leases._unreleased


class _TimingOut(MemoryStateStore):
    """A store whose slot commands time out until ``answering``; the releases it took."""

    def __init__(self) -> None:
        super().__init__()
        self.answering = False
        self.released: list[Lease] = []

    async def acquire_slot(self, scope: str, holder: str, limit: int, ttl_s: float) -> bool:
        if not self.answering:
            raise StateUnanswered("timed out")
        return await super().acquire_slot(scope, holder, limit, ttl_s)

    async def renew_slots(self, leases: Any, ttl_s: float) -> list[Lease]:
        if not self.answering:
            raise StateUnanswered("timed out")
        return await super().renew_slots(leases, ttl_s)

    async def release_slot(self, scope: str, holder: str) -> None:
        self.released.append((scope, holder))
        await super().release_slot(scope, holder)


async def test_slots_kept_for_unanswered_acquires_are_bounded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A third review: every handshake refused during an outage of timeouts kept its slot to
    give back for as long as the outage lasted, and the first round after it gave them all back,
    one round trip each, while admissions waited (20,000 kept: a round of 2 s). Past the bound
    none is kept (a fourth review: kept as missed releases, those past it still grew the kept
    ones by every handshake, and the round after the outage gave back all of its last TTL)."""
    monkeypatch.setattr(leases_module, "_UNANSWERED_KEPT_MAX", 3)
    store = _TimingOut()
    leases = SlotLeases(store, ttl_s=30)
    for i in range(8):
        with pytest.raises(StateUnavailable):
            await leases.acquire("ip:192.0.2.9", f"c{i}", 10)
    lapses = list(leases._unreleased.values())
    assert len(lapses) == 3 and all(map(math.isinf, lapses))
    store.answering = True
    await leases.renew()
    assert sorted(store.released) == [("ip:192.0.2.9", f"c{i}") for i in range(3)]
    assert not leases._unreleased and leases._synced


@pytest.mark.redis
async def test_kill_subscription_survives_a_redis_restart(own_redis: RedisServer,
                                                          redis_stores: RedisStores) -> None:
    subscriber = redis_stores(own_redis.url)
    publisher = redis_stores(own_redis.url, prefix=subscriber._prefix)
    subscription = await subscriber.subscribe_kills()
    own_redis.stop()
    await asyncio.sleep(0.3)  # the subscription notices and starts retrying
    own_redis.start()
    await publisher.publish_kill(KillTarget(tenant="after-restart"))
    assert await _next_kill(subscription, 5.0) == KillTarget(tenant="after-restart")


@pytest.mark.redis
async def test_kills_published_while_a_subscriber_reconnects_are_not_lost(
        own_redis: RedisServer, redis_stores: RedisStores) -> None:
    subscriber = redis_stores(own_redis.url)
    publisher = redis_stores(own_redis.url, prefix=subscriber._prefix)
    subscription = await subscriber.subscribe_kills()
    await publisher.publish_kill(KillTarget(stream_id="k1"))
    assert await _next_kill(subscription) == KillTarget(stream_id="k1")
    # Cut every other client's connection (the subscriber's blocked read among them) and
    # publish before it can have reconnected: with plain pub/sub this kill would be lost.
    await publisher._r.client_kill_filter(_type="normal", skipme=True)
    await publisher.publish_kill(KillTarget(stream_id="k2"))
    assert await _next_kill(subscription) == KillTarget(stream_id="k2")


@pytest.mark.redis
async def test_a_subscription_asked_for_while_redis_is_away_gets_the_kills_after_it(
        own_redis: RedisServer, redis_stores: RedisStores) -> None:
    """A worker started while Redis was away retried its subscription once a second, and a
    subscription starts after the newest kill: a kill published in the second after Redis came
    back was lost. A subscription asked for while Redis is away starts from that moment."""
    subscriber = redis_stores(own_redis.url)
    publisher = redis_stores(own_redis.url, prefix=subscriber._prefix)
    own_redis.stop()
    subscription = await subscriber.subscribe_kills()
    own_redis.start()
    await publisher.publish_kill(KillTarget(tenant="right-after"))
    assert await _next_kill(subscription, 5.0) == KillTarget(tenant="right-after")


class _Outage:
    """A store that is away while ``down`` (as Redis unreachable or refusing writes)."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.down = False

    async def acquire_slot(self, scope: str, holder: str, limit: int, ttl_s: float) -> bool:
        if self.down:
            raise StateUnavailable("down")
        return await self.store.acquire_slot(scope, holder, limit, ttl_s)

    async def renew_slots(self, leases: list[tuple[str, str]], ttl_s: float
                          ) -> list[tuple[str, str]]:
        if self.down:
            raise StateUnavailable("down")
        return await self.store.renew_slots(leases, ttl_s)

    async def release_slot(self, scope: str, holder: str) -> None:
        if self.down:
            raise StateUnavailable("down")
        await self.store.release_slot(scope, holder)


async def test_after_an_outage_the_first_admission_counts_this_workers_leases_first() -> None:
    """Connections admitted while the store was away (open fail mode), or leases that lapsed
    in an outage longer than their TTL, were counted again only at the next renewal round (up
    to ttl/3 later): an address at its cap was admitted past it as soon as the store was back
    (a review saw 12 open against a cap of 4). Now the next admission renews first."""
    memory = MemoryStateStore()
    outage = _Outage(memory)
    leases = SlotLeases(outage, ttl_s=30)  # type: ignore[arg-type]
    assert await leases.acquire("ip:a", "c1", 2)
    outage.down = True
    with pytest.raises(StateUnavailable):
        await leases.acquire("ip:a", "c2", 2)
    leases.track("ip:a", "c2", 2)  # admitted anyway: open fail mode
    await memory.release_slot("ip:a", "c1")  # and c1's lease lapsed meanwhile
    outage.down = False
    assert not await leases.acquire("ip:a", "c3", 2)  # c1 and c2 hold the cap again
    assert sorted(h for (_, h) in leases._limits) == ["c1", "c2"]


async def test_a_release_the_store_missed_is_made_at_the_first_round_it_answers() -> None:
    """Connections that closed while the store was away kept their slots until their leases
    lapsed: the replica refused every newcomer "at capacity" for 27 s after Redis was back,
    with no connection open (a review). The release is kept and made at the next round (the
    next admission's included), but not once the lease would have lapsed anyway."""
    memory = MemoryStateStore()
    outage = _Outage(memory)
    failed: list[str] = []
    leases = SlotLeases(outage, ttl_s=30, failed=failed.append)  # type: ignore[arg-type]
    assert await leases.acquire("node:n", "c1", 1)
    outage.down = True
    await leases.release("node:n", "c1")  # the store did not hear it
    assert failed == ["release_slot"]  # counted (stream_guard_state_failures_total)
    assert not await memory.acquire_slot("node:n", "other", 1, 30)  # still held there
    outage.down = False
    assert await leases.acquire("node:n", "c2", 1)  # the round before it let c1's go
    assert leases._synced and not leases._unreleased
    outage.down = True
    await leases.renew()
    assert failed == ["release_slot", "renew_slots"]
    outage.down = False

    await leases.release("node:n", "c2")
    lapsed = SlotLeases(outage, ttl_s=0.05)  # type: ignore[arg-type]
    assert await lapsed.acquire("node:n", "c3", 1)
    outage.down = True
    await lapsed.release("node:n", "c3")
    outage.down = False
    await asyncio.sleep(0.1)
    calls: list[tuple[str, str]] = []
    release_slot = outage.release_slot

    async def counted(scope: str, holder: str) -> None:
        calls.append((scope, holder))
        await release_slot(scope, holder)

    outage.release_slot = counted  # type: ignore[method-assign]
    await lapsed.renew()
    assert calls == [] and not lapsed._unreleased and lapsed._synced


async def test_renewal_rounds_come_every_second_until_one_succeeds() -> None:
    """After a failed round the keeper retries within a second, not ttl/3, so the counts are
    true again soon after the store is back, on workers with no admissions too; and a keeper
    that raised anything else went on (one unexpected error stopped it for good)."""
    memory = MemoryStateStore()
    outage = _Outage(memory)
    leases = SlotLeases(outage, ttl_s=30)  # type: ignore[arg-type]
    assert await leases.acquire("global", "c1", 1)
    outage.down = True
    await leases.renew()
    await memory.release_slot("global", "c1")  # lapsed during the outage
    outage.down = False
    keeper = asyncio.create_task(leases.run())
    try:
        await asyncio.sleep(1.3)
        assert not await memory.acquire_slot("global", "other", 1, 30)  # c1 counted again
    finally:
        leases.stop()
        await asyncio.wait_for(keeper, 2)

    calls = 0

    async def broken(leases_: list[tuple[str, str]], ttl_s: float) -> list[tuple[str, str]]:
        nonlocal calls
        calls += 1
        raise RuntimeError("not a Redis reply")

    flaky = SlotLeases(outage, ttl_s=0.3)  # type: ignore[arg-type]
    outage.renew_slots = broken  # type: ignore[method-assign]
    keeper = asyncio.create_task(flaky.run())
    await asyncio.sleep(0.5)
    flaky.stop()
    await asyncio.wait_for(keeper, 1)
    assert calls >= 3


def _counting_outage() -> tuple[MemoryStateStore, _Outage, list[int]]:
    """A store that can be taken away, counting its renewal rounds (``rounds[0]``)."""
    memory = MemoryStateStore()
    outage = _Outage(memory)
    rounds = [0]
    renew_slots = outage.renew_slots

    async def counted(leases_: list[tuple[str, str]], ttl_s: float) -> list[tuple[str, str]]:
        rounds[0] += 1
        return await renew_slots(leases_, ttl_s)

    outage.renew_slots = counted  # type: ignore[method-assign]
    return memory, outage, rounds


async def test_a_connection_admitted_during_an_outage_is_counted_within_a_second() -> None:
    """deployment.md: connections admitted while the store was away (open fail mode) are in
    the shared caps within about a second of its return. The keeper slept out its ttl/3 (20 s
    here) first: track() marked the leases out of sync without waking it, so other workers
    admitted past the cap meanwhile."""
    memory, outage, rounds = _counting_outage()
    leases = SlotLeases(outage, ttl_s=60)  # type: ignore[arg-type]
    await leases.renew()  # as a server does before it starts the keeper
    keeper = asyncio.create_task(leases.run())
    await asyncio.sleep(0)  # the keeper starts its wait, in sync
    try:
        outage.down = True
        leases.track("ip:a", "c1", 1)
        await eventually(lambda: rounds[0] >= 2, timeout=3)  # woken: a round, failed
        outage.down = False
        await eventually(lambda: "c1" in memory._slots.get("ip:a", {}), timeout=3)
    finally:
        leases.stop()
        await asyncio.wait_for(keeper, 2)


async def test_admissions_that_come_together_after_an_outage_share_one_renewal() -> None:
    """Every admission out of sync ran a whole renewal round of its own (a review: 50 at once
    after the store came back), and every handshake one more, logged, during an outage."""
    _, outage, rounds = _counting_outage()
    leases = SlotLeases(outage, ttl_s=30)  # type: ignore[arg-type]
    leases.track("global", "admitted-while-down", 100)
    admitted = await asyncio.gather(*(leases.acquire("global", f"c{n}", 100) for n in range(50)))
    assert all(admitted) and rounds[0] == 1
    outage.down = True
    for n in range(20):  # an outage: admissions fail without a round each
        with pytest.raises(StateUnavailable):
            leases.track("global", f"d{n}", 100)
            await leases.acquire("global", f"e{n}", 100)
    assert rounds[0] <= 2


@pytest.mark.redis
async def test_a_store_that_refuses_our_password_says_why(own_redis: RedisServer,
                                                          redis_stores: RedisStores) -> None:
    """An operator review: with a wrong Redis password the start-up line said only "shared
    state store unreachable". ``check`` raises with Redis's own reason (``ping`` stays a
    bool for health checks)."""
    store = redis_stores(own_redis.url)
    await store.check()
    admin = Redis.from_url(own_redis.url)
    try:
        await admin.config_set("requirepass", "s3cret-pass")
        denied = redis_stores(own_redis.url)
        with pytest.raises(StateUnavailable, match=r"(?i)auth"):
            await denied.check()
        assert not await denied.ping()
    finally:
        await admin.execute_command("AUTH", "s3cret-pass")
        await admin.config_set("requirepass", "")
        await admin.aclose()
