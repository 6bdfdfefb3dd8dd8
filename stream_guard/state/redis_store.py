"""The shared store on Redis (redis-py asyncio; hiredis parses replies when it is installed).

Every read-modify-write is one Lua script, so it is atomic across all workers and nodes, and the
scripts read the time with ``TIME`` on the Redis server: one clock for every client, however far
the clients' clocks drift. Scripts that call ``TIME`` and then write are allowed because Redis
(5 and later) replicates a script's effects, not the script.

Connections fail fast (short socket timeouts, a few quick retries) so that a lost Redis becomes a
:class:`StateUnavailable` in well under a second instead of stalling every handshake; the pool
reconnects on the next call once Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Iterator, Sequence
from typing import Any, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import EqualJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from stream_guard.state.base import (
    STORE_TIMEOUT_S,
    KillSubscription,
    KillTarget,
    Lease,
    SlotsRecovering,
    StateStore,
    StateUnanswered,
    StateUnavailable,
)

log = logging.getLogger(__name__)

# Redis away, and Redis that answers but refuses the command: a replica promoted mid-failover
# (READONLY until clients move), memory full under noeviction (OOM), a failed snapshot
# (MISCONF), an ACL that denies it (NOPERM), a foreign value under one of our keys (WRONGTYPE).
# Either way the store cannot do its job, and the server's fail mode says what happens then.
# So is anything else redis-py raises: a reply that is not Redis's (InvalidResponse: the
# address reaches another service, as a wrong port or a failover address briefly may) escaped
# as itself, killed the lease keeper for good and made every handshake a 500.
# Away (no answer) is logged by readiness and the lease keeper; the rest, a refusal or a reply
# not understood, is a fault an operator must fix, and is logged here. A timeout is away too,
# but told apart (StateUnanswered, see _unavailable_on_error).
_AWAY = (RedisConnectionError, OSError)
# ... at most once per this many seconds, so a refused write per handshake cannot flood the log.
_REFUSAL_LOG_EVERY_S = 30.0
_last_refusal_log: dict[str, float] = {}  # by kind of fault
# A kill subscription asked for while Redis was away starts this much before the moment it was
# asked for (see RedisStateStore._kill_id_at): delivering a kill from just before that moment is
# the lesser harm than missing one from just after it.
_KILL_START_MARGIN_S = 1.0

# Shared preamble: the server's clock in milliseconds.
_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# Slot epochs. Leases live only in Redis, so a Redis restarted without persistence (or a
# failover to a replica that had not seen them) forgets every lease of every open connection,
# and each scope looks empty. The epoch key tells the workers apart from that: it is created
# once, with the creation time, and a worker that knew another epoch has just seen a wipe. From
# the epoch's creation until one renewal round has passed (ARGV settle ms), no new holder is
# admitted, because the workers have not all taken their leases again; every worker's renewal
# round takes them back (past the limit if need be), so afterwards the counts are true.
# KEYS[2] epoch, KEYS[3] settling marker; ARGV[n] the epoch this worker knows ('' = none yet)
# and ARGV[n + 1] the settle period in ms. Sets ``epoch`` (the current one) for the caller.
# Every holder of a slot set that starts with ARGV[1] (a dead worker's, whose restart names
# them alike) removed, in one step; a replica's set holds at most its connection cap.
_RELEASE_HOLDERS = """
local gone = 0
for _, holder in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(holder, 1, #ARGV[1]) == ARGV[1] then
    redis.call('ZREM', KEYS[1], holder)
    gone = gone + 1
  end
end
return gone
"""

_EPOCH = """
local epoch = redis.call('GET', KEYS[2])
local known, settle = ARGV[EPOCH_ARG], tonumber(ARGV[EPOCH_ARG + 1])
if not epoch then
  epoch = tostring(now)
  redis.call('SET', KEYS[2], epoch)
end
if known ~= '' and known ~= epoch then
  local left = tonumber(epoch) + settle - now
  if left > 0 and redis.call('EXISTS', KEYS[3]) == 0 then
    redis.call('SET', KEYS[3], epoch, 'PX', left)
  end
end
"""

# KEYS[1] scope zset (holder -> expiry ms), KEYS[2..3] epoch; ARGV holder, limit, ttl ms, epoch
# args. Returns {1 held | 0 full | -1 counts not true yet (settling), epoch}.
_ACQUIRE = _NOW_MS + _EPOCH.replace("EPOCH_ARG", "4") + """
local holder, limit, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local held = redis.call('ZSCORE', KEYS[1], holder)
if held and tonumber(held) <= now then held = false end
if not held and redis.call('EXISTS', KEYS[3]) == 1 then
  return {-1, epoch}
end
-- The lease is written before anything else: Redis checks memory at a script's first write
-- only, and ZADD is refused when it is full ('noeviction'), so a full Redis refuses the acquire
-- (the store is unavailable) instead of letting it through after a write that frees memory.
redis.call('ZADD', KEYS[1], now + ttl, holder)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not held and redis.call('ZCARD', KEYS[1]) > limit then
  redis.call('ZREM', KEYS[1], holder)
  return {0, epoch}
end
-- The set lives as long as its longest lease, so idle scopes disappear.
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return {1, epoch}
"""

# KEYS[1..2] epoch, KEYS[2 + i] scope zsets (repeats allowed); ARGV[1] ttl ms, ARGV[2..3]
# epoch args, ARGV[3 + i] the holder in KEYS[2 + i]. Returns {epoch, then 1 per renewed lease,
# 0 per lease that had lapsed}. A lapsed lease is taken again all the same, past the limit if
# need be: its connection is open, and a count without it would admit beyond the cap. One
# script for all of a worker's leases: a round costs one round trip, not hundreds.
_RENEW = _NOW_MS + _EPOCH.replace("KEYS[2]", "KEYS[1]").replace("KEYS[3]", "KEYS[2]").replace(
    "EPOCH_ARG", "2") + """
local ttl = tonumber(ARGV[1])
local renewed = {epoch}
for i = 3, #KEYS do
  local key, holder = KEYS[i], ARGV[i + 1]
  local expires = redis.call('ZSCORE', key, holder)
  renewed[i - 1] = (expires and tonumber(expires) > now) and 1 or 0
  redis.call('ZADD', key, now + ttl, holder)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
return renewed
"""

# KEYS[1] bucket hash {tokens, ts}; ARGV rate per s, burst, cost. The same arithmetic as
# stream_guard.guard.bucket.TokenBucket, in milliseconds. A bucket expires when it would be full
# again, which is exactly when forgetting it changes nothing.
_TAKE = _NOW_MS + """
local rate, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(saved[1]), tonumber(saved[2])
if not tokens or not ts then tokens, ts = burst, now end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
  ts = now
end
local ok = 0
if tokens >= cost then
  tokens = tokens - cost
  ok = 1
end
local full_in = math.ceil((burst - tokens) / rate * 1000)
if full_in <= 0 then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),
             'ts', string.format('%d', ts))
  redis.call('PEXPIRE', KEYS[1], full_in)
end
return ok
"""


@contextlib.contextmanager
def _unavailable_on_error() -> Iterator[None]:
    try:
        yield
    except RedisTimeoutError as exc:  # sent, and perhaps run later: see StateUnanswered
        raise StateUnanswered(f"redis unavailable: {exc}") from exc
    except _AWAY as exc:
        raise StateUnavailable(f"redis unavailable: {exc}") from exc
    except ResponseError as exc:
        _log_refusal(exc, "redis refuses stream-guard's commands")
        raise StateUnavailable(f"redis refused the command: {exc}") from exc
    except RedisError as exc:
        _log_refusal(exc, "the redis address answers what redis-py cannot read (is it Redis?)")
        raise StateUnavailable(f"redis answer not understood: {exc}") from exc


def _log_refusal(exc: RedisError, what: str) -> None:
    now = time.monotonic()
    if now - _last_refusal_log.get(what, -math.inf) >= _REFUSAL_LOG_EVERY_S:
        _last_refusal_log[what] = now
        log.error(f"{what}; shared state is unavailable until it is fixed",
                  extra={"error": f"{type(exc).__name__}: {exc}"})


def _ms(seconds: float) -> int:
    """Redis expiries are whole milliseconds, at least one (zero would be an error)."""
    return max(1, math.ceil(seconds * 1000))


class _RedisKillSubscription(KillSubscription):
    """Follows the kill stream from a known entry id, so a subscriber that loses Redis for a
    while resumes where it stopped and misses nothing published meanwhile (unlike pub/sub).

    Without ``last_id`` (Redis did not answer when the subscription was asked for, at
    ``asked``) it starts from that moment once Redis answers: a worker started during an
    outage gets the kills published after it started, however soon after the outage ends.
    """

    def __init__(self, store: RedisStateStore, last_id: str | None, asked: float) -> None:
        super().__init__()
        self._store = store
        self._task = asyncio.create_task(self._follow(store, last_id, asked),
                                         name="stream-guard-kill-subscription")

    async def _stop(self) -> None:
        self._store._subscriptions.discard(self)
        # One cancel is not enough before Python 3.12: redis-py writes through
        # asyncio.wait_for, which swallows a cancellation that lands just as the write
        # completes. The reader also checks ``_closed`` after every poll, so this ends.
        while not self._task.done():
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=0.05)

    async def _follow(self, store: RedisStateStore, last_id: str | None, asked: float) -> None:
        delay = store._kill_retry_min_s
        lost = False
        while not self._closed:
            try:
                if last_id is None:
                    last_id = await store._kill_id_at(asked)
                entries = await store._read_kills(last_id)
            except Exception as exc:  # the kill switch must outlive any single failure
                if not lost:
                    log.warning("kill channel lost, retrying: %s", exc,
                                exc_info=not isinstance(exc, StateUnavailable))
                    lost = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, store._kill_retry_max_s)
                continue
            if lost:
                log.info("kill channel back")
                lost = False
            delay = store._kill_retry_min_s
            for entry_id, fields in entries:
                last_id = entry_id
                try:
                    target = KillTarget.from_json(fields["kill"])
                except (KeyError, ValueError) as exc:
                    log.warning("ignoring malformed kill entry %s: %s", entry_id, exc)
                    continue
                self._deliver(target)


def _glob_escape(text: str) -> str:
    """``text`` matched literally by a Redis glob pattern (a prefix may hold ``*`` or ``[``)."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


class RedisStateStore(StateStore):
    """State in one Redis primary, reached at one URL.

    Keys are ``prefix`` + kind + name, so several deployments (or test runs) can share a server.
    The renewal script touches many keys at once, which Redis Cluster would refuse.
    """

    def __init__(self, client: Redis, *, prefix: str = "sg:", kill_stream_len: int = 1000,
                 kill_poll_s: float = 0.5, kill_retry_min_s: float = 0.05,
                 kill_retry_max_s: float = 2.0) -> None:
        """``client`` must decode responses (``decode_responses=True``); the store closes it.

        ``kill_poll_s`` bounds each blocking read of the kill stream and must stay below the
        client's socket timeout; it costs one tiny round trip per period and adds no latency
        (a read returns as soon as a kill arrives).
        """
        self._r = client
        self._prefix = prefix
        self._kill_key = prefix + "kills"
        self._kill_stream_len = kill_stream_len
        self._kill_poll_ms = _ms(kill_poll_s)
        self._kill_retry_min_s = kill_retry_min_s
        self._kill_retry_max_s = kill_retry_max_s
        self._epoch_keys = [prefix + "slots-epoch", prefix + "slots-settling"]
        self._ready_key = prefix + "ready-probe"
        self._epoch = ""  # the slot epoch this store last saw ('' before its first slot call)
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._take = client.register_script(_TAKE)
        self._release_holders = client.register_script(_RELEASE_HOLDERS)
        self._subscriptions: set[_RedisKillSubscription] = set()

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "sg:", socket_timeout_s: float = STORE_TIMEOUT_S,
                 connect_timeout_s: float = 1.0, retries: int = 2, max_connections: int = 64,
                 kill_stream_len: int = 1000) -> RedisStateStore:
        """A store with fail-fast connection settings.

        A dead Redis (refused or reset connections) is reported after ``retries`` quick retries,
        in well under a second; a hung one after ``socket_timeout_s``. The pool is bounded and
        blocking so a connection storm queues for a connection (up to the socket timeout)
        instead of opening thousands of sockets to Redis.
        """
        pool = BlockingConnectionPool.from_url(
            url, decode_responses=True, max_connections=max_connections,
            timeout=socket_timeout_s, socket_timeout=socket_timeout_s,
            socket_connect_timeout=connect_timeout_s, socket_keepalive=True,
            # Only refused or reset connections are retried: they fail at once, and a stale
            # pooled socket after a Redis restart is the common case. A timeout is not: the
            # server is hung or far away, and waiting again would only multiply the stall.
            retry=Retry(EqualJitterBackoff(cap=0.2, base=0.02), retries,
                        supported_errors=(RedisConnectionError,)))
        return cls(Redis.from_pool(pool), prefix=prefix, kill_stream_len=kill_stream_len,
                   kill_poll_s=socket_timeout_s / 2)

    def _key(self, kind: str, name: str) -> str:
        return f"{self._prefix}{kind}:{name}"

    async def put_ticket(self, ticket_hash: str, tenant: str, ttl_s: float) -> None:
        with _unavailable_on_error():
            await self._r.set(self._key("ticket", ticket_hash), tenant, px=_ms(ttl_s))

    async def redeem_ticket(self, ticket_hash: str) -> str | None:
        with _unavailable_on_error():
            tenant = await self._r.getdel(self._key("ticket", ticket_hash))
        return cast("str | None", tenant)  # the client decodes replies

    def _epoch_args(self, ttl_s: float) -> list[str | int]:
        """The epoch this store knows, and the settle period after a wipe: half a lease TTL,
        one renewal period (``SlotLeases`` renews every third of it) plus room for a slow one."""
        return [self._epoch, _ms(ttl_s / 2)]

    async def acquire_slot(self, scope: str, holder: str, limit: int, ttl_s: float) -> bool:
        with _unavailable_on_error():
            held, epoch = await self._acquire(
                keys=[self._key("slots", scope), *self._epoch_keys],
                args=[holder, limit, _ms(ttl_s), *self._epoch_args(ttl_s)])
        self._epoch = str(epoch)
        if int(held) < 0:
            raise SlotsRecovering("slot leases were lost (Redis restarted or failed over); "
                                  "counting again")
        return bool(held)

    async def renew_slots(self, leases: Sequence[Lease], ttl_s: float) -> list[Lease]:
        # Run even with no leases: a worker learns the slot epoch this way, so an idle one
        # also notices a wipe and starts the settle period (see _EPOCH).
        with _unavailable_on_error():
            epoch, *renewed = await self._renew(
                keys=[*self._epoch_keys, *(self._key("slots", scope) for scope, _ in leases)],
                args=[_ms(ttl_s), *self._epoch_args(ttl_s), *(holder for _, holder in leases)])
        self._epoch = str(epoch)
        return [lease for lease, ok in zip(leases, renewed, strict=True) if not ok]

    async def release_slot(self, scope: str, holder: str) -> None:
        with _unavailable_on_error():
            await self._r.zrem(self._key("slots", scope), holder)

    async def release_holders(self, prefix: str) -> int:
        # Every scope's key, by SCAN (a round trip per thousand keys of the whole store, at a
        # worker's restart only); the holders are removed key by key, atomically within each.
        scopes = _glob_escape(self._key("slots", "")) + "*"
        gone = 0
        with _unavailable_on_error():
            async for key in self._r.scan_iter(match=scopes, count=1000):
                gone += int(await self._release_holders(keys=[key], args=[prefix]))
        return gone

    async def take(self, key: str, rate_per_s: float, burst: int, cost: float = 1.0) -> bool:
        if rate_per_s <= 0 or burst <= 0:
            raise ValueError("rate_per_s and burst must be positive")
        with _unavailable_on_error():
            ok = await self._take(keys=[self._key("bucket", key)],
                                  args=[rate_per_s, burst, cost])
        return bool(ok)

    async def publish_kill(self, target: KillTarget) -> None:
        with _unavailable_on_error():
            await self._r.xadd(self._kill_key, {"kill": target.to_json()},
                               maxlen=self._kill_stream_len, approximate=True)

    async def subscribe_kills(self) -> KillSubscription:
        asked = time.monotonic()
        last_id: str | None = None  # Redis away: the subscription finds its start once it is back
        with contextlib.suppress(StateUnavailable), _unavailable_on_error():
            newest = await self._r.xrevrange(self._kill_key, count=1)
            last_id = cast(str, newest[0][0]) if newest else "0-0"
        subscription = _RedisKillSubscription(self, last_id, asked)
        self._subscriptions.add(subscription)
        return subscription

    async def _kill_id_at(self, moment: float) -> str:
        """The kill stream's id for ``moment`` (a ``time.monotonic()`` reading), less a margin.

        Entry ids are Redis's time in milliseconds, so the moment is found on its clock:
        Redis's time now less the time since by this process's clock; no two machines' clocks
        are compared. The margin covers Redis's clock being adjusted meanwhile.
        """
        with _unavailable_on_error():
            seconds, micros = await self._r.time()
        since_s = time.monotonic() - moment + _KILL_START_MARGIN_S
        return f"{max(0, seconds * 1000 + micros // 1000 - _ms(since_s))}-0"

    async def _read_kills(self, last_id: str) -> list[tuple[str, dict[str, str]]]:
        """Kill entries after ``last_id``, waiting up to the poll period for one."""
        with _unavailable_on_error():
            reply: Any = await self._r.xread({self._kill_key: last_id}, count=100,
                                        block=self._kill_poll_ms)
        if not reply:
            return []
        # RESP2 answers [[stream, entries]], RESP3 (redis-py) {stream: [entries]}.
        streams = [v[0] for v in reply.values()] if isinstance(reply, dict) else [
            s[1] for s in reply]
        return [(entry_id, fields) for entries in streams for entry_id, fields in entries]

    async def check(self) -> None:
        """A write, not a PING: a PING alone passes on a Redis that refuses every write (memory
        full, a failed snapshot, an ACL), which serves no handshake."""
        with _unavailable_on_error():
            if not await self._r.set(self._ready_key, "1", px=10_000):
                raise StateUnavailable("redis did not take a write")

    async def close(self) -> None:
        for subscription in list(self._subscriptions):
            await subscription.aclose()
        await self._r.aclose()
