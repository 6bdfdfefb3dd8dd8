"""Shared state: single-use tickets, connection-slot leases, rate-limit buckets, kill switch.

Two stores keep one contract (:class:`StateStore`), chosen by ``create_store(settings)``:

* **In memory** (no ``redis_url``): one process, one event loop. Every operation completes
  without awaiting, so it is atomic. Caps, buckets and tickets are per process, which is why the
  settings refuse ``workers > 1`` without Redis.

* **Redis** (``redis_url``): every worker on every node sees the same state.

  - A ticket is redeemed by exactly one connection anywhere (``GETDEL``).
  - A slot cap holds across all workers and nodes sharing a scope name: acquiring is one Lua
    script (purge expired leases, count, add). Slots are leases, not counters: a worker that
    crashes stops renewing (``SlotLeases`` renews a worker's leases every TTL/3) and its slots
    return after ``lease_ttl_s``. So for up to one lease TTL after a crash a scope can look
    fuller than it is (a replica's own cap less: a worker's restart gives back what the one
    before it held, ``ConnectionGate.release_predecessor``). It admits more than its limit
    only while a worker's leases are out of the store: a worker cut off from Redis for longer
    than a TTL (its connections live on, uncounted, until it is back), connections admitted
    in open fail mode, or about a second after an outage, until every worker has renewed
    (``SlotLeases``).
  - Token buckets are one Lua script per check, timed by the Redis server's clock, so client
    clock skew never shows up as extra tokens.
  - Kills go into a capped Redis stream; each subscriber follows it from the last entry it saw,
    so a worker that briefly loses Redis still receives the kills published meanwhile (plain
    pub/sub would drop them). A new subscriber sees only kills published after it subscribed.
  - Not guaranteed: a command whose connection breaks after it was sent is retried, so a
    rate-limit token can be charged twice, or a ticket consumed without its redeemer learning
    the tenant (the client must ask for a new ticket). Both err on the side of refusing.
    Whether tickets and leases survive a Redis restart is up to Redis persistence. Without it
    the slot epoch key tells the workers the leases were wiped: new holders are refused
    (``SlotsRecovering``, handled like an outage) for one renewal period, while every worker's
    ``SlotLeases`` round takes its lost leases again, past the limit if need be, so the counts
    are true before anyone is admitted by them.

  Requires Redis 6.2 or later (``GETDEL``) and one primary at a stable address (in a failover
  setup, a proxy or floating address in front), not Redis Cluster: one script renews a
  worker's leases across many keys.

**When Redis is lost** every call raises :class:`StateUnavailable` quickly: a dead server (refused
or reset connections) in about 0.1 s after two fast retries, a hung one after the 1 s socket
timeout. The server applies ``redis_fail_mode``: ``closed`` refuses new connections, ``open``
admits them under per-worker caps (``SlotLeases.track`` counts them once Redis is back). Open
connections keep running. Nothing needs restarting when Redis returns: the next call
reconnects, and kill subscriptions resume by themselves.
"""

from stream_guard.guard.bucket import TokenBucket
from stream_guard.state.base import (
    KillSubscription,
    KillTarget,
    Lease,
    SlotsRecovering,
    StateStore,
    StateUnanswered,
    StateUnavailable,
)
from stream_guard.state.factory import create_store
from stream_guard.state.leases import SlotLeases
from stream_guard.state.memory import MemoryStateStore

__all__ = [
    "KillSubscription",
    "KillTarget",
    "Lease",
    "MemoryStateStore",
    "SlotLeases",
    "SlotsRecovering",
    "StateStore",
    "StateUnanswered",
    "StateUnavailable",
    "TokenBucket",
    "create_store",
]
