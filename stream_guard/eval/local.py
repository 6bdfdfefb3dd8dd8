"""A real server in the evaluating process, reached over loopback.

The evaluation must measure the production path (protocol, segmenter, policy, scheduler, engine),
so it runs the actual :class:`~stream_guard.server.app.Server` on an ephemeral port rather than
calling the engine directly. Only guards against abusive clients and overload are changed: the
replay sends one message per token as fast as it is asked to, which the per-connection message
rate would throttle without changing a single verdict; and since an unpaced replay runs far
faster than real time, verdict deadlines and overload refusals would measure the replay's speed,
not the detector, so they are off (latency under load is measured by ``loadtest``, paced).
And every window's score is the detector's fused one (``settle_windows`` off): a window settled
without the detector gets the same decision, but a score the detector did not give, which the
report's AUROC and its threshold for a target false-halt rate would read (a review).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from stream_guard.config import Settings
from stream_guard.protocol.paths import STREAM_PATH
from stream_guard.server.app import Server

_UNTHROTTLED = {"rate_per_s": 1e9, "rate_burst": 10**9, "verdict_deadline_ms": 0.0,
                "overload_lag_ms": 0.0, "overload_queue": 1_000_000,
                "overload_wait_ms": 0.0, "settle_windows": False}


@dataclass(frozen=True, slots=True)
class LocalServer:
    url: str
    api_key: str
    settings: Settings  # as the server runs them, overrides applied
    overrides: dict[str, Any]  # what differs from the settings asked for (secrets redacted)
    tier: str
    threshold: float | None


@asynccontextmanager
async def local_server(settings: Settings, *, connections: int, tenant: str,
                       ready_timeout_s: float = 600.0) -> AsyncIterator[LocalServer]:
    """Serve ``settings`` on 127.0.0.1 with a fresh API key (auth always on) of ``tenant``
    (the owner of the collections the streams may name) until the block exits;
    ``connections`` is how many the client will hold open at once."""
    key = secrets.token_urlsafe(32)
    changes: dict[str, Any] = {
        "host": "127.0.0.1", "port": 0, "workers": 1, "auth_disabled": False,
        "api_keys": {key: tenant},
        "max_connections": max(settings.max_connections, connections),
        "max_connections_per_ip": max(settings.max_connections_per_ip, connections),
        **_UNTHROTTLED}
    effective = settings.replace(**changes)
    asked = settings.redacted()
    overrides = {k: v for k, v in effective.redacted().items() if asked[k] != v}
    server = Server(effective)
    await server.start()
    try:
        await server.wait_ready(ready_timeout_s)
        engine = server.engine
        assert engine is not None, "wait_ready returns only once the engine is loaded"
        yield LocalServer(f"ws://127.0.0.1:{server.port}{STREAM_PATH}", key, effective,
                          overrides, engine.description, engine.threshold)
    finally:
        await server.shutdown(grace=1.0)
