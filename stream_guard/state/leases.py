"""One worker's connection-slot leases, kept alive together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import secrets
import socket
import time
from collections.abc import Callable

from stream_guard.state.base import (
    Lease,
    SlotsRecovering,
    StateStore,
    StateUnanswered,
    StateUnavailable,
)

log = logging.getLogger(__name__)

# While out of sync (a round failed), rounds come at most this often: the keeper's, and an
# admission's before it is measured against a cap.
_RESYNC_EVERY_S = 1.0
# Slots that commands the store did not answer may have taken, kept to give back however long
# the stall: at most this many kept at once, and none past them.
# Each handshake refused during an outage of timeouts (a hung Redis, or one whose address drops
# packets: every connect times out) added one, for as long as it lasted, and the first round
# after it gave them back one round trip each while this worker's admissions waited on it
# (a third review: 20,000 kept, a round of 2 s). A stalled Redis runs late at most what its
# connections and its listen backlog (511) had taken, so this keeps them all. Those past it
# are not kept at all: kept as a missed release (until a TTL from now), they still grew the
# kept ones by every handshake of the outage, and the round after it gave back every one of
# its last TTL (a fourth review: 20,000 refused within 30 s, 20,000 given back in that round).
_UNANSWERED_KEPT_MAX = 4096


class SlotLeases:
    """Tracks the slots this worker holds and renews them all in one round trip every
    ``ttl_s / 3``, instead of a timer per connection; a lease therefore survives two failed
    renewal rounds in a row before it can lapse.

    A lease can still be lost while its connection lives: Redis restarted without persistence,
    failed over to a replica that had not seen it, or was unreachable for a whole TTL. The
    renewal round takes lost leases again even past the scope's limit (the connection was
    admitted honestly and is not closed), so the counts become true again and a scope that is
    over its cap admits no one until enough of its connections close. After a wipe the store
    refuses new holders (:class:`SlotsRecovering`) until every worker has had a round; the
    worker that runs into that renews at once instead of waiting for its next round.

    After a failed round, or a connection admitted while the store was away (``track``), the
    leases are out of sync with the store: then the next admission renews first (its own
    leases counted before it is measured against the cap: the caps overshot by every
    connection admitted during an outage until the next round), and the keeper is woken to
    renew within a second, then every second until a round succeeds, so the other workers'
    counts come back within about a second too, not at the next scheduled round.

    A slot whose release the store could not take (its connection closed during an outage) is
    kept and given back at the first round that reaches the store, until its lease would have
    lapsed anyway: left to lapse, it refused newcomers "at capacity" for up to a TTL after the
    store was back (a review saw 27 s). Holders are one connection each, never reused, so a
    late release cannot take another connection's slot.
    """

    def __init__(self, store: StateStore, ttl_s: float,
                 failed: Callable[[str], None] | None = None) -> None:
        self._store = store
        self._ttl_s = ttl_s
        # told of each store operation that failed (the server counts them)
        self._failed: Callable[[str], None] = failed or (lambda operation: None)
        self._limits: dict[Lease, int] = {}
        self._stopped = False
        self._wake = asyncio.Event()  # run() plans its wait again: stopped, or out of sync
        self._synced = True  # the store holds every lease in _limits (as of the last round)
        self._tracked = 0  # connections admitted unleased (track), counted to tell a round
        self._resync = asyncio.Lock()  # one re-sync at a time for the admissions that wait
        self._last_round = -math.inf  # when the last renewal round began (monotonic)
        self._unreleased: dict[Lease, float] = {}  # releases the store missed: when they lapse
        self._renewal_failing = False  # a failed round was logged: the next ones are not

    def __len__(self) -> int:
        return len(self._limits)

    async def acquire(self, scope: str, holder: str, limit: int) -> bool:
        """Take a slot (raises :class:`StateUnavailable` like the store)."""
        if not self._synced:
            await self._sync()
        try:
            if not await self._store.acquire_slot(scope, holder, limit, self._ttl_s):
                return False
        except SlotsRecovering:
            await self.renew()  # put this worker's leases back now, not at its next round
            raise
        except StateUnanswered:
            # A stalled store runs the acquire when it wakes: the slot is then taken, by no
            # connection, until its lease lapses (a review: after three 1.3 s stalls, 7 of an
            # address's slots with none of its connections open, for 29 s). Given back at
            # the first round that reaches the store, unless the connection is counted by
            # then (``track``, open fail mode).
            self._release_later((scope, holder), unanswered=True)
            self._synced = False
            self._wake.set()
            raise
        self._limits[(scope, holder)] = limit
        return True

    def track(self, scope: str, holder: str, limit: int) -> None:
        """Count a connection admitted while the store was unavailable (``redis_fail_mode =
        open``): the next renewal round finds it missing and takes its slot, past the limit
        if need be, so the shared count includes it once the store is back."""
        self._limits[(scope, holder)] = limit
        self._synced = False
        self._tracked += 1
        self._wake.set()

    async def release(self, scope: str, holder: str) -> None:
        """Give a slot back. Never raises for an unavailable store: the release is tried again
        at the next round that reaches it (its lease lapses meanwhile, at the latest)."""
        self._limits.pop((scope, holder), None)
        try:
            await self._store.release_slot(scope, holder)
        except StateUnavailable:
            self._failed("release_slot")
            log.debug("slot %s/%s not released (store unavailable); released at the next "
                      "round", scope, holder)
            self._release_later((scope, holder))
            self._synced = False
            self._wake.set()

    def _release_later(self, lease: Lease, *, unanswered: bool = False) -> None:
        """Keep ``lease`` to give back at a round, until it would have lapsed anyway. One a
        command the store did not answer may have taken (``unanswered``) is kept until a round
        reaches the store, however late: the store takes it when it wakes, by its own clock,
        so its lease ends a TTL after that, not a TTL after now (a second review: a stall past
        the TTL, and the slot was dropped as lapsed while Redis held it for another TTL), but
        for those past ``_UNANSWERED_KEPT_MAX``, which are not kept (such a slot, if the store
        took it at all, lapses a TTL after it did)."""
        if (unanswered and lease not in self._unreleased
                and len(self._unreleased) >= _UNANSWERED_KEPT_MAX):
            return
        lapses = math.inf if unanswered else time.monotonic() + self._ttl_s
        self._unreleased[lease] = max(lapses, self._unreleased.get(lease, -math.inf))

    async def _release_unreleased(self) -> None:
        """Give back the slots whose release failed, but those whose leases have lapsed."""
        now = time.monotonic()
        for lease, lapses in list(self._unreleased.items()):
            if lapses > now and lease not in self._limits:
                try:
                    await self._store.release_slot(*lease)
                except StateUnavailable:
                    self._failed("release_slot")
                    return  # kept for the next round
            # a round run beside this one (an admission's, the keeper's) may have let it go
            self._unreleased.pop(lease, None)

    async def _sync(self) -> None:
        """Renew before admitting, once for all the admissions that come together, and at most
        once a second while the store stays away (every handshake tried, and logged, a round)."""
        async with self._resync:
            if not self._synced and time.monotonic() - self._last_round >= _RESYNC_EVERY_S:
                await self.renew()

    async def renew(self) -> None:
        """One renewal round; an unavailable store is logged, and the next round tries again."""
        self._last_round = time.monotonic()
        leases = list(self._limits)
        tracked = self._tracked
        try:  # with no leases too: the store may learn of a wipe from the round (Redis epoch)
            lost = await self._store.renew_slots(leases, self._ttl_s)
        except StateUnavailable as exc:
            self._failed("renew_slots")
            self._synced = False
            self._wake.set()
            if isinstance(exc, StateUnanswered):
                # Run late, the round takes back the slots of the connections that closed
                # meanwhile, their releases made already: given back again at the first
                # round that reaches the store (those still open are kept, and skipped).
                for lease in leases:
                    self._release_later(lease, unanswered=True)
            # Once an outage (a round a second would bury the one line that says the store is
            # away: 28 lines in 15 s from two workers, a review), and once it is over.
            if leases and not self._renewal_failing:
                log.warning("could not renew %d slot lease(s): %s (retried every round; "
                            "logged again when renewed)", len(leases), exc)
                self._renewal_failing = True
            return
        if self._renewal_failing:
            self._renewal_failing = False
            log.info("slot leases renewed again: the store is back")
        if lost:
            log.warning("%d slot lease(s) had been lost (store wiped or renewed too late); "
                        "taken again", len(lost))
        # The round re-took every lost lease, so one released while the round was in flight
        # (its holder removed before the script ran) is back: release it again.
        for lease in lost:
            if lease not in self._limits:
                self._release_later(lease)
        await self._release_unreleased()
        # in sync, unless a connection was admitted unleased (track) while the round was in
        # flight (one admitted with its lease, acquire, needs no round) or a release failed
        self._synced = self._tracked == tracked and not self._unreleased

    async def run(self) -> None:
        """Renew every ``ttl_s / 3``, and every second while out of sync, until :meth:`stop`.

        Each wait is planned from the last round and planned again when woken: falling out of
        sync shortens it at once. Stopped by the wake-up rather than by cancelling: before
        Python 3.12 redis-py can swallow a cancellation that lands mid-command, which would
        leave this loop running.
        """
        while not self._stopped:
            self._wake.clear()
            period = self._ttl_s / 3 if self._synced else min(_RESYNC_EVERY_S, self._ttl_s / 3)
            wait = self._last_round + period - time.monotonic()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
                continue
            try:
                await self.renew()
            except Exception:  # a keeper that dies lets every cap lapse, silently
                log.exception("slot lease renewal failed; the next round tries again")

    def stop(self) -> None:
        """End :meth:`run` (after the renewal round in flight, if any)."""
        self._stopped = True
        self._wake.set()


def node_name() -> str:
    """This replica's name in the shared caps: host and process, and a random part, since
    containers on the host's network share its host name and all run as process 1 (two such
    replicas used to share one connection cap)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
