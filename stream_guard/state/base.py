"""The contract every state store keeps; the server is written against this and nothing else."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

import orjson

from stream_guard.exceptions import GuardError

# How long one call to a shared store may wait before it fails (Redis's socket timeout): a dead
# store fails at once, a hung one after this (the server's StoreBreaker then skips it for as long).
STORE_TIMEOUT_S = 1.0

Lease = tuple[str, str]
"""A connection slot: ``(scope, holder)``, e.g. ``("ip:192.0.2.7", "worker-3/conn-812")``."""


class StateUnavailable(GuardError):
    """The shared store cannot be reached right now.

    Raised instead of the backend's own errors so the server can apply ``redis_fail_mode``
    without knowing which backend it runs on. The store reconnects by itself; the next call
    after the backend is back succeeds.
    """


class StateUnanswered(StateUnavailable):
    """The store did not answer in time: a hung or stalled Redis (a slow command, a fork, a
    pause), or an address that drops packets. The command may never have reached it (a connect
    that timed out), or it may have and still run once the store wakes, after the caller has
    given up on it: unlike a refused connection, a write the caller treats as not made may be
    made all the same."""


class SlotsRecovering(StateUnavailable):
    """The store answers, but its slot counts are not true yet: it lost its leases (a Redis
    restarted without persistence) moments ago, and the workers have not all taken theirs
    again. Until they have (one renewal round), a scope looks emptier than it is, so admitting
    by it would overshoot the cap; the server treats this like an outage (``redis_fail_mode``).
    """


@dataclass(frozen=True)
class KillTarget:
    """What an operator's kill switch stops: every stream of a tenant, one stream id, or one
    stream id of one tenant (the set fields must all match)."""

    tenant: str | None = None
    stream_id: str | None = None

    def __post_init__(self) -> None:
        if not self.tenant and not self.stream_id:
            raise ValueError("a kill needs a tenant, a stream_id or both")

    def matches(self, tenant: str, stream_id: str) -> bool:
        return (self.tenant is None or self.tenant == tenant) and (
            self.stream_id is None or self.stream_id == stream_id)

    def to_json(self) -> bytes:
        return orjson.dumps({"tenant": self.tenant, "stream_id": self.stream_id})

    @classmethod
    def from_json(cls, data: bytes | str) -> KillTarget:
        """Parse a published kill; raises ValueError for anything else on the channel."""
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"kill message is not JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise ValueError("kill message is not an object")
        tenant, stream_id = obj.get("tenant"), obj.get("stream_id")
        if not all(v is None or isinstance(v, str) for v in (tenant, stream_id)):
            raise ValueError("kill message fields must be strings")
        return cls(tenant=tenant, stream_id=stream_id)


class KillSubscription:
    """The kills published after :meth:`StateStore.subscribe_kills` returned, in order.

    Iterate with ``async for``; :meth:`aclose` (or leaving ``async with``) ends the iteration.
    Backends feed it through :meth:`_deliver` and release their resources in :meth:`_stop`.
    """

    def __init__(self) -> None:
        # Unbounded on purpose: kills are rare operator actions, and dropping one would leave a
        # stream running that an operator believes stopped.
        self._queue: asyncio.Queue[KillTarget | None] = asyncio.Queue()
        self._closed = False

    def _deliver(self, target: KillTarget) -> None:
        if not self._closed:
            self._queue.put_nowait(target)

    async def _stop(self) -> None:
        """Backend hook: release what feeds this subscription."""

    def __aiter__(self) -> KillSubscription:
        return self

    async def __anext__(self) -> KillTarget:
        item = await self._queue.get()
        if item is None:
            self._queue.put_nowait(None)  # every later __anext__ ends too
            raise StopAsyncIteration
        return item

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put_nowait(None)
        await self._stop()

    async def __aenter__(self) -> KillSubscription:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()


class StateStore(ABC):
    """State that must agree across workers and nodes: single-use tickets, connection-slot
    leases, token buckets and the operator kill channel.

    Every method may raise :class:`StateUnavailable` (except :meth:`subscribe_kills`,
    :meth:`ping` and :meth:`close`).
    Times are durations in seconds; each store reads its own clock, so callers never pass
    timestamps that could disagree between machines.
    """

    # --- tickets ----------------------------------------------------------------------------
    @abstractmethod
    async def put_ticket(self, ticket_hash: str, tenant: str, ttl_s: float) -> None:
        """Remember a ticket (by its hash, never the ticket) for ``ttl_s`` seconds."""

    @abstractmethod
    async def redeem_ticket(self, ticket_hash: str) -> str | None:
        """The ticket's tenant, exactly once: the ticket is consumed atomically, so of many
        concurrent redeems (on any worker) one wins. Unknown, used or expired: ``None``."""

    # --- connection slots -------------------------------------------------------------------
    @abstractmethod
    async def acquire_slot(self, scope: str, holder: str, limit: int, ttl_s: float) -> bool:
        """Take one of ``limit`` slots of ``scope`` for ``holder``, leased for ``ttl_s``.

        Leases instead of counters: a worker that dies without releasing stops renewing, and
        its slots come back after ``ttl_s``. Acquiring a slot already held renews it. Raises
        :class:`SlotsRecovering` for a new holder while the store's counts are not true yet.
        """

    @abstractmethod
    async def renew_slots(self, leases: Sequence[Lease], ttl_s: float) -> list[Lease]:
        """Extend held leases to ``ttl_s`` from now, in one round trip.

        Returns the leases that had been lost (expired: renewed too late, or the store was
        wiped). They are taken again all the same, even past the scope's limit: each belongs to
        a connection that is still open, so leaving it out would make the scope look emptier
        than it is and admit connections beyond the cap. A scope over its limit admits no one
        until enough of its connections close.
        """

    @abstractmethod
    async def release_slot(self, scope: str, holder: str) -> None:
        """Give a slot back; releasing a slot not held is a no-op."""

    @abstractmethod
    async def release_holders(self, prefix: str) -> int:
        """Give back every slot, of any scope, whose holder starts with ``prefix``; how many.
        What a worker restarted after a crash does with its predecessor's (their holders
        share its prefix), instead of leaving them until their leases lapse. Rare and off the
        connection path, so it may walk every scope."""

    # --- rate limits ------------------------------------------------------------------------
    @abstractmethod
    async def take(self, key: str, rate_per_s: float, burst: int, cost: float = 1.0) -> bool:
        """Spend ``cost`` tokens from the bucket ``key`` (see :class:`TokenBucket`)."""

    # --- kill switch ------------------------------------------------------------------------
    @abstractmethod
    async def publish_kill(self, target: KillTarget) -> None:
        """Tell every subscriber (every worker, every node) to stop the matching streams."""

    @abstractmethod
    async def subscribe_kills(self) -> KillSubscription:
        """Start receiving kills; every kill published after this returns is delivered.

        Never raises :class:`StateUnavailable`: with the store away, the subscription starts
        from the moment it was asked for and delivers once the store is back, as one that
        loses the store resumes where it stopped. (A caller retrying the subscription would
        lose the kills published between the store's return and its retry.)
        """

    # --- lifecycle --------------------------------------------------------------------------
    @abstractmethod
    async def check(self) -> None:
        """Raise :class:`StateUnavailable`, saying why, unless the store takes writes now."""

    async def ping(self) -> bool:
        """Whether the store takes writes now (for health checks; never raises)."""
        try:
            await self.check()
        except StateUnavailable:
            return False
        return True

    @abstractmethod
    async def close(self) -> None:
        """End all subscriptions and release connections."""
