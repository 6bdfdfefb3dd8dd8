"""The embedded store: plain dicts in one process.

Every method runs to completion without awaiting, so on one event loop each operation is atomic
without locks. Nothing is shared with other processes, which is why ``workers > 1`` requires
Redis (see ``Settings``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from stream_guard.guard.bucket import TokenBucket
from stream_guard.state.base import KillSubscription, KillTarget, Lease, StateStore


class _MemoryKillSubscription(KillSubscription):
    def __init__(self, subscribers: set[_MemoryKillSubscription]) -> None:
        super().__init__()
        self._subscribers = subscribers
        subscribers.add(self)

    async def _stop(self) -> None:
        self._subscribers.discard(self)


class MemoryStateStore(StateStore):
    """Single-process state; expired entries are forgotten lazily.

    Lookups check expiry themselves, and a sweep at most every ``sweep_interval_s`` drops
    expired tickets, empty slot scopes and full buckets, so memory stays bounded by live state
    rather than by everything ever seen.
    """

    def __init__(self, *, sweep_interval_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sweep_interval_s = sweep_interval_s
        self._next_sweep = clock() + sweep_interval_s
        self._tickets: dict[str, tuple[str, float]] = {}
        self._slots: dict[str, dict[str, float]] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._subscribers: set[_MemoryKillSubscription] = set()

    def _now(self) -> float:
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
            self._next_sweep = now + self._sweep_interval_s
        return now

    def _sweep(self, now: float) -> None:
        self._tickets = {h: t for h, t in self._tickets.items() if t[1] > now}
        for scope in list(self._slots):
            live = {h: exp for h, exp in self._slots[scope].items() if exp > now}
            if live:
                self._slots[scope] = live
            else:
                del self._slots[scope]
        self._buckets = {k: b for k, b in self._buckets.items() if b.full_at() > now}

    async def put_ticket(self, ticket_hash: str, tenant: str, ttl_s: float) -> None:
        self._tickets[ticket_hash] = (tenant, self._now() + ttl_s)

    async def redeem_ticket(self, ticket_hash: str) -> str | None:
        now = self._now()
        entry = self._tickets.pop(ticket_hash, None)
        if entry is None or entry[1] <= now:
            return None
        return entry[0]

    def _live_holders(self, scope: str, now: float) -> dict[str, float]:
        holders = self._slots.setdefault(scope, {})
        for holder in [h for h, exp in holders.items() if exp <= now]:
            del holders[holder]
        return holders

    async def acquire_slot(self, scope: str, holder: str, limit: int, ttl_s: float) -> bool:
        now = self._now()
        holders = self._live_holders(scope, now)
        if holder not in holders and len(holders) >= limit:
            return False
        holders[holder] = now + ttl_s
        return True

    async def renew_slots(self, leases: Sequence[Lease], ttl_s: float) -> list[Lease]:
        now = self._now()
        lost: list[Lease] = []
        for scope, holder in leases:
            holders = self._slots.setdefault(scope, {})
            expires = holders.get(holder)
            if expires is None or expires <= now:
                lost.append((scope, holder))
            holders[holder] = now + ttl_s  # a lost lease is taken again, past the limit too
        return lost

    async def release_slot(self, scope: str, holder: str) -> None:
        holders = self._slots.get(scope)
        if holders is not None:
            holders.pop(holder, None)
            if not holders:
                del self._slots[scope]

    async def release_holders(self, prefix: str) -> int:
        gone = [(scope, holder) for scope, holders in self._slots.items()
                for holder in holders if holder.startswith(prefix)]
        for scope, holder in gone:
            await self.release_slot(scope, holder)
        return len(gone)

    async def take(self, key: str, rate_per_s: float, burst: int, cost: float = 1.0) -> bool:
        now = self._now()
        bucket = self._buckets.get(key)
        if bucket is None or (bucket.rate_per_s, bucket.burst) != (rate_per_s, burst):
            # New key or changed limits: keep the saved tokens (like the Redis script does).
            fresh = TokenBucket.full(rate_per_s, burst, now)
            if bucket is not None:
                fresh.tokens, fresh.updated = min(bucket.tokens, burst), bucket.updated
            bucket = self._buckets[key] = fresh
        return bucket.take(now, cost)

    async def publish_kill(self, target: KillTarget) -> None:
        for subscription in self._subscribers:
            subscription._deliver(target)

    async def subscribe_kills(self) -> KillSubscription:
        return _MemoryKillSubscription(self._subscribers)

    async def check(self) -> None:
        """Always takes writes."""

    async def close(self) -> None:
        for subscription in list(self._subscribers):
            await subscription.aclose()
