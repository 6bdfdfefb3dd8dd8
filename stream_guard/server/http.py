"""Plain HTTP on the WebSocket port: probes, metrics, tickets, and the handshake's gatekeeping.

websockets hands every request to ``process_request`` before the upgrade; answering with a
``Response`` serves it as plain HTTP, answering ``None`` lets the WebSocket handshake go on. So the
whole HTTP surface is this one function and a few small handlers, and a refused WebSocket never
costs an upgrade.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers, MultipleValuesError
from websockets.http11 import Request, Response

from stream_guard.config import Settings
from stream_guard.guard.auth import (
    KeyRing,
    Principal,
    Refusal,
    api_key_from_headers,
    client_ip,
    client_key,
    key_principal,
    origin_allowed,
    ticket_in,
    ticket_principal,
)
from stream_guard.guard.limits import PenaltyBox
from stream_guard.guard.tickets import (
    FallbackTickets,
    is_fallback_ticket,
    new_ticket,
    plausible_ticket,
    ticket_hash,
)
from stream_guard.loop import SingleFlight
from stream_guard.metrics import Metrics
from stream_guard.protocol.paths import STREAM_PATH, TICKETS_PATH, request_path
from stream_guard.protocol.responses import error_response, json_response, retry_after
from stream_guard.state.admission import (
    STATE_UNAVAILABLE,
    ConnectionGate,
    StateRefusal,
    state_refusal,
)
from stream_guard.state.base import StateStore, StateUnavailable

log = logging.getLogger("stream_guard.http")
_ORIGIN_LOG_EVERY_S = 600.0
_ORIGINS_REMEMBERED = 256


@dataclass(frozen=True, slots=True)
class Admitted:
    """What the handshake established about a WebSocket connection, for its handler."""

    principal: Principal
    ip: str


def refusal_delay(settings: Settings) -> float:
    """How long a 429 for the handshake rate is held: the setting, at most the Retry-After it
    sends (whole seconds; capped at the unrounded interval, the default 1 s was 0.25 s)."""
    return min(settings.handshake_refusal_delay_s, retry_after(handshake_interval(settings)))


def handshake_interval(settings: Settings) -> float:
    """Seconds until an address over its handshake budget earns its next handshake."""
    return 1.0 / settings.handshake_rate_per_s


class RouterHost(Protocol):
    """What routing and the upgrade checks need of the server, spelled out so the router
    depends on this list rather than on the whole ``Server`` (and ``server/http.py`` does not
    import ``server/app.py``, which imports it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def metrics(self) -> Metrics: ...

    @property
    def keys(self) -> KeyRing: ...

    @property
    def store(self) -> StateStore: ...

    @property
    def fallback_tickets(self) -> FallbackTickets: ...

    @property
    def penalties(self) -> PenaltyBox: ...

    @property
    def admitted(self) -> weakref.WeakKeyDictionary[ServerConnection, Admitted]: ...

    @property
    def demo_dir(self) -> Path | None: ...

    @property
    def draining(self) -> bool: ...

    @property
    def state_ok(self) -> bool: ...

    @property
    def store_up(self) -> bool: ...

    @property
    def fails_open(self) -> bool: ...

    async def readiness(self) -> dict[str, bool]: ...

    async def hold_refusal(self) -> None: ...

    @property
    def gate(self) -> ConnectionGate: ...

    async def serve_demo_file(self, path: str) -> Response: ...


class Router:
    """Routes each request; keeps nothing but a reference to the server it serves."""

    def __init__(self, server: RouterHost) -> None:
        self.server = server
        # /metrics renders off the loop (with several workers it reads every worker's metric
        # files), one at a time: a flood of scrapes must not fill the thread pool that stream
        # set-up uses too
        self._render = SingleFlight(lambda: asyncio.to_thread(server.metrics.render))
        # When each refused origin was last logged (the loop's clock), the latest 256 of them
        self._origins_logged: dict[str | None, float] = {}
        self._routes: dict[tuple[str, str], Callable[[ServerConnection, Request],
                                                     Awaitable[Response | None]]] = {
            ("GET", "/livez"): self._livez,
            ("HEAD", "/livez"): self._livez,
            ("GET", "/readyz"): self._readyz,
            ("HEAD", "/readyz"): self._readyz,
            ("GET", "/metrics"): self._metrics,
            ("HEAD", "/metrics"): self._metrics,
            ("POST", TICKETS_PATH): self._tickets,
            ("GET", STREAM_PATH): self._stream,
        }

    async def __call__(self, connection: ServerConnection, request: Request) -> Response | None:
        try:
            response = await self._route(connection, request)
        except MultipleValuesError as exc:  # two Authorization, X-API-Key or Origin headers
            # websockets raises it for a header read as one; it was a 500 and a traceback
            response = error_response(400, "bad_request", f"the {exc.args[0]} header is given more "
                                      "than once; send it once")
        if response is not None and "Connection" not in response.headers:
            # One request per connection: websockets closes it after any answer but the
            # upgrade, and RFC 9112 9.6 wants that said, or a client that reuses connections
            # (a health checker, a backend minting tickets) sends its next request into a
            # closed socket (a fuzzing review).
            response.headers["Connection"] = "close"
        if request.method == "HEAD" and response is not None and response.body:
            # RFC 9110 9.3.2: the status and headers GET would get (its Content-Length
            # included), without the body.
            return Response(response.status_code, response.reason_phrase, response.headers)
        return response

    async def _route(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request_path(request.path)
        if path is None:  # was a 500 and a traceback in the log, for anyone, at any rate
            return error_response(400, "bad_request", "the request target is not a valid URL")
        handler = self._routes.get((request.method, path))
        if handler is not None:
            return await handler(connection, request)
        if any(p == path for _, p in self._routes):
            allowed = ", ".join(m for m, p in self._routes if p == path)
            return json_response(405, {"error": "method_not_allowed",
                                       "message": f"{path} accepts {allowed}"},
                                 [("Allow", allowed)])
        if self.server.demo_dir is not None and path.startswith("/demo"):
            return await self.server.serve_demo_file(path)
        return error_response(404, "not_found", f"no route for {path}")

    # --- probes ---------------------------------------------------------------------------
    async def _livez(self, connection: ServerConnection, request: Request) -> Response:
        return json_response(200, {"status": "ok"})

    async def _readyz(self, connection: ServerConnection, request: Request) -> Response:
        checks = await self.server.readiness()
        ok = all(checks.values())
        body: dict[str, Any] = {"status": "ready" if ok else "not_ready", "checks": checks}
        if ok and not self.server.state_ok:
            # Open fail mode: ready all the same, but say what is missing (closed mode is not
            # ready, and its checks say why).
            body["degraded"] = ["state"]
        return json_response(200 if ok else 503, body)

    async def _metrics(self, connection: ServerConnection, request: Request) -> Response:
        body = await self._render()
        headers = Headers([("Content-Type", "text/plain; version=0.0.4; charset=utf-8"),
                           ("Content-Length", str(len(body)))])
        return Response(200, "OK", headers, body)

    def _draining(self, then: str) -> Response:
        """503 with a Retry-After, as protocol.md says: behind a balancer the retry lands on
        another replica (this one leaves the pool as its /readyz fails)."""
        self.server.metrics.rejections.labels("draining").inc()
        return error_response(503, "draining", f"the server is shutting down; {then}",
                              retry_after_s=1)

    # --- tickets --------------------------------------------------------------------------
    async def _tickets(self, connection: ServerConnection, request: Request) -> Response:
        server = self.server
        if server.draining:  # a ticket is for a connection this server would refuse
            return self._draining("get a ticket elsewhere")
        tenant = server.keys.tenant(api_key_from_headers(request.headers))
        if tenant is None:
            # A wrong key spends the address's handshake budget: keys cannot be guessed
            # faster than connections may be attempted. A valid key's mints spend nothing and
            # are not held back by a penalty either: the page's backend mints for all of its
            # users from one address, and one abusive connection from it would stop them all.
            refusal = await self._held_back(self._client_key(connection, request),
                                            "failed attempts")
            if refusal is not None:
                return refusal
            server.metrics.rejections.labels("unauthorized").inc()
            return error_response(401, "unauthorized", "tickets are issued to a valid API key "
                                  "(Authorization: Bearer KEY or X-API-Key: KEY)")
        refused = await self._state_refusal()
        if refused is not None:
            return self._state_refused(
                refused, f"tickets cannot be issued while {refused.words}; retry")
        ticket = new_ticket()
        ttl = server.settings.ticket_ttl_s
        try:
            await server.store.put_ticket(ticket_hash(ticket), tenant, ttl)
        except StateUnavailable:
            server.metrics.state_failures.labels("put_ticket").inc()
            if not server.fails_open:
                return self._state_refused(STATE_UNAVAILABLE,
                                           "tickets cannot be issued right now; retry")
            # Open mode: a signed ticket any worker accepts, single use per worker.
            ticket = server.fallback_tickets.issue(tenant, ttl, time.time())
        return json_response(200, {"ticket": ticket, "expires_in": int(ttl)})

    # --- WebSocket gatekeeping ------------------------------------------------------------
    async def _stream(self, connection: ServerConnection, request: Request) -> Response | None:
        server = self.server
        settings = server.settings
        if server.draining:
            return self._draining("reconnect elsewhere")
        headers = request.headers
        ip = self._client_key(connection, request)
        refusal = await self._held_back(ip, "connection attempts")
        if refusal is not None:
            return refusal
        origin = headers.get("Origin")
        checks_origin = not settings.auth_disabled or settings.allowed_origins
        if checks_origin and not origin_allowed(origin, settings.allowed_origins):
            server.metrics.rejections.labels("origin").inc()
            self._log_refused_origin(origin)
            return error_response(403, "forbidden_origin", f"origin {origin!r} is not allowed")
        principal = await self._authenticate(request)
        if isinstance(principal, Response):
            return principal
        server.admitted[connection] = Admitted(principal, ip)
        return None

    def _log_refused_origin(self, origin: str | None) -> None:
        """Say in the log which page origin was refused, at most once in ten minutes per
        origin: a browser sees only a failed connection (1006), not the 403's body, so a demo
        opened as ``localhost`` where ``127.0.0.1`` is allowed failed with no hint anywhere (a
        review). Junk origins cannot use the lines up: the oldest of 256 is forgotten first."""
        now = time.monotonic()
        last = self._origins_logged.pop(origin, None)
        if last is not None and now - last < _ORIGIN_LOG_EVERY_S:
            self._origins_logged[origin] = last
            return
        self._origins_logged[origin] = now
        if len(self._origins_logged) > _ORIGINS_REMEMBERED:
            del self._origins_logged[next(iter(self._origins_logged))]
        log.warning("websocket origin refused", extra={
            "origin": origin, "allowed_origins": list(self.server.settings.allowed_origins),
            "hint": "add it to STREAM_GUARD_ALLOWED_ORIGINS"})

    async def _held_back(self, ip: str, attempts: str) -> Response | None:
        """The 429 for an address held back for abuse, or over its handshake budget (which
        this attempt spends), answered after the tarpit delay; None when it may go on."""
        server = self.server
        penalty = server.penalties.remaining(ip, time.monotonic())
        if penalty > 0:
            server.metrics.rejections.labels("penalty").inc()
            await server.hold_refusal()
            return error_response(429, "too_many_handshakes", "a connection from this address was "
                                  "closed for abuse; retry after the delay in Retry-After",
                                  retry_after_s=penalty)
        if not await server.gate.handshake_allowed(ip):
            server.metrics.rejections.labels("handshake_rate").inc()
            await server.hold_refusal()
            return error_response(429, "too_many_handshakes", f"too many {attempts} from this "
                                  "address; retry after the delay in Retry-After",
                                  retry_after_s=handshake_interval(server.settings))
        return None

    def _client_key(self, connection: ServerConnection, request: Request) -> str:
        """The address the per-address limits count: the peer, or the client a trusted proxy
        names; an IPv6 client by its /64 (:func:`~stream_guard.guard.auth.client_key`)."""
        peer = connection.remote_address[0] if connection.remote_address else "unknown"
        # Several X-Forwarded-For lines are one list (RFC 9110 5.3), never an error.
        forwarded = ", ".join(request.headers.get_all("X-Forwarded-For")) or None
        return client_key(client_ip(peer, forwarded, self.server.settings.trusted_proxies))

    async def _authenticate(self, request: Request) -> Principal | Response:
        """Who the handshake acts for, as :mod:`stream_guard.guard.auth` judges it; here only
        the ticket's redemption (the state store) and the response."""
        server = self.server
        ticket = ticket_in(urlsplit(request.path).query)
        if ticket is not None:
            tenant = await self._redeem(ticket)
            if isinstance(tenant, Response):
                return tenant
            decided = ticket_principal(tenant, server.keys)
        else:
            decided = key_principal(request.headers, server.keys, server.settings.auth_disabled)
        if isinstance(decided, Refusal):
            server.metrics.rejections.labels(decided.reason).inc()
            return error_response(401, "unauthorized", decided.message)
        return decided

    async def _state_refusal(self) -> StateRefusal | None:
        """Closed fail mode with the state store away, or its slot counts settling after a
        wipe: the connection a ticket is for would be closed 1013 as it opens, the ticket used
        up by then (a review: for 15 s after a Redis restart, tickets were minted, and spent,
        for connections refused). Once a readiness check found it so, each ticket request
        looks again (a probe shared by the requests that come while it runs), so tickets come
        back as soon as the counts are true, not at the next periodic check. Which of the two
        it is, :func:`~stream_guard.state.admission.state_refusal` says, as for the connection
        (a review: a plain outage was counted and told as the counts recovering, while
        stream_guard_state_store_up read 0)."""
        server = self.server
        if server.fails_open or server.state_ok:
            return None
        await server.readiness()
        if server.state_ok:
            return None
        return state_refusal(recovering=server.store_up)

    def _state_refused(self, refusal: StateRefusal, message: str) -> Response:
        """The 503 of a ticket request or redemption :meth:`_state_refusal` refused, counted as
        the connection it is for would be (an operator review: these 503s moved no metric)."""
        self.server.metrics.rejections.labels(refusal.reason).inc()
        return error_response(503, "unavailable", message, retry_after_s=1)

    async def _redeem(self, ticket: str) -> str | Response | None:
        """The tenant a ticket was minted for, using it up (None: invalid, expired or used); a
        503 when the state store cannot say."""
        server = self.server
        if not plausible_ticket(ticket):
            return None
        if is_fallback_ticket(ticket):  # only ever issued in open mode
            return server.fallback_tickets.redeem(ticket, time.time()) if server.fails_open \
                else None
        refused = await self._state_refusal()
        if refused is not None:  # the ticket is kept for a later attempt
            return self._state_refused(refused,
                                       f"{refused.words}; retry (the ticket was not used)")
        try:
            return await server.store.redeem_ticket(ticket_hash(ticket))
        except StateUnavailable:
            server.metrics.state_failures.labels("redeem_ticket").inc()
            return self._state_refused(STATE_UNAVAILABLE, "tickets cannot be checked right "
                                       "now; get a new ticket and retry")
