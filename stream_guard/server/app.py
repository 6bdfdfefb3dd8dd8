"""The server: wires settings, state, scoring and connections together and runs them.

Start-up order matters: the port opens first (so liveness probes answer), and readiness turns
green only once the scorer and the evidence store are loaded (a scorer that cannot load stops
the server instead: it would never be ready); shutdown is the mirror image: readiness goes red,
the port stops accepting, streams drain, then everything closes. A worker of ``serve
--workers`` (``reuse_port``) opens its share of the port only once its scorer is loaded: the
kernel gives a new connection to any worker that listens, and the others serve meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
import os
import signal
import time
import weakref
from pathlib import Path

from websockets.asyncio.server import Server as WsServer
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Response

from stream_guard.config import (
    CLIENT_API_KEY_VARIABLE,
    LISTEN_SETTINGS,
    NAME_PATTERN,
    NAME_RULE,
    CannotServeError,
    Settings,
    SettingsError,
)
from stream_guard.exceptions import GuardError
from stream_guard.guard.auth import DEFAULT_TENANT, KeyRing
from stream_guard.guard.limits import HeadsInProgress, PenaltyBox
from stream_guard.guard.overload import LoadGauge
from stream_guard.guard.tickets import FallbackTickets
from stream_guard.loop import SingleFlight, freeze_heap
from stream_guard.metrics import Metrics
from stream_guard.protocol.errors import CloseCode
from stream_guard.protocol.responses import error_response
from stream_guard.scoring.engine import GroundingEngine
from stream_guard.server.connection import Connection
from stream_guard.server.http import Admitted, Router, refusal_delay
from stream_guard.server.transport import CallbackConnection, counting_heads
from stream_guard.state.admission import ConnectionGate
from stream_guard.state.base import SlotsRecovering, StateStore, StateUnavailable
from stream_guard.state.factory import create_store
from stream_guard.state.leases import SlotLeases, node_name

log = logging.getLogger("stream_guard.server")

# websockets closes oversize messages itself (1009) beyond this multiple of the configured
# limit; between the two the connection answers with a typed error frame first.
_HARD_SIZE_FACTOR = 4
_MIN_HEADS = 1024  # request heads in progress a server takes at least (HeadsInProgress)
_MAX_HELD_REFUSALS = 256
# How often the readiness gauges are refreshed without a probe: a scrape must not read a
# fresh server as unready, nor a lost store as up, just because no one asked /readyz.
_READINESS_EVERY_S = 5.0
# The WebSocket keepalive (docs/protocol.md, close code 1011): a ping this often, and no pong
# within the timeout fails the connection (CallbackConnection.keepalive says what counts).
PING_INTERVAL_S = 20.0
PING_TIMEOUT_S = 20.0



class Server:
    def __init__(self, settings: Settings, *, engine: GroundingEngine | None = None,
                 store: StateStore | None = None, metrics: Metrics | None = None,
                 reuse_port: bool = False, node: str | None = None,
                 worker: int | None = None, owns_process: bool = False) -> None:
        """``node``: the replica's name, its workers' alike (the supervisor's); ``worker``: this
        worker's index among them, which its restart after a crash keeps; ``owns_process``:
        the process serves nothing else (``serve``, a worker), so once the scorer is loaded
        its start-up heap is frozen (:func:`~stream_guard.loop.freeze_heap`)."""
        self.settings = settings
        self.owns_process = owns_process
        self.reuse_port = reuse_port
        self.metrics = metrics or Metrics()
        self.keys = KeyRing(settings.api_keys)
        self.store = store if store is not None else create_store(settings)
        self.fallback_tickets = FallbackTickets(settings.api_keys)
        self.state_ok = True  # as of the last readiness check
        self.store_up = True  # the store answered the last readiness check (state_ok: admits)
        # The readiness checks failing at the last check since the server listens (None
        # before): a change is logged (a review: a replica out of the pool for 15 s, with
        # nothing in its log), and whether it was ready once, which the first ready says.
        self._failing: tuple[str, ...] | None = None
        self._was_ready = False
        self._store_probe = SingleFlight(self._probe_store)
        self._held_refusals = 0
        self.penalties = PenaltyBox(settings.abuse_penalty_s)
        self.engine = engine
        self.draining = False
        # Keyed weakly by connection: a handshake that fails after admission (no Upgrade
        # header, a timeout) never reaches the handler, and its entry must not outlive it.
        self.admitted: weakref.WeakKeyDictionary[ServerConnection, Admitted] = (
            weakref.WeakKeyDictionary())
        self.connections: set[Connection] = set()
        self.demo_dir: Path | None = None
        self._ws: WsServer | None = None
        self._engine_task: asyncio.Task[GroundingEngine] | None = None
        self._background: list[asyncio.Task[None]] = []
        self._stopped = asyncio.Event()
        self._stop_requested = asyncio.Event()  # SIGTERM, SIGINT, or a scorer that cannot load
        self._drain_cut = False  # a second SIGTERM or SIGINT ended the drain
        # This replica: its connection cap (MAX_CONNECTIONS) is its own, shared by its workers
        # (the supervisor names them all after itself) and by no other replica.
        self.node = node or node_name()
        # What names this process's connections as holders of cap slots: a worker's restart
        # names its alike, and gives back what its predecessor held (ConnectionGate).
        self.worker = worker
        self._holders = f"{self.node}/" + (f"w{worker}/" if worker is not None else "")
        self.leases = SlotLeases(self.store, settings.lease_ttl_s,
                                 failed=lambda op: self.metrics.state_failures.labels(op).inc())
        self.gate = ConnectionGate(settings, self.store, self.leases, self.metrics, self.node)
        # Heads in progress: a socket's head is judged (rate, caps) only once whole, so these
        # bound what trickled heads hold: 4 times an address's connections, and 4 times the
        # server's (at least 1,024) in all, the oldest closed past it; each head is at most 64
        # KiB (http_head).
        self.heads = HeadsInProgress(
            4 * settings.max_connections_per_ip, max(_MIN_HEADS, 4 * settings.max_connections),
            on_closed=lambda: self.metrics.rejections.labels("heads_in_progress").inc())
        self.load = LoadGauge(settings.overload_lag_ms / 1000.0, settings.overload_queue,
                              settings.overload_wait_ms / 1000.0)

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        s = self.settings
        if s.auth_disabled:
            # With keys set too, the keys seem to guard it while a client with none gets in
            # (a review: a production file with a leftover auth_disabled): say so plainly.
            log.warning("authentication is DISABLED (auth_disabled): any client may connect%s; "
                        "never run like this outside development",
                        f", and one without a key acts for tenant {DEFAULT_TENANT!r} beside "
                        f"the {len(s.api_keys)} API key(s) set" if s.api_keys else "")
        elif not s.api_keys:
            # The clients' variable, one key, which the settings leave alone: set for the
            # server, it was ignored without a word of its own (a review).
            log.warning("no API keys (STREAM_GUARD_API_KEYS): every client, and every ticket "
                        "request, will be refused 401%s",
                        f"; {CLIENT_API_KEY_VARIABLE} is set, but it is the clients' variable "
                        "(one key to send): the server reads STREAM_GUARD_API_KEYS, KEY:TENANT "
                        "pairs" if os.environ.get(CLIENT_API_KEY_VARIABLE) else "")
        unnamed = sorted({t for t in s.api_keys.values() if not NAME_PATTERN.fullmatch(t)})
        if unnamed:  # served with inline context; refusing them would break a running setup
            log.warning(f"tenants that can own no evidence collection (a tenant name must be "
                        f"{NAME_RULE}): {', '.join(map(repr, unnamed))}; their streams can "
                        "use inline context only", extra={"tenants": unnamed})
        if s.serve_demo:
            self.demo_dir = _demo_dir()
            if self.demo_dir is None:
                log.warning("serve_demo is set but the demo (clients/js) is not beside this "
                            "installation: it ships in the source checkout, so run the server "
                            "from one (pip install -e .); /demo/ answers 404")
        if self.engine is None:
            self._engine_task = asyncio.create_task(self._load_engine())
            # The gauges from the start, while the scorer loads: a restarted worker's state_up
            # read 0 until its scorer was ready, and the replica's with it (a review: a false
            # "Redis down" at every worker restart).
            await self.readiness()
            if self.reuse_port:
                # Workers share the port, and the kernel hands each new connection to any of
                # them that listens: one still loading its scorer could only refuse it (1013),
                # while /readyz, answered by a worker that is ready, said 200 (a review). A
                # worker listens once it can serve; the others serve meanwhile. One told to
                # stop meanwhile never opens it.
                stop = asyncio.ensure_future(self._stop_requested.wait())
                try:
                    await asyncio.wait({self._engine_task, stop},
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    stop.cancel()
                if self._stop_requested.is_set():
                    return
                self._engine_task.result()  # raises the load's failure
        # A worker's restart after a crash: what the one before held is given back.
        if self.worker is not None and (freed := await self.gate.release_predecessor(
                self._holders)):
            log.info("connection slots of this worker's predecessor given back",
                     extra={"slots": freed})
        try:
            self._ws = await serve(
                self._handle, s.host, s.port, process_request=Router(self),
                create_connection=counting_heads(self.heads, s.trusted_proxies),
                compression="deflate" if s.compression else None,
                max_size=s.max_frame_bytes * _HARD_SIZE_FACTOR,
                open_timeout=s.handshake_timeout_s,
                ping_interval=PING_INTERVAL_S, ping_timeout=PING_TIMEOUT_S,
                close_timeout=s.close_timeout_s,
                server_header="stream-guard",
                reuse_port=self.reuse_port)
        except OSError as exc:  # the port is taken, the host is no address of this machine
            raise CannotServeError(f"cannot listen on {s.host}:{s.port} ({LISTEN_SETTINGS}): "
                                   f"{exc.strerror or exc}") from None
        await self.leases.renew()  # learns the store's slot epoch, so a later wipe is noticed
        self._background += [asyncio.create_task(self.leases.run(), name="leases"),
                             asyncio.create_task(self._follow_kills(), name="kills"),
                             asyncio.create_task(self._watch_load(), name="load"),
                             asyncio.create_task(self._watch_readiness(), name="readiness")]
        log.info("listening", extra={"host": s.host, "port": self.port})
        try:
            await self.store.check()
        except StateUnavailable as exc:  # why, said: a wrong password was a bare line (a review)
            log.error("shared state store unreachable",
                      extra={"fail_mode": s.redis_fail_mode, "error": str(exc)})

    async def _load_engine(self) -> GroundingEngine:
        from stream_guard.scoring.factory import build_engine

        try:
            self.engine = await build_engine(self.settings, self.metrics)
        except (GuardError, OSError) as exc:
            # A model file, backend or device the settings name that will not load; the
            # message names the file or the setting. Restarting cannot fix it: stop.
            log.error("the scorer could not be loaded; stopping", extra={"error": str(exc)})
            self._stop_requested.set()
            raise SettingsError(f"cannot load the scorer: {exc}") from None
        except Exception as exc:
            log.exception("the scorer could not be loaded; stopping")
            self._stop_requested.set()
            # Not one of the models' own refusals. A model file whose contents this code did
            # not foresee (a config value of another type) fails the same way again: the
            # one-line error and exit status of a settings error, not a crash that
            # ``--workers`` restarts for ever (a review); the log keeps the traceback. Other
            # failures (memory, a device busy) may pass: a worker is restarted for them.
            if isinstance(exc, (TypeError, ValueError, KeyError, AttributeError, IndexError)):
                raise SettingsError(f"cannot load the scorer: {type(exc).__name__}: {exc}"
                                    ) from None
            raise
        log.info("scorer ready", extra={"tier": self.engine.description,
                                        "threshold": self.engine.threshold,
                                        "model_instances": self.engine.scheduler.instances})
        if self.owns_process:  # before any stream is served: models and modules are loaded
            freeze_heap()
        await self.readiness()  # the gauges say so now, not at the next refresh
        return self.engine

    async def wait_ready(self, timeout: float = 120.0) -> None:
        if self._engine_task is not None:
            await asyncio.wait_for(asyncio.shield(self._engine_task), timeout)

    @property
    def port(self) -> int:
        assert self._ws is not None
        sockets = self._ws.sockets
        return int(sockets[0].getsockname()[1]) if sockets else self.settings.port

    @property
    def fails_open(self) -> bool:
        return self.gate.fails_open

    async def readiness(self) -> dict[str, bool]:
        """The readiness checks, which also set the ``ready`` and ``state_store_up`` gauges.

        The state check is what a handshake needs: a slot lease taken and let go, so a store
        that answers but takes no writes (out of memory), or whose slot counts are recovering
        from a wipe, fails it. In open fail mode neither makes the
        server unready: it still admits connections (per-worker caps) and issues tickets
        (signed fallback tickets), so a load balancer must keep sending it traffic."""
        # shared by every check that comes while it runs: each probe is two store writes
        store_up, admitting = await self._store_probe()
        # what /readyz calls degraded in open fail mode: admitting on this worker's own caps,
        # the store away or its counts settling after a wipe (a review: 200 with no word)
        self.state_ok = store_up and admitting
        self.store_up = store_up
        self.metrics.state_up.set(1 if store_up else 0)
        ready = {"scorer": self.engine is not None, "state": admitting or self.fails_open,
                 "evidence": self.engine is not None, "accepting": not self.draining,
                 "load": not self.load.overloaded}
        if self._ws is not None or not self.reuse_port:  # a worker: once it listens
            self.metrics.ready.set(1 if all(ready.values()) else 0)
        self._log_readiness(tuple(name for name, ok in ready.items() if not ok))
        return ready

    def _log_readiness(self, failing: tuple[str, ...]) -> None:
        """One line when the server, listening, is first ready, when it stops being ready
        (which checks fail) and when it is ready again; none before it listens, for the checks
        that fail before it was first ready (its start says why: the scorer loading, the store
        unreachable) or while it drains (so is the drain). The first ready is logged whatever
        held it: a server started with the store away said only that, and /readyz turned 200
        with no word (a review)."""
        if self._ws is None or self.draining or failing == self._failing:
            return
        if not failing:
            log.info("ready again" if self._was_ready else "ready")
            self._was_ready = True
        elif self._was_ready:
            log.warning("not ready", extra={"failing": list(failing),
                                            "state_store": "up" if self.store_up else "away"})
        self._failing = failing

    async def _probe_store(self) -> tuple[bool, bool]:
        """(the store answers, it admits): a slot lease taken and let go."""
        probe = f"{self.node}/probe"
        try:
            # The lease is a real one, let go at once: the store takes its TTL as the settle
            # period after a wipe, so a shorter probe lease would end that period early.
            await asyncio.wait_for(self.store.acquire_slot(
                "ready-probe", probe, 1 << 30, self.settings.lease_ttl_s), 1.0)
            await asyncio.wait_for(self.store.release_slot("ready-probe", probe), 1.0)
            return True, True
        except SlotsRecovering:
            return True, False
        except (StateUnavailable, TimeoutError):
            return False, False

    async def _watch_readiness(self) -> None:
        while True:
            try:
                await self.readiness()
            except Exception:  # the gauges and the ready flag must keep being refreshed
                log.exception("readiness check failed")
            await asyncio.sleep(_READINESS_EVERY_S)

    async def shutdown(self, grace: float | None = None) -> None:
        """Graceful stop: refuse new connections, finish in-flight windows, close 1001.

        The socket keeps listening through the drain, so new upgrades and ``/readyz`` get
        their 503 ``draining`` (a balancer's probe sees why) instead of a refused connection."""
        if self.draining:
            await self._stopped.wait()
            return
        grace = self.settings.shutdown_grace_s if grace is None else grace
        if self._drain_cut:  # the second signal came before the drain began
            grace = 0.0
        self.draining = True
        if self._ws is not None:  # a server that never listened has nothing to drain
            log.info("draining", extra={"connections": len(self.connections), "grace_s": grace})
        if self.connections:
            await asyncio.wait([asyncio.create_task(c.drain(grace)) for c in self.connections],
                               timeout=grace + 1)
        if self._ws is not None:
            self._ws.close(close_connections=False)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ws.wait_closed(), 5)
        self.leases.stop()
        for task in self._background:
            task.cancel()
        if self._engine_task is not None and not self._engine_task.done():
            self._engine_task.cancel()
        if self.engine is not None:
            await self.engine.close()
        await self.store.close()
        self._stopped.set()
        log.info("stopped")

    def reload_evidence(self) -> None:
        """SIGHUP: re-read every evidence collection now instead of at the next poll."""
        engine = self.engine
        if engine is None:
            return

        async def reload() -> None:
            try:
                changed = await asyncio.to_thread(engine.reload_evidence)
            except Exception:  # a task's exception is never seen unless it is logged here
                log.exception("evidence not reloaded (SIGHUP); the collections loaded before "
                              "are still served")
                return
            # settings (API keys included) are read at start only: said, since an operator
            # who edited the TOML and sent SIGHUP expected them read (a review)
            log.info("evidence reloaded (SIGHUP re-reads collections, not settings)",
                     extra={"changed": changed})

        task = asyncio.create_task(reload(), name="evidence-reload")
        self._background.append(task)
        task.add_done_callback(self._background.remove)  # one per SIGHUP: do not keep them

    def _on_stop_signal(self) -> None:
        """SIGTERM or SIGINT: the first stops the server gracefully; one more during the drain
        ends the drain at once, as uvicorn's second Ctrl-C does (a review: a second signal
        changed nothing, and the process waited out the whole grace): each connection's
        streams still open get ``done`` (their last windows unscored) and its socket closes
        1001, as when the grace runs out."""
        if not self._stop_requested.is_set():
            self._stop_requested.set()
            return
        if self._drain_cut:
            return
        self._drain_cut = True
        log.warning("second stop signal: ending the drain now",
                    extra={"connections": len(self.connections)})
        for conn in self.connections:
            conn.cut_drain()

    async def serve_forever(self) -> None:
        """Run until SIGTERM or SIGINT, then shut down gracefully. A scorer that cannot load
        shuts the server down too, and its error is raised (a :class:`SettingsError` when a
        model, backend or device the settings name will not load), so the process exits
        instead of staying up and never ready."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_stop_signal)
        loop.add_signal_handler(signal.SIGHUP, self.reload_evidence)
        try:
            await self.start()
            await self._stop_requested.wait()
        finally:  # a scorer that failed to load in start() too: the store is closed
            await self.shutdown()
        task = self._engine_task
        if task is not None and task.done() and not task.cancelled():
            task.result()  # raises the load failure

    # --- connections --------------------------------------------------------------------------
    async def _handle(self, ws: ServerConnection) -> None:
        admitted = self.admitted.pop(ws, None)
        if admitted is None:  # pragma: no cover - process_request always admits first
            await ws.close(CloseCode.INTERNAL_ERROR, "not admitted")
            return
        if self.draining:  # upgraded just as the drain began: it would never be drained
            await ws.close(CloseCode.GOING_AWAY, "server shutting down")
            return
        engine = self.engine
        if engine is None:
            self.metrics.rejections.labels("not_ready").inc()
            await ws.close(CloseCode.TRY_AGAIN_LATER, "scorer is still loading")
            return
        if self.load.overloaded:
            self.metrics.rejections.labels("overloaded").inc()
            await ws.close(CloseCode.TRY_AGAIN_LATER, "overloaded; retry shortly")
            return
        holder = f"{self._holders}{ws.id}"
        refusal = await self.gate.take_slots(holder, admitted.ip)
        if refusal is not None:
            await ws.close(CloseCode.TRY_AGAIN_LATER, refusal)
            return
        if self.draining:  # the drain began while the slots were leased (a store round trip)
            await self.gate.release_slots(holder)
            await ws.close(CloseCode.GOING_AWAY, "server shutting down")
            return
        assert isinstance(ws, CallbackConnection)  # serve(create_connection=...)
        conn = Connection(self, engine, ws, admitted)
        self.connections.add(conn)
        self.metrics.connections_active.inc()
        try:
            await conn.run()
        except Exception:
            log.exception("connection failed", extra={"conn": conn.cid})
            with contextlib.suppress(Exception):
                await ws.close(CloseCode.INTERNAL_ERROR, "internal error")
        finally:
            self.connections.discard(conn)
            self.metrics.connections_active.dec()
            await self.gate.release_slots(holder)

    async def _watch_load(self, interval: float = 0.05) -> None:
        """Samples event-loop lag (how late a short timer fires) and the scorer backlog."""
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(interval)
            self.load.observe_lag(loop.time() - before - interval)
            if self.engine is not None:
                scheduler = self.engine.scheduler
                self.load.observe_queue(scheduler.depth,
                                        scheduler.overdue(time.perf_counter()))

    # --- shared caps --------------------------------------------------------------------------
    def penalize(self, ip: str, reason: str) -> None:
        """A connection from ``ip`` was closed for abuse or a malformed message: hold the
        address back for a while when the penalty box says so (:meth:`PenaltyBox.charge`)."""
        if self.penalties.charge(ip, reason, time.monotonic()):
            self.metrics.penalties.labels(reason).inc()

    async def hold_refusal(self) -> None:
        """Delay a 429 (a tarpit): a loop that reconnects the moment it is refused would
        otherwise cost a handshake per round trip, all refused; held, it costs one per
        ``handshake_refusal_delay_s`` and an idle socket. Bounded, so holding cannot become
        the resource an attacker exhausts: beyond the bound refusals are answered at once."""
        delay = refusal_delay(self.settings)
        if delay <= 0 or self._held_refusals >= _MAX_HELD_REFUSALS:
            return
        self._held_refusals += 1
        try:
            await asyncio.sleep(delay)
        finally:
            self._held_refusals -= 1

    async def _follow_kills(self) -> None:
        """Operator kill switch: every worker follows the channel and halts what it holds (the
        subscription follows it through store outages, the first one included)."""
        async with await self.store.subscribe_kills() as kills:
            async for target in kills:
                log.info("kill", extra={"tenant": target.tenant, "stream": target.stream_id})
                for conn in list(self.connections):
                    conn.kill(target)

    # --- demo page (development) --------------------------------------------------------------
    async def serve_demo_file(self, path: str) -> Response:
        assert self.demo_dir is not None
        rel = path[len("/demo"):].lstrip("/") or "index.html"
        # the lookup too, not only the read: file I/O runs off the loop
        found = await asyncio.to_thread(_read_demo_file, self.demo_dir, rel)
        if found is None:
            return error_response(404, "not_found", path)
        target, body = found
        ctype = (_DEMO_TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0]
                 or "application/octet-stream")
        return Response(200, "OK", Headers([("Content-Type", ctype),
                                            ("Content-Length", str(len(body)))]), body)


# The platform's table may lack these or say otherwise (".ts" is Qt Linguist's there).
_DEMO_TYPES = {".js": "text/javascript", ".mjs": "text/javascript",
               ".ts": "text/plain; charset=utf-8", ".json": "application/json"}


def _read_demo_file(root: Path, rel: str) -> tuple[Path, bytes] | None:
    """The file ``rel`` names inside ``root`` and its bytes; None when it names none there. A
    name no file can have is none (a review: a NUL byte in the request target, or a name over
    the file system's limit, raised ValueError or OSError: a 500 and a traceback each)."""
    try:
        target = (root / rel).resolve()
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            return None
        return target, target.read_bytes()
    except (OSError, ValueError):
        return None


def _demo_dir() -> Path | None:
    here = Path(__file__).resolve().parents[2] / "clients" / "js"
    return here if here.is_dir() else None
