"""Who may open a connection now: the caps on open connections (this replica's, each client
address's) and the handshake rate per address, kept in the state store so that they hold across
workers and replicas.

When the store cannot answer (down, hung, or recovering from a wipe), closed fail mode refuses,
and open mode counts against this worker's own caps and tracks what it admitted, so the shared
count includes it once the store is back. The handshake rate is charged to a bucket of this
worker's first, so a flood from one address costs no store round trip. The server
(:mod:`stream_guard.server.app`) asks; this holds the rules, and is tested against the
in-memory store like any store user.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from stream_guard.config import Settings
from stream_guard.guard.breaker import StoreBreaker
from stream_guard.metrics import Metrics
from stream_guard.state.base import (
    STORE_TIMEOUT_S,
    Lease,
    SlotsRecovering,
    StateStore,
    StateUnavailable,
)
from stream_guard.state.leases import SlotLeases
from stream_guard.state.memory import MemoryStateStore

# Open fail mode's per-worker slots are released when their connection closes; the lease only
# bounds a leak should that ever not happen.
_LOCAL_LEASE_S = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class StateRefusal:
    """Why closed fail mode refuses what needs the state store: ``reason``, what
    stream_guard_rejections_total counts; ``words``, what a ticket request's 503 says it with
    (server/http.py); ``close``, the close reason a refused connection reads."""

    reason: str
    words: str
    close: str


STATE_UNAVAILABLE = StateRefusal("state_unavailable", "the shared state store is unavailable",
                                 "shared state unavailable; retry later")
STATE_RECOVERING = StateRefusal("state_recovering", "the shared state recovers",
                                "shared state recovering; retry later")


def state_refusal(recovering: bool) -> StateRefusal:
    """The refusal of a store that does not answer, or of one that answers with its slot
    counts not yet true after a wipe (``recovering``): the one place that tells them apart (a
    review: a plain outage was counted and told as the counts recovering)."""
    return STATE_RECOVERING if recovering else STATE_UNAVAILABLE


@dataclass(frozen=True, slots=True)
class _Cap:
    scope: str
    limit: int
    reason: str  # what stream_guard_rejections_total counts a refusal as
    message: str  # the close reason a refused client reads


class ConnectionGate:
    """The shared connection caps and handshake buckets of one worker."""

    def __init__(self, settings: Settings, store: StateStore, leases: SlotLeases,
                 metrics: Metrics, node: str) -> None:
        self.settings = settings
        self.store = store
        self.leases = leases
        self.metrics = metrics
        self.node = node
        self.fails_open = settings.redis_fail_mode == "open"
        # This worker's own state, for when the shared store cannot answer: handshake buckets
        # (both fail modes: a per-worker limit beats none) and, in open mode, per-worker caps.
        self.local = MemoryStateStore()
        self.breaker = StoreBreaker(STORE_TIMEOUT_S)
        self._held: dict[str, list[Lease]] = {}  # connection holder -> slots it holds

    async def release_predecessor(self, prefix: str) -> int:
        """Give back the slots of a worker that died, of the replica's cap and of its clients'
        addresses' (its holders start with ``prefix``, as its restart's do); how many. Leased,
        they kept its connections' share of the caps taken for ``lease_ttl_s`` after the
        crash: every newcomer refused "at capacity" meanwhile while /readyz said ready, and
        its clients' reconnections refused "too many connections from this address" (two
        reviews). With the store away nothing is given back now: the leases lapse as before."""
        try:
            return await self.store.release_holders(prefix)
        except StateUnavailable:
            return 0

    async def take_slots(self, holder: str, ip: str) -> str | None:
        """Lease a slot of this replica's and of the client address's for ``holder`` (one
        connection); the reason for refusal, or None when admitted.

        Caps are leases in the state store, so a replica's cap holds across its workers and
        an address's across every replica, and so a worker that dies gives its slots back
        after ``lease_ttl_s`` instead of leaking them.
        """
        s = self.settings
        # The address first: a burst from one address over its cap took node slots while it
        # was being refused, and other clients were turned away "at capacity" meanwhile.
        wanted = [_Cap(f"ip:{ip}", s.max_connections_per_ip, "ip_capacity",
                       "too many connections from this address"),
                  _Cap(f"node:{self.node}", s.max_connections, "capacity", "server at capacity")]
        taken: list[Lease] = []
        self._held[holder] = taken
        began = time.monotonic()
        try:
            if self.breaker.open(began):
                raise StateUnavailable("the state store did not answer a moment ago")
            for cap in wanted:
                if not await self.leases.acquire(cap.scope, holder, cap.limit):
                    return await self._refuse(holder, cap.reason, cap.message)
                taken.append((cap.scope, holder))
                if self.fails_open:
                    # Counted here too, so this worker's own caps, if the store goes away,
                    # include the connections it admitted before.
                    await self.local.acquire_slot(cap.scope, holder, 1 << 30, _LOCAL_LEASE_S)
        except StateUnavailable as exc:
            self.breaker.failed(began, time.monotonic())
            recovering = isinstance(exc, SlotsRecovering)
            self.metrics.state_failures.labels(
                "slots_recovering" if recovering else "acquire_slot").inc()
            if not self.fails_open:
                refusal = state_refusal(recovering)
                return await self._refuse(holder, refusal.reason, refusal.close)
            for cap in wanted:
                # Open mode: this worker's own count. Held until the connection closes.
                if (cap.scope, holder) in taken:
                    continue  # taken from the store (and recorded here) before it failed
                if not await self.local.acquire_slot(cap.scope, holder, cap.limit,
                                                     _LOCAL_LEASE_S):
                    # this loop's own slots too: the address's, taken here and refused at the
                    # replica's cap, was held for _LOCAL_LEASE_S (a review)
                    for own in wanted:
                        await self.local.release_slot(own.scope, holder)
                    return await self._refuse(holder, cap.reason, cap.message)
            for cap in wanted[len(taken):]:
                self.leases.track(cap.scope, holder, cap.limit)  # counted once the store is back
                taken.append((cap.scope, holder))
        return None

    async def release_slots(self, holder: str) -> None:
        for scope, _ in self._held.pop(holder, []):
            await self.leases.release(scope, holder)
            await self.local.release_slot(scope, holder)

    async def _refuse(self, holder: str, reason: str, message: str) -> str:
        self.metrics.rejections.labels(reason).inc()
        await self.release_slots(holder)
        return message

    async def handshake_allowed(self, ip: str) -> bool:
        """Spend one token of the client address's handshake bucket: churn (connect, close,
        connect) costs the server a handshake each time, and open-connection caps never see it.
        Shared through the store; this worker's own bucket decides alone while the store cannot
        answer."""
        s = self.settings
        key = f"handshake:{ip}"
        # This worker's own bucket first, with the same rate: an address over the rate on this
        # worker alone is over it overall, so a flood from one address is refused without a
        # round trip to Redis per attempt. The shared bucket then holds the rate across
        # workers. (The local one is also charged for attempts the shared one refuses, which
        # only happens to an address that is already over the rate.)
        if not await self.local.take(key, s.handshake_rate_per_s, s.handshake_burst):
            return False
        began = time.monotonic()
        if self.breaker.open(began):
            return True  # the local bucket admitted it
        try:
            return await self.store.take(key, s.handshake_rate_per_s, s.handshake_burst)
        except StateUnavailable:
            self.breaker.failed(began, time.monotonic())
            self.metrics.state_failures.labels("handshake_bucket").inc()
            return True  # the local bucket admitted it
